/* SPDX-License-Identifier: Apache-2.0 */
/*
 * format.h: Cinder's chunked-backup format 1.0.0 as functions of bytes and strings, with no
 * store and no volume: ids and timestamps, object names and prefixes (ids.h), the
 * _metadata document in memory, parsed and written (meta.h), volume_meta, export records
 * decoded (record.h). The rest of the library includes this header for any of it.
 */
#ifndef CB_FORMAT_FORMAT_H
#define CB_FORMAT_FORMAT_H

#include "ids.h"
#include "meta.h"
#include "record.h"

#define CB_DEFAULT_SHA_BLOCK 32768u /* Cinder's backup_sha_block_size_bytes */

/* Cinder's volume_meta string for KEY=VALUE pairs (NULL when there are none). */
int cb__volmeta_build(const char *const *pairs, size_t n, char **out, cb_error *err);

/* Names of the two JSON objects and of data object `n` (from 1). malloc'ed. */
char *cb__name_metadata(const char *prefix, cb_error *err);
char *cb__name_sha256file(const char *prefix, cb_error *err);
char *cb__name_object(const char *prefix, uint64_t n, cb_error *err);

/* Lowercase copy of a UUID given by a user, checked; `what` names it in the message. */
int cb__uuid_normalize(char out[CB_UUID_LEN + 1], const char *in, const char *what, cb_error *err);

#endif
