/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3_sign.c: AWS Signature Version 4 for S3 requests (header authorisation), with
 * OpenSSL's HMAC-SHA256.
 *
 * Why not libcurl's CURLOPT_AWS_SIGV4: in libcurl 7.88 (Debian 12) it sorts the canonical
 * headers by whole "name:value" lines instead of by name, so the SSE-C headers
 * (...-customer-key and ...-customer-key-MD5) are signed in the wrong order and every SSE-C
 * request fails with SignatureDoesNotMatch; it also signs the query string as sent. Signing
 * here covers exactly the headers we send, in SigV4's order, and is redone before every
 * attempt so that a retried request carries a fresh date.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "s3_internal.h"
#include "../../util/util.h"

#define SIGN_MAX_HEADERS 32

typedef struct sign_header {
    char name[64]; /* lowercased */
    const char *value;
    size_t value_len;
} sign_header;

static void sign_sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    cb__hex(out, md, 32);
}

static void sign_hmac(const unsigned char *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &n);
}

static int sign_header_cmp(const void *a, const void *b)
{
    return strcmp(((const sign_header *)a)->name, ((const sign_header *)b)->name);
}

/* The request's headers, lowercased and sorted by name (SigV4's canonical order). */
static int sign_collect(const cb_http_req *req, sign_header *h, size_t *n_out, cb_error *err)
{
    size_t n = 0;
    for (const struct curl_slist *l = req->headers; l != NULL; l = l->next) {
        const char *colon = strchr(l->data, ':');
        if (colon == NULL || colon == l->data)
            continue;
        size_t nlen = (size_t)(colon - l->data);
        if (n == SIGN_MAX_HEADERS || nlen >= sizeof(h[n].name))
            return cb_error_set(err, CB_EINVAL, "s3 store: too many or too long headers to sign");
        for (size_t i = 0; i < nlen; i++)
            h[n].name[i] = (char)tolower((unsigned char)l->data[i]);
        h[n].name[nlen] = '\0';
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vlen = strlen(v);
        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        h[n].value = v;
        h[n].value_len = vlen;
        n++;
    }
    qsort(h, n, sizeof(*h), sign_header_cmp);
    *n_out = n;
    return 0;
}

static int sign_param_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t xn = strcspn(x, "="), yn = strcspn(y, "=");
    int c = strncmp(x, y, xn < yn ? xn : yn);
    if (c != 0 || xn == yn)
        return c != 0 ? c : strcmp(x + xn, y + yn);
    return xn < yn ? -1 : 1; /* a name sorts before a longer name it begins */
}

/* The query with its parameters sorted by name, each with its '='. */
static int sign_query(cb_buf *out, const char *query, cb_error *err)
{
    char *copy = cb__strdup(query, err), *params[64], *save = NULL;
    size_t n = 0;
    int rc = 0;
    if (copy == NULL)
        return CB_ENOMEM;
    for (char *p = strtok_r(copy, "&", &save); p != NULL; p = strtok_r(NULL, "&", &save))
        if (n < 64)
            params[n++] = p;
    qsort(params, n, sizeof(params[0]), sign_param_cmp);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = cb_buf_printf(out, err, "%s%s%s", i ? "&" : "", params[i],
                           strchr(params[i], '=') ? "" : "=");
    }
    free(copy);
    return rc;
}

static int sign_canonical(cb_buf *c,
                          const cb_http_req *req,
                          const char *path,
                          size_t path_len,
                          const char *query,
                          const sign_header *h,
                          size_t n,
                          cb_buf *signed_names,
                          cb_error *err)
{
    const char *payload = NULL;
    int rc = cb_buf_printf(c, err, "%s\n%.*s\n", req->method, (int)path_len, path);
    if (rc == 0 && query != NULL)
        rc = sign_query(c, query, err);
    if (rc == 0)
        rc = cb_buf_putc(c, '\n', err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = cb_buf_printf(c, err, "%s:%.*s\n", h[i].name, (int)h[i].value_len, h[i].value);
        if (rc == 0)
            rc = cb_buf_printf(signed_names, err, "%s%s", i ? ";" : "", h[i].name);
        if (strcmp(h[i].name, "x-amz-content-sha256") == 0)
            payload = h[i].value;
    }
    if (rc == 0 && payload == NULL)
        return cb_error_set(err, CB_EINVAL, "s3 store: a request without x-amz-content-sha256");
    if (rc == 0)
        rc = cb_buf_printf(c, err, "\n%s\n%.64s", signed_names->data, payload);
    return rc;
}

int cb__s3_sign(const s3_state *st, cb_http_req *req, cb_error *err)
{
    sign_header h[SIGN_MAX_HEADERS];
    cb_buf canon = CB_BUF_INIT, names = CB_BUF_INIT;
    char stamp[32], date[16], hash[65], sts[512], sig[65];
    unsigned char k1[32], k2[32];
    size_t n = 0;
    struct tm tm;
    time_t now = time(NULL);
    int rc;

    const char *host = strstr(req->url, "://");
    host = host ? host + 3 : req->url;
    size_t host_len = strcspn(host, "/?");
    const char *path = host + host_len;
    size_t path_len = strcspn(path, "?");
    const char *query = path[path_len] == '?' ? path + path_len + 1 : NULL;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    strftime(date, sizeof(date), "%Y%m%d", &tm);
    cb__http_req_drop_header(req, "Authorization");
    cb__http_req_drop_header(req, "x-amz-date");
    cb__http_req_drop_header(req, "Host");
    /* Host is sent as signed, whatever libcurl would have made of a default port */
    if ((rc = cb__http_req_header(req, err, "Host: %.*s", (int)host_len, host)) < 0 ||
        (rc = cb__http_req_header(req, err, "x-amz-date: %s", stamp)) < 0 ||
        (rc = sign_collect(req, h, &n, err)) < 0 || (rc = cb_buf_puts(&names, "", err)) < 0 ||
        (rc = sign_canonical(&canon, req, path_len ? path : "/", path_len ? path_len : 1, query, h,
                             n, &names, err)) < 0)
        goto done;
    sign_sha256_hex(canon.data, canon.len, hash);
    snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s", stamp, date,
             st->region, hash);
    /* the signing key: HMAC chain over date, region, service, "aws4_request" */
    size_t slen = strlen(st->secret_key);
    unsigned char *k0 = cb__malloc(slen + 4, err);
    if (k0 == NULL) {
        rc = CB_ENOMEM;
        goto done;
    }
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, st->secret_key, slen);
    sign_hmac(k0, slen + 4, date, k1);
    memset(k0, 0, slen + 4);
    free(k0);
    sign_hmac(k1, 32, st->region, k2);
    sign_hmac(k2, 32, "s3", k1);
    sign_hmac(k1, 32, "aws4_request", k2);
    sign_hmac(k2, 32, sts, k1);
    cb__hex(sig, k1, 32);
    memset(k2, 0, sizeof(k2));
    rc = cb__http_req_header(req, err,
                             "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request, "
                             "SignedHeaders=%s, Signature=%s",
                             st->access_key, date, st->region, names.data, sig);
done:
    cb_buf_dispose(&canon);
    cb_buf_dispose(&names);
    return rc;
}
