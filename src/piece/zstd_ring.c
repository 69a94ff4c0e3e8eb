/* SPDX-License-Identifier: Apache-2.0 */
/* zstd_ring.c: see zstd_ring.h. */
#define ZSTD_STATIC_LINKING_ONLY /* the buffer-less API */
/* ZSTD_compressBegin_advanced is marked deprecated in favour of the streaming API, whose
 * input copy is what this file exists to avoid; it is the buffer-less API's only way to set
 * parameters and a content size. */
#define ZSTD_DISABLE_DEPRECATE_WARNINGS
#include <stdlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "piece.h"
#include "zstd_ring.h"
#include "../util/util.h"

/* Input per call: one block at most, so the output buffer stays small. */
#define ZR_STEP ((size_t)ZSTD_BLOCKSIZE_MAX)

struct cb_zring {
    ZSTD_CCtx *cctx;
    int level;
    size_t chunk;
    unsigned char *ring; /* CB_ZRING_SLOTS slots of `chunk` bytes, contiguous */
    unsigned slot;
    unsigned char *out; /* ZSTD_compressBound(ZR_STEP) plus a frame header */
    size_t out_cap;
    uint64_t left;     /* bytes still to come in the current frame */
    int open;          /* a frame is begun and not ended */
    int header_due;    /* the frame header is still to be written */
    size_t block;      /* the frame's largest block */
    int gap;           /* raw blocks written since the compressor last saw input */
    unsigned char one; /* the byte compressed on its own after a gap */
};

static int zr_fail(size_t rc, const char *label, const char *what, cb_error *err)
{
    int code = ZSTD_getErrorCode(rc) == ZSTD_error_memory_allocation ? CB_ENOMEM : CB_ERROR;
    return cb_error_set(err, code, "object '%s': zstd %s: %s", label, what, ZSTD_getErrorName(rc));
}

int cb_zring_new(cb_zring **out, int level, size_t chunk, cb_error *err)
{
    *out = NULL;
    if (level == 0)
        level = cb_codec__zstd_ops.default_level;
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
        return cb_error_set(err, CB_EINVAL, "zstd level %d is out of range %d..%d", level,
                            ZSTD_minCLevel(), ZSTD_maxCLevel());
    if (chunk == 0)
        return cb_error_set(err, CB_EINVAL, "zstd ring: chunk size 0");
    cb_zring *z = cb__calloc(1, sizeof(*z), err);
    if (z == NULL)
        return CB_ENOMEM;
    z->level = level;
    z->chunk = chunk;
    z->out_cap = ZSTD_compressBound(ZR_STEP) + ZSTD_FRAMEHEADERSIZE_MAX;
    if ((z->cctx = ZSTD_createCCtx()) == NULL ||
        (z->ring = cb__malloc(chunk * CB_ZRING_SLOTS, err)) == NULL ||
        (z->out = cb__malloc(z->out_cap, err)) == NULL) {
        cb_zring_free(z);
        return cb_error_set(err, CB_ENOMEM, "zstd ring: out of memory");
    }
    *out = z;
    return 0;
}

void cb_zring_free(cb_zring *z)
{
    if (z == NULL)
        return;
    ZSTD_freeCCtx(z->cctx);
    free(z->ring);
    free(z->out);
    free(z);
}

int cb_zring_begin(cb_zring *z, uint64_t pledged, const char *label, cb_error *err)
{
    ZSTD_parameters p = ZSTD_getParams(z->level, pledged, 0);
    if (z->level == 3) { /* the same tables as the streaming encoder's (codec_zstd.c) */
        p.cParams.windowLog = CB_ZSTD_L3_WINDOW_LOG;
        p.cParams.hashLog = CB_ZSTD_L3_HASH_LOG;
        p.cParams.chainLog = CB_ZSTD_L3_CHAIN_LOG;
        p.cParams = ZSTD_adjustCParams(p.cParams, pledged, 0); /* small objects: less */
    }
    p.fParams.contentSizeFlag = 1;
    p.fParams.checksumFlag = 0;
    p.fParams.noDictIDFlag = 1;
    z->open = 0;
    size_t rc = ZSTD_compressBegin_advanced(z->cctx, NULL, 0, p, pledged);
    if (ZSTD_isError(rc))
        return zr_fail(rc, label, "cannot start a frame", err);
    z->left = pledged;
    z->open = 1;
    z->header_due = 1;
    z->gap = 0;
    z->block = ZSTD_getBlockSize(z->cctx);
    return 0;
}

unsigned char *cb_zring_slot(const cb_zring *z)
{
    return z->ring + (size_t)z->slot * z->chunk;
}

/* Compress `n` bytes at `in` (at most one block) where they lie. After raw blocks the
 * compressor's idea of the stream lacks their bytes: a match reaching back across them
 * would be short of their length, so its history must go first. Its first byte, copied
 * aside and compressed on its own (a block that small is stored as it is), opens a
 * segment of one byte; the rest then opens another, and libzstd keeps only the last
 * segment before the current one, none under 8 bytes: the history left starts here.
 * Repeat offsets stay consistent, since libzstd uses one only within its history. */
static int zr_compress(cb_zring *z,
                       const unsigned char *in,
                       size_t n,
                       const char *label,
                       cb_sink_fn sink,
                       void *payload,
                       cb_error *err)
{
    size_t rc;
    int sunk = 0;
    if (z->gap) {
        z->one = in[0];
        rc = ZSTD_compressContinue(z->cctx, z->out, z->out_cap, &z->one, 1);
        if (!ZSTD_isError(rc) && (sunk = sink(z->out, rc, payload, err)) != 0)
            return sunk;
        in++;
        n--;
        z->gap = 0;
        if (ZSTD_isError(rc) || n == 0)
            goto out;
    }
    rc = ZSTD_compressContinue(z->cctx, z->out, z->out_cap, in, n);
    if (!ZSTD_isError(rc) && rc > 0)
        return sink(z->out, rc, payload, err);
out:
    return ZSTD_isError(rc) ? zr_fail(rc, label, "compression failed", err) : 0;
}

/* A block header: last-block flag, type (0 raw, 1 RLE, 2 compressed), size. */
static void zr_block_header(unsigned char h[3], int last, unsigned type, size_t n)
{
    uint32_t v = (uint32_t)last | type << 1 | (uint32_t)n << 3;
    h[0] = (unsigned char)v;
    h[1] = (unsigned char)(v >> 8);
    h[2] = (unsigned char)(v >> 16);
}

/* Random-looking bytes go into a raw block of our own, unseen by the compressor: it would
 * search them for matches in vain and then store them raw itself, after two copies. */
static int zr_raw(
    cb_zring *z, const unsigned char *in, size_t n, cb_sink_fn sink, void *payload, cb_error *err)
{
    unsigned char h[3];
    int rc;
    zr_block_header(h, 0, 0, n);
    z->gap = 1;
    if ((rc = sink(h, sizeof(h), payload, err)) != 0)
        return rc;
    return sink(in, n, payload, err);
}

/* The frame header, as libzstd writes it for no input yet, before the first block. */
static int zr_header(cb_zring *z, const char *label, cb_sink_fn sink, void *payload, cb_error *err)
{
    if (!z->header_due)
        return 0;
    size_t n = ZSTD_compressContinue(z->cctx, z->out, z->out_cap, cb_zring_slot(z), 0);
    if (ZSTD_isError(n))
        return zr_fail(n, label, "cannot start a frame", err);
    z->header_due = 0;
    return sink(z->out, n, payload, err);
}

/* After the frame's last byte: an empty last block ends it. */
static int zr_end(cb_sink_fn sink, void *payload, cb_error *err)
{
    unsigned char h[3];
    zr_block_header(h, 1, 0, 0);
    return sink(h, sizeof(h), payload, err);
}

int cb_zring_zeros(
    cb_zring *z, uint64_t len, const char *label, cb_sink_fn sink, void *payload, cb_error *err)
{
    unsigned char rle[4] = { 0 }; /* a block header, then the byte repeated: 0 */
    if (!z->open)
        return cb_error_set(err, CB_EINVAL, "object '%s': zstd ring: no frame begun", label);
    if (len == 0 || len > z->left)
        return cb_error_set(err, CB_EINVAL,
                            "object '%s': zstd ring: %llu zeros do not fit (%llu left)", label,
                            (unsigned long long)len, (unsigned long long)z->left);
    z->open = 0; /* until the zeros are through: a failed frame is abandoned */
    int rc = zr_header(z, label, sink, payload, err);
    for (uint64_t at = 0; rc == 0 && at < len;) {
        size_t n = len - at < z->block ? (size_t)(len - at) : z->block;
        zr_block_header(rle, 0, 1, n);
        rc = sink(rle, sizeof(rle), payload, err);
        at += n;
    }
    z->gap = 1; /* the compressor never saw these bytes: its history is cut (zr_compress) */
    z->left -= len;
    if (rc == 0 && z->left == 0)
        rc = zr_end(sink, payload, err);
    else if (rc == 0)
        z->open = 1;
    return rc;
}

int cb_zring_compress(
    cb_zring *z, size_t len, const char *label, cb_sink_fn sink, void *payload, cb_error *err)
{
    if (!z->open)
        return cb_error_set(err, CB_EINVAL, "object '%s': zstd ring: no frame begun", label);
    if (len > z->chunk || len > z->left || (len == 0 && z->left != 0))
        return cb_error_set(err, CB_EINVAL,
                            "object '%s': zstd ring: %zu bytes do not fit (chunk %zu, %llu left)",
                            label, len, z->chunk, (unsigned long long)z->left);
    const unsigned char *in = cb_zring_slot(z);
    int rc = 0;
    z->open = 0; /* until this chunk is through: a failed frame is abandoned */
    if ((rc = zr_header(z, label, sink, payload, err)) != 0)
        return rc;
    for (size_t at = 0, n; rc == 0 && at < len; at += n) {
        n = len - at < z->block ? len - at : z->block;
        rc = cb_looks_incompressible(in + at, n)
                 ? zr_raw(z, in + at, n, sink, payload, err)
                 : zr_compress(z, in + at, n, label, sink, payload, err);
    }
    z->left -= len;
    if (rc == 0 && z->left == 0) { /* the end: an empty last block */
        rc = zr_end(sink, payload, err);
    } else if (rc == 0) {
        z->open = 1;
    }
    z->slot = (z->slot + 1) % CB_ZRING_SLOTS;
    return rc;
}
