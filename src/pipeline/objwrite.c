/* SPDX-License-Identifier: Apache-2.0 */
/* objwrite.c: see objwrite.h. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "objwrite.h"
#include "../util/util.h"

void cb__objw_dispose(cb_objw *o)
{
    cb_writer_free(o->w);
    EVP_MD_CTX_free(o->md5);
    cb_buf_dispose(&o->small);
    memset(o, 0, sizeof(*o));
}

static int objw_write(const void *data, size_t len, void *payload, cb_error *err)
{
    cb_objw *o = payload;
    o->stored += len;
    return cb_writer_write(o->w, data, len, err);
}

static int objw_keep(const void *data, size_t len, void *payload, cb_error *err)
{
    return cb_buf_put(payload, data, len, err);
}

static int objw_open_store(cb_objw *o, cb_error *err)
{
    const cb_objw_spec *s = o->spec;
    o->stored = 0;
    return cb_store_open_writer(s->store, s->container, o->name, s->extra_json, CB_WRITE_DEFER_SYNC,
                                &o->w, err);
}

/* A zlib or bz2 object of pieces starts with its stream's header. */
static int objw_piece_header(cb_objw *o, cb_error *err)
{
    cb_buf hdr = CB_BUF_INIT;
    int rc = cb_piece_object_begin(o->spec->codec, &hdr, err);
    if (rc == 0)
        rc = objw_write(hdr.data, hdr.len, o, err);
    cb_buf_dispose(&hdr);
    return rc;
}

int cb__objw_open(cb_objw *o,
                  const cb_objw_spec *spec,
                  const char *name,
                  uint64_t len,
                  cb_objw_form form,
                  int md5_given,
                  cb_encoder *enc,
                  cb_zring *zr,
                  cb_error *err)
{
    int rc = 0;
    cb_writer_free(o->w);
    o->w = NULL;
    o->spec = spec;
    o->name = name;
    o->len = len;
    o->form = spec->codec == CB_CODEC_NONE && form != CB_OBJW_PACKED ? CB_OBJW_RAW : form;
    o->md5_given = md5_given;
    o->enc = enc;
    o->zr = zr;
    o->adler = 1;
    o->fed = o->stored = 0;
    cb_buf_reset(&o->small);
    if (!md5_given) {
        if (o->md5 == NULL && (o->md5 = EVP_MD_CTX_new()) == NULL)
            return cb_error_set(err, CB_ENOMEM, "out of memory");
        EVP_DigestInit_ex(o->md5, EVP_md5(), NULL);
    }
    if (o->form != CB_OBJW_SMALL && (rc = objw_open_store(o, err)) < 0)
        return rc;
    switch (o->form) {
    case CB_OBJW_STREAM:
    case CB_OBJW_SMALL:
        return cb_encoder_begin(enc, len, name, err);
    case CB_OBJW_PIECES:
        return objw_piece_header(o, err);
    case CB_OBJW_RING:
        return cb_zring_begin(zr, len, name, err);
    default:
        return 0;
    }
}

int cb__objw_feed(cb_objw *o, const void *data, size_t n, const cb_buf *packed, cb_error *err)
{
    if (!o->md5_given && data != NULL)
        EVP_DigestUpdate(o->md5, data, n);
    o->fed += n;
    switch (o->form) {
    case CB_OBJW_RAW:
        return objw_write(data, n, o, err);
    case CB_OBJW_STREAM:
        return cb_encoder_feed(o->enc, data, n, objw_write, o, err);
    case CB_OBJW_PIECES:
        o->adler = cb_piece_adler32(o->adler, data, n);
        return objw_write(packed->data, packed->len, o, err);
    case CB_OBJW_RING: /* `data` is the ring's current slot */
        return cb_zring_compress(o->zr, n, o->name, objw_write, o, err);
    case CB_OBJW_SMALL:
        return cb_encoder_feed(o->enc, data, n, objw_keep, &o->small, err);
    case CB_OBJW_PACKED:
        return objw_write(packed->data, packed->len, o, err);
    }
    return 0;
}

/* Zeros to read from, never written: what a hole's bytes are (cb__objw_feed_zeros). */
static unsigned char objw_zeros[64u << 10];

/* `n` zeros fed through `fn` (the MD5, an encoder, the store) in pieces of objw_zeros. */
static int objw_zero_pieces(cb_objw *o,
                            size_t n,
                            int (*fn)(cb_objw *o, size_t k, cb_error *err),
                            cb_error *err)
{
    int rc = 0;
    for (size_t at = 0, k; rc == 0 && at < n; at += k) {
        k = n - at < sizeof(objw_zeros) ? n - at : sizeof(objw_zeros);
        rc = fn(o, k, err);
    }
    return rc;
}

static int objw_zero_md5(cb_objw *o, size_t k, cb_error *err)
{
    (void)err;
    EVP_DigestUpdate(o->md5, objw_zeros, k);
    return 0;
}

static int objw_zero_raw(cb_objw *o, size_t k, cb_error *err)
{
    return objw_write(objw_zeros, k, o, err);
}

static int objw_zero_stream(cb_objw *o, size_t k, cb_error *err)
{
    return o->form == CB_OBJW_SMALL
               ? cb_encoder_feed(o->enc, objw_zeros, k, objw_keep, &o->small, err)
               : cb_encoder_feed(o->enc, objw_zeros, k, objw_write, o, err);
}

int cb__objw_feed_zeros(cb_objw *o, size_t n, const cb_buf *packed, cb_error *err)
{
    if (!o->md5_given)
        objw_zero_pieces(o, n, objw_zero_md5, err);
    o->fed += n;
    switch (o->form) {
    case CB_OBJW_RAW:
        return objw_zero_pieces(o, n, objw_zero_raw, err);
    case CB_OBJW_STREAM:
    case CB_OBJW_SMALL:
        return objw_zero_pieces(o, n, objw_zero_stream, err);
    case CB_OBJW_PIECES:
        o->adler = cb_piece_adler32_zeros(o->adler, n);
        return objw_write(packed->data, packed->len, o, err);
    case CB_OBJW_RING:
        return cb_zring_zeros(o->zr, n, o->name, objw_write, o, err);
    case CB_OBJW_PACKED:
        return objw_write(packed->data, packed->len, o, err);
    }
    return 0;
}

/* The end of the compressed stream: what the encoder still holds, or a pieces' trailer. */
static int objw_finish_stream(cb_objw *o, cb_error *err)
{
    cb_buf tail = CB_BUF_INIT;
    int rc = 0;
    if (o->form == CB_OBJW_STREAM)
        rc = cb_encoder_end(o->enc, objw_write, o, err);
    else if (o->form == CB_OBJW_SMALL)
        rc = cb_encoder_end(o->enc, objw_keep, &o->small, err);
    else if (o->form == CB_OBJW_PIECES &&
             (rc = cb_piece_object_end(o->spec->codec, o->adler, &tail, err)) == 0)
        rc = objw_write(tail.data, tail.len, o, err);
    cb_buf_dispose(&tail);
    return rc;
}

/* Cinder's rule: the object's bytes as they are, in place of a form that did not help.
 * Without a scratch buffer of the caller's, one is allocated for the rewrite. */
static int objw_write_raw(cb_objw *o,
                          cb_objw_reread_fn reread,
                          void *ctx,
                          void *scratch,
                          size_t scratch_len,
                          cb_error *err)
{
    unsigned char *own = NULL;
    int rc;
    cb_writer_free(o->w);
    o->w = NULL;
    if (scratch == NULL && (scratch = own = cb__malloc(scratch_len, err)) == NULL)
        return CB_ENOMEM;
    rc = objw_open_store(o, err);
    for (uint64_t pos = 0; rc == 0 && pos < o->len; pos += scratch_len) {
        size_t n = o->len - pos < scratch_len ? (size_t)(o->len - pos) : scratch_len;
        if ((rc = reread(ctx, pos, scratch, n, err)) == 0)
            rc = objw_write(scratch, n, o, err);
    }
    free(own);
    return rc;
}

int cb__objw_close(cb_objw *o,
                   const unsigned char *md5,
                   cb_objw_reread_fn reread,
                   void *ctx,
                   void *scratch,
                   size_t scratch_len,
                   cb_objw_result *out,
                   cb_error *err)
{
    unsigned int n = 16;
    int rc = objw_finish_stream(o, err);
    int compressed = o->form != CB_OBJW_RAW;
    uint64_t size = o->form == CB_OBJW_SMALL ? o->small.len : o->stored;
    if (rc == 0 && o->fed != o->len)
        rc = cb_error_set(err, CB_ERROR, "object '%s': %llu of %llu bytes were written", o->name,
                          (unsigned long long)o->fed, (unsigned long long)o->len);
    if (rc == 0 && compressed && size >= o->len) {
        compressed = 0; /* compression did not help: store it raw */
        rc = objw_write_raw(o, reread, ctx, scratch, scratch_len, err);
    } else if (rc == 0 && o->form == CB_OBJW_SMALL) { /* the smaller form, written once */
        if ((rc = objw_open_store(o, err)) == 0)
            rc = objw_write(o->small.data, o->small.len, o, err);
    }
    if (rc == 0)
        rc = cb_writer_close(o->w, err);
    cb_writer_free(o->w);
    o->w = NULL;
    if (rc < 0)
        return rc;
    out->comp = compressed ? o->spec->comp_name : "none";
    out->stored = o->stored;
    if (o->md5_given)
        memcpy(out->md5, md5, 16);
    else
        EVP_DigestFinal_ex(o->md5, out->md5, &n);
    return 0;
}

void cb__objw_abandon(cb_objw *o)
{
    cb_writer_free(o->w); /* an unclosed writer commits nothing */
    o->w = NULL;
}
