/* SPDX-License-Identifier: Apache-2.0 */
/* pipeline_impl.h: the pipeline's internal types, shared by its files. */
#ifndef CB_PIPELINE_PIPELINE_IMPL_H
#define CB_PIPELINE_PIPELINE_IMPL_H

#include <pthread.h>

#include "pipeline.h"
#include "../codec/codec.h"
#include "../piece/piece.h"
#include "../hash/hash.h"

#define PL_GROUP_MAX 64            /* objects read side by side, at most */
#define PL_PIECE_FULL (2u << 20)   /* bytes per piece in a full backup */
#define PL_PIECE_SCAN (1u << 20)   /* bytes per piece when only hashing */
#define PL_SCAN_CHUNK (512u << 10) /* bytes a scan's worker reads and hashes at a time */
/* Bytes of an object a worker on whole objects takes at a time. Its batch's objects take
 * turns, each with its own zstd context: at 256 KiB, reloading eight contexts' tables into
 * the cache cost zstd a fifth more time; at 1 MiB that is amortised. (zstd: each object's
 * ring holds CB_ZRING_SLOTS chunks.) */
#define PL_WHOLE_CHUNK (1024u << 10)
#define PL_WHOLE_MIN 3                  /* objects per worker, at least, for whole objects */
#define PL_LANES_TOTAL 16               /* whole objects open at once, all workers together */
#define PL_STREAM_BUDGET (512ull << 20) /* a stream's window of objects, when they are small */
/* Objects a full backup may run ahead of the committer when most are all zero (a sparse
 * volume): a zero object costs its entry here (no digests of its own, no pieces), so the
 * workers reach the next data past thousands of them while the committer stores them. */
#define PL_ZERO_AHEAD 4096

typedef struct pl_obj pl_obj;
typedef struct cb_pl cb_pl;

/* CB_PL_SCAN: the hashes of one piece, kept until the committer takes them in order. */
typedef struct pl_slot {
    uint64_t seq; /* the piece's number in volume order */
    uint64_t off;
    size_t len;
    int range_end;          /* the piece ends an object-sized range */
    int done;               /* hashed; guarded by the pipeline's lock */
    unsigned char *digests; /* 32 bytes per sha block of a piece */
    unsigned char *clean;   /* a CB_PL_CLEAN_* per sha block: what a dirty bitmap said */
    int any_clean;          /* some block is not CB_PL_CLEAN_NO */
} pl_slot;

enum { PL_RUN_FREE, PL_RUN_QUEUED, PL_RUN_DONE };
#define PL_RUNS_PER_WORKER 4  /* changed runs in flight (CB_PL_SCAN) */
#define PL_CONNECTIONS_MAX 64 /* workers at most, with those that only store runs */

/* CB_PL_SCAN: a changed run stored by a worker, recorded by the committer in order. */
typedef struct pl_run {
    struct pl_run *next; /* in the run queue */
    char *name;
    uint64_t off, len;
    cb_objw_result res;
    int reused;
    int state; /* PL_RUN_*, guarded by the pipeline's lock */
} pl_run;

typedef struct pl_piece {
    struct pl_piece *next; /* in the free pool or the work queue */
    pl_obj *obj;           /* CB_PL_FULL */
    pl_slot *slot;         /* CB_PL_SCAN */
    size_t index;          /* within its object */
    uint64_t off;          /* in the volume */
    size_t len;
    int hole;            /* wholly in a hole: `data` was not read (its bytes are zeros) */
    unsigned char *data; /* pl->piece bytes (CB_PL_FULL only) */
    cb_buf out;          /* the piece compressed by a worker (zlib, bz2) */
} pl_piece;

struct pl_obj {
    uint64_t index, off, len;
    size_t n_pieces;
    char *name;
    unsigned char *digests; /* 32 bytes per sha block, filled by the workers */
    int zero;               /* wholly in a hole: no pieces, the committer stores it */
    int shared_digests;     /* `digests` is the pipeline's zero_digests, not its own */
    int raw;                /* sampling said it will not compress: store it as "none" */
    int has_kept;           /* resuming: stored already, if its MD5 comes out the same */
    cb_pl_kept kept;        /* ... as this */
    pthread_mutex_t lock;   /* guards arrived, next_seq, running */
    pl_piece **arrived;     /* pieces hashed (and compressed), waiting for their turn */
    size_t next_seq;        /* the next piece to feed to the writer */
    int running;            /* a thread is feeding this object now */
    /* owned by whichever thread is running the sequence */
    cb_objw ow;      /* the object writer */
    void *md5ctx;    /* EVP_MD_CTX: a kept object's MD5, when the pieces are shared */
    cb_encoder *enc; /* streaming codecs (zstd), from the pipeline's spares */
    cb_zring *zr;    /* whole objects, zstd: its lane's ring (the worker's) */
    /* results */
    int done; /* guarded by the pipeline's lock */
    int reused;
    cb_objw_result res;
    unsigned char md5sum[16]; /* whole objects: from the worker's vector lanes */
};

typedef struct pl_worker {
    cb_pl *pl;
    pthread_t thread;
    int runs_only; /* takes changed runs, never pieces: waits on the store more than a CPU */
    cb_digest dg;  /* SHA-256 context */
    cb_piece_coder *coder;                   /* zlib or bz2 pieces, or NULL */
    unsigned char *scratch;                  /* CB_PL_SCAN: pl->chunk bytes to read into */
    pl_piece *own;                           /* whole objects: the piece this worker reads into */
    unsigned char *lane_data[CB_MD5X_LANES]; /* whole objects: a chunk of each lane's */
    cb_zring *zring[CB_MD5X_LANES];          /* whole objects, zstd: instead of lane_data */
    cb_md5x md5;                             /* whole objects: the lanes' MD5s */
    /* objects this worker stores from the volume on its own (changed runs, and objects a
     * resumed backup must store after all), made when first needed */
    unsigned char *run_buf; /* pl->piece bytes */
    cb_encoder *run_enc;    /* NULL for "none" */
    cb_buf run_packed;      /* a one-piece run compressed whole by `coder` (zlib, bz2) */
    cb_objw run_w;
    int run_ready;
    /* pieces wholly in a hole (zlib, bz2): their compressed form, the same for every piece
     * of zero_len zeros, made once by `coder` */
    cb_buf zero_packed;
    size_t zero_len;
} pl_worker;

/* CB_PL_FULL: the objects in flight, read by the reader (pieces) or by the workers
 * themselves (whole objects). */
typedef struct pl_full {
    pl_obj **objs;     /* ring of the objects in flight, by index % ring */
    size_t ring;       /* objects published ahead of the committer, at most */
    size_t max_objs;   /* of which holding data (not all zero), at most, beyond `frontier` */
    size_t in_flight;  /* data objects published and not committed (the lock's) */
    uint64_t frontier; /* 1 + the highest index of a data object published (the lock's) */
    unsigned char *zero_digests; /* the digests of an object-sized hole, made once */
    size_t group;                /* pieces: objects read side by side */
    int whole;                   /* each worker takes whole objects (many objects) */
    size_t lanes;                /* whole objects: how many a worker carries side by side */
    uint64_t next_obj;           /* whole objects: the next one to take */
    cb_encoder *free_enc[16];    /* streaming encoders to reuse */
    size_t n_free_enc;
} pl_full;

/* CB_PL_SCAN: pieces' hashes until the committer takes them, and the changed runs. */
typedef struct pl_scan {
    pl_slot *slots; /* ring of n_slots, by seq % n_slots */
    size_t n_slots;
    uint64_t n_pieces; /* pieces in the volume (a stream's: UINT64_MAX until its end is
                          found; then set by the reader under the lock) */
    pl_run *runs;      /* ring of n_runs changed runs, by sequence % n_runs */
    size_t n_runs;
    pl_run *run_head, *run_tail;     /* queued for the workers */
    int runs_closed;                 /* no more runs will come */
    uint64_t run_next, run_recorded; /* the committer's own */
    uint64_t n_objects;              /* objects recorded so far (the committer's) */
    uint64_t wake_at; /* the reader waits for room in the ring until this many pieces are
                         committed (guarded by the lock) */
} pl_scan;

struct cb_pl {
    const cb_pl_job *job;
    cb_pl_mode mode;
    size_t piece;
    size_t chunk;  /* what a worker reads at a time when it reads for itself: in a scan, and
                    * of each object of a batch (whole sha blocks; a piece for zlib, bzip2) */
    int n_workers; /* threads that hash and compress pieces (and store runs) */
    int n_all;     /* with those that only store changed runs (SCAN, connections) */
    pl_worker *workers;
    unsigned char *zeros; /* zeros, never written: a sha block, a piece or a chunk of them */
    cb_digest zdg;        /* CB_PL_SCAN, the reader's: the digests of a hole's blocks */
    int zdg_ready;
    uint64_t n_ranges;        /* a stream's: UINT64_MAX until its end is found, then set by the
                                 reader under the lock */
    pthread_mutex_t lock;     /* guards everything below */
    pthread_cond_t cond_free; /* a piece came back to the pool, or an object was committed */
    pthread_cond_t cond_work; /* work queued, or the reader is done, or failure */
    pthread_cond_t cond_runs; /* the same, for the runs_only workers (a piece queued must
                                 not spend its signal on one that cannot take it) */
    pthread_cond_t cond_done; /* an object is finished */
    pl_piece *pool;           /* pieces to read into (a scan's carry no data) */
    pl_piece *work_head, *work_tail;
    uint64_t committed; /* objects (or, in a scan, pieces) committed */
    int reader_done;
    int failed;   /* the first failure's code, 0 while all is well */
    cb_error err; /* its message */
    uint64_t bytes_done;
    pl_full full; /* CB_PL_FULL */
    pl_scan scan; /* CB_PL_SCAN */
};

int cb__pl_init(cb_pl *pl, const cb_pl_job *job, cb_pl_mode mode, cb_error *err);
void cb__pl_dispose(cb_pl *pl);
void cb__pl_fail(cb_pl *pl, int rc, const cb_error *err);
/* Wake every worker, of both kinds, to look again (pl->lock held). */
void cb__pl_wake_all(cb_pl *pl);
int cb__pl_failed(cb_pl *pl);
void cb__pl_release(cb_pl *pl, pl_piece *p);
void cb__pl_obj_done(cb_pl *pl, pl_obj *o);
void cb__pl_progress(cb_pl *pl, size_t len);
/* CB_PL_SCAN: a CB_PL_CLEAN_* into clean[] for each sha block of [off, off+len), from what
 * the volume says (a dirty bitmap); 2 if every block is unchanged and unsampled (nothing
 * to read), 1 if some are said unchanged, 0 if none. */
int cb__pl_scan_clean(cb_pl *pl, uint64_t off, size_t len, unsigned char *clean);
void cb__pl_obj_free(cb_pl *pl, pl_obj *o);
int cb__pl_deliver(cb_pl *pl, pl_worker *wk, pl_piece *p, cb_error *err);
int cb__pl_prepare(cb_pl *pl, pl_worker *wk, pl_piece *p, cb_error *err);
int cb__pl_whole_batch(cb_pl *pl, pl_worker *wk, uint64_t first, size_t n, cb_error *err);
int cb__pl_wait(cb_pl *pl, int (*ready)(cb_pl *pl, uint64_t i), uint64_t i, cb_error *err);
int cb__pl_tick(cb_pl *pl, cb_error *err);
int cb__pl_scan_hash(cb_pl *pl, pl_worker *wk, pl_piece *p, cb_error *err);
int cb__pl_runs_init(cb_pl *pl, cb_error *err);
void cb__pl_runs_dispose(cb_pl *pl);
int cb__pl_runs_end(cb_pl *pl, cb_error *err);
int cb__pl_runs_flush(cb_pl *pl, cb_error *err); /* record every queued run, waiting */
void cb__pl_do_run(cb_pl *pl, pl_worker *wk, pl_run *r);

/* Store the volume's [off, off + len) as object `name`, on worker `wk` with its own buffers
 * (in memory when it fits one piece); resuming, with `check_kept`, an object stored before
 * is kept instead if its bytes are the volume's (*reused set). */
int cb__pl_store_range(cb_pl *pl,
                       pl_worker *wk,
                       const char *name,
                       uint64_t off,
                       uint64_t len,
                       int check_kept,
                       cb_objw_result *res,
                       int *reused,
                       cb_error *err);

/* Read the volume again for a raw rewrite (cb_objw_reread_fn): `ctx` is a pl_reread. */
typedef struct pl_reread {
    const cb_volume *vol;
    uint64_t off;              /* the object's offset in the volume */
    const unsigned char *held; /* its bytes, when a caller's buffer still holds them all */
} pl_reread;
int cb__pl_reread(void *ctx, uint64_t pos, void *buf, size_t n, cb_error *err);
void *cb__pl_reader_main(void *arg);
void *cb__pl_scan_reader_main(void *arg);

#endif
