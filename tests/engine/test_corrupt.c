/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_corrupt.c: no silent corruption. A chain of three backups (full, incremental,
 * incremental) is written to a real posix store for every compression; then every object
 * of every layer (data objects, _sha256file, _metadata) has a bit flipped at several
 * positions, one at a time, and every backup that depends on that layer is restored (plain
 * and --sparse, one and two threads). Each restore must either fail, with CB_ECORRUPT or
 * CB_ENOTFOUND and a message naming the damaged object or its backup, or give exactly the
 * volume as it was at that backup.
 *
 * The incrementals change single blocks with unchanged ones in between, so that a parent's
 * object supplies lone blocks between blocks the child re-stored: restore verifies what it
 * takes from a parent as strictly as what it takes from the child.
 */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define CR_VOL (1u << 20)       /* volume bytes */
#define CR_SHA 4096u            /* sha block */
#define CR_OBJ (64u << 10)      /* object size: 16 blocks; whole objects in the pipeline */
#define CR_OBJ_FEW (512u << 10) /* two objects: the pipeline's pieces */
#define CR_LAYERS 3

typedef struct cr {
    char *dir;
    char root[512], vol[600], out[600];
    char loopdev[64]; /* as root: a loop device, restored into as well */
    uint64_t obj;     /* object size */
    cb_store *store;
    unsigned char *want[CR_LAYERS]; /* the volume at each backup */
    cb_backup_info *layer[CR_LAYERS];
    unsigned restores, failed, exact;
} cr;

/* Random data (stored raw whatever the codec: "none" objects), text, zeros. */
static void cr_make_volume(unsigned char *v)
{
    tu_fill_random(v, CR_VOL / 2, 11);
    for (size_t i = CR_VOL / 2; i < CR_VOL * 3 / 4; i++)
        v[i] = (unsigned char)("a backup that compresses "[i % 25]);
    memset(v + CR_VOL * 3 / 4, 0, CR_VOL / 4);
}

/* Change block `b` of the volume to fresh random bytes. */
static void cr_change_block(unsigned char *v, size_t b, uint64_t seed)
{
    tu_fill_random(v + b * CR_SHA, CR_SHA, seed);
}

static cb_backup_info *cr_backup(cr *t, const char *comp, const char *parent)
{
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_backup_info *info = NULL;
    cb_error err = { 0 };
    o.compression = comp;
    o.object_size = t->obj ? t->obj : CR_OBJ;
    o.sha_block = CR_SHA;
    o.parent_id = parent;
    o.threads = 2;
    assert_cb_ok(cb_backup(t->store, t->vol, &o, &info, &err), &err);
    return info;
}

static void cr_build(cr *t, const char *comp)
{
    cb_error err = { 0 };
    t->dir = tu_mkdtemp("corrupt");
    snprintf(t->root, sizeof(t->root), "%s/store", t->dir);
    snprintf(t->vol, sizeof(t->vol), "%s/volume.img", t->dir);
    snprintf(t->out, sizeof(t->out), "%s/restored.img", t->dir);
    assert_cb_ok(cb_store_open(&t->store, t->root, NULL, &err), &err);
    for (int k = 0; k < CR_LAYERS; k++)
        t->want[k] = malloc(CR_VOL);
    cr_make_volume(t->want[0]);
    /* layer 1: blocks 1, 3, 5 of every object (parent blocks 0, 2, 4, 6.. alone between) */
    memcpy(t->want[1], t->want[0], CR_VOL);
    for (size_t o = 0; o < CR_VOL / CR_OBJ; o++)
        for (size_t b = 1; b <= 5; b += 2)
            cr_change_block(t->want[1], o * 16 + b, 100 + o * 16 + b);
    /* layer 2: block 2 of every other object, and a run of three */
    memcpy(t->want[2], t->want[1], CR_VOL);
    for (size_t o = 0; o < CR_VOL / CR_OBJ; o += 2)
        cr_change_block(t->want[2], o * 16 + 2, 900 + o);
    for (size_t b = 40; b < 43; b++)
        cr_change_block(t->want[2], b, 2000 + b);
    for (int k = 0; k < CR_LAYERS; k++) {
        tu_write_file(t->vol, t->want[k], CR_VOL);
        t->layer[k] = cr_backup(t, comp, k > 0 ? t->layer[k - 1]->backup_id : NULL);
    }
}

static void cr_dispose(cr *t)
{
    for (int k = 0; k < CR_LAYERS; k++) {
        free(t->want[k]);
        cb_backup_info_free(t->layer[k]);
    }
    cb_store_free(t->store);
    tu_rmtree(t->dir);
    free(t->dir);
}

/* As root, a loop device over a file of the volume's size: a block-device target, which
 * restore writes in place after verifying each object in memory. */
static void cr_loop_setup(cr *t)
{
    char file[700], cmd[800];
    if (geteuid() != 0 || system("command -v losetup >/dev/null 2>&1") != 0)
        return;
    snprintf(file, sizeof(file), "%s/loop.img", t->dir);
    FILE *f = fopen(file, "wb");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), CR_VOL), 0);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "losetup --find --show '%s' 2>/dev/null", file);
    FILE *p = popen(cmd, "r");
    if (p != NULL && fgets(t->loopdev, sizeof(t->loopdev), p) != NULL)
        t->loopdev[strcspn(t->loopdev, "\n")] = '\0';
    else
        t->loopdev[0] = '\0';
    if (p != NULL)
        pclose(p);
}

static void cr_loop_teardown(cr *t)
{
    char cmd[128];
    if (t->loopdev[0] == '\0')
        return;
    snprintf(cmd, sizeof(cmd), "losetup -d '%s'", t->loopdev);
    assert_int_equal(system(cmd), 0);
}

/* Restore `level` into `target` and check the outcome; `object` and `owner` are what was
 * damaged. */
static void cr_restore_into(cr *t,
                            const char *target,
                            int level,
                            int sparse,
                            int threads,
                            const char *object,
                            const char *owner)
{
    cb_restore_opts ro = CB_RESTORE_OPTS_INIT;
    ro.overwrite = 1;
    cb_error err = { 0 };
    ro.sparse = sparse;
    ro.threads = threads;
    if (target == t->out)
        unlink(t->out);
    int rc = cb_restore(t->store, t->layer[level]->backup_id, target, &ro, &err);
    t->restores++;
    if (rc < 0) {
        t->failed++;
        if ((rc != CB_ECORRUPT && rc != CB_ENOTFOUND) ||
            (strstr(err.msg, object) == NULL && strstr(err.msg, owner) == NULL))
            fail_msg("restore of level %d, %s damaged: %s \"%s\" names neither it nor %s", level,
                     object, cb_status_name(rc), err.msg, owner);
        return;
    }
    size_t len = 0;
    unsigned char *got = tu_read_file(target, &len);
    assert_non_null(got);
    if (target != t->out && len > CR_VOL) /* a device may hold more than the volume */
        len = CR_VOL;
    if (len != CR_VOL || memcmp(got, t->want[level], CR_VOL) != 0) {
        size_t at = 0;
        while (at < len && at < CR_VOL && got[at] == t->want[level][at])
            at++;
        fail_msg("SILENT CORRUPTION: restore of level %d into %s (sparse %d, threads %d) with "
                 "%s damaged exited 0 but differs at byte %zu (length %zu)",
                 level, target, sparse, threads, object, at, len);
    }
    t->exact++;
    free(got);
}

static void
cr_restore_check(cr *t, int level, int sparse, int threads, const char *object, const char *owner)
{
    cr_restore_into(t, t->out, level, sparse, threads, object, owner);
}

/* Flip one bit at a few positions of `path`, restoring every level from `layer` up. */
static void cr_sweep_object(cr *t, int layer, const char *path, const char *name)
{
    size_t len;
    unsigned char *orig = tu_read_file(path, &len);
    assert_non_null(orig);
    if (len == 0) {
        free(orig);
        return;
    }
    size_t pos[] = { 0, len / 7, len / 3, len / 2, 2 * len / 3, len - 1 };
    for (size_t i = 0; i < sizeof(pos) / sizeof(pos[0]); i++) {
        unsigned char *bad = malloc(len);
        memcpy(bad, orig, len);
        bad[pos[i]] ^= (unsigned char)(i % 2 ? 0x80 : 0x01);
        tu_write_file(path, bad, len);
        for (int level = layer; level < CR_LAYERS; level++)
            cr_restore_check(t, level, level == CR_LAYERS - 1 && i % 2, 1 + (int)(i % 2), name,
                             t->layer[layer]->backup_id);
        if (t->loopdev[0] != '\0' && i % 3 == 0)
            cr_restore_into(t, t->loopdev, CR_LAYERS - 1, 0, 2, name, t->layer[layer]->backup_id);
        free(bad);
    }
    tu_write_file(path, orig, len);
    free(orig);
}

/* Every object of one layer's container that belongs to its prefix. */
static void cr_sweep_layer(cr *t, int layer)
{
    const cb_backup_info *b = t->layer[layer];
    char dir[1200];
    snprintf(dir, sizeof(dir), "%s/%s", t->root, b->container);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    unsigned n = 0;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, b->prefix, strlen(b->prefix)) != 0)
            continue;
        char path[1600];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        cr_sweep_object(t, layer, path, de->d_name);
        n++;
    }
    closedir(d);
    assert_true(n >= 3); /* data, _sha256file, _metadata at least */
}

static void cr_run_one(const char *comp, uint64_t obj)
{
    cr t = { .obj = obj };
    cr_build(&t, comp);
    cr_loop_setup(&t);
    for (int k = 0; k < CR_LAYERS; k++)
        cr_restore_check(&t, k, 0, 2, "(none)", "(none)"); /* intact first */
    assert_int_equal(t.failed, 0);
    for (int k = 0; k < CR_LAYERS; k++)
        cr_sweep_layer(&t, k);
    print_message("%s, %llu KiB objects%s: %u restores of damaged backups: %u failed naming "
                  "the damage, %u bit-exact, 0 silently wrong\n",
                  comp, (unsigned long long)obj >> 10, t.loopdev[0] ? ", also into a device" : "",
                  t.restores - CR_LAYERS, t.failed, t.exact - CR_LAYERS);
    assert_true(t.failed > 0);
    cr_loop_teardown(&t);
    cr_dispose(&t);
}

static void cr_run(const char *comp)
{
    cr_run_one(comp, CR_OBJ);
    cr_run_one(comp, CR_OBJ_FEW);
}

static void test_corrupt__none(void **state)
{
    (void)state;
    cr_run("none");
}

static void test_corrupt__zlib(void **state)
{
    (void)state;
    cr_run("zlib");
}

static void test_corrupt__bz2(void **state)
{
    (void)state;
    cr_run("bz2");
}

static void test_corrupt__zstd(void **state)
{
    (void)state;
    cr_run("zstd");
}

/* ---- metadata that other writers produce, or that lost something ---- */

/* A full backup of `len` bytes, its metadata parsed for editing. */
static json_t *cr_meta_load(cr *t, const cb_backup_info *b, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s/%s_metadata", t->root, b->container, b->prefix);
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    assert_non_null(doc);
    return doc;
}

static void cr_meta_save(json_t *doc, const char *path)
{
    assert_int_equal(json_dump_file(doc, path, JSON_INDENT(2) | JSON_SORT_KEYS), 0);
    json_decref(doc);
}

/* Drop `key` from every object entry. */
static void cr_meta_drop(json_t *doc, const char *key)
{
    json_t *objs = json_object_get(doc, "objects"), *entry, *fields;
    size_t i;
    const char *name;
    json_array_foreach(objs, i, entry) json_object_foreach(entry, name, fields)
        json_object_del(fields, key);
}

static void cr_small_full(cr *t, size_t len)
{
    cb_error err = { 0 };
    t->dir = tu_mkdtemp("corrupt");
    snprintf(t->root, sizeof(t->root), "%s/store", t->dir);
    snprintf(t->vol, sizeof(t->vol), "%s/volume.img", t->dir);
    snprintf(t->out, sizeof(t->out), "%s/restored.img", t->dir);
    assert_cb_ok(cb_store_open(&t->store, t->root, NULL, &err), &err);
    t->want[0] = malloc(CR_VOL);
    cr_make_volume(t->want[0]);
    tu_fill_random(t->want[0] + len - 5000, 5000, 3); /* data up to the very end */
    tu_write_file(t->vol, t->want[0], len);
    t->layer[0] = cr_backup(t, "zlib", NULL);
}

/* Metadata without "length" (Cinder's restore never reads it; some writers omit it): the
 * volume's size must come from the objects as they are, never a truncated guess. */
static void test_corrupt__no_length_restores_whole(void **state)
{
    (void)state;
    cr t = { 0 };
    size_t len = 200000; /* the last object is short: 200000 - 3 * 65536 */
    char path[1200];
    cb_error err = { 0 };
    cb_backup_info *info = NULL;
    cr_small_full(&t, len);
    json_t *doc = cr_meta_load(&t, t.layer[0], path, sizeof(path));
    cr_meta_drop(doc, "length");
    cr_meta_save(doc, path);
    assert_cb_ok(cb_restore(t.store, t.layer[0]->backup_id, t.out, TU_REPLACE, &err), &err);
    size_t got_len = 0;
    unsigned char *got = tu_read_file(t.out, &got_len);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, t.want[0], len);
    free(got);
    assert_cb_ok(cb_backup_show(t.store, t.layer[0]->backup_id, &info, &err), &err);
    assert_int_equal(info->size, len);
    cb_backup_info_free(info);
    cr_dispose(&t);
}

/* An object that neither an MD5 nor the hash list can check is refused, not trusted. */
static void test_corrupt__unverifiable_refused(void **state)
{
    (void)state;
    cr t = { 0 };
    char path[1200];
    cb_error err = { 0 };
    cr_small_full(&t, 200000);
    json_t *doc = cr_meta_load(&t, t.layer[0], path, sizeof(path));
    cr_meta_drop(doc, "md5");
    cr_meta_save(doc, path);
    snprintf(path, sizeof(path), "%s/%s/%s_sha256file", t.root, t.layer[0]->container,
             t.layer[0]->prefix);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(cb_restore(t.store, t.layer[0]->backup_id, t.out, TU_REPLACE, &err),
                     CB_ECORRUPT);
    assert_cb_error(&err, CB_ECORRUPT, "cannot be verified");
    assert_int_equal(access(t.out, F_OK), -1);
    cr_dispose(&t);
}

/* The metadata lost its last object (and the object went too, so the listing agrees): the
 * hash list still describes the whole volume, and the restore must not truncate it. */
static void test_corrupt__lost_last_object_refused(void **state)
{
    (void)state;
    cr t = { 0 };
    char path[1200];
    cb_error err = { 0 };
    cr_small_full(&t, 200000);
    json_t *doc = cr_meta_load(&t, t.layer[0], path, sizeof(path));
    json_t *objs = json_object_get(doc, "objects");
    size_t last = json_array_size(objs) - 1;
    const char *name;
    json_t *fields;
    char victim[1200];
    json_object_foreach(json_array_get(objs, last), name, fields)
        snprintf(victim, sizeof(victim), "%s/%s/%s", t.root, t.layer[0]->container, name);
    json_array_remove(objs, last);
    cr_meta_save(doc, path);
    assert_int_equal(unlink(victim), 0);
    assert_int_equal(cb_restore(t.store, t.layer[0]->backup_id, t.out, TU_REPLACE, &err),
                     CB_ECORRUPT);
    assert_cb_error(&err, CB_ECORRUPT, "describes more than");
    cr_dispose(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corrupt__none),
        cmocka_unit_test(test_corrupt__zlib),
        cmocka_unit_test(test_corrupt__bz2),
        cmocka_unit_test(test_corrupt__zstd),
        cmocka_unit_test(test_corrupt__no_length_restores_whole),
        cmocka_unit_test(test_corrupt__unverifiable_refused),
        cmocka_unit_test(test_corrupt__lost_last_object_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
