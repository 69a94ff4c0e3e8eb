/* SPDX-License-Identifier: Apache-2.0 */
/* test_codec.c: names, round trips, and the exact stream formats Cinder's restore needs. */
#include <stdlib.h>
#include <zlib.h>
#include <bzlib.h>
#include <zstd.h>

#include "../tests/codec/codec_testlib.h"

static void test_codec__lookup_accepted_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        cb_codec_id id;
    } cases[] = {
        { "none", CB_CODEC_NONE }, { "OFF", CB_CODEC_NONE },  { "No", CB_CODEC_NONE },
        { "zLib", CB_CODEC_ZLIB }, { "GZip", CB_CODEC_ZLIB }, { "BZ2", CB_CODEC_BZ2 },
        { "bZiP2", CB_CODEC_BZ2 }, { "ZStd", CB_CODEC_ZSTD },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cb_error err = { 0 };
        cb_codec_id id = (cb_codec_id)-1;
        assert_cb_ok(cb_codec_lookup(cases[i].name, &id, &err), &err);
        assert_int_equal(id, cases[i].id);
    }
    assert_string_equal(cb_codec_canonical_name(CB_CODEC_NONE), "none");
    assert_string_equal(cb_codec_canonical_name(CB_CODEC_ZLIB), "zlib");
    assert_string_equal(cb_codec_canonical_name(CB_CODEC_BZ2), "bz2");
    assert_string_equal(cb_codec_canonical_name(CB_CODEC_ZSTD), "zstd");
}

static void test_codec__lookup_rejects_unknown(void **state)
{
    (void)state;
    const char *bad[] = { "winzip", "fake", "", "zlib ", "lz4" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cb_error err = { 0 };
        cb_codec_id id;
        char want[64];
        snprintf(want, sizeof(want), "'%s'", bad[i]);
        assert_int_equal(cb_codec_lookup(bad[i], &id, &err), CB_EINVAL);
        assert_cb_error(&err, CB_EINVAL, want);
        assert_non_null(strstr(err.msg, "none, off, no, zlib, gzip, bz2, bzip2, zstd"));
    }
    cb_error err = { 0 };
    cb_codec_id id;
    assert_int_equal(cb_codec_lookup(NULL, &id, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "unsupported compression algorithm");
}

/* One encoder and one decoder serve every sample in turn: they are reusable. */
static void round_trip(cb_codec_id id)
{
    cb_error err = { 0 };
    cb_encoder *e = NULL;
    cb_decoder *d = NULL;
    cb_buf z = CB_BUF_INIT, back = CB_BUF_INIT;
    assert_cb_ok(cb_encoder_new(&e, id, 0, &err), &err);
    assert_cb_ok(cb_decoder_new(&d, id, &err), &err);
    for (int pass = 0; pass < 2; pass++) {
        for (ct_sample s = 0; s < CT_SAMPLE_COUNT; s++) {
            size_t len;
            unsigned char *in = ct_sample_new(s, &len);
            cb_buf_reset(&z);
            cb_buf_reset(&back);
            assert_cb_ok(ct_encode(e, in, len, "obj", &z, &err), &err);
            if (id == CB_CODEC_NONE)
                assert_int_equal(z.len, len);
            if (s == CT_TEXT && id != CB_CODEC_NONE)
                assert_true(z.len < len / 3);
            assert_cb_ok(ct_decode(d, z.data, z.len, len, "obj", &back, &err), &err);
            assert_int_equal(back.len, len);
            assert_memory_equal(back.data, in, len);
            free(in);
        }
    }
    cb_buf_dispose(&z);
    cb_buf_dispose(&back);
    cb_encoder_free(e);
    cb_decoder_free(d);
}

static void test_codec__round_trip_none(void **state)
{
    (void)state;
    round_trip(CB_CODEC_NONE);
}

static void test_codec__round_trip_zlib(void **state)
{
    (void)state;
    round_trip(CB_CODEC_ZLIB);
}

static void test_codec__round_trip_bz2(void **state)
{
    (void)state;
    round_trip(CB_CODEC_BZ2);
}

static void test_codec__round_trip_zstd(void **state)
{
    (void)state;
    round_trip(CB_CODEC_ZSTD);
}

/* zlib.compress(raw) == compress2(raw, 6): one zlib stream, 78 9c, that uncompress() reads. */
static void test_codec__zlib_is_python_zlib_compress(void **state)
{
    (void)state;
    for (ct_sample s = 0; s < CT_SAMPLE_COUNT; s++) {
        size_t len;
        unsigned char *in = ct_sample_new(s, &len);
        cb_buf z = CB_BUF_INIT;
        ct_compress(CB_CODEC_ZLIB, in, len, &z);
        assert_true(z.len > 2);
        assert_int_equal((unsigned char)z.data[0], 0x78);
        assert_int_equal((unsigned char)z.data[1], 0x9c);
        uLongf back_len = (uLongf)len + 1;
        unsigned char *back = malloc(back_len);
        assert_int_equal(uncompress(back, &back_len, (const Bytef *)z.data, z.len), Z_OK);
        assert_int_equal(back_len, len);
        assert_memory_equal(back, in, len);
        uLongf ref_len = compressBound(len);
        unsigned char *ref = malloc(ref_len);
        assert_int_equal(compress2(ref, &ref_len, in, len, 6), Z_OK);
        assert_int_equal(ref_len, z.len);
        assert_memory_equal(ref, z.data, z.len);
        free(ref);
        free(back);
        free(in);
        cb_buf_dispose(&z);
    }
}

/* python-zstd needs exactly one frame that declares its content size. */
static void test_codec__zstd_writes_one_sized_frame(void **state)
{
    (void)state;
    for (ct_sample s = 0; s < CT_SAMPLE_COUNT; s++) {
        size_t len;
        unsigned char *in = ct_sample_new(s, &len);
        cb_buf z = CB_BUF_INIT;
        ct_compress(CB_CODEC_ZSTD, in, len, &z);
        assert_int_equal(ZSTD_getFrameContentSize(z.data, z.len), len);
        assert_int_equal(ZSTD_findFrameCompressedSize(z.data, z.len), z.len);
        /* Frame_Header_Descriptor (RFC 8878): no checksum (bit 2), no dictionary (bits 0-1) */
        assert_int_equal((unsigned char)z.data[4] & 0x07, 0);
        free(in);
        cb_buf_dispose(&z);
    }
}

/* bz2.compress(raw) is bzip2 -9; bzip2's output depends only on its input. */
static void test_codec__bz2_is_bzip2_9(void **state)
{
    (void)state;
    for (ct_sample s = CT_ONE; s < CT_SAMPLE_COUNT; s++) {
        size_t len;
        unsigned char *in = ct_sample_new(s, &len);
        cb_buf z = CB_BUF_INIT;
        ct_compress(CB_CODEC_BZ2, in, len, &z);
        assert_memory_equal(z.data, "BZh9", 4);
        unsigned ref_len = (unsigned)(len + len / 100 + 600);
        char *ref = malloc(ref_len);
        assert_int_equal(
            BZ2_bzBuffToBuffCompress(ref, &ref_len, (char *)in, (unsigned)len, 9, 0, 0), BZ_OK);
        assert_int_equal(ref_len, z.len);
        assert_memory_equal(ref, z.data, z.len);
        free(ref);
        free(in);
        cb_buf_dispose(&z);
    }
}

static void test_codec__levels(void **state)
{
    (void)state;
    static const struct {
        cb_codec_id id;
        int level;
    } bad[] = {
        { CB_CODEC_ZLIB, 10 }, { CB_CODEC_ZLIB, -1 }, { CB_CODEC_BZ2, 10 }, { CB_CODEC_ZSTD, 1000 }
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cb_error err = { 0 };
        cb_encoder *e = (cb_encoder *)&err;
        assert_int_equal(cb_encoder_new(&e, bad[i].id, bad[i].level, &err), CB_EINVAL);
        assert_cb_error(&err, CB_EINVAL, "out of range");
        assert_null(e);
    }
    cb_error err = { 0 };
    cb_encoder *e = NULL;
    cb_buf z = CB_BUF_INIT;
    assert_cb_ok(cb_encoder_new(&e, CB_CODEC_ZLIB, 1, &err), &err);
    assert_cb_ok(ct_encode(e, "hello", 5, "lvl", &z, &err), &err);
    assert_int_equal((unsigned char)z.data[1], 0x01); /* FLEVEL 0: the fastest level */
    cb_buf_dispose(&z);
    cb_encoder_free(e);
}

/* Feeding a different byte count than pledged is a caller bug; the encoder survives it. */
static void test_codec__encoder_pledge_mismatch(void **state)
{
    (void)state;
    for (cb_codec_id id = CB_CODEC_NONE; id <= CB_CODEC_ZSTD; id++) {
        cb_error err = { 0 };
        cb_encoder *e = NULL;
        cb_buf z = CB_BUF_INIT;
        assert_cb_ok(cb_encoder_new(&e, id, 0, &err), &err);
        assert_cb_ok(cb_encoder_begin(e, 10, "short", &err), &err);
        assert_cb_ok(cb_encoder_feed(e, "12345", 5, ct_sink_buf, &z, &err), &err);
        assert_int_equal(cb_encoder_end(e, ct_sink_buf, &z, &err), CB_EINVAL);
        assert_cb_error(&err, CB_EINVAL, "object 'short'");
        assert_non_null(strstr(err.msg, "fed 5 bytes but 10 were pledged"));
        cb_error_clear(&err);
        assert_cb_ok(cb_encoder_begin(e, 3, "long", &err), &err);
        assert_int_equal(cb_encoder_feed(e, "12345", 5, ct_sink_buf, &z, &err), CB_EINVAL);
        assert_cb_error(&err, CB_EINVAL, "more than the 3 bytes pledged");
        cb_error_clear(&err);
        assert_int_equal(cb_encoder_end(e, ct_sink_buf, &z, &err), CB_EINVAL); /* abandoned */
        cb_error_clear(&err);
        cb_buf_reset(&z);
        assert_cb_ok(ct_encode(e, "again", 5, "again", &z, &err), &err);
        cb_buf back = CB_BUF_INIT;
        assert_cb_ok(cb_codec_decompress_buf(id, z.data, z.len, 5, &back, &err), &err);
        assert_int_equal(back.len, 5);
        assert_memory_equal(back.data, "again", 5);
        cb_buf_dispose(&back);
        cb_buf_dispose(&z);
        cb_encoder_free(e);
    }
}

/* A sink may stop an object early without an error record (e.g. output not smaller). */
static int stop_after_first(const void *data, size_t len, void *payload, cb_error *err)
{
    (void)data;
    (void)len;
    (void)err;
    ++*(int *)payload;
    return CB_ITEROVER;
}

static void test_codec__sink_stops_encoder(void **state)
{
    (void)state;
    size_t len;
    unsigned char *in = ct_sample_new(CT_RANDOM, &len);
    cb_error err = { 0 };
    cb_encoder *e = NULL;
    int calls = 0;
    assert_cb_ok(cb_encoder_new(&e, CB_CODEC_ZSTD, 0, &err), &err);
    assert_cb_ok(cb_encoder_begin(e, len, "stop", &err), &err);
    int rc = cb_encoder_feed(e, in, len, stop_after_first, &calls, &err);
    if (rc == 0) /* zstd may hold all of it back until the end */
        rc = cb_encoder_end(e, stop_after_first, &calls, &err);
    assert_int_equal(rc, CB_ITEROVER);
    assert_int_equal(calls, 1);
    assert_int_equal(err.code, 0);
    cb_buf z = CB_BUF_INIT;
    assert_cb_ok(ct_encode(e, in, len, "next", &z, &err), &err);
    assert_int_equal(ZSTD_getFrameContentSize(z.data, z.len), len);
    cb_buf_dispose(&z);
    cb_encoder_free(e);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec__lookup_accepted_names),
        cmocka_unit_test(test_codec__lookup_rejects_unknown),
        cmocka_unit_test(test_codec__round_trip_none),
        cmocka_unit_test(test_codec__round_trip_zlib),
        cmocka_unit_test(test_codec__round_trip_bz2),
        cmocka_unit_test(test_codec__round_trip_zstd),
        cmocka_unit_test(test_codec__zlib_is_python_zlib_compress),
        cmocka_unit_test(test_codec__zstd_writes_one_sized_frame),
        cmocka_unit_test(test_codec__bz2_is_bzip2_9),
        cmocka_unit_test(test_codec__levels),
        cmocka_unit_test(test_codec__encoder_pledge_mismatch),
        cmocka_unit_test(test_codec__sink_stops_encoder),
    };
    return cmocka_run_group_tests_name("codec: names, round trips, formats", tests, NULL, NULL);
}
