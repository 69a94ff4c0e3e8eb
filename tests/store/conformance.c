/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conformance.c: the behaviour every store must have. Runs against the store named by
 * $CB_STORE_URL ("posix-temp" makes a fresh directory; "mem:"; "swift://...", "s3://..." with
 * their credentials in the environment). Each run works in its own new container.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

typedef struct conf_ctx {
    cb_store *store;
    char container[64];
    char *tmpdir; /* posix-temp only */
} conf_ctx;

static conf_ctx g_ctx; /* the suite's one store; set up once for the group */

static int conf_setup(void **state)
{
    const char *url = getenv("CB_STORE_URL");
    char buf[512];
    cb_error err = { 0 };
    cb_store_opts opts = CB_STORE_OPTS_INIT;

    if (url == NULL || strcmp(url, "posix-temp") == 0) {
        g_ctx.tmpdir = tu_mkdtemp("conformance");
        snprintf(buf, sizeof(buf), "posix:%s", g_ctx.tmpdir);
        url = buf;
    }
    opts.retry_backoff = 0.2;
    if (cb_store_open(&g_ctx.store, url, &opts, &err) < 0) {
        print_error("cannot open store %s: %s\n", url, err.msg);
        return -1;
    }
    /* a bucket-like name: lowercase, digits and '-' suit Swift, S3 and posix */
    char hex[17];
    tu_random_hex(hex, 16);
    snprintf(g_ctx.container, sizeof(g_ctx.container), "cbconf-%s", hex);
    if (getenv("CB_STORE_CONTAINER") != NULL)
        snprintf(g_ctx.container, sizeof(g_ctx.container), "%s", getenv("CB_STORE_CONTAINER"));
    if (cb_store_put_container(g_ctx.store, g_ctx.container, 0, &err) < 0) {
        print_error("put_container: %s\n", err.msg);
        return -1;
    }
    *state = &g_ctx;
    return 0;
}

static int conf_teardown(void **state)
{
    (void)state;
    cb_store_free(g_ctx.store);
    tu_rmtree(g_ctx.tmpdir);
    free(g_ctx.tmpdir);
    return 0;
}

/* ---- helpers ---- */

typedef struct name_set {
    char *names[64];
    size_t n;
} name_set;

static int conf_collect(const char *name, void *payload)
{
    name_set *s = payload;
    if (s->n < 64)
        s->names[s->n++] = strdup(name);
    return 0;
}

static int conf_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void conf_list(conf_ctx *c, const char *prefix, name_set *s)
{
    cb_error err = { 0 };
    memset(s, 0, sizeof(*s));
    assert_cb_ok(cb_store_list(c->store, c->container, prefix, 0, conf_collect, s, &err), &err);
    qsort(s->names, s->n, sizeof(s->names[0]), conf_cmp);
}

static void conf_free_set(name_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->names[i]);
    s->n = 0;
}

/* Assert the listing of `prefix` is exactly the NULL-terminated, sorted `want`. */
static void conf_expect_list(conf_ctx *c, const char *prefix, const char *const *want)
{
    name_set s;
    size_t n = 0;
    conf_list(c, prefix, &s);
    while (want[n] != NULL)
        n++;
    if (s.n != n) {
        for (size_t i = 0; i < s.n; i++)
            print_error("listed under '%s': %s\n", prefix, s.names[i]);
    }
    assert_int_equal(s.n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(s.names[i], want[i]);
    conf_free_set(&s);
}

static void conf_put(conf_ctx *c, const char *name, const void *data, size_t len)
{
    cb_error err = { 0 };
    assert_cb_ok(cb_store_write_all(c->store, c->container, name, data, len, &err), &err);
}

static void conf_delete(conf_ctx *c, const char *name)
{
    cb_error err = { 0 };
    assert_cb_ok(cb_store_delete_object(c->store, c->container, name, 0, &err), &err);
}

/* Write `len` pseudo-random bytes in uneven pieces, read them back in other pieces. */
static void conf_round_trip(conf_ctx *c, const char *name, size_t len, uint64_t seed)
{
    cb_error err = { 0 };
    cb_writer *w = NULL;
    cb_reader *r = NULL;
    unsigned char *data = malloc(len + 1), *back = malloc(len + 1);
    size_t pos = 0, piece = 1;

    assert_non_null(data);
    assert_non_null(back);
    tu_fill_random(data, len, seed);
    assert_cb_ok(cb_store_open_writer(c->store, c->container, name, NULL, 0, &w, &err), &err);
    while (pos < len) {
        size_t n = len - pos < piece ? len - pos : piece;
        assert_cb_ok(cb_writer_write(w, data + pos, n, &err), &err);
        pos += n;
        piece = piece * 3 + 7; /* uneven pieces find buffering bugs */
    }
    assert_cb_ok(cb_writer_close(w, &err), &err);
    cb_writer_free(w);

    assert_cb_ok(cb_store_open_reader(c->store, c->container, name, NULL, 0, &r, &err), &err);
    pos = 0;
    for (;;) {
        size_t n, cap = len + 1 - pos < 1000003 ? len + 1 - pos : 1000003;
        assert_cb_ok(cb_reader_read(r, back + pos, cap, &n, &err), &err);
        if (n == 0)
            break;
        pos += n;
        assert_true(pos <= len);
    }
    cb_reader_free(r);
    assert_int_equal(pos, len);
    assert_memory_equal(data, back, len);
    conf_delete(c, name);
    free(data);
    free(back);
}

/* ---- the tests ---- */

static void test_conformance__container_twice(void **state)
{
    conf_ctx *c = *state;
    cb_error err = { 0 };
    assert_cb_ok(cb_store_put_container(c->store, c->container, 0, &err), &err);
    assert_cb_ok(cb_store_put_container(c->store, c->container, 0, &err), &err);
    const char *const none[] = { NULL };
    conf_expect_list(c, "", none);
}

static void test_conformance__round_trip_0(void **state)
{
    conf_round_trip(*state, "rt-empty", 0, 1);
}

static void test_conformance__round_trip_1(void **state)
{
    conf_round_trip(*state, "rt-one", 1, 2);
}

static void test_conformance__round_trip_1m(void **state)
{
    conf_round_trip(*state, "rt-1m", 1 << 20, 3);
}

static void test_conformance__round_trip_64m(void **state)
{
    conf_round_trip(*state, "rt-64m", 64u << 20, 4);
}

static void test_conformance__overwrite(void **state)
{
    conf_ctx *c = *state;
    cb_error err = { 0 };
    char *data;
    size_t len;
    conf_put(c, "ow", "first version", 13);
    conf_put(c, "ow", "second", 6);
    assert_cb_ok(cb_store_read_all(c->store, c->container, "ow", 100, &data, &len, &err), &err);
    assert_int_equal(len, 6);
    assert_memory_equal(data, "second", 6);
    free(data);
    conf_delete(c, "ow");
}

static void test_conformance__list_prefix(void **state)
{
    conf_ctx *c = *state;
    static const char *const names[] = { "vol/a/b-00001", "vol/a/b-00002", "vol/a/b_metadata",
                                         "vol/ab",        "vol_x",         "other" };
    for (size_t i = 0; i < 6; i++)
        conf_put(c, names[i], names[i], strlen(names[i]));

    const char *const all[] = {
        "other", "vol/a/b-00001", "vol/a/b-00002", "vol/a/b_metadata", "vol/ab", "vol_x", NULL
    };
    const char *const vol[] = { "vol/a/b-00001", "vol/a/b-00002", "vol/a/b_metadata",
                                "vol/ab",        "vol_x",         NULL };
    const char *const vol_slash[] = { "vol/a/b-00001", "vol/a/b-00002", "vol/a/b_metadata",
                                      "vol/ab", NULL };
    const char *const vol_a[] = { "vol/a/b-00001", "vol/a/b-00002", "vol/a/b_metadata", "vol/ab",
                                  NULL };
    const char *const vol_a_slash[] = { "vol/a/b-00001", "vol/a/b-00002", "vol/a/b_metadata",
                                        NULL };
    const char *const data[] = { "vol/a/b-00001", "vol/a/b-00002", NULL };
    const char *const one[] = { "vol/a/b_metadata", NULL };
    const char *const none[] = { NULL };
    conf_expect_list(c, "", all);
    conf_expect_list(c, "vol", vol);
    conf_expect_list(c, "vol/", vol_slash);
    conf_expect_list(c, "vol/a", vol_a);
    conf_expect_list(c, "vol/a/", vol_a_slash);
    conf_expect_list(c, "vol/a/b-", data);
    conf_expect_list(c, "vol/a/b_metadata", one);
    conf_expect_list(c, "vol/a/b_metadatax", none);
    conf_expect_list(c, "zzz", none);
    for (size_t i = 0; i < 6; i++)
        conf_delete(c, names[i]);
    conf_expect_list(c, "", none);
}

static void test_conformance__read_missing(void **state)
{
    conf_ctx *c = *state;
    cb_error err = { 0 };
    cb_reader *r = (cb_reader *)1;
    int rc = cb_store_open_reader(c->store, c->container, "no-such-object", NULL, 0, &r, &err);
    assert_int_equal(rc, CB_ENOTFOUND);
    assert_null(r);
    assert_cb_error(&err, CB_ENOTFOUND, "no-such-object");
    cb_error_clear(&err);
    rc = cb_store_open_reader(c->store, c->container, "deep/no/such", NULL, 0, &r, &err);
    assert_int_equal(rc, CB_ENOTFOUND);
}

static void test_conformance__delete_missing(void **state)
{
    conf_ctx *c = *state;
    cb_error err = { 0 };
    assert_cb_ok(cb_store_delete_object(c->store, c->container, "never-written", 0, &err), &err);
    assert_cb_ok(cb_store_delete_object(c->store, c->container, "a/b/never", 0, &err), &err);
    conf_put(c, "twice", "x", 1);
    conf_delete(c, "twice");
    conf_delete(c, "twice");
}

static void test_conformance__abandoned_writer(void **state)
{
    conf_ctx *c = *state;
    cb_error err = { 0 };
    cb_writer *w = NULL;
    cb_reader *r = NULL;
    char buf[4096];
    memset(buf, 'z', sizeof(buf));
    assert_cb_ok(cb_store_open_writer(c->store, c->container, "abandoned", NULL, 0, &w, &err),
                 &err);
    assert_cb_ok(cb_writer_write(w, buf, sizeof(buf), &err), &err);
    cb_writer_free(w); /* no close: nothing may remain */
    const char *const none[] = { NULL };
    conf_expect_list(c, "", none);
    assert_int_equal(cb_store_open_reader(c->store, c->container, "abandoned", NULL, 0, &r, &err),
                     CB_ENOTFOUND);
    /* an abandoned rewrite keeps the old object */
    conf_put(c, "kept", "old", 3);
    cb_error_clear(&err);
    assert_cb_ok(cb_store_open_writer(c->store, c->container, "kept", NULL, 0, &w, &err), &err);
    assert_cb_ok(cb_writer_write(w, "new!", 4, &err), &err);
    cb_writer_free(w);
    char *data;
    size_t len;
    assert_cb_ok(cb_store_read_all(c->store, c->container, "kept", 10, &data, &len, &err), &err);
    assert_int_equal(len, 3);
    assert_memory_equal(data, "old", 3);
    free(data);
    conf_delete(c, "kept");
}

static void test_conformance__list_missing_container(void **state)
{
    conf_ctx *c = *state;
    cb_error err = { 0 };
    name_set s = { 0 };
    char name[80];
    snprintf(name, sizeof(name), "%s-missing", c->container);
    assert_int_equal(cb_store_list(c->store, name, "", 0, conf_collect, &s, &err), CB_ENOTFOUND);
    assert_cb_error(&err, CB_ENOTFOUND, name);
    assert_int_equal(s.n, 0);
}

typedef struct conf_thread {
    conf_ctx *c;
    int id;
    int failed;
    char msg[1100];
} conf_thread;

static void *conf_thread_main(void *arg)
{
    conf_thread *t = arg;
    cb_error err = { 0 };
    char name[64];
    size_t len = (size_t)(256 + t->id) * 1024;
    unsigned char *data = malloc(len);
    char *back = NULL;
    size_t back_len = 0;

    snprintf(name, sizeof(name), "thread/%d-00001", t->id);
    tu_fill_random(data, len, 100 + (uint64_t)t->id);
    if (cb_store_write_all(t->c->store, t->c->container, name, data, len, &err) < 0 ||
        cb_store_read_all(t->c->store, t->c->container, name, len, &back, &back_len, &err) < 0) {
        t->failed = 1;
        snprintf(t->msg, sizeof(t->msg), "%s", err.msg);
    } else if (back_len != len || memcmp(back, data, len) != 0) {
        t->failed = 1;
        snprintf(t->msg, sizeof(t->msg), "%s: read back different bytes", name);
    }
    free(back);
    free(data);
    return NULL;
}

static void test_conformance__eight_writers(void **state)
{
    conf_ctx *c = *state;
    pthread_t th[8];
    conf_thread t[8];
    for (int i = 0; i < 8; i++) {
        t[i] = (conf_thread){ .c = c, .id = i };
        assert_int_equal(pthread_create(&th[i], NULL, conf_thread_main, &t[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        if (t[i].failed)
            print_error("thread %d: %s\n", i, t[i].msg);
        assert_false(t[i].failed);
    }
    name_set s;
    conf_list(c, "thread/", &s);
    assert_int_equal(s.n, 8);
    for (size_t i = 0; i < s.n; i++)
        conf_delete(c, s.names[i]);
    conf_free_set(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conformance__container_twice),
        cmocka_unit_test(test_conformance__round_trip_0),
        cmocka_unit_test(test_conformance__round_trip_1),
        cmocka_unit_test(test_conformance__round_trip_1m),
        cmocka_unit_test(test_conformance__round_trip_64m),
        cmocka_unit_test(test_conformance__overwrite),
        cmocka_unit_test(test_conformance__list_prefix),
        cmocka_unit_test(test_conformance__read_missing),
        cmocka_unit_test(test_conformance__delete_missing),
        cmocka_unit_test(test_conformance__abandoned_writer),
        cmocka_unit_test(test_conformance__list_missing_container),
        cmocka_unit_test(test_conformance__eight_writers),
    };
    const char *url = getenv("CB_STORE_URL");
    char group[128];
    snprintf(group, sizeof(group), "store conformance (%s)", url ? url : "posix-temp");
    return cmocka_run_group_tests_name(group, tests, conf_setup, conf_teardown);
}
