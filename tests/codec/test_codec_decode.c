/* SPDX-License-Identifier: Apache-2.0 */
/* test_codec_decode.c: the decoders accept what Cinder's Python restore accepts, and report
 * corrupt, truncated or oversized objects by name. */
#include <stdlib.h>
#include <zstd.h>

#include "../tests/codec/codec_testlib.h"

/* Decode `len` bytes with a fresh decoder; returns the status, output in *out. */
static int
decode(cb_codec_id id, const void *in, size_t len, uint64_t max_out, cb_buf *out, cb_error *err)
{
    cb_decoder *d = NULL;
    int error = cb_decoder_new(&d, id, err);
    if (error == 0)
        error = ct_decode(d, in, len, max_out, "obj-7", out, err);
    cb_decoder_free(d);
    return error;
}

static void expect_decoded(cb_codec_id id, const cb_buf *z, const void *want, size_t want_len)
{
    cb_error err = { 0 };
    cb_buf back = CB_BUF_INIT;
    assert_cb_ok(decode(id, z->data, z->len, UINT64_MAX, &back, &err), &err);
    assert_int_equal(back.len, want_len);
    assert_memory_equal(back.data, want, want_len);
    cb_buf_dispose(&back);
}

/* zlib.decompress() ignores whatever follows the end of its one stream. */
static void test_codec__zlib_ignores_trailing_bytes(void **state)
{
    (void)state;
    size_t len;
    unsigned char *in = ct_sample_new(CT_TEXT, &len);
    cb_buf z = CB_BUF_INIT;
    ct_compress(CB_CODEC_ZLIB, in, len, &z);
    assert_int_equal(cb_buf_put(&z, "trailing junk", 13, NULL), 0);
    expect_decoded(CB_CODEC_ZLIB, &z, in, len);
    /* even a second zlib stream: Python restores only the first (spec §9 decoder rules) */
    ct_compress(CB_CODEC_ZLIB, "more", 4, &z);
    expect_decoded(CB_CODEC_ZLIB, &z, in, len);
    cb_buf_dispose(&z);
    free(in);
}

/* bz2.decompress() reads concatenated streams and ignores junk after a complete one. */
static void test_codec__bz2_concatenated_streams(void **state)
{
    (void)state;
    size_t len;
    unsigned char *in = ct_sample_new(CT_TEXT, &len);
    cb_buf z = CB_BUF_INIT;
    ct_compress(CB_CODEC_BZ2, in, len / 2, &z);
    ct_compress(CB_CODEC_BZ2, in + len / 2, len - len / 2, &z);
    expect_decoded(CB_CODEC_BZ2, &z, in, len);
    assert_int_equal(cb_buf_put(&z, "junk that is not bzip2", 22, NULL), 0);
    expect_decoded(CB_CODEC_BZ2, &z, in, len);
    cb_buf_dispose(&z);
    /* an empty object is empty, as bz2.decompress(b'') == b'' */
    expect_decoded(CB_CODEC_BZ2, &z, "", 0);
    free(in);
}

/* libzstd reads several frames, with or without a declared content size. */
static void test_codec__zstd_frames_with_and_without_size(void **state)
{
    (void)state;
    size_t len;
    unsigned char *in = ct_sample_new(CT_TEXT, &len);
    cb_buf z = CB_BUF_INIT;
    ct_compress(CB_CODEC_ZSTD, in, CT_MIB, &z);
    /* a streamed frame that never learnt its size (a first e_end call would tell it) */
    ZSTD_CCtx *c = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(len - CT_MIB);
    assert_int_equal(cb_buf_reserve(&z, cap, NULL), 0);
    ZSTD_outBuffer out = { z.data + z.len, cap, 0 };
    ZSTD_inBuffer inb = { in + CT_MIB, len - CT_MIB, 0 };
    assert_false(ZSTD_isError(ZSTD_compressStream2(c, &out, &inb, ZSTD_e_continue)));
    assert_int_equal(ZSTD_compressStream2(c, &out, &inb, ZSTD_e_end), 0);
    assert_int_equal(ZSTD_getFrameContentSize(z.data + z.len, out.pos), ZSTD_CONTENTSIZE_UNKNOWN);
    z.len += out.pos;
    ZSTD_freeCCtx(c);
    expect_decoded(CB_CODEC_ZSTD, &z, in, len);
    cb_buf_dispose(&z);
    free(in);
}

/* A flipped byte is CB_ECORRUPT naming the object and giving the library's reason. */
static void test_codec__corrupt_byte(void **state)
{
    (void)state;
    static const struct {
        cb_codec_id id;
        long at; /* byte to flip; negative counts from the end */
        const char *reason;
    } cases[] = {
        { CB_CODEC_ZLIB, -1, "zlib data is corrupt: incorrect data check" },
        { CB_CODEC_ZLIB, 0, "zlib data is corrupt: " },
        { CB_CODEC_BZ2, 100, "bz2 data is corrupt" },
        { CB_CODEC_BZ2, 0, "bz2 data is corrupt: not a bzip2 stream" },
        { CB_CODEC_ZSTD, 0, "zstd data is corrupt: Unknown frame descriptor" },
    };
    size_t len;
    unsigned char *in = ct_sample_new(CT_TEXT, &len);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cb_error err = { 0 };
        cb_buf z = CB_BUF_INIT, back = CB_BUF_INIT;
        ct_compress(cases[i].id, in, len, &z);
        size_t at = cases[i].at < 0 ? z.len - (size_t)-cases[i].at : (size_t)cases[i].at;
        z.data[at] ^= 0x55;
        assert_int_equal(decode(cases[i].id, z.data, z.len, len, &back, &err), CB_ECORRUPT);
        assert_cb_error(&err, CB_ECORRUPT, "object 'obj-7'");
        assert_cb_error(&err, CB_ECORRUPT, cases[i].reason);
        cb_buf_dispose(&z);
        cb_buf_dispose(&back);
    }
    free(in);
}

/* A stream cut short fails at end(), or earlier if the cut leaves garbage. */
static void test_codec__truncated_stream(void **state)
{
    (void)state;
    size_t len;
    unsigned char *in = ct_sample_new(CT_ALPHABET, &len);
    for (cb_codec_id id = CB_CODEC_ZLIB; id <= CB_CODEC_ZSTD; id++) {
        cb_buf z = CB_BUF_INIT;
        ct_compress(id, in, len, &z);
        size_t cuts[] = { 0, 1, z.len / 2, z.len - 1 };
        for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
            if (id == CB_CODEC_BZ2 && cuts[i] == 0)
                continue; /* empty is a valid (empty) bz2 object */
            cb_error err = { 0 };
            cb_buf back = CB_BUF_INIT;
            assert_int_equal(decode(id, z.data, cuts[i], len, &back, &err), CB_ECORRUPT);
            assert_cb_error(&err, CB_ECORRUPT, "object 'obj-7'");
            cb_buf_dispose(&back);
        }
        cb_buf_dispose(&z);
    }
    free(in);
}

/* Never write more than the caller allows: decompression bombs and wrong lengths. */
static void test_codec__max_out(void **state)
{
    (void)state;
    size_t len;
    unsigned char *in = ct_sample_new(CT_TEXT, &len);
    for (cb_codec_id id = CB_CODEC_NONE; id <= CB_CODEC_ZSTD; id++) {
        cb_error err = { 0 };
        cb_buf z = CB_BUF_INIT, back = CB_BUF_INIT;
        ct_compress(id, in, len, &z);
        assert_int_equal(decode(id, z.data, z.len, len - 1, &back, &err), CB_ECORRUPT);
        assert_cb_error(&err, CB_ECORRUPT, "more than 3145727 bytes");
        assert_true(back.len <= len - 1);
        cb_buf_reset(&back);
        assert_cb_ok(decode(id, z.data, z.len, len, &back, &err), &err);
        assert_int_equal(back.len, len);
        cb_buf_dispose(&back);
        cb_buf_dispose(&z);
    }
    free(in);
}

/* After a failure the same decoder decodes the next object correctly. */
static void test_codec__decoder_reuse_after_error(void **state)
{
    (void)state;
    size_t len;
    unsigned char *in = ct_sample_new(CT_TEXT, &len);
    for (cb_codec_id id = CB_CODEC_ZLIB; id <= CB_CODEC_ZSTD; id++) {
        cb_error err = { 0 };
        cb_decoder *d = NULL;
        cb_buf z = CB_BUF_INIT, back = CB_BUF_INIT;
        ct_compress(id, in, len, &z);
        assert_cb_ok(cb_decoder_new(&d, id, &err), &err);
        assert_int_equal(ct_decode(d, z.data, z.len / 2, len, "cut", &back, &err), CB_ECORRUPT);
        assert_cb_error(&err, CB_ECORRUPT, "object 'cut'");
        cb_error_clear(&err);
        assert_int_equal(ct_decode(d, z.data, z.len, 10, "small", &back, &err), CB_ECORRUPT);
        cb_error_clear(&err);
        cb_buf_reset(&back);
        assert_cb_ok(ct_decode(d, z.data, z.len, len, "whole", &back, &err), &err);
        assert_int_equal(back.len, len);
        assert_memory_equal(back.data, in, len);
        cb_decoder_free(d);
        cb_buf_dispose(&back);
        cb_buf_dispose(&z);
    }
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec__zlib_ignores_trailing_bytes),
        cmocka_unit_test(test_codec__bz2_concatenated_streams),
        cmocka_unit_test(test_codec__zstd_frames_with_and_without_size),
        cmocka_unit_test(test_codec__corrupt_byte),
        cmocka_unit_test(test_codec__truncated_stream),
        cmocka_unit_test(test_codec__max_out),
        cmocka_unit_test(test_codec__decoder_reuse_after_error),
    };
    return cmocka_run_group_tests_name("codec: decoder rules", tests, NULL, NULL);
}
