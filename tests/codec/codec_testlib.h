/* SPDX-License-Identifier: Apache-2.0 */
/* codec_testlib.h: sample data and uneven-piece encode/decode helpers for the codec tests. */
#ifndef CB_CODEC_TESTLIB_H
#define CB_CODEC_TESTLIB_H

#include "testutil.h"
#include "codec/codec.h"

#define CT_MIB ((size_t)1024 * 1024)

/* The sample set every codec must round-trip. */
typedef enum ct_sample {
    CT_EMPTY,    /* 0 B */
    CT_ONE,      /* 1 B */
    CT_ALPHABET, /* 250 B: 'abcdefhijklmnopqrstuvwxyz' * 10 */
    CT_RANDOM,   /* 1 MiB, incompressible */
    CT_TEXT,     /* 3 MiB, text-like and compressible */
    CT_SAMPLE_COUNT
} ct_sample;

/* A new buffer holding the sample (free() it); *len_out is its length. */
unsigned char *ct_sample_new(ct_sample which, size_t *len_out);

/* Sink appending to a cb_buf; fails the test if a piece exceeds CB_CODEC_WINDOW. */
int ct_sink_buf(const void *data, size_t len, void *payload, cb_error *err);

/* begin + feed in uneven pieces + end; appends the compressed bytes to out. */
int ct_encode(
    cb_encoder *e, const void *in, size_t len, const char *label, cb_buf *out, cb_error *err);

/* begin + feed in uneven pieces (different from ct_encode's) + end. */
int ct_decode(cb_decoder *d,
              const void *in,
              size_t len,
              uint64_t max_out,
              const char *label,
              cb_buf *out,
              cb_error *err);

/* Compress with a fresh encoder at the default level, asserting success. */
void ct_compress(cb_codec_id id, const void *in, size_t len, cb_buf *out);

#endif
