/* SPDX-License-Identifier: Apache-2.0 */
/*
 * source_nbd.h: a volume that is an NBD export (nbd://, nbds://, nbd+unix://, ... any URI
 * libnbd connects to), read through libnbd with several connections at once. What the
 * server says of its blocks is asked once, when it is opened, for the whole export:
 *   base:allocation           ranges that read as zeros (NBD_STATE_ZERO) are holes: not read
 *   qemu:dirty-bitmap:NAME    with a dirty bitmap, ranges it does not mark dirty are clean:
 *                             unchanged since the parent backup, not read (their hashes are
 *                             the parent's)
 * Blocks read are kept in a small cache, so that a changed run, read once to be hashed and
 * again by the worker that stores it, costs one read from the server.
 */
#ifndef CB_PIPELINE_SOURCE_NBD_H
#define CB_PIPELINE_SOURCE_NBD_H

#include <stdint.h>

#include "cinderblock/common.h"

typedef struct cb_nbd cb_nbd;

typedef enum cb_extent_kind {
    CB_EXTENT_DATA,  /* read it */
    CB_EXTENT_ZERO,  /* reads as zeros: not read */
    CB_EXTENT_CLEAN, /* unchanged since the parent (the dirty bitmap does not mark it) */
} cb_extent_kind;

#define CB_NBD_CONNECTIONS 4 /* connections by default (fewer when the server allows one) */

/* 1 if `path` is an NBD URI (nbd:, nbds:, nbd+unix:, nbds+unix:, nbd+vsock:, nbds+vsock:). */
int cb__nbd_is_uri(const char *path);

/*
 * Connect to `uri`: up to `connections` connections (0: CB_NBD_CONNECTIONS; 1 when the
 * server does not allow several, NBD_FLAG_CAN_MULTI_CONN), read-only. `bitmap` (or NULL):
 * the dirty bitmap to ask for; a server that does not offer it is CB_ESOURCE naming it.
 * `block` is the sha block: the cache keeps whole blocks. *size_out: the export's size.
 */
int cb__nbd_open(const char *uri,
                 const char *bitmap,
                 int connections,
                 uint32_t block,
                 cb_nbd **out,
                 uint64_t *size_out,
                 cb_error *err);
void cb__nbd_free(cb_nbd *n);

/* cb_volume_pread_fn: len bytes at off through a free connection (any thread), or -errno. */
long long cb__nbd_pread(void *payload, void *buf, size_t len, uint64_t off);

/* What the server said of byte `off` (below the size), and where that kind of range ends. */
cb_extent_kind cb__nbd_extent(const cb_nbd *n, uint64_t off, uint64_t *end_out);

/* Where the run of bytes from `off` that read as zeros (zero 1) or not (zero 0, data and
 * clean alike) ends: `off` itself when byte `off` is not of that kind. One lookup. */
uint64_t cb__nbd_run_end(const cb_nbd *n, uint64_t off, int zero);

/* Bytes read from the server so far (a read served from the cache is not counted). */
uint64_t cb__nbd_bytes_read(const cb_nbd *n);

/* The message of the last failed read (for the error that names the offset), or "",
 * copied into buf (another thread's read may fail meanwhile). */
void cb__nbd_last_error(cb_nbd *n, char *buf, size_t cap);

#endif
