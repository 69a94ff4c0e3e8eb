/* SPDX-License-Identifier: Apache-2.0 */
/* piece.c: independently compressed pieces that join into one zlib or bzip2 stream. */
#include <bzlib.h>
#include <isa-l/igzip_lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "piece.h"
#include "../util/alloc.h"

#define PIECE_STORED_MAX 65535u /* a DEFLATE stored block holds at most this many bytes */
/* igzip level 2: on the bench mix's compressible pieces 0.8 % smaller than level 1 and no
 * slower; level 3 saves 1 % more for 2.5x the time; zlib's level 6 is 10 % smaller again
 * but 20x slower (docs/performance.md) */
#define PIECE_ISAL_LEVEL 2

struct cb_piece_coder {
    cb_codec_id id;
    unsigned char *level_buf; /* ISA-L's working memory for the level */
    size_t level_buf_size;
};

int cb_piece_supported(cb_codec_id id)
{
    return id == CB_CODEC_ZLIB || id == CB_CODEC_BZ2;
}

int cb_piece_coder_new(cb_piece_coder **out, cb_codec_id id, cb_error *err)
{
    *out = NULL;
    if (!cb_piece_supported(id))
        return cb_error_set(err, CB_EINVAL, "%s cannot be compressed in independent pieces",
                            cb_codec_canonical_name(id));
    cb_piece_coder *c = cb__calloc(1, sizeof(*c), err);
    if (c == NULL)
        return CB_ENOMEM;
    c->id = id;
    if (id == CB_CODEC_ZLIB) {
        c->level_buf_size = ISAL_DEF_LVL2_DEFAULT;
        if ((c->level_buf = cb__malloc(c->level_buf_size, err)) == NULL) {
            free(c);
            return CB_ENOMEM;
        }
    }
    *out = c;
    return 0;
}

void cb_piece_coder_free(cb_piece_coder *c)
{
    if (c == NULL)
        return;
    free(c->level_buf);
    free(c);
}

/* Stored blocks: a byte-aligned header byte (BFINAL 0, BTYPE 00), LEN, NLEN, the bytes. */
static int piece_stored(const unsigned char *in, size_t len, cb_buf *out, cb_error *err)
{
    if (cb_buf_reserve(out, len + (len / PIECE_STORED_MAX + 1) * 5, err) < 0)
        return CB_ENOMEM;
    for (size_t pos = 0; pos < len;) {
        size_t n = len - pos < PIECE_STORED_MAX ? len - pos : PIECE_STORED_MAX;
        unsigned char h[5] = { 0x00, (unsigned char)(n & 0xff), (unsigned char)(n >> 8),
                               (unsigned char)(~n & 0xff), (unsigned char)((~n >> 8) & 0xff) };
        cb_buf_put(out, h, 5, err);
        cb_buf_put(out, in + pos, n, err);
        pos += n;
    }
    return 0;
}

/* ISA-L one-shot raw DEFLATE, no final block, FULL_FLUSH: ends byte-aligned, so the next
 * piece's blocks follow directly. If it would not fit in the stored size, store instead. */
static int piece_deflate(cb_piece_coder *c,
                         const unsigned char *in,
                         size_t len,
                         cb_buf *out,
                         const char *label,
                         cb_error *err)
{
    struct isal_zstream z;
    size_t cap = len + len / 64 + 1024;
    if (cb_looks_incompressible(in, len))
        return piece_stored(in, len, out, err);
    if (cb_buf_reserve(out, cap, err) < 0)
        return CB_ENOMEM;
    isal_deflate_stateless_init(&z);
    z.level = PIECE_ISAL_LEVEL;
    z.level_buf = c->level_buf;
    z.level_buf_size = (uint32_t)c->level_buf_size;
    z.gzip_flag = IGZIP_DEFLATE;
    z.flush = FULL_FLUSH;
    z.end_of_stream = 0;
    z.next_in = (uint8_t *)in;
    z.avail_in = (uint32_t)len;
    z.next_out = (uint8_t *)out->data + out->len;
    z.avail_out = (uint32_t)cap;
    int rc = isal_deflate_stateless(&z);
    if (rc == STATELESS_OVERFLOW) /* bigger than the input: stored blocks are smaller */
        return piece_stored(in, len, out, err);
    if (rc != COMP_OK)
        return cb_error_set(err, CB_ERROR, "object '%s': igzip compression failed (%d)", label, rc);
    size_t n = cap - z.avail_out;
    if (n > len + (len / PIECE_STORED_MAX + 1) * 5) /* stored would be smaller */
        return piece_stored(in, len, out, err);
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
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
        return piece_deflate(c, in, len, out, label, err);
    return piece_bzip2(in, len, out, label, err);
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

int cb_looks_incompressible(const void *data, size_t len)
{
    enum { WINDOWS = 4, WINDOW = 1024 };
    const unsigned char *p = data;
    unsigned count[256] = { 0 };
    size_t total = 0;
    if (len < 4096)
        return 0; /* too small to judge: compress */
    for (int w = 0; w < WINDOWS; w++) {
        const unsigned char *s = p + (len - WINDOW) / (WINDOWS - 1) * (size_t)w;
        for (int i = 0; i < WINDOW; i++)
            count[s[i]]++;
        total += WINDOW;
    }
    double h = 0;
    for (int i = 0; i < 256; i++) {
        if (count[i] == 0)
            continue;
        double q = (double)count[i] / (double)total;
        h -= q * log2(q);
    }
    /* 4096 random bytes measure about 7.95 bits; text 4-5, machine code about 6.5 */
    return h > 7.8;
}
