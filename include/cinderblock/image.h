/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cinderblock/image.h: a backup as a read-only disk image, read at any offset without a
 * restore (what the nbdkit plugin, `nbdkit cinderblock`, and `cinderblock map` serve).
 *
 *   cb_image_open       the volume at backup ID (any point of a chain: the newest layer wins)
 *   cb_image_size       its size in bytes; cb_image_sha_block its sha block size
 *   cb_image_pread      bytes at any offset, from any number of threads at once
 *   cb_image_extent     whether a range is all zeros, from the _sha256file alone
 *   cb_image_get_stats  counters (objects fetched, cache hits), for tests and benchmarks
 *   cb_image_close
 *
 * Objects are fetched on demand and decoded into a bounded cache of *segments*: volume
 * ranges of at most 1 MiB (a whole number of sha blocks) that one object supplies, so memory
 * is the cache size whatever the object size (posix's default object is 1.86 GiB). A read
 * that misses decodes its segment's object from its start up to that segment's end and no
 * further (one object fetch; parallel readers of one object that arrive in order take turns
 * on one open stream instead of starting again).
 *
 * Every byte returned is verified: each sha block is hashed once, when its segment is
 * decoded, and compared with the backup's _sha256file; a segment is served only from blocks
 * that match. A damaged object (it cannot be decoded, or a block differs) makes the reads
 * that touch it fail with CB_ECORRUPT naming the object and its backup; reads elsewhere work.
 * Memory besides the cache: the hash list, 32 bytes a sha block (1/1024 of the volume with
 * Cinder's 32 KiB sha blocks), and one open object stream per concurrent reader.
 */
#ifndef CINDERBLOCK_IMAGE_H
#define CINDERBLOCK_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cb_image cb_image;

#define CB_IMAGE_OPTS_VERSION 1
#define CB_IMAGE_CACHE_DEFAULT (256ull << 20) /* bytes of decoded segments kept by default */

typedef struct cb_image_opts {
    unsigned int version; /* CB_IMAGE_OPTS_VERSION */
    uint64_t cache_bytes; /* decoded segments kept (least recently used go first); 0: 256 MiB
                             (CB_IMAGE_CACHE_DEFAULT); at least one segment is always kept */
    int threads;          /* readers expected at once (open object streams kept); 0: 16 */
    int lock;             /* 1: hold a shared lock ("map ID") on the store until
                             cb_image_close, so that delete and prune (exclusive) wait or fail
                             while the image is read (docs/locks.md); the store's no_lock
                             option still applies */
} cb_image_opts;

#define CB_IMAGE_OPTS_INIT                                                                         \
    {                                                                                              \
        .version = CB_IMAGE_OPTS_VERSION                                                           \
    }

/** Counters of an open image (cb_image_get_stats). */
typedef struct cb_image_stats {
    uint64_t objects_opened;  /* object fetches begun (a stream opened from an object's start) */
    uint64_t segments_filled; /* segments decoded and verified into the cache */
    uint64_t cache_hits;      /* reads of a segment found in the cache */
    uint64_t bad_blocks;      /* sha blocks that did not match the list (never served) */
    uint64_t cache_bytes;     /* bytes of segments held now */
} cb_image_stats;

/**
 * Open the volume as backup `backup_id` (a whole id) holds it, with its chain of parents.
 * Reads the metadata of the chain and the backup's _sha256file (which must describe the
 * volume: without it nothing could be verified).
 * @param opts  NULL for the defaults
 * @param out   set to the image; close it with cb_image_close() (NULL on failure)
 * @return 0; CB_ENOTFOUND for an unknown backup; CB_ECORRUPT for a bad chain or a missing
 *         or unusable _sha256file; CB_ELOCKED (opts->lock) when an exclusive lock is held;
 *         CB_EINVAL for a bad opts version; or the store's error.
 * Ownership: `store` is borrowed and must outlive the image.
 */
CB_EXTERN int cb_image_open(cb_store *store,
                            const char *backup_id,
                            const cb_image_opts *opts,
                            cb_image **out,
                            cb_error *err);

/** The volume's size in bytes. */
CB_EXTERN uint64_t cb_image_size(const cb_image *img);

/** The size of the sha blocks the _sha256file lists (the last block may be shorter). */
CB_EXTERN uint32_t cb_image_sha_block(const cb_image *img);

/** The whole id of the backup the image shows (borrowed until cb_image_close). */
CB_EXTERN const char *cb_image_backup_id(const cb_image *img);

/**
 * `len` bytes at `off` into `buf`, every one verified; safe from any number of threads at
 * once. Bytes beyond the volume's end are refused (CB_EINVAL).
 * @return 0; CB_ECORRUPT naming the object (and its backup) for a damaged one; CB_EINVAL;
 *         CB_ENOMEM; or the store's error (CB_ENET...). `buf` is then undefined.
 */
CB_EXTERN int cb_image_pread(cb_image *img, void *buf, size_t len, uint64_t off, cb_error *err);

/**
 * From `off` (inside the volume), how far the bytes keep being all zeros, or keep not being:
 * `*zero_out` is 1 when the sha block at `off` is all zeros by the _sha256file (its hash is
 * that of a block of zeros of its length), and `*len_out` is the length of that run, at most
 * `len` and never beyond the volume's end. No object is read.
 * @return 0, or CB_EINVAL for `off` beyond the volume.
 */
CB_EXTERN int cb_image_extent(const cb_image *img,
                              uint64_t off,
                              uint64_t len,
                              uint64_t *len_out,
                              int *zero_out,
                              cb_error *err);

/** 1 if all of [off, off+len) is zeros by the _sha256file (an extent of zeros), else 0. */
CB_EXTERN int cb_image_is_zero(const cb_image *img, uint64_t off, uint64_t len);

/** The counters so far. `size` is sizeof(cb_image_stats) as the caller knows it (fields are
 * only ever added at the end). */
CB_EXTERN void cb_image_get_stats(const cb_image *img, cb_image_stats *out, size_t size);

/** Release everything, the lock included. NULL is fine. */
CB_EXTERN void cb_image_close(cb_image *img);

#ifdef __cplusplus
}
#endif
#endif
