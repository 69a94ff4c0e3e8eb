/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dio.h: big writes to a file through O_DIRECT where the file system allows it.
 *
 * A backup writes its objects and a restore its disk image once, and nobody reads them
 * back soon. Through the page cache every byte is copied into freshly allocated pages (on
 * a VM, pages the host must back first: a first touch runs at 0.4-1.9 GB/s here, against
 * 24 GB/s for memory in use), and the cache fills with data nobody wants. O_DIRECT writes
 * go from our buffer to the disk, but only from aligned memory, at aligned offsets, in
 * aligned lengths. So writes are staged, contiguous, in an aligned buffer and written when
 * it is full or the next write does not follow on: the aligned middle directly, a partial
 * block at either end through the page cache. Where O_DIRECT is refused (tmpfs; at open or
 * at write), everything goes through the page cache, unstaged.
 *
 * With a pool, a full buffer is written by the pool's thread while the caller fills the
 * other one; without, the caller writes it and waits.
 *
 * The first CB_DIO_LEN bytes of each cb_dio go through the page cache all the same: an
 * O_DIRECT write waits for the disk, and a small file (an incremental writes thousands)
 * would wait for it at its close, where the page cache just takes the bytes.
 */
#ifndef CB_UTIL_DIO_H
#define CB_UTIL_DIO_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cinderblock/common.h"

#define CB_DIO_ALIGN 4096u       /* covers 512- and 4096-byte logical blocks */
#define CB_DIO_LEN (1024u << 10) /* one staging buffer; a multiple of CB_DIO_ALIGN */
#define CB_DIO_LAZY (-2)         /* for cb_dio_init's dfd: open it when first needed */

typedef struct cb_dio_pool cb_dio_pool; /* a writing thread, shared by many files */

int cb_dio_pool_new(cb_dio_pool **out, cb_error *err);
void cb_dio_pool_free(cb_dio_pool *p); /* every file using it must be disposed of first */

struct cb_dio;

/* Where a cb_dio's plain (not O_DIRECT) writes go: `len` bytes at `off`; returns the bytes
 * written (a short write is retried for the rest) or < 0, -errno. pwrite(2) on the file's
 * descriptor, or a caller's function (a restore's target_pwrite). */
typedef long long (*cb_dio_write_fn)(void *payload, const void *buf, size_t len, uint64_t off);

typedef struct cb_dio_buf {
    unsigned char *data; /* CB_DIO_LEN bytes, aligned */
    uint64_t base;       /* file offset of data[0], aligned */
    size_t head;         /* where the staged bytes start in data (< CB_DIO_ALIGN) */
    size_t len;          /* bytes staged */
    int busy;            /* with the pool (under its lock) */
    struct cb_dio *owner;
    struct cb_dio_buf *next; /* the pool's queue */
} cb_dio_buf;

typedef struct cb_dio {
    int fd;                   /* the file, for the partial blocks and when O_DIRECT is refused */
    cb_dio_write_fn write_fn; /* every plain write goes through it: pwrite(2) on fd, or ... */
    void *write_payload;      /* ... the caller's function (cb_dio_init_fn) */
    int dfd;                  /* the same file opened O_DIRECT, -1, or CB_DIO_LAZY */
    int own_dfd;              /* opened here (CB_DIO_LAZY): closed by cb_dio_dispose */
    uint64_t plain;           /* bytes still to go through the page cache before staging starts */
    const char *name;         /* for messages: the file's path, or the object's name */
    cb_dio_pool *pool;
    cb_dio_buf b[2];
    int cur;        /* the buffer being filled */
    int pool_errno; /* a write the pool failed (under its lock) */
    uint64_t pool_off;
} cb_dio;

/* `dfd` -1: plain positioned writes to `fd`; CB_DIO_LAZY: `fd` is reopened with O_DIRECT
 * once more than CB_DIO_LEN bytes come. `pool` NULL: write synchronously. The strings must
 * outlive the cb_dio. */
void cb_dio_init(cb_dio *d, int fd, int dfd, const char *name, cb_dio_pool *pool);

/* Plain positioned writes through `fn` only: no descriptor, no O_DIRECT, no pool; each
 * cb_dio_write is one or more calls of `fn` at once, from the caller's thread. */
void cb_dio_init_fn(cb_dio *d, cb_dio_write_fn fn, void *payload, const char *name);

/* Write `len` bytes at `off`, now or later. */
int cb_dio_write(cb_dio *d, const void *data, size_t len, uint64_t off, cb_error *err);

/* Everything written, and the first failure of any earlier write reported. */
int cb_dio_flush(cb_dio *d, cb_error *err);

/* Waits for the pool to finish with this file's buffers (what is staged is dropped);
 * closes a descriptor it opened. */
void cb_dio_dispose(cb_dio *d);

/* Open `path`, or the open file `fd` (path NULL), for writing with O_DIRECT; -1 where
 * the file system refuses it or is not suited to it (cb__dio_fs_suits). */
int cb_dio_open(const char *path, int fd);

/* 0 for file systems (statfs f_type) that get the page cache even where they accept
 * O_DIRECT: on network and FUSE file systems an O_DIRECT write goes to the server, or
 * the daemon, on its own and is waited for, with none of the page cache's write-behind
 * and batching; some of them also handle it badly. Local disks and block devices: 1. */
int cb__dio_fs_suits(unsigned long f_type);

/* A block device's size in bytes (BLKGETSIZE64); -1 with errno set if `fd` is none. */
int cb__dev_size(int fd, uint64_t *size_out);

#endif
