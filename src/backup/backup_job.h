/* SPDX-License-Identifier: Apache-2.0 */
/* backup_job.h: the state of one backup in progress, shared by backup.c and backup_chunk.c. */
#ifndef CB_BACKUP_BACKUP_JOB_H
#define CB_BACKUP_BACKUP_JOB_H

#include "reuse.h"
#include "../catalog/catalog.h"
#include "../codec/codec.h"
#include "../format/format.h"
#include "../hash/hash.h"
#include "../json/json.h"
#include "../lock/lock.h"
#include "../pipeline/pipeline.h"
#include "backup.h"

#define CB_PIECE_TARGET (1u << 20)          /* bytes the committer thread reads at a time */
#define CB_STREAM_OBJECT_SIZE (64ull << 20) /* a stream's objects when none is given */

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
    cb_objw_spec objw;     /* how its objects are stored (objwrite.h) */
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
    int dry_run;          /* opts->dry_run: b->store is the dry store (backup_dry.c) */
    int want_info;        /* the caller wants a cb_backup_info ... */
    cb_backup_info *info; /* ... made before the commit (bk_result) */
    /* incremental backups */
    cb_chain parent;             /* the parent and its ancestors, checked (n == 0: full) */
    cb_hashes pshas;             /* the parent's hash list, streamed in step with the volume */
    int in_run;                  /* a run of changed blocks is open ... */
    uint64_t run_start;          /* ... since this volume offset, */
    uint64_t run_end;            /* ... its last changed block ending here, */
    uint64_t run_gaps;           /* ... with this many unchanged bytes inside it */
    uint64_t coalesce;           /* unchanged bytes a run may take in to join the next one */
    _Atomic uint64_t read_bytes; /* what the volume's pread read (cb_volume.read_count) */
    unsigned char *digs;         /* a piece's digests with the parent's for its unchanged blocks */
    size_t digs_cap;
    /* all-zero objects (holes of sparse volumes): computed once per length */
    uint64_t zero_len;
    unsigned char zero_md5[16];
    cb_buf zero_blob;     /* the compressed form of zero_len zero bytes */
    unsigned char *zeros; /* `piece` zero bytes */
    cb_digest zero_dg;    /* their MD5 */
    cb_encoder *zero_enc; /* their compressed form, for streaming codecs */
    cb_objw zero_w;       /* and their writer */
    /* what the library's own callers add (backup.h) */
    const cb_bk_extra *extra; /* NULL: none */
    cb_hashes expect;         /* extra->expect's hash list, streamed in step with the volume */
    int expecting;            /* ... which is open */
    uint64_t expect_next;     /* index of the next block to compare */
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

/* Resuming (the pipeline's kept()): 1 if the interrupted run stored object `name` of `len`
 * bytes with this backup's codec or raw (*out describes it); 0 if not, or not resuming. */
int cb__bk_kept(void *ctx, const char *name, uint64_t len, cb_pl_kept *out);

/* Add an object entry to the metadata: CB_EINVAL once the document would grow past what a
 * restore reads (CB_META_MAX), so that no backup is committed that cannot be restored. */
int cb__bk_meta_add(cb_bk *b,
                    const char *name,
                    uint64_t off,
                    uint64_t len,
                    const char *comp,
                    const unsigned char md5[16],
                    cb_error *err);

/* The pipeline's callbacks (pipeline.h, cb_pl_job; ctx is the cb_bk), on the committer's
 * thread: full backups record every range as one object; incremental backups compare
 * each piece's digests with the parent's and hand the changed runs to the pipeline; every
 * changed run stored is recorded in order; all-zero objects and runs are stored here. */
int cb__bk_commit_full(void *ctx, cb_pl *pl, const cb_pl_range *r, cb_error *err);
int cb__bk_commit_incremental(void *ctx, cb_pl *pl, const cb_pl_range *r, cb_error *err);
int cb__bk_record(void *ctx, const cb_pl_object *o, cb_error *err);
int cb__bk_zero_object(void *ctx, const char *name, uint64_t off, uint64_t len, cb_error *err);

/* Emit the hex of `n` digests into the _sha256file stream (compared first with the list
 * to match, if any: cb_bk_extra.expect). */
int cb__bk_emit_digests(cb_bk *b, const unsigned char *digests, size_t n, cb_error *err);
/* Before the commit: the list to match ends where the volume did. */
int cb__bk_expect_end(cb_bk *b, cb_error *err);

/* Choose and check the parent of an incremental backup (nothing is written yet). */
int cb__bk_parent(cb_bk *b, cb_error *err);

/* backup_dry.c: a store that reads through to `real` and drops every write (dry runs). */
int cb__bk_dry_store(cb_store *real, cb_store **out, cb_error *err);

/* Between pieces: report progress, honour the cancel hook and the store's lock. */
int cb__bk_tick(cb_bk *b, cb_error *err);
/* Say what the backup does now: progress.step, and a progress call (no cancel check). */
void cb__bk_step(cb_bk *b, const char *step);

#endif
