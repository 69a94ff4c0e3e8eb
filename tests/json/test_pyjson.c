/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pyjson.c: the emitter's bytes equal Python 3's json.dumps(). Every expected string
 * below was produced by /usr/bin/python3 (3.11) with json.dumps(obj, indent=2,
 * sort_keys=True) or compact json.dumps(obj), and pasted verbatim.
 */
#include <math.h>
#include <stdlib.h>

#include "testutil.h"
#include "json/pyjson.h"

/* Finish a sink-less emitter and compare its text with Python's. */
static void expect_text(cb_pyjson *j, const char *want)
{
    cb_error err = { 0 };
    size_t len = 0;
    assert_cb_ok(cb_pyjson_finish(j, &err), &err);
    assert_int_equal(cb_pyjson_size(j), strlen(want));
    char *text = cb_pyjson_detach(j, &len);
    assert_non_null(text);
    assert_string_equal(text, want);
    assert_int_equal(len, strlen(want));
    free(text);
    cb_pyjson_dispose(j);
}

/* {"k1": "v1", "k2": v2...} helpers keep the document builders short. */
static void kv_str(cb_pyjson *j, const char *k, const char *v, cb_error *err)
{
    cb_pyjson_key(j, k, err);
    cb_pyjson_string(j, v, err);
}

static void kv_int(cb_pyjson *j, const char *k, int64_t v, cb_error *err)
{
    cb_pyjson_key(j, k, err);
    cb_pyjson_int(j, v, err);
}

static void emit_object_entry(cb_pyjson *j,
                              const char *name,
                              const char *comp,
                              int64_t len,
                              const char *md5,
                              int64_t off,
                              cb_error *err)
{
    cb_pyjson_begin_object(j, err);
    cb_pyjson_key(j, name, err);
    cb_pyjson_begin_object(j, err);
    kv_str(j, "compression", comp, err);
    kv_int(j, "length", len, err);
    kv_str(j, "md5", md5, err);
    kv_int(j, "offset", off, err);
    cb_pyjson_end_object(j, err);
    cb_pyjson_end_object(j, err);
}

/* volume_meta is itself compact JSON (oslo jsonutils, insertion order), then a string. */
static char *volume_meta(cb_error *err)
{
    cb_pyjson j;
    cb_pyjson_init(&j, 0, NULL, NULL);
    cb_pyjson_begin_object(&j, err);
    kv_int(&j, "version", 2, err);
    cb_pyjson_key(&j, "volume-base-metadata", err);
    cb_pyjson_begin_object(&j, err);
    kv_str(&j, "id", "11111111-2222-3333-4444-555555555555", err);
    kv_int(&j, "size", 1, err);
    kv_str(&j, "display_name", "caf\xc3\xa9 \xf0\x9f\x98\x80", err);
    kv_str(&j, "display_description", "say \"hi\"\\n", err);
    cb_pyjson_end_object(&j, err);
    cb_pyjson_key(&j, "volume-metadata", err);
    cb_pyjson_begin_object(&j, err);
    kv_str(&j, "k", "v", err);
    cb_pyjson_end_object(&j, err);
    cb_pyjson_end_object(&j, err);
    cb_pyjson_finish(&j, err);
    char *text = cb_pyjson_detach(&j, NULL);
    cb_pyjson_dispose(&j);
    return text;
}

static void test_pyjson__metadata_document(void **state)
{
    (void)state;
    static const char want[] =
        "{\n"
        "  \"backup_description\": \"desc \\\"quoted\\\"\",\n"
        "  \"backup_id\": \"aaaaaaaa-0000-0000-0000-000000000002\",\n"
        "  \"backup_name\": \"name-aaaa\",\n"
        "  \"created_at\": \"2024-01-02 03:04:05+00:00\",\n"
        "  \"objects\": [\n"
        "    {\n"
        "      \"P-00001\": {\n"
        "        \"compression\": \"none\",\n"
        "        \"length\": 4096,\n"
        "        \"md5\": \"9233f1fec74ecb876f564ebd9cf2d545\",\n"
        "        \"offset\": 69632\n"
        "      }\n"
        "    },\n"
        "    {\n"
        "      \"P-00002\": {\n"
        "        \"compression\": \"zlib\",\n"
        "        \"length\": 8192,\n"
        "        \"md5\": \"02a90c909277e9ae68c0c449ed25374f\",\n"
        "        \"offset\": 499712\n"
        "      }\n"
        "    }\n"
        "  ],\n"
        "  \"parent_id\": null,\n"
        "  \"version\": \"1.0.0\",\n"
        "  \"volume_id\": \"11111111-2222-3333-4444-555555555555\",\n"
        "  \"volume_meta\": \"{\\\"version\\\": 2, \\\"volume-base-metadata\\\": {\\\"id\\\": "
        "\\\"11111111-2222-3333-4444-555555555555\\\", \\\"size\\\": 1, \\\"display_name\\\": "
        "\\\"caf\\\\u00e9 \\\\ud83d\\\\ude00\\\", \\\"display_description\\\": \\\"say "
        "\\\\\\\"hi\\\\\\\"\\\\\\\\n\\\"}, \\\"volume-metadata\\\": {\\\"k\\\": \\\"v\\\"}}\"\n"
        "}";
    cb_error err = { 0 };
    char *vm = volume_meta(&err);
    assert_non_null(vm);
    cb_pyjson j;
    cb_pyjson_init(&j, 2, NULL, NULL);
    cb_pyjson_begin_object(&j, &err);
    kv_str(&j, "backup_description", "desc \"quoted\"", &err);
    kv_str(&j, "backup_id", "aaaaaaaa-0000-0000-0000-000000000002", &err);
    kv_str(&j, "backup_name", "name-aaaa", &err);
    kv_str(&j, "created_at", "2024-01-02 03:04:05+00:00", &err);
    cb_pyjson_key(&j, "objects", &err);
    cb_pyjson_begin_array(&j, &err);
    emit_object_entry(&j, "P-00001", "none", 4096, "9233f1fec74ecb876f564ebd9cf2d545", 69632, &err);
    emit_object_entry(&j, "P-00002", "zlib", 8192, "02a90c909277e9ae68c0c449ed25374f", 499712,
                      &err);
    cb_pyjson_end_array(&j, &err);
    kv_str(&j, "parent_id", NULL, &err);
    kv_str(&j, "version", "1.0.0", &err);
    kv_str(&j, "volume_id", "11111111-2222-3333-4444-555555555555", &err);
    kv_str(&j, "volume_meta", vm, &err);
    assert_cb_ok(cb_pyjson_end_object(&j, &err), &err);
    expect_text(&j, want);
    free(vm);
}

static void test_pyjson__empty_containers(void **state)
{
    (void)state;
    static const char want[] = "{\n"
                               "  \"backup_description\": null,\n"
                               "  \"backup_id\": \"b\",\n"
                               "  \"backup_name\": null,\n"
                               "  \"created_at\": \"c\",\n"
                               "  \"extra_metadata\": {},\n"
                               "  \"objects\": [],\n"
                               "  \"parent_id\": null,\n"
                               "  \"version\": \"1.0.0\",\n"
                               "  \"volume_id\": \"v\",\n"
                               "  \"volume_meta\": null\n"
                               "}";
    cb_error err = { 0 };
    cb_pyjson j;
    cb_pyjson_init(&j, 2, NULL, NULL);
    cb_pyjson_begin_object(&j, &err);
    kv_str(&j, "backup_description", NULL, &err);
    kv_str(&j, "backup_id", "b", &err);
    kv_str(&j, "backup_name", NULL, &err);
    kv_str(&j, "created_at", "c", &err);
    cb_pyjson_key(&j, "extra_metadata", &err);
    cb_pyjson_begin_object(&j, &err);
    cb_pyjson_end_object(&j, &err);
    cb_pyjson_key(&j, "objects", &err);
    cb_pyjson_begin_array(&j, &err);
    cb_pyjson_end_array(&j, &err);
    cb_pyjson_key(&j, "parent_id", &err);
    cb_pyjson_null(&j, &err);
    kv_str(&j, "version", "1.0.0", &err);
    kv_str(&j, "volume_id", "v", &err);
    kv_str(&j, "volume_meta", NULL, &err);
    assert_cb_ok(cb_pyjson_end_object(&j, &err), &err);
    expect_text(&j, want);
}

static void test_pyjson__escapes(void **state)
{
    (void)state;
    static const char want[] =
        "[\n"
        "  \"\\u0000\\u0001\\u001f\\u007f\\\"\\\\/\\b\\f\\n\\r\\t ~ caf\\u00e9 \\u20ac "
        "\\ud83d\\ude00 \\udbff\\udfff \\u0080\\u07ff\\u0800\\uffff\",\n"
        "  {\n"
        "    \"\\u0000\\u0001\\u001f\\u007f\\\"\\\\/\\b\\f\\n\\r\\t ~ caf\\u00e9 \\u20ac "
        "\\ud83d\\ude00 \\udbff\\udfff \\u0080\\u07ff\\u0800\\uffff\": "
        "\"\\u0000\\u0001\\u001f\\u007f\\\"\\\\/\\b\\f\\n\\r\\t ~ caf\\u00e9 \\u20ac "
        "\\ud83d\\ude00 \\udbff\\udfff \\u0080\\u07ff\\u0800\\uffff\"\n"
        "  }\n"
        "]";
    /* \x00..\x1f, 0x7f, escapes, "/", then 2-, 3- and 4-byte UTF-8 (incl. U+10FFFF) */
    static const char s[] = "\x00\x01\x1f\x7f\"\\/\b\f\n\r\t ~ caf\xc3\xa9 \xe2\x82\xac "
                            "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xc2\x80\xdf\xbf\xe0\xa0\x80\xef"
                            "\xbf\xbf";
    cb_error err = { 0 };
    cb_pyjson j;
    cb_pyjson_init(&j, 2, NULL, NULL);
    cb_pyjson_begin_array(&j, &err);
    cb_pyjson_stringn(&j, s, sizeof(s) - 1, &err);
    cb_pyjson_begin_object(&j, &err);
    cb_pyjson_keyn(&j, s, sizeof(s) - 1, &err);
    cb_pyjson_stringn(&j, s, sizeof(s) - 1, &err);
    cb_pyjson_end_object(&j, &err);
    assert_cb_ok(cb_pyjson_end_array(&j, &err), &err);
    expect_text(&j, want);
}

static void test_pyjson__big_ints(void **state)
{
    (void)state;
    static const char want[] = "[\n"
                               "  0,\n"
                               "  -1,\n"
                               "  9223372036854775807,\n"
                               "  -9223372036854775808,\n"
                               "  18446744073709551615,\n"
                               "  4096\n"
                               "]";
    cb_error err = { 0 };
    cb_pyjson j;
    cb_pyjson_init(&j, 2, NULL, NULL);
    cb_pyjson_begin_array(&j, &err);
    cb_pyjson_int(&j, 0, &err);
    cb_pyjson_int(&j, -1, &err);
    cb_pyjson_int(&j, INT64_MAX, &err);
    cb_pyjson_int(&j, INT64_MIN, &err);
    cb_pyjson_uint(&j, UINT64_MAX, &err);
    cb_pyjson_uint(&j, 4096, &err);
    assert_cb_ok(cb_pyjson_end_array(&j, &err), &err);
    expect_text(&j, want);
}

static void test_pyjson__extra_metadata_sorted(void **state)
{
    (void)state;
    static const char input[] =
        "{\"z\": [1, 2.5, {\"b\": null, \"a\": true}], \"a\": {\"y\": [], \"x\": {}, \"\\u00e9\": "
        "1e-05, \"\\u0101\": 1e16, \"\\ud83d\\ude00\": 0.1, \"\\uffff\": -0.0}, \"B\": false, "
        "\"m\": [1.0, 123456789012345680.0, 2.5e-300, 1.7976931348623157e308, 5e-324, 100.0, 1e15, "
        "0.0001, 12345.678], \"n\": \"caf\\u00e9\"}";
    static const char want[] = "{\n"
                               "  \"B\": false,\n"
                               "  \"a\": {\n"
                               "    \"x\": {},\n"
                               "    \"y\": [],\n"
                               "    \"\\u00e9\": 1e-05,\n"
                               "    \"\\u0101\": 1e+16,\n"
                               "    \"\\uffff\": -0.0,\n"
                               "    \"\\ud83d\\ude00\": 0.1\n"
                               "  },\n"
                               "  \"m\": [\n"
                               "    1.0,\n"
                               "    1.2345678901234568e+17,\n"
                               "    2.5e-300,\n"
                               "    1.7976931348623157e+308,\n"
                               "    5e-324,\n"
                               "    100.0,\n"
                               "    1000000000000000.0,\n"
                               "    0.0001,\n"
                               "    12345.678\n"
                               "  ],\n"
                               "  \"n\": \"caf\\u00e9\",\n"
                               "  \"z\": [\n"
                               "    1,\n"
                               "    2.5,\n"
                               "    {\n"
                               "      \"a\": true,\n"
                               "      \"b\": null\n"
                               "    }\n"
                               "  ]\n"
                               "}";
    cb_error err = { 0 };
    json_error_t jerr;
    json_t *v = json_loads(input, 0, &jerr);
    assert_non_null(v);
    cb_pyjson j;
    cb_pyjson_init(&j, 2, NULL, NULL);
    assert_cb_ok(cb_pyjson_value(&j, v, &err), &err);
    expect_text(&j, want);
    json_decref(v);
}

static void test_pyjson__compact(void **state)
{
    (void)state;
    static const char want[] =
        "{\"driver_info\": {}, \"id\": \"x\", \"parent_id\": null, \"size\": 1, \"metadata\": "
        "{\"k\": \"v\", \"a\": [1, \"two\", null]}, \"deleted\": false, \"empty\": []}";
    cb_error err = { 0 };
    cb_pyjson j;
    cb_pyjson_init(&j, 0, NULL, NULL);
    cb_pyjson_begin_object(&j, &err);
    cb_pyjson_key(&j, "driver_info", &err);
    cb_pyjson_begin_object(&j, &err);
    cb_pyjson_end_object(&j, &err);
    kv_str(&j, "id", "x", &err);
    kv_str(&j, "parent_id", NULL, &err);
    kv_int(&j, "size", 1, &err);
    cb_pyjson_key(&j, "metadata", &err);
    cb_pyjson_begin_object(&j, &err);
    kv_str(&j, "k", "v", &err);
    cb_pyjson_key(&j, "a", &err);
    cb_pyjson_begin_array(&j, &err);
    cb_pyjson_int(&j, 1, &err);
    cb_pyjson_string(&j, "two", &err);
    cb_pyjson_null(&j, &err);
    cb_pyjson_end_array(&j, &err);
    cb_pyjson_end_object(&j, &err);
    cb_pyjson_key(&j, "deleted", &err);
    cb_pyjson_bool(&j, 0, &err);
    cb_pyjson_key(&j, "empty", &err);
    cb_pyjson_begin_array(&j, &err);
    cb_pyjson_end_array(&j, &err);
    assert_cb_ok(cb_pyjson_end_object(&j, &err), &err);
    expect_text(&j, want);
}

/* repr(float) of each value, from Python; the values are written as exact hex literals. */
static void test_pyjson__reals(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *repr;
    } cases[] = {
        { 0x0.0p+0, "0.0" },
        { -0x0.0p+0, "-0.0" },
        { 0x1.0000000000000p+0, "1.0" },
        { -0x1.8000000000000p+0, "-1.5" },
        { 0x1.999999999999ap-4, "0.1" },
        { 0x1.3333333333334p-2, "0.30000000000000004" },
        { 0x1.5555555555555p-2, "0.3333333333333333" },
        { 0x1.5555555555555p-1, "0.6666666666666666" },
        { 0x1.a36e2eb1c432dp-14, "0.0001" },
        { 0x1.a36371ea531a8p-14, "9.999e-05" },
        { 0x1.4f8b588e368f1p-17, "1e-05" },
        { 0x1.c6bf526340000p+49, "1000000000000000.0" },
        { 0x1.1c37937e07fffp+53, "9999999999999998.0" },
        { 0x1.1c37937e08000p+53, "1e+16" },
        { 0x1.6345785d8a000p+56, "1e+17" },
        { 0x1.aa535d3d0c000p+53, "1.5e+16" },
        { 0x1.d6f3454800000p+26, "123456789.125" },
        { 0x0.0000000000001p-1022, "5e-324" },
        { 0x1.0000000000000p-1022, "2.2250738585072014e-308" },
        { 0x1.fffffffffffffp+1023, "1.7976931348623157e+308" },
        { 0x0.0000000000003p-1022, "1.5e-323" },
        { 0x1.0000000000000p+60, "1.152921504606847e+18" },
        { 0x1.0000000000000p-20, "9.5367431640625e-07" },
        { 0x1.1666666666666p+2, "4.35" },
        { 0x1.3333333333333p-2, "0.3" },
        { 0x1.9000000000000p+6, "100.0" },
        { 0x1.0f0cf064dd592p+73, "1e+22" },
        { 0x1.52d02c7e14af6p+76, "1e+23" },
        { 0x1.0000000000000p+53, "9007199254740992.0" },
        { -0x1.74de452e6b438p-714, "-1.6900460060617255e-215" },
        { -0x1.3a4506513270ep-924, "-8.656582097248742e-279" },
        { -0x1.f0824128b2f33p+75, "-7.327176710725923e+22" },
        { 0x1.dc9f81818e811p+171, "5.5726831758734234e+51" },
        { -0x1.25d940ed90475p+17, "-150450.50724986536" },
        { 0x1.950d836f675ccp-846, "3.3720602633004573e-255" },
        { 0x1.d549b6f03675ap-879, "4.548133948863621e-265" },
        { 0x1.8f7d93d9c1724p+106, "1.2660360483934641e+32" },
        { 0x1.1ddb66cad4a26p+671, "1.0940470851172138e+202" },
        { 0x1.17c2390c192cfp+918, "2.421472989214697e+276" },
        { -0x1.0b33839263059p+262, "-7.734947062232811e+78" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cb_error err = { 0 };
        cb_buf b = CB_BUF_INIT;
        assert_cb_ok(cb_pyjson_format_real(&b, cases[i].v, &err), &err);
        if (strcmp(b.data, cases[i].repr) != 0)
            print_error("case %zu: got %s, want %s\n", i, b.data, cases[i].repr);
        assert_string_equal(b.data, cases[i].repr);
        cb_buf_dispose(&b);
    }
}

static void test_pyjson__invalid_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        const char *what;
    } bad[] = {
        { "ab\xc3", "byte 2 (0xc3)" },           /* truncated */
        { "\x80", "byte 0 (0x80)" },             /* stray continuation */
        { "x\xc0\xaf", "byte 1 (0xc0)" },        /* overlong "/" */
        { "\xe0\x80\xaf", "byte 0 (0xe0)" },     /* overlong, 3 bytes */
        { "\xed\xa0\x80", "byte 0 (0xed)" },     /* a UTF-16 surrogate */
        { "\xf4\x90\x80\x80", "byte 0 (0xf4)" }, /* past U+10FFFF */
        { "\xff", "byte 0 (0xff)" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cb_error err = { 0 };
        cb_pyjson j;
        cb_pyjson_init(&j, 2, NULL, NULL);
        assert_int_equal(cb_pyjson_string(&j, bad[i].s, &err), CB_EINVAL);
        assert_cb_error(&err, CB_EINVAL, bad[i].what);
        assert_cb_error(&err, CB_EINVAL, "invalid UTF-8");
        cb_pyjson_dispose(&j);
    }
}

/* After the first failure everything returns it, and a fresh err gets the same message. */
static void test_pyjson__sticky_errors(void **state)
{
    (void)state;
    cb_error err = { 0 }, err2 = { 0 };
    cb_pyjson j;
    cb_pyjson_init(&j, 2, NULL, NULL);
    cb_pyjson_begin_object(&j, &err);
    assert_int_equal(cb_pyjson_int(&j, 1, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, "without a key");
    assert_int_equal(cb_pyjson_key(&j, "a", &err2), CB_EINVAL);
    assert_cb_error(&err2, CB_EINVAL, "without a key");
    assert_int_equal(cb_pyjson_finish(&j, NULL), CB_EINVAL);
    assert_null(cb_pyjson_detach(&j, NULL));
    cb_pyjson_dispose(&j);
    cb_pyjson_dispose(NULL);
}

static void expect_misuse(int indent, int steps, const char *what)
{
    cb_error err = { 0 };
    cb_pyjson j;
    cb_pyjson_init(&j, indent, NULL, NULL);
    int rc = 0;
    switch (steps) {
    case 0: /* unbalanced end */
        cb_pyjson_begin_array(&j, &err);
        rc = cb_pyjson_end_object(&j, &err);
        break;
    case 1: /* two top-level values */
        cb_pyjson_null(&j, &err);
        rc = cb_pyjson_null(&j, &err);
        break;
    case 2: /* unclosed at finish */
        cb_pyjson_begin_object(&j, &err);
        rc = cb_pyjson_finish(&j, &err);
        break;
    case 3: /* nothing at all */
        rc = cb_pyjson_finish(&j, &err);
        break;
    case 4: /* key in an array */
        cb_pyjson_begin_array(&j, &err);
        rc = cb_pyjson_key(&j, "k", &err);
        break;
    default: /* not JSON */
        rc = cb_pyjson_real(&j, NAN, &err);
        break;
    }
    assert_int_equal(rc, CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, what);
    cb_pyjson_dispose(&j);
}

static void test_pyjson__misuse(void **state)
{
    (void)state;
    expect_misuse(2, 0, "unbalanced end of object");
    expect_misuse(0, 1, "second top-level value");
    expect_misuse(2, 2, "unclosed containers");
    expect_misuse(2, 3, "no value");
    expect_misuse(2, 4, "key outside an object");
    expect_misuse(2, 5, "NaN is not a JSON number");
}

static int failing_sink(const void *data, size_t len, void *payload, cb_error *err)
{
    (void)data;
    (void)len;
    (*(int *)payload)++;
    return cb_error_set(err, CB_EIO, "disk full");
}

static void test_pyjson__sink_failure(void **state)
{
    (void)state;
    cb_error err = { 0 };
    int calls = 0;
    cb_pyjson j;
    cb_pyjson_init(&j, 2, failing_sink, &calls);
    assert_cb_ok(cb_pyjson_string(&j, "small", &err), &err);
    assert_int_equal(cb_pyjson_finish(&j, &err), CB_EIO);
    assert_cb_error(&err, CB_EIO, "disk full");
    assert_int_equal(calls, 1);
    assert_int_equal(cb_pyjson_finish(&j, NULL), CB_EIO);
    assert_int_equal(calls, 1);
    cb_pyjson_dispose(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pyjson__metadata_document),
        cmocka_unit_test(test_pyjson__empty_containers),
        cmocka_unit_test(test_pyjson__escapes),
        cmocka_unit_test(test_pyjson__big_ints),
        cmocka_unit_test(test_pyjson__extra_metadata_sorted),
        cmocka_unit_test(test_pyjson__compact),
        cmocka_unit_test(test_pyjson__reals),
        cmocka_unit_test(test_pyjson__invalid_utf8),
        cmocka_unit_test(test_pyjson__sticky_errors),
        cmocka_unit_test(test_pyjson__misuse),
        cmocka_unit_test(test_pyjson__sink_failure),
    };
    return cmocka_run_group_tests_name("pyjson emitter", tests, NULL, NULL);
}
