/* SPDX-License-Identifier: Apache-2.0 */
/* test_memstore.c: the mem store counts calls and fails the Nth call on demand; the store
 * wrappers enforce the writer state machine. */
#include <stdlib.h>

#include "testutil.h"
#include "memstore.h"

static int mem_setup(void **state)
{
    cb_store *s = NULL;
    cb_error err = { 0 };
    cb_mem_store_use();
    if (cb_store_open(&s, "mem:", NULL, &err) < 0 || cb_store_put_container(s, "c", 0, &err) < 0)
        return -1;
    *state = s;
    return 0;
}

static int mem_teardown(void **state)
{
    cb_store_free(*state);
    return 0;
}

static void test_mem__counts_calls(void **state)
{
    cb_store *s = *state;
    cb_error err = { 0 };
    assert_int_equal(cb_mem_store_calls(s, CB_MEM_PUT_CONTAINER), 1);
    assert_cb_ok(cb_store_write_all(s, "c", "a", "x", 1, &err), &err);
    assert_int_equal(cb_mem_store_calls(s, CB_MEM_OPEN_WRITER), 1);
    assert_int_equal(cb_mem_store_calls(s, CB_MEM_WRITE), 1);
    assert_int_equal(cb_mem_store_calls(s, CB_MEM_CLOSE), 1);
    assert_int_equal(cb_mem_store_calls(s, CB_MEM_ANY), 4);
    assert_int_equal(cb_mem_store_count(s), 1);
}

static void test_mem__fails_nth_call(void **state)
{
    cb_store *s = *state;
    cb_error err = { 0 };
    cb_mem_store_fail(s, CB_MEM_CLOSE, 2, CB_ENET);
    assert_cb_ok(cb_store_write_all(s, "c", "one", "1", 1, &err), &err);
    assert_int_equal(cb_store_write_all(s, "c", "two", "2", 1, &err), CB_ENET);
    assert_cb_error(&err, CB_ENET, "injected failure of close call 2");
    /* the failed close committed nothing */
    unsigned char *data;
    size_t len;
    assert_int_equal(cb_mem_store_object(s, "c", "two", &data, &len), CB_ENOTFOUND);
    cb_error_clear(&err);
    assert_cb_ok(cb_store_write_all(s, "c", "three", "3", 1, &err), &err);
    /* any operation */
    cb_mem_store_fail(s, CB_MEM_ANY, 1, CB_EIO);
    assert_int_equal(cb_store_delete_object(s, "c", "one", 0, &err), CB_EIO);
    assert_cb_error(&err, CB_EIO, "delete_object");
}

static void test_mem__writer_state_machine(void **state)
{
    cb_store *s = *state;
    cb_error err = { 0 };
    cb_writer *w = NULL;
    cb_mem_store_fail(s, CB_MEM_WRITE, 1, CB_EIO);
    assert_cb_ok(cb_store_open_writer(s, "c", "w", NULL, 0, &w, &err), &err);
    assert_int_equal(cb_writer_write(w, "a", 1, &err), CB_EIO);
    cb_error_clear(&err);
    /* after an error only close and free are legal, and close refuses to commit */
    assert_int_equal(cb_writer_write(w, "b", 1, &err), CB_EINVAL);
    cb_error_clear(&err);
    assert_int_equal(cb_writer_close(w, &err), CB_EINVAL);
    cb_writer_free(w);
    unsigned char *data;
    size_t len;
    assert_int_equal(cb_mem_store_object(s, "c", "w", &data, &len), CB_ENOTFOUND);
}

static int mem_count_entry(const cb_entry *e, void *payload)
{
    (void)e;
    (*(int *)payload)++;
    return 0;
}

/* The operations added for locks (list_entries, home_container, exclusive writes) are
 * counted and fail on demand like the others. */
static void test_mem__new_ops_counted(void **state)
{
    cb_store *s = *state;
    cb_error err = { 0 };
    char *home = NULL;
    int n = 0;
    assert_cb_ok(cb_store_write_all(s, "c", "a", "x", 1, &err), &err);
    assert_cb_ok(cb_store_list_entries(s, "c", "", 0, mem_count_entry, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_int_equal(cb_mem_store_calls(s, CB_MEM_LIST_ENTRIES), 1);
    assert_int_equal(cb_mem_store_calls(s, CB_MEM_LIST), 0);
    cb_mem_store_fail(s, CB_MEM_LIST_ENTRIES, 1, CB_ENET);
    assert_int_equal(cb_store_list_entries(s, "c", "", 0, mem_count_entry, &n, &err), CB_ENET);
    assert_cb_error(&err, CB_ENET, "injected failure of list_entries call 2");
    cb_error_clear(&err);
    assert_cb_ok(cb_store_home_container(s, &home, &err), &err);
    assert_string_equal(home, "backups");
    free(home);
    assert_int_equal(cb_mem_store_calls(s, CB_MEM_HOME_CONTAINER), 1);
    cb_mem_store_fail(s, CB_MEM_HOME_CONTAINER, 1, CB_EIO);
    assert_int_equal(cb_store_home_container(s, &home, &err), CB_EIO);
    assert_null(home);
    assert_cb_error(&err, CB_EIO, "injected failure of home_container call 2");
}

static void test_mem__first_error_wins(void **state)
{
    (void)state;
    cb_error err = { 0 };
    assert_int_equal(cb_error_set(&err, CB_ENOTFOUND, "first %d", 1), CB_ENOTFOUND);
    assert_int_equal(cb_error_set(&err, CB_EIO, "second"), CB_EIO);
    assert_cb_error(&err, CB_ENOTFOUND, "first 1");
    cb_error_clear(&err);
    cb_error_set_sys(&err, CB_EIO, 2, "opening '%s'", "x");
    assert_cb_error(&err, CB_EIO, "opening 'x': No such file or directory");
    assert_int_equal(err.sys_errno, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mem__counts_calls, mem_setup, mem_teardown),
        cmocka_unit_test_setup_teardown(test_mem__fails_nth_call, mem_setup, mem_teardown),
        cmocka_unit_test_setup_teardown(test_mem__writer_state_machine, mem_setup, mem_teardown),
        cmocka_unit_test_setup_teardown(test_mem__new_ops_counted, mem_setup, mem_teardown),
        cmocka_unit_test(test_mem__first_error_wins),
    };
    return cmocka_run_group_tests_name("mem store and errors", tests, NULL, NULL);
}
