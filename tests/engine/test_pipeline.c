/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pipeline.c: the parallel pipeline under stress: objects that finish out of order,
 * a store error in one worker (first error wins, everything drains, nothing committed),
 * cancellation mid-stream, and every codec with 1 and many threads. Run under TSan too.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "memstore.h"

typedef struct pt {
    cb_store *store;
    char *dir;
    char vol[512];
    char out[512];
    unsigned char *data;
    size_t len;
    int (*cancel)(void *payload); /* for incremental backups */
    int budget;
} pt;

enum { PT_LEN = 10 * 1024 * 1024 + 4321 };

static int pt_setup(void **state)
{
    pt *t = calloc(1, sizeof(*t));
    cb_error err = { 0 };
    t->dir = tu_mkdtemp("pipeline");
    snprintf(t->vol, sizeof(t->vol), "%s/volume.img", t->dir);
    snprintf(t->out, sizeof(t->out), "%s/restored.img", t->dir);
    t->len = PT_LEN;
    t->data = malloc(t->len);
    /* regions: random, zeros, text, so every path of the pipeline runs */
    tu_fill_random(t->data, t->len, 42);
    for (size_t i = 1 << 20; i < (4u << 20); i++)
        t->data[i] = 0;
    for (size_t i = 5u << 20; i < (8u << 20); i++)
        t->data[i] = (unsigned char)("pipeline text "[i % 14]);
    FILE *f = fopen(t->vol, "wb");
    fwrite(t->data, 1, t->len, f);
    fclose(f);
    cb_mem_store_use();
    if (cb_store_open(&t->store, "mem:", NULL, &err) < 0)
        return -1;
    *state = t;
    return 0;
}

static int pt_teardown(void **state)
{
    pt *t = *state;
    cb_store_free(t->store);
    tu_rmtree(t->dir);
    free(t->dir);
    free(t->data);
    free(t);
    return 0;
}

static void pt_check_restore(pt *t, const char *id, int threads)
{
    cb_restore_opts ro = CB_RESTORE_OPTS_INIT;
    ro.overwrite = 1;
    cb_error err = { 0 };
    ro.threads = threads;
    assert_cb_ok(cb_restore(t->store, id, t->out, &ro, &err), &err);
    FILE *f = fopen(t->out, "rb");
    unsigned char *got = malloc(t->len + 1);
    assert_int_equal(fread(got, 1, t->len + 1, f), t->len);
    fclose(f);
    assert_memory_equal(got, t->data, t->len);
    free(got);
}

static cb_backup_info *pt_backup(pt *t, const char *comp, int threads, uint64_t obj)
{
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_backup_info *b = NULL;
    cb_error err = { 0 };
    o.compression = comp;
    o.threads = threads;
    o.object_size = obj;
    assert_cb_ok(cb_backup(t->store, t->vol, &o, &b, &err), &err);
    return b;
}

/* Every object's recorded MD5 is that of its bytes of the volume: a restore checks the
 * SHA-256 list first, so it would not notice a wrong MD5 (Cinder never checks them). */
static void pt_check_md5s(pt *t, const cb_backup_info *b)
{
    char name[512], hex[33];
    unsigned char *data;
    size_t len;
    json_error_t jerr;
    snprintf(name, sizeof(name), "%s_metadata", b->prefix);
    assert_int_equal(cb_mem_store_object(t->store, b->container, name, &data, &len), 0);
    json_t *meta = json_loadb((const char *)data, len, 0, &jerr);
    json_t *objects = json_object_get(meta, "objects");
    assert_true(json_array_size(objects) > 0);
    for (size_t i = 0; i < json_array_size(objects); i++) {
        const char *key;
        json_t *o;
        json_object_foreach(json_array_get(objects, i), key, o)
        {
            size_t off = (size_t)json_integer_value(json_object_get(o, "offset"));
            size_t n = (size_t)json_integer_value(json_object_get(o, "length"));
            unsigned char md[16];
            unsigned int mdlen = 16;
            assert_true(off + n <= t->len);
            EVP_Digest(t->data + off, n, md, &mdlen, EVP_md5(), NULL);
            for (int k = 0; k < 16; k++)
                snprintf(hex + 2 * k, 3, "%02x", md[k]);
            if (strcmp(hex, json_string_value(json_object_get(o, "md5"))) != 0)
                fail_msg("object %s: recorded MD5 %s, its data's is %s", key,
                         json_string_value(json_object_get(o, "md5")), hex);
        }
    }
    json_decref(meta);
}

static void test_pipeline__codecs_and_threads(void **state)
{
    pt *t = *state;
    static const char *const comps[] = { "none", "zlib", "bz2", "zstd" };
    static const int threads[] = { 1, 2, 7 };
    for (size_t c = 0; c < 4; c++)
        for (size_t k = 0; k < 3; k++) {
            /* 1 MiB objects: many objects; 10 MiB: pieces of one object in parallel */
            cb_backup_info *b = pt_backup(t, comps[c], threads[k], k == 2 ? 10u << 20 : 1u << 20);
            pt_check_md5s(t, b);
            pt_check_restore(t, b->backup_id, threads[k]);
            cb_backup_info_free(b);
        }
}

/*
 * The volume makes 11 objects of 1 MiB. With 2 threads (11 >= 3 objects per worker) each
 * worker takes whole objects; with 4 threads, the workers share pieces of a few objects
 * read side by side (pipeline.c). The tests below run both ways.
 */
static const int pt_threads_both_ways[] = { 2, 4 };

/* The first object is slow to write: later objects finish first; the metadata must still
 * list them in order and the restore be exact. */
static void test_pipeline__out_of_order(void **state)
{
    pt *t = *state;
    for (size_t k = 0; k < 2; k++) {
        cb_mem_store_slow_object(t->store, "-00001", 20000);
        cb_backup_info *b = pt_backup(t, k ? "zlib" : "zstd", pt_threads_both_ways[k], 1u << 20);
        cb_mem_store_slow_object(t->store, NULL, 0);
        cb_backup_info *shown = NULL;
        cb_error err = { 0 };
        assert_cb_ok(cb_backup_show(t->store, b->backup_id, &shown, &err), &err);
        assert_int_equal(shown->object_count, 11);
        assert_int_equal(shown->size, PT_LEN);
        pt_check_restore(t, b->backup_id, 3);
        cb_backup_info_free(shown);
        cb_backup_info_free(b);
    }
}

/* A store error in one worker: that error is reported, nothing is left behind. */
static void test_pipeline__store_error_in_a_worker(void **state)
{
    pt *t = *state;
    cb_error err = { 0 };
    for (size_t k = 0; k < 2; k++) {
        int threads = pt_threads_both_ways[k];
        /* count the writes of a good backup, then fail each of several of them in turn */
        unsigned long before = cb_mem_store_calls(t->store, CB_MEM_WRITE);
        cb_backup_info *b = pt_backup(t, "zstd", threads, 1u << 20);
        unsigned long writes = cb_mem_store_calls(t->store, CB_MEM_WRITE) - before;
        assert_cb_ok(cb_backup_delete(t->store, b->backup_id, 0, &err), &err);
        cb_backup_info_free(b);
        assert_true(writes > 10);
        for (unsigned long nth = 1; nth <= writes; nth += writes / 5) {
            cb_backup_opts o = CB_BACKUP_OPTS_INIT;
            cb_error_clear(&err);
            o.threads = threads;
            o.object_size = 1u << 20;
            o.compression = "zstd";
            cb_mem_store_fail(t->store, CB_MEM_WRITE, nth, CB_ENET);
            assert_int_equal(cb_backup(t->store, t->vol, &o, NULL, &err), CB_ENET);
            assert_cb_error(&err, CB_ENET, "injected failure of write");
            cb_mem_store_fail(t->store, CB_MEM_WRITE, 0, 0);
            assert_int_equal(cb_mem_store_count(t->store), 0);
        }
    }
}

static int pt_cancel_after(void *payload)
{
    int *n = payload;
    return --*n < 0;
}

static void test_pipeline__cancel_mid_stream(void **state)
{
    pt *t = *state;
    for (int budget0 = 1; budget0 < 24; budget0 += 3) {
        cb_backup_opts o = CB_BACKUP_OPTS_INIT;
        cb_error err = { 0 };
        int budget = budget0 % 12;
        o.threads = budget0 < 12 ? 2 : 4; /* whole objects, then shared pieces */
        o.object_size = 1u << 20;
        o.compression = "bz2"; /* slow: cancellation lands while workers are busy */
        o.cancel = pt_cancel_after;
        o.cancel_payload = &budget;
        assert_int_equal(cb_backup(t->store, t->vol, &o, NULL, &err), CB_ECANCELED);
        assert_int_equal(cb_mem_store_count(t->store), 0);
    }
}

/* Rewrite one 4 KiB block in every 64 KiB of the volume (and of t->data): about 160
 * changed runs, in every object. */
static void pt_scatter_changes(pt *t, unsigned seed)
{
    FILE *f = fopen(t->vol, "r+b");
    for (size_t off = 8192; off + 4096 <= t->len; off += 65536) {
        tu_fill_random(t->data + off, 4096, seed + (unsigned)off);
        assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
        assert_int_equal(fwrite(t->data + off, 1, 4096, f), 4096);
    }
    fclose(f);
}

static int pt_incremental(pt *t, int threads, cb_backup_info **out, cb_error *err)
{
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    o.compression = "zstd";
    o.threads = threads;
    o.object_size = 1u << 20;
    o.incremental = 1;
    o.cancel = t->cancel;
    o.cancel_payload = &t->budget;
    return cb_backup(t->store, t->vol, &o, out, err);
}

/* The changed runs of an incremental backup are stored by the workers, several at once,
 * and recorded in order: a slow first run, a store error in a run, cancellation. */
static void test_pipeline__incremental_runs(void **state)
{
    pt *t = *state;
    cb_error err = { 0 };
    cb_backup_info *full = pt_backup(t, "zstd", 2, 1u << 20), *inc = NULL;
    size_t objects = cb_mem_store_count(t->store);
    pt_scatter_changes(t, 7);
    /* a store error in one of the runs' writes, then a cancellation: nothing is added */
    for (unsigned long nth = 1; nth <= 150; nth += 37) {
        cb_error_clear(&err);
        cb_mem_store_fail(t->store, CB_MEM_WRITE, nth, CB_ENET);
        assert_int_equal(pt_incremental(t, 4, &inc, &err), CB_ENET);
        assert_cb_error(&err, CB_ENET, "injected failure of write");
        cb_mem_store_fail(t->store, CB_MEM_WRITE, 0, 0);
        assert_int_equal(cb_mem_store_count(t->store), objects);
    }
    for (int budget = 2; budget < 40; budget += 9) {
        cb_error_clear(&err);
        t->cancel = pt_cancel_after;
        t->budget = budget;
        assert_int_equal(pt_incremental(t, 3, &inc, &err), CB_ECANCELED);
        t->cancel = NULL;
        assert_int_equal(cb_mem_store_count(t->store), objects);
    }
    /* the first run is slow to write: later ones finish first */
    cb_error_clear(&err);
    cb_mem_store_slow_object(t->store, "-00001", 20000);
    assert_cb_ok(pt_incremental(t, 4, &inc, &err), &err);
    cb_mem_store_slow_object(t->store, NULL, 0);
    assert_true(inc->object_count >= 150); /* one object per changed run */
    pt_check_restore(t, inc->backup_id, 2);
    cb_backup_info_free(inc);
    cb_backup_info_free(full);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, pt_setup, pt_teardown)
    const struct CMUnitTest tests[] = {
        T(test_pipeline__codecs_and_threads),      T(test_pipeline__out_of_order),
        T(test_pipeline__store_error_in_a_worker), T(test_pipeline__cancel_mid_stream),
        T(test_pipeline__incremental_runs),
    };
    return cmocka_run_group_tests_name("pipeline", tests, NULL, NULL);
}
