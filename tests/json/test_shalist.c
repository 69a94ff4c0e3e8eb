/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_shalist.c: the streaming sha256file parser, fed documents written by the pyjson
 * emitter (checked against Python's bytes) in pieces of every size, malformed documents,
 * and a 1,000,000-entry document streamed through with flat memory.
 */
#include <stdlib.h>
#include <sys/resource.h>

#include <openssl/sha.h>

#include "testutil.h"
#include "json/pyjson.h"
#include "json/shalist.h"

typedef void (*digest_fn)(uint64_t index, unsigned char out[32]);

/* A cheap digest that differs per index, so the 1M test spends its time in the JSON code. */
static void pattern_digest(uint64_t index, unsigned char out[32])
{
    for (int k = 0; k < 32; k++)
        out[k] = (unsigned char)(index * 31 + (uint64_t)k * 7 + (index >> 8) + (index >> 16));
}

/* SHA-256 of "a" and of "", the entries of the document checked against Python. */
static void python_digest(uint64_t index, unsigned char out[32])
{
    SHA256((const unsigned char *)"a", index == 0 ? 1 : 0, out);
}

static void hex32(const unsigned char d[32], char out[65])
{
    static const char hex[] = "0123456789abcdef";
    for (int k = 0; k < 32; k++) {
        out[2 * k] = hex[d[k] >> 4];
        out[2 * k + 1] = hex[d[k] & 0xF];
    }
    out[64] = '\0';
}

/* The document as the lead's writer will produce it: Cinder's sorted keys, indent 2. */
static int emit_sha256file(cb_pyjson *j, uint64_t n, digest_fn fn, cb_error *err)
{
    unsigned char d[32];
    char hex[65];
    cb_pyjson_begin_object(j, err);
    cb_pyjson_key(j, "backup_description", err);
    cb_pyjson_string(j, "d \xc3\xa9", err);
    cb_pyjson_key(j, "backup_id", err);
    cb_pyjson_string(j, "aaaaaaaa-0000-0000-0000-000000000002", err);
    cb_pyjson_key(j, "backup_name", err);
    cb_pyjson_null(j, err);
    cb_pyjson_key(j, "chunk_size", err);
    cb_pyjson_uint(j, 32768, err);
    cb_pyjson_key(j, "created_at", err);
    cb_pyjson_string(j, "2024-01-02 03:04:05+00:00", err);
    cb_pyjson_key(j, "sha256s", err);
    cb_pyjson_begin_array(j, err);
    for (uint64_t i = 0; i < n; i++) {
        fn(i, d);
        hex32(d, hex);
        if (cb_pyjson_stringn(j, hex, 64, err) < 0)
            break;
    }
    cb_pyjson_end_array(j, err);
    cb_pyjson_key(j, "version", err);
    cb_pyjson_string(j, "1.0.0", err);
    cb_pyjson_key(j, "volume_id", err);
    cb_pyjson_string(j, "11111111-2222-3333-4444-555555555555", err);
    cb_pyjson_end_object(j, err);
    return cb_pyjson_finish(j, err);
}

typedef struct check {
    digest_fn fn;         /* expected digests */
    uint64_t next;        /* the index the next entry must have */
    uint64_t chunk_size;  /* from on_chunk_size */
    uint64_t count_at_cs; /* entries seen when chunk_size arrived */
    uint64_t fail_at;     /* on_sha fails at this index + 1 (0: never) */
} check;

static int check_sha(uint64_t index, const unsigned char digest[32], void *payload, cb_error *err)
{
    check *c = payload;
    unsigned char want[32];
    if (c->fail_at != 0 && index + 1 == c->fail_at)
        return cb_error_set(err, CB_ECANCELED, "stop at %llu", (unsigned long long)index);
    c->fn(index, want);
    if (index != c->next++ || memcmp(digest, want, 32) != 0)
        return cb_error_set(err, CB_ERROR, "entry %llu differs", (unsigned long long)index);
    return 0;
}

static int check_chunk_size(uint64_t chunk_size, void *payload, cb_error *err)
{
    (void)err;
    check *c = payload;
    c->chunk_size = chunk_size;
    c->count_at_cs = c->next;
    return 0;
}

static const cb_shalist_callbacks check_cbs = { .on_sha = check_sha,
                                                .on_chunk_size = check_chunk_size };

/* Parse doc in pieces of `piece` bytes; returns the finished parser (caller frees). */
static cb_shalist_parser *parse_pieces(const char *doc, size_t len, size_t piece, check *c)
{
    cb_error err = { 0 };
    cb_shalist_parser *p = NULL;
    assert_cb_ok(cb_shalist_parser_new(&p, &check_cbs, c, &err), &err);
    for (size_t off = 0; off < len; off += piece) {
        size_t n = len - off < piece ? len - off : piece;
        assert_cb_ok(cb_shalist_feed(p, doc + off, n, &err), &err);
    }
    assert_cb_ok(cb_shalist_finish(p, &err), &err);
    return p;
}

static void test_shalist__python_bytes_round_trip(void **state)
{
    (void)state;
    static const char want[] =
        "{\n"
        "  \"backup_description\": \"d \\u00e9\",\n"
        "  \"backup_id\": \"aaaaaaaa-0000-0000-0000-000000000002\",\n"
        "  \"backup_name\": null,\n"
        "  \"chunk_size\": 32768,\n"
        "  \"created_at\": \"2024-01-02 03:04:05+00:00\",\n"
        "  \"sha256s\": [\n"
        "    \"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\",\n"
        "    \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"\n"
        "  ],\n"
        "  \"version\": \"1.0.0\",\n"
        "  \"volume_id\": \"11111111-2222-3333-4444-555555555555\"\n"
        "}";
    cb_error err = { 0 };
    cb_pyjson j;
    cb_pyjson_init(&j, 2, NULL, NULL);
    assert_cb_ok(emit_sha256file(&j, 2, python_digest, &err), &err);
    size_t len;
    char *doc = cb_pyjson_detach(&j, &len);
    cb_pyjson_dispose(&j);
    assert_string_equal(doc, want);
    size_t pieces[] = { 1, 2, 3, 64, len };
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        check c = { .fn = python_digest };
        cb_shalist_parser *p = parse_pieces(doc, len, pieces[i], &c);
        assert_int_equal(cb_shalist_count(p), 2);
        assert_int_equal(c.next, 2);
        assert_int_equal(cb_shalist_chunk_size(p), 32768);
        assert_int_equal(c.chunk_size, 32768);
        assert_int_equal(c.count_at_cs, 0); /* sorted keys: chunk_size before sha256s */
        assert_string_equal(cb_shalist_version(p), "1.0.0");
        assert_string_equal(cb_shalist_backup_id(p), "aaaaaaaa-0000-0000-0000-000000000002");
        assert_string_equal(cb_shalist_volume_id(p), "11111111-2222-3333-4444-555555555555");
        cb_shalist_parser_free(p);
    }
    free(doc);
}

static void test_shalist__pieces_of_every_size(void **state)
{
    (void)state;
    cb_error err = { 0 };
    cb_pyjson j;
    cb_pyjson_init(&j, 2, NULL, NULL);
    assert_cb_ok(emit_sha256file(&j, 1000, pattern_digest, &err), &err);
    size_t len;
    char *doc = cb_pyjson_detach(&j, &len);
    cb_pyjson_dispose(&j);
    size_t pieces[] = { 1, 7, 69, 4096, len };
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        check c = { .fn = pattern_digest };
        cb_shalist_parser *p = parse_pieces(doc, len, pieces[i], &c);
        assert_int_equal(cb_shalist_count(p), 1000);
        assert_int_equal(c.next, 1000);
        cb_shalist_parser_free(p);
    }
    free(doc);
}

/* Any key order, unknown keys (with nested values) skipped, uppercase hex accepted. */
static void test_shalist__unsorted_keys(void **state)
{
    (void)state;
    static const char doc[] =
        "{\"other\": {\"sha256s\": 5, \"x\": [1, {\"chunk_size\": \"no\"}]},"
        " \"sha256s\": [\"CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB\","
        " \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"],"
        " \"version\": \"1.0.0\", \"backup_id\": null, \"flag\": true, \"chunk_size\": 4096}";
    check c = { .fn = python_digest };
    cb_shalist_parser *p = parse_pieces(doc, sizeof(doc) - 1, 5, &c);
    assert_int_equal(cb_shalist_count(p), 2);
    assert_int_equal(cb_shalist_chunk_size(p), 4096);
    assert_int_equal(c.count_at_cs, 2); /* chunk_size came after the entries */
    assert_string_equal(cb_shalist_version(p), "1.0.0");
    assert_null(cb_shalist_backup_id(p));
    assert_null(cb_shalist_volume_id(p));
    cb_shalist_parser_free(p);
}

#define HEX64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void test_shalist__corrupt_documents(void **state)
{
    (void)state;
    static const struct {
        const char *doc;
        const char *what;
    } bad[] = {
        { "{\"chunk_size\": 1, \"sha256s\": [\"" HEX64 "\", \"abc\"]}", "entry 1 is not 64 hex" },
        { "{\"chunk_size\": 1, \"sha256s\": [\"g" HEX64 "\"]}", "entry 0 is not 64 hex" },
        { "{\"sha256s\": [\"" HEX64 "\", \"" HEX64 "\", \"" HEX64 "0\"]}", "entry 2 is not 64" },
        { "{\"sha256s\": [\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85x\"]}",
          "entry 0 is not 64 hex" },
        { "{\"chunk_size\": 1, \"sha256s\": [\"" HEX64 "\", 5]}", "entry 1 is not a string" },
        { "{\"chunk_size\": 1, \"sha256s\": [[\"" HEX64 "\"]]}", "entry 0 is not a string" },
        { "{\"chunk_size\": 0, \"sha256s\": []}", "chunk_size is not a positive integer" },
        { "{\"chunk_size\": -1, \"sha256s\": []}", "chunk_size is not a positive integer" },
        { "{\"chunk_size\": 1.5, \"sha256s\": []}", "chunk_size is not a positive integer" },
        { "{\"chunk_size\": \"4096\", \"sha256s\": []}", "chunk_size is not a positive integer" },
        { "{\"chunk_size\": 99999999999999999999, \"sha256s\": []}", "chunk_size is not a" },
        { "{\"chunk_size\": {}, \"sha256s\": []}", "chunk_size is not a positive integer" },
        { "{\"sha256s\": []}", "no chunk_size" },
        { "{\"chunk_size\": 1}", "no sha256s" },
        { "{\"chunk_size\": 1, \"chunk_size\": 2, \"sha256s\": []}",
          "duplicate key \"chunk_size\"" },
        { "[1]", "not a JSON object" },
        { "\"x\"", "not a JSON object" },
        { "{\"chunk_size\": 1, \"sha256s\": {}}", "sha256s is not a list" },
        { "{\"chunk_size\": 1, \"sha256s\": null}", "sha256s is not a list" },
        { "{\"chunk_size\": 1, \"sha256s\": [], \"version\": 5}", "version is not a short string" },
        { "{\"chunk_size\": 1, \"sha256s\": [],}", "invalid JSON near byte 33: parse error" },
        { "{\"chunk_size\": 1, \"sha256s\": [", "near byte 30: parse error: premature EOF" },
        { "", "near byte 0: parse error: premature EOF" },
        { "{\"chunk_size\": 1, \"sha256s\": []} x", "trailing garbage" },
        { "{\"chunk_size\": 1, \"sha256s\": [\"\xff\"]}", "invalid bytes in UTF8 string" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cb_error err = { 0 };
        cb_shalist_parser *p = NULL;
        assert_cb_ok(cb_shalist_parser_new(&p, NULL, NULL, &err), &err);
        int rc = cb_shalist_feed(p, bad[i].doc, strlen(bad[i].doc), &err);
        if (rc == 0)
            rc = cb_shalist_finish(p, &err);
        if (rc != CB_ECORRUPT || strstr(err.msg, bad[i].what) == NULL)
            print_error("case %zu: %s\n", i, err.msg);
        assert_cb_error(&err, CB_ECORRUPT, bad[i].what);
        assert_true(strlen(err.msg) < 200); /* yajl's short message, no dump of the input */
        assert_int_equal(cb_shalist_finish(p, NULL), CB_ECORRUPT); /* sticky */
        cb_shalist_parser_free(p);
    }
}

static void test_shalist__callback_error_is_sticky(void **state)
{
    (void)state;
    static const char doc[] = "{\"chunk_size\": 1, \"sha256s\": [\"" HEX64 "\", \"" HEX64 "\"]}";
    cb_error err = { 0 }, err2 = { 0 };
    check c = { .fn = python_digest, .fail_at = 1 };
    cb_shalist_parser *p = NULL;
    assert_cb_ok(cb_shalist_parser_new(&p, &check_cbs, &c, &err), &err);
    assert_int_equal(cb_shalist_feed(p, doc, sizeof(doc) - 1, &err), CB_ECANCELED);
    assert_cb_error(&err, CB_ECANCELED, "stop at 0");
    assert_int_equal(cb_shalist_feed(p, "x", 1, &err2), CB_ECANCELED);
    assert_cb_error(&err2, CB_ECANCELED, "stop at 0");
    assert_int_equal(cb_shalist_finish(p, NULL), CB_ECANCELED);
    cb_shalist_parser_free(p);
    cb_shalist_parser_free(NULL);
}

/* The sink of the 1M test: checks the emitter's flush sizes and feeds the parser. */
typedef struct pipe_state {
    cb_shalist_parser *parser;
    uint64_t pieces;
    uint64_t bytes;
    size_t largest;
    size_t smallest_but_last;
    size_t last;
} pipe_state;

static int pipe_sink(const void *data, size_t len, void *payload, cb_error *err)
{
    pipe_state *ps = payload;
    if (ps->pieces > 0 && ps->last < ps->smallest_but_last)
        ps->smallest_but_last = ps->last;
    ps->pieces++;
    ps->bytes += len;
    ps->last = len;
    if (len > ps->largest)
        ps->largest = len;
    return cb_shalist_feed(ps->parser, data, len, err);
}

static long max_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_shalist__million_entries_flat_memory(void **state)
{
    (void)state;
    const uint64_t n = 1000000;
    cb_error err = { 0 };
    check c = { .fn = pattern_digest };
    pipe_state ps = { .smallest_but_last = SIZE_MAX };
    assert_cb_ok(cb_shalist_parser_new(&ps.parser, &check_cbs, &c, &err), &err);
    long before = max_rss_kib();
    cb_pyjson j;
    cb_pyjson_init(&j, 2, pipe_sink, &ps);
    assert_cb_ok(emit_sha256file(&j, n, pattern_digest, &err), &err);
    assert_cb_ok(cb_shalist_finish(ps.parser, &err), &err);
    long grown = max_rss_kib() - before;
    print_message("1M entries: %llu bytes in %llu pieces, max RSS +%ld KiB\n",
                  (unsigned long long)ps.bytes, (unsigned long long)ps.pieces, grown);
    assert_true(grown < 20 * 1024);
    assert_int_equal(cb_shalist_count(ps.parser), n);
    assert_int_equal(c.next, n);
    assert_int_equal(ps.bytes, cb_pyjson_size(&j));
    assert_true(ps.bytes > 70 * n); /* ~72 bytes an entry never sat in memory at once */
    assert_true(ps.smallest_but_last >= CB_PYJSON_FLUSH_AT);
    assert_true(ps.largest < CB_PYJSON_FLUSH_AT + 1024);
    cb_pyjson_dispose(&j);
    cb_shalist_parser_free(ps.parser);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shalist__python_bytes_round_trip),
        cmocka_unit_test(test_shalist__pieces_of_every_size),
        cmocka_unit_test(test_shalist__unsorted_keys),
        cmocka_unit_test(test_shalist__corrupt_documents),
        cmocka_unit_test(test_shalist__callback_error_is_sticky),
        cmocka_unit_test(test_shalist__million_entries_flat_memory),
    };
    return cmocka_run_group_tests_name("sha256file parser", tests, NULL, NULL);
}
