/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3_internal.h: shared by the S3 store's files: s3.c (buckets, readers, settings, the ops
 * table), s3_request.c (requests, their failures,
 * bucket names), s3_list.c (listings), s3_writer.c
 * (uploads, multipart), s3_sign.c (SigV4) and s3_xml.c (the XML answers, parsed with expat).
 */
#ifndef CB_STORE_S3_INTERNAL_H
#define CB_STORE_S3_INTERNAL_H

#include "../http/http.h"
#include "../../util/util.h"

typedef struct s3_state {
    cb_http *h;
    char *bucket;        /* the default bucket (from the URL) */
    char *scheme;        /* "http" or "https" */
    char *host;          /* host[:port] of the endpoint */
    char *base_path;     /* the endpoint's path, "" or "/something" */
    char *region;        /* SigV4 region */
    char *access_key;    /* AWS_ACCESS_KEY_ID */
    char *secret_key;    /* AWS_SECRET_ACCESS_KEY */
    char *session_token; /* AWS_SESSION_TOKEN, or NULL */
    int virtual_host;    /* 1: bucket.host/key; 0: host/bucket/key */
    int create;          /* put_container may create buckets */
    size_t part_size;    /* first multipart part size; objects up to it take one PUT */
    size_t list_page;    /* max-keys per listing request, 0: the server's default */
    char *sse_algorithm; /* SSE-C: algorithm, key (base64) and key MD5 (base64), or NULL */
    char *sse_key_b64;
    char *sse_key_md5_b64;
} s3_state;

/** The request: URL for bucket/key/query, signing, payload hash, token, SSE-C headers. */
int cb__s3_req_init(cb_http_req *req,
                    s3_state *st,
                    const char *method,
                    const char *bucket,
                    const char *key,
                    const char *query,
                    int sse,
                    cb_error *err);

/**
 * Set the request body and its x-amz-content-sha256; with md5_out, also Content-MD5 (the
 * server refuses a body that does not match it) and the MD5 itself.
 */
int cb__s3_req_body(
    cb_http_req *req, const void *body, size_t len, unsigned char *md5_out, cb_error *err);

/** Sign req (SigV4, headers; s3_sign.c): adds Host, x-amz-date and Authorization. */
int cb__s3_sign(const s3_state *st, cb_http_req *req, cb_error *err);

/** A 2xx answer. */
int cb__s3_ok(const cb_http_resp *resp);

/** Sign a request before each attempt (a cb_http_prepare_fn; payload: the s3_state). */
int cb__s3_prepare(cb_http_req *req, void *payload, cb_error *err);

/** Run a request with retries (signed before each attempt); 0 with any answer in resp. */
int cb__s3_call(s3_state *st, cb_http_req *req, cb_http_resp *resp, cb_error *err);

/** Describe a failed answer (the XML error's Code and Message) into err. */
int cb__s3_fail(s3_state *st, const cb_http_req *req, const cb_http_resp *resp, cb_error *err);

/** One request without a body (signed, retried); its answer in resp, whatever the status. */
int cb__s3_simple(s3_state *st,
                  const char *method,
                  const char *bucket,
                  const char *key,
                  const char *query,
                  const char *what,
                  cb_http_req *req,
                  cb_http_resp *resp,
                  cb_error *err);

/* ---- listings (s3_list.c) ---- */

/* One listing as its pages are parsed: names to `fn` (the element at name_path), or with
 * `entry_fn` each <Contents>'s Key, Size and LastModified; whether another page follows and
 * its token. Zero it, set the callbacks and name_path, size = mtime = -1; dispose `token`
 * and `key` with cb_buf_dispose. */
typedef struct s3_page {
    cb_list_fn fn;
    cb_entry_fn entry_fn; /* list_entries: called instead of fn at the end of each Contents */
    void *payload;
    const char *name_path; /* element holding a name */
    int truncated;
    cb_buf token; /* NextContinuationToken */
    cb_buf key;   /* entry_fn: the Key, Size and LastModified of the current Contents */
    int64_t size, mtime;
} s3_page;

/* Parse one page into `page`: 0, a callback's non-zero result, or a cb_status. */
int cb__s3_page_parse(s3_page *page, const char *doc, size_t len, cb_error *err);

/** CB_EINVAL for a bucket name S3 would refuse. */
int cb__s3_check_bucket(const char *bucket, cb_error *err);

/** MD5 (hex and base64) of a buffer. */
void cb__s3_md5(const void *data, size_t len, unsigned char raw[16], char hex[33], char b64[25]);

/* ---- XML ---- */

/**
 * Called at the end of each element with its path from the root ("Error/Code") and text.
 * @return 0 to go on, anything else stops the parse and is returned.
 */
typedef int (*cb_s3_xml_fn)(const char *path, const char *text, size_t len, void *payload);

/** Parse an XML document (no DTD, no entities beyond the predefined ones). */
int cb__s3_xml_parse(const char *doc, size_t len, cb_s3_xml_fn fn, void *payload, cb_error *err);

/** The Code and Message of an <Error> document ("" when absent). */
void cb__s3_xml_error(
    const char *doc, size_t len, char *code, size_t code_cap, char *msg, size_t msg_cap);

/** The text of the element at `path`, or "" (first occurrence). */
void cb__s3_xml_find(const char *doc, size_t len, const char *path, char *out, size_t cap);

/* ---- writer (s3_writer.c) ---- */

/** flags: CB_WRITE_EXCLUSIVE is honoured (If-None-Match: *), the others are ignored. */
int cb__s3_open_writer(s3_state *st,
                       const char *bucket,
                       const char *key,
                       unsigned int flags,
                       cb_writer **out,
                       cb_error *err);

/* ---- listings (s3_list.c) ---- */

int cb__s3_list(void *state,
                const char *bucket,
                const char *prefix,
                unsigned int flags,
                cb_list_fn fn,
                void *payload,
                cb_error *err);
int cb__s3_list_entries(void *state,
                        const char *bucket,
                        const char *prefix,
                        unsigned int flags,
                        cb_entry_fn fn,
                        void *payload,
                        cb_error *err);
int cb__s3_list_containers(
    void *state, unsigned int flags, cb_list_fn fn, void *payload, cb_error *err);

#endif
