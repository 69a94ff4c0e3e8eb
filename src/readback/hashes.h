/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hashes.h: a backup's hash list, read as a stream in step with the volume, so that an
 * incremental backup compares block i with the parent's block i without ever holding the
 * whole list (Cinder holds it as a Python list: ~4 GB for 1 TiB).
 */
#ifndef CB_READBACK_HASHES_H
#define CB_READBACK_HASHES_H

#include "cinderblock/store.h"
#include "../format/format.h"
#include "../json/json.h"

typedef struct cb_hashes {
    cb_reader *r;
    cb_shalist_parser *p;
    char *io;             /* bytes read from the store, fed to the parser */
    unsigned char *queue; /* parsed digests not yet consumed: a ring of 32-byte entries */
    size_t cap, head, count;
    uint64_t next_index; /* index of the digest at the queue's head */
    int eof;
    char *name; /* for messages */
} cb_hashes;

/* Open the parent's <prefix>_sha256file and read up to its chunk_size (which Cinder's sorted
 * keys put before the list); *block_out is the parent's sha block size. */
int cb__hashes_open(
    cb_hashes *ps, cb_store *store, const cb_found *parent, uint64_t *block_out, cb_error *err);

/* The parent's digest of block `index`; indexes must not decrease. *have is 0 when the
 * parent's list ends before it. */
int cb__hashes_get(cb_hashes *ps, uint64_t index, unsigned char out[32], int *have, cb_error *err);

void cb__hashes_close(cb_hashes *ps);

#endif
