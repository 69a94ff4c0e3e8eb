/* SPDX-License-Identifier: Apache-2.0 */
/* volume.h: the volume being backed up, and the target of a restore. */
#ifndef CB_CORE_VOLUME_H
#define CB_CORE_VOLUME_H

#include <stdint.h>

#include "cinderblock/common.h"

typedef struct cb_volume {
    int fd;
    uint64_t size;
    int is_block;      /* a block device (else a regular file) */
    char *path;        /* as given */
    char *canonical;   /* realpath(), for the derived volume id */
    uint64_t dev, ino; /* what `path` named when it was opened */
} cb_volume;

/* Open a regular file or block device for reading. Anything else (a named pipe, a
 * character device, a directory) is refused at once, without waiting for a writer. */
int cb__volume_open(cb_volume *v, const char *path, cb_error *err);
void cb__volume_close(cb_volume *v);

/* At the end of a backup: CB_ESOURCE if the volume's size changed, or its path now names
 * another file or device, since it was opened (what was read is not one volume). */
int cb__volume_recheck(const cb_volume *v, cb_error *err);

/* Read exactly `len` bytes at `off`; a short read means the volume shrank: an error. */
int cb__volume_pread(const cb_volume *v, void *buf, size_t len, uint64_t off, cb_error *err);

/*
 * Where the next data is at or after `off`, for sparse files: *data_out = off when `off`
 * is in data (or the file system cannot tell), the start of the next data otherwise, or the
 * volume size when only a hole remains. Holes read as zeros without reading them.
 */
int cb__volume_next_data(const cb_volume *v, uint64_t off, uint64_t *data_out, cb_error *err);

/* The end of the data run that starts at `off` (the next hole, or the size). */
uint64_t cb__volume_data_end(const cb_volume *v, uint64_t off);

/*
 * Read [off, off+len) into buf, without reading the holes of a sparse file: they are
 * zeroed in buf. *all_zero is set when the whole range is a hole; then, unless
 * `need_bytes`, buf is left as it was (the caller only needs to know the bytes are zeros).
 */
int cb__volume_read_sparse(const cb_volume *v,
                           void *buf,
                           size_t len,
                           uint64_t off,
                           int need_bytes,
                           int *all_zero,
                           cb_error *err);

typedef struct cb_target {
    int fd;
    int dfd; /* the same file opened O_DIRECT, or -1 (util/dio.h) */
    int is_block;
    int is_new_file; /* a regular file written to a temporary name, renamed at commit */
    int zeros_free;  /* a new file whose unwritten bytes read as zeros: skip zero writes */
    uint64_t size;   /* the volume size being restored */
    char *path;      /* the target as given */
    char *tmp_path;  /* regular files: the temporary name in the same directory */
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
 */
int cb__target_open(cb_target *t, const char *path, uint64_t size, int sparse, cb_error *err);

/* Writes go through a cb_dio (util/dio.h) on `fd` and `dfd`. */

/* Start writing [off, off+len) to disk now, without waiting, so that the flush at the end
 * has little left to do. Errors surface at cb__target_commit(). */
void cb__target_writeback(const cb_target *t, uint64_t off, uint64_t len);

/* Flush once at the end (not per object) and move a regular file into place. */
int cb__target_commit(cb_target *t, cb_error *err);

/* Close; an uncommitted temporary file is removed. */
void cb__target_close(cb_target *t);

#endif
