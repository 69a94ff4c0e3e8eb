/* SPDX-License-Identifier: Apache-2.0 */
/* s3_request.c: the S3 store's requests: URLs (path or virtual-host style), the headers every
 * request carries (payload hash, session token, SSE-C), retries with a signature per attempt,
 * failed answers described from S3's XML error, and the bucket names S3 accepts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "s3_internal.h"

#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

int cb__s3_ok(const cb_http_resp *resp)
{
    return resp->status >= 200 && resp->status < 300;
}

/* ---- requests ---- */

void cb__s3_md5(const void *data, size_t len, unsigned char raw[16], char hex[33], char b64[25])
{
    unsigned int n = 0;
    EVP_Digest(data, len, raw, &n, EVP_md5(), NULL);
    cb__hex(hex, raw, 16);
    cb__http_base64(b64, raw, 16);
}

static int s3_url(cb_buf *u, const s3_state *st, const char *bucket, const char *key, cb_error *err)
{
    int rc;
    if (bucket != NULL && st->virtual_host)
        rc = cb_buf_printf(u, err, "%s://%s.%s%s/", st->scheme, bucket, st->host, st->base_path);
    else
        rc = cb_buf_printf(u, err, "%s://%s%s/", st->scheme, st->host, st->base_path);
    if (rc == 0 && bucket != NULL && !st->virtual_host)
        rc = cb__http_escape(u, bucket, 0, err);
    if (rc == 0 && bucket != NULL && key != NULL && !st->virtual_host)
        rc = cb_buf_putc(u, '/', err);
    if (rc == 0 && key != NULL)
        rc = cb__http_escape(u, key, 1, err);
    return rc;
}

int cb__s3_req_init(cb_http_req *req,
                    s3_state *st,
                    const char *method,
                    const char *bucket,
                    const char *key,
                    const char *query,
                    int sse,
                    cb_error *err)
{
    cb_buf u = CB_BUF_INIT;
    int rc;
    req->method = method;
    if ((rc = s3_url(&u, st, bucket, key, err)) == 0 && query != NULL && query[0] != '\0' &&
        (rc = cb_buf_putc(&u, '?', err)) == 0)
        rc = cb_buf_puts(&u, query, err);
    if (rc < 0) {
        cb_buf_dispose(&u);
        return rc;
    }
    free(req->url);
    req->url = cb_buf_detach(&u);
    if (st->session_token != NULL &&
        (rc = cb__http_req_header(req, err, "x-amz-security-token: %s", st->session_token)) < 0)
        return rc;
    if (sse && st->sse_key_b64 != NULL &&
        ((rc = cb__http_req_header(req, err, "x-amz-server-side-encryption-customer-algorithm: %s",
                                   st->sse_algorithm)) < 0 ||
         (rc = cb__http_req_header(req, err, "x-amz-server-side-encryption-customer-key: %s",
                                   st->sse_key_b64)) < 0 ||
         (rc = cb__http_req_header(req, err, "x-amz-server-side-encryption-customer-key-MD5: %s",
                                   st->sse_key_md5_b64)) < 0))
        return rc;
    /* replaced by cb__s3_req_body when there is a body */
    return cb__http_req_header(req, err, "x-amz-content-sha256: " S3_EMPTY_SHA256);
}

int cb__s3_req_body(
    cb_http_req *req, const void *body, size_t len, unsigned char *md5_out, cb_error *err)
{
    unsigned char sha[32];
    char sha_hex[65], md5_hex[33], md5_b64[25];
    unsigned int n = 0;
    int rc;
    EVP_Digest(body ? body : "", len, sha, &n, EVP_sha256(), NULL);
    cb__hex(sha_hex, sha, 32);
    req->body = body ? body : "";
    req->body_len = len;
    req->has_body = 1;
    cb__http_req_drop_header(req, "x-amz-content-sha256");
    if ((rc = cb__http_req_header(req, err, "x-amz-content-sha256: %s", sha_hex)) < 0)
        return rc;
    if (md5_out == NULL)
        return 0;
    cb__s3_md5(body ? body : "", len, md5_out, md5_hex, md5_b64);
    return cb__http_req_header(req, err, "Content-MD5: %s", md5_b64);
}

/* Signed again before every attempt: a retry gets a fresh x-amz-date. */
int cb__s3_prepare(cb_http_req *req, void *payload, cb_error *err)
{
    return cb__s3_sign(payload, req, err);
}

int cb__s3_call(s3_state *st, cb_http_req *req, cb_http_resp *resp, cb_error *err)
{
    return cb__http_call(st->h, req, cb__s3_prepare, NULL, st, resp, err);
}

int cb__s3_fail(s3_state *st, const cb_http_req *req, const cb_http_resp *resp, cb_error *err)
{
    char code[128], msg[300], detail[600];
    cb__s3_xml_error(resp->body.data, resp->body.len, code, sizeof(code), msg, sizeof(msg));
    snprintf(detail, sizeof(detail), "%s%s%s", code, code[0] && msg[0] ? ": " : "", msg);
    if (strcmp(code, "SignatureDoesNotMatch") == 0 || strcmp(code, "InvalidAccessKeyId") == 0 ||
        (resp->status == 403 && strcmp(req->method, "HEAD") == 0))
        snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
                 "%scheck AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION ('%s')",
                 detail[0] ? "; " : "", st->region);
    else if (resp->status == 501 && st->sse_key_b64 != NULL)
        snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
                 "%sthe server may not support SSE-C (CINDERBLOCK_S3_SSE_C_KEY)",
                 detail[0] ? "; " : "");
    else if (resp->status == 301)
        snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
                 "%sthe bucket is in another region than AWS_REGION ('%s')", detail[0] ? "; " : "",
                 st->region);
    return cb__http_fail(st->h, req, resp, detail, err);
}

/* One request without a body; status in resp. */
int cb__s3_simple(s3_state *st,
                  const char *method,
                  const char *bucket,
                  const char *key,
                  const char *query,
                  const char *what,
                  cb_http_req *req,
                  cb_http_resp *resp,
                  cb_error *err)
{
    int rc;
    req->what = what;
    if ((rc = cb__s3_req_init(req, st, method, bucket, key, query, 0, err)) < 0)
        return rc;
    return cb__s3_call(st, req, resp, err);
}

int cb__s3_check_bucket(const char *b, cb_error *err)
{
    size_t n = strlen(b);
    int ok = n >= 3 && n <= 63;
    for (size_t i = 0; ok && i < n; i++)
        ok = (b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-' ||
             b[i] == '.';
    if (!ok)
        return cb_error_set(err, CB_EINVAL,
                            "s3 store: bucket name '%s' is not valid (3 to 63 lowercase letters, "
                            "digits, '-' and '.')",
                            b);
    return 0;
}
