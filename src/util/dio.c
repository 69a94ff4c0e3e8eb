/* SPDX-License-Identifier: Apache-2.0 */
/* dio.c: staged O_DIRECT writes, synchronous or through a writing thread (dio.h). */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util.h"
#include "dio.h"

struct cb_dio_pool {
    pthread_mutex_t lock;
    pthread_cond_t work; /* a buffer queued, or stop */
    pthread_cond_t done; /* a buffer written */
    cb_dio_buf *head, *tail;
    int stop;
    pthread_t thread;
};

/* ---- writing one buffer out; 0 or an errno, with the offset that failed ---- */

/* A descriptor's plain write (cb_dio_write_fn): the payload is the descriptor. */
static long long dio_fd_pwrite(void *payload, const void *buf, size_t len, uint64_t off)
{
    for (;;) {
        ssize_t n = pwrite((int)(intptr_t)payload, buf, len, (off_t)off);
        if (n >= 0)
            return (long long)n;
        if (errno != EINTR)
            return -(long long)errno;
    }
}

/* Through the cb_dio's write function, the one path of every plain write. */
static int
dio_plain(const cb_dio *d, const unsigned char *p, size_t len, uint64_t off, uint64_t *bad)
{
    while (len > 0) {
        long long n = d->write_fn(d->write_payload, p, len, off);
        if (n <= 0 || (unsigned long long)n > len) {
            *bad = off;
            return n < 0 && n >= -4095 ? (int)-n : EIO;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* The aligned middle straight to the disk; -1 if the kernel refused it (then it is written
 * through the page cache instead: a partial block written is simply written again). */
static int dio_direct(int dfd, const unsigned char *p, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(dfd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (size_t)n % CB_DIO_ALIGN != 0)
            return -1;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int dio_out(const cb_dio *d, const cb_dio_buf *b, uint64_t *bad)
{
    uint64_t start = b->base + b->head, end = start + b->len;
    uint64_t a = (start + CB_DIO_ALIGN - 1) / CB_DIO_ALIGN * CB_DIO_ALIGN;
    uint64_t z = end / CB_DIO_ALIGN * CB_DIO_ALIGN;
    const unsigned char *p = b->data + b->head;
    int rc = 0;
    if (z <= a || dio_direct(d->dfd, b->data + (a - b->base), (size_t)(z - a), a) < 0)
        return dio_plain(d, p, b->len, start, bad);
    if (a > start)
        rc = dio_plain(d, p, (size_t)(a - start), start, bad);
    if (rc == 0 && end > z)
        rc = dio_plain(d, p + (z - start), (size_t)(end - z), z, bad);
    return rc;
}

static int dio_error(const cb_dio *d, int e, uint64_t off, cb_error *err)
{
    if (d->write_fn != dio_fd_pwrite) /* the caller's function: the name says what it is */
        return cb_error_set_sys(err, CB_EIO, e, "%s failed at offset %llu", d->name,
                                (unsigned long long)off);
    return cb_error_set_sys(err, CB_EIO, e, "writing '%s' at offset %llu", d->name,
                            (unsigned long long)off);
}

/* ---- the pool ---- */

static void *dio_pool_main(void *arg)
{
    cb_dio_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->head == NULL && !p->stop)
            pthread_cond_wait(&p->work, &p->lock);
        cb_dio_buf *b = p->head;
        if (b == NULL)
            break;
        if ((p->head = b->next) == NULL)
            p->tail = NULL;
        pthread_mutex_unlock(&p->lock);
        uint64_t bad = 0;
        int e = dio_out(b->owner, b, &bad);
        pthread_mutex_lock(&p->lock);
        if (e != 0 && b->owner->pool_errno == 0) {
            b->owner->pool_errno = e;
            b->owner->pool_off = bad;
        }
        b->len = 0;
        b->busy = 0;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int cb_dio_pool_new(cb_dio_pool **out, cb_error *err)
{
    cb_dio_pool *p = cb__calloc(1, sizeof(*p), err);
    *out = NULL;
    if (p == NULL)
        return CB_ENOMEM;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    int e = pthread_create(&p->thread, NULL, dio_pool_main, p);
    if (e != 0) {
        free(p);
        return cb_error_set_sys(err, CB_ERROR, e, "cannot start a writing thread");
    }
    *out = p;
    return 0;
}

void cb_dio_pool_free(cb_dio_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    free(p);
}

/* Wait until the pool is done with b (or with both buffers: b NULL); the first failure of
 * the pool's writes for this file. */
static int dio_wait(cb_dio *d, const cb_dio_buf *b, cb_error *err)
{
    cb_dio_pool *p = d->pool;
    pthread_mutex_lock(&p->lock);
    while (b != NULL ? b->busy : (d->b[0].busy || d->b[1].busy))
        pthread_cond_wait(&p->done, &p->lock);
    int e = d->pool_errno;
    uint64_t off = d->pool_off;
    pthread_mutex_unlock(&p->lock);
    return e != 0 ? dio_error(d, e, off, err) : 0;
}

/* ---- files ---- */

int cb__dio_fs_suits(unsigned long f_type)
{
    switch (f_type) {
    case 0x6969UL:     /* NFS */
    case 0x517bUL:     /* SMB */
    case 0xff534d42UL: /* CIFS */
    case 0xfe534d42UL: /* SMB2 */
    case 0x65735546UL: /* FUSE (sshfs, virtiofs, s3fs, ...) */
    case 0x00c36400UL: /* Ceph */
    case 0x0bd00bd0UL: /* Lustre */
    case 0x01021997UL: /* 9p */
    case 0x5346414fUL: /* AFS */
        return 0;
    default:
        return 1;
    }
}

int cb_dio_open(const char *path, int fd)
{
    char proc[64];
    struct stat sb;
    struct statfs fs;
    if (path == NULL) {
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        path = proc;
    }
    /* a block device is written directly whatever file system holds its node */
    if (stat(path, &sb) < 0 ||
        (!S_ISBLK(sb.st_mode) && (statfs(path, &fs) < 0 || !cb__dio_fs_suits(fs.f_type))))
        return -1;
    return open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
}

void cb_dio_init(cb_dio *d, int fd, int dfd, const char *name, cb_dio_pool *pool)
{
    memset(d, 0, sizeof(*d));
    d->fd = fd;
    d->write_fn = dio_fd_pwrite;
    d->write_payload = (void *)(intptr_t)fd;
    d->dfd = dfd;
    d->plain = CB_DIO_LEN;
    d->name = name;
    d->pool = pool;
    for (int i = 0; i < 2; i++)
        d->b[i].owner = d;
}

void cb_dio_init_fn(cb_dio *d, cb_dio_write_fn fn, void *payload, const char *name)
{
    cb_dio_init(d, -1, -1, name, NULL);
    d->write_fn = fn;
    d->write_payload = payload;
}

/* Hand the current buffer over (to the pool, or write it now) and make the other one
 * current, once it is free. */
static int dio_submit(cb_dio *d, cb_error *err)
{
    cb_dio_buf *b = &d->b[d->cur];
    if (d->pool == NULL) {
        uint64_t bad = 0;
        int e = dio_out(d, b, &bad);
        b->len = 0;
        return e != 0 ? dio_error(d, e, bad, err) : 0;
    }
    cb_dio_pool *p = d->pool;
    pthread_mutex_lock(&p->lock);
    b->busy = 1;
    b->next = NULL;
    if (p->tail != NULL)
        p->tail->next = b;
    else
        p->head = b;
    p->tail = b;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
    d->cur ^= 1;
    return dio_wait(d, &d->b[d->cur], err);
}

int cb_dio_write(cb_dio *d, const void *data, size_t len, uint64_t off, cb_error *err)
{
    const unsigned char *p = data;
    int rc;
    if (d->dfd == -1 || d->plain > 0) {
        uint64_t bad = 0;
        size_t n = d->dfd == -1 || len < d->plain ? len : (size_t)d->plain;
        int e = dio_plain(d, p, n, off, &bad);
        if (e != 0)
            return dio_error(d, e, bad, err);
        d->plain -= d->plain < n ? d->plain : n;
        if ((len -= n) == 0)
            return 0;
        p += n;
        off += n;
    }
    if (d->dfd == CB_DIO_LAZY) {
        d->dfd = cb_dio_open(NULL, d->fd);
        d->own_dfd = d->dfd >= 0;
        if (d->dfd < 0) /* refused: plain from now on */
            return cb_dio_write(d, p, len, off, err);
    }
    cb_dio_buf *b = &d->b[d->cur];
    if (b->len > 0 && off != b->base + b->head + b->len) {
        if ((rc = dio_submit(d, err)) < 0)
            return rc;
        b = &d->b[d->cur];
    }
    while (len > 0) {
        if (b->data == NULL) {
            if ((b->data = cb__aligned_alloc(CB_DIO_ALIGN, CB_DIO_LEN, NULL)) == NULL)
                return cb_error_set(err, CB_ENOMEM, "out of memory");
        }
        if (b->len == 0) {
            b->base = off / CB_DIO_ALIGN * CB_DIO_ALIGN;
            b->head = (size_t)(off - b->base);
        }
        size_t room = CB_DIO_LEN - b->head - b->len;
        size_t n = len < room ? len : room;
        memcpy(b->data + b->head + b->len, p, n);
        b->len += n;
        p += n;
        off += n;
        len -= n;
        if (b->head + b->len == CB_DIO_LEN) {
            if ((rc = dio_submit(d, err)) < 0)
                return rc;
            b = &d->b[d->cur];
        }
    }
    return 0;
}

int cb_dio_flush(cb_dio *d, cb_error *err)
{
    int rc;
    if (d->dfd < 0)
        return 0;
    if (d->b[d->cur].len > 0 && (rc = dio_submit(d, err)) < 0)
        return rc;
    return d->pool != NULL ? dio_wait(d, NULL, err) : 0;
}

void cb_dio_dispose(cb_dio *d)
{
    if (d->pool != NULL) {
        cb_error ignored = { 0 };
        dio_wait(d, NULL, &ignored);
    }
    for (int i = 0; i < 2; i++) {
        free(d->b[i].data);
        d->b[i].data = NULL;
        d->b[i].len = 0;
    }
    if (d->own_dfd)
        close(d->dfd);
    d->own_dfd = 0;
    d->dfd = -1;
}

int cb__dev_size(int fd, uint64_t *size_out)
{
    unsigned long long size = 0;
    if (ioctl(fd, BLKGETSIZE64, &size) < 0)
        return -1;
    *size_out = size;
    return 0;
}
