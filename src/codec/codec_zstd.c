/* SPDX-License-Identifier: Apache-2.0 */
/* codec_zstd.c: zstd frames. We write exactly one frame per object that declares its content
 * size, because python-zstd's decompress() (Cinder's restore) refuses frames without one and
 * fails on several frames. We read what libzstd's streaming API reads. */
#include <stdlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "codec.h"
#include "../util/util.h"

typedef struct zstd_dec {
    ZSTD_DCtx *dctx;
    int seen_input; /* a frame was started: empty input is not a valid zstd object */
    int in_frame;   /* the last call left a frame unfinished */
} zstd_dec;

static int zstd_fail(size_t rc, int code, const char *label, const char *what, cb_error *err)
{
    if (ZSTD_getErrorCode(rc) == ZSTD_error_memory_allocation)
        code = CB_ENOMEM;
    return cb_error_set(err, code, "object '%s': zstd %s: %s", label, what, ZSTD_getErrorName(rc));
}

static int zstd_enc_new(void **out, int level, cb_error *err)
{
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
        return cb_error_set(err, CB_EINVAL, "zstd level %d is out of range %d..%d", level,
                            ZSTD_minCLevel(), ZSTD_maxCLevel());
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    if (cctx == NULL)
        return cb_error_set(err, CB_ENOMEM, "zstd: cannot create a compression context");
    size_t rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
    /* both are libzstd's defaults today; python-zstd needs the size and adds no checksum */
    if (!ZSTD_isError(rc))
        rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
    if (!ZSTD_isError(rc))
        rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
    /* Level 3 with tables that fit in a core's cache: level 3's own (2 MiB window, 128 Ki-
     * entry hash and 64 Ki-entry chain tables) run memory-bound on our 2-core machines, and
     * two compressors side by side then gain only 1.2-1.6x. A 512 KiB window and 32 Ki-
     * entry tables compress the bench's text and binary data at 142 MB/s instead of
     * 121 MB/s (zstd -b), for 0.4 % more output there and 0.1 % on the whole volume. */
    if (!ZSTD_isError(rc) && level == 3)
        rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, CB_ZSTD_L3_WINDOW_LOG);
    if (!ZSTD_isError(rc) && level == 3)
        rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_hashLog, CB_ZSTD_L3_HASH_LOG);
    if (!ZSTD_isError(rc) && level == 3)
        rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_chainLog, CB_ZSTD_L3_CHAIN_LOG);
    if (ZSTD_isError(rc)) {
        ZSTD_freeCCtx(cctx);
        return zstd_fail(rc, CB_EINVAL, "(new)", "compression setup failed", err);
    }
    *out = cctx;
    return 0;
}

static int zstd_enc_begin(void *st, uint64_t pledged, const char *label, cb_error *err)
{
    /* a session reset keeps the parameters; the pledged size goes into the frame header */
    size_t rc = ZSTD_CCtx_reset(st, ZSTD_reset_session_only);
    if (!ZSTD_isError(rc))
        rc = ZSTD_CCtx_setPledgedSrcSize(st, pledged);
    if (ZSTD_isError(rc))
        return zstd_fail(rc, CB_ERROR, label, "cannot start a frame", err);
    return 0;
}

static int
zstd_enc_step(void *st, cb_codec_io *io, int finish, int *done, const char *label, cb_error *err)
{
    ZSTD_inBuffer in = { io->in, io->in_len, 0 };
    ZSTD_outBuffer out = { io->buf, CB_CODEC_WINDOW, 0 };
    size_t rc = ZSTD_compressStream2(st, &out, &in, finish ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(rc))
        return zstd_fail(rc, CB_ERROR, label, "compression failed", err);
    io->in += in.pos;
    io->in_len -= in.pos;
    io->out = io->buf;
    io->out_len = out.pos;
    *done = finish && rc == 0;
    return 0;
}

/* zstd's own threads: still one frame, compressed in parallel jobs. A libzstd built without
 * threads refuses; then the frame is simply compressed on the calling thread. */
static int zstd_enc_workers(void *st, int n, cb_error *err)
{
    (void)err;
    ZSTD_CCtx_setParameter(st, ZSTD_c_nbWorkers, n);
    return 0;
}

static void zstd_enc_free(void *st)
{
    ZSTD_freeCCtx(st);
}

static int zstd_dec_new(void **out, cb_error *err)
{
    zstd_dec *z = cb__calloc(1, sizeof(*z), err);
    if (z == NULL)
        return CB_ENOMEM;
    if ((z->dctx = ZSTD_createDCtx()) == NULL) {
        free(z);
        return cb_error_set(err, CB_ENOMEM, "zstd: cannot create a decompression context");
    }
    *out = z;
    return 0;
}

static int zstd_dec_begin(void *st, const char *label, cb_error *err)
{
    zstd_dec *z = st;
    z->seen_input = 0;
    z->in_frame = 0;
    size_t rc = ZSTD_DCtx_reset(z->dctx, ZSTD_reset_session_only);
    if (ZSTD_isError(rc))
        return zstd_fail(rc, CB_ERROR, label, "cannot reset the decompressor", err);
    return 0;
}

static int zstd_dec_step(void *st, cb_codec_io *io, const char *label, cb_error *err)
{
    zstd_dec *z = st;
    /* between frames, a draining call would be read as the start of a new, empty frame */
    if (io->in_len == 0 && !z->in_frame)
        return 0;
    ZSTD_inBuffer in = { io->in, io->in_len, 0 };
    ZSTD_outBuffer out = { io->buf, CB_CODEC_WINDOW, 0 };
    size_t rc = ZSTD_decompressStream(z->dctx, &out, &in);
    if (ZSTD_isError(rc))
        return zstd_fail(rc, CB_ECORRUPT, label, "data is corrupt", err);
    io->in += in.pos;
    io->in_len -= in.pos;
    io->out = io->buf;
    io->out_len = out.pos;
    z->seen_input = 1;
    z->in_frame = rc != 0; /* 0: a frame is complete and fully flushed; the next one may follow */
    return 0;
}

static int zstd_dec_end(void *st, const char *label, cb_error *err)
{
    const zstd_dec *z = st;
    if (!z->seen_input || z->in_frame)
        return cb_error_set(err, CB_ECORRUPT, "object '%s': zstd data is corrupt: %s", label,
                            z->seen_input ? "truncated frame" : "no frame (empty input)");
    return 0;
}

static void zstd_dec_free(void *st)
{
    zstd_dec *z = st;
    if (z == NULL)
        return;
    ZSTD_freeDCtx(z->dctx);
    free(z);
}

const cb_codec_ops cb_codec__zstd_ops = {
    .name = "zstd",
    .default_level = 3,
    .enc_new = zstd_enc_new,
    .enc_begin = zstd_enc_begin,
    .enc_step = zstd_enc_step,
    .enc_free = zstd_enc_free,
    .enc_workers = zstd_enc_workers,
    .dec_new = zstd_dec_new,
    .dec_begin = zstd_dec_begin,
    .dec_step = zstd_dec_step,
    .dec_end = zstd_dec_end,
    .dec_free = zstd_dec_free,
};
