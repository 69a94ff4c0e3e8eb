/* SPDX-License-Identifier: Apache-2.0 */
/* source.h: the volume being backed up (a regular file, a block device, or a stream). */
#ifndef CB_PIPELINE_SOURCE_H
#define CB_PIPELINE_SOURCE_H

#include <stdatomic.h>
#include <stdint.h>

#include "cinderblock/common.h"
#include "source_nbd.h"

#define CB_VOLUME_SIZE_UNKNOWN UINT64_MAX /* a stream read to its end: size known at EOF */

typedef struct cb_stream cb_stream;

/* Where a stream's bytes come from, in order: > 0 bytes read, 0 at the end, < 0 a failure
 * (-errno when known). Called from one thread at a time (cb_backup_opts.volume_read). */
typedef long long (*cb_stream_read_fn)(void *payload, void *buf, size_t len);

/* How a file-like volume's bytes are read at an offset: > 0 bytes read, 0 at its end (a
 * descriptor's) or a failure (the caller's), < 0 -errno. pread(2) on a descriptor, or the
 * caller's function (cb_backup_opts.volume_pread); called from several threads at once. */
typedef long long (*cb_volume_pread_fn)(void *payload, void *buf, size_t len, uint64_t off);

typedef struct cb_volume {
    int fd;
    cb_stream *stream; /* a pipe, FIFO or socket read in order (source_stream.c), or NULL */
    uint64_t size;
    int is_block;      /* a block device (else a regular file) */
    char *path;        /* as given */
    char *canonical;   /* realpath(), for the derived volume id ("-": no path names it) */
    int no_seek;       /* a caller's descriptor shared with it: no SEEK_DATA (holes read) */
    int by_path;       /* opened by path: the recheck also stats the path */
    uint64_t dev, ino; /* what `path` named when it was opened */
    cb_volume_pread_fn pread_fn; /* every read of a file-like volume goes through it */
    void *pread_payload;
    int by_caller; /* read through the caller's function: the size is the caller's (no
                      fstat, no recheck), no holes known (every byte read) */
    /* or NULL: whether [off, off+len) is known to be incompressible, said instead of sampling
     * it (a volume that knows, and whose reads cost more when they jump: a consolidate's) */
    int (*raw_hint)(void *payload, uint64_t off, uint64_t len);
    void *raw_hint_payload;
    int in_order;        /* read it in order, one object after the other, by the pipeline's reader
                            (its pieces still compressed in parallel): a volume whose reads cost more
                            when they jump, such as a consolidate's, which decodes as it goes */
    cb_nbd *nbd;         /* an NBD export (source_nbd.h): its map says where the holes are and, with
                            a dirty bitmap, which blocks are unchanged since the parent */
    int has_clean;       /* some of it is said unchanged since the parent (a dirty bitmap) */
    uint32_t sample_ppm; /* of those blocks, the share read all the same to check them, in
                            millionths (--verify-unchanged) */
    uint64_t sample_seed;         /* which ones: a new choice every run */
    const char *bitmap;           /* the dirty bitmap's name, for messages */
    _Atomic uint64_t *read_count; /* or NULL: bytes cb__volume_pread read, added up */
} cb_volume;

/* Open a regular file or block device for reading. Anything else (a named pipe, a
 * character device, a directory) is refused at once, without waiting for a writer. */
int cb__volume_open(cb_volume *v, const char *path, cb_error *err);
void cb__volume_close(cb_volume *v);

/*
 * Streams (`backup -`): the volume is read from descriptor `fd` (duplicated) in order,
 * never seeked. `size` is what it must hold exactly, or CB_VOLUME_SIZE_UNKNOWN: then the
 * size is what comes before EOF (v->size stays CB_VOLUME_SIZE_UNKNOWN until
 * cb__volume_finish()).
 *
 * A stream is held in a window of whole objects: a filler thread reads object after object
 * into a ring of `window` object-sized buffers, and the pipeline reads them at any offset
 * and in any order (pread) from there, in parallel, as it does a file. Whole objects,
 * because an object is re-read when it is stored raw (compressing it did not help), and an
 * incremental's changed runs are read again by the worker that stores them. An object's
 * buffer is reused once the pipeline released it (cb__volume_release), after its commit.
 * Memory: window x object size, whatever the volume size.
 */
int cb__volume_open_stream(cb_volume *v, int fd, uint64_t size, cb_error *err);
/* The same, read through `fn` (the caller's read callback) instead of a descriptor. */
int cb__volume_open_fn(
    cb_volume *v, cb_stream_read_fn fn, void *payload, uint64_t size, cb_error *err);

/*
 * A volume that is the caller's open descriptor `fd` (never closed, its file offset neither
 * used nor moved). A regular file or block device is opened again through /proc/self/fd
 * (its own offset, so holes are found with SEEK_DATA), or where that fails duplicated and
 * read with pread only (holes read as data); then it is read as a path is. Anything else (a
 * pipe, a socket) is read as a stream of `size` bytes (or CB_VOLUME_SIZE_UNKNOWN).
 * No path names it: v->canonical is "-" (the volume id must come from the caller).
 */
int cb__volume_open_fd(cb_volume *v, int fd, uint64_t size, cb_error *err);
/*
 * A volume read at offsets through the caller's `fn` (cb_backup_opts.volume_pread), of
 * `size` bytes: read as a regular file is (any offset, in parallel), but with no hole
 * known and no recheck (the size is what the caller says). v->canonical is "-".
 */
int cb__volume_open_pread(
    cb_volume *v, cb_volume_pread_fn fn, void *payload, uint64_t size, cb_error *err);
/*
 * An NBD export (cb__nbd_is_uri): `connections` at most (0: the default), and with `bitmap`
 * its dirty bitmap (blocks it does not mark are unchanged since the parent: not read), of
 * which `sample_ppm` millionths are read all the same, to be checked. `block`: the sha block.
 * v->canonical is the URI (the volume id derived from it names the export).
 */
int cb__volume_open_nbd(cb_volume *v,
                        const char *uri,
                        const char *bitmap,
                        uint32_t sample_ppm,
                        int connections,
                        uint32_t block,
                        cb_error *err);
int cb__volume_is_stream(const cb_volume *v);
/* Bytes read from the volume's source so far: from an NBD server (its cache's hits not
 * counted), a stream's bytes, or what cb__volume_pread read (v->read_count: a file's, holes
 * not counted, a range read twice counted twice). */
uint64_t cb__volume_bytes_read(const cb_volume *v);
/* A dirty bitmap's volume: 1 when some blocks are said unchanged since the parent. */
int cb__volume_has_clean(const cb_volume *v);
/* The end of the range from `off` said unchanged since the parent, or `off` if it is not. */
uint64_t cb__volume_clean_end(const cb_volume *v, uint64_t off);
/* 1 if sha block `index`, said unchanged, is to be read all the same (the sample). */
int cb__volume_sampled(const cb_volume *v, uint64_t index);
/* Streams: accept at most `limit` bytes (an incremental without a size: its parent's),
 * naming `what` in the error when more come. Before cb__volume_start. */
void cb__volume_set_limit(const cb_volume *v, uint64_t limit, const char *what);
/* Streams: start the filler with objects of `object_size` bytes, `window` of them held. A
 * no-op for files. */
int cb__volume_start(const cb_volume *v, uint64_t object_size, size_t window, cb_error *err);
/* Wait until the object holding `off` is read (streams; files return at once). *size_out:
 * the volume size when known, else CB_VOLUME_SIZE_UNKNOWN (then `off` is in data). A stream
 * that failed (short, too long, unreadable) returns its CB_ESOURCE error. */
int cb__volume_wait(const cb_volume *v, uint64_t off, uint64_t *size_out, cb_error *err);
/* Streams: the bytes before `off` (an object boundary) are no longer needed. */
void cb__volume_release(const cb_volume *v, uint64_t off);
/* Streams: stop a filler waiting for room (the pipeline failed). */
void cb__volume_abort(const cb_volume *v);
/* Streams, after the pipeline: wait for the stream's end (with a size: check that no more
 * bytes follow), set v->size, and return the stream's error, if any. Files: 0. */
int cb__volume_finish(cb_volume *v, cb_error *err);

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
