/* SPDX-License-Identifier: Apache-2.0 */
/* backup_job.h: the state of one backup in progress, shared by backup.c and backup_chunk.c. */
#ifndef CB_BACKUP_BACKUP_JOB_H
#define CB_BACKUP_BACKUP_JOB_H

#include "reuse.h"
#include "source.h"
#include "../catalog/catalog.h"
#include "../codec/codec.h"
#include "../format/format.h"
#include "../hash/hash.h"
#include "../json/json.h"
#include "../lock/lock.h"

#define CB_PIECE_TARGET (1u << 20) /* bytes the committer thread reads at a time */

/* What storing one object needs for itself: the committer has one (in cb_bk), and so does
 * each pipeline worker that stores the changed runs of an incremental backup. */
typedef struct cb_bk_io {
    unsigned char *buf; /* one piece */
    cb_digest dg;
    cb_encoder *enc; /* NULL for "none" */
    cb_buf small;    /* a small object's compressed form, before it is written */
} cb_bk_io;

/* One data object: where it comes from, and (once stored) what the metadata records. */
typedef struct cb_bk_obj {
    char *name;
    uint64_t off, len;
    const char *comp;
    unsigned char md5[16];
    uint64_t stored; /* bytes handed to the writer */
    int reused;      /* resuming: the interrupted run's object, kept */
} cb_bk_obj;

struct cb_pl;
struct cb_lock;

typedef struct cb_bk {
    cb_store *store;
    const cb_backup_opts *opts;
    cb_volume vol;
    char volume_id[CB_UUID_LEN + 1];
    char backup_id[CB_UUID_LEN + 1];
    char ts[15];
    char created_at[40];
    char *container;
    char *prefix;
    cb_codec_id codec;
    char *comp_name; /* the configured name, lowercased, as Cinder records it */
    uint64_t object_size;
    uint32_t sha_block;
    size_t piece;          /* bytes read and hashed at a time (a multiple of sha_block) */
    cb_bk_io io;           /* the committer's own */
    struct cb_pl *pl;      /* the pipeline running this backup */
    cb_meta meta;          /* the document being built */
    size_t meta_bytes;     /* an upper bound of its object entries' size */
    cb_writer *sha_writer; /* <prefix>_sha256file, streamed while the data is read */
    cb_pyjson sha_json;
    int started;          /* something may exist under the prefix: clean up on failure */
    struct cb_lock *lock; /* the store's shared lock, NULL if none could be taken */
    cb_pending pending;   /* the record of this backup in progress */
    int reserved;         /* ... which exists in the store */
    cb_reuse *reuse;      /* resuming: the objects already stored (else NULL) */
    cb_reuse reuse_table;
    uint64_t reused; /* objects of the interrupted run kept */
    cb_progress progress;
    /* incremental backups */
    cb_chain parent;    /* the parent and its ancestors, checked (n == 0: full) */
    cb_hashes pshas;    /* the parent's hash list, streamed in step with the volume */
    int in_run;         /* a run of changed blocks is open ... */
    uint64_t run_start; /* ... since this volume offset */
    /* all-zero objects (holes of sparse volumes): computed once per length */
    uint64_t zero_len;
    unsigned char zero_md5[16];
    cb_buf zero_blob; /* the compressed form of zero_len zero bytes */
} cb_bk;

/* backup_setup.c: what is decided before the volume is read, and the JSON objects */
int cb__bk_options(cb_bk *b, cb_error *err);    /* codec, sha block, object size */
int cb__bk_ids(cb_bk *b, cb_error *err);        /* volume and backup ids */
int cb__bk_sizes(cb_bk *b, cb_error *err);      /* once the parent is known */
int cb__bk_names(cb_bk *b, cb_error *err);      /* time, container name, prefix */
int cb__bk_meta_begin(cb_bk *b, cb_error *err); /* metadata fields known up front */
int cb__bk_meta_fits(const cb_bk *b, cb_error *err);
int cb__bk_sha_begin(cb_bk *b, cb_error *err); /* open the _sha256file stream */
int cb__bk_sha_end(cb_bk *b, cb_error *err);
int cb__bk_write_metadata(cb_bk *b, cb_error *err); /* the commit point */

/* backup_resume.c: continuing an interrupted backup (opts->resume_id) */
int cb__bk_resume_begin(cb_bk *b, cb_backup_opts *ro, cb_error *err); /* its settings */
int cb__bk_resume_apply(cb_bk *b, cb_error *err);  /* its prefix; read back its objects */
int cb__bk_resume_strays(cb_bk *b, cb_error *err); /* objects the run did not record */

int cb__bk_io_init(const cb_bk *b, cb_bk_io *io, cb_error *err);
void cb__bk_io_dispose(cb_bk_io *io);

/* Between pieces of an object: 0 to go on, or an error (cancelled, failed elsewhere). */
typedef int (*cb_bk_tick_fn)(void *arg, cb_error *err);

/*
 * Store the volume range [o->off, o->off + o->len) as object o->name with io's buffers and
 * set o->comp, o->md5 and o->stored. It reads b's settings only, so any thread may store
 * objects at once, each with its own io. Nothing is recorded (cb__bk_record does that).
 */
int cb__bk_write_object(
    const cb_bk *b, cb_bk_io *io, cb_bk_obj *o, cb_bk_tick_fn tick, void *tick_arg, cb_error *err);

/* Add an object entry to the metadata: CB_EINVAL once the document would grow past what a
 * restore reads (CB_META_MAX), so that no backup is committed that cannot be restored. */
int cb__bk_meta_add(cb_bk *b,
                    const char *name,
                    uint64_t off,
                    uint64_t len,
                    const char *comp,
                    const unsigned char md5[16],
                    cb_error *err);

/* How a reusable object is recorded: "none" or the backup's own name for its codec; NULL
 * when it was stored with another codec (then it is written again). */
const char *cb__bk_reuse_comp(const cb_bk *b, const cb_reuse_obj *r);

/* Record a stored object in the metadata and the progress; in object order. */
int cb__bk_record(cb_bk *b, const cb_bk_obj *o, cb_error *err);

/* Store a range that lies wholly in a hole as object `name` (cached zeros). */
int cb__bk_zero_object(cb_bk *b, const char *name, uint64_t off, uint64_t len, cb_error *err);

/* Emit the hex of `n` digests into the _sha256file stream. */
int cb__bk_emit_digests(cb_bk *b, const unsigned char *digests, size_t n, cb_error *err);

/* The pipeline's committers: full backups store every range as one object; incremental
 * backups compare the range's digests with the parent's and store the changed runs. */
struct cb_pl_range;
int cb__bk_commit_full(cb_bk *b, const struct cb_pl_range *r, cb_error *err);
int cb__bk_commit_incremental(cb_bk *b, const struct cb_pl_range *r, cb_error *err);

/* Choose and check the parent of an incremental backup (nothing is written yet). */
int cb__bk_parent(cb_bk *b, cb_error *err);

/* Between pieces: report progress, honour the cancel hook. */
int cb__bk_tick(cb_bk *b, cb_error *err);

#endif
