/* SPDX-License-Identifier: Apache-2.0 */
/* engine.h: what the backup, restore and delete code share inside the library. */
#ifndef CB_CORE_ENGINE_H
#define CB_CORE_ENGINE_H

#include "cinderblock/backup.h"
#include "catalog.h"
#include "digest.h"
#include "ids.h"
#include "meta.h"
#include "volume.h"
#include "../codec/codec.h"
#include "../json/pyjson.h"

#define CB_DEFAULT_SHA_BLOCK 32768u
#define CB_PIECE_TARGET (1u << 20) /* bytes the committer thread reads at a time */

/* Cinder's volume_meta string for KEY=VALUE pairs (NULL when there are none). */
int cb__volmeta_build(const char *const *pairs, size_t n, char **out, cb_error *err);

/* Delete everything under `prefix` in `container`, the _metadata object first, so that a
 * half-deleted backup never looks complete. */
int cb__delete_prefix(cb_store *store, const char *container, const char *prefix, cb_error *err);

/* Names of the two JSON objects and of data object `n` (from 1). malloc'ed. */
char *cb__name_metadata(const char *prefix, cb_error *err);
char *cb__name_sha256file(const char *prefix, cb_error *err);
char *cb__name_object(const char *prefix, uint64_t n, cb_error *err);

/* Lowercase copy of a UUID given by a user, checked; `what` names it in the message. */
int cb__uuid_normalize(char out[CB_UUID_LEN + 1], const char *in, const char *what, cb_error *err);

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
