/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_verify_read.c: reading the data back, on the chain of verify_testlib.h: subsets
 * that together read every object once, read errors that are not damage (a failure
 * injected at every call in turn), hash lists streamed instead of held, and
 * restore --verify.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../tests/engine/verify_testlib.h"
#include "memstore.h"

static int vt_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parts 1/3, 2/3 and 3/3 together read every object exactly once. */
static void test_verify__subsets(void **state)
{
    (void)state;
    vt *t = vt_build(1);
    vt_seen all = { 0 };
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    uint64_t read = 0;
    for (unsigned n = 1; n <= 3; n++) {
        assert_cb_ok(vt_verify(t, NULL, 1, n, 3, &all, &r, &err), &err);
        read += r->objects_read;
        assert_true(r->objects_read < vt_objects(t, 2)); /* a part, not everything */
        cb_verify_report_free(r);
    }
    assert_int_equal(read, vt_objects(t, 2));
    assert_int_equal(all.n, vt_objects(t, 2));
    qsort(all.names, all.n, sizeof(*all.names), vt_strcmp);
    for (size_t i = 1; i < all.n; i++)
        assert_true(strcmp(all.names[i - 1], all.names[i]) != 0);
    vt_seen_free(&all);
    /* the documented hash: FNV-1a 64 of "container/name" */
    assert_int_equal(cb__vf_part("c", "n", 1000), 372);
    /* a part that does not exist */
    assert_int_equal(vt_verify(t, NULL, 1, 4, 3, NULL, &r, &err), CB_EINVAL);
    cb_verify_report_free(r);
    vt_free(t);
}

/* A read that fails once, anywhere (any open_reader or read call), is read again and is
 * not damage. */
static void vt_fail_each_once(vt *t)
{
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    const cb_mem_op ops[] = { CB_MEM_OPEN_READER, CB_MEM_READ };
    for (size_t i = 0; i < 2; i++) {
        unsigned long before = cb_mem_store_calls(t->store, ops[i]);
        assert_cb_ok(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), &err);
        cb_verify_report_free(r);
        unsigned long calls = cb_mem_store_calls(t->store, ops[i]) - before;
        for (unsigned long nth = 1; nth <= calls; nth++) {
            cb_mem_store_fail(t->store, ops[i], nth, CB_ENET);
            assert_cb_ok(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), &err);
            if (r->retried != 1)
                print_error("%s call %lu of %lu failed once: %llu retried\n",
                            i ? "read" : "open_reader", nth, calls, (unsigned long long)r->retried);
            assert_int_equal(r->retried, 1);
            assert_int_equal(r->n_problems, 0);
            cb_verify_report_free(r);
        }
    }
}

/* on_object: once the first object was read, the lists of the other backups fail to
 * open, twice each (or, armed == -1, no longer) */
typedef struct vt_arm {
    vt *t;
    int armed;
} vt_arm;

static void vt_arm_lists(vt_arm *a, const char *except_object, unsigned times)
{
    for (int k = 0; k < VT_LAYERS; k++) {
        const cb_backup_info *b = a->t->layer[k];
        char *list = vt_name(a->t, k, 0, "_sha256file");
        if (except_object == NULL || strncmp(except_object, b->prefix, strlen(b->prefix)) != 0)
            cb_mem_store_fail_object(a->t->store, b->container, list, times, CB_ENET);
        free(list);
    }
}

static void vt_fail_lists(const char *backup_id, const char *object, int status, void *payload)
{
    vt_arm *a = payload;
    (void)backup_id;
    (void)status;
    if (!a->armed++)
        vt_arm_lists(a, object, 2);
}

static void test_verify__transient(void **state)
{
    (void)state;
    vt *t = vt_build(1);
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    vt_fail_each_once(t);
    /* twice: unreadable, and the read error (not damage) once everything was checked */
    char *name = vt_name(t, 1, 1, NULL);
    assert_int_equal(cb_mem_store_fail_object(t->store, t->layer[1]->container, name, 2, CB_ENET),
                     0);
    assert_int_equal(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), CB_ENET);
    assert_cb_error(&err, CB_ENET, "nothing damaged");
    vt_assert_one(r, t, 1, name, "unreadable");
    assert_int_equal(r->problems[0].code, CB_ENET);
    assert_int_equal(r->objects_read, vt_objects(t, 2));
    assert_true(r->complete);
    cb_verify_report_free(r);
    /* a hash list that cannot be read twice once the data is being read: a problem of its
     * own, and its backup's objects are still read (their MD5s) */
    vt_arm arm = { .t = t };
    cb_verify_opts o = CB_VERIFY_OPTS_INIT;
    o.read_data = 1;
    o.threads = 1;
    o.on_object = vt_fail_lists;
    o.on_object_payload = &arm;
    cb_error_clear(&err);
    assert_int_equal(cb_verify(t->store, NULL, 0, &o, &r, &err), CB_ENET);
    vt_arm_lists(&arm, NULL, 0);
    assert_int_equal(r->objects_read, vt_objects(t, 2));
    assert_int_equal(r->n_problems, 2); /* the lists of the two backups read after the first */
    for (size_t i = 0; i < r->n_problems; i++) {
        assert_non_null(strstr(r->problems[i].object, "_sha256file"));
        assert_int_equal(r->problems[i].code, CB_ENET);
    }
    cb_verify_report_free(r);
    /* with damage elsewhere, damage it is */
    size_t len;
    char *bad = vt_name(t, 0, 3, NULL);
    free(vt_flip(t, 0, bad, &len));
    assert_int_equal(cb_mem_store_fail_object(t->store, t->layer[1]->container, name, 2, CB_ENET),
                     0);
    cb_error_clear(&err);
    assert_int_equal(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    assert_cb_error(&err, CB_ECORRUPT, bad);
    assert_int_equal(r->n_problems, 2);
    cb_verify_report_free(r);
    free(bad);
    free(name);
    vt_free(t);
}

/* Lists streamed in step with the objects instead of held: the same findings, and a
 * stream that fails is opened again. */
static void test_verify__streamed_lists(void **state)
{
    (void)state;
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    vt *t = vt_build_sha(1, 512); /* lists longer than one read: the streams are pumped */
    t->hold = 0;
    assert_cb_ok(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), &err);
    assert_int_equal(r->objects_read, vt_objects(t, 2));
    cb_verify_report_free(r);
    vt_fail_each_once(t);
    vt_edit_json(t, 2, "_sha256file", vt_change_sha2);
    char *name = vt_name(t, 2, 1, NULL);
    assert_int_equal(vt_verify(t, t->layer[2]->backup_id, 1, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    vt_assert_one(r, t, 2, name, "sha block at volume offset 1024 differs from entry 2");
    cb_verify_report_free(r);
    free(name);
    vt_free(t);
}

/* Cancels from its `n`th call on. */
static int vt_cancel_from(void *payload)
{
    int *n = payload;
    return --*n <= 0;
}

/* Cancelled while the structure is checked, or while the data is read: CB_ECANCELED and
 * a report that says it is not complete. */
static void test_verify__cancel(void **state)
{
    (void)state;
    vt *t = vt_build(1);
    for (int from = 1; from <= VT_LAYERS + 1; from += VT_LAYERS) {
        cb_verify_opts o = CB_VERIFY_OPTS_INIT;
        cb_verify_report *r = NULL;
        cb_error err = { 0 };
        int calls = from; /* polled once per backup, then before reading */
        o.read_data = 1;
        o.cancel = vt_cancel_from;
        o.cancel_payload = &calls;
        assert_int_equal(cb_verify(t->store, NULL, 0, &o, &r, &err), CB_ECANCELED);
        assert_cb_error(&err, CB_ECANCELED, "verify cancelled");
        assert_false(r->complete);
        assert_int_equal(r->objects_read, 0);
        cb_verify_report_free(r);
    }
    vt_free(t);
}

static int vt_restore(vt *t, int layer, int verify, cb_error *err)
{
    cb_restore_opts o = CB_RESTORE_OPTS_INIT;
    o.overwrite = 1;
    o.verify = verify;
    o.threads = 2;
    unlink(t->out);
    return cb_restore(t->store, t->layer[layer]->backup_id, t->out, &o, err);
}

static void vt_assert_restored(vt *t, int layer)
{
    FILE *f = fopen(t->out, "rb");
    assert_non_null(f);
    unsigned char *got = malloc(VT_VOL + 1);
    assert_int_equal(fread(got, 1, VT_VOL + 1, f), VT_VOL);
    fclose(f);
    assert_memory_equal(got, t->want[layer], VT_VOL);
    free(got);
}

static void vt_keep_200_shas(json_t *doc, const vt *t)
{
    (void)t;
    json_t *shas = json_object_get(doc, "sha256s");
    while (json_array_size(shas) > 200)
        assert_int_equal(json_array_remove(shas, json_array_size(shas) - 1), 0);
}

static void test_verify__restore_verify(void **state)
{
    (void)state;
    vt *t = vt_build(0);
    cb_error err = { 0 };
    for (int k = 0; k < VT_LAYERS; k++) {
        assert_cb_ok(vt_restore(t, k, 1, &err), &err);
        vt_assert_restored(t, k);
    }
    /* one entry of the list changed, the data intact: restore passes on the MD5s, the
     * read-back compares with the list and names the block */
    char *list2 = vt_name(t, 2, 0, "_sha256file");
    size_t len2;
    unsigned char *orig2 = vt_get(t, 2, list2, &len2);
    vt_edit_json(t, 2, "_sha256file", vt_change_sha5);
    assert_cb_ok(vt_restore(t, 2, 0, &err), &err);
    vt_assert_restored(t, 2);
    assert_int_equal(vt_restore(t, 2, 1, &err), CB_ECORRUPT);
    assert_cb_error(&err, CB_ECORRUPT, "at byte offset 20480 (sha block 5)");
    assert_non_null(strstr(err.msg, "stays"));
    vt_assert_restored(t, 2);
    vt_put(t, 2, list2, orig2, len2);
    free(orig2);
    free(list2);
    /* no list: a full backup falls back to its objects' MD5s, a chain cannot be verified */
    char *list = vt_name(t, 0, 0, "_sha256file");
    assert_cb_ok(cb_store_delete_object(t->store, t->layer[0]->container, list, 0, &err), &err);
    assert_cb_ok(vt_restore(t, 0, 1, &err), &err);
    vt_assert_restored(t, 0);
    free(list);
    /* (an incremental without a list cannot even be restored: its size comes from it; one
     * whose list lost its last entries restores what its own objects reach) */
    vt_edit_json(t, 2, "_sha256file", vt_keep_200_shas);
    assert_cb_ok(vt_restore(t, 2, 0, &err), &err);
    cb_error_clear(&err);
    assert_int_equal(vt_restore(t, 2, 1, &err), CB_ECORRUPT);
    assert_cb_error(&err, CB_ECORRUPT, "cannot verify");
    assert_non_null(strstr(err.msg, "too short"));
    vt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify__subsets),        cmocka_unit_test(test_verify__transient),
        cmocka_unit_test(test_verify__streamed_lists), cmocka_unit_test(test_verify__cancel),
        cmocka_unit_test(test_verify__restore_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
