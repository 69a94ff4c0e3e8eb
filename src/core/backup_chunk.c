/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backup_chunk.c: objects stored on the committer's thread: the changed runs of an
 * incremental backup (already hashed by the pipeline) and all-zero objects, plus the full
 * backup's committer. An object's bytes are read a piece at a time, added to its MD5 and
 * compressed straight into the store's writer, so memory does not depend on the object
 * size. If the compressed object is not smaller than the data, it is rewritten raw and
 * recorded as "none", Cinder's rule.
 */
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "../codec/piece.h"
#include "../util/alloc.h"

int cb__bk_read(cb_bk *b, uint64_t off, size_t len, int need_bytes, int *all_zero, cb_error *err)
{
    return cb__volume_read_sparse(&b->vol, b->buf, len, off, need_bytes, all_zero, err);
}

static int bk_sink(const void *data, size_t len, void *payload, cb_error *err)
{
    cb_writer *w = payload;
    return cb_writer_write(w, data, len, err);
}

static int bk_buf_sink(const void *data, size_t len, void *payload, cb_error *err)
{
    return cb_buf_put(payload, data, len, err);
}

typedef struct bk_obj {
    char *name;
    uint64_t off, len;
    cb_writer *w;
    uint64_t stored; /* bytes handed to the writer */
} bk_obj;

static int bk_open(cb_bk *b, bk_obj *o, cb_error *err)
{
    o->stored = 0;
    return cb_store_open_writer(b->store, b->container, o->name, b->meta.extra_json,
                                CB_WRITE_DEFER_SYNC, &o->w, err);
}

/* Write [o->off, o->off + o->len) again, uncompressed. */
static int bk_rewrite_raw(cb_bk *b, bk_obj *o, cb_error *err)
{
    int rc, all_zero;
    cb_writer_free(o->w);
    o->w = NULL;
    if ((rc = bk_open(b, o, err)) < 0)
        return rc;
    for (uint64_t pos = 0; pos < o->len; pos += b->piece) {
        size_t n = o->len - pos < b->piece ? (size_t)(o->len - pos) : b->piece;
        if ((rc = cb__bk_tick(b, err)) < 0 ||
            (rc = cb__bk_read(b, o->off + pos, n, 1, &all_zero, err)) < 0 ||
            (rc = cb_writer_write(o->w, b->buf, n, err)) < 0)
            return rc;
    }
    o->stored = o->len;
    return 0;
}

/* Read, hash and compress (or copy) every piece of the object into its writer. */
static int bk_stream(cb_bk *b, bk_obj *o, cb_error *err)
{
    int rc, all_zero;
    cb__digest_md5_begin(&b->dg);
    if (b->enc != NULL && (rc = cb_encoder_begin(b->enc, o->len, o->name, err)) < 0)
        return rc;
    for (uint64_t pos = 0; pos < o->len; pos += b->piece) {
        size_t n = o->len - pos < b->piece ? (size_t)(o->len - pos) : b->piece;
        if ((rc = cb__bk_tick(b, err)) < 0 ||
            (rc = cb__bk_read(b, o->off + pos, n, 1, &all_zero, err)) < 0)
            return rc;
        cb__digest_md5_update(&b->dg, b->buf, n);
        if (b->enc != NULL)
            rc = cb_encoder_feed(b->enc, b->buf, n, bk_sink, o->w, err);
        else
            rc = cb_writer_write(o->w, b->buf, n, err);
        if (rc < 0)
            return rc;
    }
    if (b->enc != NULL && (rc = cb_encoder_end(b->enc, bk_sink, o->w, err)) < 0)
        return rc;
    o->stored = b->enc != NULL ? cb_encoder_out_bytes(b->enc) : o->len;
    return 0;
}

/* MD5 and compressed form of `len` zero bytes, computed once per length: the holes of a
 * sparse volume then cost neither reading, hashing nor compressing. */
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
        (full > 0 && (rc = cb_piece_compress(c, b->buf, b->piece, &one, "zeros", err)) < 0) ||
        (rest > 0 && (rc = cb_piece_compress(c, b->buf, (size_t)rest, &tail, "zeros", err)) < 0))
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

static int bk_zero_prepare(cb_bk *b, uint64_t len, cb_error *err)
{
    int rc = 0;
    int pieces = b->enc != NULL && cb_piece_supported(b->codec);
    if (b->zero_len == len)
        return 0;
    b->zero_len = 0;
    cb_buf_reset(&b->zero_blob);
    memset(b->buf, 0, b->piece);
    cb__digest_md5_begin(&b->dg);
    if (pieces)
        rc = bk_zero_pieces(b, len, err);
    else if (b->enc != NULL)
        rc = cb_encoder_begin(b->enc, len, "zeros", err);
    if (rc < 0)
        return rc;
    for (uint64_t pos = 0; pos < len; pos += b->piece) {
        size_t n = len - pos < b->piece ? (size_t)(len - pos) : b->piece;
        cb__digest_md5_update(&b->dg, b->buf, n);
        if (b->enc != NULL && !pieces &&
            (rc = cb_encoder_feed(b->enc, b->buf, n, bk_buf_sink, &b->zero_blob, err)) < 0)
            return rc;
    }
    if (b->enc != NULL && !pieces &&
        (rc = cb_encoder_end(b->enc, bk_buf_sink, &b->zero_blob, err)) < 0)
        return rc;
    cb__digest_md5_end(&b->dg, b->zero_md5);
    b->zero_len = len;
    return 0;
}

/* An object that lies wholly in a hole of the volume. */
int cb__bk_zero_object(cb_bk *b, const char *name, uint64_t off, uint64_t len, cb_error *err)
{
    cb_writer *w = NULL;
    const char *comp = b->enc != NULL ? b->comp_name : "none";
    uint64_t stored;
    int rc;
    if ((rc = bk_zero_prepare(b, len, err)) < 0)
        return rc;
    if ((rc = cb_store_open_writer(b->store, b->container, name, b->meta.extra_json,
                                   CB_WRITE_DEFER_SYNC, &w, err)) < 0)
        goto done;
    if (b->enc != NULL && b->zero_blob.len < len) {
        rc = cb_writer_write(w, b->zero_blob.data, b->zero_blob.len, err);
        stored = b->zero_blob.len;
    } else { /* compression would not help (tiny objects): store raw zeros */
        comp = "none";
        stored = len;
        for (uint64_t pos = 0; rc == 0 && pos < len; pos += b->piece)
            rc = cb_writer_write(w, b->buf, len - pos < b->piece ? (size_t)(len - pos) : b->piece,
                                 err);
    }
    if (rc < 0 || (rc = cb_writer_close(w, err)) < 0 || (rc = cb__bk_tick(b, err)) < 0)
        goto done;
    b->progress.objects_done++;
    b->progress.bytes_stored += stored;
    rc = cb__meta_add_object(&b->meta, name, off, len, comp, b->zero_md5, err);
done:
    cb_writer_free(w);
    return rc;
}

/* An object no larger than one piece (most changed runs): compressed in memory first, so it
 * is written once, compressed or raw, instead of written and then rewritten raw. */
static int bk_small(cb_bk *b, bk_obj *o, unsigned char md5[16], const char **comp, cb_error *err)
{
    int rc, all_zero;
    const void *data = b->buf;
    size_t n = (size_t)o->len;
    if ((rc = cb__bk_read(b, o->off, n, 1, &all_zero, err)) < 0)
        return rc;
    cb__digest_md5_begin(&b->dg);
    cb__digest_md5_update(&b->dg, b->buf, n);
    cb__digest_md5_end(&b->dg, md5);
    cb_buf_reset(&b->small);
    if (b->enc != NULL &&
        ((rc = cb_encoder_begin(b->enc, n, o->name, err)) < 0 ||
         (rc = cb_encoder_feed(b->enc, b->buf, n, bk_buf_sink, &b->small, err)) < 0 ||
         (rc = cb_encoder_end(b->enc, bk_buf_sink, &b->small, err)) < 0))
        return rc;
    if (b->enc != NULL && b->small.len < n) {
        data = b->small.data;
        n = b->small.len;
    } else {
        *comp = "none";
    }
    o->stored = n;
    if ((rc = bk_open(b, o, err)) < 0 || (rc = cb_writer_write(o->w, data, n, err)) < 0)
        return rc;
    return 0;
}

int cb__bk_object(cb_bk *b, uint64_t off, uint64_t len, cb_error *err)
{
    bk_obj o = { .off = off, .len = len };
    unsigned char md5[16];
    const char *comp = b->enc != NULL ? b->comp_name : "none";
    int rc;

    uint64_t data;
    if ((o.name = cb__name_object(b->prefix, b->meta.n_objects + 1, err)) == NULL)
        return CB_ENOMEM;
    if ((rc = cb__volume_next_data(&b->vol, off, &data, err)) < 0)
        goto done;
    if (data >= off + len) {
        rc = cb__bk_zero_object(b, o.name, off, len, err);
        goto done;
    }
    if (len <= b->piece) {
        if ((rc = bk_small(b, &o, md5, &comp, err)) < 0)
            goto done;
    } else {
        if ((rc = bk_open(b, &o, err)) < 0 || (rc = bk_stream(b, &o, err)) < 0)
            goto done;
        cb__digest_md5_end(&b->dg, md5);
        if (b->enc != NULL && o.stored >= len) { /* compression did not help: store it raw */
            comp = "none";
            if ((rc = bk_rewrite_raw(b, &o, err)) < 0)
                goto done;
        }
    }
    if ((rc = cb_writer_close(o.w, err)) < 0)
        goto done;
    b->progress.objects_done++;
    b->progress.bytes_stored += o.stored;
    rc = cb__meta_add_object(&b->meta, o.name, off, len, comp, md5, err);
done:
    cb_writer_free(o.w);
    free(o.name);
    return rc;
}

int cb__bk_emit_digests(cb_bk *b, const unsigned char *digests, size_t n, cb_error *err)
{
    char hex[65];
    for (size_t k = 0; k < n; k++) {
        cb__hex(hex, digests + k * 32, 32);
        cb_pyjson_stringn(&b->sha_json, hex, 64, err);
    }
    return cb_pyjson_status(&b->sha_json, err);
}

int cb__bk_commit_full(cb_bk *b, const cb_pl_range *r, cb_error *err)
{
    int rc;
    if ((rc = cb__bk_emit_digests(b, r->digests, r->n_digests, err)) < 0)
        return rc;
    if (r->zero) { /* the pipeline leaves all-zero objects to us: one cached form */
        char *name = cb__name_object(b->prefix, r->index + 1, err);
        if (name == NULL)
            return CB_ENOMEM;
        rc = cb__bk_zero_object(b, name, r->off, r->len, err);
        free(name);
        return rc;
    }
    char *name = cb__name_object(b->prefix, r->index + 1, err);
    if (name == NULL)
        return CB_ENOMEM;
    rc = cb__meta_add_object(&b->meta, name, r->off, r->len, r->compression, r->md5, err);
    free(name);
    b->progress.objects_done++;
    b->progress.bytes_stored += r->stored_bytes;
    return rc;
}
