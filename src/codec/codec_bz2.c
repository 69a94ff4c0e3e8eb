/* SPDX-License-Identifier: Apache-2.0 */
/* codec_bz2.c: bzip2 streams, as Python's bz2.compress() writes and bz2.decompress() reads
 * them (Cinder's "bz2" and "bzip2"). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <bzlib.h>

#include "codec.h"
#include "../util/util.h"

typedef struct bz2_enc {
    bz_stream bs;
    int level; /* blockSize100k */
    int live;  /* bs holds an initialised compressor */
} bz2_enc;

typedef enum bz2_dec_state {
    BZ2_BETWEEN, /* before the first stream or after a complete one */
    BZ2_INSIDE,  /* inside a stream: ending here means truncation */
    BZ2_JUNK     /* junk after a complete stream: ignored, as Python does */
} bz2_dec_state;

typedef struct bz2_dec {
    bz_stream bs;
    int live; /* bs holds an initialised decompressor */
    bz2_dec_state state;
    unsigned streams;    /* streams started in this object */
    uint64_t stream_out; /* bytes the current stream has produced */
} bz2_dec;

/* bzlib counts in unsigned int and never writes through next_in, whatever its type says. */
static void bz2_set_io(bz_stream *bs, const cb_codec_io *io)
{
    bs->next_in = (char *)io->in;
    bs->avail_in = io->in_len > UINT_MAX ? UINT_MAX : (unsigned)io->in_len;
    bs->next_out = (char *)io->buf;
    bs->avail_out = (unsigned)CB_CODEC_WINDOW;
}

static void bz2_get_io(const bz_stream *bs, cb_codec_io *io)
{
    size_t used = (size_t)((const unsigned char *)bs->next_in - io->in);
    io->in += used;
    io->in_len -= used;
    io->out = io->buf;
    io->out_len = CB_CODEC_WINDOW - bs->avail_out;
}

static int bz2_enc_new(void **out, int level, cb_error *err)
{
    if (level < 1 || level > 9)
        return cb_error_set(err, CB_EINVAL, "bz2 level %d is out of range 1..9", level);
    bz2_enc *b = cb__calloc(1, sizeof(*b), err);
    if (b == NULL)
        return CB_ENOMEM;
    b->level = level;
    *out = b;
    return 0;
}

/* bzlib's memory goes through the library's wrappers, like the rest (tests fail them). */
static void *bz2_alloc(void *opaque, int items, int size)
{
    (void)opaque;
    return cb__malloc((size_t)items * (size_t)size, NULL);
}

static void bz2_free(void *opaque, void *p)
{
    (void)opaque;
    free(p);
}

/* bzlib has no reset: each object gets a fresh compressor (its ~7.6 MB at level 9 is
 * allocated here rather than at new, and released by the next begin or free). */
static int bz2_enc_begin(void *st, uint64_t pledged, const char *label, cb_error *err)
{
    bz2_enc *b = st;
    (void)pledged;
    if (b->live)
        BZ2_bzCompressEnd(&b->bs);
    memset(&b->bs, 0, sizeof(b->bs));
    b->bs.bzalloc = bz2_alloc;
    b->bs.bzfree = bz2_free;
    int rc = BZ2_bzCompressInit(&b->bs, b->level, 0, 0);
    b->live = rc == BZ_OK;
    if (rc != BZ_OK)
        return cb_error_set(err, rc == BZ_MEM_ERROR ? CB_ENOMEM : CB_ERROR,
                            "object '%s': bz2: cannot start a compressor (code %d)", label, rc);
    return 0;
}

static int
bz2_enc_step(void *st, cb_codec_io *io, int finish, int *done, const char *label, cb_error *err)
{
    bz2_enc *b = st;
    bz2_set_io(&b->bs, io);
    int rc = BZ2_bzCompress(&b->bs, finish ? BZ_FINISH : BZ_RUN);
    bz2_get_io(&b->bs, io);
    if (rc == BZ_STREAM_END)
        *done = 1;
    else if (rc != BZ_RUN_OK && rc != BZ_FINISH_OK)
        return cb_error_set(err, CB_ERROR, "object '%s': bz2 compression failed (code %d)", label,
                            rc);
    return 0;
}

static void bz2_enc_free(void *st)
{
    bz2_enc *b = st;
    if (b == NULL)
        return;
    if (b->live)
        BZ2_bzCompressEnd(&b->bs);
    free(b);
}

static int bz2_dec_new(void **out, cb_error *err)
{
    bz2_dec *b = cb__calloc(1, sizeof(*b), err);
    if (b == NULL)
        return CB_ENOMEM;
    *out = b;
    return 0;
}

static void bz2_dec_stop(bz2_dec *b)
{
    if (b->live)
        BZ2_bzDecompressEnd(&b->bs);
    b->live = 0;
}

static int bz2_dec_begin(void *st, const char *label, cb_error *err)
{
    bz2_dec *b = st;
    (void)label;
    (void)err;
    bz2_dec_stop(b);
    b->state = BZ2_BETWEEN;
    b->streams = 0;
    return 0;
}

static int bz2_dec_start_stream(bz2_dec *b, const char *label, cb_error *err)
{
    memset(&b->bs, 0, sizeof(b->bs));
    b->bs.bzalloc = bz2_alloc;
    b->bs.bzfree = bz2_free;
    int rc = BZ2_bzDecompressInit(&b->bs, 0, 0);
    if (rc != BZ_OK)
        return cb_error_set(err, rc == BZ_MEM_ERROR ? CB_ENOMEM : CB_ERROR,
                            "object '%s': bz2: cannot start a decompressor (code %d)", label, rc);
    b->live = 1;
    b->state = BZ2_INSIDE;
    b->streams++;
    b->stream_out = 0;
    return 0;
}

static const char *bz2_reason(int rc)
{
    switch (rc) {
    case BZ_DATA_ERROR_MAGIC:
        return "not a bzip2 stream (bad magic)";
    case BZ_DATA_ERROR:
        return "invalid data or CRC mismatch";
    default:
        return "unexpected error";
    }
}

static int bz2_dec_step(void *st, cb_codec_io *io, const char *label, cb_error *err)
{
    bz2_dec *b = st;
    if (b->state == BZ2_JUNK) {
        io->in += io->in_len;
        io->in_len = 0;
        return 0;
    }
    if (b->state == BZ2_BETWEEN) {
        if (io->in_len == 0) /* a draining call: nothing is pending between streams */
            return 0;
        int error = bz2_dec_start_stream(b, label, err);
        if (error < 0)
            return error;
    }
    bz2_set_io(&b->bs, io);
    int rc = BZ2_bzDecompress(&b->bs);
    bz2_get_io(&b->bs, io);
    b->stream_out += io->out_len;
    if (rc == BZ_OK)
        return 0;
    bz2_dec_stop(b);
    if (rc == BZ_STREAM_END) {
        b->state = BZ2_BETWEEN;
        return 0;
    }
    /* bz2.decompress() drops a failing stream that follows a complete one; we can only do so
     * while that stream has emitted nothing, since we never hold output back */
    if ((rc == BZ_DATA_ERROR || rc == BZ_DATA_ERROR_MAGIC) && b->streams > 1 &&
        b->stream_out == 0) {
        b->state = BZ2_JUNK;
        io->in += io->in_len;
        io->in_len = 0;
        return 0;
    }
    if (rc == BZ_MEM_ERROR)
        return cb_error_set(err, CB_ENOMEM, "object '%s': bz2: out of memory", label);
    return cb_error_set(err, CB_ECORRUPT, "object '%s': bz2 data is corrupt: %s", label,
                        bz2_reason(rc));
}

static int bz2_dec_end(void *st, const char *label, cb_error *err)
{
    bz2_dec *b = st;
    int inside = b->state == BZ2_INSIDE;
    bz2_dec_stop(b);
    if (inside)
        return cb_error_set(err, CB_ECORRUPT,
                            "object '%s': bz2 data is corrupt: compressed data ended before the "
                            "end-of-stream marker",
                            label);
    return 0;
}

static void bz2_dec_free(void *st)
{
    bz2_dec *b = st;
    if (b == NULL)
        return;
    bz2_dec_stop(b);
    free(b);
}

const cb_codec_ops cb_codec__bz2_ops = {
    .name = "bz2",
    .default_level = 9,
    .enc_new = bz2_enc_new,
    .enc_begin = bz2_enc_begin,
    .enc_step = bz2_enc_step,
    .enc_free = bz2_enc_free,
    .dec_new = bz2_dec_new,
    .dec_begin = bz2_dec_begin,
    .dec_step = bz2_dec_step,
    .dec_end = bz2_dec_end,
    .dec_free = bz2_dec_free,
};
