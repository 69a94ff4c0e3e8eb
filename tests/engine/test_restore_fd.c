/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_restore_fd.c: restores without a path (cb_restore_opts version 3), as the Cinder
 * driver makes them: into an open descriptor (a regular file, empty or holding other data,
 * a loop block device, a pipe) and through the target_write callback (RBD's file-like
 * objects), for a full backup and an incremental on top of it, bit-exact; zero ranges not
 * written where the target reads as zeros (target_zeroed, a file's part beyond its starting
 * size); a failing callback stops the restore with CB_EIO; a cancelled restore ends within
 * a second of the flip, with 50 MiB zlib objects on one thread; a 0-byte backup.
 *
 * Argument: a cmocka test filter ("*callback*": the TSan suite runs only those).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define RF_VOL (4u << 20) /* volume bytes */
#define RF_OBJ (1u << 20) /* object size */
#define RF_GRAIN (64u << 10)
#define RF_ZERO_ID "0b000000-0000-4000-8000-000000000000"

typedef struct rf {
    char *dir;
    char root[512], vol[600], out[600], loopfile[600];
    char loopdev[64];
    cb_store *store;
    unsigned char *want[2]; /* the volume at the full backup and at the incremental */
    char id[2][40];
    uint64_t zero_grains[2]; /* bytes in all-zero RF_GRAIN pieces of each: the least a
                                restore can skip */
    uint64_t zero_blocks[2]; /* bytes in all-zero 32 KiB blocks: the most (an incremental's
                                ranges can split a grain) */
} rf;

/* Random, zeros (some grains, some a partial grain), text; the incremental changes random
 * blocks, writes data into a zero range and zeros a range of data (zeros over data). */
static void rf_make(unsigned char *v, unsigned char *v2)
{
    tu_fill_random(v, RF_VOL, 7);
    memset(v + RF_VOL / 4, 0, RF_VOL / 4);                 /* 1 MiB of zeros */
    memset(v + RF_VOL / 2 + 1000, 0, 3 * RF_GRAIN + 5000); /* unaligned zeros */
    for (size_t i = RF_VOL * 3 / 4; i < RF_VOL; i++)
        v[i] = (unsigned char)("cinderblock in cinder "[i % 22]);
    memset(v + RF_VOL - RF_GRAIN * 2, 0, RF_GRAIN * 2); /* the volume ends in zeros */
    memcpy(v2, v, RF_VOL);
    tu_fill_random(v2 + 5 * 32768, 3 * 32768, 99);
    tu_fill_random(v2 + RF_VOL / 4 + 32768, 32768, 98); /* data in the zeros */
    memset(v2 + RF_VOL * 3 / 4, 0, 4 * RF_GRAIN);       /* zeros over the text */
}

static uint64_t rf_count_zeros(const unsigned char *v, size_t grain)
{
    static const unsigned char zero[RF_GRAIN];
    uint64_t n = 0;
    for (size_t off = 0; off < RF_VOL; off += grain)
        n += memcmp(v + off, zero, grain) == 0 ? grain : 0;
    return n;
}

/* The zeros a restore said it skipped: all of them, in whole grains or less. */
static void rf_assert_skipped(const rf *t, int level, uint64_t bytes_zero)
{
    if (bytes_zero < t->zero_grains[level] || bytes_zero > t->zero_blocks[level])
        fail_msg("the restore skipped %llu zero bytes; between %llu and %llu were expected",
                 (unsigned long long)bytes_zero, (unsigned long long)t->zero_grains[level],
                 (unsigned long long)t->zero_blocks[level]);
}

static int rf_setup(void **state)
{
    rf *t = calloc(1, sizeof(*t));
    cb_error err = { 0 };
    t->dir = tu_mkdtemp("restore-fd");
    snprintf(t->root, sizeof(t->root), "%s/store", t->dir);
    snprintf(t->vol, sizeof(t->vol), "%s/volume.img", t->dir);
    snprintf(t->out, sizeof(t->out), "%s/restored.img", t->dir);
    snprintf(t->loopfile, sizeof(t->loopfile), "%s/loop.img", t->dir);
    assert_int_equal(mkdir(t->root, 0755), 0);
    assert_cb_ok(cb_store_open(&t->store, t->root, NULL, &err), &err);
    t->want[0] = malloc(RF_VOL);
    t->want[1] = malloc(RF_VOL);
    rf_make(t->want[0], t->want[1]);
    for (int k = 0; k < 2; k++) {
        cb_backup_opts o = CB_BACKUP_OPTS_INIT;
        o.object_size = RF_OBJ;
        o.threads = 2;
        o.volume_id = "0a000000-0000-4000-8000-000000000001";
        o.parent_id = k > 0 ? t->id[0] : NULL;
        assert_cb_ok(tu_backup(t->store, t->vol, t->want[k], RF_VOL, &o, t->id[k], &err), &err);
        t->zero_grains[k] = rf_count_zeros(t->want[k], RF_GRAIN);
        t->zero_blocks[k] = rf_count_zeros(t->want[k], 32768);
    }
    assert_true(t->zero_grains[1] >= (1u << 20));
    *state = t;
    return 0;
}

static int rf_teardown(void **state)
{
    rf *t = *state;
    cb_store_free(t->store);
    tu_rmtree(t->dir);
    free(t->dir);
    free(t->want[0]);
    free(t->want[1]);
    free(t);
    return 0;
}

/* The first byte where `got` differs from `want`, or -1. */
static long rf_diff(const unsigned char *got, const unsigned char *want, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (got[i] != want[i])
            return (long)i;
    return -1;
}

/* `len` bytes read from descriptor `fd` at 0, compared with `want`. */
static void rf_assert_fd_holds(int fd, const unsigned char *want, size_t len)
{
    unsigned char *got = malloc(len);
    assert_int_equal(pread(fd, got, len, 0), (ssize_t)len);
    long at = rf_diff(got, want, len);
    if (at >= 0)
        fail_msg("the restored bytes differ from the volume at byte %ld", at);
    free(got);
}

static int rf_restore(rf *t, int level, cb_restore_opts *o, cb_progress *last, cb_error *err);

/* The restore's last report (not the --verify pass's after it). */
static void rf_last_progress(const cb_progress *p, void *payload)
{
    if (strcmp(p->phase, "restore") == 0)
        *(cb_progress *)payload = *p;
}

static int rf_restore(rf *t, int level, cb_restore_opts *o, cb_progress *last, cb_error *err)
{
    cb_progress dummy;
    o->progress = rf_last_progress;
    o->progress_payload = last != NULL ? last : &dummy;
    o->threads = 2;
    return cb_restore(t->store, t->id[level], NULL, o, err);
}

/* A file opened as Cinder's manager opens it ("wb": created or truncated to 0). */
static int rf_open_wb(rf *t)
{
    int fd = open(t->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    return fd;
}

/* An empty file: restored bit-exact, its size the volume's, the descriptor's offset
 * unmoved; the zero grains were not written (progress), and with sparse they are holes. */
static void test_restore_fd__empty_file(void **state)
{
    rf *t = *state;
    for (int level = 0; level < 2; level++) {
        for (int sparse = 0; sparse < 2; sparse++) {
            cb_restore_opts o = CB_RESTORE_OPTS_INIT;
            cb_progress last = { 0 };
            cb_error err = { 0 };
            int fd = rf_open_wb(t);
            o.target_fd = fd;
            o.sparse = sparse;
            o.verify = 1; /* read back through /proc/self/fd */
            assert_cb_ok(rf_restore(t, level, &o, &last, &err), &err);
            assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
            assert_int_equal(fcntl(fd, F_GETFD) >= 0, 1); /* not closed */
            close(fd);
            struct stat sb;
            assert_int_equal(stat(t->out, &sb), 0);
            assert_int_equal(sb.st_size, RF_VOL);
            assert_true(tu_file_equals(t->out, t->want[level], RF_VOL));
            /* the file read as zeros from byte 0: no zero grain went to the disk */
            rf_assert_skipped(t, level, last.bytes_zero);
            if (sparse && sb.st_blocks * 512 > (blkcnt_t)(RF_VOL - t->zero_grains[level]))
                fail_msg("sparse restore into a descriptor: %lld bytes allocated, the data is "
                         "%llu",
                         (long long)sb.st_blocks * 512,
                         (unsigned long long)(RF_VOL - t->zero_grains[level]));
        }
    }
}

/* A file holding other data, as large as the volume, larger, smaller: every byte of the
 * volume right afterwards (zeros written where the file had data), what lies beyond the
 * volume kept, the file never shrunk. */
static void test_restore_fd__file_with_data(void **state)
{
    rf *t = *state;
    static const size_t sizes[] = { RF_VOL, RF_VOL + 100000, RF_VOL / 2 + 777 };
    for (int level = 0; level < 2; level++) {
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            size_t size = sizes[s];
            unsigned char *old = malloc(size > RF_VOL ? size : RF_VOL);
            memset(old, 0xff, size);
            tu_write_file(t->out, old, size);
            int fd = open(t->out, O_RDWR | O_CLOEXEC);
            assert_true(fd >= 0);
            cb_restore_opts o = CB_RESTORE_OPTS_INIT;
            cb_progress last = { 0 };
            cb_error err = { 0 };
            o.target_fd = fd;
            assert_cb_ok(rf_restore(t, level, &o, &last, &err), &err);
            close(fd);
            size_t len = 0;
            unsigned char *got = tu_read_file(t->out, &len);
            assert_int_equal(len, size > RF_VOL ? size : RF_VOL);
            long at = rf_diff(got, t->want[level], RF_VOL);
            if (at >= 0)
                fail_msg("restore over a file of %zu bytes of 0xff differs at byte %ld (0x%02x)",
                         size, at, got[at]);
            if (size > RF_VOL)
                assert_int_equal(rf_diff(got + RF_VOL, old + RF_VOL, size - RF_VOL), -1);
            if (size == RF_VOL)
                assert_int_equal(last.bytes_zero, 0); /* every zero was written */
            else if (size < RF_VOL)                   /* beyond its start: zeros already */
                assert_true(last.bytes_zero > 0);
            free(got);
            free(old);
        }
    }
}

/* target_zeroed over a zeroed file: exact, the zero grains not written. */
static void test_restore_fd__file_zeroed(void **state)
{
    rf *t = *state;
    unsigned char *zero = calloc(1, RF_VOL);
    tu_write_file(t->out, zero, RF_VOL);
    int fd = open(t->out, O_WRONLY | O_CLOEXEC);
    cb_restore_opts o = CB_RESTORE_OPTS_INIT;
    cb_progress last = { 0 };
    cb_error err = { 0 };
    o.target_fd = fd;
    o.target_zeroed = 1;
    assert_cb_ok(rf_restore(t, 1, &o, &last, &err), &err);
    close(fd);
    assert_true(tu_file_equals(t->out, t->want[1], RF_VOL));
    rf_assert_skipped(t, 1, last.bytes_zero);
    free(zero);
}

/* Descriptors that cannot be targets, and options that do not apply. */
static void test_restore_fd__refused(void **state)
{
    rf *t = *state;
    cb_restore_opts o = CB_RESTORE_OPTS_INIT;
    cb_error err = { 0 };
    assert_int_equal(rf_restore(t, 0, &o, NULL, &err), CB_EINVAL); /* INIT: no target */
    assert_cb_error(&err, CB_EINVAL, "no restore target given");
    cb_error_clear(&err);
    tu_write_file(t->out, "x", 1);
    int fd = open(t->out, O_RDONLY | O_CLOEXEC);
    o.target_fd = fd;
    assert_int_equal(rf_restore(t, 0, &o, NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "not open for writing");
    close(fd);
    cb_error_clear(&err);
    fd = open(t->out, O_WRONLY | O_APPEND | O_CLOEXEC);
    o.target_fd = fd;
    assert_int_equal(rf_restore(t, 0, &o, NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "O_APPEND");
    close(fd);
    cb_error_clear(&err);
    o.target_fd = fd; /* closed now */
    assert_int_equal(rf_restore(t, 0, &o, NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "is not open");
    cb_error_clear(&err);
    int p[2];
    assert_int_equal(pipe(p), 0);
    o.target_fd = p[1];
    o.verify = 1;
    assert_int_equal(rf_restore(t, 0, &o, NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "--verify does not apply to a restore into a stream");
    close(p[0]);
    close(p[1]);
}

typedef struct rf_pipe {
    int fd;
    unsigned char *buf;
    size_t len, cap;
} rf_pipe;

static void *rf_pipe_reader(void *arg)
{
    rf_pipe *p = arg;
    ssize_t n;
    while (p->len < p->cap && (n = read(p->fd, p->buf + p->len, p->cap - p->len)) > 0)
        p->len += (size_t)n;
    return NULL;
}

/* A pipe as the descriptor: written in order as a stream. */
static void test_restore_fd__pipe(void **state)
{
    rf *t = *state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    rf_pipe p = { .fd = fds[0], .buf = malloc(RF_VOL + 1), .cap = RF_VOL + 1 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, rf_pipe_reader, &p), 0);
    cb_restore_opts o = CB_RESTORE_OPTS_INIT;
    cb_error err = { 0 };
    o.target_fd = fds[1];
    assert_cb_ok(rf_restore(t, 1, &o, NULL, &err), &err);
    close(fds[1]);
    pthread_join(th, NULL);
    close(fds[0]);
    assert_int_equal(p.len, RF_VOL);
    assert_int_equal(rf_diff(p.buf, t->want[1], RF_VOL), -1);
    free(p.buf);
}

/* As root, a loop device over a file; *dev set ("" when there is none). */
static void rf_loop_attach(rf *t, size_t size, int fill)
{
    char cmd[800];
    unsigned char *b = malloc(size);
    memset(b, fill, size);
    tu_write_file(t->loopfile, b, size);
    free(b);
    snprintf(cmd, sizeof(cmd), "losetup --find --show '%s' 2>/dev/null", t->loopfile);
    FILE *p = popen(cmd, "r");
    t->loopdev[0] = '\0';
    if (p != NULL && fgets(t->loopdev, sizeof(t->loopdev), p) != NULL)
        t->loopdev[strcspn(t->loopdev, "\n")] = '\0';
    if (p != NULL)
        pclose(p);
}

static int rf_loop_detach(void **state)
{
    rf *t = *state;
    char cmd[128];
    if (t->loopdev[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "losetup -d '%s'", t->loopdev);
        if (system(cmd) != 0)
            return -1;
    }
    t->loopdev[0] = '\0';
    return 0;
}

/* A root-only loop device: target_zeroed 0 over 0xff bytes, target_zeroed 1 over zeros,
 * and one too small for the volume. */
static void test_restore_fd__loop_device(void **state)
{
    rf *t = *state;
    if (geteuid() != 0 || system("command -v losetup >/dev/null 2>&1") != 0) {
        print_message("SKIP: the loop device test needs root and losetup\n");
        skip();
    }
    for (int zeroed = 0; zeroed < 2; zeroed++) {
        rf_loop_attach(t, RF_VOL + RF_OBJ, zeroed ? 0 : 0xff);
        if (t->loopdev[0] == '\0') {
            print_message("SKIP: no loop device could be attached\n");
            skip();
        }
        int fd = open(t->loopdev, O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        cb_restore_opts o = CB_RESTORE_OPTS_INIT;
        cb_progress last = { 0 };
        cb_error err = { 0 };
        o.target_fd = fd;
        o.target_zeroed = zeroed;
        o.verify = 1;
        assert_cb_ok(rf_restore(t, 1, &o, &last, &err), &err);
        close(fd);
        fd = open(t->loopdev, O_RDONLY | O_CLOEXEC);
        rf_assert_fd_holds(fd, t->want[1], RF_VOL);
        unsigned char tail[RF_OBJ], fill[RF_OBJ];
        memset(fill, zeroed ? 0 : 0xff, sizeof(fill));
        assert_int_equal(pread(fd, tail, sizeof(tail), RF_VOL), (ssize_t)sizeof(tail));
        assert_memory_equal(tail, fill, sizeof(tail)); /* beyond the volume: untouched */
        close(fd);
        if (zeroed)
            rf_assert_skipped(t, 1, last.bytes_zero);
        else
            assert_int_equal(last.bytes_zero, 0);
        assert_int_equal(rf_loop_detach(state), 0);
    }
    rf_loop_attach(t, RF_VOL / 2, 0);
    int fd = open(t->loopdev, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    cb_restore_opts o = CB_RESTORE_OPTS_INIT;
    cb_error err = { 0 };
    o.target_fd = fd;
    assert_int_equal(rf_restore(t, 1, &o, NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "holds 2097152 bytes; the backup needs 4194304");
    cb_error_clear(&err);
    o.sparse = 1;
    assert_int_equal(rf_restore(t, 1, &o, NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "--sparse does not apply to a block device");
    close(fd);
}

/* What the callback saw. */
typedef struct rf_sink {
    unsigned char *mem; /* the volume as written (zeros where nothing was) */
    uint64_t next;      /* where the last call ended */
    uint64_t bytes;     /* bytes passed */
    unsigned calls, jumps, fail_at;
    int bad_order;
    size_t max_len;
} rf_sink;

static long long rf_write(void *payload, const void *buf, size_t len, uint64_t offset)
{
    rf_sink *s = payload;
    s->calls++;
    if (s->fail_at != 0 && s->calls == s->fail_at)
        return -ENOSPC;
    if (offset < s->next || offset + len > RF_VOL || len == 0)
        s->bad_order = 1;
    else {
        s->jumps += offset > s->next;
        memcpy(s->mem + offset, buf, len);
    }
    s->max_len = len > s->max_len ? len : s->max_len;
    s->next = offset + len;
    s->bytes += len;
    return (long long)len;
}

static void rf_callback_restore(rf *t, int level, int zeroed, rf_sink *s, cb_progress *last)
{
    cb_restore_opts o = CB_RESTORE_OPTS_INIT;
    cb_error err = { 0 };
    memset(s, 0, sizeof(*s));
    s->mem = calloc(1, RF_VOL);
    o.target_write = rf_write;
    o.target_write_payload = s;
    o.target_zeroed = zeroed;
    o.target_fd = 1; /* ignored: the callback wins */
    assert_cb_ok(rf_restore(t, level, &o, last, &err), &err);
    assert_false(s->bad_order);
    assert_int_equal(rf_diff(s->mem, t->want[level], RF_VOL), -1);
    assert_true(s->max_len <= (4u << 20));
}

/* Every byte in order, contiguous; with target_zeroed the zero grains are skipped. */
static void test_restore_fd__callback(void **state)
{
    rf *t = *state;
    for (int level = 0; level < 2; level++) {
        rf_sink s;
        cb_progress last = { 0 };
        rf_callback_restore(t, level, 0, &s, &last);
        assert_int_equal(s.jumps, 0);
        assert_int_equal(s.bytes, RF_VOL);
        assert_int_equal(s.next, RF_VOL);
        assert_int_equal(last.bytes_zero, 0);
        free(s.mem);
        rf_callback_restore(t, level, 1, &s, &last);
        assert_true(s.jumps > 0);
        rf_assert_skipped(t, level, last.bytes_zero);
        assert_int_equal(s.bytes, RF_VOL - last.bytes_zero);
        free(s.mem);
    }
}

/* A callback failing at its 3rd call: CB_EIO, and no call after it. */
static void test_restore_fd__callback_fails(void **state)
{
    rf *t = *state;
    rf_sink s = { .mem = calloc(1, RF_VOL), .fail_at = 3 };
    cb_restore_opts o = CB_RESTORE_OPTS_INIT;
    cb_error err = { 0 };
    o.target_write = rf_write;
    o.target_write_payload = &s;
    assert_int_equal(rf_restore(t, 1, &o, NULL, &err), CB_EIO);
    assert_cb_error(&err, CB_EIO, "target_write callback failed at byte");
    assert_non_null(strstr(err.msg, strerror(ENOSPC)));
    assert_int_equal(s.calls, 3);
    /* refused options */
    cb_error_clear(&err);
    o.sparse = 1;
    assert_int_equal(rf_restore(t, 1, &o, NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "--sparse does not apply to a restore into a target_write");
    cb_error_clear(&err);
    o.sparse = 0;
    o.verify = 1;
    assert_int_equal(rf_restore(t, 1, &o, NULL, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "--verify does not apply");
    assert_int_equal(s.calls, 3);
    free(s.mem);
}

/* A 0-byte backup (Cinder's: no objects, `sha256s: []`), made by emptying one: a
 * descriptor's file stays empty, the callback is never called. */
static void rf_empty_backup(rf *t)
{
    char dir[700], path[1100];
    cb_error err = { 0 };
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    char id[40];
    o.backup_id = RF_ZERO_ID;
    o.container = "empty";
    o.volume_id = "0a000000-0000-4000-8000-000000000002";
    assert_cb_ok(tu_backup(t->store, t->vol, t->want[0], RF_GRAIN, &o, id, &err), &err);
    snprintf(dir, sizeof(dir), "%s/empty", t->root);
    DIR *d = opendir(dir);
    struct dirent *de;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        const char *key = NULL;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (n > 9 && strcmp(de->d_name + n - 9, "_metadata") == 0)
            key = "objects";
        else if (n > 11 && strcmp(de->d_name + n - 11, "_sha256file") == 0)
            key = "sha256s";
        else if (de->d_name[0] != '.')
            assert_int_equal(unlink(path), 0); /* the data object */
        if (key == NULL)
            continue;
        json_t *j = json_load_file(path, 0, NULL);
        assert_non_null(j);
        json_object_set_new(j, key, json_array());
        assert_int_equal(json_dump_file(j, path, JSON_INDENT(2) | JSON_SORT_KEYS), 0);
        json_decref(j);
    }
    closedir(d);
}

static void test_restore_fd__empty_backup(void **state)
{
    rf *t = *state;
    rf_empty_backup(t);
    cb_restore_opts o = CB_RESTORE_OPTS_INIT;
    cb_error err = { 0 };
    int fd = rf_open_wb(t);
    o.target_fd = fd;
    o.verify = 1;
    assert_cb_ok(cb_restore(t->store, RF_ZERO_ID, NULL, &o, &err), &err);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    assert_int_equal(sb.st_size, 0);
    close(fd);
    rf_sink s = { 0 };
    o = (cb_restore_opts)CB_RESTORE_OPTS_INIT;
    o.target_write = rf_write;
    o.target_write_payload = &s;
    o.target_zeroed = 1;
    assert_cb_ok(cb_restore(t->store, RF_ZERO_ID, NULL, &o, &err), &err);
    assert_int_equal(s.calls, 0);
}

/* ---- cancel: 50 MiB zlib objects, one thread ---- */

#define RC_OBJ (50u << 20)
#define RC_VOL (4 * (uint64_t)RC_OBJ)

typedef struct rc {
    atomic_int flag;         /* the cancel hook's answer */
    atomic_int fetching;     /* the restore fetches objects */
    struct timespec flipped; /* when flag was set */
    struct timespec polled;  /* the hook's last call */
    double max_gap;          /* the longest time between two calls while fetching */
    cb_progress last;
    rf_sink sink;
} rc;

static double rc_since(const struct timespec *a);

static int rc_cancel(void *payload)
{
    rc *c = payload;
    if (atomic_load(&c->fetching) && c->polled.tv_sec != 0) {
        double gap = rc_since(&c->polled);
        c->max_gap = gap > c->max_gap ? gap : c->max_gap;
    }
    clock_gettime(CLOCK_MONOTONIC, &c->polled);
    return atomic_load(&c->flag);
}

static void rc_progress(const cb_progress *p, void *payload)
{
    rc *c = payload;
    if (p->step != NULL && strncmp(p->step, "fetching", 8) == 0)
        atomic_store(&c->fetching, 1);
    c->last = *p;
}

/* The other thread that flips the flag, as the driver's polling thread does. */
static void *rc_flipper(void *arg)
{
    rc *c = arg;
    struct timespec pause = { 0, 20 * 1000 * 1000 };
    while (!atomic_load(&c->fetching))
        nanosleep(&pause, NULL);
    pause.tv_nsec = 150 * 1000 * 1000; /* well into the first objects */
    nanosleep(&pause, NULL);
    clock_gettime(CLOCK_MONOTONIC, &c->flipped);
    atomic_store(&c->flag, 1);
    return NULL;
}

static double rc_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static long long rc_write(void *payload, const void *buf, size_t len, uint64_t offset)
{
    rf_sink *s = payload;
    (void)buf;
    s->bad_order |= offset != s->next;
    s->next = offset + len;
    s->bytes += len;
    return (long long)len;
}

static void test_restore_fd__cancel(void **state)
{
    rf *t = *state;
    cb_error err = { 0 };
    char id[40];
    unsigned char *v = malloc(RC_VOL);
    tu_fill_random(v, RC_VOL, 5);
    for (uint64_t i = 0; i < RC_VOL; i++) /* 4 bits a byte: zlib works for it */
        v[i] = (unsigned char)(0x40 | (v[i] & 0x0f));
    cb_backup_opts bo = CB_BACKUP_OPTS_INIT;
    bo.object_size = RC_OBJ;
    bo.compression = "zlib";
    bo.volume_id = "0a000000-0000-4000-8000-000000000003";
    assert_cb_ok(tu_backup(t->store, t->vol, v, RC_VOL, &bo, id, &err), &err);
    free(v);
    unlink(t->vol);
    for (int form = 0; form < 2; form++) { /* a descriptor's file, the callback */
        rc c = { 0 };
        cb_restore_opts o = CB_RESTORE_OPTS_INIT;
        int fd = -1;
        o.threads = 1;
        o.cancel = rc_cancel;
        o.cancel_payload = &c;
        o.progress = rc_progress;
        o.progress_payload = &c;
        if (form == 0) {
            o.target_fd = fd = rf_open_wb(t);
        } else {
            o.target_write = rc_write;
            o.target_write_payload = &c.sink;
        }
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, rc_flipper, &c), 0);
        int rc_ = cb_restore(t->store, id, NULL, &o, &err);
        double late = rc_since(&c.flipped);
        pthread_join(th, NULL);
        print_message("cancel (%s): cb_restore returned %s %.3f s after the flip, %llu of %llu "
                      "bytes restored; the hook was polled every %.3f s at most\n",
                      form ? "callback" : "descriptor", cb_status_name(rc_), late,
                      (unsigned long long)c.last.bytes_done, (unsigned long long)RC_VOL, c.max_gap);
        assert_int_equal(rc_, CB_ECANCELED);
        assert_cb_error(&err, CB_ECANCELED, "cancel");
        cb_error_clear(&err);
        assert_true(late < 2.0);
        assert_true(c.max_gap < 0.5);
        assert_true(c.last.bytes_done < RC_VOL); /* stopped midway */
        if (form == 1)
            assert_true(c.sink.bytes < RC_VOL && !c.sink.bad_order);
        if (fd >= 0)
            close(fd);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restore_fd__empty_file),
        cmocka_unit_test(test_restore_fd__file_with_data),
        cmocka_unit_test(test_restore_fd__file_zeroed),
        cmocka_unit_test(test_restore_fd__refused),
        cmocka_unit_test(test_restore_fd__pipe),
        cmocka_unit_test_teardown(test_restore_fd__loop_device, rf_loop_detach),
        cmocka_unit_test(test_restore_fd__callback),
        cmocka_unit_test(test_restore_fd__callback_fails),
        cmocka_unit_test(test_restore_fd__empty_backup),
        cmocka_unit_test(test_restore_fd__cancel),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, rf_setup, rf_teardown);
}
