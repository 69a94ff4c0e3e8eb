/* SPDX-License-Identifier: Apache-2.0 */
/* s3_list.c: the S3 store's listings: ListObjectsV2 pages (continuation tokens), with each
 * object's size and time for list_entries, and ListBuckets. */
#include <stdlib.h>
#include <string.h>

#include "s3_internal.h"

#define S3_LISTING_MAX (32u << 20)

/* ---- listings ---- */

/* The digits of a <Size>; -1 if it is not a plain number that fits. */
static int64_t s3_parse_size(const char *text, size_t len)
{
    int64_t v = 0;
    if (len == 0 || len > 18)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        v = v * 10 + (text[i] - '0');
    }
    return v;
}

/* One <Contents> of ListObjectsV2 for list_entries; its children end before it does. */
static int s3_page_entry(s3_page *p, const char *path, const char *text, size_t len)
{
    static const char contents[] = "ListBucketResult/Contents";
    size_t n = sizeof(contents) - 1;
    if (strncmp(path, contents, n) != 0 || (path[n] != '\0' && path[n] != '/'))
        return 0;
    if (strcmp(path + n, "/Key") == 0) {
        cb_buf_reset(&p->key);
        return cb_buf_put(&p->key, text, len, NULL) < 0 ? CB_ENOMEM : 0;
    }
    if (strcmp(path + n, "/Size") == 0)
        p->size = s3_parse_size(text, len);
    else if (strcmp(path + n, "/LastModified") == 0)
        p->mtime = cb__http_parse_time(text, len);
    if (path[n] != '\0' || p->key.data == NULL)
        return 0;
    cb_entry e = { .name = p->key.data, .size = p->size, .mtime = p->mtime };
    int rc = e.name[0] != '\0' ? p->entry_fn(&e, p->payload) : 0;
    cb_buf_reset(&p->key);
    p->size = p->mtime = -1;
    return rc;
}

static int s3_page_item(const char *path, const char *text, size_t len, void *payload)
{
    s3_page *p = payload;
    if (p->entry_fn != NULL) {
        int rc = s3_page_entry(p, path, text, len);
        if (rc != 0)
            return rc;
    } else if (strcmp(path, p->name_path) == 0) {
        char *name = cb__strndup(text, len, NULL);
        if (name == NULL)
            return CB_ENOMEM;
        int rc = p->fn(name, p->payload);
        free(name);
        return rc;
    }
    if (strcmp(path, "ListBucketResult/IsTruncated") == 0)
        p->truncated = len == 4 && strncmp(text, "true", 4) == 0;
    else if (strcmp(path, "ListBucketResult/NextContinuationToken") == 0) {
        cb_buf_reset(&p->token);
        return cb_buf_put(&p->token, text, len, NULL);
    }
    return 0;
}

int cb__s3_page_parse(s3_page *page, const char *doc, size_t len, cb_error *err)
{
    return cb__s3_xml_parse(doc, len, s3_page_item, page, err);
}

/* The ListObjectsV2 query, canonical: continuation-token < list-type < max-keys < prefix. */
static int
s3_list_query(cb_buf *q, const char *token, size_t page, const char *prefix, cb_error *err)
{
    int rc = 0;
    cb_buf_reset(q);
    if (token != NULL && (rc = cb_buf_puts(q, "continuation-token=", err)) == 0 &&
        (rc = cb__http_escape(q, token, 0, err)) == 0)
        rc = cb_buf_putc(q, '&', err);
    if (rc == 0)
        rc = cb_buf_puts(q, "list-type=2&", err);
    if (rc == 0 && page > 0)
        rc = cb_buf_printf(q, err, "max-keys=%zu&", page);
    if (rc == 0)
        rc = cb_buf_puts(q, "prefix=", err);
    if (rc == 0)
        rc = cb__http_escape(q, prefix, 0, err);
    return rc;
}

/* ListObjectsV2, page by page, into page->fn or page->entry_fn. */
static int
s3_listing(s3_state *st, const char *bucket, const char *prefix, s3_page *page, cb_error *err)
{
    cb_buf q = CB_BUF_INIT;
    char what[300];
    int rc;
    page->name_path = "ListBucketResult/Contents/Key";
    page->truncated = 1;
    page->size = page->mtime = -1;
    if ((rc = cb__s3_check_bucket(bucket, err)) < 0)
        return rc;
    snprintf(what, sizeof(what), "list bucket '%s'", bucket);
    for (int first = 1; rc == 0 && page->truncated; first = 0) {
        cb_http_req req = CB_HTTP_REQ_INIT;
        cb_http_resp resp = CB_HTTP_RESP_INIT;
        req.body_max = S3_LISTING_MAX;
        page->truncated = 0;
        if ((rc = s3_list_query(&q, first ? NULL : page->token.data, st->list_page, prefix, err)) ==
                0 &&
            (rc = cb__s3_simple(st, "GET", bucket, NULL, q.data, what, &req, &resp, err)) == 0) {
            if (resp.status == 404)
                rc = cb__http_error(err, CB_ENOTFOUND, 404, "s3 store: bucket '%s' does not exist",
                                    bucket);
            else if (!cb__s3_ok(&resp))
                rc = cb__s3_fail(st, &req, &resp, err);
            else if (resp.body.len >= S3_LISTING_MAX)
                rc = cb_error_set(err, CB_EHTTP, "s3 store: %s: a listing page is too large", what);
            else
                rc = cb__s3_page_parse(page, resp.body.data, resp.body.len, err);
            if (rc == 0 && page->truncated && page->token.len == 0)
                rc = cb_error_set(err, CB_EHTTP,
                                  "s3 store: %s: a truncated listing without a continuation token",
                                  what);
        }
        cb__http_resp_dispose(&resp);
        cb__http_req_dispose(&req);
    }
    cb_buf_dispose(&q);
    cb_buf_dispose(&page->token);
    cb_buf_dispose(&page->key);
    return rc;
}

int cb__s3_list(void *state,
                const char *bucket,
                const char *prefix,
                unsigned int flags,
                cb_list_fn fn,
                void *payload,
                cb_error *err)
{
    s3_page page = { .fn = fn, .payload = payload };
    (void)flags;
    return s3_listing(state, bucket, prefix, &page, err);
}

/* Sizes and times from each <Contents>: <Size> in bytes, <LastModified> in ISO 8601 UTC. */
int cb__s3_list_entries(void *state,
                        const char *bucket,
                        const char *prefix,
                        unsigned int flags,
                        cb_entry_fn fn,
                        void *payload,
                        cb_error *err)
{
    s3_page page = { .entry_fn = fn, .payload = payload };
    (void)flags;
    return s3_listing(state, bucket, prefix, &page, err);
}

/* ListBuckets; a user who may not list buckets still finds the default one. */
int cb__s3_list_containers(
    void *state, unsigned int flags, cb_list_fn fn, void *payload, cb_error *err)
{
    s3_state *st = state;
    s3_page page = { .fn = fn,
                     .payload = payload,
                     .name_path = "ListAllMyBucketsResult/Buckets/Bucket/Name" };
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    int rc;
    (void)flags;
    req.body_max = S3_LISTING_MAX;
    if ((rc = cb__s3_simple(st, "GET", NULL, NULL, NULL, "list buckets", &req, &resp, err)) == 0) {
        if (resp.status == 403)
            rc = fn(st->bucket, payload);
        else if (!cb__s3_ok(&resp))
            rc = cb__s3_fail(st, &req, &resp, err);
        else
            rc = cb__s3_xml_parse(resp.body.data, resp.body.len, s3_page_item, &page, err);
    }
    cb_buf_dispose(&page.token);
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}
