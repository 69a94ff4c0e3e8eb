/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_registry.c: the open store interface. Stores registered in-process
 * (cb_store_register), tables of an older or a newer header (struct_size), other ABI
 * versions refused naming both, and plugins that are not what their file name says.
 * tests/store/test-plugin.sh builds and loads a real plugin against the installed headers.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "testutil.h"
#include "cinderblock/sys/store.h"
#include "store/posix/posix.h"

/* ---- a registered store: the posix store under other schemes and other tables ---- */

static int reg_posix(const char *location,
                     const cb_store_opts *opts,
                     const cb_store_ops **ops_out,
                     void **state_out,
                     cb_error *err)
{
    return cb__posix_store_ctor(location, opts, ops_out, state_out, err);
}

static int reg_trap_calls;

static int reg_trap_list_entries(void *state,
                                 const char *container,
                                 const char *prefix,
                                 unsigned int flags,
                                 cb_entry_fn fn,
                                 void *payload,
                                 cb_error *err)
{
    (void)state, (void)container, (void)prefix, (void)flags, (void)fn, (void)payload;
    reg_trap_calls++;
    return cb_error_set(err, CB_ERROR, "a slot beyond struct_size was called");
}

static int reg_trap_home(void *state, char **out, cb_error *err)
{
    (void)state, (void)out;
    reg_trap_calls++;
    return cb_error_set(err, CB_ERROR, "a slot beyond struct_size was called");
}

/* The posix table as a store built against an older header would have it: it ends before
 * list_entries, and what lies beyond in memory must never be read. */
static cb_store_ops reg_old_table;

static int reg_old(const char *location,
                   const cb_store_opts *opts,
                   const cb_store_ops **ops_out,
                   void **state_out,
                   cb_error *err)
{
    const cb_store_ops *posix;
    int rc = cb__posix_store_ctor(location, opts, &posix, state_out, err);
    if (rc < 0)
        return rc;
    reg_old_table = *posix;
    reg_old_table.struct_size = offsetof(cb_store_ops, list_entries);
    reg_old_table.list_entries = reg_trap_list_entries;
    reg_old_table.home_container = reg_trap_home;
    *ops_out = &reg_old_table;
    return 0;
}

/* A store built against a newer header: its table goes on beyond this library's slots. */
static struct {
    cb_store_ops ops;
    void (*newer_slots[4])(void);
} reg_new_table;

static int reg_new(const char *location,
                   const cb_store_opts *opts,
                   const cb_store_ops **ops_out,
                   void **state_out,
                   cb_error *err)
{
    const cb_store_ops *posix;
    int rc = cb__posix_store_ctor(location, opts, &posix, state_out, err);
    if (rc < 0)
        return rc;
    reg_new_table.ops = *posix;
    reg_new_table.ops.struct_size = sizeof(reg_new_table);
    *ops_out = &reg_new_table.ops;
    return 0;
}

/* A store whose writers are not what the library needs: none at all ("none"), or one without
 * close ("noclose", which must still be freed). */
static int reg_bad_frees;

static int reg_bad_write(cb_writer *w, const void *buf, size_t len, cb_error *err)
{
    (void)w, (void)buf, (void)len, (void)err;
    return 0;
}

static void reg_bad_free(cb_writer *w)
{
    reg_bad_frees++;
    free(w);
}

static const cb_writer_ops reg_bad_writer_ops = {
    CB_WRITER_OPS_INIT,
    .write = reg_bad_write,
    .free = reg_bad_free,
};

static int reg_bad_open_writer(void *state,
                               const char *container,
                               const char *name,
                               const char *extra_metadata,
                               unsigned int flags,
                               cb_writer **out,
                               cb_error *err)
{
    (void)state, (void)container, (void)extra_metadata, (void)flags, (void)err;
    if (strcmp(name, "none") == 0)
        return 0;
    cb_writer *w = calloc(1, sizeof(*w));
    w->ops = &reg_bad_writer_ops;
    *out = w;
    return 0;
}

static cb_store_ops reg_bad_table;

static int reg_bad(const char *location,
                   const cb_store_opts *opts,
                   const cb_store_ops **ops_out,
                   void **state_out,
                   cb_error *err)
{
    const cb_store_ops *posix;
    int rc = cb__posix_store_ctor(location, opts, &posix, state_out, err);
    if (rc < 0)
        return rc;
    reg_bad_table = *posix;
    reg_bad_table.open_writer = reg_bad_open_writer;
    *ops_out = &reg_bad_table;
    return 0;
}

/* A table of another ABI version: nothing in it but its version may be read. */
static struct {
    unsigned int abi_version;
    char garbage[64];
} reg_other_abi = { CB_STORE_ABI_VERSION + 1, { 0 } };

static int reg_other(const char *location,
                     const cb_store_opts *opts,
                     const cb_store_ops **ops_out,
                     void **state_out,
                     cb_error *err)
{
    (void)location, (void)opts, (void)err;
    memset(reg_other_abi.garbage, 0xa5, sizeof(reg_other_abi.garbage));
    *ops_out = (const cb_store_ops *)(void *)&reg_other_abi;
    *state_out = NULL;
    return 0;
}

static int reg_entries(const cb_entry *e, void *payload)
{
    int64_t *size = payload;
    (void)e;
    *size = e->size;
    return 0;
}

typedef struct reg_ctx {
    char *dir;
    char url[600];
} reg_ctx;

static int reg_setup(void **state)
{
    static int registered;
    cb_error err = { 0 };
    const cb_store_plugin plugins[] = {
        { CB_STORE_PLUGIN_INIT, .scheme = "regtest", .open = reg_posix },
        { CB_STORE_PLUGIN_INIT, .scheme = "reg-old", .open = reg_old },
        { CB_STORE_PLUGIN_INIT, .scheme = "reg.new", .open = reg_new },
        { CB_STORE_PLUGIN_INIT, .scheme = "reg+other", .open = reg_other },
        { CB_STORE_PLUGIN_INIT, .scheme = "reg-bad", .open = reg_bad },
    };
    for (size_t i = 0; !registered && i < sizeof(plugins) / sizeof(plugins[0]); i++)
        if (cb_store_register(&plugins[i], &err) < 0) {
            print_error("cb_store_register: %s\n", err.msg);
            return -1;
        }
    registered = 1;
    reg_ctx *c = calloc(1, sizeof(*c));
    c->dir = tu_mkdtemp("registry");
    *state = c;
    return 0;
}

static int reg_teardown(void **state)
{
    reg_ctx *c = *state;
    tu_rmtree(c->dir);
    free(c->dir);
    free(c);
    return 0;
}

static void test_registry__register_and_open(void **state)
{
    reg_ctx *c = *state;
    const char *forms[] = { "regtest://", "regtest:" };
    for (size_t i = 0; i < 2; i++) {
        cb_error err = { 0 };
        cb_store *s = NULL;
        char *data = NULL;
        size_t len;
        snprintf(c->url, sizeof(c->url), "%s%s", forms[i], c->dir);
        assert_cb_ok(cb_store_open(&s, c->url, NULL, &err), &err);
        assert_string_equal(cb_store_get_info(s)->name, "posix");
        assert_cb_ok(cb_store_put_container(s, "c", 0, &err), &err);
        assert_cb_ok(cb_store_write_all(s, "c", "o", "reg", 3, &err), &err);
        assert_cb_ok(cb_store_read_all(s, "c", "o", 10, &data, &len, &err), &err);
        assert_int_equal(len, 3);
        free(data);
        cb_store_free(s);
    }
}

static void test_registry__refused(void **state)
{
    cb_error err = { 0 };
    (void)state;
    cb_store_plugin again = { CB_STORE_PLUGIN_INIT, .scheme = "regtest", .open = reg_posix };
    assert_int_equal(cb_store_register(&again, &err), CB_EEXISTS);
    assert_cb_error(&err, CB_EEXISTS, "a store 'regtest' is already registered");

    cb_error_clear(&err);
    cb_store_plugin builtin = { CB_STORE_PLUGIN_INIT, .scheme = "posix", .open = reg_posix };
    assert_int_equal(cb_store_register(&builtin, &err), CB_EEXISTS);
    assert_cb_error(&err, CB_EEXISTS, "store 'posix' is built in");

    static const char *const bad[] = { "", "9lives", "a/b", "a:b", "sp ace" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cb_error_clear(&err);
        cb_store_plugin p = { CB_STORE_PLUGIN_INIT, .scheme = bad[i], .open = reg_posix };
        assert_int_equal(cb_store_register(&p, &err), CB_EINVAL);
        assert_cb_error(&err, CB_EINVAL, "is not a URL scheme");
    }
    cb_error_clear(&err);
    cb_store_plugin noopen = { CB_STORE_PLUGIN_INIT, .scheme = "noopen" };
    assert_int_equal(cb_store_register(&noopen, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "lacks a scheme or open");
    cb_error_clear(&err);
    assert_int_equal(cb_store_register(NULL, &err), CB_EINVAL);
}

/* Another ABI version is refused, naming both; nothing past the version is read. */
static void test_registry__other_abi_refused(void **state)
{
    cb_error err = { 0 };
    cb_store *s = NULL;
    char want[100];
    (void)state;
    cb_store_plugin p = { CB_STORE_PLUGIN_INIT, .scheme = "future", .open = reg_posix };
    p.abi_version = CB_STORE_ABI_VERSION + 1;
    assert_int_equal(cb_store_register(&p, &err), CB_EINVAL);
    snprintf(want, sizeof(want), "was built for store ABI version %d;", CB_STORE_ABI_VERSION + 1);
    assert_cb_error(&err, CB_EINVAL, want);
    snprintf(want, sizeof(want), "has store ABI version %d", CB_STORE_ABI_VERSION);
    assert_cb_error(&err, CB_EINVAL, want);

    /* and an ops table of another version coming out of a constructor */
    cb_error_clear(&err);
    assert_int_equal(cb_store_open(&s, "reg+other://x", NULL, &err), CB_EINVAL);
    assert_null(s);
    snprintf(want, sizeof(want), "built for store ABI version %d;", CB_STORE_ABI_VERSION + 1);
    assert_cb_error(&err, CB_EINVAL, want);
}

/* A table from an older header ends early: the slots it lacks take their defaults, however
 * its memory beyond struct_size looks. */
static void test_registry__older_table(void **state)
{
    reg_ctx *c = *state;
    cb_error err = { 0 };
    cb_store *s = NULL;
    char *home = NULL;
    int64_t size = 0;
    snprintf(c->url, sizeof(c->url), "reg-old://%s", c->dir);
    reg_trap_calls = 0;
    assert_cb_ok(cb_store_open(&s, c->url, NULL, &err), &err);
    assert_cb_ok(cb_store_put_container(s, "c", 0, &err), &err);
    assert_cb_ok(cb_store_write_all(s, "c", "o", "old", 3, &err), &err);
    /* list_entries: emulated from list, sizes unknown */
    assert_cb_ok(cb_store_list_entries(s, "c", "", 0, reg_entries, &size, &err), &err);
    assert_int_equal(size, -1);
    /* home_container: update_container_name(nil UUID, NULL), posix's id[0:2]/id[2:4]/id */
    assert_cb_ok(cb_store_home_container(s, &home, &err), &err);
    assert_string_equal(home, "00/00/00000000-0000-0000-0000-000000000000");
    free(home);
    assert_int_equal(reg_trap_calls, 0);
    cb_store_free(s);
}

/* A table from a newer header is longer: this library uses the slots it knows. */
static void test_registry__newer_table(void **state)
{
    reg_ctx *c = *state;
    cb_error err = { 0 };
    cb_store *s = NULL;
    char *home = NULL;
    int64_t size = 0;
    snprintf(c->url, sizeof(c->url), "reg.new://%s", c->dir);
    assert_cb_ok(cb_store_open(&s, c->url, NULL, &err), &err);
    assert_cb_ok(cb_store_put_container(s, "c", 0, &err), &err);
    assert_cb_ok(cb_store_write_all(s, "c", "o", "new", 3, &err), &err);
    assert_cb_ok(cb_store_list_entries(s, "c", "", 0, reg_entries, &size, &err), &err);
    assert_int_equal(size, 3);
    assert_cb_ok(cb_store_home_container(s, &home, &err), &err);
    assert_string_equal(home, "");
    free(home);
    cb_store_free(s);
}

/* A writer the library cannot drive is refused at open, and freed when it can be. */
static void test_registry__bad_writer_refused(void **state)
{
    reg_ctx *c = *state;
    cb_error err = { 0 };
    cb_store *s = NULL;
    cb_writer *w = NULL;
    snprintf(c->url, sizeof(c->url), "reg-bad://%s", c->dir);
    assert_cb_ok(cb_store_open(&s, c->url, NULL, &err), &err);
    assert_int_equal(cb_store_open_writer(s, "c", "none", NULL, 0, &w, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "open_writer gave no writer");
    assert_null(w);
    cb_error_clear(&err);
    reg_bad_frees = 0;
    assert_int_equal(cb_store_open_writer(s, "c", "noclose", NULL, 0, &w, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "without write, close or free");
    assert_null(w);
    assert_int_equal(reg_bad_frees, 1);
    cb_store_free(s);
}

/* ---- plugins on disk ---- */

typedef struct reg_env {
    const char *plugin_path;
} reg_env;

static const char *reg_getenv(const char *name, void *payload)
{
    reg_env *e = payload;
    return strcmp(name, "CINDERBLOCK_PLUGIN_PATH") == 0 ? e->plugin_path : NULL;
}

static int reg_open_with_path(const char *url, const char *path, cb_error *err)
{
    cb_store_opts opts = CB_STORE_OPTS_INIT;
    reg_env env = { path };
    cb_store *s = NULL;
    opts.getenv = reg_getenv;
    opts.getenv_payload = &env;
    int rc = cb_store_open(&s, url, &opts, err);
    cb_store_free(s);
    return rc;
}

static void test_registry__unknown_scheme(void **state)
{
    reg_ctx *c = *state;
    cb_error err = { 0 };
    char path[800];
    snprintf(path, sizeof(path), "%s/none:%s/nor", c->dir, c->dir);
    assert_int_equal(reg_open_with_path("nosuch:x", path, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "unknown store type 'nosuch'");
    assert_cb_error(&err, CB_EINVAL, "no plugin cinderblock-store-nosuch.so in");
    assert_cb_error(&err, CB_EINVAL, path);
    assert_cb_error(&err, CB_EINVAL, "regtest://"); /* the registered ones are named */
}

/* A file with a plugin's name that is no plugin is an error, not skipped. */
static void test_registry__not_a_plugin(void **state)
{
    reg_ctx *c = *state;
    cb_error err = { 0 };
    char file[800];
    snprintf(file, sizeof(file), "%s/cinderblock-store-junk.so", c->dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("not an ELF file\n", f);
    fclose(f);
    assert_int_equal(reg_open_with_path("junk://x", c->dir, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "cannot load store plugin '");
    assert_cb_error(&err, CB_EINVAL, file);

    /* shared objects built from plugin_fixture.c: one without the entry point, one that
     * says it is the plugin of another scheme */
    const char *fixtures = getenv("CB_PLUGIN_FIXTURES");
    if (fixtures == NULL)
        return;
    cb_error_clear(&err);
    assert_int_equal(reg_open_with_path("fixture-noentry://x", fixtures, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL,
                    "is not a cinderblock store plugin: it has no "
                    "cb_store_plugin_init()");
    cb_error_clear(&err);
    assert_int_equal(reg_open_with_path("fixture-other://x", fixtures, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "is the plugin of store 'elsewhere', not of 'fixture-other'");
    /* the first directory with the file wins: a good plugin behind a bad one is not reached */
    char both[1600];
    snprintf(both, sizeof(both), "%s:%s", c->dir, fixtures);
    cb_error_clear(&err);
    assert_int_equal(reg_open_with_path("junk://x", both, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registry__register_and_open, reg_setup, reg_teardown),
        cmocka_unit_test_setup_teardown(test_registry__refused, reg_setup, reg_teardown),
        cmocka_unit_test_setup_teardown(test_registry__other_abi_refused, reg_setup, reg_teardown),
        cmocka_unit_test_setup_teardown(test_registry__older_table, reg_setup, reg_teardown),
        cmocka_unit_test_setup_teardown(test_registry__newer_table, reg_setup, reg_teardown),
        cmocka_unit_test_setup_teardown(test_registry__bad_writer_refused, reg_setup, reg_teardown),
        cmocka_unit_test_setup_teardown(test_registry__unknown_scheme, reg_setup, reg_teardown),
        cmocka_unit_test_setup_teardown(test_registry__not_a_plugin, reg_setup, reg_teardown),
    };
    return cmocka_run_group_tests_name("store registry", tests, NULL, NULL);
}
