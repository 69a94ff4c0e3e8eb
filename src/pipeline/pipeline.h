/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline.h: the parallel backup pipeline.
 *
 * Full backups with at least 3 objects per worker: each worker carries whole objects from
 * first byte to close (pipeline_obj.c), and the committer records them in order. Otherwise:
 *
 *   reader (1 thread)      reads the volume a piece at a time into a bounded pool of
 *                          buffers (holes are not read); decides per object whether it is
 *                          worth compressing (sampling), or is all zeros
 *   workers (N threads)    SHA-256 of every sha block of a piece; compress the piece when
 *                          the codec allows independent pieces (zlib, bz2)
 *   per-object sequencer   whichever worker finishes the next piece of an object in order
 *                          feeds it to the object's MD5 (and Adler-32, or zstd stream) and
 *                          to the object's store writer; the last piece closes the object
 *   committer              the caller's thread: takes finished objects in volume order,
 *                          emits their hashes, records them, reports progress, polls cancel
 *
 * Incremental scans: the workers read and hash pieces; the committer compares them with
 * the parent and queues the changed runs, which the workers store (pipeline_run.c).
 *
 * Memory in flight is bounded by the pool (a few pieces per thread) and by a few objects'
 * hash arrays, whatever the object or volume size. The first error wins: every stage stops,
 * the threads drain and are joined, unfinished writers are abandoned (nothing committed).
 */
#ifndef CB_CORE_PIPELINE_H
#define CB_CORE_PIPELINE_H

#include "../backup/backup_job.h"

typedef enum cb_pl_mode {
    CB_PL_FULL, /* every object-sized range is stored as one object */
    CB_PL_SCAN, /* pieces are only hashed (incremental backups store changed runs) */
} cb_pl_mode;

/*
 * What the committer gets, in volume order. CB_PL_FULL: one object-sized range (an object).
 * CB_PL_SCAN: one piece, so that a scan holds the hashes of a few pieces only, whatever the
 * object size; `range_end` marks the last piece of an object-sized range.
 */
typedef struct cb_pl_range {
    uint64_t index; /* range index (FULL) or piece sequence number (SCAN) */
    uint64_t off, len;
    const unsigned char *digests; /* 32 bytes per sha block */
    size_t n_digests;
    int range_end; /* SCAN: the piece ends an object-sized range */
    int zero;      /* FULL: the range lies in a hole: every byte is zero */
    /* CB_PL_FULL: the object stored (zero ranges are left to the committer) */
    const char *compression;
    unsigned char md5[16];
    uint64_t stored_bytes;
    int reused; /* resuming: stored by the interrupted run, kept */
} cb_pl_range;

typedef int (*cb_pl_commit_fn)(cb_bk *b, const cb_pl_range *r, cb_error *err);

/* Run the pipeline over the whole volume; `commit` runs on the caller's thread. */
int cb__pl_run(cb_bk *b, cb_pl_mode mode, cb_pl_commit_fn commit, cb_error *err);

/* CB_PL_SCAN, from the committer: store [off, off+len) as the next data object. A worker
 * writes it; it is recorded in the metadata in order, before cb__pl_run returns. */
int cb__pl_store_run(cb_bk *b, uint64_t off, uint64_t len, cb_error *err);

#endif
