/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_resolve.c: cb_backup_resolve_id, through the public API on a posix store: a whole
 * id, a unique prefix of 8 characters, one too short, an ambiguous one (both named), one
 * matching nothing; and cb_backup_list's stored_bytes, the sizes the store lists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#define ID_A "1234abcd-0000-4000-8000-00000000000a"
#define ID_B "1234abcd-1111-4000-8000-00000000000b"

typedef struct rs {
    cb_store *store;
    char *dir;
    char vol[512];
} rs;

static int rs_setup(void **state)
{
    rs *r = calloc(1, sizeof(*r));
    cb_error err = { 0 };
    char root[600];
    static const char data[] = "a small volume, backed up twice";
    r->dir = tu_mkdtemp("resolve");
    snprintf(r->vol, sizeof(r->vol), "%s/volume.img", r->dir);
    snprintf(root, sizeof(root), "%s/store", r->dir);
    if (mkdir(root, 0700) < 0 || cb_store_open(&r->store, root, NULL, &err) < 0)
        return -1;
    const char *ids[] = { ID_A, ID_B };
    for (size_t i = 0; i < 2; i++) {
        cb_backup_opts o = CB_BACKUP_OPTS_INIT;
        char id[40];
        o.backup_id = ids[i];
        if (tu_backup(r->store, r->vol, data, sizeof(data), &o, id, &err) < 0)
            return -1;
    }
    *state = r;
    return 0;
}

static int rs_teardown(void **state)
{
    rs *r = *state;
    cb_store_free(r->store);
    tu_rmtree(r->dir);
    free(r->dir);
    free(r);
    return 0;
}

static void test_resolve__whole_and_unique(void **state)
{
    rs *r = *state;
    cb_error err = { 0 };
    char *full = NULL;
    assert_cb_ok(cb_backup_resolve_id(r->store, "1234ABCD-1", &full, &err), &err);
    assert_string_equal(full, ID_B);
    free(full);
    assert_cb_ok(cb_backup_resolve_id(r->store, "1234abcd-0000", &full, &err), &err);
    assert_string_equal(full, ID_A);
    free(full);
    /* a whole id is normalised, not looked for: the command says whether it exists */
    assert_cb_ok(
        cb_backup_resolve_id(r->store, "99999999-0000-4000-8000-00000000000F", &full, &err), &err);
    assert_string_equal(full, "99999999-0000-4000-8000-00000000000f");
    free(full);
}

static void test_resolve__refused(void **state)
{
    rs *r = *state;
    cb_error err = { 0 };
    char *full = (char *)"untouched";
    assert_int_equal(cb_backup_resolve_id(r->store, "1234abc", &full, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "'1234abc' is too short: give at least 8 characters");
    assert_null(full);
    cb_error_clear(&err);
    assert_int_equal(cb_backup_resolve_id(r->store, "1234abcd", &full, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "'1234abcd' is ambiguous: 2 backups start with it");
    assert_non_null(strstr(err.msg, ID_A));
    assert_non_null(strstr(err.msg, ID_B));
    assert_null(full);
    cb_error_clear(&err);
    assert_int_equal(cb_backup_resolve_id(r->store, "abcdef01", &full, &err), CB_ENOTFOUND);
    assert_cb_error(&err, CB_ENOTFOUND, "no backup id in the store starts with 'abcdef01'");
    cb_error_clear(&err);
    assert_int_equal(cb_backup_resolve_id(r->store, "1234abcz", &full, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "'1234abcz' is not a UUID or the beginning of one");
}

/* stored_bytes: what the store lists for each backup's objects, all of them */
static void test_resolve__list_stored_bytes(void **state)
{
    rs *r = *state;
    cb_error err = { 0 };
    cb_backup_info **v = NULL;
    size_t n = 0;
    assert_cb_ok(cb_backup_list(r->store, NULL, &v, &n, &err), &err);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        /* _metadata, _sha256file and the data object: more than the data alone */
        assert_true(v[i]->stored_bytes > 0);
        assert_true(v[i]->stored_bytes > v[i]->data_bytes);
        assert_true(v[i]->stored_bytes < 64 * 1024);
    }
    cb_backup_info_free_array(v, n);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, rs_setup, rs_teardown)
    const struct CMUnitTest tests[] = {
        T(test_resolve__whole_and_unique),
        T(test_resolve__refused),
        T(test_resolve__list_stored_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
