/* SPDX-License-Identifier: Apache-2.0 */
/* target.h: where a restore writes: a regular file (under a temporary name until it is
 * complete) or a block device. */
#ifndef CB_RESTORE_TARGET_H
#define CB_RESTORE_TARGET_H

#include <stdint.h>

#include "cinderblock/common.h"
#include "../util/util.h"

typedef struct cb_target {
    int fd;
    int dfd; /* the same file opened O_DIRECT, or -1 (util/dio.h) */
    int is_block;
    int is_new_file;          /* a regular file written to a temporary name, renamed at commit */
    int zeros_free;           /* a new file whose unwritten bytes read as zeros: skip zero writes */
    int in_place;             /* written where the caller reads it (a device, a descriptor's file):
                                 each object is verified before any of it is written */
    int from_fd;              /* opened from a caller's descriptor: `fd` is our duplicate of it */
    uint64_t zero_from;       /* !zeros_free: bytes from here on read as zeros already (a file
                                 descriptor's starting size); UINT64_MAX: none do */
    uint64_t size;            /* the volume size being restored */
    char *path;               /* the target as given (a descriptor: "descriptor N", for messages) */
    char *tmp_path;           /* regular files: the temporary name in the same directory */
    cb_dio_write_fn write_fn; /* the caller's function (target_pwrite): written through it,
                                 in place, no descriptor (fd and dfd -1) */
    void *write_payload;
    int (*flush_fn)(void *payload); /* with write_fn: called once at commit, or NULL */
} cb_target;

/*
 * Open a restore target for `size` bytes. A regular file is written under a temporary name
 * next to it and renamed over it by cb__target_commit(), so a failed restore leaves an
 * existing file untouched. A block device must hold at least `size` bytes and is written in
 * place (never truncated).
 *
 * A new file's blocks are all reserved at once (fallocate), unless `sparse`: the restore
 * then fails at the start, not midway, when the space is not there, and all-zero data need
 * not be written (`zeros_free`). With `sparse`, zeros are left as holes instead. Where the
 * file system cannot reserve, every byte is written.
 *
 * An existing regular file is replaced only with `overwrite` (else CB_EEXISTS naming it),
 * and keeps its mode; a new file gets 0644 less the umask. A block device is opened O_EXCL,
 * which the kernel refuses while it is mounted or held open exclusively (CB_EINUSE).
 */
int cb__target_open(
    cb_target *t, const char *path, uint64_t size, int sparse, int overwrite, cb_error *err);

/*
 * The same for an open descriptor `fd` (cb_restore_opts version 3), which is duplicated:
 * the caller's descriptor is never closed, and its offset not used (pwrite). A block device
 * must hold `size` bytes and is written in place; a regular file too, extended to `size` if
 * shorter (never truncated), its part beyond the starting size reserved unless `sparse`
 * (zeros there are not written either way). `zeroed`: the target reads as zeros already.
 * A pipe, socket or character device is no target here: *stream_out is set to 1 and `t` is
 * left closed (the caller writes `fd` as a stream).
 */
int cb__target_open_fd(
    cb_target *t, int fd, uint64_t size, int sparse, int zeroed, int *stream_out, cb_error *err);

/*
 * A target that is the caller's write function `fn` (cb_restore_opts version 4,
 * target_pwrite), of `size` bytes: written as a block device is (in place, objects in any
 * order, each verified before it is written) but through `fn`: no O_DIRECT, and
 * cb__target_commit calls `flush` (when not NULL) instead of fdatasync. `zeroed`: the target
 * reads as zeros already (all-zero ranges are not written).
 */
int cb__target_open_fn(cb_target *t,
                       cb_dio_write_fn fn,
                       int (*flush)(void *payload),
                       void *payload,
                       uint64_t size,
                       int zeroed,
                       cb_error *err);

/* Start a worker's writer on the target: its descriptors, or its write function. */
void cb__target_dio_init(const cb_target *t, cb_dio *d, cb_dio_pool *pool);

/* Writes go through a cb_dio (util/dio.h) on `fd` and `dfd`. */

/* Start writing [off, off+len) to disk now, without waiting, so that the flush at the end
 * has little left to do. Errors surface at cb__target_commit(). */
void cb__target_writeback(const cb_target *t, uint64_t off, uint64_t len);

/* Flush once at the end (not per object) and move a regular file into place. */
int cb__target_commit(cb_target *t, cb_error *err);

/* Close; an uncommitted temporary file is removed. */
void cb__target_close(cb_target *t);

#endif
