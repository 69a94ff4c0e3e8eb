/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_verify.c: cb_verify()'s findings on the chain of verify_testlib.h: clean, then
 * damaged one way at a time. Each damage must be found, named, and attributed to the
 * backup it is in, without hiding damage in other backups; the structure check must not
 * read a single data object.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../tests/engine/verify_testlib.h"
#include "memstore.h"

static void test_verify__clean(void **state)
{
    (void)state;
    vt *t = vt_build(0);
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    assert_cb_ok(vt_verify(t, NULL, 0, 0, 0, NULL, &r, &err), &err);
    assert_int_equal(r->backups, 3);
    assert_int_equal(r->objects, vt_objects(t, 2));
    assert_int_equal(r->objects_read, 0);
    assert_int_equal(r->n_problems, 0);
    assert_true(r->complete);
    cb_verify_report_free(r);

    assert_cb_ok(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), &err);
    uint64_t bytes = 0;
    for (int k = 0; k < VT_LAYERS; k++)
        bytes += t->layer[k]->data_bytes;
    assert_int_equal(r->objects_read, vt_objects(t, 2));
    assert_int_equal(r->bytes, bytes);
    assert_int_equal(r->retried, 0);
    assert_int_equal(r->n_problems, 0);
    cb_verify_report_free(r);

    /* one id: its whole chain; the full backup: itself */
    assert_cb_ok(vt_verify(t, t->layer[2]->backup_id, 1, 0, 0, NULL, &r, &err), &err);
    assert_int_equal(r->backups, 3);
    assert_int_equal(r->objects_read, vt_objects(t, 2));
    cb_verify_report_free(r);
    assert_cb_ok(vt_verify(t, t->layer[0]->backup_id, 1, 0, 0, NULL, &r, &err), &err);
    assert_int_equal(r->backups, 1);
    assert_int_equal(r->objects_read, vt_objects(t, 0));
    cb_verify_report_free(r);

    const char *unknown = "01234567-89ab-4def-8123-456789abcdef";
    assert_int_equal(vt_verify(t, unknown, 0, 0, 0, NULL, &r, &err), CB_ENOTFOUND);
    assert_cb_error(&err, CB_ENOTFOUND, unknown);
    cb_verify_report_free(r);
    vt_free(t);
}

/* A flipped byte in an object of the full backup (raw, then compressed): found when the
 * data is read (and only then), named, and the only problem. */
static void test_verify__flipped_parent_object(void **state)
{
    (void)state;
    vt *t = vt_build(0);
    const uint64_t objs[] = { 3, 10 }; /* random data stored raw; text compressed */
    for (size_t i = 0; i < 2; i++) {
        cb_verify_report *r = NULL;
        cb_error err = { 0 };
        vt_seen seen = { 0 };
        size_t len;
        char *name = vt_name(t, 0, objs[i], NULL);
        unsigned char *orig = vt_flip(t, 0, name, &len);

        assert_cb_ok(vt_verify(t, t->layer[2]->backup_id, 0, 0, 0, NULL, &r, &err), &err);
        cb_verify_report_free(r);

        assert_int_equal(vt_verify(t, t->layer[2]->backup_id, 1, 0, 0, &seen, &r, &err),
                         CB_ECORRUPT);
        assert_cb_error(&err, CB_ECORRUPT, name);
        assert_non_null(strstr(err.msg, "1 problem found"));
        vt_assert_one(r, t, 0, name, NULL);
        assert_int_equal(r->problems[0].code, CB_ECORRUPT);
        assert_int_equal(seen.n, vt_objects(t, 2));
        assert_int_equal(seen.bad, 1);
        assert_true(r->complete);
        cb_verify_report_free(r);
        vt_seen_free(&seen);

        vt_put(t, 0, name, orig, len);
        assert_cb_ok(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), &err);
        cb_verify_report_free(r);
        free(orig);
        free(name);
    }
    vt_free(t);
}

static void vt_change_md5(json_t *doc, const vt *t)
{
    json_t *entry = json_array_get(json_object_get(doc, "objects"), 0);
    char *name = vt_name(t, 0, 1, NULL);
    json_t *o = json_object_get(entry, name);
    assert_non_null(o);
    json_object_set_new(o, "md5", json_string("00112233445566778899aabbccddeeff"));
    free(name);
}

/* The data intact, but its MD5 in the metadata, or its entry in the list, changed: each
 * check on its own finds the object that no longer agrees. */
static void test_verify__md5_or_list_changed(void **state)
{
    (void)state;
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    vt *t = vt_build(1);
    vt_edit_json(t, 0, "_metadata", vt_change_md5);
    char *name = vt_name(t, 0, 1, NULL);
    assert_int_equal(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    vt_assert_one(r, t, 0, name, "the metadata says 00112233445566778899aabbccddeeff");
    cb_verify_report_free(r);
    free(name);
    vt_free(t);

    /* block 2 is in layer 2's first object */
    t = vt_build(1);
    vt_edit_json(t, 2, "_sha256file", vt_change_sha2);
    name = vt_name(t, 2, 1, NULL);
    cb_error_clear(&err);
    assert_int_equal(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    vt_assert_one(r, t, 2, name, "sha block at volume offset 8192 differs from entry 2");
    assert_non_null(strstr(r->problems[0].message, "the list may be the damaged part"));
    cb_verify_report_free(r);
    free(name);
    vt_free(t);
}

/* Structure only: not one data object is opened. */
static void test_verify__structure_reads_no_data(void **state)
{
    (void)state;
    vt *t = vt_build(1);
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    assert_cb_ok(vt_verify(t, NULL, 0, 0, 0, NULL, &r, &err), &err);
    cb_verify_report_free(r);
    for (int k = 0; k < VT_LAYERS; k++)
        for (uint64_t n = 1; n <= t->layer[k]->object_count; n++) {
            char *name = vt_name(t, k, n, NULL);
            assert_int_equal(cb_mem_store_object_reads(t->store, t->layer[k]->container, name), 0);
            free(name);
        }
    /* reading the data opens each exactly once */
    assert_cb_ok(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), &err);
    cb_verify_report_free(r);
    for (int k = 0; k < VT_LAYERS; k++)
        for (uint64_t n = 1; n <= t->layer[k]->object_count; n++) {
            char *name = vt_name(t, k, n, NULL);
            assert_int_equal(cb_mem_store_object_reads(t->store, t->layer[k]->container, name), 1);
            free(name);
        }
    vt_free(t);
}

static void vt_drop_last_sha(json_t *doc, const vt *t)
{
    (void)t;
    json_t *shas = json_object_get(doc, "sha256s");
    assert_int_equal(json_array_remove(shas, json_array_size(shas) - 1), 0);
}

static void vt_parent_is_newest(json_t *doc, const vt *t)
{
    json_object_set_new(doc, "parent_id", json_string(t->layer[2]->backup_id));
}

/* Damage the structure, one way at a time: each is found without reading data, named,
 * and attributed to its own backup; the others are still checked. */
static void test_verify__structure_damage(void **state)
{
    (void)state;
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    size_t len;

    /* a deleted data object: reading the data does not report it a second time */
    vt *t = vt_build(1);
    char *name = vt_name(t, 1, 2, NULL);
    assert_cb_ok(cb_store_delete_object(t->store, t->layer[1]->container, name, 0, &err), &err);
    for (int read_data = 0; read_data < 2; read_data++) {
        cb_error_clear(&err);
        assert_int_equal(vt_verify(t, NULL, read_data, 0, 0, NULL, &r, &err), CB_ECORRUPT);
        vt_assert_one(r, t, 1, NULL, name);
        cb_verify_report_free(r);
    }
    free(name);
    vt_free(t);

    /* a stray object under a prefix, and a truncated _sha256file in another backup */
    t = vt_build(1);
    name = vt_name(t, 0, 99999, NULL);
    vt_put(t, 0, name, "stray", 5);
    cb_error_clear(&err);
    assert_int_equal(vt_verify(t, NULL, 0, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    vt_assert_one(r, t, 0, NULL, name);
    cb_verify_report_free(r);
    char *list = vt_name(t, 2, 0, "_sha256file");
    unsigned char *text = vt_get(t, 2, list, &len);
    vt_put(t, 2, list, text, len / 2);
    cb_error_clear(&err);
    assert_int_equal(vt_verify(t, NULL, 0, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    assert_non_null(strstr(err.msg, "2 problems found"));
    assert_int_equal(r->n_problems, 2);
    vt_find(r, t, 0, name);
    assert_string_equal(vt_find(r, t, 2, list)->object, list);
    cb_verify_report_free(r);
    free(text);
    free(list);
    free(name);
    vt_free(t);

    /* a _sha256file that parses but lacks its last entry */
    t = vt_build(1);
    vt_edit_json(t, 0, "_sha256file", vt_drop_last_sha);
    list = vt_name(t, 0, 0, "_sha256file");
    cb_error_clear(&err);
    assert_int_equal(vt_verify(t, t->layer[2]->backup_id, 0, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    vt_assert_one(r, t, 0, list, "has 255 entries");
    cb_verify_report_free(r);
    free(list);
    vt_free(t);

    /* a missing parent: a problem of the backup that needs it */
    t = vt_build(1);
    name = vt_name(t, 0, 0, "_metadata");
    assert_cb_ok(cb_store_delete_object(t->store, t->layer[0]->container, name, 0, &err), &err);
    for (int all = 0; all < 2; all++) {
        cb_error_clear(&err);
        assert_int_equal(vt_verify(t, all ? NULL : t->layer[2]->backup_id, 0, 0, 0, NULL, &r, &err),
                         CB_ECORRUPT);
        vt_assert_one(r, t, 1, NULL, "needs its parent");
        assert_int_equal(r->backups, 2);
        cb_verify_report_free(r);
    }
    free(name);
    vt_free(t);

    /* parents that loop: every backup on the loop says so */
    t = vt_build(1);
    vt_edit_json(t, 0, "_metadata", vt_parent_is_newest);
    cb_error_clear(&err);
    assert_int_equal(vt_verify(t, NULL, 0, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    for (int k = 0; k < VT_LAYERS; k++)
        vt_find(r, t, k, "loops");
    cb_verify_report_free(r);
    vt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify__clean),
        cmocka_unit_test(test_verify__flipped_parent_object),
        cmocka_unit_test(test_verify__md5_or_list_changed),
        cmocka_unit_test(test_verify__structure_reads_no_data),
        cmocka_unit_test(test_verify__structure_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
