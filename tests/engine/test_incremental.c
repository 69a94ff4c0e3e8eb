/* SPDX-License-Identifier: Apache-2.0 */
/* test_incremental.c: incremental backups, chains, refusals, sparse volumes, dependents. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "memstore.h"

typedef struct inc {
    cb_store *store;
    char *dir;
    char vol[512];
    char out[512];
} inc;

static int inc_setup(void **state)
{
    inc *t = calloc(1, sizeof(*t));
    cb_error err = { 0 };
    t->dir = tu_mkdtemp("incr");
    snprintf(t->vol, sizeof(t->vol), "%s/volume.img", t->dir);
    snprintf(t->out, sizeof(t->out), "%s/restored.img", t->dir);
    cb_mem_store_use();
    if (cb_store_open(&t->store, "mem:", NULL, &err) < 0)
        return -1;
    *state = t;
    return 0;
}

static int inc_teardown(void **state)
{
    inc *t = *state;
    cb_store_free(t->store);
    tu_rmtree(t->dir);
    free(t->dir);
    free(t);
    return 0;
}

static unsigned char *inc_read_file(const char *path, size_t *len)
{
    unsigned char *b = tu_read_file(path, len);
    assert_non_null(b);
    return b;
}

static void inc_patch(const char *path, size_t off, int byte, size_t len)
{
    int fd = open(path, O_WRONLY);
    unsigned char *b = malloc(len);
    memset(b, byte, len);
    assert_int_equal(pwrite(fd, b, len, (off_t)off), (ssize_t)len);
    close(fd);
    free(b);
}

static cb_backup_info *
inc_backup(inc *t, const char *parent, int incremental, uint64_t obj, uint32_t sha)
{
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_backup_info *info = NULL;
    cb_error err = { 0 };
    o.object_size = obj;
    o.sha_block = sha;
    o.parent_id = parent;
    o.incremental = incremental;
    o.compression = "zlib";
    assert_cb_ok(cb_backup(t->store, t->vol, &o, &info, &err), &err);
    return info;
}

static void
inc_restore_equals(inc *t, const char *id, const unsigned char *want, size_t len, int sparse)
{
    cb_restore_opts ro = CB_RESTORE_OPTS_INIT;
    ro.overwrite = 1;
    cb_error err = { 0 };
    size_t got_len;
    ro.sparse = sparse;
    assert_cb_ok(cb_restore(t->store, id, t->out, &ro, &err), &err);
    unsigned char *got = inc_read_file(t->out, &got_len);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, want, len);
    free(got);
}

/* The sha256s of a backup, as one string per block ("" past the end). */
static char *inc_shas(inc *t, const cb_backup_info *b)
{
    char name[300];
    unsigned char *data;
    size_t len;
    snprintf(name, sizeof(name), "%s_sha256file", b->prefix);
    assert_int_equal(cb_mem_store_object(t->store, b->container, name, &data, &len), 0);
    char *s = strndup((char *)data, len);
    return s;
}

/* Cinder's test: 1 KiB blocks, 8 KiB objects, 1 KiB changed at 16 KiB and 20 KiB. */
static void test_incremental__changed_blocks_only(void **state)
{
    inc *t = *state;
    unsigned char vol[65536];
    tu_fill_random(vol, sizeof(vol), 1);
    tu_write_file(t->vol, vol, sizeof(vol));
    cb_backup_info *full = inc_backup(t, NULL, 0, 8192, 1024);
    memset(vol + 16384, 0x11, 1024);
    memset(vol + 20480, 0x22, 1024);
    tu_write_file(t->vol, vol, sizeof(vol));
    cb_backup_info *i1 = inc_backup(t, full->backup_id, 0, 8192, 1024);
    assert_string_equal(i1->parent_id, full->backup_id);
    assert_int_equal(i1->object_count, 2); /* two separate runs in one 8 KiB range */
    assert_int_equal(i1->data_bytes, 2048);
    char *a = inc_shas(t, full), *b = inc_shas(t, i1);
    /* same number of entries; only entries 16 and 20 differ */
    char *pa = strstr(a, "\"sha256s\": ["), *pb = strstr(b, "\"sha256s\": [");
    for (int k = 0; k < 64; k++) {
        pa = strchr(pa + 1, '\n');
        pb = strchr(pb + 1, '\n');
        int same = strncmp(pa, pb, 72) == 0;
        assert_int_equal(same, !(k == 16 || k == 20));
    }
    inc_restore_equals(t, i1->backup_id, vol, sizeof(vol), 0);
    /* an unchanged incremental: no objects, the same hash list */
    cb_backup_info *i2 = inc_backup(t, NULL, 1, 8192, 1024);
    assert_string_equal(i2->parent_id, i1->backup_id);
    assert_int_equal(i2->object_count, 0);
    char *c = inc_shas(t, i2);
    assert_string_equal(strstr(b, "\"sha256s\""), strstr(c, "\"sha256s\""));
    inc_restore_equals(t, i2->backup_id, vol, sizeof(vol), 0);
    free(a);
    free(b);
    free(c);
    cb_backup_info_free(full);
    cb_backup_info_free(i1);
    cb_backup_info_free(i2);
}

/* A chain of 5 incrementals: every backup restores the volume as it was then. */
static void test_incremental__chain_of_five(void **state)
{
    inc *t = *state;
    enum { LEN = 300000 + 123 };
    unsigned char *states[6];
    cb_backup_info *b[6];
    states[0] = malloc(LEN);
    tu_fill_random(states[0], LEN, 2);
    tu_write_file(t->vol, states[0], LEN);
    b[0] = inc_backup(t, NULL, 0, 65536, 4096);
    for (int k = 1; k <= 5; k++) {
        states[k] = malloc(LEN);
        memcpy(states[k], states[k - 1], LEN);
        /* scattered 4 KiB writes, a zeroed range, and the last partial block */
        for (int j = 0; j < 4; j++)
            memset(states[k] + ((size_t)(k * 37 + j * 53) % 70) * 4096, 0x30 + k, 4096);
        memset(states[k] + (size_t)k * 20000, 0, 9000);
        states[k][LEN - 1] = (unsigned char)k;
        tu_write_file(t->vol, states[k], LEN);
        b[k] = inc_backup(t, NULL, 1, 65536, 4096);
        assert_string_equal(b[k]->parent_id, b[k - 1]->backup_id);
    }
    for (int k = 0; k <= 5; k++) {
        inc_restore_equals(t, b[k]->backup_id, states[k], LEN, 0);
        inc_restore_equals(t, b[k]->backup_id, states[k], LEN, 1); /* sparse too */
    }
    cb_backup_info *shown = NULL;
    cb_error err = { 0 };
    assert_cb_ok(cb_backup_show(t->store, b[5]->backup_id, &shown, &err), &err);
    assert_int_equal(shown->chain_length, 6);
    assert_int_equal(shown->size, LEN);
    cb_backup_info_free(shown);
    for (int k = 0; k <= 5; k++) {
        free(states[k]);
        cb_backup_info_free(b[k]);
    }
}

static void inc_expect_refused(inc *t, const char *parent, uint32_t sha, int code, const char *why)
{
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_error err = { 0 };
    size_t before = cb_mem_store_count(t->store);
    o.parent_id = parent;
    o.incremental = parent == NULL;
    o.sha_block = sha;
    o.object_size = 65536;
    assert_int_equal(cb_backup(t->store, t->vol, &o, NULL, &err), code);
    if (strstr(err.msg, why) == NULL)
        print_error("\"%s\" lacks \"%s\"\n", err.msg, why);
    assert_non_null(strstr(err.msg, why));
    assert_int_equal(cb_mem_store_count(t->store), before); /* nothing written */
}

static void test_incremental__refusals(void **state)
{
    inc *t = *state;
    unsigned char vol[100000];
    char name[300];
    tu_fill_random(vol, sizeof(vol), 3);
    tu_write_file(t->vol, vol, sizeof(vol));
    inc_expect_refused(t, NULL, 4096, CB_ENOTFOUND, "no complete backup of volume");
    cb_backup_info *full = inc_backup(t, NULL, 0, 65536, 4096);
    inc_expect_refused(t, full->backup_id, 8192, CB_EINVAL, "the sha block size changed");
    inc_expect_refused(t, "01234567-89ab-4def-8123-456789abcdef", 4096, CB_ENOTFOUND,
                       "parent backup 01234567-89ab-4def-8123-456789abcdef not found");
    /* a volume that grew */
    unsigned char bigger[100001];
    memcpy(bigger, vol, sizeof(vol));
    bigger[100000] = 1;
    tu_write_file(t->vol, bigger, sizeof(bigger));
    inc_expect_refused(t, full->backup_id, 4096, CB_EINVAL, "the volume grew from 100000");
    /* a shrunk volume is allowed, as in Cinder, and restores to its own size */
    tu_write_file(t->vol, vol, 50000);
    cb_backup_info *small = inc_backup(t, full->backup_id, 0, 65536, 4096);
    inc_restore_equals(t, small->backup_id, vol, 50000, 0);
    /* a parent that is not complete: one of its objects is gone */
    snprintf(name, sizeof(name), "%s-00002", full->prefix);
    cb_error err = { 0 };
    unsigned char *data;
    size_t len;
    assert_int_equal(cb_mem_store_object(t->store, full->container, name, &data, &len), 0);
    unsigned char *keep = malloc(len);
    memcpy(keep, data, len);
    assert_cb_ok(cb_store_delete_object(t->store, full->container, name, 0, &err), &err);
    tu_write_file(t->vol, vol, sizeof(vol));
    inc_expect_refused(t, full->backup_id, 4096, CB_ECORRUPT, "is not complete");
    assert_cb_ok(cb_store_write_all(t->store, full->container, name, keep, len, &err), &err);
    /* a parent hash list shorter than the volume (Cinder crashes with IndexError) */
    snprintf(name, sizeof(name), "%s_sha256file", full->prefix);
    assert_int_equal(cb_mem_store_object(t->store, full->container, name, &data, &len), 0);
    char *text = strndup((char *)data, len);
    char *last = strstr(text, "\n  ],");
    char *cut = last - 1;
    while (*cut != '\n')
        cut--;
    cut--; /* drop the last entry and its preceding comma */
    while (*cut != ',')
        cut--;
    char *shorter = malloc(len + 1);
    snprintf(shorter, len + 1, "%.*s%s", (int)(cut - text), text, last);
    assert_cb_ok(
        cb_store_write_all(t->store, full->container, name, shorter, strlen(shorter), &err), &err);
    inc_expect_refused(t, full->backup_id, 4096, CB_ECORRUPT, "hash list");
    free(text);
    free(shorter);
    free(keep);
    cb_backup_info_free(small);
    cb_backup_info_free(full);
}

static void test_incremental__delete_parent(void **state)
{
    inc *t = *state;
    cb_error err = { 0 };
    unsigned char vol[40000];
    tu_fill_random(vol, sizeof(vol), 4);
    tu_write_file(t->vol, vol, sizeof(vol));
    cb_backup_info *full = inc_backup(t, NULL, 0, 65536, 4096);
    inc_patch(t->vol, 100, 1, 10);
    cb_backup_info *i1 = inc_backup(t, NULL, 1, 65536, 4096);
    inc_patch(t->vol, 30000, 2, 10);
    cb_backup_info *i2 = inc_backup(t, NULL, 1, 65536, 4096);
    assert_int_equal(cb_backup_delete(t->store, full->backup_id, 0, &err), CB_EINUSE);
    assert_cb_error(&err, CB_EINUSE, i1->backup_id);
    cb_error_clear(&err);
    assert_int_equal(cb_backup_delete(t->store, i1->backup_id, 0, &err), CB_EINUSE);
    assert_cb_error(&err, CB_EINUSE, i2->backup_id);
    cb_error_clear(&err);
    assert_cb_ok(cb_backup_delete(t->store, full->backup_id, CB_DELETE_CASCADE, &err), &err);
    assert_int_equal(cb_mem_store_count(t->store), 0);
    cb_backup_info_free(full);
    cb_backup_info_free(i1);
    cb_backup_info_free(i2);
}

/* Sparse source: holes are not read; restore --sparse leaves holes; a zero range written
 * by a later backup wins over older data (Cinder's bug 6.2a). */
static void test_incremental__sparse(void **state)
{
    inc *t = *state;
    enum { LEN = 8 << 20 };
    unsigned char *v = calloc(1, LEN);
    tu_fill_random(v + (1 << 20), 1 << 20, 5);
    tu_fill_random(v + (5 << 20), 1 << 20, 6);
    tu_write_file(t->vol, v, LEN);
    int fd = open(t->vol, O_WRONLY);
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, v + (1 << 20), 1 << 20, 1 << 20), 1 << 20);
    assert_int_equal(pwrite(fd, v + (5 << 20), 1 << 20, 5 << 20), 1 << 20);
    assert_int_equal(ftruncate(fd, LEN), 0);
    close(fd);
    cb_backup_info *full = inc_backup(t, NULL, 0, 1 << 20, 32768);
    assert_int_equal(full->object_count, 8); /* a full backup still covers every byte */
    inc_restore_equals(t, full->backup_id, v, LEN, 1);
    struct stat sb;
    assert_int_equal(stat(t->out, &sb), 0);
    assert_true((uint64_t)sb.st_blocks * 512 <= (3u << 20)); /* about 2 MiB allocated */
    /* zero the data at 1 MiB in the next backup: restoring it must give zeros there */
    memset(v + (1 << 20), 0, 1 << 20);
    inc_patch(t->vol, 1 << 20, 0, 1 << 20);
    cb_backup_info *i1 = inc_backup(t, NULL, 1, 1 << 20, 32768);
    assert_int_equal(i1->data_bytes, 1 << 20);
    inc_restore_equals(t, i1->backup_id, v, LEN, 1);
    inc_restore_equals(t, i1->backup_id, v, LEN, 0);
    /* without --sparse every block is allocated (reserved up front, zeros not written) */
    assert_int_equal(stat(t->out, &sb), 0);
    assert_true((uint64_t)sb.st_blocks * 512 >= LEN);
    free(v);
    cb_backup_info_free(full);
    cb_backup_info_free(i1);
}

static void inc_last_progress(const cb_progress *p, void *payload)
{
    *(cb_progress *)payload = *p;
}

/* An incremental on `parent` with `coalesce`; what its last progress call said. */
static cb_backup_info *inc_coalesced(inc *t, const char *parent, int64_t coalesce, cb_progress *pr)
{
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_backup_info *info = NULL;
    cb_error err = { 0 };
    o.object_size = 8192;
    o.sha_block = 1024;
    o.parent_id = parent;
    o.compression = "zlib";
    o.coalesce = coalesce;
    o.progress = inc_last_progress;
    o.progress_payload = pr;
    assert_cb_ok(cb_backup(t->store, t->vol, &o, &info, &err), &err);
    return info;
}

/* The number after the `i`th `key` in `s`. */
static long inc_nth_number(const char *s, const char *key, int i)
{
    const char *at = s - 1;
    for (int k = 0; k <= i; k++) {
        at = strstr(at + 1, key);
        assert_non_null(at);
    }
    return strtol(at + strlen(key), NULL, 10);
}

/* The offset and length of object `i` of a backup, from its _metadata. */
static void inc_object(inc *t, const cb_backup_info *b, int i, long *off, long *len)
{
    char name[300];
    unsigned char *data;
    size_t n;
    snprintf(name, sizeof(name), "%s_metadata", b->prefix);
    assert_int_equal(cb_mem_store_object(t->store, b->container, name, &data, &n), 0);
    char *s = strndup((char *)data, n);
    *off = inc_nth_number(s, "\"offset\": ", i);
    *len = inc_nth_number(s, "\"length\": ", i); /* each entry has one of each */
    free(s);
}

/* Changed runs a few unchanged blocks apart are stored as one object covering the gap, up
 * to `coalesce` bytes of gap and never across an object-sized range; the hash list is the
 * same as without, and the backup restores. 1 KiB blocks, 8 KiB objects; changed: blocks
 * 16 and 18 (a gap of 1 KiB), 21 (2 KiB after 18), 24 (the next object's range). */
static void test_incremental__coalesce(void **state)
{
    static const struct {
        int64_t coalesce;
        int objects;
        long data, coalesced, first_len;
    } cases[] = {
        { -1, 4, 4096, 0, 1024 }, /* the store's default: none for this store */
        { 0, 4, 4096, 0, 1024 },
        { 1024, 3, 5120, 1024, 3072 },    /* 16-18 as one; 21 and 24 alone */
        { 2048, 2, 7168, 3072, 6144 },    /* 16-21 as one; 24 alone (its own range) */
        { 1 << 20, 2, 7168, 3072, 6144 }, /* a run never crosses into the next range */
    };
    inc *t = *state;
    unsigned char vol[65536];
    tu_fill_random(vol, sizeof(vol), 7);
    tu_write_file(t->vol, vol, sizeof(vol));
    cb_backup_info *full = inc_backup(t, NULL, 0, 8192, 1024);
    for (int k = 16; k <= 24; k++)
        if (k == 16 || k == 18 || k == 21 || k == 24)
            memset(vol + k * 1024, 0x30 + k, 1024);
    tu_write_file(t->vol, vol, sizeof(vol));
    char *plain = NULL;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cb_progress pr = { 0 };
        long off, len;
        cb_backup_info *b = inc_coalesced(t, full->backup_id, cases[i].coalesce, &pr);
        assert_int_equal(b->object_count, cases[i].objects);
        assert_int_equal(b->data_bytes, cases[i].data);
        assert_int_equal(pr.bytes_coalesced, cases[i].coalesced);
        inc_object(t, b, 0, &off, &len);
        assert_int_equal(off, 16384);
        assert_int_equal(len, cases[i].first_len);
        inc_object(t, b, cases[i].objects - 1, &off, &len);
        assert_int_equal(off, 24576); /* the last run is block 24, alone, every time */
        assert_int_equal(len, 1024);
        char *shas = inc_shas(t, b);
        if (plain == NULL)
            plain = strdup(strstr(shas, "\"sha256s\""));
        assert_string_equal(strstr(shas, "\"sha256s\""), plain);
        free(shas);
        inc_restore_equals(t, b->backup_id, vol, sizeof(vol), 0);
        cb_backup_info_free(b);
    }
    cb_progress pr = { 0 };
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_error err = { 0 };
    cb_backup_info *bad = NULL;
    o.parent_id = full->backup_id;
    o.coalesce = -2;
    assert_int_equal(cb_backup(t->store, t->vol, &o, &bad, &err), CB_EINVAL);
    assert_non_null(strstr(err.msg, "coalesce -2"));
    (void)pr;
    free(plain);
    cb_backup_info_free(full);
}

/* A volume read as a stream, through the caller, in 64 KiB reads. */
typedef struct inc_slow {
    const unsigned char *data;
    size_t len, pos;
} inc_slow;

static long long inc_slow_read(void *payload, void *buf, size_t len)
{
    inc_slow *s = payload;
    size_t n = s->len - s->pos < len ? s->len - s->pos : len;
    n = n > 65536 ? 65536 : n;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    return (long long)n;
}

/* More runs in flight than threads (cb_store_opts.connections: workers that only store
 * runs): every one of thousands of short runs stored, in order, and the backup restores,
 * with the threads waiting for a stream's pieces now and then (a piece queued then must
 * reach a thread, not a runs-only worker: that hung a Swift backup once; this test did not
 * catch it, the wait is a matter of timing). */
static void test_incremental__connections(void **state)
{
    enum { LEN = 4 << 20 };
    inc *t = *state;
    cb_store_opts so = CB_STORE_OPTS_INIT;
    cb_store *store = NULL;
    cb_error err = { 0 };
    char url[600];
    so.connections = 16;
    snprintf(url, sizeof(url), "posix:%s/store", t->dir);
    assert_cb_ok(cb_store_open(&store, url, &so, &err), &err);
    assert_int_equal(cb_store_connections(store), 16);
    unsigned char *v = malloc(LEN);
    tu_fill_random(v, LEN, 9);
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_backup_info *full = NULL, *i1 = NULL;
    inc_slow src = { v, LEN, 0 };
    o.volume_id = "4a7f0c62-8d3e-4b15-9e27-1c5d6f8a9b0e";
    o.volume_read = inc_slow_read;
    o.volume_read_payload = &src;
    o.object_size = 1 << 20;
    o.sha_block = 1024;
    o.threads = 2;
    o.coalesce = 0;
    assert_cb_ok(cb_backup(store, NULL, &o, &full, &err), &err);
    for (size_t at = 0; at < LEN; at += 2048) /* every other block: 2048 runs */
        v[at] ^= 0x5a;
    src.pos = 0;
    o.parent_id = full->backup_id;
    assert_cb_ok(cb_backup(store, NULL, &o, &i1, &err), &err);
    assert_int_equal(i1->object_count, LEN / 2048);
    cb_store *keep = t->store;
    t->store = store;
    inc_restore_equals(t, i1->backup_id, v, LEN, 0);
    t->store = keep;
    free(v);
    cb_backup_info_free(full);
    cb_backup_info_free(i1);
    cb_store_free(store);
}

/* The name of object `i` (0 first) of a backup: <prefix>-0000N. */
static void inc_object_name(const cb_backup_info *b, int i, char *out, size_t cap)
{
    snprintf(out, cap, "%s-%05d", b->prefix, i + 1);
}

/* A full backup's object whose tail a newer incremental replaced is read only as far as
 * the restore needs it: the rest is never fetched. Shown with damage at the object's end
 * (its zlib trailer): restoring the full fails on it, restoring the incremental does not
 * get there, and restores the volume; without its hash list the incremental reads the
 * whole object (its MD5 is then what checks it) and fails too. */
static void test_incremental__ranged_restore(void **state)
{
    enum { LEN = 4 << 20 };
    inc *t = *state;
    unsigned char *v = malloc(LEN);
    tu_fill_random(v, LEN / 2, 21);
    memset(v + LEN / 2, 'x', LEN / 2); /* compressible: its compressed end is far in */
    tu_write_file(t->vol, v, LEN);
    cb_backup_info *full = inc_backup(t, NULL, 0, LEN, 32768);
    tu_fill_random(v + LEN / 2, LEN / 2, 22); /* the second half changes */
    tu_write_file(t->vol, v, LEN);
    cb_backup_info *i1 = inc_backup(t, full->backup_id, 0, LEN, 32768);
    assert_int_equal(i1->object_count, 1);
    char name[300];
    unsigned char *data;
    size_t n;
    inc_object_name(full, 0, name, sizeof(name));
    assert_int_equal(cb_mem_store_object(t->store, full->container, name, &data, &n), 0);
    for (size_t k = n - 8; k < n; k++)
        data[k] ^= 0xff; /* the stream's end and Adler-32 */
    cb_restore_opts ro = CB_RESTORE_OPTS_INIT;
    ro.overwrite = 1;
    cb_error err = { 0 };
    assert_int_equal(cb_restore(t->store, full->backup_id, t->out, &ro, &err), CB_ECORRUPT);
    inc_restore_equals(t, i1->backup_id, v, LEN, 0);
    /* without the hash list: the whole object, and its damage */
    snprintf(name, sizeof(name), "%s_sha256file", i1->prefix);
    assert_int_equal(cb_mem_store_object(t->store, i1->container, name, &data, &n), 0);
    char *first = strstr((char *)data, "\"sha256s\": [");
    assert_non_null(first);
    first[strlen("\"sha256s\": [") + 2] = 'z'; /* not hex: the list is not usable */
    err = (cb_error){ 0 };
    assert_int_equal(cb_restore(t->store, i1->backup_id, t->out, &ro, &err), CB_ECORRUPT);
    free(v);
    cb_backup_info_free(full);
    cb_backup_info_free(i1);
}

/* A restore fetches nothing of an object whose blocks the hash list says are all zeros
 * (holes: Cinder's and cinderblock's zero objects) when the target reads as zeros there
 * already; the data objects are fetched once; the volume comes back whole. */
static void test_incremental__zero_objects_not_fetched(void **state)
{
    enum { LEN = 8 << 20, OBJ = 1 << 20 };
    inc *t = *state;
    unsigned char *v = calloc(1, LEN);
    tu_fill_random(v + 2 * OBJ + 4096, OBJ / 2, 23); /* data in the third object only */
    tu_write_file(t->vol, v, LEN);
    cb_backup_info *full = inc_backup(t, NULL, 0, OBJ, 32768);
    assert_int_equal(full->object_count, 8);
    inc_restore_equals(t, full->backup_id, v, LEN, 0);
    for (int i = 0; i < 8; i++) {
        char name[300];
        inc_object_name(full, i, name, sizeof(name));
        assert_int_equal(cb_mem_store_object_reads(t->store, full->container, name), i == 2);
    }
    free(v);
    cb_backup_info_free(full);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, inc_setup, inc_teardown)
    const struct CMUnitTest tests[] = {
        T(test_incremental__changed_blocks_only),
        T(test_incremental__chain_of_five),
        T(test_incremental__refusals),
        T(test_incremental__delete_parent),
        T(test_incremental__sparse),
        T(test_incremental__coalesce),
        T(test_incremental__connections),
        T(test_incremental__ranged_restore),
        T(test_incremental__zero_objects_not_fetched),
    };
    return cmocka_run_group_tests_name("incremental", tests, NULL, NULL);
}
