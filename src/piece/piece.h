/* SPDX-License-Identifier: Apache-2.0 */
/*
 * piece.h: the interface of src/piece/, compressing one object in parts made on any
 * thread, yet each object remains ONE valid stream of its algorithm (what Cinder's Python
 * restore needs). The pieces of one object, compressed independently, so that a large
 * object is still compressed in parallel:
 *
 *   zlib  pigz's idea: each piece is raw DEFLATE ending on a byte boundary with no final
 *         block (piece_deflate.h: igzip or libdeflate, chosen per piece by a trial); the
 *         object is a zlib header, the pieces in order, an empty final block and the
 *         Adler-32 of the object's bytes. A piece that looks incompressible (by sampling
 *         its byte entropy) is written as stored blocks without running the compressor.
 *   bz2   each piece is a complete bzip2 stream; Python (and bzip2) read concatenated
 *         streams as one.
 *   zstd  has no such form (one frame, blocks depend on history): not supported here; the
 *         engine feeds zstd objects to a streaming encoder in order instead.
 */
#ifndef CB_PIECE_PIECE_H
#define CB_PIECE_PIECE_H

#include <stddef.h>
#include <stdint.h>

#include "../codec/codec.h"
#include "../util/util.h"

/* 1 if the codec can compress pieces independently (zlib, bz2). */
int cb_piece_supported(cb_codec_id id);

typedef struct cb_piece_coder cb_piece_coder; /* one per thread */

int cb_piece_coder_new(cb_piece_coder **out, cb_codec_id id, cb_error *err);

/* The same with the zlib encoder chosen by `choice` (piece_deflate.h; ignored for bz2):
 * cb_piece_coder_new() is this with CB_DEFLATE_TRIAL, and tests force either encoder. */
int cb__piece_coder_new_with(cb_piece_coder **out, cb_codec_id id, int choice, cb_error *err);
void cb_piece_coder_free(cb_piece_coder *c);

/* Append the compressed form of one piece to `out`. */
int cb_piece_compress(
    cb_piece_coder *c, const void *in, size_t len, cb_buf *out, const char *label, cb_error *err);

/* What goes before the first piece of an object / after the last one. `adler` is the
 * Adler-32 of all the object's bytes (zlib; ignored by other codecs). */
int cb_piece_object_begin(cb_codec_id id, cb_buf *out, cb_error *err);
int cb_piece_object_end(cb_codec_id id, uint32_t adler, cb_buf *out, cb_error *err);

/* A whole object of one piece: begin, the piece and end in one, where zlib's libdeflate
 * output keeps its own final block (no walk of its codes to make it joinable). */
int cb_piece_compress_object(
    cb_piece_coder *c, const void *in, size_t len, cb_buf *out, const char *label, cb_error *err);

/* Adler-32 running value (start with 1). */
uint32_t cb_piece_adler32(uint32_t adler, const void *data, size_t len);

/* The same over `n` zero bytes, without reading any: the sum of the bytes stays, the sum of
 * the sums grows by n times it (a hole inside an object costs no pass over its zeros). */
uint32_t cb_piece_adler32_zeros(uint32_t adler, uint64_t n);

/* the interface of the folder: also zstd's ring, the form of a zstd object made a chunk at a
 * time (zstd_ring.h) */
#include "zstd_ring.h"

#endif
