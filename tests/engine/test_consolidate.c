/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_consolidate.c: cb_consolidate on the mem store. A full backup and five incrementals
 * (the later ones overwrite the earlier ones' runs, and runs that are not whole sha blocks),
 * consolidated with every compression and with objects smaller and larger than the chain's:
 * the synthetic full restores bit-exact, lists the same hashes, and carries the consolidated
 * backup's volume id, created_at and name. A damaged chain commits nothing and leaves
 * nothing; --delete-chain moves dependants onto the new full and stops at a branch.
 * Argument: a cmocka test filter ("*delete_chain*": the TSan suite runs only that one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "memstore.h"

#define VSIZE (3u << 20)
#define INCR 5
#define VID "0000c0de-0000-4000-8000-000000000001"

typedef struct ct {
    cb_store *store;
    char *dir;
    char vol[512], out[512];
    char id[INCR + 1][40]; /* [0] the full, [k] the k-th incremental */
    unsigned char *img[INCR + 1];
} ct;

/* Day k's change: runs of new bytes, some over the earlier days' runs, none sha-aligned. */
static void ct_change(unsigned char *img, int k)
{
    for (int r = 0; r < 6; r++) {
        size_t off = ((size_t)(r * 491 + k * 13) * 1021 + (size_t)k * 77) % (VSIZE - 70000);
        tu_fill_random(img + off, 1000 + (size_t)r * 9000, 1000 + (uint64_t)(k * 10 + r));
    }
    memset(img + (size_t)k * 300000 + 5, k, 40000); /* compressible, over a random run */
}

static int ct_setup(void **state)
{
    ct *t = calloc(1, sizeof(*t));
    cb_error err = { 0 };
    t->dir = tu_mkdtemp("consolidate");
    snprintf(t->vol, sizeof(t->vol), "%s/volume.img", t->dir);
    snprintf(t->out, sizeof(t->out), "%s/restored.img", t->dir);
    cb_mem_store_use();
    if (cb_store_open(&t->store, "mem:", NULL, &err) < 0)
        return -1;
    unsigned char *img = calloc(1, VSIZE); /* a third zeros, a third text-like, a third random */
    tu_fill_random(img + VSIZE / 3, VSIZE / 3, 7);
    for (size_t i = 2 * (VSIZE / 3); i < VSIZE; i++)
        img[i] = (unsigned char)("cinderblock "[i % 12]);
    for (int k = 0; k <= INCR; k++) {
        cb_backup_opts o = CB_BACKUP_OPTS_INIT;
        if (k > 0)
            ct_change(img, k);
        t->img[k] = malloc(VSIZE);
        memcpy(t->img[k], img, VSIZE);
        o.volume_id = VID;
        o.name = "disk0";
        o.object_size = 1 << 20; /* larger than many objects of the new fulls: read in order */
        o.sha_block = 4096;
        o.now = 1789473600LL + k * 3600;
        o.parent_id = k == 0 ? NULL : t->id[k - 1];
        if (tu_backup(t->store, t->vol, img, VSIZE, &o, t->id[k], &err) < 0)
            return -1;
    }
    free(img);
    *state = t;
    return 0;
}

static int ct_teardown(void **state)
{
    ct *t = *state;
    cb_store_free(t->store);
    tu_rmtree(t->dir);
    free(t->dir);
    for (int k = 0; k <= INCR; k++)
        free(t->img[k]);
    free(t);
    return 0;
}

static cb_backup_info *ct_show(ct *t, const char *id)
{
    cb_backup_info *b = NULL;
    cb_error err = { 0 };
    assert_cb_ok(cb_backup_show(t->store, id, &b, &err), &err);
    return b;
}

/* The "sha256s" list of a backup's _sha256file, as text. */
static char *ct_shas(ct *t, const char *id)
{
    cb_backup_info *b = ct_show(t, id);
    char name[600];
    unsigned char *data;
    size_t len;
    snprintf(name, sizeof(name), "%s_sha256file", b->prefix);
    assert_int_equal(cb_mem_store_object(t->store, b->container, name, &data, &len), 0);
    cb_backup_info_free(b);
    const char *p = memmem(data, len, "\"sha256s\"", 9);
    assert_non_null(p);
    const char *end = memchr(p, ']', len - (size_t)(p - (const char *)data));
    assert_non_null(end);
    return strndup(p, (size_t)(end - p));
}

/* How many times the chain's data objects (of backups 0..INCR) were opened for reading, and
 * how many there are. */
static unsigned long ct_opens(ct *t, unsigned long *n_objects)
{
    unsigned long opens = 0;
    *n_objects = 0;
    for (int k = 0; k <= INCR; k++) {
        cb_backup_info *b = ct_show(t, t->id[k]);
        for (uint64_t i = 1; i <= b->object_count; i++) {
            char name[600];
            snprintf(name, sizeof(name), "%s-%05llu", b->prefix, (unsigned long long)i);
            opens += cb_mem_store_object_reads(t->store, b->container, name);
            (*n_objects)++;
        }
        cb_backup_info_free(b);
    }
    return opens;
}

static void ct_restores(ct *t, const char *id, const void *want, size_t len)
{
    cb_restore_opts ro = CB_RESTORE_OPTS_INIT;
    cb_error err = { 0 };
    ro.overwrite = 1;
    assert_cb_ok(cb_restore(t->store, id, t->out, &ro, &err), &err);
    if (!tu_file_equals(t->out, want, len))
        fail_msg("backup %s restores other bytes", id);
}

static size_t ct_count(ct *t)
{
    cb_backup_info **l = NULL;
    size_t n = 0;
    cb_error err = { 0 };
    assert_cb_ok(cb_backup_list(t->store, NULL, &l, &n, &err), &err);
    cb_backup_info_free_array(l, n);
    return n;
}

static void ct_delete(ct *t, const char *id)
{
    cb_error err = { 0 };
    assert_cb_ok(cb_backup_delete(t->store, id, 0, &err), &err);
}

static void test_consolidate__every_codec(void **state)
{
    ct *t = *state;
    static const char *const comps[] = { "none", "zlib", "bz2", "zstd" };
    static const uint64_t sizes[] = { 64 << 10, 8 << 20 }; /* many objects; one */
    char *want = ct_shas(t, t->id[INCR]);
    cb_backup_info *src = ct_show(t, t->id[INCR]);
    for (size_t c = 0; c < 4; c++)
        for (size_t s = 0; s < 2; s++) {
            cb_consolidate_opts o = CB_CONSOLIDATE_OPTS_INIT;
            cb_backup_info *full = NULL;
            cb_error err = { 0 };
            o.compression = comps[c];
            o.object_size = sizes[s];
            o.threads = 2;
            unsigned long n_objects, before = ct_opens(t, &n_objects);
            assert_cb_ok(cb_consolidate(t->store, t->id[INCR], &o, &full, NULL, NULL, &err), &err);
            /* the chain is read in order: no object opened twice (side by side lanes and
             * samples read places far apart in one object, each from its start: 42 opens of
             * these 40 objects, 13,082 of 12,700 in the 2 GiB bench) */
            unsigned long opens = ct_opens(t, &n_objects) - before;
            if (opens > n_objects)
                fail_msg("%s, %llu-byte objects: %lu opens of the chain's %lu objects", comps[c],
                         (unsigned long long)sizes[s], opens, n_objects);
            assert_null(full->parent_id);
            assert_int_equal(full->chain_length, 1);
            assert_int_equal(full->size, VSIZE);
            assert_int_equal(full->sha_block, 4096);
            assert_string_equal(full->volume_id, VID);
            assert_string_equal(full->name, "disk0");
            assert_string_equal(full->created_at, src->created_at);
            assert_non_null(strstr(full->description, "synthetic full of backup"));
            assert_non_null(strstr(full->description, t->id[INCR]));
            ct_restores(t, full->backup_id, t->img[INCR], VSIZE);
            char *got = ct_shas(t, full->backup_id);
            assert_string_equal(got, want);
            free(got);
            ct_delete(t, full->backup_id);
            cb_backup_info_free(full);
        }
    cb_backup_info_free(src);
    free(want);
    assert_int_equal(ct_count(t), INCR + 1);
}

/* Every backup of the chain, the full itself too, and an incremental on the synthetic full. */
static void test_consolidate__each_backup(void **state)
{
    ct *t = *state;
    for (int k = 0; k <= INCR; k++) {
        cb_consolidate_opts o = CB_CONSOLIDATE_OPTS_INIT;
        cb_backup_info *full = NULL;
        cb_error err = { 0 };
        o.name = "synthetic";
        o.description = "made by a test";
        assert_cb_ok(cb_consolidate(t->store, t->id[k], &o, &full, NULL, NULL, &err), &err);
        assert_string_equal(full->name, "synthetic");
        assert_string_equal(full->description, "made by a test");
        ct_restores(t, full->backup_id, t->img[k], VSIZE);
        if (k == INCR) { /* a later incremental can use it as its parent */
            cb_backup_opts bo = CB_BACKUP_OPTS_INIT;
            char id[40];
            unsigned char *img = malloc(VSIZE);
            memcpy(img, t->img[INCR], VSIZE);
            ct_change(img, 9);
            bo.parent_id = full->backup_id;
            bo.volume_id = VID;
            bo.object_size = 256 << 10;
            assert_cb_ok(tu_backup(t->store, t->vol, img, VSIZE, &bo, id, &err), &err);
            ct_restores(t, id, img, VSIZE);
            ct_delete(t, id);
            free(img);
        }
        ct_delete(t, full->backup_id);
        cb_backup_info_free(full);
    }
}

/* A byte changed in one object: CB_ECORRUPT, and not one object more in the store. */
static void ct_damaged(ct *t, const char *object_suffix, const char *needle)
{
    cb_backup_info *b = ct_show(t, t->id[3]);
    char name[600];
    unsigned char *data;
    size_t len;
    cb_error err = { 0 };
    snprintf(name, sizeof(name), "%s%s", b->prefix, object_suffix);
    assert_int_equal(cb_mem_store_object(t->store, b->container, name, &data, &len), 0);
    data[len / 2] ^= 0x10;
    size_t objects = cb_mem_store_count(t->store);
    int rc = cb_consolidate(t->store, t->id[INCR], NULL, NULL, NULL, NULL, &err);
    assert_int_equal(rc, CB_ECORRUPT);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("the error '%s' does not say '%s'", err.msg, needle);
    assert_int_equal(cb_mem_store_count(t->store), objects);
    assert_int_equal(ct_count(t), INCR + 1);
    data[len / 2] ^= 0x10;
    cb_backup_info_free(b);
}

static void test_consolidate__damaged(void **state)
{
    ct *t = *state;
    /* incremental 3's objects: compressed ones fail their codec's check, a raw one is caught
     * by its sha block's hash */
    cb_error err = { 0 };
    ct_damaged(t, "-00001", "");
    ct_damaged(t, "-00004", "");
    /* the same with no compression at all: a raw chain */
    char raw[INCR + 1][40];
    for (int k = 0; k <= INCR; k++) {
        cb_backup_opts bo = CB_BACKUP_OPTS_INIT;
        bo.volume_id = "0000c0de-0000-4000-8000-000000000002";
        bo.compression = "none";
        bo.object_size = 256 << 10;
        bo.sha_block = 4096;
        bo.parent_id = k == 0 ? NULL : raw[k - 1];
        assert_cb_ok(tu_backup(t->store, t->vol, t->img[k], VSIZE, &bo, raw[k], &err), &err);
    }
    cb_backup_info *r3 = ct_show(t, raw[3]);
    char name[600];
    unsigned char *data;
    size_t len;
    snprintf(name, sizeof(name), "%s-00002", r3->prefix);
    assert_int_equal(cb_mem_store_object(t->store, r3->container, name, &data, &len), 0);
    data[len / 2] ^= 0x10;
    size_t objects = cb_mem_store_count(t->store);
    assert_int_equal(cb_consolidate(t->store, raw[INCR], NULL, NULL, NULL, NULL, &err),
                     CB_ECORRUPT);
    assert_non_null(strstr(err.msg, "differs from its _sha256file"));
    assert_non_null(strstr(err.msg, "nothing was committed"));
    assert_int_equal(cb_mem_store_count(t->store), objects);
    data[len / 2] ^= 0x10;
    cb_backup_info_free(r3);
    /* a _sha256file that is gone: nothing can be checked against it, so nothing is made
     * (a full backup's chain loads without it; an incremental's size needs it) */
    cb_backup_info *r5 = ct_show(t, raw[0]);
    snprintf(name, sizeof(name), "%s_sha256file", r5->prefix);
    assert_cb_ok(cb_store_delete_object(t->store, r5->container, name, 0, &err), &err);
    cb_error_clear(&err);
    int rc = cb_consolidate(t->store, raw[0], NULL, NULL, NULL, NULL, &err);
    if (rc != CB_ECORRUPT || strstr(err.msg, "cannot be consolidated") == NULL)
        fail_msg("without its _sha256file: %d %s", rc, err.msg);
    assert_int_equal(cb_mem_store_count(t->store), objects - 1);
    cb_backup_info_free(r5);
    r5 = ct_show(t, raw[INCR]);
    snprintf(name, sizeof(name), "%s_sha256file", r5->prefix);
    assert_cb_ok(cb_store_delete_object(t->store, r5->container, name, 0, &err), &err);
    cb_error_clear(&err);
    rc = cb_consolidate(t->store, raw[INCR], NULL, NULL, NULL, NULL, &err);
    if (rc >= 0 || strstr(err.msg, "_sha256file") == NULL)
        fail_msg("an incremental without its _sha256file: %d %s", rc, err.msg);
    assert_int_equal(cb_mem_store_count(t->store), objects - 2);
    cb_backup_info_free(r5);
}

/* --delete-chain of incremental 4 with incremental 5 on it and a branch on incremental 2:
 * 5 moves onto the new full, 4 and 3 go, 2 stays for the branch. */
static void test_consolidate__delete_chain(void **state)
{
    ct *t = *state;
    cb_backup_opts bo = CB_BACKUP_OPTS_INIT;
    cb_consolidate_opts o = CB_CONSOLIDATE_OPTS_INIT;
    cb_backup_info *full = NULL;
    cb_error err = { 0 };
    char branch[40], **gone = NULL;
    size_t n_gone = 0;
    unsigned char *img = malloc(VSIZE);
    memcpy(img, t->img[2], VSIZE);
    memset(img + 12345, 0xee, 5000);
    bo.parent_id = t->id[2];
    bo.volume_id = VID;
    bo.object_size = 256 << 10;
    assert_cb_ok(tu_backup(t->store, t->vol, img, VSIZE, &bo, branch, &err), &err);
    o.delete_chain = 1;
    assert_cb_ok(cb_consolidate(t->store, t->id[4], &o, &full, &gone, &n_gone, &err), &err);
    assert_int_equal(n_gone, 2);
    assert_string_equal(gone[0], t->id[4]);
    assert_string_equal(gone[1], t->id[3]);
    cb_backup_info *five = ct_show(t, t->id[5]);
    assert_string_equal(five->parent_id, full->backup_id);
    assert_int_equal(five->chain_length, 2);
    cb_backup_info_free(five);
    ct_restores(t, t->id[5], t->img[5], VSIZE);
    ct_restores(t, full->backup_id, t->img[4], VSIZE);
    ct_restores(t, branch, img, VSIZE);
    ct_restores(t, t->id[2], t->img[2], VSIZE);
    assert_int_equal(ct_count(t), INCR + 1 + 1 + 1 - 2);
    cb_backup_ids_free(gone, n_gone);
    cb_backup_info_free(full);
    free(img);
}

/* A dependant whose metadata records no MD5 for an object (a foreign writer's) is not
 * rewritten: a rewrite would have to invent one. Nothing is deleted. */
static void test_consolidate__delete_chain_refused(void **state)
{
    ct *t = *state;
    cb_consolidate_opts o = CB_CONSOLIDATE_OPTS_INIT;
    cb_backup_info *five = ct_show(t, t->id[5]), *full = NULL;
    cb_error err = { 0 };
    char name[600], *text;
    unsigned char *data;
    size_t len;
    snprintf(name, sizeof(name), "%s_metadata", five->prefix);
    assert_int_equal(cb_mem_store_object(t->store, five->container, name, &data, &len), 0);
    text = strndup((const char *)data, len);
    char *md5 = strstr(text, "\"md5\": \""), *end = md5 ? strchr(md5 + 8, '\n') : NULL;
    assert_non_null(end);
    memmove(md5, end + 1, strlen(end + 1) + 1); /* that line, and its key, gone */
    assert_cb_ok(cb_store_write_all(t->store, five->container, name, text, strlen(text), &err),
                 &err);
    o.delete_chain = 1;
    int rc = cb_consolidate(t->store, t->id[4], &o, &full, NULL, NULL, &err);
    assert_int_equal(rc, CB_EINVAL);
    assert_non_null(strstr(err.msg, "records no length or MD5"));
    assert_non_null(full); /* committed; the old chain stays whole */
    assert_int_equal(ct_count(t), INCR + 1 + 1);
    ct_restores(t, t->id[4], t->img[4], VSIZE);
    cb_backup_info_free(full);
    cb_backup_info_free(five);
    free(text);
}

static int ct_cancel_at; /* the cancel hook's calls until it says stop */
static int ct_cancel(void *payload)
{
    (void)payload;
    return --ct_cancel_at <= 0;
}

static void test_consolidate__cancel_and_empty(void **state)
{
    ct *t = *state;
    cb_consolidate_opts o = CB_CONSOLIDATE_OPTS_INIT;
    cb_backup_info *full = NULL;
    cb_error err = { 0 };
    size_t objects = cb_mem_store_count(t->store);
    o.cancel = ct_cancel;
    o.object_size = 64 << 10;
    ct_cancel_at = 20;
    assert_int_equal(cb_consolidate(t->store, t->id[INCR], &o, NULL, NULL, NULL, &err),
                     CB_ECANCELED);
    assert_int_equal(cb_mem_store_count(t->store), objects);
    assert_int_equal(ct_count(t), INCR + 1);
    /* an empty volume: an empty full */
    cb_backup_opts bo = CB_BACKUP_OPTS_INIT;
    char id[40];
    bo.volume_id = "0000c0de-0000-4000-8000-000000000003";
    assert_cb_ok(tu_backup(t->store, t->vol, "", 0, &bo, id, &err), &err);
    assert_cb_ok(cb_consolidate(t->store, id, NULL, &full, NULL, NULL, &err), &err);
    assert_int_equal(full->size, 0);
    ct_restores(t, full->backup_id, "", 0);
    cb_backup_info_free(full);
    /* unknown backup, bad version */
    assert_int_equal(cb_consolidate(t->store, "00000000-0000-4000-8000-00000000dead", NULL, NULL,
                                    NULL, NULL, &err),
                     CB_ENOTFOUND);
    o.version = 99;
    assert_int_equal(cb_consolidate(t->store, id, &o, NULL, NULL, NULL, &err), CB_EINVAL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_consolidate__every_codec, ct_setup, ct_teardown),
        cmocka_unit_test_setup_teardown(test_consolidate__each_backup, ct_setup, ct_teardown),
        cmocka_unit_test_setup_teardown(test_consolidate__damaged, ct_setup, ct_teardown),
        cmocka_unit_test_setup_teardown(test_consolidate__delete_chain, ct_setup, ct_teardown),
        cmocka_unit_test_setup_teardown(test_consolidate__delete_chain_refused, ct_setup,
                                        ct_teardown),
        cmocka_unit_test_setup_teardown(test_consolidate__cancel_and_empty, ct_setup, ct_teardown),
    };
    if (argc > 1) /* a cmocka test filter: the TSan suite runs one case */
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
