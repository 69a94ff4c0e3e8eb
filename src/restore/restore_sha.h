/* SPDX-License-Identifier: Apache-2.0 */
/*
 * restore_sha.h: checking restored bytes against the restored backup's own hash list.
 *
 * A backup's _sha256file holds the SHA-256 of every sha block of the volume as that backup
 * saw it: for a chain, the newest backup's list describes exactly the volume a restore
 * produces. Checking each block written against it verifies the assembled volume itself,
 * and costs far less than the objects' MD5s: SHA-256 runs on the CPU's SHA instructions
 * and an all-zero block's hash is a constant. Where the list is missing, unreadable, too
 * large for the memory budget, or does not fit the plan, restore.c checks MD5s instead; a
 * block that does not match sends its object back to the MD5 check (a damaged list must
 * not fail a good restore).
 */
#ifndef CB_CORE_RESTORE_SHA_H
#define CB_CORE_RESTORE_SHA_H

#include "../catalog/catalog.h"
#include "../hash/hash.h"

#define CB_RSHA_BUDGET (64ull << 20) /* bytes of hashes held: 64 GiB of volume at 32 KiB */

typedef struct cb_rsha {
    unsigned char *hashes; /* 32 bytes per sha block; NULL: not usable, check MD5s */
    uint64_t n;            /* blocks */
    uint32_t block;        /* the sha block size */
    uint64_t size;         /* the volume size */
    unsigned char *zeros;  /* a bit per block: its hash is that of zeros; NULL: not known.
                              Kept for lists too large to hold too (1 bit, not 32 bytes) */
} cb_rsha;

/*
 * Load the hash list of chain->layers[0]; h->hashes stays NULL when it cannot be used
 * (missing, unreadable, too large, shorter than the volume: the objects' MD5s decide).
 * A readable list that describes more blocks than the volume has is CB_ECORRUPT: the
 * objects end before the volume the backup saw (a backup whose metadata lost an object, or
 * a writer that recorded no lengths), and restoring them would silently truncate it.
 */
int cb__rsha_load(cb_rsha *h, cb_store *store, const cb_chain *chain, cb_error *err);
void cb__rsha_dispose(cb_rsha *h);

/* 1 if the list says every block of every range of the task holds zeros (the ranges are
 * on block boundaries): a target that reads as zeros there needs nothing of the object. */
int cb__rsha_all_zero(const cb_rsha *h, const cb_task *t);

/* 1 if every range of the task starts and ends on a sha block boundary (or the volume's
 * end), so that each block written can be checked whole. */
int cb__rsha_fits(const cb_rsha *h, const cb_task *t);

/* One object's check, fed its bytes in order. */
typedef struct cb_rsha_check {
    const cb_rsha *h;
    const cb_task *t;
    size_t range;       /* first range that may still hold the next block */
    unsigned char *buf; /* h->block bytes: a block that arrives in several parts */
    int bad;            /* a written block's hash differs from the list */
} cb_rsha_check;

void cb__rsha_begin(cb_rsha_check *c, const cb_rsha *h, const cb_task *t, unsigned char *buf);

/* The object's bytes at absolute volume offset `off`, in order. */
void cb__rsha_feed(cb_rsha_check *c, cb_digest *dg, uint64_t off, const void *data, size_t len);

#endif
