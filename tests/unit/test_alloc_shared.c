/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alloc_shared.c: the allocation-failure hook is for test programs linking the static
 * archive only. This program links libcinderblock.so and defines a cb__alloc_fails() that
 * fails every allocation: the shared library must neither call it (its own weak definition
 * is hidden and binds locally) nor export any cb__ symbol at all.
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

int cb__alloc_fails(size_t size);

static atomic_int hook_calls;

int cb__alloc_fails(size_t size)
{
    (void)size;
    atomic_fetch_add(&hook_calls, 1);
    return 1;
}

static void test_alloc_shared__hook_is_not_honoured(void **state)
{
    cb_store *store = NULL;
    cb_backup_info **v = NULL;
    size_t n = 9;
    cb_error err = { 0 };
    char url[600];
    (void)state;
    char *dir = tu_mkdtemp("alloc-shared");
    snprintf(url, sizeof(url), "posix:%s", dir);
    assert_cb_ok(cb_store_open(&store, url, NULL, &err), &err);
    assert_cb_ok(cb_backup_list(store, NULL, &v, &n, &err), &err);
    assert_int_equal(n, 0);
    cb_backup_info_free_array(v, n);
    cb_store_free(store);
    assert_int_equal(atomic_load(&hook_calls), 0);
    tu_rmtree(dir);
    free(dir);
}

static void test_alloc_shared__no_internal_symbol_is_exported(void **state)
{
    union {
        const char *(*fn)(void);
        void *p;
    } public_fn = { .fn = cb_version_string };
    Dl_info where;
    (void)state;
    assert_int_not_equal(dladdr(public_fn.p, &where), 0);
    assert_non_null(strstr(where.dli_fname, "libcinderblock.so"));
    void *lib = dlopen(where.dli_fname, RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(lib);
    assert_non_null(dlsym(lib, "cb_version_string"));
    assert_null(dlsym(lib, "cb__alloc_fails"));
    assert_null(dlsym(lib, "cb__malloc"));
    dlclose(lib);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_shared__hook_is_not_honoured),
        cmocka_unit_test(test_alloc_shared__no_internal_symbol_is_exported),
    };
    return cmocka_run_group_tests_name("alloc_shared", tests, NULL, NULL);
}
