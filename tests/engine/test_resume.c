/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_resume.c: backup --resume. A backup cancelled midway keeps what it stored; resuming
 * it keeps the objects whose bytes are the volume's and writes the rest, in the whole-object
 * and the piece pipelines and for incrementals, and the result restores bit-exact whatever
 * happened to the stored objects or the volume meanwhile.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define RS_VOL (4u << 20)

typedef struct rsm {
    char *dir;
    char root[512], vol[600], out[600];
    cb_store *store;
    unsigned char v[RS_VOL];
} rsm;

static int rsm_setup(void **state)
{
    rsm *t = calloc(1, sizeof(*t));
    cb_error err = { 0 };
    t->dir = tu_mkdtemp("resume");
    snprintf(t->root, sizeof(t->root), "%s/store", t->dir);
    snprintf(t->vol, sizeof(t->vol), "%s/volume.img", t->dir);
    snprintf(t->out, sizeof(t->out), "%s/restored.img", t->dir);
    if (cb_store_open(&t->store, t->root, NULL, &err) < 0)
        return -1;
    tu_fill_random(t->v, RS_VOL / 2, 5);
    for (size_t i = RS_VOL / 2; i < RS_VOL * 3 / 4; i++)
        t->v[i] = (unsigned char)("resume me "[i % 10]);
    /* the last quarter stays zeros: a hole, once the file is written sparse */
    *state = t;
    return 0;
}

static int rsm_teardown(void **state)
{
    rsm *t = *state;
    cb_store_free(t->store);
    tu_rmtree(t->dir);
    free(t->dir);
    free(t);
    return 0;
}

static void rsm_write_volume(rsm *t)
{
    FILE *f = fopen(t->vol, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(t->v, 1, RS_VOL * 3 / 4, f), RS_VOL * 3 / 4);
    assert_int_equal(ftruncate(fileno(f), RS_VOL), 0); /* a trailing hole */
    fclose(f);
}

/* Cancelled once `want` objects are stored. */
typedef struct rsm_stop {
    uint64_t done, want;
} rsm_stop;

static void rsm_progress(const cb_progress *p, void *payload)
{
    ((rsm_stop *)payload)->done = p->objects_done;
}

static int rsm_cancel(void *payload)
{
    rsm_stop *s = payload;
    return s->done >= s->want;
}

/* A backup cancelled once it stored `want` objects; returns its id (from the leftovers). */
static char *
rsm_interrupted(rsm *t, uint64_t obj, const char *comp, const char *parent, uint64_t want)
{
    rsm_stop stop = { .want = want };
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_error err = { 0 };
    cb_leftover *lo = NULL;
    size_t n = 0;
    o.object_size = obj;
    o.sha_block = 4096;
    o.compression = comp;
    o.parent_id = parent;
    o.keep_partial = 1;
    o.threads = 2;
    o.progress = rsm_progress;
    o.progress_payload = &stop;
    o.cancel = rsm_cancel;
    o.cancel_payload = &stop;
    assert_int_equal(cb_backup(t->store, t->vol, &o, NULL, &err), CB_ECANCELED);
    assert_non_null(strstr(err.msg, "--resume"));
    assert_cb_ok(cb_leftover_list(t->store, &lo, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_true(lo[0].resumable);
    assert_true(lo[0].objects >= want);
    char *id = strdup(lo[0].backup_id);
    cb_leftover_free_array(lo, n);
    return id;
}

static cb_backup_info *rsm_resume(rsm *t, const char *id)
{
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_backup_info *info = NULL;
    cb_error err = { 0 };
    o.resume_id = id;
    o.compression = "bz2"; /* ignored: the interrupted backup's own settings apply */
    assert_cb_ok(cb_backup(t->store, t->vol, &o, &info, &err), &err);
    return info;
}

static void rsm_restores(rsm *t, const char *id)
{
    cb_error err = { 0 };
    unlink(t->out);
    assert_cb_ok(cb_restore(t->store, id, t->out, TU_REPLACE, &err), &err);
    FILE *f = fopen(t->out, "rb");
    unsigned char *got = malloc(RS_VOL + 1);
    assert_int_equal(fread(got, 1, RS_VOL + 1, f), RS_VOL);
    fclose(f);
    assert_memory_equal(got, t->v, RS_VOL);
    free(got);
}

/* Flip one byte of every stored data object whose name ends with `suffix`. */
static void rsm_damage(rsm *t, const char *suffix)
{
    char cmd[1400];
    snprintf(cmd, sizeof(cmd),
             "find '%s' -type f -name 'volume_*%s' -exec python3 -c \"import sys; p=sys.argv[1]; "
             "b=bytearray(open(p,'rb').read()); b[len(b)//2]^=1; open(p,'wb').write(b)\" {} \\;",
             t->root, suffix);
    assert_int_equal(system(cmd), 0);
}

static void rsm_full(rsm *t, uint64_t obj, const char *comp, uint64_t want)
{
    rsm_write_volume(t);
    char *id = rsm_interrupted(t, obj, comp, NULL, want);
    cb_backup_info *b = rsm_resume(t, id);
    assert_string_equal(b->backup_id, id);
    assert_string_equal(b->compression, strcmp(comp, "none") ? comp : "none");
    print_message("%s, %llu KiB objects: %llu of %llu objects kept from the interrupted run\n",
                  comp, (unsigned long long)obj >> 10, (unsigned long long)b->reused_objects,
                  (unsigned long long)b->object_count);
    assert_true(b->reused_objects > 0);
    assert_true(b->reused_objects < b->object_count);
    rsm_restores(t, id);
    cb_backup_info_free(b);
    free(id);
}

static void test_resume__full_whole_objects(void **state)
{
    rsm *t = *state;
    rsm_full(t, 65536, "zstd", 20); /* 64 objects: each worker carries whole objects */
}

static void test_resume__full_pieces(void **state)
{
    rsm *t = *state;
    rsm_full(t, 1u << 20, "zlib", 2); /* 4 objects: pieces shared by the workers */
}

static void test_resume__damaged_and_changed_objects_are_rewritten(void **state)
{
    rsm *t = *state;
    cb_error err = { 0 };
    rsm_write_volume(t);
    char *id = rsm_interrupted(t, 65536, "none", NULL, 30);
    rsm_damage(t, "-00002");             /* a stored object no longer holds the volume's bytes */
    memset(t->v + 3 * 65536, 0x5a, 100); /* and the volume changed in another */
    rsm_write_volume(t);
    cb_backup_info *b = rsm_resume(t, id);
    rsm_restores(t, id);
    cb_verify_opts vo = CB_VERIFY_OPTS_INIT;
    cb_verify_report *rep = NULL;
    vo.read_data = 1;
    const char *ids[] = { id };
    assert_cb_ok(cb_verify(t->store, ids, 1, &vo, &rep, &err), &err);
    cb_verify_report_free(rep);
    cb_backup_info_free(b);
    free(id);
}

static void test_resume__incremental(void **state)
{
    rsm *t = *state;
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_backup_info *full = NULL;
    cb_error err = { 0 };
    rsm_write_volume(t);
    o.object_size = 65536;
    o.sha_block = 4096;
    assert_cb_ok(cb_backup(t->store, t->vol, &o, &full, &err), &err);
    for (size_t k = 0; k < 40; k++) /* runs spread over the volume */
        memset(t->v + k * 49152 + 100, (int)k, 5000);
    rsm_write_volume(t);
    char *id = rsm_interrupted(t, 65536, "zlib", full->backup_id, 15);
    cb_backup_info *b = rsm_resume(t, id);
    assert_string_equal(b->parent_id, full->backup_id);
    print_message("incremental: %llu of %llu objects kept\n", (unsigned long long)b->reused_objects,
                  (unsigned long long)b->object_count);
    assert_true(b->reused_objects > 0);
    rsm_restores(t, id);
    cb_backup_info_free(b);
    cb_backup_info_free(full);
    free(id);
}

static void test_resume__refused(void **state)
{
    rsm *t = *state;
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_error err = { 0 };
    rsm_write_volume(t);
    char *id = rsm_interrupted(t, 65536, "zstd", NULL, 10);
    /* another volume size: not the volume that was being backed up */
    assert_int_equal(truncate(t->vol, RS_VOL / 2), 0);
    o.resume_id = id;
    assert_int_equal(cb_backup(t->store, t->vol, &o, NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "it cannot be resumed from this volume");
    rsm_write_volume(t);
    cb_backup_info_free(rsm_resume(t, id));
    /* done: nothing to resume any more; an unknown id has nothing either */
    cb_error_clear(&err);
    assert_int_equal(cb_backup(t->store, t->vol, &o, NULL, &err), CB_EEXISTS);
    assert_cb_error(&err, CB_EEXISTS, "is complete");
    cb_error_clear(&err);
    o.resume_id = "01234567-89ab-4def-8123-456789abcdef";
    assert_int_equal(cb_backup(t->store, t->vol, &o, NULL, &err), CB_ENOTFOUND);
    assert_cb_error(&err, CB_ENOTFOUND, "no interrupted backup");
    free(id);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, rsm_setup, rsm_teardown)
    const struct CMUnitTest tests[] = {
        T(test_resume__full_whole_objects),
        T(test_resume__full_pieces),
        T(test_resume__damaged_and_changed_objects_are_rewritten),
        T(test_resume__incremental),
        T(test_resume__refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
