/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_engine.c: backup, restore and delete through the mem store, including the
 * behaviours Cinder's own tests pin down (spec §5) and the failures Cinder does not catch.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "memstore.h"

typedef struct eng {
    cb_store *store;
    char *dir;
    char vol[512];
    char out[512];
} eng;

static int eng_setup(void **state)
{
    eng *e = calloc(1, sizeof(*e));
    cb_error err = { 0 };
    e->dir = tu_mkdtemp("engine");
    snprintf(e->vol, sizeof(e->vol), "%s/volume.img", e->dir);
    snprintf(e->out, sizeof(e->out), "%s/restored.img", e->dir);
    cb_mem_store_use();
    if (cb_store_open(&e->store, "mem:", NULL, &err) < 0)
        return -1;
    *state = e;
    return 0;
}

static int eng_teardown(void **state)
{
    eng *e = *state;
    cb_store_free(e->store);
    tu_rmtree(e->dir);
    free(e->dir);
    free(e);
    return 0;
}

/* Random, zero and text regions, `len` bytes in all. */
static void eng_make_volume(const char *path, size_t len, uint64_t seed)
{
    unsigned char *buf = malloc(len + 1);
    tu_fill_random(buf, len, seed);
    for (size_t i = len / 3; i < len / 2; i++)
        buf[i] = 0;
    for (size_t i = len / 2; i < len * 3 / 4; i++)
        buf[i] = (unsigned char)("cinderblock text "[i % 17]);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
    free(buf);
}

static void eng_assert_same(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    assert_non_null(fa);
    assert_non_null(fb);
    int ca, cb;
    long pos = 0;
    do {
        ca = fgetc(fa);
        cb = fgetc(fb);
        if (ca != cb)
            print_error("%s and %s differ at byte %ld\n", a, b, pos);
        assert_int_equal(ca, cb);
        pos++;
    } while (ca != EOF);
    fclose(fa);
    fclose(fb);
}

static cb_backup_info *
eng_backup(eng *e, const char *comp, uint64_t object_size, uint32_t sha_block)
{
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_backup_info *info = NULL;
    cb_error err = { 0 };
    o.compression = comp;
    o.object_size = object_size;
    o.sha_block = sha_block;
    assert_cb_ok(cb_backup(e->store, e->vol, &o, &info, &err), &err);
    return info;
}

/* Cinder's test: 1 KiB sha blocks, 3 KiB objects, every algorithm, bit-exact round trip. */
static void test_engine__round_trip_every_codec(void **state)
{
    eng *e = *state;
    static const char *const comps[] = {
        "none", "off", "No", "zlib", "GZIP", "bz2", "bzip2", "ZSTD"
    };
    eng_make_volume(e->vol, 10000, 7); /* not a multiple of the sha block */
    for (size_t i = 0; i < sizeof(comps) / sizeof(comps[0]); i++) {
        cb_error err = { 0 };
        cb_backup_info *b = eng_backup(e, comps[i], 3072, 1024);
        assert_int_equal(b->object_count, 4);
        assert_int_equal(b->size, 10000);
        assert_cb_ok(cb_restore(e->store, b->backup_id, e->out, TU_REPLACE, &err), &err);
        eng_assert_same(e->vol, e->out);
        cb_backup_info_free(b);
    }
}

static char *eng_meta_text(eng *e, const cb_backup_info *b)
{
    char name[300];
    unsigned char *data;
    size_t len;
    snprintf(name, sizeof(name), "%s_metadata", b->prefix);
    assert_int_equal(cb_mem_store_object(e->store, b->container, name, &data, &len), 0);
    char *s = malloc(len + 1);
    memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

/* Cinder's test vector: MD5 of the uncompressed data, first object named -00001. */
static void test_engine__object_names_and_md5(void **state)
{
    eng *e = *state;
    char data[251];
    for (int i = 0; i < 10; i++)
        memcpy(data + 25 * i, "abcdefhijklmnopqrstuvwxyz", 25);
    tu_write_file(e->vol, data, 250);
    cb_backup_info *b = eng_backup(e, "zlib", 0, 0);
    char *meta = eng_meta_text(e, b);
    char want[300];
    snprintf(want, sizeof(want), "\"%s-00001\": {", b->prefix);
    assert_non_null(strstr(meta, want));
    assert_non_null(strstr(meta, "\"md5\": \"b4bc937908ab6be6039b6d4141200de8\""));
    assert_non_null(strstr(meta, "\"length\": 250"));
    assert_non_null(strstr(meta, "\"offset\": 0"));
    assert_non_null(strstr(meta, "\"compression\": \"zlib\""));
    assert_non_null(strstr(meta, "\"version\": \"1.0.0\""));
    assert_non_null(strstr(meta, "\"volume_meta\": null"));
    assert_null(strstr(meta, "extra_metadata"));
    assert_int_equal(meta[strlen(meta) - 1], '}'); /* no trailing newline */
    free(meta);
    cb_backup_info_free(b);
}

/* Incompressible data is stored raw and recorded as "none" (Cinder's rule). */
static void test_engine__incompressible_is_none(void **state)
{
    eng *e = *state;
    unsigned char buf[8192];
    tu_fill_random(buf, sizeof(buf), 3);
    tu_write_file(e->vol, buf, sizeof(buf));
    cb_backup_info *b = eng_backup(e, "bz2", 4096, 1024);
    char *meta = eng_meta_text(e, b);
    assert_null(strstr(meta, "\"compression\": \"bz2\""));
    assert_non_null(strstr(meta, "\"compression\": \"none\""));
    free(meta);
    cb_backup_info_free(b);
}

static void test_engine__bad_options(void **state)
{
    eng *e = *state;
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_error err = { 0 };
    eng_make_volume(e->vol, 4096, 1);
    o.object_size = 999;
    o.sha_block = 1024;
    assert_int_equal(cb_backup(e->store, e->vol, &o, NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "not a multiple of the sha block size 1024");
    cb_error_clear(&err);
    o = (cb_backup_opts)CB_BACKUP_OPTS_INIT;
    o.compression = "winzip";
    assert_int_equal(cb_backup(e->store, e->vol, &o, NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "winzip");
    cb_error_clear(&err);
    o = (cb_backup_opts)CB_BACKUP_OPTS_INIT;
    assert_int_equal(cb_backup(e->store, "/nonexistent/volume", &o, NULL, &err), CB_EIO);
    assert_cb_error(&err, CB_EIO, "/nonexistent/volume");
    cb_error_clear(&err);
    o.volume_id = "not-a-uuid";
    assert_int_equal(cb_backup(e->store, e->vol, &o, NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "not-a-uuid");
    assert_int_equal(cb_mem_store_count(e->store), 0); /* nothing was written */
}

/* A store failure anywhere in a backup leaves nothing under the prefix. */
static void test_engine__store_failure_leaves_nothing(void **state)
{
    eng *e = *state;
    eng_make_volume(e->vol, 50000, 5);
    static const cb_mem_op ops[] = { CB_MEM_OPEN_WRITER, CB_MEM_WRITE, CB_MEM_CLOSE };
    for (size_t k = 0; k < 3; k++) {
        for (unsigned long nth = 1; nth <= 8; nth++) {
            cb_backup_opts o = CB_BACKUP_OPTS_INIT;
            cb_error err = { 0 };
            o.object_size = 8192;
            o.sha_block = 1024;
            cb_mem_store_fail(e->store, ops[k], nth, CB_ENET);
            int rc = cb_backup(e->store, e->vol, &o, NULL, &err);
            cb_mem_store_fail(e->store, ops[k], 0, 0);
            if (rc == 0) /* the failure came after the last call of that kind */
                continue;
            assert_int_equal(rc, CB_ENET);
            assert_non_null(strstr(err.msg, "injected failure"));
            assert_int_equal(cb_mem_store_count(e->store), 0);
        }
    }
}

static int eng_cancel_after(void *payload)
{
    int *n = payload;
    return --*n < 0;
}

static void test_engine__cancel_leaves_nothing(void **state)
{
    eng *e = *state;
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_error err = { 0 };
    int budget = 3;
    eng_make_volume(e->vol, 50000, 6);
    o.object_size = 8192;
    o.sha_block = 1024;
    o.cancel = eng_cancel_after;
    o.cancel_payload = &budget;
    assert_int_equal(cb_backup(e->store, e->vol, &o, NULL, &err), CB_ECANCELED);
    assert_cb_error(&err, CB_ECANCELED, "cancelled");
    assert_true(cb_mem_store_calls(e->store, CB_MEM_CLOSE) >= 1); /* it had written objects */
    assert_int_equal(cb_mem_store_count(e->store), 0);
}

/* Damage that Cinder restores silently or cannot name: each must fail, naming the object,
 * and leave the target untouched. */
static void eng_expect_restore_fails(eng *e, const cb_backup_info *b, int code, const char *what)
{
    cb_error err = { 0 };
    tu_write_file(e->out, "previous", 8);
    assert_int_equal(cb_restore(e->store, b->backup_id, e->out, TU_REPLACE, &err), code);
    if (strstr(err.msg, what) == NULL)
        print_error("message \"%s\" lacks \"%s\"\n", err.msg, what);
    assert_non_null(strstr(err.msg, what));
    struct stat sb;
    assert_int_equal(stat(e->out, &sb), 0);
    assert_int_equal(sb.st_size, 8);
}

static void test_engine__corruption_detected(void **state)
{
    eng *e = *state;
    char name[300];
    unsigned char *data;
    size_t len;
    eng_make_volume(e->vol, 12000, 8);
    for (int k = 0; k < 3; k++) {
        static const char *const comps[] = { "none", "zlib", "zstd" };
        cb_backup_info *b = eng_backup(e, comps[k], 4096, 1024);
        snprintf(name, sizeof(name), "%s-00002", b->prefix);
        assert_int_equal(cb_mem_store_object(e->store, b->container, name, &data, &len), 0);
        data[len / 2] ^= 0x40; /* one flipped bit */
        eng_expect_restore_fails(e, b, CB_ECORRUPT, "-00002");
        data[len / 2] ^= 0x40;
        cb_error err = { 0 };
        assert_cb_ok(cb_restore(e->store, b->backup_id, e->out, TU_REPLACE, &err), &err);
        eng_assert_same(e->vol, e->out);
        cb_backup_info_free(b);
    }
}

static void test_engine__missing_and_extra_objects(void **state)
{
    eng *e = *state;
    cb_error err = { 0 };
    char name[300];
    eng_make_volume(e->vol, 12000, 9);
    cb_backup_info *b = eng_backup(e, "zlib", 4096, 1024);
    snprintf(name, sizeof(name), "%s-99999", b->prefix);
    assert_cb_ok(cb_store_write_all(e->store, b->container, name, "x", 1, &err), &err);
    eng_expect_restore_fails(e, b, CB_ECORRUPT, "-99999");
    assert_cb_ok(cb_store_delete_object(e->store, b->container, name, 0, &err), &err);
    snprintf(name, sizeof(name), "%s-00003", b->prefix);
    assert_cb_ok(cb_store_delete_object(e->store, b->container, name, 0, &err), &err);
    eng_expect_restore_fails(e, b, CB_ECORRUPT, "-00003");
    cb_backup_info_free(b);
}

/* Rewrite the metadata of `b` with `from` replaced by `to`. */
static void eng_edit_meta(eng *e, const cb_backup_info *b, const char *from, const char *to)
{
    char name[300];
    cb_error err = { 0 };
    char *meta = eng_meta_text(e, b);
    char *at = strstr(meta, from);
    assert_non_null(at);
    size_t n = strlen(meta) - strlen(from) + strlen(to);
    char *edited = malloc(n + 1);
    snprintf(edited, n + 1, "%.*s%s%s", (int)(at - meta), meta, to, at + strlen(from));
    snprintf(name, sizeof(name), "%s_metadata", b->prefix);
    assert_cb_ok(cb_store_write_all(e->store, b->container, name, edited, strlen(edited), &err),
                 &err);
    free(edited);
    free(meta);
}

static void test_engine__bad_metadata(void **state)
{
    eng *e = *state;
    eng_make_volume(e->vol, 12000, 10);
    cb_backup_info *b = eng_backup(e, "zlib", 4096, 1024);
    char *orig = eng_meta_text(e, b);
    char name[300];
    cb_error err = { 0 };
    snprintf(name, sizeof(name), "%s_metadata", b->prefix);

    eng_edit_meta(e, b, "\"1.0.0\"", "\"9.9.9\"");
    eng_expect_restore_fails(e, b, CB_ECORRUPT, "9.9.9");
    assert_cb_ok(cb_store_write_all(e->store, b->container, name, orig, strlen(orig), &err), &err);

    eng_edit_meta(e, b, "\"offset\": 4096", "\"offset\": -4096");
    eng_expect_restore_fails(e, b, CB_ECORRUPT, "offset");
    assert_cb_ok(cb_store_write_all(e->store, b->container, name, orig, strlen(orig), &err), &err);

    eng_edit_meta(e, b, "\"offset\": 4096", "\"offset\": 4000");
    eng_expect_restore_fails(e, b, CB_ECORRUPT, "overlap");
    assert_cb_ok(cb_store_write_all(e->store, b->container, name, orig, strlen(orig), &err), &err);

    char outside[300];
    snprintf(outside, sizeof(outside), "\"%s-00002\"", b->prefix);
    eng_edit_meta(e, b, outside, "\"elsewhere-00002\"");
    eng_expect_restore_fails(e, b, CB_ECORRUPT, "outside the backup's prefix");
    assert_cb_ok(cb_store_write_all(e->store, b->container, name, orig, strlen(orig), &err), &err);

    assert_cb_ok(cb_store_write_all(e->store, b->container, name, "{not json", 9, &err), &err);
    eng_expect_restore_fails(e, b, CB_ECORRUPT, "not valid JSON");
    assert_cb_ok(cb_store_write_all(e->store, b->container, name, orig, strlen(orig), &err), &err);

    assert_cb_ok(cb_restore(e->store, b->backup_id, e->out, TU_REPLACE, &err), &err);
    eng_assert_same(e->vol, e->out);
    free(orig);
    cb_backup_info_free(b);
}

static void test_engine__unknown_backup(void **state)
{
    eng *e = *state;
    cb_error err = { 0 };
    const char *id = "00000000-1111-2222-3333-444444444444";
    assert_int_equal(cb_restore(e->store, id, e->out, TU_REPLACE, &err), CB_ENOTFOUND);
    assert_cb_error(&err, CB_ENOTFOUND, id);
    cb_error_clear(&err);
    assert_int_equal(cb_backup_delete(e->store, id, 0, &err), CB_ENOTFOUND);
    assert_cb_error(&err, CB_ENOTFOUND, id);
    struct stat sb;
    assert_int_not_equal(stat(e->out, &sb), 0); /* no target was created */
}

static void test_engine__delete_metadata_first(void **state)
{
    eng *e = *state;
    cb_error err = { 0 };
    eng_make_volume(e->vol, 20000, 11);
    cb_backup_info *b = eng_backup(e, "zlib", 4096, 1024);
    assert_int_equal(cb_mem_store_count(e->store), 7);
    /* fail the second delete: the metadata is already gone, so nothing looks complete */
    cb_mem_store_fail(e->store, CB_MEM_DELETE, 2, CB_ENET);
    assert_int_equal(cb_backup_delete(e->store, b->backup_id, 0, &err), CB_ENET);
    cb_error_clear(&err);
    cb_backup_info **v;
    size_t n;
    assert_cb_ok(cb_backup_list(e->store, NULL, &v, &n, &err), &err);
    assert_int_equal(n, 0);
    cb_backup_info_free_array(v, n);
    cb_backup_info_free(b);
}

/* A damaged backup elsewhere in the store does not stop deleting another one. */
static void test_engine__delete_beside_damage(void **state)
{
    eng *e = *state;
    cb_error err = { 0 };
    char name[300];
    eng_make_volume(e->vol, 9000, 13);
    cb_backup_info *a = eng_backup(e, "zlib", 4096, 1024);
    cb_backup_info *b = eng_backup(e, "zlib", 4096, 1024);
    snprintf(name, sizeof(name), "%s_metadata", a->prefix);
    assert_cb_ok(cb_store_write_all(e->store, a->container, name, "{broken", 7, &err), &err);
    assert_cb_ok(cb_backup_delete(e->store, b->backup_id, 0, &err), &err);
    cb_backup_info **v;
    size_t n;
    assert_cb_ok(cb_backup_list(e->store, NULL, &v, &n, &err), &err);
    assert_int_equal(n, 1); /* only the damaged one is left, and listed with its problem */
    assert_string_equal(v[0]->backup_id, a->backup_id);
    assert_non_null(v[0]->problem);
    cb_backup_info_free_array(v, n);
    cb_backup_info_free(a);
    cb_backup_info_free(b);
}

static void test_engine__metadata_and_extra(void **state)
{
    eng *e = *state;
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_backup_info *b = NULL, *shown = NULL;
    cb_error err = { 0 };
    const char *const md[] = { "purpose=test", "owner=caf\xc3\xa9" };
    eng_make_volume(e->vol, 5000, 12);
    cb_mem_store_set_extra_metadata(e->store, "{\"z\": 1, \"a\": [true, null]}");
    o.metadata = md;
    o.n_metadata = 2;
    o.name = "nightly";
    assert_cb_ok(cb_backup(e->store, e->vol, &o, &b, &err), &err);
    char *meta = eng_meta_text(e, b);
    assert_non_null(strstr(meta, "\"volume_meta\": \"{\\\"version\\\": 2, \\\"volume-metadata\\\": "
                                 "{\\\"purpose\\\": \\\"test\\\", \\\"owner\\\": "
                                 "\\\"caf\\\\u00e9\\\"}}\""));
    assert_non_null(strstr(meta, "\"extra_metadata\": {\n    \"a\": [\n      true,\n      null\n"
                                 "    ],\n    \"z\": 1\n  },"));
    assert_cb_ok(cb_backup_show(e->store, b->backup_id, &shown, &err), &err);
    assert_string_equal(shown->name, "nightly");
    assert_non_null(strstr(shown->volume_meta, "purpose"));
    free(meta);
    cb_backup_info_free(shown);
    cb_backup_info_free(b);
    cb_mem_store_set_extra_metadata(e->store, NULL);
}

/* Flip one hex digit of hash number `index` in a backup's _sha256file (it stays valid
 * JSON). */
static void eng_damage_hash_list(eng *e, const cb_backup_info *b, size_t index)
{
    char name[300];
    unsigned char *data;
    size_t len;
    snprintf(name, sizeof(name), "%s_sha256file", b->prefix);
    assert_int_equal(cb_mem_store_object(e->store, b->container, name, &data, &len), 0);
    static const char key[] = "\"sha256s\": [\n    \""; /* indented as Cinder writes it */
    char *hex = memmem(data, len, key, strlen(key));
    assert_non_null(hex);
    hex += strlen(key);
    for (size_t i = 0; i < index;
         i++) { /* past this hash's closing quote and the next one's opening */
        hex = memchr(hex, '"', len - (size_t)(hex - (char *)data));
        assert_non_null(hex);
        hex = memchr(hex + 1, '"', len - (size_t)(hex + 1 - (char *)data));
        assert_non_null(hex);
        hex++;
    }
    *hex = *hex == '0' ? '1' : '0';
}

/*
 * A restore checks the blocks it writes against the backup's own hash list, and the
 * objects' MD5s only where that list cannot decide: an object whose recorded MD5 is wrong
 * but whose bytes match the list restores; a damaged list does not fail a good restore
 * (the objects' MD5s decide); damaged data with a good list fails, naming the object.
 */
static void test_engine__restore_checks_hash_list(void **state)
{
    eng *e = *state;
    cb_error err = { 0 };
    eng_make_volume(e->vol, 20000, 10);
    cb_backup_info *b = eng_backup(e, "none", 8192, 1024);
    char *meta = eng_meta_text(e, b);
    char *md5 = strstr(meta, "\"md5\": \"");
    assert_non_null(md5);
    char wrong[48], right[48];
    snprintf(right, sizeof(right), "%.40s", md5); /* "md5": " and 32 hex digits */
    snprintf(wrong, sizeof(wrong), "%.39s%c", md5, md5[39] == '0' ? '1' : '0');
    eng_edit_meta(e, b, right, wrong); /* the data is right, its recorded MD5 is not */
    assert_cb_ok(cb_restore(e->store, b->backup_id, e->out, TU_REPLACE, &err), &err);
    eng_assert_same(e->vol, e->out);
    eng_damage_hash_list(e, b, 0); /* now the list disagrees too: the MD5 decides, and fails */
    eng_expect_restore_fails(e, b, CB_ECORRUPT, "-00001");
    eng_edit_meta(e, b, wrong, right); /* the MD5 is right again: the damaged list is ignored */
    assert_cb_ok(cb_restore(e->store, b->backup_id, e->out, TU_REPLACE, &err), &err);
    eng_assert_same(e->vol, e->out);
    free(meta);
    cb_backup_info_free(b);
}

/*
 * The same where blocks arrive sixteen at a time (32 KiB blocks, 512 KiB pieces from the
 * decoder) and are hashed together: an object whose recorded MD5 is wrong restores only if
 * every one of its blocks matched the list, and one wrong hash among them is still caught.
 */
static void test_engine__restore_checks_hash_list_in_batches(void **state)
{
    eng *e = *state;
    cb_error err = { 0 };
    eng_make_volume(e->vol, (3u << 20) + 5 * 32768, 11);
    cb_backup_info *b = eng_backup(e, "zstd", 1u << 20, 32768);
    char *meta = eng_meta_text(e, b);
    char *md5 = meta;
    for (int i = 0; i < 3; i++) /* the third object's: MiB 2-3, random bytes */
        assert_non_null(md5 = strstr(md5 + 1, "\"md5\": \""));
    char wrong[48], right[48];
    snprintf(right, sizeof(right), "%.40s", md5);
    snprintf(wrong, sizeof(wrong), "%.39s%c", md5, md5[39] == '0' ? '1' : '0');
    eng_edit_meta(e, b, right, wrong);
    assert_cb_ok(cb_restore(e->store, b->backup_id, e->out, TU_REPLACE, &err), &err);
    eng_assert_same(e->vol, e->out);
    eng_damage_hash_list(e, b, 90); /* a block in the middle of that object's second piece */
    eng_expect_restore_fails(e, b, CB_ECORRUPT, "-00003");
    free(meta);
    cb_backup_info_free(b);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, eng_setup, eng_teardown)
    const struct CMUnitTest tests[] = {
        T(test_engine__round_trip_every_codec),
        T(test_engine__object_names_and_md5),
        T(test_engine__incompressible_is_none),
        T(test_engine__bad_options),
        T(test_engine__store_failure_leaves_nothing),
        T(test_engine__cancel_leaves_nothing),
        T(test_engine__corruption_detected),
        T(test_engine__restore_checks_hash_list),
        T(test_engine__restore_checks_hash_list_in_batches),
        T(test_engine__missing_and_extra_objects),
        T(test_engine__bad_metadata),
        T(test_engine__unknown_backup),
        T(test_engine__delete_metadata_first),
        T(test_engine__delete_beside_damage),
        T(test_engine__metadata_and_extra),
    };
    return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
