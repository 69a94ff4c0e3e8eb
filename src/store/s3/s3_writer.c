/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3_writer.c: S3 uploads. An object is collected one part at a time (8 MiB by default).
 * If it ends within the first part it is sent with one PUT; otherwise a multipart upload
 * begins and every full part is uploaded as soon as the next byte arrives. Each request
 * carries the body's SHA-256 (x-amz-content-sha256) and MD5 (Content-MD5), and each part is
 * kept in memory until the server took it, so every request can be retried: memory per
 * writer is one part. Part sizes double every S3_PARTS_PER_STEP parts, so that Swift's s3api
 * limit of 1000 parts still covers about 49 GiB (AWS allows 10000 parts).
 *
 * The ETag of a single PUT must be the MD5 of the body and that of a multipart upload
 * "<MD5 of the parts' MD5s>-<parts>", unless SSE-C is on (then S3's ETags are not MD5s and
 * Content-MD5 is the check). An abandoned multipart upload is aborted.
 *
 * A create-only writer (CB_WRITE_EXCLUSIVE) sends its single PUT with `If-None-Match: *`
 * (signed like every header): 412 means the name is taken (CB_EEXISTS). Swift's s3api refuses
 * the header with 501 NotImplemented before writing anything (CB_ENOTSUPP). Such a writer
 * never becomes a multipart upload: AWS honours If-None-Match on CompleteMultipartUpload, but
 * s3api ignores it there and would replace the object, so a create-only object larger than
 * one part is refused (CB_ENOTSUPP) at the write that would start the upload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "s3_internal.h"
#include "../../util/util.h"

#define S3_PARTS_PER_STEP 200
#define S3_MAX_PART ((size_t)1 << 30)

typedef struct s3_writer {
    cb_writer base;
    s3_state *st;
    char *bucket, *key;
    char what[600];
    cb_buf part;          /* the part being filled */
    size_t part_max;      /* its size */
    char *upload_id;      /* the multipart upload, once begun */
    cb_buf parts_xml;     /* <Part> entries for CompleteMultipartUpload */
    unsigned n_parts;     /* parts uploaded */
    EVP_MD_CTX *etag_md5; /* over the parts' binary MD5s: the multipart ETag */
    uint64_t total;       /* bytes written */
    int completed;        /* the multipart upload was completed (nothing to abort) */
    int exclusive;        /* CB_WRITE_EXCLUSIVE: one PUT with If-None-Match: * */
} s3_writer;

/* The ETag of an answer without its quotes. */
static void s3w_etag(const cb_http_resp *resp, char *out, size_t cap)
{
    cb__http_resp_header(resp, "etag", out, cap);
    size_t n = strlen(out);
    if (n >= 2 && out[0] == '"' && out[n - 1] == '"') {
        memmove(out, out + 1, n - 2);
        out[n - 2] = '\0';
    }
}

static int
s3w_etag_check(s3_writer *w, const char *got, const char *want, const char *of, cb_error *err)
{
    if (w->st->sse_key_b64 != NULL || strcmp(got, want) == 0)
        return 0; /* with SSE-C, S3's ETag is not an MD5: Content-MD5 did the check */
    return cb_error_set(err, CB_ECORRUPT,
                        "s3 store: %s: the server's ETag '%s' for %s is not the MD5 of the bytes "
                        "sent (%s)",
                        w->what, got, of, want);
}

static char *s3w_upload_query(const s3_writer *w, unsigned part, cb_error *err)
{
    cb_buf q = CB_BUF_INIT;
    int rc = part ? cb_buf_printf(&q, err, "partNumber=%u&uploadId=", part)
                  : cb_buf_puts(&q, "uploadId=", err);
    if (rc == 0 && cb__http_escape(&q, w->upload_id, 0, err) == 0)
        return cb_buf_detach(&q);
    cb_buf_dispose(&q);
    return NULL;
}

/* The answer to a create-only PUT that is not a success. */
static int
s3w_fail_exclusive(s3_writer *w, const cb_http_req *req, const cb_http_resp *resp, cb_error *err)
{
    char code[128], msg[300];
    if (resp->status == 412)
        return cb__http_error(err, CB_EEXISTS, 412,
                              "s3 store: object '%s' already exists in bucket '%s' (HTTP 412 to a "
                              "create-only upload; it was left as it was)",
                              w->key, w->bucket);
    if (resp->status != 501)
        return cb__s3_fail(w->st, req, resp, err);
    cb__s3_xml_error(resp->body.data, resp->body.len, code, sizeof(code), msg, sizeof(msg));
    return cb__http_error(
        err, CB_ENOTSUPP, 501,
        "s3 store: the server does not support create-only writes (If-None-Match), "
        "so nothing was written: %s: HTTP 501%s%s%s%s",
        w->what, code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
}

/* A request with the part (or a given body) and the answer; MD5 of the body in md5.
 * if_none_match: a create-only PUT. */
static int s3w_send(s3_writer *w,
                    const char *method,
                    const char *query,
                    int sse,
                    int if_none_match,
                    const char *content_type,
                    const void *body,
                    size_t len,
                    unsigned char md5[16],
                    cb_http_resp *resp,
                    cb_error *err)
{
    cb_http_req req = CB_HTTP_REQ_INIT;
    int rc;
    req.what = w->what;
    if ((rc = cb__s3_req_init(&req, w->st, method, w->bucket, w->key, query, sse, err)) == 0 &&
        (content_type == NULL ||
         (rc = cb__http_req_header(&req, err, "Content-Type: %s", content_type)) == 0) &&
        (!if_none_match || (rc = cb__http_req_header(&req, err, "If-None-Match: *")) == 0) &&
        (rc = cb__s3_req_body(&req, body, len, md5, err)) == 0 &&
        (rc = cb__s3_call(w->st, &req, resp, err)) == 0 &&
        (resp->status < 200 || resp->status >= 300))
        rc = if_none_match ? s3w_fail_exclusive(w, &req, resp, err)
                           : cb__s3_fail(w->st, &req, resp, err);
    cb__http_req_dispose(&req);
    return rc;
}

static int s3w_initiate(s3_writer *w, cb_error *err)
{
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    unsigned char md5[16];
    char id[1024];
    int rc =
        s3w_send(w, "POST", "uploads=", 1, 0, "application/octet-stream", NULL, 0, md5, &resp, err);
    if (rc == 0) {
        cb__s3_xml_find(resp.body.data, resp.body.len, "InitiateMultipartUploadResult/UploadId", id,
                        sizeof(id));
        if (id[0] == '\0')
            rc = cb_error_set(err, CB_EHTTP, "s3 store: %s: the server started no multipart upload",
                              w->what);
        else if ((w->upload_id = cb__strdup(id, err)) == NULL)
            rc = CB_ENOMEM;
    }
    cb__http_resp_dispose(&resp);
    return rc;
}

/* Upload the full part held in w->part; it then starts over, maybe larger. */
static int s3w_flush_part(s3_writer *w, cb_error *err)
{
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    unsigned char md5[16];
    char hex[33], etag[128], of[32];
    char *q = NULL;
    int rc;
    if (w->upload_id == NULL && w->exclusive)
        return cb_error_set(err, CB_ENOTSUPP,
                            "s3 store: %s: a create-only write larger than one part (%zu bytes, "
                            "CINDERBLOCK_S3_PART_SIZE) is not supported (servers differ in whether "
                            "a multipart upload honours If-None-Match); nothing was written",
                            w->what, w->part_max);
    if (w->upload_id == NULL && (rc = s3w_initiate(w, err)) < 0)
        return rc;
    unsigned part = w->n_parts + 1;
    if ((q = s3w_upload_query(w, part, err)) == NULL)
        return CB_ENOMEM;
    rc = s3w_send(w, "PUT", q, 1, 0, NULL, w->part.data, w->part.len, md5, &resp, err);
    free(q);
    if (rc == 0) {
        cb__hex(hex, md5, 16);
        s3w_etag(&resp, etag, sizeof(etag));
        snprintf(of, sizeof(of), "part %u", part);
        rc = s3w_etag_check(w, etag, hex, of, err);
    }
    if (rc == 0)
        rc = cb_buf_printf(&w->parts_xml, err,
                           "<Part><PartNumber>%u</PartNumber><ETag>\"%s\"</ETag></Part>", part,
                           etag[0] ? etag : hex);
    cb__http_resp_dispose(&resp);
    if (rc < 0)
        return rc;
    EVP_DigestUpdate(w->etag_md5, md5, 16);
    w->n_parts = part;
    cb_buf_reset(&w->part);
    if (part % S3_PARTS_PER_STEP == 0 && w->part_max < S3_MAX_PART) {
        w->part_max *= 2;
        cb_buf_dispose(&w->part); /* the next one is larger */
    }
    return 0;
}

static int s3w_write(cb_writer *base, const void *buf, size_t len, cb_error *err)
{
    s3_writer *w = (s3_writer *)base;
    const char *p = buf;
    int rc;
    while (len > 0) {
        /* a full part goes out only once more data comes: an object of exactly one part
         * size still takes a single PUT */
        if (w->part.len == w->part_max && (rc = s3w_flush_part(w, err)) < 0)
            return rc;
        size_t n = w->part_max - w->part.len < len ? w->part_max - w->part.len : len;
        if ((rc = cb__http_buf_append(&w->part, p, n, w->part_max, err)) < 0)
            return rc;
        p += n;
        len -= n;
        w->total += n;
    }
    return 0;
}

static int s3w_put_single(s3_writer *w, cb_error *err)
{
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    unsigned char md5[16];
    char hex[33], etag[128];
    int rc = s3w_send(w, "PUT", NULL, 1, w->exclusive, "application/octet-stream", w->part.data,
                      w->part.len, md5, &resp, err);
    if (rc == 0) {
        cb__hex(hex, md5, 16);
        s3w_etag(&resp, etag, sizeof(etag));
        rc = s3w_etag_check(w, etag, hex, "the object", err);
    }
    cb__http_resp_dispose(&resp);
    return rc;
}

static int s3w_complete(s3_writer *w, cb_error *err)
{
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    unsigned char md5[16], all[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char want[48], got[128], code[128], msg[300];
    cb_buf body = CB_BUF_INIT;
    char *q = s3w_upload_query(w, 0, err);
    int rc = q ? 0 : CB_ENOMEM;
    if (rc == 0)
        rc = cb_buf_printf(&body, err, "<CompleteMultipartUpload>%s</CompleteMultipartUpload>",
                           w->parts_xml.data);
    if (rc == 0)
        rc = s3w_send(w, "POST", q, 0, 0, "application/xml", body.data, body.len, md5, &resp, err);
    if (rc == 0) {
        /* S3 may answer 200 and still report an error in the body */
        cb__s3_xml_error(resp.body.data, resp.body.len, code, sizeof(code), msg, sizeof(msg));
        if (code[0] != '\0')
            rc = cb_error_set(err, CB_EHTTP, "s3 store: %s: completing the upload failed: %s: %s",
                              w->what, code, msg);
    }
    if (rc == 0) {
        w->completed = 1;
        EVP_DigestFinal_ex(w->etag_md5, all, &n);
        char hex[33];
        cb__hex(hex, all, 16);
        snprintf(want, sizeof(want), "%s-%u", hex, w->n_parts);
        cb__s3_xml_find(resp.body.data, resp.body.len, "CompleteMultipartUploadResult/ETag", got,
                        sizeof(got));
        size_t len = strlen(got);
        if (len >= 2 && got[0] == '"' && got[len - 1] == '"') {
            memmove(got, got + 1, len - 2);
            got[len - 2] = '\0';
        }
        if (got[0] != '\0')
            rc = s3w_etag_check(w, got, want, "the whole object", err);
    }
    free(q);
    cb_buf_dispose(&body);
    cb__http_resp_dispose(&resp);
    return rc;
}

static int s3w_close(cb_writer *base, cb_error *err)
{
    s3_writer *w = (s3_writer *)base;
    int rc;
    if (w->upload_id == NULL)
        return s3w_put_single(w, err);
    if ((rc = s3w_flush_part(w, err)) < 0)
        return rc;
    return s3w_complete(w, err);
}

static void s3w_abort(s3_writer *w)
{
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    char *q = s3w_upload_query(w, 0, NULL);
    req.what = w->what;
    /* best effort: an upload left behind costs space but is never visible as an object */
    if (q != NULL && cb__s3_req_init(&req, w->st, "DELETE", w->bucket, w->key, q, 0, NULL) == 0 &&
        cb__s3_call(w->st, &req, &resp, NULL) == 0)
        cb__http_trace(w->st->h, "aborted the multipart upload of '%s': HTTP %ld", w->key,
                       resp.status);
    free(q);
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
}

static void s3w_free(cb_writer *base)
{
    s3_writer *w = (s3_writer *)base;
    if (w->upload_id != NULL && !w->completed)
        s3w_abort(w);
    cb_buf_dispose(&w->part);
    cb_buf_dispose(&w->parts_xml);
    EVP_MD_CTX_free(w->etag_md5);
    free(w->upload_id);
    free(w->bucket);
    free(w->key);
    free(w);
}

static const cb_writer_ops s3_writer_ops = {
    CB_WRITER_OPS_INIT,
    .write = s3w_write,
    .close = s3w_close,
    .free = s3w_free,
};

int cb__s3_open_writer(s3_state *st,
                       const char *bucket,
                       const char *key,
                       unsigned int flags,
                       cb_writer **out,
                       cb_error *err)
{
    s3_writer *w = cb__calloc(1, sizeof(*w), err);
    if (w == NULL)
        return CB_ENOMEM;
    w->base.ops = &s3_writer_ops;
    w->st = st;
    w->part_max = st->part_size;
    w->exclusive = (flags & CB_WRITE_EXCLUSIVE) != 0;
    w->bucket = cb__strdup(bucket, err);
    w->key = cb__strdup(key, err);
    w->etag_md5 = EVP_MD_CTX_new();
    if (w->bucket == NULL || w->key == NULL || w->etag_md5 == NULL ||
        !EVP_DigestInit_ex(w->etag_md5, EVP_md5(), NULL) ||
        cb_buf_puts(&w->parts_xml, "", err) < 0) {
        s3w_free(&w->base);
        return cb_error_set(err, CB_ENOMEM, "out of memory (s3 writer)");
    }
    snprintf(w->what, sizeof(w->what), "upload of '%s' to bucket '%s'", key, bucket);
    *out = &w->base;
    return 0;
}
