/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_opts_version.c: every public entry point that takes an options struct refuses a
 * version it does not know (CB_EINVAL, naming the struct and the version) before doing
 * anything, and takes its _INIT version and NULL (the defaults).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "cinderblock/sys/store.h"

typedef struct ov {
    char *dir;
    char url[600], vol[600], out[600];
    cb_store *store;
    char id[40]; /* a backup to restore */
} ov;

static const unsigned bad_versions[] = { 0, 3, 0xffffffffu }; /* 1 and 2 are known */
static const unsigned bad_store[] = { 0, CB_STORE_OPTS_VERSION + 1, 0xffffffffu };

static int ov_setup(void **state)
{
    ov *t = calloc(1, sizeof(*t));
    cb_error err = { 0 };
    cb_backup_info *info = NULL;
    unsigned char vol[8192];
    t->dir = tu_mkdtemp("opts-version");
    snprintf(t->url, sizeof(t->url), "posix:%s/store", t->dir);
    snprintf(t->vol, sizeof(t->vol), "%s/volume.img", t->dir);
    snprintf(t->out, sizeof(t->out), "%s/restored.img", t->dir);
    tu_fill_random(vol, sizeof(vol), 9);
    FILE *f = fopen(t->vol, "wb");
    if (f == NULL || fwrite(vol, 1, sizeof(vol), f) != sizeof(vol))
        return -1;
    fclose(f);
    if (cb_store_open(&t->store, t->url, NULL, &err) < 0 ||
        cb_backup(t->store, t->vol, NULL, &info, &err) < 0)
        return -1;
    snprintf(t->id, sizeof(t->id), "%s", info->backup_id);
    cb_backup_info_free(info);
    *state = t;
    return 0;
}

static int ov_teardown(void **state)
{
    ov *t = *state;
    cb_store_free(t->store);
    tu_rmtree(t->dir);
    free(t->dir);
    free(t);
    return 0;
}

/* The refusal names the struct and the version given. */
static void expect_refused(int rc, const cb_error *err, const char *what, unsigned version)
{
    char msg[100];
    snprintf(msg, sizeof(msg), "%s version %u is not supported", what, version);
    assert_int_equal(rc, CB_EINVAL);
    assert_cb_error(err, CB_EINVAL, msg);
}

static size_t ov_count_backups(ov *t)
{
    cb_backup_info **v = NULL;
    size_t n = 0;
    cb_error err = { 0 };
    assert_cb_ok(cb_backup_list(t->store, NULL, &v, &n, &err), &err);
    cb_backup_info_free_array(v, n);
    return n;
}

static void test_opts_version__store_open(void **state)
{
    ov *t = *state;
    for (size_t i = 0; i < sizeof(bad_store) / sizeof(bad_store[0]); i++) {
        cb_store_opts o = CB_STORE_OPTS_INIT;
        cb_store *s = (cb_store *)&o; /* must be set to NULL */
        cb_error err = { 0 };
        o.version = bad_store[i];
        expect_refused(cb_store_open(&s, t->url, &o, &err), &err, "cb_store_opts", o.version);
        assert_null(s);
    }
    cb_store_opts o = CB_STORE_OPTS_INIT;
    cb_store *s = NULL;
    cb_error err = { 0 };
    assert_cb_ok(cb_store_open(&s, t->url, &o, &err), &err);
    cb_store_free(s);
    /* a version 1 caller's struct ends before limit_upload: what lies beyond is never read
     * (garbage there would be a limit of ~1 byte per second and a stalled write) */
    union {
        cb_store_opts o;
        unsigned char bytes[sizeof(cb_store_opts)];
    } v1;
    memset(v1.bytes, 0xff, sizeof(v1.bytes));
    cb_store_opts init = CB_STORE_OPTS_INIT;
    memcpy(&v1.o, &init, offsetof(cb_store_opts, limit_upload));
    v1.o.version = 1;
    v1.o.getenv = NULL;
    assert_cb_ok(cb_store_open(&s, t->url, &v1.o, &err), &err);
    assert_true(cb_store_get_opts(s)->limit_upload == 0);
    assert_true(cb_store_get_opts(s)->limit_download == 0);
    assert_cb_ok(cb_store_put_container(s, "c", 0, &err), &err);
    assert_cb_ok(cb_store_write_all(s, "c", "o", "abc", 3, &err), &err);
    cb_store_free(s);
    /* version 2 ends before connections: garbage beyond it is not a connection count */
    memset(v1.bytes, 0xff, sizeof(v1.bytes));
    memcpy(&v1.o, &init, offsetof(cb_store_opts, connections));
    v1.o.version = 2;
    v1.o.getenv = NULL;
    assert_cb_ok(cb_store_open(&s, t->url, &v1.o, &err), &err);
    assert_int_equal(cb_store_connections(s), 0); /* posix: one per thread */
    cb_store_free(s);
}

/* A store made with cb_store_new(): its operations are never called, but for destroy. */
static int ov_put(void *st, const char *c, unsigned f, cb_error *err)
{
    (void)st, (void)c, (void)f;
    return cb_error_set(err, CB_ENOTSUPP, "not here");
}

static int
ov_list(void *st, const char *c, const char *p, unsigned f, cb_list_fn fn, void *pl, cb_error *err)
{
    (void)st, (void)c, (void)p, (void)f, (void)fn, (void)pl;
    return cb_error_set(err, CB_ENOTSUPP, "not here");
}

static int ov_writer(void *st,
                     const char *c,
                     const char *n,
                     const char *x,
                     unsigned f,
                     cb_writer **out,
                     cb_error *err)
{
    (void)st, (void)c, (void)n, (void)x, (void)f, (void)out;
    return cb_error_set(err, CB_ENOTSUPP, "not here");
}

static int ov_reader(void *st,
                     const char *c,
                     const char *n,
                     const char *x,
                     unsigned f,
                     cb_reader **out,
                     cb_error *err)
{
    (void)st, (void)c, (void)n, (void)x, (void)f, (void)out;
    return cb_error_set(err, CB_ENOTSUPP, "not here");
}

static int ov_delete(void *st, const char *c, const char *n, unsigned f, cb_error *err)
{
    (void)st, (void)c, (void)n, (void)f;
    return cb_error_set(err, CB_ENOTSUPP, "not here");
}

static void ov_destroy(void *state)
{
    (*(int *)state)++;
}

static void test_opts_version__store_new(void **state)
{
    (void)state;
    cb_store_ops ops = { CB_STORE_OPS_INIT,          .name = "ov",
                         .put_container = ov_put,    .list = ov_list,
                         .open_writer = ov_writer,   .open_reader = ov_reader,
                         .delete_object = ov_delete, .destroy = ov_destroy };
    for (size_t i = 0; i < sizeof(bad_store) / sizeof(bad_store[0]); i++) {
        cb_store_opts o = CB_STORE_OPTS_INIT;
        cb_store *s = (cb_store *)&o;
        cb_error err = { 0 };
        int destroyed = 0;
        o.version = bad_store[i];
        expect_refused(cb_store_new(&s, &ops, &destroyed, &o, &err), &err, "cb_store_opts",
                       o.version);
        assert_null(s);
        assert_int_equal(destroyed, 1); /* the state handed over is not leaked */
    }
    cb_store_opts o = CB_STORE_OPTS_INIT;
    cb_store *s = NULL;
    cb_error err = { 0 };
    int destroyed = 0;
    assert_cb_ok(cb_store_new(&s, &ops, &destroyed, &o, &err), &err);
    assert_non_null(s);
    cb_store_free(s);
    assert_int_equal(destroyed, 1);
}

static void test_opts_version__backup(void **state)
{
    ov *t = *state;
    size_t before = ov_count_backups(t);
    /* version 2 added dry_run; version 1 is still accepted */
    static const unsigned bad_backup[] = { 0, CB_BACKUP_OPTS_VERSION + 1, 0xffffffffu };
    for (size_t i = 0; i < sizeof(bad_backup) / sizeof(bad_backup[0]); i++) {
        cb_backup_opts o = CB_BACKUP_OPTS_INIT;
        cb_backup_info *info = (cb_backup_info *)&o; /* must be set to NULL */
        cb_error err = { 0 };
        o.version = bad_backup[i];
        expect_refused(cb_backup(t->store, t->vol, &o, &info, &err), &err, "cb_backup_opts",
                       o.version);
        assert_null(info);
    }
    assert_int_equal(ov_count_backups(t), before); /* nothing was written */
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_error err = { 0 };
    assert_cb_ok(cb_backup(t->store, t->vol, &o, NULL, &err), &err);
    assert_int_equal(ov_count_backups(t), before + 1);
    /* version 2's dry run stores nothing, and says what it would have */
    cb_backup_info *info = NULL;
    o.dry_run = 1;
    assert_cb_ok(cb_backup(t->store, t->vol, &o, &info, &err), &err);
    assert_int_equal(ov_count_backups(t), before + 1);
    assert_true(info->object_count > 0 && info->stored_bytes > 0);
    cb_backup_info_free(info);
    /* a version 1 struct (it ends before stream_size: the bytes after it are not read) backs up */
    _Alignas(cb_backup_opts) unsigned char v1[offsetof(cb_backup_opts, stream_size)];
    o.version = 1;
    memcpy(v1, &o, sizeof(v1));
    assert_cb_ok(cb_backup(t->store, t->vol, (const cb_backup_opts *)(void *)v1, NULL, &err), &err);
    assert_int_equal(ov_count_backups(t), before + 2);
    /* a version 3 struct (it ends before volume_pread: the bytes after it are not read)
     * backs up its volume_fd */
    _Alignas(cb_backup_opts) unsigned char v3[offsetof(cb_backup_opts, volume_pread)];
    cb_backup_opts o3 = CB_BACKUP_OPTS_INIT;
    o3.version = 3;
    o3.volume_id = "6f1d2b3c-4d5e-4f60-9b7c-8d9e0f1a2b3c";
    o3.volume_fd = open(t->vol, O_RDONLY);
    assert_true(o3.volume_fd >= 0);
    memcpy(v3, &o3, sizeof(v3));
    assert_cb_ok(cb_backup(t->store, NULL, (const cb_backup_opts *)(void *)v3, NULL, &err), &err);
    assert_int_equal(ov_count_backups(t), before + 3);
    close(o3.volume_fd);
}

/* A version 3 restore's target_write: counts the bytes. */
static long long ov_count_write(void *payload, const void *buf, size_t len, uint64_t off)
{
    (void)buf;
    (void)off;
    *(uint64_t *)payload += len;
    return (long long)len;
}

static void test_opts_version__restore(void **state)
{
    ov *t = *state;
    /* version 2 added `overwrite`; version 1 is still accepted */
    static const unsigned bad_restore[] = { 0, CB_RESTORE_OPTS_VERSION + 1, 0xffffffffu };
    for (size_t i = 0; i < sizeof(bad_restore) / sizeof(bad_restore[0]); i++) {
        cb_restore_opts o = CB_RESTORE_OPTS_INIT;
        cb_error err = { 0 };
        o.version = bad_restore[i];
        unlink(t->out);
        expect_refused(cb_restore(t->store, t->id, t->out, &o, &err), &err, "cb_restore_opts",
                       o.version);
        assert_int_equal(access(t->out, F_OK), -1); /* no target made */
    }
    cb_restore_opts o = CB_RESTORE_OPTS_INIT;
    cb_error err = { 0 };
    assert_cb_ok(cb_restore(t->store, t->id, t->out, &o, &err), &err);
    /* the target exists now: version 2 replaces it only with overwrite */
    assert_int_equal(cb_restore(t->store, t->id, t->out, &o, &err), CB_EEXISTS);
    assert_non_null(strstr(err.msg, "exists; use --force to overwrite"));
    cb_error_clear(&err);
    o.overwrite = 1;
    assert_cb_ok(cb_restore(t->store, t->id, t->out, &o, &err), &err);
    /* a version 1 caller (no overwrite field) replaces files, as before */
    struct {
        unsigned int version;
        int sparse, threads;
        cb_progress_fn progress;
        void *progress_payload;
        cb_cancel_fn cancel;
        void *cancel_payload;
        int verify;
    } v1 = { .version = 1 };
    assert_cb_ok(cb_restore(t->store, t->id, t->out, (const cb_restore_opts *)(void *)&v1, &err),
                 &err);
    unlink(t->out);
    assert_cb_ok(cb_restore(t->store, t->id, t->out, NULL, &err), &err);
    /* a version 2 struct (it ends before target_fd: the bytes after it are not read)
     * restores into a path, and refuses a NULL target instead of reading target_fd */
    _Alignas(cb_restore_opts) unsigned char v2[offsetof(cb_restore_opts, target_fd)];
    cb_restore_opts o2 = CB_RESTORE_OPTS_INIT;
    o2.version = 2;
    o2.overwrite = 1;
    memcpy(v2, &o2, sizeof(v2));
    assert_cb_ok(cb_restore(t->store, t->id, t->out, (const cb_restore_opts *)(void *)v2, &err),
                 &err);
    assert_int_equal(cb_restore(t->store, t->id, NULL, (const cb_restore_opts *)(void *)v2, &err),
                     CB_EINVAL);
    assert_non_null(strstr(err.msg, "needs cb_restore_opts version 3"));
    cb_error_clear(&err);
    /* a version 3 struct (it ends before target_pwrite: the bytes after it are not read)
     * restores through its target_write */
    _Alignas(cb_restore_opts) unsigned char v3[offsetof(cb_restore_opts, target_pwrite)];
    cb_restore_opts o3 = CB_RESTORE_OPTS_INIT;
    uint64_t got = 0;
    o3.version = 3;
    o3.target_write = ov_count_write;
    o3.target_write_payload = &got;
    memcpy(v3, &o3, sizeof(v3));
    assert_cb_ok(cb_restore(t->store, t->id, NULL, (const cb_restore_opts *)(void *)v3, &err),
                 &err);
    assert_int_equal(got, 8192);
}

static void test_opts_version__verify(void **state)
{
    ov *t = *state;
    const char *ids[1] = { t->id };
    for (size_t i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++) {
        cb_verify_opts o = CB_VERIFY_OPTS_INIT;
        cb_verify_report *r = NULL;
        cb_error err = { 0 };
        o.version = bad_versions[i];
        expect_refused(cb_verify(t->store, ids, 1, &o, &r, &err), &err, "cb_verify_opts",
                       o.version);
        assert_true(r == NULL || (r->backups == 0 && !r->complete)); /* nothing checked */
        cb_verify_report_free(r);
    }
    cb_verify_opts o = CB_VERIFY_OPTS_INIT;
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    assert_cb_ok(cb_verify(t->store, ids, 1, &o, &r, &err), &err);
    assert_int_equal(r->backups, 1);
    cb_verify_report_free(r);
    assert_cb_ok(cb_verify(t->store, ids, 1, NULL, &r, &err), &err);
    cb_verify_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opts_version__store_open),
        cmocka_unit_test(test_opts_version__store_new),
        cmocka_unit_test(test_opts_version__backup),
        cmocka_unit_test(test_opts_version__restore),
        cmocka_unit_test(test_opts_version__verify),
    };
    return cmocka_run_group_tests_name("opts_version", tests, ov_setup, ov_teardown);
}
