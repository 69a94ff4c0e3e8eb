/* SPDX-License-Identifier: Apache-2.0 */
/* backup.h: the state of one backup in progress, shared by backup.c and backup_chunk.c. */
#ifndef CB_CORE_BACKUP_H
#define CB_CORE_BACKUP_H

#include "chain.h"
#include "parent.h"

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
    size_t piece;       /* bytes read and hashed at a time (a multiple of sha_block) */
    unsigned char *buf; /* one piece */
    cb_digest dg;
    cb_encoder *enc;       /* NULL for "none" */
    cb_meta meta;          /* the document being built */
    cb_writer *sha_writer; /* <prefix>_sha256file, streamed while the data is read */
    cb_pyjson sha_json;
    int started; /* something may exist under the prefix: clean up on failure */
    cb_progress progress;
    /* incremental backups */
    cb_chain parent;      /* the parent and its ancestors, checked (n == 0: full) */
    cb_parent_shas pshas; /* the parent's hash list, streamed in step with the volume */
    int in_run;           /* a run of changed blocks is open ... */
    uint64_t run_start;   /* ... since this volume offset */
    /* all-zero objects (holes of sparse volumes): computed once per length */
    uint64_t zero_len;
    unsigned char zero_md5[16];
    cb_buf zero_blob; /* the compressed form of zero_len zero bytes */
    cb_buf small;     /* a small object's compressed form, before it is written */
} cb_bk;

/* Store a range that lies wholly in a hole as object `name` (cached zeros). */
int cb__bk_zero_object(cb_bk *b, const char *name, uint64_t off, uint64_t len, cb_error *err);

/* Emit the hex of `n` digests into the _sha256file stream. */
int cb__bk_emit_digests(cb_bk *b, const unsigned char *digests, size_t n, cb_error *err);

/* The pipeline's committers: full backups store every range as one object; incremental
 * backups compare the range's digests with the parent's and store the changed runs. */
struct cb_pl_range;
int cb__bk_commit_full(cb_bk *b, const struct cb_pl_range *r, cb_error *err);
int cb__bk_commit_incremental(cb_bk *b, const struct cb_pl_range *r, cb_error *err);

/* Store the volume range [off, off+len) as the next data object (serially). */
int cb__bk_object(cb_bk *b, uint64_t off, uint64_t len, cb_error *err);

/* Read [off, off+len) into buf: holes of a sparse file are filled with zeros, not read.
 * *all_zero is set when the whole range is a hole; then, unless `need_bytes`, the buffer
 * is left as it was (the caller only needs to know that the bytes are zeros). */
int cb__bk_read(cb_bk *b, uint64_t off, size_t len, int need_bytes, int *all_zero, cb_error *err);

/* Choose and check the parent of an incremental backup (nothing is written yet). */
int cb__bk_parent(cb_bk *b, cb_error *err);

/* Between pieces: report progress, honour the cancel hook. */
int cb__bk_tick(cb_bk *b, cb_error *err);

#endif
