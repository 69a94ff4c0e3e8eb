/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec.h: streaming compression in the formats Cinder's Python restore reads.
 *
 * An encoder or decoder belongs to one thread and is reused from object to object:
 *
 *     cb_encoder_begin(e, len, name, err);      exactly `len` bytes follow
 *     cb_encoder_feed(e, data, n, sink, p, err) any number of times, any piece sizes
 *     cb_encoder_end(e, sink, p, err);          flushes the end of the stream
 *
 * Output reaches the sink in pieces of at most CB_CODEC_WINDOW bytes as it is produced, so
 * memory stays bounded whatever the object size. A failure (codec, sink, or misuse) abandons
 * the current object; the next begin() starts afresh. A sink may also return a non-zero
 * value without setting `err` (for example to stop early once the output is no smaller than
 * the input); that value is passed back unchanged.
 *
 * Formats written (spec §3.4, §9): zlib and gzip both write one RFC 1950 zlib stream (level 6,
 * windowBits 15, memLevel 8: header 78 9c), never gzip framing; bz2 writes one bzip2 stream
 * (level 9: "BZh9"); zstd writes exactly one frame that declares its content size.
 * Decoders accept what Python accepts: zlib ignores bytes after the end of its one stream;
 * bz2 reads concatenated streams and ignores trailing junk; zstd reads frames with or without
 * a content size, several in a row; none passes bytes through.
 */
#ifndef CB_CODEC_H
#define CB_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "cinderblock/common.h"
#include "../util/util.h"

/* Largest piece handed to a sink, and the size of each coder's output window. 512 KiB: a
 * restore checks the sha blocks of each piece it is handed, and with 32 KiB blocks that is
 * sixteen at a time, what the multi-buffer SHA-256 needs to pay off. */
#define CB_CODEC_WINDOW ((size_t)512 * 1024)

typedef enum cb_codec_id { CB_CODEC_NONE, CB_CODEC_ZLIB, CB_CODEC_BZ2, CB_CODEC_ZSTD } cb_codec_id;

/*
 * Map one of Cinder's names, case-insensitive: none|off|no -> NONE, zlib|gzip -> ZLIB,
 * bz2|bzip2 -> BZ2, zstd -> ZSTD.
 * @return 0, or CB_EINVAL (NULL, empty or unknown name; the message lists the accepted names)
 */
int cb_codec_lookup(const char *name, cb_codec_id *out, cb_error *err);

/* "none", "zlib", "bz2" or "zstd" (static storage); "unknown" for an invalid id. */
const char *cb_codec_canonical_name(cb_codec_id id);

/* Receives output bytes as they are produced. Non-zero return aborts and is passed back. */
typedef int (*cb_sink_fn)(const void *data, size_t len, void *payload, cb_error *err);

typedef struct cb_encoder cb_encoder; /* one per thread; reusable across objects */

/*
 * @param level  0 for Cinder's default (zlib 6, bz2 9, zstd 3); zlib and bz2 take 1..9, zstd
 *               its own range; none ignores it
 * @return 0, CB_EINVAL (bad id or level) or CB_ENOMEM; *out is NULL on failure
 */
int cb_encoder_new(cb_encoder **out, cb_codec_id id, int level, cb_error *err);

/* Start one object: exactly `pledged` input bytes will follow. `label` (e.g. the object name)
 * is copied and goes into error messages. */
int cb_encoder_begin(cb_encoder *e, uint64_t pledged, const char *label, cb_error *err);

/* @return 0, CB_EINVAL (no object begun, or more than pledged), CB_ERROR or the sink's value */
int cb_encoder_feed(
    cb_encoder *e, const void *in, size_t len, cb_sink_fn sink, void *payload, cb_error *err);

/* Flush the end of the stream. CB_EINVAL if the bytes fed differ from `pledged` (a bug). */
int cb_encoder_end(cb_encoder *e, cb_sink_fn sink, void *payload, cb_error *err);

uint64_t cb_encoder_out_bytes(const cb_encoder *e); /* compressed bytes emitted since begin */
/* Let the codec use `n` threads of its own inside one stream (zstd; a no-op for the others).
 * Set it between objects. */
int cb_encoder_set_workers(cb_encoder *e, int n, cb_error *err);
void cb_encoder_free(cb_encoder *e); /* NULL-safe */

typedef struct cb_decoder cb_decoder; /* one per thread; reusable across objects */

int cb_decoder_new(cb_decoder **out, cb_codec_id id, cb_error *err);

/* Start one object; more than max_out decompressed bytes is CB_ECORRUPT (decompression bombs,
 * wrong length). UINT64_MAX means no limit. */
int cb_decoder_begin(cb_decoder *d, uint64_t max_out, const char *label, cb_error *err);

/* @return 0, CB_ECORRUPT (bad data, too much output), CB_EINVAL (no object begun), CB_ENOMEM
 * or the sink's value */
int cb_decoder_feed(
    cb_decoder *d, const void *in, size_t len, cb_sink_fn sink, void *payload, cb_error *err);

/* Pull decoding (a reader that wants the bytes of an object a little at a time): one step,
 * which consumes some of *in (advancing *in and *in_len) and sets *out, *out_len to what it
 * produced: at most CB_CODEC_WINDOW bytes, valid until the next call on `d` (they may point
 * into the input). While *out_len comes back CB_CODEC_WINDOW, call again (with no further
 * input if need be): the decoder may hold output back. Errors as cb_decoder_feed's. */
int cb_decoder_step(cb_decoder *d,
                    const void **in,
                    size_t *in_len,
                    const void **out,
                    size_t *out_len,
                    cb_error *err);

int cb_decoder_end(cb_decoder *d, cb_error *err); /* CB_ECORRUPT if the stream is truncated */
uint64_t cb_decoder_out_bytes(const cb_decoder *d);
void cb_decoder_free(cb_decoder *d); /* NULL-safe */

/* One-shots for tests and small objects: append the whole result to `out`. */
int cb_codec_compress_buf(
    cb_codec_id id, int level, const void *in, size_t len, cb_buf *out, cb_error *err);
int cb_codec_decompress_buf(
    cb_codec_id id, const void *in, size_t len, uint64_t max_out, cb_buf *out, cb_error *err);

/* ---- For the codec implementations (codec_*.c) and the stream driver only ---- */

/* One step's buffers. The step consumes from in/in_len (advancing them) and reports what it
 * produced in out/out_len: normally inside buf, but a passthrough may point into the input. */
typedef struct cb_codec_io {
    const unsigned char *in; /* input not yet consumed */
    size_t in_len;
    unsigned char *buf; /* output window, CB_CODEC_WINDOW bytes */
    const unsigned char *out;
    size_t out_len; /* 0..CB_CODEC_WINDOW */
} cb_codec_io;

/* A codec: designated initializers in codec_<name>.c. `label` is never NULL. A step given
 * input must consume some or produce some (the driver treats a stall as a bug), and a decoder
 * step is called again with no input while its window comes back full, to drain held output. */
typedef struct cb_codec_ops {
    const char *name; /* canonical, also used in messages */
    int default_level;
    int (*enc_new)(void **out, int level, cb_error *err);
    int (*enc_begin)(void *st, uint64_t pledged, const char *label, cb_error *err);
    /* `finish`: all input is in, end the stream; *done once everything has been output */
    int (*enc_step)(
        void *st, cb_codec_io *io, int finish, int *done, const char *label, cb_error *err);
    void (*enc_free)(void *st);
    /* optional: compress with this many internal threads (zstd); 0 for none */
    int (*enc_workers)(void *st, int n, cb_error *err);
    int (*dec_new)(void **out, cb_error *err);
    int (*dec_begin)(void *st, const char *label, cb_error *err);
    int (*dec_step)(void *st, cb_codec_io *io, const char *label, cb_error *err);
    /* CB_ECORRUPT unless the input stopped at a valid end (a truncated stream) */
    int (*dec_end)(void *st, const char *label, cb_error *err);
    void (*dec_free)(void *st);
} cb_codec_ops;

extern const cb_codec_ops cb_codec__none_ops;
extern const cb_codec_ops cb_codec__zlib_ops;
extern const cb_codec_ops cb_codec__bz2_ops;
extern const cb_codec_ops cb_codec__zstd_ops;

/* zstd level 3's tables as cinderblock sets them (codec_zstd.c says why); zstd_ring.c too */
#define CB_ZSTD_L3_WINDOW_LOG 19
#define CB_ZSTD_L3_HASH_LOG 15
#define CB_ZSTD_L3_CHAIN_LOG 15

/* The ops of a valid id, or NULL. */
const cb_codec_ops *cb_codec__ops(cb_codec_id id);

/* 1 if a sample of `data` looks incompressible (byte entropy close to 8 bits). Cheap:
 * looks at a few KiB spread over the buffer (entropy.c). */
int cb_looks_incompressible(const void *data, size_t len);

#endif
