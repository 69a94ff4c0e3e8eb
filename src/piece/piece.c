/* SPDX-License-Identifier: Apache-2.0 */
/* piece.c: independently compressed pieces that join into one zlib or bzip2 stream. */
#include <bzlib.h>
#include <isa-l/igzip_lib.h>
#include <stdlib.h>
#include <string.h>

#include "piece.h"
#include "piece_deflate.h"
#include "../util/util.h"

struct cb_piece_coder {
    cb_codec_id id;
    cb_deflater *zlib;
};

int cb_piece_supported(cb_codec_id id)
{
    return id == CB_CODEC_ZLIB || id == CB_CODEC_BZ2;
}

int cb__piece_coder_new_with(cb_piece_coder **out, cb_codec_id id, int choice, cb_error *err)
{
    *out = NULL;
    if (!cb_piece_supported(id))
        return cb_error_set(err, CB_EINVAL, "%s cannot be compressed in independent pieces",
                            cb_codec_canonical_name(id));
    cb_piece_coder *c = cb__calloc(1, sizeof(*c), err);
    if (c == NULL)
        return CB_ENOMEM;
    c->id = id;
    if (id == CB_CODEC_ZLIB &&
        (c->zlib = cb_deflater_new((cb_deflate_choice)choice, err)) == NULL) {
        free(c);
        return CB_ENOMEM;
    }
    *out = c;
    return 0;
}

int cb_piece_coder_new(cb_piece_coder **out, cb_codec_id id, cb_error *err)
{
    return cb__piece_coder_new_with(out, id, CB_DEFLATE_TRIAL, err);
}

void cb_piece_coder_free(cb_piece_coder *c)
{
    if (c == NULL)
        return;
    cb_deflater_free(c->zlib);
    free(c);
}

static int
piece_bzip2(const unsigned char *in, size_t len, cb_buf *out, const char *label, cb_error *err)
{
    size_t cap = len + len / 100 + 601; /* bzip2's documented worst case */
    if (cb_buf_reserve(out, cap, err) < 0)
        return CB_ENOMEM;
    unsigned int n = (unsigned int)cap;
    int rc =
        BZ2_bzBuffToBuffCompress(out->data + out->len, &n, (char *)in, (unsigned int)len, 9, 0, 0);
    if (rc != BZ_OK)
        return cb_error_set(err, rc == BZ_MEM_ERROR ? CB_ENOMEM : CB_ERROR,
                            "object '%s': bzip2 compression failed (%d)", label, rc);
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}

int cb_piece_compress(
    cb_piece_coder *c, const void *in, size_t len, cb_buf *out, const char *label, cb_error *err)
{
    if (len == 0)
        return 0;
    if (c->id == CB_CODEC_ZLIB)
        return cb_deflater_piece(c->zlib, in, len, out, err);
    return piece_bzip2(in, len, out, label, err);
}

int cb_piece_compress_object(
    cb_piece_coder *c, const void *in, size_t len, cb_buf *out, const char *label, cb_error *err)
{
    int rc, final = 0;
    if ((rc = cb_piece_object_begin(c->id, out, err)) < 0)
        return rc;
    if (c->id != CB_CODEC_ZLIB) {
        if ((rc = cb_piece_compress(c, in, len, out, label, err)) < 0)
            return rc;
        return cb_piece_object_end(c->id, 0, out, err);
    }
    uint32_t adler = cb_piece_adler32(1, in, len);
    if (len > 0 && (rc = cb_deflater_only(c->zlib, in, len, out, &final, err)) < 0)
        return rc;
    if (!final)
        return cb_piece_object_end(c->id, adler, out, err);
    unsigned char t[4] = { (unsigned char)(adler >> 24), (unsigned char)(adler >> 16),
                           (unsigned char)(adler >> 8), (unsigned char)adler };
    return cb_buf_put(out, t, 4, err);
}

int cb_piece_object_begin(cb_codec_id id, cb_buf *out, cb_error *err)
{
    /* CMF 0x78: deflate, 32 KiB window; FLG 0x5e: "fast" level, no dictionary, and
     * (CMF * 256 + FLG) % 31 == 0 as RFC 1950 requires */
    static const unsigned char hdr[2] = { 0x78, 0x5e };
    return id == CB_CODEC_ZLIB ? cb_buf_put(out, hdr, 2, err) : 0;
}

int cb_piece_object_end(cb_codec_id id, uint32_t adler, cb_buf *out, cb_error *err)
{
    if (id != CB_CODEC_ZLIB)
        return 0;
    /* an empty final block with fixed codes (03 00), then the Adler-32, big-endian */
    unsigned char t[6] = { 0x03,
                           0x00,
                           (unsigned char)(adler >> 24),
                           (unsigned char)(adler >> 16),
                           (unsigned char)(adler >> 8),
                           (unsigned char)adler };
    return cb_buf_put(out, t, 6, err);
}

uint32_t cb_piece_adler32(uint32_t adler, const void *data, size_t len)
{
    return isal_adler32(adler, data, len);
}

uint32_t cb_piece_adler32_zeros(uint32_t adler, uint64_t n)
{
    const uint32_t mod = 65521; /* Adler-32's prime (RFC 1950) */
    uint32_t a = adler & 0xffff, b = adler >> 16;
    b = (uint32_t)((b + (n % mod) * a) % mod);
    return b << 16 | a;
}
