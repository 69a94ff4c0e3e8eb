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

#include "zstd_ring.h"
#include "../util/alloc.h"

/* Output per call: one block's worth of input at most, so the output buffer stays small. */
#define ZR_STEP ((size_t)ZSTD_BLOCKSIZE_MAX)

struct cb_zring {
    ZSTD_CCtx *cctx;
    int level;
    size_t chunk;
    unsigned char *ring; /* CB_ZRING_SLOTS slots of `chunk` bytes, contiguous */
    unsigned slot;
    unsigned char *out; /* ZSTD_compressBound(ZR_STEP) plus a frame header */
    size_t out_cap;
    uint64_t left; /* bytes still to come in the current frame */
    int open;      /* a frame is begun and not ended */
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
    return 0;
}

unsigned char *cb_zring_slot(const cb_zring *z)
{
    return z->ring + (size_t)z->slot * z->chunk;
}

/* One step of at most ZR_STEP bytes; the last one of the frame ends it. */
static int zr_step(cb_zring *z,
                   const unsigned char *in,
                   size_t n,
                   int last,
                   const char *label,
                   cb_sink_fn sink,
                   void *payload,
                   cb_error *err)
{
    size_t rc = last ? ZSTD_compressEnd(z->cctx, z->out, z->out_cap, in, n)
                     : ZSTD_compressContinue(z->cctx, z->out, z->out_cap, in, n);
    if (ZSTD_isError(rc)) {
        z->open = 0;
        return zr_fail(rc, label, "compression failed", err);
    }
    return rc > 0 ? sink(z->out, rc, payload, err) : 0;
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
    z->left -= len;
    int end = z->left == 0, rc = 0;
    size_t at = 0;
    do { /* once at least: an empty frame still needs its end */
        size_t n = len - at < ZR_STEP ? len - at : ZR_STEP;
        rc = zr_step(z, in + at, n, end && at + n == len, label, sink, payload, err);
        at += n;
    } while (rc == 0 && at < len);
    if (rc != 0 || end)
        z->open = 0; /* a failed frame is abandoned; the next begin starts afresh */
    z->slot = (z->slot + 1) % CB_ZRING_SLOTS;
    return rc;
}
