/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backup_chunk.c: storing one object on any thread with its own buffers (cb_bk_io): the
 * changed runs of an incremental backup, which the pipeline's workers store; all-zero
 * objects, which the committer stores from a cache; and the full backup's committer. An
 * object's bytes are read a piece at a time, added to its MD5 and compressed straight into
 * the store's writer, so memory does not depend on the object size. If the compressed
 * object is not smaller than the data, it is rewritten raw and recorded as "none",
 * Cinder's rule.
 */
#include <stdlib.h>
#include <string.h>

#include "../pipeline/pipeline.h"
#include "../codec/codec.h"
#include "../util/util.h"
#include "../hash/hash.h"
#include "../json/json.h"
#include "../format/format.h"

int cb__bk_io_init(const cb_bk *b, cb_bk_io *io, cb_error *err)
{
    int rc;
    memset(io, 0, sizeof(*io));
    if ((io->buf = cb__malloc(b->piece, err)) == NULL)
        return CB_ENOMEM;
    if ((rc = cb__digest_init(&io->dg, b->sha_block, err)) < 0)
        return rc;
    if (b->codec != CB_CODEC_NONE && (rc = cb_encoder_new(&io->enc, b->codec, 0, err)) < 0)
        return rc;
    return 0;
}

void cb__bk_io_dispose(cb_bk_io *io)
{
    cb_encoder_free(io->enc);
    if (io->dg.sha != NULL)
        cb__digest_dispose(&io->dg);
    cb_buf_dispose(&io->small);
    free(io->buf);
    memset(io, 0, sizeof(*io));
}

static int bk_read(const cb_bk *b, cb_bk_io *io, uint64_t off, size_t len, cb_error *err)
{
    int all_zero;
    return cb__volume_read_sparse(&b->vol, io->buf, len, off, 1, &all_zero, err);
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

/* An object being written: its description and its writer. */
typedef struct bk_out {
    const cb_bk *b;
    cb_bk_io *io;
    cb_bk_obj *o;
    cb_writer *w;
    cb_bk_tick_fn tick;
    void *tick_arg;
} bk_out;

static int bk_open(bk_out *x, cb_error *err)
{
    const cb_bk *b = x->b;
    x->o->stored = 0;
    return cb_store_open_writer(b->store, b->container, x->o->name, b->meta.extra_json,
                                CB_WRITE_DEFER_SYNC, &x->w, err);
}

static int bk_tick(bk_out *x, cb_error *err)
{
    return x->tick != NULL ? x->tick(x->tick_arg, err) : 0;
}

/* Write the object's range again, uncompressed. */
static int bk_rewrite_raw(bk_out *x, cb_error *err)
{
    const cb_bk *b = x->b;
    cb_bk_obj *o = x->o;
    int rc;
    cb_writer_free(x->w);
    x->w = NULL;
    if ((rc = bk_open(x, err)) < 0)
        return rc;
    for (uint64_t pos = 0; pos < o->len; pos += b->piece) {
        size_t n = o->len - pos < b->piece ? (size_t)(o->len - pos) : b->piece;
        if ((rc = bk_tick(x, err)) < 0 || (rc = bk_read(b, x->io, o->off + pos, n, err)) < 0 ||
            (rc = cb_writer_write(x->w, x->io->buf, n, err)) < 0)
            return rc;
    }
    o->stored = o->len;
    return 0;
}

/* Read, hash and compress (or copy) every piece of the object into its writer. */
static int bk_stream(bk_out *x, cb_error *err)
{
    const cb_bk *b = x->b;
    cb_bk_io *io = x->io;
    cb_bk_obj *o = x->o;
    int rc;
    cb__digest_md5_begin(&io->dg);
    if (io->enc != NULL && (rc = cb_encoder_begin(io->enc, o->len, o->name, err)) < 0)
        return rc;
    for (uint64_t pos = 0; pos < o->len; pos += b->piece) {
        size_t n = o->len - pos < b->piece ? (size_t)(o->len - pos) : b->piece;
        if ((rc = bk_tick(x, err)) < 0 || (rc = bk_read(b, io, o->off + pos, n, err)) < 0)
            return rc;
        cb__digest_md5_update(&io->dg, io->buf, n);
        if (io->enc != NULL)
            rc = cb_encoder_feed(io->enc, io->buf, n, bk_sink, x->w, err);
        else
            rc = cb_writer_write(x->w, io->buf, n, err);
        if (rc < 0)
            return rc;
    }
    if (io->enc != NULL && (rc = cb_encoder_end(io->enc, bk_sink, x->w, err)) < 0)
        return rc;
    o->stored = io->enc != NULL ? cb_encoder_out_bytes(io->enc) : o->len;
    cb__digest_md5_end(&io->dg, o->md5);
    return 0;
}

/* An object no larger than one piece (most changed runs): compressed in memory first, so it
 * is written once, compressed or raw, instead of written and then rewritten raw. */
static int bk_small(bk_out *x, cb_error *err)
{
    cb_bk_io *io = x->io;
    cb_bk_obj *o = x->o;
    const void *data = io->buf;
    size_t n = (size_t)o->len;
    int rc;
    if ((rc = bk_read(x->b, io, o->off, n, err)) < 0)
        return rc;
    cb__digest_md5_begin(&io->dg);
    cb__digest_md5_update(&io->dg, io->buf, n);
    cb__digest_md5_end(&io->dg, o->md5);
    cb_buf_reset(&io->small);
    if (io->enc != NULL &&
        ((rc = cb_encoder_begin(io->enc, n, o->name, err)) < 0 ||
         (rc = cb_encoder_feed(io->enc, io->buf, n, bk_buf_sink, &io->small, err)) < 0 ||
         (rc = cb_encoder_end(io->enc, bk_buf_sink, &io->small, err)) < 0))
        return rc;
    if (io->enc != NULL && io->small.len < n) {
        data = io->small.data;
        n = io->small.len;
    } else {
        o->comp = "none";
    }
    if ((rc = bk_open(x, err)) < 0 || (rc = cb_writer_write(x->w, data, n, err)) < 0)
        return rc;
    o->stored = n;
    return 0;
}

const char *cb__bk_reuse_comp(const cb_bk *b, const cb_reuse_obj *r)
{
    if (r->codec == CB_CODEC_NONE)
        return "none";
    return r->codec == b->codec ? b->comp_name : NULL;
}

/* Resume: the object the interrupted run stored under this name, if it holds exactly the
 * volume's [o->off, o->off + o->len); then o describes it and nothing is written. */
static int bk_reuse(const cb_bk *b, cb_bk_io *io, cb_bk_obj *o, int *reused, cb_error *err)
{
    const cb_reuse_obj *r = cb__reuse_find(b->reuse, o->name, o->len);
    unsigned char md5[16];
    int rc;
    *reused = 0;
    if (r == NULL || cb__bk_reuse_comp(b, r) == NULL)
        return 0;
    cb__digest_md5_begin(&io->dg);
    for (uint64_t pos = 0; pos < o->len; pos += b->piece) {
        size_t n = o->len - pos < b->piece ? (size_t)(o->len - pos) : b->piece;
        if ((rc = bk_read(b, io, o->off + pos, n, err)) < 0)
            return rc;
        cb__digest_md5_update(&io->dg, io->buf, n);
    }
    cb__digest_md5_end(&io->dg, md5);
    if (memcmp(md5, r->md5, 16) != 0)
        return 0;
    memcpy(o->md5, md5, 16);
    o->comp = cb__bk_reuse_comp(b, r);
    o->stored = r->stored;
    o->reused = 1;
    *reused = 1;
    return 0;
}

int cb__bk_write_object(
    const cb_bk *b, cb_bk_io *io, cb_bk_obj *o, cb_bk_tick_fn tick, void *tick_arg, cb_error *err)
{
    int reused = 0;
    if (b->reuse != NULL) {
        int rrc = bk_reuse(b, io, o, &reused, err);
        if (rrc < 0 || reused)
            return rrc;
    }
    bk_out x = { .b = b, .io = io, .o = o, .tick = tick, .tick_arg = tick_arg };
    int rc;
    o->comp = io->enc != NULL ? b->comp_name : "none";
    if (o->len <= b->piece) {
        rc = bk_small(&x, err);
    } else if ((rc = bk_open(&x, err)) == 0 && (rc = bk_stream(&x, err)) == 0 && io->enc != NULL &&
               o->stored >= o->len) {
        o->comp = "none"; /* compression did not help: store it raw */
        rc = bk_rewrite_raw(&x, err);
    }
    if (rc == 0)
        rc = cb_writer_close(x.w, err);
    cb_writer_free(x.w);
    return rc;
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

int cb__bk_record(cb_bk *b, const cb_bk_obj *o, cb_error *err)
{
    b->progress.objects_done++;
    if (o->reused)
        b->reused++;
    else
        b->progress.bytes_stored += o->stored;
    return cb__bk_meta_add(b, o->name, o->off, o->len, o->comp, o->md5, err);
}

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
        (full > 0 && (rc = cb_piece_compress(c, b->io.buf, b->piece, &one, "zeros", err)) < 0) ||
        (rest > 0 && (rc = cb_piece_compress(c, b->io.buf, (size_t)rest, &tail, "zeros", err)) < 0))
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

/* MD5 and compressed form of `len` zero bytes, computed once per length: the holes of a
 * sparse volume then cost neither reading, hashing nor compressing. */
static int bk_zero_prepare(cb_bk *b, uint64_t len, cb_error *err)
{
    int rc = 0;
    int pieces = b->io.enc != NULL && cb_piece_supported(b->codec);
    if (b->zero_len == len)
        return 0;
    b->zero_len = 0;
    cb_buf_reset(&b->zero_blob);
    memset(b->io.buf, 0, b->piece);
    cb__digest_md5_begin(&b->io.dg);
    if (pieces)
        rc = bk_zero_pieces(b, len, err);
    else if (b->io.enc != NULL)
        rc = cb_encoder_begin(b->io.enc, len, "zeros", err);
    if (rc < 0)
        return rc;
    for (uint64_t pos = 0; pos < len; pos += b->piece) {
        size_t n = len - pos < b->piece ? (size_t)(len - pos) : b->piece;
        cb__digest_md5_update(&b->io.dg, b->io.buf, n);
        if (b->io.enc != NULL && !pieces &&
            (rc = cb_encoder_feed(b->io.enc, b->io.buf, n, bk_buf_sink, &b->zero_blob, err)) < 0)
            return rc;
    }
    if (b->io.enc != NULL && !pieces &&
        (rc = cb_encoder_end(b->io.enc, bk_buf_sink, &b->zero_blob, err)) < 0)
        return rc;
    cb__digest_md5_end(&b->io.dg, b->zero_md5);
    b->zero_len = len;
    return 0;
}

/* An object that lies wholly in a hole of the volume. */
int cb__bk_zero_object(cb_bk *b, const char *name, uint64_t off, uint64_t len, cb_error *err)
{
    cb_writer *w = NULL;
    const char *comp = b->io.enc != NULL ? b->comp_name : "none";
    uint64_t stored;
    int rc;
    if ((rc = bk_zero_prepare(b, len, err)) < 0)
        return rc;
    const cb_reuse_obj *r = cb__reuse_find(b->reuse, name, len);
    if (r != NULL && cb__bk_reuse_comp(b, r) != NULL && memcmp(r->md5, b->zero_md5, 16) == 0) {
        b->progress.objects_done++; /* resumed: the interrupted run stored these zeros */
        b->reused++;
        return cb__bk_meta_add(b, name, off, len, cb__bk_reuse_comp(b, r), b->zero_md5, err);
    }
    if ((rc = cb_store_open_writer(b->store, b->container, name, b->meta.extra_json,
                                   CB_WRITE_DEFER_SYNC, &w, err)) < 0)
        goto done;
    if (b->io.enc != NULL && b->zero_blob.len < len) {
        rc = cb_writer_write(w, b->zero_blob.data, b->zero_blob.len, err);
        stored = b->zero_blob.len;
    } else { /* compression would not help (tiny objects): store raw zeros */
        comp = "none";
        stored = len;
        for (uint64_t pos = 0; rc == 0 && pos < len; pos += b->piece)
            rc = cb_writer_write(w, b->io.buf,
                                 len - pos < b->piece ? (size_t)(len - pos) : b->piece, err);
    }
    if (rc < 0 || (rc = cb_writer_close(w, err)) < 0 || (rc = cb__bk_tick(b, err)) < 0)
        goto done;
    b->progress.objects_done++;
    b->progress.bytes_stored += stored;
    rc = cb__bk_meta_add(b, name, off, len, comp, b->zero_md5, err);
done:
    cb_writer_free(w);
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
    rc = cb__bk_meta_add(b, name, r->off, r->len, r->compression, r->md5, err);
    free(name);
    b->progress.objects_done++;
    if (r->reused)
        b->reused++;
    else
        b->progress.bytes_stored += r->stored_bytes;
    return rc;
}
