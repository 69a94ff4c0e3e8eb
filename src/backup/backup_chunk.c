/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backup_chunk.c: what a backup makes of the pipeline's results, on the committer's
 * thread: the object entries of the metadata (bounded by what a restore reads), the hashes
 * streamed into the _sha256file, and all-zero objects, whose compressed form is the same
 * for every hole of one length and is made once (then stored by the object writer like
 * any other object); and the tick between objects.
 */
#include <stdlib.h>
#include <string.h>

#include "backup_job.h"
#include "../lock/lock.h"
#include "../piece/piece.h"
#include "../util/util.h"

/* Between objects: cancel, the lock still ours, progress. */
int cb__bk_tick(cb_bk *b, cb_error *err)
{
    const cb_backup_opts *o = b->opts;
    int rc;
    if (o->cancel != NULL && o->cancel(o->cancel_payload))
        return cb_error_set(err, CB_ECANCELED, "backup %s cancelled", b->backup_id);
    if ((rc = cb__lock_held(b->lock, err)) < 0 ||
        (b->extra != NULL && (rc = cb__lock_held(b->extra->lock, err)) < 0))
        return rc;
    if (o->progress != NULL)
        o->progress(&b->progress, o->progress_payload);
    return 0;
}

void cb__bk_step(cb_bk *b, const char *step)
{
    const cb_backup_opts *o = b->opts;
    b->progress.step = step;
    if (o->progress != NULL)
        o->progress(&b->progress, o->progress_payload);
}

int cb__bk_meta_add(cb_bk *b,
                    const char *name,
                    uint64_t off,
                    uint64_t len,
                    const char *comp,
                    const unsigned char md5[16],
                    cb_error *err)
{
    b->meta_bytes += cb__meta_entry_bound(strlen(name), strlen(comp));
    if (cb__meta_head_bound(&b->meta) + b->meta_bytes > CB_META_MAX)
        return cb_error_set(err, CB_EINVAL,
                            "backup %s needs more than %zu objects: their list would not fit "
                            "in the %zu MiB of metadata a restore reads (take a full backup, "
                            "or use a larger --object-size)",
                            b->backup_id, b->meta.n_objects, CB_META_MAX >> 20);
    return cb__meta_add_object(&b->meta, name, off, len, comp, md5, err);
}

/* One stored object into the metadata and the progress, in object order. */
static int bk_record(cb_bk *b,
                     const char *name,
                     uint64_t off,
                     uint64_t len,
                     const cb_objw_result *res,
                     int reused,
                     cb_error *err)
{
    b->progress.objects_done++;
    if (reused)
        b->reused++;
    else
        b->progress.bytes_stored += res->stored;
    return cb__bk_meta_add(b, name, off, len, res->comp, res->md5, err);
}

int cb__bk_record(void *ctx, const cb_pl_object *o, cb_error *err)
{
    return bk_record(ctx, o->name, o->off, o->len, &o->res, o->reused, err);
}

/* ---- all-zero objects ---- */

/* Zeros in independent pieces (zlib, bz2): every full piece compresses to the same bytes,
 * so compress one full piece and the short tail once and repeat them. */
static int bk_zero_pieces(cb_bk *b, uint64_t len, cb_error *err)
{
    cb_piece_coder *c = NULL;
    cb_buf one = CB_BUF_INIT, tail = CB_BUF_INIT;
    uint64_t full = len / b->piece, rest = len % b->piece;
    int rc;
    if ((rc = cb_piece_coder_new(&c, b->codec, err)) < 0 ||
        (rc = cb_piece_object_begin(b->codec, &b->zero_blob, err)) < 0 ||
        (full > 0 && (rc = cb_piece_compress(c, b->zeros, b->piece, &one, "zeros", err)) < 0) ||
        (rest > 0 && (rc = cb_piece_compress(c, b->zeros, (size_t)rest, &tail, "zeros", err)) < 0))
        goto done;
    for (uint64_t i = 0; rc == 0 && i < full; i++)
        rc = cb_buf_put(&b->zero_blob, one.data, one.len, err);
    if (rc == 0 && rest > 0)
        rc = cb_buf_put(&b->zero_blob, tail.data, tail.len, err);
    /* Adler-32 of n zero bytes: a stays 1, b is n mod 65521 */
    if (rc == 0)
        rc = cb_piece_object_end(b->codec, (uint32_t)((len % 65521) << 16 | 1), &b->zero_blob, err);
done:
    cb_piece_coder_free(c);
    cb_buf_dispose(&one);
    cb_buf_dispose(&tail);
    return rc;
}

static int bk_zero_sink(const void *data, size_t len, void *payload, cb_error *err)
{
    return cb_buf_put(payload, data, len, err);
}

/* Zeros through a streaming encoder (zstd). */
static int bk_zero_stream(cb_bk *b, uint64_t len, cb_error *err)
{
    int rc;
    if (b->zero_enc == NULL && (rc = cb_encoder_new(&b->zero_enc, b->codec, 0, err)) < 0)
        return rc;
    if ((rc = cb_encoder_begin(b->zero_enc, len, "zeros", err)) < 0)
        return rc;
    for (uint64_t pos = 0; pos < len; pos += b->piece) {
        size_t n = len - pos < b->piece ? (size_t)(len - pos) : b->piece;
        if ((rc = cb_encoder_feed(b->zero_enc, b->zeros, n, bk_zero_sink, &b->zero_blob, err)) < 0)
            return rc;
    }
    return cb_encoder_end(b->zero_enc, bk_zero_sink, &b->zero_blob, err);
}

/* MD5 and compressed form of `len` zero bytes, computed once per length: the holes of a
 * sparse volume then cost neither reading, hashing nor compressing. */
static int bk_zero_prepare(cb_bk *b, uint64_t len, cb_error *err)
{
    int rc = 0;
    if (b->zero_len == len)
        return 0;
    if (b->zeros == NULL && ((b->zeros = cb__calloc(1, b->piece, err)) == NULL ||
                             (rc = cb__digest_init(&b->zero_dg, b->sha_block, err)) < 0)) {
        free(b->zeros);
        b->zeros = NULL;
        return rc < 0 ? rc : CB_ENOMEM;
    }
    b->zero_len = 0;
    cb_buf_reset(&b->zero_blob);
    if (b->codec != CB_CODEC_NONE)
        rc = cb_piece_supported(b->codec) ? bk_zero_pieces(b, len, err)
                                          : bk_zero_stream(b, len, err);
    if (rc < 0)
        return rc;
    cb__digest_md5_begin(&b->zero_dg);
    for (uint64_t pos = 0; pos < len; pos += b->piece)
        cb__digest_md5_update(&b->zero_dg, b->zeros,
                              len - pos < b->piece ? (size_t)(len - pos) : b->piece);
    cb__digest_md5_end(&b->zero_dg, b->zero_md5);
    b->zero_len = len;
    return 0;
}

static int bk_zero_reread(void *ctx, uint64_t pos, void *buf, size_t n, cb_error *err)
{
    (void)ctx;
    (void)pos;
    (void)err;
    memset(buf, 0, n); /* buf is the zeros themselves, unless the caller's differs */
    return 0;
}

int cb__bk_zero_object(void *ctx, const char *name, uint64_t off, uint64_t len, cb_error *err)
{
    cb_bk *b = ctx;
    cb_objw_result res;
    cb_pl_kept k;
    int rc;
    if ((rc = bk_zero_prepare(b, len, err)) < 0)
        return rc;
    /* resuming: the interrupted run stored these zeros already */
    if (cb__bk_kept(b, name, len, &k) && memcmp(k.md5, b->zero_md5, 16) == 0) {
        res = (cb_objw_result){ .comp = k.comp, .stored = k.stored };
        memcpy(res.md5, b->zero_md5, 16);
        return bk_record(b, name, off, len, &res, 1, err);
    }
    cb_objw_form form = b->codec == CB_CODEC_NONE ? CB_OBJW_RAW : CB_OBJW_PACKED;
    if ((rc = cb__objw_open(&b->zero_w, &b->objw, name, len, form, 1, NULL, NULL, err)) == 0) {
        if (form == CB_OBJW_PACKED)
            rc = cb__objw_feed(&b->zero_w, NULL, len, &b->zero_blob, err);
        for (uint64_t pos = 0; rc == 0 && form == CB_OBJW_RAW && pos < len; pos += b->piece)
            rc = cb__objw_feed(&b->zero_w, b->zeros,
                               len - pos < b->piece ? (size_t)(len - pos) : b->piece, NULL, err);
    }
    if (rc == 0)
        rc = cb__objw_close(&b->zero_w, b->zero_md5, bk_zero_reread, NULL, b->zeros, b->piece, &res,
                            err);
    else
        cb__objw_abandon(&b->zero_w);
    if (rc < 0 || (rc = cb__bk_tick(b, err)) < 0)
        return rc;
    return bk_record(b, name, off, len, &res, 0, err);
}

/* ---- the committer ---- */

/* A backup that must hold another's content (cb_bk_extra.expect): each block's digest is
 * that backup's, or the backup stops before anything is committed. */
static int bk_expect(cb_bk *b, const unsigned char *digests, size_t n, cb_error *err)
{
    unsigned char want[32];
    int have, rc;
    for (size_t k = 0; k < n; k++, b->expect_next++) {
        if ((rc = cb__hashes_get(&b->expect, b->expect_next, want, &have, err)) < 0)
            return rc;
        if (!have || memcmp(want, digests + k * 32, 32) != 0)
            return b->extra->mismatch(b->extra->ctx, b->expect_next * b->sha_block, !have, err);
    }
    return 0;
}

/* At the end: the list to match has no block more. */
int cb__bk_expect_end(cb_bk *b, cb_error *err)
{
    unsigned char want[32];
    int have, rc;
    if (!b->expecting)
        return 0;
    if ((rc = cb__hashes_get(&b->expect, b->expect_next, want, &have, err)) < 0)
        return rc;
    return have ? b->extra->mismatch(b->extra->ctx, b->expect_next * b->sha_block, 2, err) : 0;
}

int cb__bk_emit_digests(cb_bk *b, const unsigned char *digests, size_t n, cb_error *err)
{
    char hex[65];
    int rc;
    if (b->expecting && (rc = bk_expect(b, digests, n, err)) < 0)
        return rc;
    for (size_t k = 0; k < n; k++) {
        cb__hex(hex, digests + k * 32, 32);
        cb_pyjson_plain_stringn(&b->sha_json, hex, 64, err);
    }
    return cb_pyjson_status(&b->sha_json, err);
}

int cb__bk_commit_full(void *ctx, cb_pl *pl, const cb_pl_range *r, cb_error *err)
{
    cb_bk *b = ctx;
    int rc;
    (void)pl;
    if ((rc = cb__bk_emit_digests(b, r->digests, r->n_digests, err)) < 0)
        return rc;
    if (r->zero) { /* the pipeline leaves all-zero objects to us: one cached form */
        b->progress.bytes_zero += r->len;
        return cb__bk_zero_object(b, r->name, r->off, r->len, err);
    }
    return bk_record(b, r->name, r->off, r->len, &r->res, r->reused, err);
}
