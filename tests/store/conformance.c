/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conformance.c: the behaviour every store must have. Runs against the store named by
 * $CB_STORE_URL, any URL cb_store_open() takes ("posix-temp" makes a fresh
 * directory; "mem:" the tests' store; "swift://...", "s3://..." with their credentials in the
 * environment; a plugin's "NAME://..." with $CINDERBLOCK_PLUGIN_PATH). Each run works in its
 * own new container.
 *
 * $CB_CONFORMANCE_EXCLUSIVE says what the run expects of create-only writes
 * (CB_WRITE_EXCLUSIVE), so that a store can never quietly fall back to a weaker answer:
 *   atomic (default)  an existing name is CB_EEXISTS and kept; of two racing writers exactly
 *                     one succeeds (posix, mem)
 *   racy              the same, except that two writers racing may both succeed (Swift checks
 *                     If-None-Match when a PUT starts, not when it commits)
 *   unsupported       every create-only close fails with CB_ENOTSUPP and writes nothing
 *                     (S3 through Swift's s3api, which answers 501)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "testutil.h"
#include "memstore.h"

typedef enum conf_exclusive { CONF_ATOMIC, CONF_RACY, CONF_UNSUPPORTED } conf_exclusive;

typedef struct conf_ctx {
    cb_store *store;
    char container[64];
    char *tmpdir;             /* posix-temp only */
    conf_exclusive exclusive; /* from $CB_CONFORMANCE_EXCLUSIVE */
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
    const char *excl = getenv("CB_CONFORMANCE_EXCLUSIVE");
    if (excl == NULL || excl[0] == '\0' || strcmp(excl, "atomic") == 0) {
        g_ctx.exclusive = CONF_ATOMIC;
    } else if (strcmp(excl, "racy") == 0) {
        g_ctx.exclusive = CONF_RACY;
    } else if (strcmp(excl, "unsupported") == 0) {
        g_ctx.exclusive = CONF_UNSUPPORTED;
    } else {
        print_error("CB_CONFORMANCE_EXCLUSIVE='%s' is not atomic, racy or unsupported\n", excl);
        return -1;
    }
    opts.retry_backoff = 0.2;
    if (strncmp(url, "mem:", 4) == 0)
        cb_mem_store_use(); /* the tests' own store: registered, not built in */
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

/* ---- create-only writes, entries, the home container ---- */

/* Write `len` bytes of `data` (in pieces of at most 1 MiB) with `flags`; the first failure
 * of open, write or close. */
static int conf_write_flags(
    conf_ctx *c, const char *name, const void *data, size_t len, unsigned int flags, cb_error *err)
{
    cb_writer *w = NULL;
    int rc = cb_store_open_writer(c->store, c->container, name, NULL, flags, &w, err);
    for (size_t pos = 0; rc == 0 && pos < len; pos += 1u << 20)
        rc = cb_writer_write(w, (const char *)data + pos,
                             len - pos < (1u << 20) ? len - pos : 1u << 20, err);
    if (rc == 0)
        rc = cb_writer_close(w, err);
    cb_writer_free(w);
    return rc;
}

/* Assert that `name` holds exactly `len` bytes of `want`. */
static void conf_expect_content(conf_ctx *c, const char *name, const void *want, size_t len)
{
    cb_error err = { 0 };
    char *data = NULL;
    size_t got = 0;
    assert_cb_ok(cb_store_read_all(c->store, c->container, name, len + 1, &data, &got, &err), &err);
    assert_int_equal(got, len);
    assert_memory_equal(data, want, len);
    free(data);
}

static void conf_expect_missing(conf_ctx *c, const char *name)
{
    cb_error err = { 0 };
    cb_reader *r = NULL;
    assert_int_equal(cb_store_open_reader(c->store, c->container, name, NULL, 0, &r, &err),
                     CB_ENOTFOUND);
    assert_null(r);
}

/* A create-only write to a store that refuses them: CB_ENOTSUPP, and nothing changed. */
static void conf_expect_refused(conf_ctx *c, const char *name, const void *data, size_t len)
{
    cb_error err = { 0 };
    int rc = conf_write_flags(c, name, data, len, CB_WRITE_EXCLUSIVE, &err);
    if (rc != CB_ENOTSUPP)
        print_error("a create-only write of '%s' that should be refused: %s %s\n", name,
                    rc == 0 ? "succeeded" : cb_status_name(rc), err.msg);
    assert_int_equal(rc, CB_ENOTSUPP);
    assert_non_null(strstr(err.msg, name));
}

/* A create-only write over an existing object: CB_EEXISTS naming it. */
static void conf_expect_taken(conf_ctx *c, const char *name, const void *data, size_t len)
{
    cb_error err = { 0 };
    int rc = conf_write_flags(c, name, data, len, CB_WRITE_EXCLUSIVE, &err);
    if (rc != CB_EEXISTS)
        print_error("a create-only write of existing '%s': %s %s\n", name,
                    rc == 0 ? "succeeded" : cb_status_name(rc), err.msg);
    assert_int_equal(rc, CB_EEXISTS);
    assert_cb_error(&err, CB_EEXISTS, name);
    assert_non_null(strstr(err.msg, c->container));
}

static void test_conformance__exclusive_create(void **state)
{
    conf_ctx *c = *state;
    cb_error err = { 0 };
    if (c->exclusive == CONF_UNSUPPORTED) {
        conf_expect_refused(c, "excl/one", "first", 5);
        const char *const none[] = { NULL };
        conf_expect_list(c, "excl/", none);
        conf_expect_missing(c, "excl/one");
        /* nor is an existing object replaced */
        conf_put(c, "excl/one", "first", 5);
        conf_expect_refused(c, "excl/one", "second!", 7);
        conf_expect_content(c, "excl/one", "first", 5);
        conf_delete(c, "excl/one");
        print_message("create-only writes: not supported by this server (as expected)\n");
        return;
    }
    assert_cb_ok(conf_write_flags(c, "excl/one", "first", 5, CB_WRITE_EXCLUSIVE, &err), &err);
    conf_expect_content(c, "excl/one", "first", 5);
    /* the name is taken: CB_EEXISTS naming it, and the first object stays */
    conf_expect_taken(c, "excl/one", "second!", 7);
    conf_expect_content(c, "excl/one", "first", 5);
    /* an empty object is an object too */
    assert_cb_ok(conf_write_flags(c, "excl/empty", "", 0, CB_WRITE_EXCLUSIVE, &err), &err);
    conf_expect_taken(c, "excl/empty", "x", 1);
    conf_expect_content(c, "excl/empty", "", 0);
    /* once deleted, the name is free again; a plain write still replaces */
    conf_delete(c, "excl/one");
    assert_cb_ok(conf_write_flags(c, "excl/one", "third", 5, CB_WRITE_EXCLUSIVE, &err), &err);
    conf_expect_content(c, "excl/one", "third", 5);
    conf_put(c, "excl/one", "fourth", 6);
    conf_expect_content(c, "excl/one", "fourth", 6);
    conf_delete(c, "excl/one");
    conf_delete(c, "excl/empty");
}

/* Objects past the stores' in-memory limits (Swift streams beyond 8 MiB, S3 goes multipart
 * beyond one part) take other code paths; the S3 store refuses a create-only multipart
 * upload by design (s3api would ignore If-None-Match on CompleteMultipartUpload). */
static void test_conformance__exclusive_large(void **state)
{
    conf_ctx *c = *state;
    cb_error err = { 0 };
    size_t len = (9u << 20) + 1;
    unsigned char *data = malloc(len);
    int refused =
        c->exclusive == CONF_UNSUPPORTED || strcmp(cb_store_get_info(c->store)->name, "s3") == 0;
    assert_non_null(data);
    tu_fill_random(data, len, 42);
    if (refused) {
        conf_expect_refused(c, "excl/big", data, len);
        conf_expect_missing(c, "excl/big");
    } else {
        assert_cb_ok(conf_write_flags(c, "excl/big", data, len, CB_WRITE_EXCLUSIVE, &err), &err);
        conf_expect_content(c, "excl/big", data, len);
    }
    conf_put(c, "excl/big", "small", 5);
    if (refused) {
        conf_expect_refused(c, "excl/big", data, len);
    } else {
        /* CB_EEXISTS at close, or already at the write that starts a streamed upload */
        conf_expect_taken(c, "excl/big", data, len);
    }
    conf_expect_content(c, "excl/big", "small", 5);
    conf_delete(c, "excl/big");
    free(data);
}

typedef struct conf_racer {
    conf_ctx *c;
    const char *name;
    char data[64];
    pthread_barrier_t *ready; /* both writers have written; now both close */
    int rc;
    char msg[1100];
} conf_racer;

static void *conf_racer_main(void *arg)
{
    conf_racer *r = arg;
    cb_error err = { 0 };
    cb_writer *w = NULL;
    r->rc = cb_store_open_writer(r->c->store, r->c->container, r->name, NULL, CB_WRITE_EXCLUSIVE,
                                 &w, &err);
    if (r->rc == 0)
        r->rc = cb_writer_write(w, r->data, strlen(r->data), &err);
    pthread_barrier_wait(r->ready);
    if (r->rc == 0)
        r->rc = cb_writer_close(w, &err);
    cb_writer_free(w);
    snprintf(r->msg, sizeof(r->msg), "%s", err.msg);
    return NULL;
}

#define CONF_RACES 20

static void test_conformance__exclusive_race(void **state)
{
    conf_ctx *c = *state;
    int rounds = c->exclusive == CONF_UNSUPPORTED ? 1 : CONF_RACES, both_won = 0;
    for (int i = 0; i < rounds; i++) {
        char name[32];
        pthread_t th[2];
        conf_racer r[2];
        pthread_barrier_t ready;
        int winners = 0;
        snprintf(name, sizeof(name), "race/%02d", i);
        pthread_barrier_init(&ready, NULL, 2);
        for (int k = 0; k < 2; k++) {
            r[k] = (conf_racer){ .c = c, .name = name, .ready = &ready };
            snprintf(r[k].data, sizeof(r[k].data), "round %d, writer %d", i, k);
            assert_int_equal(pthread_create(&th[k], NULL, conf_racer_main, &r[k]), 0);
        }
        for (int k = 0; k < 2; k++)
            pthread_join(th[k], NULL);
        pthread_barrier_destroy(&ready);
        for (int k = 0; k < 2; k++) {
            int want = c->exclusive == CONF_UNSUPPORTED ? CB_ENOTSUPP : CB_EEXISTS;
            if (r[k].rc != 0 && r[k].rc != want)
                print_error("%s, writer %d: %s: %s\n", name, k, cb_status_name(r[k].rc), r[k].msg);
            assert_true(r[k].rc == 0 || r[k].rc == want);
            winners += r[k].rc == 0;
        }
        if (c->exclusive == CONF_UNSUPPORTED) {
            assert_int_equal(winners, 0);
            conf_expect_missing(c, name);
            break;
        }
        if (winners != 1 && c->exclusive == CONF_ATOMIC)
            print_error("%s: %d of 2 racing create-only writers succeeded\n", name, winners);
        assert_true(winners >= 1);
        assert_true(winners == 1 || c->exclusive == CONF_RACY);
        both_won += winners == 2;
        /* what stays is a winner's object, whole */
        char *data = NULL;
        size_t len = 0;
        cb_error err = { 0 };
        assert_cb_ok(cb_store_read_all(c->store, c->container, name, 100, &data, &len, &err), &err);
        int k =
            r[0].rc == 0 && len == strlen(r[0].data) && memcmp(data, r[0].data, len) == 0 ? 0 : 1;
        assert_int_equal(r[k].rc, 0);
        assert_int_equal(len, strlen(r[k].data));
        assert_memory_equal(data, r[k].data, len);
        free(data);
        conf_delete(c, name);
    }
    if (c->exclusive == CONF_RACY)
        print_message("create-only writes: both racing writers succeeded in %d of %d rounds "
                      "(the store does not promise otherwise)\n",
                      both_won, rounds);
}

typedef struct entry_set {
    cb_entry e[16];
    size_t n;
    int stop_at; /* > 0: return this from the callback for the first entry */
} entry_set;

static int conf_collect_entry(const cb_entry *e, void *payload)
{
    entry_set *s = payload;
    if (s->stop_at > 0)
        return s->stop_at;
    if (s->n < 16) {
        s->e[s->n] = *e;
        s->e[s->n++].name = strdup(e->name);
    }
    return 0;
}

static int conf_entry_cmp(const void *a, const void *b)
{
    return strcmp(((const cb_entry *)a)->name, ((const cb_entry *)b)->name);
}

static void conf_free_entries(entry_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free((char *)s->e[i].name);
    s->n = 0;
}

/* The stores of this tree all know sizes and times; a store that could not say would report
 * -1, which only an unknown kind of store may. */
static int conf_knows_entries(const conf_ctx *c)
{
    static const char *const known[] = { "posix", "mem", "swift", "s3" };
    const char *kind = cb_store_get_info(c->store)->name;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(kind, known[i]) == 0)
            return 1;
    return 0;
}

static void test_conformance__list_entries(void **state)
{
    conf_ctx *c = *state;
    cb_error err = { 0 };
    static const char *const names[] = { "ent/big", "ent/one", "ent/zero" };
    const size_t sizes[] = { 1u << 20, 1, 0 };
    unsigned char *big = malloc(1u << 20);
    entry_set s = { 0 };
    name_set ns;
    int known = conf_knows_entries(c);
    assert_non_null(big);
    tu_fill_random(big, 1u << 20, 7);
    time_t t0 = time(NULL);
    conf_put(c, "ent/big", big, 1u << 20);
    conf_put(c, "ent/one", "1", 1);
    conf_put(c, "ent/zero", "", 0);
    conf_put(c, "entx", "outside the prefix", 18);
    time_t t1 = time(NULL);

    assert_cb_ok(
        cb_store_list_entries(c->store, c->container, "ent/", 0, conf_collect_entry, &s, &err),
        &err);
    qsort(s.e, s.n, sizeof(s.e[0]), conf_entry_cmp);
    conf_list(c, "ent/", &ns);
    /* the same names as list */
    assert_int_equal(s.n, ns.n);
    assert_int_equal(s.n, 3);
    for (size_t i = 0; i < s.n; i++) {
        assert_string_equal(s.e[i].name, ns.names[i]);
        assert_string_equal(s.e[i].name, names[i]);
        if (known || s.e[i].size != -1)
            assert_int_equal(s.e[i].size, sizes[i]);
        if (known)
            assert_true(s.e[i].mtime != -1);
        /* within a few minutes: the server's clock may be off a little, and its times may
         * be rounded to the second or kept finer and truncated */
        if (s.e[i].mtime != -1 &&
            (s.e[i].mtime < (int64_t)t0 - 300 || s.e[i].mtime > (int64_t)t1 + 300)) {
            print_error("%s: mtime %lld, written between %lld and %lld\n", s.e[i].name,
                        (long long)s.e[i].mtime, (long long)t0, (long long)t1);
            fail();
        }
    }
    conf_free_entries(&s);
    conf_free_set(&ns);

    /* a callback's non-zero value stops the listing and comes back */
    s.stop_at = 7;
    assert_int_equal(
        cb_store_list_entries(c->store, c->container, "ent/", 0, conf_collect_entry, &s, &err), 7);
    assert_int_equal(err.code, 0);
    s.stop_at = 0;
    /* a missing container, as for list */
    char missing[80];
    snprintf(missing, sizeof(missing), "%s-missing", c->container);
    assert_int_equal(cb_store_list_entries(c->store, missing, "", 0, conf_collect_entry, &s, &err),
                     CB_ENOTFOUND);
    assert_cb_error(&err, CB_ENOTFOUND, missing);
    assert_int_equal(s.n, 0);
    for (size_t i = 0; i < 3; i++)
        conf_delete(c, names[i]);
    conf_delete(c, "entx");
    free(big);
}

/* Whether `name` is listed under `prefix` in `container` (other runs may share it). */
static int conf_listed_in(conf_ctx *c, const char *container, const char *prefix, const char *name)
{
    cb_error err = { 0 };
    name_set s = { 0 };
    int found = 0;
    assert_cb_ok(cb_store_list(c->store, container, prefix, 0, conf_collect, &s, &err), &err);
    for (size_t i = 0; i < s.n; i++)
        found |= strcmp(s.names[i], name) == 0;
    conf_free_set(&s);
    return found;
}

static void test_conformance__home_container(void **state)
{
    conf_ctx *c = *state;
    cb_error err = { 0 };
    char *home = NULL, *again = NULL, hex[17], name[64];
    entry_set s = { 0 };
    assert_cb_ok(cb_store_home_container(c->store, &home, &err), &err);
    assert_non_null(home);
    assert_cb_ok(cb_store_home_container(c->store, &again, &err), &err);
    assert_string_equal(home, again);
    free(again);
    /* a store-wide record goes there with the normal writer, and lists back by its prefix
     * (other runs against the same account may have records there too) */
    tu_random_hex(hex, 16);
    snprintf(name, sizeof(name), "cinderblock/test-%s", hex);
    assert_cb_ok(cb_store_put_container(c->store, home, 0, &err), &err);
    assert_cb_ok(cb_store_write_all(c->store, home, name, "home", 4, &err), &err);
    assert_true(conf_listed_in(c, home, "cinderblock/", name));
    assert_cb_ok(
        cb_store_list_entries(c->store, home, "cinderblock/", 0, conf_collect_entry, &s, &err),
        &err);
    int found = 0;
    for (size_t i = 0; i < s.n; i++)
        if (strcmp(s.e[i].name, name) == 0) {
            found = 1;
            assert_true(s.e[i].size == 4 || (s.e[i].size == -1 && !conf_knows_entries(c)));
        }
    assert_true(found);
    conf_free_entries(&s);
    /* backups never list it: no backup prefix starts with "cinderblock/" */
    assert_false(conf_listed_in(c, home, "volume_", name));
    assert_cb_ok(cb_store_delete_object(c->store, home, name, 0, &err), &err);
    assert_false(conf_listed_in(c, home, "cinderblock/", name));
    free(home);
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
        cmocka_unit_test(test_conformance__exclusive_create),
        cmocka_unit_test(test_conformance__exclusive_large),
        cmocka_unit_test(test_conformance__exclusive_race),
        cmocka_unit_test(test_conformance__list_entries),
        cmocka_unit_test(test_conformance__home_container),
    };
    const char *url = getenv("CB_STORE_URL");
    char group[128];
    snprintf(group, sizeof(group), "store conformance (%s)", url ? url : "posix-temp");
    return cmocka_run_group_tests_name(group, tests, conf_setup, conf_teardown);
}
