/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline.h: the parallel backup pipeline, a mechanism. It reads a volume (source.h),
 * hashes every sha block, stores objects by Cinder's rule (objwrite.h) and hands the
 * results, in volume order, to its caller, who decides what they mean: a full backup's
 * metadata, an incremental's comparison with its parent. It knows no backup: the caller
 * describes the work and its callbacks in a cb_pl_job.
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
#ifndef CB_PIPELINE_PIPELINE_H
#define CB_PIPELINE_PIPELINE_H

#include "objwrite.h"
#include "source.h"

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
    int range_end;      /* SCAN: the piece ends an object-sized range */
    int zero;           /* FULL: the range lies in a hole: every byte is zero (the committer
                           stores it: its form is the same for every such range) */
    const char *name;   /* FULL: the object's name */
    cb_objw_result res; /* FULL: the object stored (not for zero ranges) */
    int reused;         /* resuming: stored by the interrupted run, kept */
    /* SCAN, or NULL when every block was read and hashed: a CB_PL_CLEAN_* per digest */
    const unsigned char *clean;
} cb_pl_range;

/* What the volume said of a sha block of a scan (cb__volume_clean_end: a dirty bitmap). */
enum {
    CB_PL_CLEAN_NO,     /* read and hashed */
    CB_PL_CLEAN_YES,    /* unchanged since the parent: not read, its digest is undefined (the
                           committer takes the parent's) */
    CB_PL_CLEAN_SAMPLE, /* said unchanged, read and hashed all the same to check that it is
                           (cb__volume_sampled): its digest must be the parent's */
};

/* A stored changed run (CB_PL_SCAN), for the job's record(), in object order. */
typedef struct cb_pl_object {
    const char *name;
    uint64_t off, len;
    cb_objw_result res;
    int reused; /* resuming: stored by the interrupted run, kept */
} cb_pl_object;

/* An object a resumed backup stored before (see the job's kept()). */
typedef struct cb_pl_kept {
    unsigned char md5[16]; /* of its uncompressed bytes */
    const char *comp;      /* what the metadata records for it */
    uint64_t stored;       /* its size in the store */
} cb_pl_kept;

typedef struct cb_pl cb_pl;

/*
 * The work, and what to do with the results. The callbacks run on the caller's thread,
 * except kept(), which any worker may call.
 */
typedef struct cb_pl_job {
    const cb_volume *vol;
    uint64_t object_size;
    uint32_t sha_block;
    int threads;        /* 0: online CPUs */
    int connections;    /* SCAN: changed runs stored at once, when more than the threads (the
                           rest wait on the store, not on a CPU: cb_store_connections) */
    cb_objw_spec objw;  /* how objects are stored */
    const char *prefix; /* object names: <prefix>-NNNNN */
    void *ctx;          /* for every callback */
    /* a range (FULL: an object, SCAN: a piece), in volume order */
    int (*commit)(void *ctx, cb_pl *pl, const cb_pl_range *r, cb_error *err);
    /* often, while waiting: `bytes_done` of the volume read so far; non-zero stops */
    int (*tick)(void *ctx, uint64_t bytes_done, cb_error *err);
    /* SCAN: each stored run, in order */
    int (*record)(void *ctx, const cb_pl_object *o, cb_error *err);
    /* SCAN: store [off, off+len), which lies wholly in a hole, as object `name`, in order */
    int (*zeros)(void *ctx, const char *name, uint64_t off, uint64_t len, cb_error *err);
    /* resuming (or NULL): 1 if object `name` of `len` bytes was stored before (*out then
     * describes it); the pipeline keeps it only if its MD5 is the volume's */
    int (*kept)(void *ctx, const char *name, uint64_t len, cb_pl_kept *out);
} cb_pl_job;

/* Run the pipeline over the whole volume. */
int cb__pl_run(const cb_pl_job *job, cb_pl_mode mode, cb_error *err);

/* CB_PL_SCAN, from commit(): store [off, off+len) as the next data object. A worker writes
 * it; record() gets it in order, before cb__pl_run returns. */
int cb__pl_store_run(cb_pl *pl, uint64_t off, uint64_t len, cb_error *err);

#endif
