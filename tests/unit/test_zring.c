/* SPDX-License-Identifier: Apache-2.0 */
/* test_zring.c: the in-place zstd encoder (codec/zstd_ring.h) writes, for every object, one
 * frame that declares its content size and decodes to exactly the bytes fed, whether the
 * ring holds more than zstd's window or less; it finds matches as far back as its ring
 * reaches; holes written as RLE blocks cut its history; and it refuses misuse with a message
 * instead of writing a bad frame. */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getFrameHeader */
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "testutil.h"
#include "piece/zstd_ring.h"

typedef struct sink_buf {
    unsigned char *data;
    size_t len, cap;
    int fail_after; /* return -7 once this many calls have been made; 0: never */
    int calls;
} sink_buf;

static int to_buf(const void *data, size_t len, void *payload, cb_error *err)
{
    sink_buf *s = payload;
    (void)err;
    if (s->fail_after != 0 && ++s->calls > s->fail_after)
        return -7;
    if (s->len + len > s->cap) {
        s->cap = (s->len + len) * 2;
        s->data = realloc(s->data, s->cap);
        assert_non_null(s->data);
    }
    memcpy(s->data + s->len, data, len);
    s->len += len;
    return 0;
}

/* Text-like runs, random runs, zeros, and copies of earlier bytes from 100 KiB to 900 KiB
 * back: within zstd's 512 KiB window and beyond, across chunk and slot boundaries. */
static void fill_mixed(unsigned char *buf, size_t len, uint64_t seed)
{
    static const char words[] = "volume backup chunk object sha256 restore zstd ring slot ";
    size_t at = 0;
    tu_fill_random(buf, len, seed);
    while (at < len) {
        size_t kind = buf[at] % 4, run = 4096 + (size_t)buf[at + 1 < len ? at + 1 : at] * 512;
        if (run > len - at)
            run = len - at;
        if (kind == 0)
            for (size_t i = 0; i < run; i++)
                buf[at + i] = (unsigned char)words[(at + i) % (sizeof(words) - 1)];
        else if (kind == 1)
            memset(buf + at, 0, run);
        else if (kind == 2) {
            size_t back = ((size_t)buf[at] * 3301 % 800 + 100) << 10;
            if (back <= at)
                memmove(buf + at, buf + at - back, run); /* may overlap: a repeat */
        }                                                /* kind 3: stays random */
        at += run;
    }
}

static void fill_6bit(unsigned char *buf, size_t len, uint64_t seed)
{
    tu_fill_random(buf, len, seed);
    for (size_t i = 0; i < len; i++)
        buf[i] &= 0x3f;
}

/* Feed `len` bytes of `data` through the ring in chunks, then check the one frame. */
static void
round_trip(cb_zring *z, size_t chunk, const unsigned char *data, size_t len, sink_buf *out)
{
    cb_error err = { 0 };
    out->len = 0;
    assert_int_equal(cb_zring_begin(z, len, "obj", &err), 0);
    size_t at = 0;
    do {
        size_t n = len - at < chunk ? len - at : chunk;
        memcpy(cb_zring_slot(z), data + at, n);
        assert_int_equal(cb_zring_compress(z, n, "obj", to_buf, out, &err), 0);
        at += n;
    } while (at < len);
    /* exactly one frame, all of the output, declaring the content size */
    assert_int_equal(ZSTD_findFrameCompressedSize(out->data, out->len), out->len);
    assert_int_equal(ZSTD_getFrameContentSize(out->data, out->len), len);
    unsigned char *back = malloc(len + 1);
    assert_non_null(back);
    size_t got = ZSTD_decompress(back, len + 1, out->data, out->len);
    assert_false(ZSTD_isError(got));
    assert_int_equal(got, len);
    assert_memory_equal(back, data, len);
    free(back);
}

static void test_zring__frames_decode_to_the_input(void **state)
{
    static const size_t chunks[] = { 64 << 10, 1 << 20, 100000 };
    size_t lens[] = { 0, 1, 1000, 0, 0, 0, 5 * (1 << 20) + 123, 3 << 20 };
    size_t max = 6 << 20;
    unsigned char *data = malloc(max);
    sink_buf out = { 0 };
    (void)state;
    assert_non_null(data);
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        cb_zring *z = NULL;
        cb_error err = { 0 };
        assert_int_equal(cb_zring_new(&z, 0, chunks[c], &err), 0);
        lens[3] = chunks[c] - 1;
        lens[4] = chunks[c];
        lens[5] = chunks[c] + 1;
        /* one ring, frame after frame: nothing of one object leaks into the next */
        for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
            fill_mixed(data, lens[i] > 2 ? lens[i] : 2, 17 * c + i);
            round_trip(z, chunks[c], data, lens[i], &out);
        }
        cb_zring_free(z);
    }
    free(out.data);
    free(data);
}

/* 128 KiB blocks: random ones (stored raw, unseen by the compressor) between ones of 6-bit
 * bytes that repeat the block 384 KiB back, within the window but across a raw block. A
 * compressor that kept its history over the raw block would encode that repeat 128 KiB
 * short; the frames must decode to the input whatever the chunk size. */
static void test_zring__raw_blocks_between(void **state)
{
    static const size_t chunks[] = { 64 << 10, 128 << 10, 1 << 20, 100000, 300000 };
    size_t blk = 128 << 10, len = 40 * blk + 777;
    unsigned char *data = malloc(len);
    sink_buf out = { 0 };
    (void)state;
    assert_non_null(data);
    fill_6bit(data, len, 21);
    for (size_t b = 0; b * blk < len; b++) {
        size_t n = len - b * blk < blk ? len - b * blk : blk;
        if (b % 3 == 1)
            tu_fill_random(data + b * blk, n, 100 + b);
        else if (b >= 3)
            memcpy(data + b * blk, data + (b - 3) * blk, n);
    }
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        cb_zring *z = NULL;
        cb_error err = { 0 };
        assert_int_equal(cb_zring_new(&z, 0, chunks[c], &err), 0);
        round_trip(z, chunks[c], data, len, &out);
        /* the random blocks went raw: at least their size, little more */
        assert_true(out.len > 13 * blk && out.len < len);
        cb_zring_free(z);
    }
    free(out.data);
    free(data);
}

/* The level-3 tables reach the frame (a 512 KiB window); a repeat 300 KiB back, in the
 * previous chunk's slot, is found, and one 700 KiB back, beyond the window, is not. */
static void test_zring__window_and_reach(void **state)
{
    size_t seg = 256 << 10, len = 4 << 20;
    unsigned char *data = malloc(len);
    sink_buf out = { 0 };
    cb_zring *z = NULL;
    cb_error err = { 0 };
    ZSTD_frameHeader fh;
    (void)state;
    assert_non_null(data);
    assert_int_equal(cb_zring_new(&z, 3, 1 << 20, &err), 0);

    /* bytes of 6 random bits: no repeats of their own, yet not random-looking (8 bits),
     * so the compressor sees them */
    size_t near, far;
    fill_6bit(data, len, 3);
    /* 300 KiB back, from the chunk before (the ring's previous slot): found */
    memcpy(data + (1100 << 10), data + (800 << 10), seg);
    round_trip(z, 1 << 20, data, len, &out);
    assert_int_equal(ZSTD_getFrameHeader(&fh, out.data, out.len), 0);
    assert_int_equal(fh.windowSize, (size_t)1 << CB_ZSTD_L3_WINDOW_LOG);
    near = out.len;

    fill_6bit(data, len, 3);
    memcpy(data + (700 << 10), data, seg); /* 700 KiB back: out of the window */
    round_trip(z, 1 << 20, data, len, &out);
    far = out.len;
    assert_true(near + seg / 2 < far); /* the near copy cost next to nothing */
    cb_zring_free(z);
    free(out.data);
    free(data);
}

/* One frame from chunks and holes: `plan` alternates chunk lengths (> 0, compressed from
 * `data`) and hole lengths (< 0, cb_zring_zeros); `data` holds the whole object, its holes
 * zeroed. Checked as round_trip checks. */
static void zeros_trip(cb_zring *z, const long *plan, size_t n, unsigned char *data, sink_buf *out)
{
    cb_error err = { 0 };
    size_t len = 0, at = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)(plan[i] < 0 ? -plan[i] : plan[i]);
    out->len = 0;
    assert_int_equal(cb_zring_begin(z, len, "obj", &err), 0);
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)(plan[i] < 0 ? -plan[i] : plan[i]);
        if (plan[i] < 0) {
            memset(data + at, 0, k);
            assert_int_equal(cb_zring_zeros(z, k, "obj", to_buf, out, &err), 0);
        } else {
            memcpy(cb_zring_slot(z), data + at, k);
            assert_int_equal(cb_zring_compress(z, k, "obj", to_buf, out, &err), 0);
        }
        at += k;
    }
    assert_int_equal(ZSTD_findFrameCompressedSize(out->data, out->len), out->len);
    assert_int_equal(ZSTD_getFrameContentSize(out->data, out->len), len);
    unsigned char *back = malloc(len + 1);
    assert_non_null(back);
    size_t got = ZSTD_decompress(back, len + 1, out->data, out->len);
    assert_false(ZSTD_isError(got));
    assert_int_equal(got, len);
    assert_memory_equal(back, data, len);
    free(back);
}

/* Holes as RLE blocks between compressed chunks: the chunk after a hole repeats the one
 * before it, so a compressor that kept its history across the hole (which it never saw)
 * would reach back the hole's length short. Frames that start or end with a hole, or are
 * one, and holes longer than a block; each hole costs 4 bytes a block, not its zeros. */
static void test_zring__zeros_between_chunks(void **state)
{
    size_t seg = 256 << 10;
    static const long plans[][5] = {
        { 256 << 10, -(128 << 10), 256 << 10, 0, 0 },          /* repeat across a hole */
        { 256 << 10, -(100000), 256 << 10, -(777), 5 },        /* odd sizes, ends in data */
        { -(300 << 10), 256 << 10, -(1 << 20), 0, 0 },         /* starts and ends with holes */
        { -(3 << 20) - 5, 0, 0, 0, 0 },                        /* nothing but a hole */
        { 256 << 10, -(64 << 10), -(64 << 10), 256 << 10, 0 }, /* two holes in a row */
    };
    unsigned char *data = malloc(6 << 20);
    sink_buf out = { 0 };
    cb_zring *z = NULL;
    cb_error err = { 0 };
    (void)state;
    assert_non_null(data);
    assert_int_equal(cb_zring_new(&z, 0, 1 << 20, &err), 0);
    for (size_t p = 0; p < sizeof(plans) / sizeof(plans[0]); p++) {
        size_t n = 0, holes = 0;
        while (n < 5 && plans[p][n] != 0)
            holes += plans[p][n] < 0 ? (size_t)-plans[p][n] : 0, n++;
        fill_6bit(data, 6 << 20, 40 + p);
        if (p == 0 || p == 4) /* the chunk after the hole(s) repeats the chunk before */
            memcpy(data + seg + (128 << 10), data, seg);
        zeros_trip(z, plans[p], n, data, &out);
        if (p == 3) /* a hole costs its blocks' headers only */
            assert_true(out.len < holes / (128 << 10) * 4 + 64);
    }
    /* zeros need a frame, and room in it */
    assert_int_equal(cb_zring_zeros(z, 10, "obj-z", to_buf, &out, &err), CB_EINVAL);
    assert_non_null(strstr(err.msg, "obj-z"));
    err = (cb_error){ 0 };
    assert_int_equal(cb_zring_begin(z, 100, "obj-y", &err), 0);
    assert_int_equal(cb_zring_zeros(z, 101, "obj-y", to_buf, &out, &err), CB_EINVAL);
    assert_non_null(strstr(err.msg, "100 left"));
    cb_zring_free(z);
    free(out.data);
    free(data);
}

static void test_zring__misuse_is_refused(void **state)
{
    cb_zring *z = NULL;
    cb_error err = { 0 };
    sink_buf out = { 0 };
    (void)state;
    assert_int_equal(cb_zring_new(&z, 99, 4096, &err), CB_EINVAL);
    assert_null(z);
    assert_non_null(strstr(err.msg, "zstd level 99"));
    assert_int_equal(cb_zring_new(&z, 0, 4096, &err), 0);
    err = (cb_error){ 0 }; /* a first error is kept: start again for each message checked */
    /* no frame begun */
    assert_int_equal(cb_zring_compress(z, 10, "obj-a", to_buf, &out, &err), CB_EINVAL);
    assert_non_null(strstr(err.msg, "obj-a"));
    /* more than the chunk, more than pledged, or an early end */
    assert_int_equal(cb_zring_begin(z, 5000, "obj-b", &err), 0);
    assert_int_equal(cb_zring_compress(z, 4097, "obj-b", to_buf, &out, &err), CB_EINVAL);
    assert_int_equal(cb_zring_compress(z, 0, "obj-b", to_buf, &out, &err), CB_EINVAL);
    assert_int_equal(cb_zring_compress(z, 4096, "obj-b", to_buf, &out, &err), 0);
    err = (cb_error){ 0 };
    assert_int_equal(cb_zring_compress(z, 905, "obj-b", to_buf, &out, &err), CB_EINVAL);
    assert_non_null(strstr(err.msg, "904 left"));
    /* a frame abandoned half-way: the next begin starts a good one */
    unsigned char data[3000];
    fill_mixed(data, sizeof(data), 9);
    round_trip(z, 4096, data, sizeof(data), &out);
    /* the sink's refusal comes back as is, and ends the frame (the frame header is the
     * first call, the block the second) */
    sink_buf failing = { .fail_after = 1 };
    unsigned char big[4096];
    tu_fill_random(big, sizeof(big), 4);
    assert_int_equal(cb_zring_begin(z, 8192, "obj-c", &err), 0);
    memcpy(cb_zring_slot(z), big, sizeof(big));
    assert_int_equal(cb_zring_compress(z, 4096, "obj-c", to_buf, &failing, &err), -7);
    assert_int_equal(cb_zring_compress(z, 1, "obj-c", to_buf, &failing, &err), CB_EINVAL);
    cb_zring_free(z);
    free(out.data);
    free(failing.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zring__frames_decode_to_the_input),
        cmocka_unit_test(test_zring__window_and_reach),
        cmocka_unit_test(test_zring__raw_blocks_between),
        cmocka_unit_test(test_zring__zeros_between_chunks),
        cmocka_unit_test(test_zring__misuse_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
