/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_text.c: requests, responses and their headers, and the text helpers the object
 * stores share (escaping, redacted URLs, sizes, times, base64).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "http.h"
#include "../../util/util.h"

/* ---- requests and responses ---- */

void cb__http_req_dispose(cb_http_req *req)
{
    free(req->url);
    req->url = NULL;
    curl_slist_free_all(req->headers);
    req->headers = NULL;
}

int cb__http_req_header(cb_http_req *req, cb_error *err, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line))
        return cb_error_set(err, CB_EINVAL, "%s: a request header is too long", req->what);
    struct curl_slist *l = curl_slist_append(req->headers, line);
    if (l == NULL)
        return cb_error_set(err, CB_ENOMEM, "out of memory (request header)");
    req->headers = l;
    return 0;
}

void cb__http_req_drop_header(cb_http_req *req, const char *name)
{
    size_t n = strlen(name);
    struct curl_slist *keep = NULL;
    for (struct curl_slist *l = req->headers; l != NULL; l = l->next) {
        if (strncasecmp(l->data, name, n) == 0 && l->data[n] == ':')
            continue;
        struct curl_slist *k = curl_slist_append(keep, l->data);
        if (k == NULL) /* out of memory: keep the old list rather than lose headers */
            break;
        keep = k;
    }
    curl_slist_free_all(req->headers);
    req->headers = keep;
}

void cb__http_resp_reset(cb_http_resp *resp)
{
    resp->status = 0;
    resp->retry_after = 0;
    cb_buf_reset(&resp->headers);
    cb_buf_reset(&resp->body);
}

void cb__http_resp_dispose(cb_http_resp *resp)
{
    cb_buf_dispose(&resp->headers);
    cb_buf_dispose(&resp->body);
    resp->status = 0;
}

int cb__http_resp_header(const cb_http_resp *resp, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    const char *p = resp->headers.data;
    if (cap > 0)
        out[0] = '\0';
    while (p != NULL && *p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            const char *end = p + len;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && isspace((unsigned char)end[-1]))
                end--;
            size_t vlen = (size_t)(end - v);
            if (vlen >= cap)
                vlen = cap - 1;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return 0;
        }
        p = eol ? eol + 1 : NULL;
    }
    return CB_ENOTFOUND;
}

/* ---- text helpers ---- */

int cb__http_buf_append(cb_buf *b, const void *data, size_t len, size_t limit, cb_error *err)
{
    size_t need = b->len + len + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        if (cap > limit + 1)
            cap = limit + 1;
        if (cap < need)
            cap = need;
        char *p = cb__realloc(b->data, cap, err);
        if (p == NULL)
            return CB_ENOMEM;
        b->data = p;
        b->cap = cap;
    }
    return cb_buf_put(b, data, len, err);
}

int cb__http_escape(cb_buf *b, const char *s, int keep_slash, cb_error *err)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int plain = isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
                    (keep_slash && *p == '/');
        char enc[3] = { '%' };
        cb__hex_digits(enc + 1, p, 1, 1);
        int rc = plain ? cb_buf_putc(b, (char)*p, err) : cb_buf_put(b, enc, 3, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void cb__http_redact_url(char *out, size_t cap, const char *url)
{
    const char *scheme = url ? strstr(url, "://") : NULL;
    if (url == NULL) {
        snprintf(out, cap, "(no URL)");
        return;
    }
    if (scheme != NULL) {
        const char *host = scheme + 3;
        size_t auth_end = strcspn(host, "/?#");
        const char *at = memchr(host, '@', auth_end);
        if (at != NULL) {
            snprintf(out, cap, "%.*s***@%s", (int)(host - url), url, at + 1);
            return;
        }
    }
    snprintf(out, cap, "%s", url);
}

int64_t cb__http_parse_size(const char *s)
{
    char *end;
    if (s == NULL || !isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    int shift = 0;
    switch (tolower((unsigned char)*end)) {
    case 'k':
        shift = 10;
        break;
    case 'm':
        shift = 20;
        break;
    case 'g':
        shift = 30;
        break;
    case '\0':
        break;
    default:
        return -1;
    }
    if (*end != '\0' && end[1] != '\0' && !(tolower((unsigned char)end[1]) == 'b' && !end[2]) &&
        !(tolower((unsigned char)end[1]) == 'i' && tolower((unsigned char)end[2]) == 'b' &&
          !end[3]))
        return -1;
    if (errno != 0 || v > (1ULL << (62 - shift)))
        return -1;
    return (int64_t)(v << shift);
}

/* n decimal digits at *p (advanced past them); -1 if any is not a digit */
static int http_digits(const char **p, const char *end, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (*p >= end || !isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

static int http_expect(const char **p, const char *end, char c)
{
    if (*p >= end || **p != c)
        return -1;
    (*p)++;
    return 0;
}

/* Days from 1970-01-01 to y-m-d (y >= 1970): timegm() is not POSIX, so count them here. */
static int64_t http_days(int y, int m, int d)
{
    static const int before[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int64_t leaps =
        (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400 - (1969 / 4 - 1969 / 100 + 1969 / 400);
    return (int64_t)365 * (y - 1970) + leaps + before[m - 1] + (m > 2 && leap) + d - 1;
}

int64_t cb__http_parse_time(const char *s, size_t len)
{
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    const char *p = s, *end = s + len;
    int y, mo, d, h, mi, sec;
    if (s == NULL || (y = http_digits(&p, end, 4)) < 1970 || http_expect(&p, end, '-') < 0 ||
        (mo = http_digits(&p, end, 2)) < 1 || mo > 12 || http_expect(&p, end, '-') < 0 ||
        (d = http_digits(&p, end, 2)) < 1 || d > mdays[mo - 1] || http_expect(&p, end, 'T') < 0 ||
        (h = http_digits(&p, end, 2)) < 0 || h > 23 || http_expect(&p, end, ':') < 0 ||
        (mi = http_digits(&p, end, 2)) < 0 || mi > 59 || http_expect(&p, end, ':') < 0 ||
        (sec = http_digits(&p, end, 2)) < 0 || sec > 60)
        return -1;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return -1;
    if (p < end && *p == '.') {
        const char *frac = ++p;
        while (p < end && isdigit((unsigned char)*p))
            p++;
        if (p == frac)
            return -1;
    }
    if (p < end && *p == 'Z')
        p++;
    else if ((size_t)(end - p) == 6 && memcmp(p, "+00:00", 6) == 0)
        p = end;
    if (p != end)
        return -1;
    return http_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
}

void cb__http_base64(char *out, const unsigned char *in, size_t n)
{
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

int cb__http_list_page(const cb_store_opts *opts, const char *store, size_t *out, cb_error *err)
{
    const char *v = cb_store_getenv(opts, "CINDERBLOCK_LIST_PAGE");
    *out = 0;
    if (v == NULL || v[0] == '\0')
        return 0;
    int64_t n = cb__http_parse_size(v);
    if (n < 0 || n > 100000)
        return cb_error_set(err, CB_EINVAL,
                            "%s store: CINDERBLOCK_LIST_PAGE='%s' is not a count up to 100000",
                            store, v);
    *out = (size_t)n;
    return 0;
}
