/* SPDX-License-Identifier: Apache-2.0 */
/* image_impl.h: the parts of the public image (cinderblock/image.h) that image.c,
 * image_cache.c and image_sha.c share. */
#ifndef CB_IMAGE_IMPL_H
#define CB_IMAGE_IMPL_H

#include <pthread.h>

#include "cinderblock/image.h"
#include "chainread.h"
#include "../lock/lock.h"

#define IMG_SEGMENT (1u << 20) /* a cache segment's most bytes (rounded down to sha blocks) */

/* A backup's hash list, whole in memory: what every segment is verified against. */
typedef struct img_shas {
    uint32_t blk;          /* sha block size */
    uint64_t n;            /* blocks: ceil(size / blk) */
    unsigned char *hashes; /* 32 bytes each */
    unsigned char *zero;   /* bit i: block i is all zeros by its hash */
} img_shas;

/* One cached volume range: whole sha blocks (the last of the volume may be short) that one
 * plan segment supplies, inside one IMG_SEGMENT-aligned window. */
typedef struct img_seg {
    uint64_t off, len;
    unsigned char *data; /* the window's size (reused when the segment is evicted) */
    unsigned char *bad;  /* per sha block of the window: 1 if it differs from the list */
    int state;           /* IMG_FILLING, IMG_READY, IMG_FAILED */
    cb_error err;        /* IMG_FAILED: why */
    int refs;            /* readers holding it (the filler included) */
    int listed;          /* in the table */
    uint64_t used;       /* clock at the last use: the least recently used goes first */
    int claim;           /* FILLING: who fills it (atomic, CB_CLAIM_*: its own fill, or another
                            fill's stage on the way to its own segment) */
    struct img_seg *next;
} img_seg;

enum { IMG_FILLING, IMG_READY, IMG_FAILED, IMG_ABANDONED };

typedef struct img_cache {
    pthread_mutex_t lock; /* guards the table, n, clock, the counters, and every listed
                             segment's state, refs, listed, used, next */
    pthread_cond_t cond;  /* a segment was filled or released */
    img_seg **table;      /* by window index modulo n_table */
    size_t n_table;
    size_t n, max;   /* segments listed; the most kept */
    uint64_t window; /* IMG_SEGMENT rounded down to sha blocks */
    uint64_t clock;
    size_t waiting; /* readers waiting on cond: only then is it signalled */
    uint64_t filled, hits, bad_blocks, bytes;
} img_cache;

struct cb_image {
    cb_store *store;
    char *backup_id;
    cb_chain chain;
    cb_plan plan;
    cb_chainread *rd;
    uint64_t size;
    img_shas shas;
    img_cache cache;
    cb_lock *lock;
};

/* image_sha.c */
int cb__img_shas_load(img_shas *s, cb_store *store, const cb_chain *chain, cb_error *err);
void cb__img_shas_dispose(img_shas *s);
int cb__img_shas_is_zero(const img_shas *s, uint64_t i);
/* 1 if every sha block of [off, off+len) is all zeros by its hash. */
int cb__img_shas_all_zero(const img_shas *s, uint64_t off, uint64_t len);
/* Verify `len` bytes of volume at `off` (sha block aligned) block by block: bad[k] = 1 where
 * block k differs, *n_bad_out of them. Fails only to allocate. */
int cb__img_shas_check(const img_shas *s,
                       const unsigned char *data,
                       uint64_t off,
                       uint64_t len,
                       unsigned char *bad,
                       uint64_t *n_bad_out,
                       cb_error *err);

/* image_cache.c */
int cb__img_cache_init(img_cache *c, uint64_t bytes, uint32_t blk, cb_error *err);
void cb__img_cache_dispose(img_cache *c);
/* Copy [off, off+len) of the volume out of the cache, filling it as needed. */
int cb__img_cache_read(cb_image *img, unsigned char *buf, size_t len, uint64_t off, cb_error *err);

#endif
