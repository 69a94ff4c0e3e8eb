/* SPDX-License-Identifier: Apache-2.0 */
/* test_http.c: the text helpers the object stores share (only built with Swift or S3). */
#include <stdlib.h>
#include <time.h>

#include "testutil.h"
#include "store/http/http.h"

static int64_t parse(const char *s)
{
    return cb__http_parse_time(s, strlen(s));
}

static void test_http__parse_time_listing_forms(void **state)
{
    (void)state;
    assert_int_equal(parse("1970-01-01T00:00:00"), 0);
    /* Swift's listing: microseconds, no zone (UTC) */
    assert_int_equal(parse("2026-12-01T22:34:16.181720"), 1796164456);
    /* S3's ListObjectsV2: milliseconds and Z */
    assert_int_equal(parse("2026-12-01T22:34:16.181Z"), 1796164456);
    assert_int_equal(parse("2026-12-01T22:34:16Z"), 1796164456);
    assert_int_equal(parse("2026-12-01T22:34:16+00:00"), 1796164456);
    /* leap days, and century years that are (2000) and are not (2100) leap years */
    assert_int_equal(parse("2024-02-29T23:59:59"), 1709251199);
    assert_int_equal(parse("2000-03-01T00:00:00"), 951868800);
    assert_int_equal(parse("2100-03-01T00:00:00"), 4107542400);
    /* only the given length counts: the text of an XML element is not NUL-terminated */
    assert_int_equal(cb__http_parse_time("2026-12-01T22:34:16.181Z</LastModified>", 24),
                     1796164456);
}

static void test_http__parse_time_refuses(void **state)
{
    static const char *const bad[] = {
        "",
        "2026-12-01",
        "2026-12-01 22:34:16",
        "2026-13-01T00:00:00",
        "2026-02-29T00:00:00",
        "2026-04-31T00:00:00",
        "2026-12-01T24:00:00",
        "2026-12-01T22:34:16.",
        "2026-12-01T22:34:16+01:00",
        "2026-12-01T22:34:16Zjunk",
        "1969-12-31T23:59:59",
        "20261201T223416Z",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i]) != -1)
            print_error("'%s' parsed as %lld\n", bad[i], (long long)parse(bad[i]));
        assert_int_equal(parse(bad[i]), -1);
    }
    assert_int_equal(cb__http_parse_time(NULL, 0), -1);
    assert_int_equal(cb__http_parse_time("2026-12-01T22:34:16", 18), -1);
}

/* Percent-encoding keeps RFC 3986's unreserved characters and writes the rest in upper case
 * (the S3 signature covers the encoded path, so the case matters). */
static void test_http__escape(void **state)
{
    cb_buf b = CB_BUF_INIT;
    cb_error err = { 0 };
    (void)state;
    assert_cb_ok(cb__http_escape(&b, "a b/\xc3\xbc~%-_.Z9", 0, &err), &err);
    assert_string_equal(b.data, "a%20b%2F%C3%BC~%25-_.Z9");
    cb_buf_reset(&b);
    assert_cb_ok(cb__http_escape(&b, "dir/obj\x7f\x01", 1, &err), &err);
    assert_string_equal(b.data, "dir/obj%7F%01");
    cb_buf_dispose(&b);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A request libcurl refuses (a URL longer than its 8 MB limit) fails at once with CB_EINVAL:
 * both retry loops used to try it three times, sleeping between, and report CB_ENET. */
static void test_http__refused_request_not_retried(void **state)
{
    cb_store_opts opts = CB_STORE_OPTS_INIT;
    cb_error err = { 0 };
    cb_http *h = NULL;
    size_t n = 9u << 20;
    (void)state;
    opts.retries = 3;
    opts.retry_backoff = 1.0;
    assert_cb_ok(cb__http_new(&h, "test", &opts, &err), &err);
    char *url = malloc(n + 1);
    assert_non_null(url);
    memcpy(url, "http://127.0.0.1/", 17);
    memset(url + 17, 'a', n - 17);
    url[n] = '\0';
    for (int get = 0; get < 2; get++) {
        cb_http_resp resp = CB_HTTP_RESP_INIT;
        cb_http_get g = { .h = h, .req = CB_HTTP_REQ_INIT };
        cb_http_req req = CB_HTTP_REQ_INIT;
        cb_error_clear(&err);
        double t0 = now();
        if (get) {
            g.req.url = strdup(url);
            g.req.what = "a long GET";
            assert_int_equal(cb__http_get_open(&g, &err), CB_EINVAL);
            cb__http_get_dispose(&g);
        } else {
            req.url = strdup(url);
            req.what = "a long request";
            assert_int_equal(cb__http_call(h, &req, NULL, NULL, NULL, &resp, &err), CB_EINVAL);
            cb__http_req_dispose(&req);
            cb__http_resp_dispose(&resp);
        }
        assert_cb_error(&err, CB_EINVAL, "libcurl refused an option");
        assert_null(strstr(err.msg, "gave up"));
        assert_true(now() - t0 < 0.5); /* no backoff: one attempt */
    }
    free(url);
    cb__http_free(h);
}

/* A failed answer puts its status in the record, next to the code it maps to; a record that
 * already holds a failure keeps it, status included (the first error wins). */
static void test_http__status_in_error(void **state)
{
    cb_store_opts opts = CB_STORE_OPTS_INIT;
    cb_error err = { 0 };
    cb_http *h = NULL;
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    (void)state;
    assert_cb_ok(cb__http_new(&h, "test", &opts, &err), &err);
    req.url = strdup("http://user:secret@127.0.0.1:1/c/o");
    req.what = "a test request";
    static const struct {
        long status;
        int code;
    } cases[] = { { 404, CB_ENOTFOUND }, { 401, CB_EAUTH }, { 503, CB_ENET }, { 409, CB_EHTTP } };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cb_error_clear(&err);
        resp.status = cases[i].status;
        assert_int_equal(cb__http_fail(h, &req, &resp, NULL, &err), cases[i].code);
        assert_int_equal(err.code, cases[i].code);
        assert_int_equal(err.http_status, cases[i].status);
        assert_null(strstr(err.msg, "secret"));
    }
    /* the first error wins, whole */
    cb_error_clear(&err);
    assert_int_equal(err.http_status, 0);
    cb_error_set(&err, CB_EIO, "a local failure first");
    resp.status = 404;
    assert_int_equal(cb__http_fail(h, &req, &resp, NULL, &err), CB_ENOTFOUND);
    assert_cb_error(&err, CB_EIO, "a local failure first");
    assert_int_equal(err.http_status, 0);
    /* and a failure without an answer has none */
    cb_error_clear(&err);
    assert_int_equal(cb__http_error(&err, CB_ECORRUPT, 412, "changed"), CB_ECORRUPT);
    assert_int_equal(err.http_status, 412);
    cb_error_clear(&err);
    cb_error_set(&err, CB_ENET, "no answer");
    assert_int_equal(err.http_status, 0);
    cb__http_req_dispose(&req);
    cb__http_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http__parse_time_listing_forms),
        cmocka_unit_test(test_http__parse_time_refuses),
        cmocka_unit_test(test_http__escape),
        cmocka_unit_test(test_http__refused_request_not_retried),
        cmocka_unit_test(test_http__status_in_error),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
