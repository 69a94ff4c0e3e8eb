/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_deflate.c: the DEFLATE walk finds what zlib's own inflate finds (the last block's
 * start, the stream's end, the decoded length) on streams of every block type, and refuses
 * broken ones without reading outside them; the zlib pieces from either encoder join into
 * one stream that zlib inflates back to the input, whatever bit each piece ends on.
 */
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "testutil.h"
#include "piece/deflate_walk.h"
#include "piece/piece.h"
#include "piece/piece_deflate.h"

#define BIG (300u << 10)

static unsigned next_rand(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

/* Data of a kind: 0 text-like, 1 skewed binary, 2 zeros, 3 random, 4 a mix of them. */
static void fill(unsigned char *p, size_t len, int kind, unsigned seed)
{
    static const char *words[] = { "block ", "volume ",  "backup ", "the ", "object ",
                                   "chunk ", "restore ", "of ",     "and ", "sha256 " };
    for (size_t i = 0; i < len;) {
        int k = kind == 4 ? (int)(i / 4096 % 4) : kind;
        unsigned r = next_rand(&seed);
        if (k == 0) {
            const char *w = words[r % 10];
            for (size_t j = 0; w[j] != '\0' && i < len; j++)
                p[i++] = (unsigned char)w[j];
        } else {
            p[i++] = k == 1   ? (unsigned char)((r % 7 == 0) ? r >> 8 : r % 3)
                     : k == 2 ? 0
                              : (unsigned char)(r >> 4);
        }
    }
}

/* What zlib's inflate says of a raw stream: stopping at every block boundary (Z_BLOCK),
 * the boundary before the last block and the end, in bits. */
static void reference_shape(const unsigned char *in, size_t len, cb_deflate_shape *sh)
{
    static unsigned char out[BIG + 64];
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, -15), Z_OK);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = sizeof(out);
    uint64_t boundary = 0;
    for (;;) {
        int rc = inflate(&z, Z_BLOCK);
        uint64_t bit = (uint64_t)z.total_in * 8 - (unsigned)(z.data_type & 7);
        if (rc == Z_STREAM_END) {
            sh->end_bit = bit;
            break;
        }
        assert_int_equal(rc, Z_OK);
        /* at a block boundary, before the last block's header is read */
        if ((z.data_type & 128) && !(z.data_type & 64))
            boundary = bit;
    }
    sh->last_block_bit = boundary;
    sh->out_len = z.total_out;
    inflateEnd(&z);
}

static void put_bit(unsigned char *p, uint64_t bit, unsigned v)
{
    p[bit / 8] = (unsigned char)((p[bit / 8] & ~(1u << (bit % 8))) | v << (bit % 8));
}

/* zlib drops the last byte's padding before it reports the end, so its end is in bytes.
 * The exact bits are checked by use: with the last block made non-final and an empty
 * final block (fixed codes: 1, 1, 0, then the 7 zero bits of end-of-block) written from
 * the end bit on, the stream must still inflate to the same bytes. */
static void check_end_bit(const unsigned char *c, size_t n, const cb_deflate_shape *sh)
{
    static unsigned char buf[BIG + BIG / 8 + 1024], out[BIG + 64];
    memcpy(buf, c, n);
    memset(buf + n, 0, 4);
    put_bit(buf, sh->last_block_bit, 0);
    for (uint64_t b = sh->end_bit; b < (uint64_t)n * 8; b++)
        put_bit(buf, b, 0);
    put_bit(buf, sh->end_bit, 1);
    put_bit(buf, sh->end_bit + 1, 1);
    uLongf got = sizeof(out);
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, -15), Z_OK);
    z.next_in = buf;
    z.avail_in = (uInt)(sh->end_bit + 10 + 7) / 8;
    z.next_out = out;
    z.avail_out = (uInt)got;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, sh->out_len);
    inflateEnd(&z);
}

static void check_walk(const unsigned char *c, size_t n)
{
    cb_deflate_shape got, want;
    reference_shape(c, n, &want);
    assert_int_equal(cb_deflate_walk(c, n, &got), 0);
    assert_int_equal(got.out_len, want.out_len);
    assert_int_equal((got.end_bit + 7) / 8, want.end_bit / 8);
    assert_int_equal(got.last_block_bit, want.last_block_bit);
    check_end_bit(c, n, &got);
}

static size_t zlib_raw(const unsigned char *in,
                       size_t len,
                       unsigned char *out,
                       size_t cap,
                       int level,
                       int strategy,
                       size_t flush_every)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, level, Z_DEFLATED, -15, 8, strategy), Z_OK);
    z.next_out = out;
    z.avail_out = (uInt)cap;
    for (size_t pos = 0; pos < len || len == 0;) {
        size_t n = len - pos < flush_every ? len - pos : flush_every;
        z.next_in = (unsigned char *)in + pos;
        z.avail_in = (uInt)n;
        pos += n;
        assert_int_not_equal(deflate(&z, pos < len ? Z_FULL_FLUSH : Z_FINISH), Z_STREAM_ERROR);
        if (len == 0)
            break;
    }
    size_t got = cap - z.avail_out;
    deflateEnd(&z);
    return got;
}

/* libdeflate at every level, zlib with fixed codes, Huffman only, RLE, stored, and several
 * blocks; lengths from 0 to BIG; every kind of data. */
static void test_deflate__walk_matches_zlib(void **state)
{
    static unsigned char in[BIG], c[BIG + BIG / 8 + 1024];
    static const size_t lens[] = { 0, 1, 2, 3, 57, 258, 4096, 65535, 65536, 100000, BIG };
    (void)state;
    for (int kind = 0; kind < 5; kind++)
        for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
            size_t len = lens[li];
            fill(in, len, kind, (unsigned)(kind * 100 + li));
            for (int level = 1; level <= 12; level += (level < 3 ? 1 : 3)) {
                struct libdeflate_compressor *ld = libdeflate_alloc_compressor(level);
                size_t n = libdeflate_deflate_compress(ld, in, len, c, sizeof(c));
                libdeflate_free_compressor(ld);
                assert_true(n > 0);
                check_walk(c, n);
            }
            check_walk(c, zlib_raw(in, len, c, sizeof(c), 6, Z_FIXED, BIG));
            check_walk(c, zlib_raw(in, len, c, sizeof(c), 6, Z_HUFFMAN_ONLY, BIG));
            check_walk(c, zlib_raw(in, len, c, sizeof(c), 6, Z_RLE, 20000));
            check_walk(c, zlib_raw(in, len, c, sizeof(c), 0, Z_DEFAULT_STRATEGY, BIG));
            check_walk(c, zlib_raw(in, len, c, sizeof(c), 9, Z_DEFAULT_STRATEGY, 7000));
        }
}

/* Every truncation and a few thousand bit flips of a stream: refused, or (a flip that
 * still decodes) a shape within the buffer. ASan checks that nothing outside is read. */
static void test_deflate__walk_refuses_broken_streams(void **state)
{
    static unsigned char in[20000];
    unsigned char *c = malloc(sizeof(in));
    unsigned seed = 7;
    cb_deflate_shape sh;
    (void)state;
    fill(in, sizeof(in), 4, 3);
    struct libdeflate_compressor *ld = libdeflate_alloc_compressor(6);
    size_t n = libdeflate_deflate_compress(ld, in, sizeof(in), c, sizeof(in));
    libdeflate_free_compressor(ld);
    assert_true(n > 0);
    for (size_t cut = 0; cut < n; cut++) {
        unsigned char *t = malloc(cut + 1); /* exactly cut bytes for ASan */
        memcpy(t, c, cut);
        assert_int_equal(cb_deflate_walk(t, cut, &sh), -1);
        free(t);
    }
    for (int i = 0; i < 3000; i++) {
        size_t bit = next_rand(&seed) % (n * 8);
        c[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        if (cb_deflate_walk(c, n, &sh) == 0)
            assert_true(sh.end_bit <= n * 8 && sh.last_block_bit < sh.end_bit);
        c[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    for (int i = 0; i < 3000; i++) { /* noise */
        unsigned char noise[512];
        for (size_t j = 0; j < sizeof(noise); j++)
            noise[j] = (unsigned char)next_rand(&seed);
        if (cb_deflate_walk(noise, sizeof(noise), &sh) == 0)
            assert_true(sh.end_bit <= sizeof(noise) * 8);
    }
    free(c);
}

/* An object of pieces (zlib header, pieces, final block, Adler-32) inflated by zlib. */
static void check_object(const unsigned char *in, const size_t *cuts, size_t ncuts, int force)
{
    cb_piece_coder *pc;
    cb_buf obj = CB_BUF_INIT;
    cb_error err = { 0 };
    uint32_t adler = 1;
    size_t total = cuts[ncuts - 1];
    assert_int_equal(cb__piece_coder_new_with(&pc, CB_CODEC_ZLIB, force, &err), 0);
    assert_int_equal(cb_piece_object_begin(CB_CODEC_ZLIB, &obj, &err), 0);
    for (size_t i = 0, at = 0; i < ncuts; at = cuts[i++]) {
        assert_int_equal(cb_piece_compress(pc, in + at, cuts[i] - at, &obj, "t", &err), 0);
        adler = cb_piece_adler32(adler, in + at, cuts[i] - at);
    }
    assert_int_equal(cb_piece_object_end(CB_CODEC_ZLIB, adler, &obj, &err), 0);
    unsigned char *back = malloc(total + 1);
    uLongf got = total + 1;
    assert_int_equal(uncompress(back, &got, (unsigned char *)obj.data, obj.len), Z_OK);
    assert_int_equal(got, total);
    assert_memory_equal(back, in, total);
    free(back);
    cb_buf_dispose(&obj);
    cb_piece_coder_free(pc);
}

/* The Adler-32 of a hole, brought forward without its zeros, is that of its zeros: from
 * any running value, for lengths around the modulus and far beyond it. */
static void test_deflate__adler32_of_zeros(void **state)
{
    static unsigned char zeros[(5u << 20) + 3], text[1000];
    static const size_t lens[] = { 0, 1, 2, 65520, 65521, 65522, 1u << 20, (5u << 20) + 3 };
    (void)state;
    fill(text, sizeof(text), 0, 5);
    uint32_t starts[3] = { 1, cb_piece_adler32(1, text, sizeof(text)), 0xfff0fff0 % 65521 };
    for (size_t s = 0; s < 3; s++)
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
            assert_int_equal(cb_piece_adler32_zeros(starts[s], lens[i]),
                             cb_piece_adler32(starts[s], zeros, lens[i]));
    /* 2^40 zeros: one step of arithmetic, against 2^20 steps of 2^20 */
    uint32_t a = 1, b = cb_piece_adler32_zeros(1, (uint64_t)1 << 40);
    for (int k = 0; k < 1 << 20; k++)
        a = cb_piece_adler32_zeros(a, 1u << 20);
    assert_int_equal(a, b);
}

/* Pieces of many lengths, so that libdeflate's streams end on every bit of a byte (the
 * join differs when fewer than 3 bits are free); both encoders and the trial's choice. */
static void test_deflate__pieces_join_into_one_stream(void **state)
{
    static unsigned char in[4 * BIG];
    unsigned ends_on[8] = { 0 };
    unsigned seed = 11;
    (void)state;
    fill(in, BIG, 0, 1);
    fill(in + BIG, BIG, 1, 2);
    fill(in + 2 * BIG, BIG, 4, 3);
    fill(in + 3 * BIG, BIG, 3, 4);
    for (int round = 0; round < 60; round++) {
        size_t cuts[6], at = 0;
        for (int i = 0; i < 6; i++) {
            at += 1 + next_rand(&seed) % (BIG / 3);
            cuts[i] = at < sizeof(in) ? at : sizeof(in);
        }
        for (int force = -1; force <= 1; force++)
            check_object(in, cuts, 6, force);
        /* which bit the walked streams of these pieces end on */
        struct libdeflate_compressor *ld = libdeflate_alloc_compressor(2);
        unsigned char *c = malloc(BIG);
        for (int i = 1; i < 6; i++) {
            cb_deflate_shape sh;
            size_t n =
                libdeflate_deflate_compress(ld, in + cuts[i - 1], cuts[i] - cuts[i - 1], c, BIG);
            if (n > 0 && cb_deflate_walk(c, n, &sh) == 0)
                ends_on[sh.end_bit & 7]++;
        }
        free(c);
        libdeflate_free_compressor(ld);
    }
    for (int b = 0; b < 8; b++)
        assert_true(ends_on[b] > 0);
}

static size_t piece_size(const unsigned char *in, size_t len, int force)
{
    cb_piece_coder *pc;
    cb_buf out = CB_BUF_INIT;
    cb_error err = { 0 };
    assert_int_equal(cb__piece_coder_new_with(&pc, CB_CODEC_ZLIB, force, &err), 0);
    assert_int_equal(cb_piece_compress(pc, in, len, &out, "t", &err), 0);
    size_t n = out.len;
    cb_buf_dispose(&out);
    cb_piece_coder_free(pc);
    return n;
}

/* Skewed binary bytes are where libdeflate's coding gains most over igzip's: the trial
 * must pick it there (same output as forcing it, and smaller than igzip's by the margin). */
static void test_deflate__trial_picks_libdeflate_where_it_pays(void **state)
{
    static unsigned char in[1u << 20];
    unsigned seed = 42;
    (void)state;
    uint64_t stamp = 1u << 30;
    /* records as in a database file: a tag, a sequence number, a rising timestamp, a type
     * code, a mostly zero payload with one random byte in eight */
    for (size_t i = 0; i < sizeof(in); i += 32) {
        uint32_t seq = (uint32_t)(i / 32);
        unsigned r = next_rand(&seed);
        memset(in + i, 0, 32);
        memcpy(in + i, "TAG1", 4);
        memcpy(in + i + 4, &seq, 4);
        stamp += r & 0x3ff;
        memcpy(in + i + 8, &stamp, 8);
        in[i + 16] = (unsigned char)((r >> 10) & 7);
        for (size_t j = 20; j < 32; j++)
            if (next_rand(&seed) % 8 == 0)
                in[i + j] = (unsigned char)next_rand(&seed);
    }
    size_t trial = piece_size(in, sizeof(in), 0), ld = piece_size(in, sizeof(in), 1);
    size_t ig = piece_size(in, sizeof(in), -1);
    assert_int_equal(trial, ld);
    assert_true(ld * 100 <= ig * (100 - CB_DEFLATE_GAIN_PCT));
}

/* All zeros: libdeflate saves a few bytes there at 40 times igzip's time; the trial must
 * keep igzip (its output, not libdeflate's). */
static void test_deflate__trial_keeps_igzip_on_zeros(void **state)
{
    static unsigned char in[2u << 20];
    (void)state;
    size_t trial = piece_size(in, sizeof(in), 0), ig = piece_size(in, sizeof(in), -1);
    size_t ld = piece_size(in, sizeof(in), 1);
    assert_int_not_equal(ig, ld); /* else this test could not tell them apart */
    assert_int_equal(trial, ig);
    assert_true(trial < sizeof(in) / 500);
}

/* An object of one piece (an incremental's changed run) made whole at once: one zlib
 * stream that zlib's uncompress() reads back to the input, for every kind of data, length
 * and encoder; libdeflate's own final block is kept (no empty block after it). */
static void test_deflate__one_piece_object(void **state)
{
    static const size_t lens[] = { 1, 100, 4096, 32768, 65537, BIG };
    static unsigned char in[BIG], back[BIG];
    (void)state;
    int kept_final = 0;
    for (int kind = 0; kind <= 4; kind++)
        for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
            for (int force = -1; force <= 1; force++) {
                cb_piece_coder *pc;
                cb_buf out = CB_BUF_INIT;
                cb_error err = { 0 };
                fill(in, lens[l], kind, (unsigned)(kind * 10 + l));
                assert_int_equal(cb__piece_coder_new_with(&pc, CB_CODEC_ZLIB, force, &err), 0);
                assert_int_equal(cb_piece_compress_object(pc, in, lens[l], &out, "t", &err), 0);
                uLongf n = sizeof(back);
                assert_int_equal(uncompress(back, &n, (const Bytef *)out.data, out.len), Z_OK);
                assert_int_equal(n, lens[l]);
                assert_memory_equal(back, in, lens[l]);
                /* the empty final block (03 00) before the Adler-32 is gone where kept */
                kept_final += out.len >= 6 &&
                              !(out.data[out.len - 6] == 0x03 && out.data[out.len - 5] == 0x00);
                cb_buf_dispose(&out);
                cb_piece_coder_free(pc);
            }
    assert_true(kept_final > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deflate__walk_matches_zlib),
        cmocka_unit_test(test_deflate__walk_refuses_broken_streams),
        cmocka_unit_test(test_deflate__pieces_join_into_one_stream),
        cmocka_unit_test(test_deflate__adler32_of_zeros),
        cmocka_unit_test(test_deflate__trial_picks_libdeflate_where_it_pays),
        cmocka_unit_test(test_deflate__trial_keeps_igzip_on_zeros),
        cmocka_unit_test(test_deflate__one_piece_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
