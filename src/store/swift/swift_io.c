/* SPDX-License-Identifier: Apache-2.0 */
/*
 * swift_io.c: the Swift store's writers (held in memory up to the buffer size, then streamed;
 * the ETag checked against the MD5 of the bytes sent) and readers (streamed, resumed after a
 * broken connection). See swift.c for the whole story.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "swift_internal.h"

/* ---- writer ---- */

typedef struct swift_writer {
    cb_writer base;
    swift_state *st;
    swift_call call;
    char *container, *name;
    char what[600];
    cb_buf held;       /* the first bytes, kept until a first attempt has taken them */
    int streaming;     /* 1: the chunked upload is under way */
    int exclusive;     /* CB_WRITE_EXCLUSIVE: the PUT carries If-None-Match: * */
    cb_http_req req;   /* headers kept across attempts */
    cb_http_resp resp; /* the answer */
    cb_http_xfer *x;   /* the streamed upload */
    EVP_MD_CTX *md5;   /* of every byte written */
    uint64_t total;    /* bytes written */
    char md5_hex[33];  /* at close */
} swift_writer;

/* A failed answer to the upload. Swift refuses a create-only PUT of an existing name with 412:
 * before the body when it can (a streamed upload waits for 100 Continue), after it otherwise. */
static int swift_upload_fail(swift_writer *w, const char *detail, cb_error *err)
{
    if (w->exclusive && w->resp.status == 412)
        return cb__http_error(err, CB_EEXISTS, 412,
                              "swift store: object '%s' already exists in container '%s' (HTTP 412 "
                              "to a create-only upload; it was left as it was)",
                              w->name, w->container);
    return cb__http_fail(w->st->h, &w->req, &w->resp, detail, err);
}

/* One attempt at starting the chunked upload: send the held bytes. 1 when the server took
 * them (the upload goes on), 0 when it answered first. */
static int swift_stream_attempt(void *ctx, cb_error *err)
{
    swift_writer *w = ctx;
    int rc;
    cb__http_xfer_free(w->x);
    w->x = NULL;
    if ((rc = cb__http_upload_begin(w->st->h, &w->req, &w->resp, &w->x, err)) < 0 ||
        (rc = cb__http_xfer_send(w->x, w->held.data, w->held.len, err)) < 0)
        return rc;
    if (rc == 0) {
        w->streaming = 1;
        return 1;
    }
    return cb__http_xfer_end(w->x, err);
}

/* Start the chunked upload and send the held bytes: retried while they are still held. */
static int swift_stream_start(swift_writer *w, cb_error *err)
{
    cb_http_hooks hooks = {
        .prepare = cb__swift_prepare,
        .renew = cb__swift_renewer(w->st),
        .payload = &w->call,
    };
    int rc = cb__http_retry(w->st->h, &w->req, &w->resp, &hooks, swift_stream_attempt, w, err);
    if (rc < 0)
        return rc;
    if (!w->streaming) /* answered before it took the held bytes */
        return swift_upload_fail(w, NULL, err);
    cb_buf_dispose(&w->held); /* from here on a failure cannot be replayed */
    return 0;
}

static int swift_stream_send(swift_writer *w, const void *buf, size_t len, cb_error *err)
{
    cb_error e = { 0 };
    int rc = cb__http_xfer_send(w->x, buf, len, &e);
    if (rc == 0)
        return 0;
    if (rc == 1 && cb__http_xfer_end(w->x, &e) == 0)
        return swift_upload_fail(w, "the server stopped the upload", err);
    return cb_error_set(err, CB_ENET,
                        "%s; the upload broke off after %llu bytes and nothing was stored (a "
                        "streamed upload cannot be replayed: run the command again)",
                        e.msg, (unsigned long long)w->total);
}

static int swift_writer_write(cb_writer *base, const void *buf, size_t len, cb_error *err)
{
    swift_writer *w = (swift_writer *)base;
    int rc;
    EVP_DigestUpdate(w->md5, buf, len);
    w->total += len;
    if (!w->streaming) {
        if (w->held.len + len <= w->st->buffer_max)
            return cb__http_buf_append(&w->held, buf, len, w->st->buffer_max, err);
        if ((rc = swift_stream_start(w, err)) < 0)
            return rc;
    }
    return swift_stream_send(w, buf, len, err);
}

/* Best effort: an object whose ETag is wrong must not stay behind. */
static void swift_discard(swift_writer *w)
{
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    req.method = "DELETE";
    req.what = w->what;
    if (cb__swift_call_do(&w->call, &req, &resp, NULL) == 0)
        cb__http_trace(w->st->h, "deleted '%s' after a checksum mismatch: HTTP %ld", w->name,
                       resp.status);
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
}

static int swift_check_etag(swift_writer *w, cb_error *err)
{
    char etag[128];
    if (w->resp.status != 201 && !cb__swift_ok(&w->resp))
        return swift_upload_fail(w, NULL, err);
    cb__http_resp_header(&w->resp, "etag", etag, sizeof(etag));
    size_t n = strlen(etag);
    const char *e = etag;
    if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
        etag[n - 1] = '\0';
        e = etag + 1;
    }
    if (strcmp(e, w->md5_hex) == 0)
        return 0;
    swift_discard(w);
    return cb_error_set(err, CB_ECORRUPT,
                        "swift store: %s: the server's ETag '%s' is not the MD5 of the %llu bytes "
                        "sent (%s); the object was deleted",
                        w->what, e, (unsigned long long)w->total, w->md5_hex);
}

static int swift_writer_close(cb_writer *base, cb_error *err)
{
    swift_writer *w = (swift_writer *)base;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int rc;
    EVP_DigestFinal_ex(w->md5, md, &mdlen);
    cb__hex(w->md5_hex, md, mdlen < 16 ? mdlen : 16);
    if (w->streaming) {
        cb_error e = { 0 };
        if (cb__http_xfer_end(w->x, &e) < 0)
            return cb_error_set(err, CB_ENET,
                                "%s; the upload broke off at its end and may not have been stored "
                                "(run the command again)",
                                e.msg);
    } else {
        /* the whole object is in memory: one PUT that Swift checks against its MD5 */
        w->req.body = w->held.data ? w->held.data : "";
        w->req.body_len = w->held.len;
        w->req.has_body = 1;
        if ((rc = cb__http_req_header(&w->req, err, "ETag: %s", w->md5_hex)) < 0 ||
            (rc = cb__swift_call_do(&w->call, &w->req, &w->resp, err)) < 0)
            return rc;
    }
    return swift_check_etag(w, err);
}

static void swift_writer_free(cb_writer *base)
{
    swift_writer *w = (swift_writer *)base;
    cb__http_xfer_free(w->x); /* an unfinished chunked body is never committed */
    cb__http_resp_dispose(&w->resp);
    cb__http_req_dispose(&w->req);
    cb_buf_dispose(&w->held);
    EVP_MD_CTX_free(w->md5);
    free(w->container);
    free(w->name);
    free(w);
}

static const cb_writer_ops swift_writer_ops = {
    CB_WRITER_OPS_INIT,
    .write = swift_writer_write,
    .close = swift_writer_close,
    .free = swift_writer_free,
};

int cb__swift_open_writer(void *state,
                          const char *container,
                          const char *name,
                          const char *extra_metadata,
                          unsigned int flags,
                          cb_writer **out,
                          cb_error *err)
{
    swift_state *st = state;
    int rc;
    (void)extra_metadata;
    if ((rc = cb__swift_check_container(container, err)) < 0)
        return rc;
    swift_writer *w = cb__calloc(1, sizeof(*w), err);
    if (w == NULL)
        return CB_ENOMEM;
    w->base.ops = &swift_writer_ops;
    w->st = st;
    w->exclusive = (flags & CB_WRITE_EXCLUSIVE) != 0;
    w->container = cb__strdup(container, err);
    w->name = cb__strdup(name, err);
    w->md5 = EVP_MD_CTX_new();
    if (w->container == NULL || w->name == NULL || w->md5 == NULL ||
        !EVP_DigestInit_ex(w->md5, EVP_md5(), NULL)) {
        swift_writer_free(&w->base);
        return cb_error_set(err, CB_ENOMEM, "out of memory (swift writer)");
    }
    w->call = (swift_call){ st, w->container, w->name, NULL };
    snprintf(w->what, sizeof(w->what), "upload of '%s' to container '%s'", name, container);
    w->req.method = "PUT";
    w->req.what = w->what;
    if ((rc = cb__http_req_header(&w->req, err, "Content-Type: application/octet-stream")) < 0 ||
        (w->exclusive && (rc = cb__http_req_header(&w->req, err, "If-None-Match: *")) < 0)) {
        swift_writer_free(&w->base);
        return rc;
    }
    *out = &w->base;
    return 0;
}

/* ---- reader ---- */

typedef struct swift_reader {
    cb_reader base;
    swift_call call;
    char *container, *name;
    char what[600];
    cb_http_get get;
} swift_reader;

static int swift_reader_read(cb_reader *base, void *buf, size_t cap, size_t *n_out, cb_error *err)
{
    swift_reader *r = (swift_reader *)base;
    return cb__http_get_read(&r->get, buf, cap, n_out, err);
}

static void swift_reader_free(cb_reader *base)
{
    swift_reader *r = (swift_reader *)base;
    cb__http_get_dispose(&r->get);
    free(r->container);
    free(r->name);
    free(r);
}

static const cb_reader_ops swift_reader_ops = {
    CB_READER_OPS_INIT,
    .read = swift_reader_read,
    .free = swift_reader_free,
};

int cb__swift_open_reader(void *state,
                          const char *container,
                          const char *name,
                          const char *extra_metadata,
                          unsigned int flags,
                          cb_reader **out,
                          cb_error *err)
{
    swift_state *st = state;
    int rc;
    (void)extra_metadata;
    (void)flags;
    if ((rc = cb__swift_check_container(container, err)) < 0)
        return rc;
    swift_reader *r = cb__calloc(1, sizeof(*r), err);
    if (r == NULL)
        return CB_ENOMEM;
    r->base.ops = &swift_reader_ops;
    r->container = cb__strdup(container, err);
    r->name = cb__strdup(name, err);
    if (r->container == NULL || r->name == NULL) {
        swift_reader_free(&r->base);
        return CB_ENOMEM;
    }
    r->call = (swift_call){ st, r->container, r->name, NULL };
    snprintf(r->what, sizeof(r->what), "download of '%s' from container '%s'", name, container);
    r->get = (cb_http_get){ .h = st->h, .req = CB_HTTP_REQ_INIT };
    r->get.req.what = r->what;
    r->get.prepare = cb__swift_prepare;
    r->get.renew = cb__swift_renewer(st);
    r->get.payload = &r->call;
    if ((rc = cb__http_get_open(&r->get, err)) == 0 && !cb__swift_ok(&r->get.resp))
        rc = r->get.resp.status == 404
                 ? cb__http_error(err, CB_ENOTFOUND, 404,
                                  "swift store: object '%s' not found in container '%s'", name,
                                  container)
                 : cb__http_fail(st->h, &r->get.req, &r->get.resp, NULL, err);
    if (rc < 0) {
        swift_reader_free(&r->base);
        return rc;
    }
    *out = &r->base;
    return 0;
}
