/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shalist.h: a streaming parser for Cinder's `<prefix>_sha256file` (spec §3.3).
 *
 *   {"backup_description": ..., "backup_id": ..., "backup_name": ..., "chunk_size": N,
 *    "created_at": ..., "sha256s": ["<64 hex>", ...], "version": "1.0.0", "volume_id": ...}
 *
 * Keys may come in any order and unknown keys are skipped. The document is fed in pieces of
 * any size (yajl's callback parser); each sha256s entry is decoded and handed to on_sha as
 * soon as it is complete, so memory does not grow with the number of entries.
 *
 *   cb_shalist_parser *p;
 *   cb_shalist_callbacks cbs = { .on_sha = my_sha };
 *   rc = cb_shalist_parser_new(&p, &cbs, payload, err);
 *   while (rc == 0 && (n = read(...)) > 0) rc = cb_shalist_feed(p, buf, n, err);
 *   if (rc == 0) rc = cb_shalist_finish(p, err);
 *   ... cb_shalist_chunk_size(p), cb_shalist_count(p) ...
 *   cb_shalist_parser_free(p);
 *
 * Errors are sticky: after the first failure, feed and finish return it again.
 * Corrupt documents (bad JSON, wrong types, an entry that is not 64 hex digits, a missing
 * chunk_size or sha256s, a duplicate known key) are CB_ECORRUPT.
 */
#ifndef CB_JSON_SHALIST_H
#define CB_JSON_SHALIST_H

#include <stddef.h>
#include <stdint.h>

#include "cinderblock/common.h"

/** Largest string accepted for version, backup_id and volume_id (they are short UUIDs). */
#define CB_SHALIST_MAX_ID 1024

typedef struct cb_shalist_parser cb_shalist_parser;

/**
 * One sha256s entry, in document order starting at index 0; `digest` is the decoded hash
 * (borrowed for the call). Return 0, or a negative cb_status after filling err to stop.
 */
typedef int (*cb_shalist_sha_fn)(uint64_t index,
                                 const unsigned char digest[32],
                                 void *payload,
                                 cb_error *err);

/**
 * chunk_size, once read (a positive integer). Cinder sorts its keys, so it normally comes
 * before the sha256s, but with unsorted keys it may come after the last entry. Same return
 * rule as cb_shalist_sha_fn.
 */
typedef int (*cb_shalist_chunk_size_fn)(uint64_t chunk_size, void *payload, cb_error *err);

typedef struct cb_shalist_callbacks {
    cb_shalist_sha_fn on_sha;               /* may be NULL: entries are only checked and counted */
    cb_shalist_chunk_size_fn on_chunk_size; /* may be NULL */
} cb_shalist_callbacks;

/**
 * Create a parser.
 * @param out  set to the new parser (NULL on failure); free it with cb_shalist_parser_free()
 * @param cbs  copied; may be NULL
 * @return 0 or CB_ENOMEM
 */
int cb_shalist_parser_new(cb_shalist_parser **out,
                          const cb_shalist_callbacks *cbs,
                          void *payload,
                          cb_error *err);

/** Free the parser; NULL is fine. */
void cb_shalist_parser_free(cb_shalist_parser *p);

/**
 * Parse the next `len` bytes of the document; callbacks run from inside this call.
 * @return 0, CB_ECORRUPT (with yajl's message and the byte offset), or a callback's status
 */
int cb_shalist_feed(cb_shalist_parser *p, const void *data, size_t len, cb_error *err);

/**
 * End of input: checks that the document is complete and has chunk_size and sha256s.
 * @return 0 or CB_ECORRUPT (or a callback's status)
 */
int cb_shalist_finish(cb_shalist_parser *p, cb_error *err);

/** chunk_size once it has been read (a positive integer), else 0. */
uint64_t cb_shalist_chunk_size(const cb_shalist_parser *p);

/** The number of sha256s entries read so far. */
uint64_t cb_shalist_count(const cb_shalist_parser *p);

/**
 * The "version", "backup_id" and "volume_id" strings once read, else NULL (also when the
 * document has null there). Borrowed: valid until cb_shalist_parser_free().
 */
const char *cb_shalist_version(const cb_shalist_parser *p);
const char *cb_shalist_backup_id(const cb_shalist_parser *p);
const char *cb_shalist_volume_id(const cb_shalist_parser *p);

#endif
