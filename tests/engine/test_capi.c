/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_capi.c: the library as Cinder's driver calls it (issue 16). The volume as an open
 * descriptor (a file, a pipe) or a read callback; the caller's prefix, created_at and
 * volume_meta recorded verbatim; empty volumes; store hints (cb_backup_hint) that spare the
 * search of the store; cb_backup_delete_at. Through the mem store, which counts its calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "memstore.h"

#define VID "8f4a1c2e-0d3b-4e5f-9a6b-7c8d9e0f1a2b"
#define BID "1b2c3d4e-5f60-4718-89a0-b1c2d3e4f506"
#define BID2 "2c3d4e5f-6071-4829-9ab1-c2d3e4f50617"
#define CAPI_VOL ((size_t)(3u << 20) + 12345) /* not a multiple of the sha block */

typedef struct capi {
    cb_store *store;
    char *dir;
    char vol[512], out[512];
    unsigned char *data; /* CAPI_VOL bytes: random, a zero run, text */
} capi;

static int capi_setup(void **state)
{
    capi *t = calloc(1, sizeof(*t));
    cb_error err = { 0 };
    t->dir = tu_mkdtemp("capi");
    snprintf(t->vol, sizeof(t->vol), "%s/volume.img", t->dir);
    snprintf(t->out, sizeof(t->out), "%s/restored.img", t->dir);
    t->data = malloc(CAPI_VOL);
    tu_fill_random(t->data, CAPI_VOL, 16);
    memset(t->data + CAPI_VOL / 3, 0, CAPI_VOL / 4);
    for (size_t i = CAPI_VOL * 3 / 4; i < CAPI_VOL; i++)
        t->data[i] = (unsigned char)("cinder inside "[i % 14]);
    tu_write_file(t->vol, t->data, CAPI_VOL);
    cb_mem_store_use();
    if (cb_store_open(&t->store, "mem:", NULL, &err) < 0)
        return -1;
    *state = t;
    return 0;
}

static int capi_teardown(void **state)
{
    capi *t = *state;
    cb_store_free(t->store);
    tu_rmtree(t->dir);
    free(t->dir);
    free(t->data);
    free(t);
    return 0;
}

/* Options for a path-less volume: small objects, so there are many. */
static cb_backup_opts capi_opts(void)
{
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    o.volume_id = VID;
    o.object_size = 256 * 1024;
    o.sha_block = 32768;
    o.threads = 4;
    return o;
}

/* Restore `id` and check that it is `len` bytes of `want`. */
static void capi_restore_equals(capi *t, const char *id, const void *want, size_t len)
{
    cb_error err = { 0 };
    assert_cb_ok(cb_restore(t->store, id, t->out, TU_REPLACE, &err), &err);
    assert_true(tu_file_equals(t->out, want, len));
}

/* An object's text, NUL-terminated (free()). */
static char *capi_object(capi *t, const char *container, const char *prefix, const char *suffix)
{
    char name[400];
    unsigned char *data;
    size_t len;
    snprintf(name, sizeof(name), "%s%s", prefix, suffix);
    assert_int_equal(cb_mem_store_object(t->store, container, name, &data, &len), 0);
    char *s = malloc(len + 1);
    memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

/* A regular file as a descriptor: read in parallel with pread, the caller's offset neither
 * used nor moved, the descriptor left open; no volume id without a path is refused. */
static void test_capi__fd_regular_file(void **state)
{
    capi *t = *state;
    cb_backup_opts o = capi_opts();
    cb_backup_info *b = NULL;
    cb_error err = { 0 };
    int fd = open(t->vol, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(lseek(fd, 4321, SEEK_SET), 4321);
    o.volume_fd = fd;
    assert_cb_ok(cb_backup(t->store, NULL, &o, &b, &err), &err);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 4321); /* not moved */
    assert_true(fcntl(fd, F_GETFD) >= 0);           /* not closed */
    assert_int_equal(b->size, CAPI_VOL);
    assert_string_equal(b->volume_id, VID);
    assert_true(b->object_count > 10);
    capi_restore_equals(t, b->backup_id, t->data, CAPI_VOL);
    cb_backup_info_free(b);

    o.volume_id = NULL; /* no path to derive one from */
    assert_int_equal(cb_backup(t->store, NULL, &o, NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "volume_fd");
    close(fd);
}

typedef struct feeder {
    int fd;
    const unsigned char *data;
    size_t len;
} feeder;

static void *capi_feed(void *arg)
{
    feeder *f = arg;
    for (size_t off = 0; off < f->len;) {
        size_t n = f->len - off < 100000 ? f->len - off : 100000;
        ssize_t w = write(f->fd, f->data + off, n);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(f->fd);
    return NULL;
}

/* A pipe as a descriptor: read in order as a stream. */
static void test_capi__fd_pipe(void **state)
{
    capi *t = *state;
    cb_backup_opts o = capi_opts();
    cb_backup_info *b = NULL;
    cb_error err = { 0 };
    int p[2];
    pthread_t th;
    assert_int_equal(pipe(p), 0);
    feeder f = { .fd = p[1], .data = t->data, .len = CAPI_VOL };
    assert_int_equal(pthread_create(&th, NULL, capi_feed, &f), 0);
    o.volume_fd = p[0];
    assert_cb_ok(cb_backup(t->store, NULL, &o, &b, &err), &err);
    pthread_join(th, NULL);
    assert_int_equal(b->size, CAPI_VOL);
    capi_restore_equals(t, b->backup_id, t->data, CAPI_VOL);
    assert_true(fcntl(p[0], F_GETFD) >= 0);
    close(p[0]);
    cb_backup_info_free(b);
}

typedef struct reader {
    const unsigned char *data;
    size_t len, off;
    size_t step;       /* bytes per call at most */
    size_t fail_at;    /* fail once off reaches it (0: never) */
    atomic_int inside; /* calls running now */
    int overlapped;    /* two ran at once */
    unsigned long calls;
} reader;

static long long capi_read(void *payload, void *buf, size_t len)
{
    reader *r = payload;
    if (atomic_fetch_add(&r->inside, 1) != 0)
        r->overlapped = 1;
    r->calls++;
    long long rc;
    if (r->fail_at && r->off >= r->fail_at) {
        rc = -EIO;
    } else {
        size_t n = r->len - r->off;
        if (n > len)
            n = len;
        if (n > r->step)
            n = r->step;
        memcpy(buf, r->data + r->off, n);
        r->off += n;
        rc = (long long)n;
    }
    atomic_fetch_sub(&r->inside, 1);
    return rc;
}

/* A read callback with an odd read size (7777 bytes a call): the volume, bit-exact, one
 * call at a time; then the same with an incremental on top, also through the callback. */
static void test_capi__read_callback(void **state)
{
    capi *t = *state;
    cb_backup_opts o = capi_opts();
    cb_backup_info *b = NULL, *inc = NULL;
    cb_error err = { 0 };
    reader r = { .data = t->data, .len = CAPI_VOL, .step = 7777 };
    o.volume_read = capi_read;
    o.volume_read_payload = &r;
    assert_cb_ok(cb_backup(t->store, NULL, &o, &b, &err), &err);
    assert_false(r.overlapped);
    assert_true(r.calls >= CAPI_VOL / 7777);
    assert_int_equal(r.off, CAPI_VOL);
    assert_int_equal(b->size, CAPI_VOL);
    capi_restore_equals(t, b->backup_id, t->data, CAPI_VOL);

    unsigned char *changed = malloc(CAPI_VOL);
    memcpy(changed, t->data, CAPI_VOL);
    memset(changed + 100000, 0x5a, 5000);
    reader r2 = { .data = changed, .len = CAPI_VOL, .step = 7777 };
    o.volume_read_payload = &r2;
    o.parent_id = b->backup_id;
    assert_cb_ok(cb_backup(t->store, NULL, &o, &inc, &err), &err);
    assert_string_equal(inc->parent_id, b->backup_id);
    assert_true(inc->object_count < b->object_count);
    capi_restore_equals(t, inc->backup_id, changed, CAPI_VOL);
    free(changed);
    cb_backup_info_free(inc);
    cb_backup_info_free(b);
}

/* A callback that fails midway: CB_ESOURCE, and nothing that looks like a backup (no
 * object at all: the data objects, the record of the backup in progress, the lock). */
static void test_capi__read_callback_fails(void **state)
{
    capi *t = *state;
    cb_backup_opts o = capi_opts();
    cb_backup_info **all = NULL;
    size_t n = 9;
    cb_error err = { 0 };
    reader r = { .data = t->data, .len = CAPI_VOL, .step = 65536, .fail_at = CAPI_VOL / 2 };
    o.volume_read = capi_read;
    o.volume_read_payload = &r;
    assert_int_equal(cb_backup(t->store, NULL, &o, NULL, &err), CB_ESOURCE);
    assert_cb_error(&err, CB_ESOURCE, "read callback");
    assert_non_null(strstr(err.msg, "Input/output error"));
    assert_int_equal(cb_mem_store_count(t->store), 0);
    assert_cb_ok(cb_backup_list(t->store, NULL, &all, &n, &err), &err);
    assert_int_equal(n, 0);
    cb_backup_info_free_array(all, n);
}

/* cb_backup_show's status for `id` (its description dropped). */
static int capi_show(capi *t, const char *id, cb_error *err)
{
    cb_backup_info *info = NULL;
    int rc = cb_backup_show(t->store, id, &info, err);
    cb_backup_info_free(info);
    return rc;
}

/* The caller's prefix, created_at and volume_meta, recorded as given. */
static void test_capi__prefix_created_at_volume_meta(void **state)
{
    capi *t = *state;
    cb_backup_opts o = capi_opts();
    cb_backup_info *b = NULL, *shown = NULL;
    cb_error err = { 0 };
    const char *prefix = "volume_" VID "/20261202042713/az_nova_backup_" BID;
    const char *vmeta = "{\"version\": 2, \"volume-base-metadata\": {\"display_name\": "
                        "\"vol \\u00e9\", \"bootable\": true}}";
    o.volume_fd = open(t->vol, O_RDONLY);
    o.backup_id = BID;
    o.container = "volumebackups";
    o.prefix = prefix;
    o.created_at = "2026-12-02 04:27:13.123456+00:00";
    o.volume_meta = vmeta;
    assert_cb_ok(cb_backup(t->store, NULL, &o, &b, &err), &err);
    assert_string_equal(b->prefix, prefix);
    assert_string_equal(b->container, "volumebackups");
    char *meta = capi_object(t, b->container, prefix, "_metadata");
    char *sha = capi_object(t, b->container, prefix, "_sha256file");
    assert_non_null(strstr(meta, "\"created_at\": \"2026-12-02 04:27:13.123456+00:00\","));
    assert_non_null(strstr(sha, "\"created_at\": \"2026-12-02 04:27:13.123456+00:00\","));
    assert_non_null(strstr(meta, "\"volume_meta\": \"{\\\"version\\\": 2, "
                                 "\\\"volume-base-metadata\\\": {\\\"display_name\\\": \\\"vol "
                                 "\\\\u00e9\\\", \\\"bootable\\\": true}}\""));
    assert_non_null(
        strstr(meta, "\"volume_" VID "/20261202042713/az_nova_backup_" BID "-00001\": {"));
    assert_cb_ok(cb_backup_show(t->store, BID, &shown, &err), &err);
    assert_string_equal(shown->volume_meta, vmeta);
    assert_string_equal(shown->created_at, "2026-12-02 04:27:13.123456+00:00");
    capi_restore_equals(t, BID, t->data, CAPI_VOL);
    free(meta);
    free(sha);
    cb_backup_info_free(shown);
    cb_backup_info_free(b);
    close(o.volume_fd);
}

/* A prefix that is not this backup's in this store's grammar, a created_at that is not a
 * time, volume_meta with metadata: CB_EINVAL naming it, and nothing written. */
static void test_capi__bad_prefix(void **state)
{
    capi *t = *state;
    cb_backup_opts o = capi_opts();
    cb_error err = { 0 };
    const char *const md[] = { "a=b" };
    o.backup_id = BID;
    o.volume_fd = open(t->vol, O_RDONLY);
    const char *bad[] = {
        "",
        "volume_" VID "/20261202042713/az_nova_backup_" BID2, /* another backup */
        "volume_" BID "/20261202042713/az_nova_backup_" BID,  /* another volume */
        "volume_" VID "_20261202042713_backup_" BID,          /* posix's form */
        "volume_" VID "/2026120204271/az_nova_backup_" BID,   /* short time */
        "VOLUME_" VID "/20261202042713/az_nova_backup_" BID,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o.prefix = bad[i];
        cb_error_clear(&err);
        assert_int_equal(cb_backup(t->store, NULL, &o, NULL, &err), CB_EINVAL);
        assert_cb_error(&err, CB_EINVAL, "prefix '");
    }
    o.prefix = NULL;
    o.created_at = "yesterday";
    cb_error_clear(&err);
    assert_int_equal(cb_backup(t->store, NULL, &o, NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "created_at 'yesterday'");
    o.created_at = NULL;
    o.volume_meta = "{}";
    o.metadata = md;
    o.n_metadata = 1;
    cb_error_clear(&err);
    assert_int_equal(cb_backup(t->store, NULL, &o, NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "volume_meta and metadata");
    assert_int_equal(cb_mem_store_count(t->store), 0);
    close(o.volume_fd);
}

/* A version 2 struct: the fields after dry_run are not read (garbage there is ignored). */
static void test_capi__version_2_accepted(void **state)
{
    capi *t = *state;
    union {
        cb_backup_opts o;
        unsigned char raw[sizeof(cb_backup_opts)];
    } u;
    cb_backup_info *b = NULL;
    cb_error err = { 0 };
    memset(u.raw, 0xa5, sizeof(u.raw));
    memset(u.raw, 0, offsetof(cb_backup_opts, volume_fd));
    u.o.version = 2;
    u.o.object_size = 1024 * 1024;
    assert_cb_ok(cb_backup(t->store, t->vol, &u.o, &b, &err), &err);
    assert_null(strstr(b->prefix, "\xa5"));
    capi_restore_equals(t, b->backup_id, t->data, CAPI_VOL);
    cb_backup_info_free(b);
}

static long long capi_read_nothing(void *payload, void *buf, size_t len)
{
    (void)payload;
    (void)buf;
    (void)len;
    return 0;
}

/* An empty volume, every way it can come (a file, a file's descriptor, a pipe, a callback):
 * 0 objects, "objects": [], "sha256s": []; restored as an empty file, verified; an
 * incremental on top of it; removed by delete. */
static void test_capi__empty_volume(void **state)
{
    capi *t = *state;
    cb_error err = { 0 };
    char empty[600];
    char ids[5][40];
    snprintf(empty, sizeof(empty), "%s/empty.img", t->dir);
    tu_write_file(empty, "", 0);
    for (int how = 0; how < 5; how++) {
        cb_backup_opts o = capi_opts();
        cb_backup_info *b = NULL;
        int p[2] = { -1, -1 };
        const char *path = NULL;
        if (how == 0)
            path = empty;
        else if (how == 1)
            o.volume_fd = open(empty, O_RDONLY);
        else if (how == 2) {
            assert_int_equal(pipe(p), 0);
            close(p[1]);
            o.volume_fd = p[0];
        } else if (how == 3)
            o.volume_read = capi_read_nothing;
        else { /* an incremental of an empty volume on an empty parent */
            o.volume_read = capi_read_nothing;
            o.parent_id = ids[3];
        }
        assert_cb_ok(cb_backup(t->store, path, &o, &b, &err), &err);
        if (how == 1 || how == 2)
            close(o.volume_fd);
        assert_int_equal(b->size, 0);
        assert_int_equal(b->object_count, 0);
        assert_int_equal(b->data_bytes, 0);
        snprintf(ids[how], sizeof(ids[how]), "%s", b->backup_id);
        char *meta = capi_object(t, b->container, b->prefix, "_metadata");
        char *sha = capi_object(t, b->container, b->prefix, "_sha256file");
        assert_non_null(strstr(meta, "\"objects\": [],"));
        assert_non_null(strstr(sha, "\"sha256s\": [],"));
        free(meta);
        free(sha);
        tu_write_file(t->out, "not empty", 9);
        capi_restore_equals(t, b->backup_id, "", 0);
        cb_backup_info *shown = NULL;
        assert_cb_ok(cb_backup_show(t->store, b->backup_id, &shown, &err), &err);
        assert_int_equal(shown->size, 0);
        assert_int_equal(shown->chain_length, how == 4 ? 2 : 1);
        cb_backup_info_free(shown);
        cb_backup_info_free(b);
    }
    cb_verify_opts vo = CB_VERIFY_OPTS_INIT;
    cb_verify_report *rep = NULL;
    vo.read_data = 1;
    assert_cb_ok(cb_verify(t->store, NULL, 0, &vo, &rep, &err), &err);
    assert_int_equal(rep->backups, 5);
    assert_int_equal(rep->n_problems, 0);
    assert_true(rep->complete);
    cb_verify_report_free(rep);
    assert_cb_ok(cb_backup_delete(t->store, ids[4], 0, &err), &err);
    assert_cb_ok(cb_backup_delete(t->store, ids[3], 0, &err), &err);
    assert_int_equal(capi_show(t, ids[3], &err), CB_ENOTFOUND);
}

/* A hint: the backup in a container the store would not guess is found without listing the
 * store's containers (the search); a wrong hint only costs a listing. */
static void test_capi__hint(void **state)
{
    capi *t = *state;
    cb_backup_opts o = capi_opts();
    cb_backup_info *b = NULL, *inc = NULL;
    cb_error err = { 0 };
    o.container = "custom/x";
    o.volume_fd = open(t->vol, O_RDONLY);
    assert_cb_ok(cb_backup(t->store, NULL, &o, &b, &err), &err);
    o.parent_id = b->backup_id;
    o.container = "custom/y";
    assert_cb_ok(cb_backup(t->store, NULL, &o, &inc, &err), &err);
    close(o.volume_fd);

    /* no hint: the store's containers are listed to find it */
    unsigned long before = cb_mem_store_calls(t->store, CB_MEM_LIST_CONTAINERS);
    capi_restore_equals(t, inc->backup_id, t->data, CAPI_VOL);
    assert_true(cb_mem_store_calls(t->store, CB_MEM_LIST_CONTAINERS) > before);

    /* hints for the chain: no search at all */
    assert_cb_ok(cb_backup_hint(t->store, b->backup_id, b->container, b->prefix, &err), &err);
    assert_cb_ok(cb_backup_hint(t->store, inc->backup_id, inc->container, inc->prefix, &err), &err);
    before = cb_mem_store_calls(t->store, CB_MEM_LIST_CONTAINERS);
    capi_restore_equals(t, inc->backup_id, t->data, CAPI_VOL);
    cb_backup_info *shown = NULL;
    assert_cb_ok(cb_backup_show(t->store, inc->backup_id, &shown, &err), &err);
    assert_int_equal(shown->chain_length, 2);
    cb_backup_info_free(shown);
    assert_int_equal(cb_mem_store_calls(t->store, CB_MEM_LIST_CONTAINERS), before);

    /* a wrong hint (replacing the right one): still found, by the search */
    assert_cb_ok(cb_backup_hint(t->store, inc->backup_id, "elsewhere", inc->prefix, &err), &err);
    capi_restore_equals(t, inc->backup_id, t->data, CAPI_VOL);
    assert_true(cb_mem_store_calls(t->store, CB_MEM_LIST_CONTAINERS) > before);

    /* bad hints */
    assert_int_equal(cb_backup_hint(t->store, b->backup_id, "", b->prefix, &err), CB_EINVAL);
    cb_error_clear(&err);
    assert_int_equal(cb_backup_hint(t->store, b->backup_id, b->container, inc->prefix, &err),
                     CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "prefix");
    cb_backup_info_free(inc);
    cb_backup_info_free(b);
}

/* delete_at: a complete backup (everything gone, the other in the container untouched), a
 * partial one (objects without _metadata), nothing (0), bad prefixes (refused, nothing
 * removed). */
static void test_capi__delete_at(void **state)
{
    capi *t = *state;
    cb_backup_opts o = capi_opts();
    cb_backup_info *b1 = NULL, *b2 = NULL;
    cb_error err = { 0 };
    uint64_t removed = 99;
    o.container = "volumebackups";
    o.volume_fd = open(t->vol, O_RDONLY);
    assert_cb_ok(cb_backup(t->store, NULL, &o, &b1, &err), &err);
    assert_cb_ok(cb_backup(t->store, NULL, &o, &b2, &err), &err);
    close(o.volume_fd);
    size_t all = cb_mem_store_count(t->store);
    assert_int_equal(all, 2 * (b1->object_count + 2));

    assert_cb_ok(cb_backup_delete_at(t->store, b1->container, b1->prefix, &removed, &err), &err);
    assert_int_equal(removed, b1->object_count + 2);
    assert_int_equal(cb_mem_store_count(t->store), all - removed);
    assert_int_equal(capi_show(t, b1->backup_id, &err), CB_ENOTFOUND);
    cb_error_clear(&err);
    capi_restore_equals(t, b2->backup_id, t->data, CAPI_VOL);

    /* gone already: nothing there is not an error */
    assert_cb_ok(cb_backup_delete_at(t->store, b1->container, b1->prefix, &removed, &err), &err);
    assert_int_equal(removed, 0);
    assert_cb_ok(cb_backup_delete_at(t->store, "no-such-container", b1->prefix, &removed, &err),
                 &err);
    assert_int_equal(removed, 0);

    /* bad prefixes: refused, nothing removed */
    char partial[300];
    snprintf(partial, sizeof(partial), "%.*s", (int)strlen(b2->prefix) - 4, b2->prefix);
    const char *bad[] = { "", "volume_", partial, NULL };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cb_error_clear(&err);
        assert_int_equal(cb_backup_delete_at(t->store, b2->container, bad[i], &removed, &err),
                         CB_EINVAL);
        assert_int_equal(removed, 0);
    }
    assert_int_equal(cb_mem_store_count(t->store), b2->object_count + 2);

    /* a partial backup: its objects without the _metadata */
    char meta[400];
    snprintf(meta, sizeof(meta), "%s_metadata", b2->prefix);
    assert_cb_ok(cb_store_delete_object(t->store, b2->container, meta, 0, &err), &err);
    assert_cb_ok(cb_backup_delete_at(t->store, b2->container, b2->prefix, NULL, &err), &err);
    assert_int_equal(cb_mem_store_count(t->store), 0);
    cb_backup_info_free(b1);
    cb_backup_info_free(b2);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, capi_setup, capi_teardown)
    const struct CMUnitTest tests[] = {
        T(test_capi__fd_regular_file),
        T(test_capi__fd_pipe),
        T(test_capi__read_callback),
        T(test_capi__read_callback_fails),
        T(test_capi__prefix_created_at_volume_meta),
        T(test_capi__bad_prefix),
        T(test_capi__version_2_accepted),
        T(test_capi__empty_volume),
        T(test_capi__hint),
        T(test_capi__delete_at),
    };
    return cmocka_run_group_tests_name("capi", tests, NULL, NULL);
}
