/* SPDX-License-Identifier: Apache-2.0 */
/* codec_zlib.c: one RFC 1950 zlib stream, as Python's zlib.compress() writes and
 * zlib.decompress() reads it (Cinder's "zlib" and, despite the name, "gzip"). */
#define ZLIB_CONST
#include <limits.h>
#include <stdlib.h>
#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include "codec.h"
#include "../util/util.h"

/* zlib.compress(): windowBits 15 and memLevel 8 give the 78 9c header at level 6. */
#define ZLIB_WINDOW_BITS 15
#define ZLIB_MEM_LEVEL 8

static const char *zlib_reason(const z_stream *zs, int rc)
{
    if (rc == Z_NEED_DICT)
        return "a preset dictionary is required";
    return zs->msg != NULL ? zs->msg : zError(rc);
}

/* zlib counts in uInt: feed at most UINT_MAX bytes per call. */
static void zlib_set_io(z_stream *zs, const cb_codec_io *io)
{
    zs->next_in = io->in;
    zs->avail_in = io->in_len > UINT_MAX ? UINT_MAX : (uInt)io->in_len;
    zs->next_out = io->buf;
    zs->avail_out = (uInt)CB_CODEC_WINDOW;
}

static void zlib_get_io(const z_stream *zs, cb_codec_io *io)
{
    size_t used = (size_t)(zs->next_in - io->in);
    io->in += used;
    io->in_len -= used;
    io->out = io->buf;
    io->out_len = CB_CODEC_WINDOW - zs->avail_out;
}

/* zlib's memory goes through the library's wrappers, like the rest (tests fail them). */
static voidpf zlib_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return cb__malloc((size_t)items * size, NULL);
}

static void zlib_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    free(p);
}

static int zlib_enc_new(void **out, int level, cb_error *err)
{
    if (level < 1 || level > 9)
        return cb_error_set(err, CB_EINVAL, "zlib level %d is out of range 1..9", level);
    z_stream *zs = cb__calloc(1, sizeof(*zs), err);
    if (zs == NULL)
        return CB_ENOMEM;
    zs->zalloc = zlib_alloc;
    zs->zfree = zlib_free;
    int rc =
        deflateInit2(zs, level, Z_DEFLATED, ZLIB_WINDOW_BITS, ZLIB_MEM_LEVEL, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) {
        free(zs);
        return cb_error_set(err, rc == Z_MEM_ERROR ? CB_ENOMEM : CB_ERROR,
                            "zlib: cannot start a compressor: %s", zError(rc));
    }
    *out = zs;
    return 0;
}

static int zlib_enc_begin(void *st, uint64_t pledged, const char *label, cb_error *err)
{
    (void)pledged;
    if (deflateReset(st) != Z_OK)
        return cb_error_set(err, CB_ERROR, "object '%s': zlib: cannot reset the compressor", label);
    return 0;
}

static int
zlib_enc_step(void *st, cb_codec_io *io, int finish, int *done, const char *label, cb_error *err)
{
    z_stream *zs = st;
    zlib_set_io(zs, io);
    int rc = deflate(zs, finish ? Z_FINISH : Z_NO_FLUSH);
    zlib_get_io(zs, io);
    if (rc == Z_STREAM_END)
        *done = 1;
    else if (rc != Z_OK && rc != Z_BUF_ERROR) /* Z_BUF_ERROR: no progress possible, not fatal */
        return cb_error_set(err, CB_ERROR, "object '%s': zlib compression failed: %s", label,
                            zlib_reason(zs, rc));
    return 0;
}

static void zlib_enc_free(void *st)
{
    if (st == NULL)
        return;
    deflateEnd(st);
    free(st);
}

/*
 * Decoding with ISA-L's inflate: several times zlib's speed, the same checks (the zlib
 * header, every block, the Adler-32). Like Python's zlib.decompress(), bytes after the end
 * of the stream are ignored.
 */
typedef struct zlib_isal_dec {
    struct inflate_state st;
    int ended;
} zlib_isal_dec;

static int zlib_dec_new(void **out, cb_error *err)
{
    zlib_isal_dec *z = cb__calloc(1, sizeof(*z), err);
    if (z == NULL)
        return CB_ENOMEM;
    *out = z;
    return 0;
}

static int zlib_dec_begin(void *st, const char *label, cb_error *err)
{
    zlib_isal_dec *z = st;
    (void)label;
    (void)err;
    isal_inflate_init(&z->st);
    z->st.crc_flag = ISAL_ZLIB;
    z->ended = 0;
    return 0;
}

static const char *zlib_isal_reason(int rc)
{
    switch (rc) {
    case ISAL_INVALID_BLOCK:
        return "invalid block";
    case ISAL_INVALID_SYMBOL:
        return "invalid code";
    case ISAL_INVALID_LOOKBACK:
        return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER:
        return "incorrect header check";
    case ISAL_UNSUPPORTED_METHOD:
        return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM:
        return "incorrect data check";
    case ISAL_NEED_DICT:
        return "a preset dictionary is required";
    }
    return "invalid stream";
}

static int zlib_dec_step(void *st, cb_codec_io *io, const char *label, cb_error *err)
{
    zlib_isal_dec *z = st;
    if (z->ended) {
        io->in += io->in_len;
        io->in_len = 0;
        io->out = io->buf;
        io->out_len = 0;
        return 0;
    }
    z->st.next_in = (uint8_t *)io->in;
    z->st.avail_in = io->in_len > UINT_MAX ? UINT_MAX : (uint32_t)io->in_len;
    z->st.next_out = io->buf;
    z->st.avail_out = (uint32_t)CB_CODEC_WINDOW;
    int rc = isal_inflate(&z->st);
    size_t used = (size_t)(z->st.next_in - io->in);
    io->in += used;
    io->in_len -= used;
    io->out = io->buf;
    io->out_len = CB_CODEC_WINDOW - z->st.avail_out;
    if (rc < 0 || rc == ISAL_NEED_DICT)
        return cb_error_set(err, CB_ECORRUPT, "object '%s': zlib data is corrupt: %s", label,
                            zlib_isal_reason(rc));
    if (z->st.block_state == ISAL_BLOCK_FINISH)
        z->ended = 1;
    return 0;
}

static int zlib_dec_end(void *st, const char *label, cb_error *err)
{
    const zlib_isal_dec *z = st;
    if (!z->ended)
        return cb_error_set(err, CB_ECORRUPT,
                            "object '%s': zlib data is corrupt: incomplete or truncated stream",
                            label);
    return 0;
}

static void zlib_dec_free(void *st)
{
    free(st);
}

const cb_codec_ops cb_codec__zlib_ops = {
    .name = "zlib",
    .default_level = 6,
    .enc_new = zlib_enc_new,
    .enc_begin = zlib_enc_begin,
    .enc_step = zlib_enc_step,
    .enc_free = zlib_enc_free,
    .dec_new = zlib_dec_new,
    .dec_begin = zlib_dec_begin,
    .dec_step = zlib_dec_step,
    .dec_end = zlib_dec_end,
    .dec_free = zlib_dec_free,
};
