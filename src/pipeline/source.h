/* SPDX-License-Identifier: Apache-2.0 */
/* source.h: the volume being backed up (a regular file or a block device). */
#ifndef CB_PIPELINE_SOURCE_H
#define CB_PIPELINE_SOURCE_H

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

#endif
