/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog.h: backups as the store holds them, for the commands that use them. There is no
 * database; the store is the catalog:
 *   found.h    finding backups (their _metadata objects) in every container
 *   chain.h    a backup and its parents, loaded and checked as a restore needs them
 *   plan.h     which bytes of the volume each object of a chain supplies
 * with what reads a backup's content back (readback.h), plus the backup's volume size, and removing
 * a prefix's objects. The rest of the library includes this header for any of it.
 */
#ifndef CB_CATALOG_CATALOG_H
#define CB_CATALOG_CATALOG_H

#include "found.h"
#include "chain.h"
#include "plan.h"
#include "../readback/readback.h"

/* Delete everything under `prefix` in `container`, the _metadata object first, so that a
 * half-deleted backup never looks complete. */
int cb__delete_prefix(cb_store *store, const char *container, const char *prefix, cb_error *err);

/* Stream a backup's _sha256file through the parser callbacks; report the entry count and
 * the sha block size (chunk_size). */
struct cb_shalist_callbacks;
int cb__shafile_stream(cb_store *store,
                       const cb_found *f,
                       const struct cb_shalist_callbacks *cbs,
                       void *payload,
                       uint64_t *count_out,
                       uint64_t *block_out,
                       cb_error *err);

/* The size of the backup `parent_id`, for cb__size_compute(). */
typedef int (*cb_parent_size_fn)(const char *parent_id,
                                 uint64_t *size_out,
                                 void *payload,
                                 cb_error *err);

/* Volume size of a backup. Full backups: the end of their last object. Incrementals: from
 * the number of their sha256file entries, and the parent's size for the last block. */
int cb__size_compute(cb_store *store,
                     const cb_found *f,
                     const cb_meta *m,
                     cb_parent_size_fn parent_size,
                     void *payload,
                     uint64_t *size_out,
                     cb_error *err);

/* The same, for a backup whose _sha256file was already read: `count` entries of `blk`
 * bytes (not used for a full backup). */
int cb__size_from_shas(const cb_found *f,
                       const cb_meta *m,
                       uint64_t count,
                       uint64_t blk,
                       cb_parent_size_fn parent_size,
                       void *payload,
                       uint64_t *size_out,
                       cb_error *err);

#endif
