/* SPDX-License-Identifier: Apache-2.0 */
/* codec_testlib.c: helpers for test_codec.c and test_codec_decode.c. */
#include <stdio.h>
#include <stdlib.h>

#include "../tests/codec/codec_testlib.h"

/* Piece sizes cycle through these; they straddle the 256 KiB window and zlib's/bzlib's
 * internal block sizes so that every boundary case is crossed somewhere. */
static const size_t ct_enc_pieces[] = { 1, 4095, 7, 65536, 300001, 13, 262144, 999 };
static const size_t ct_dec_pieces[] = { 3, 1, 70001, 262145, 17, 4096, 131072 };

static void ct_fill_text(unsigned char *p, size_t len)
{
    static const char *const words[] = { "volume ", "backup ", "chunk ",   "the ", "of ",
                                         "cinder ", "swift ",  "object\n", "42 ",  "zero " };
    uint64_t x = 88172645463325252ULL;
    size_t i = 0;
    while (i < len) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const char *w = words[x % 10];
        while (*w != '\0' && i < len)
            p[i++] = (unsigned char)*w++;
    }
}

unsigned char *ct_sample_new(ct_sample which, size_t *len_out)
{
    static const size_t lens[CT_SAMPLE_COUNT] = { 0, 1, 250, CT_MIB, 3 * CT_MIB };
    size_t len = lens[which];
    unsigned char *p = malloc(len + 1);
    assert_non_null(p);
    if (which == CT_ONE)
        p[0] = 'x';
    else if (which == CT_ALPHABET)
        for (int i = 0; i < 10; i++)
            memcpy(p + 25 * i, "abcdefhijklmnopqrstuvwxyz", 25);
    else if (which == CT_RANDOM)
        tu_fill_random(p, len, 7);
    else if (which == CT_TEXT)
        ct_fill_text(p, len);
    *len_out = len;
    return p;
}

int ct_sink_buf(const void *data, size_t len, void *payload, cb_error *err)
{
    assert_true(len > 0 && len <= CB_CODEC_WINDOW);
    return cb_buf_put(payload, data, len, err);
}

int ct_encode(
    cb_encoder *e, const void *in, size_t len, const char *label, cb_buf *out, cb_error *err)
{
    const unsigned char *p = in;
    size_t start = out->len;
    int error = cb_encoder_begin(e, len, label, err);
    for (size_t i = 0, off = 0; error == 0 && off < len; i++) {
        size_t n = ct_enc_pieces[i % (sizeof(ct_enc_pieces) / sizeof(ct_enc_pieces[0]))];
        n = n < len - off ? n : len - off;
        error = cb_encoder_feed(e, p + off, n, ct_sink_buf, out, err);
        off += n;
    }
    if (error == 0)
        error = cb_encoder_end(e, ct_sink_buf, out, err);
    if (error == 0)
        assert_int_equal(cb_encoder_out_bytes(e), out->len - start);
    return error;
}

int ct_decode(cb_decoder *d,
              const void *in,
              size_t len,
              uint64_t max_out,
              const char *label,
              cb_buf *out,
              cb_error *err)
{
    const unsigned char *p = in;
    size_t start = out->len;
    int error = cb_decoder_begin(d, max_out, label, err);
    for (size_t i = 0, off = 0; error == 0 && off < len; i++) {
        size_t n = ct_dec_pieces[i % (sizeof(ct_dec_pieces) / sizeof(ct_dec_pieces[0]))];
        n = n < len - off ? n : len - off;
        error = cb_decoder_feed(d, p + off, n, ct_sink_buf, out, err);
        off += n;
    }
    if (error == 0)
        error = cb_decoder_end(d, err);
    if (error == 0)
        assert_int_equal(cb_decoder_out_bytes(d), out->len - start);
    return error;
}

void ct_compress(cb_codec_id id, const void *in, size_t len, cb_buf *out)
{
    cb_error err = { 0 };
    cb_encoder *e = NULL;
    assert_cb_ok(cb_encoder_new(&e, id, 0, &err), &err);
    assert_cb_ok(ct_encode(e, in, len, "sample", out, &err), &err);
    cb_encoder_free(e);
}
