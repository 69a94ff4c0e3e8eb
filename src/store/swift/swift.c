/* SPDX-License-Identifier: Apache-2.0 */
/*
 * swift.c: the OpenStack Swift store (Cinder's SwiftBackupDriver, spec §4.4).
 *
 * URL: swift://CONTAINER (empty: "volumebackups"). Authentication: swift.h.
 *
 * Uploads: an object's first CINDERBLOCK_SWIFT_BUFFER_SIZE bytes (default 8 MiB) are held in
 * memory. An object that ends within them is sent with one PUT carrying its length and its
 * MD5 as ETag (Swift refuses the PUT with 422 if they differ), and that PUT is retried like
 * any request. A larger object is streamed with chunked transfer encoding: the held bytes
 * go first, and while they are being sent a failure still restarts the upload; after that
 * the bytes are gone, so a failure fails the writer with CB_ENET and the caller runs the
 * backup again. Either way the ETag Swift returns must equal the MD5 of the bytes sent, or
 * the object is deleted and the writer fails. An abandoned writer drops its connection
 * before the end of the chunked body, which Swift never commits.
 *
 * A create-only writer (CB_WRITE_EXCLUSIVE) sends `If-None-Match: *`, and Swift's 412 for an
 * existing name is CB_EEXISTS. Swift checks the condition when a PUT starts, not when it
 * commits: two uploads of one new name that overlap can both succeed (the later one stays).
 *
 * Listings are JSON; list_entries takes each object's size and time from it.
 *
 * Downloads stream, and resume after a broken connection with Range and If-Match.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "../registry.h"
#include "swift.h"
#include "../../util/util.h"

#define SWIFT_DEFAULT_CONTAINER "volumebackups"
#define SWIFT_DEFAULT_BUFFER (8u << 20)
#define SWIFT_LISTING_MAX (32u << 20) /* one page of a listing (10,000 names) fits easily */

typedef struct swift_state {
    cb_http *h;
    swift_auth auth;
    char *container;      /* the default container (from the URL) */
    char *storage_policy; /* X-Storage-Policy for new containers, or NULL */
    int create;           /* put_container may create */
    size_t buffer_max;    /* bytes held (and replayable) before an upload streams */
    size_t list_page;     /* names per listing request, 0: the server's default */
} swift_state;

/* What swift_prepare needs to build a request's URL and token for each attempt. */
typedef struct swift_call {
    swift_state *st;
    const char *container; /* NULL: the account */
    const char *object;    /* NULL: the container */
    const char *query;     /* escaped, without '?', or NULL */
} swift_call;

static int swift_prepare(cb_http_req *req, void *payload, cb_error *err)
{
    swift_call *c = payload;
    char *base = NULL, *token = NULL;
    cb_buf url = CB_BUF_INIT;
    unsigned epoch;
    int rc;
    if ((rc = cb__swift_auth_get(&c->st->auth, &base, &token, &epoch, err)) < 0)
        return rc;
    rc = cb_buf_puts(&url, base, err);
    if (rc == 0 && c->container != NULL && (rc = cb_buf_putc(&url, '/', err)) == 0)
        rc = cb__http_escape(&url, c->container, 0, err);
    if (rc == 0 && c->object != NULL && (rc = cb_buf_putc(&url, '/', err)) == 0)
        rc = cb__http_escape(&url, c->object, 1, err);
    if (rc == 0 && c->query != NULL && (rc = cb_buf_putc(&url, '?', err)) == 0)
        rc = cb_buf_puts(&url, c->query, err);
    cb__http_req_drop_header(req, "X-Auth-Token");
    if (rc == 0)
        rc = cb__http_req_header(req, err, "X-Auth-Token: %s", token);
    if (rc == 0) {
        free(req->url);
        req->url = cb_buf_detach(&url);
        req->auth_epoch = epoch;
    }
    memset(token, 0, strlen(token));
    free(token);
    free(base);
    cb_buf_dispose(&url);
    return rc;
}

static int swift_renew(cb_http_req *req, void *payload, cb_error *err)
{
    swift_call *c = payload;
    return cb__swift_auth_renew(&c->st->auth, req->auth_epoch, err);
}

static cb_http_renew_fn swift_renewer(const swift_state *st)
{
    return cb__swift_auth_renewable(&st->auth) ? swift_renew : NULL;
}

static int swift_call_do(swift_call *c, cb_http_req *req, cb_http_resp *resp, cb_error *err)
{
    return cb__http_call(c->st->h, req, swift_prepare, swift_renewer(c->st), c, resp, err);
}

static int swift_ok(const cb_http_resp *resp)
{
    return resp->status >= 200 && resp->status < 300;
}

static int swift_check_container(const char *container, cb_error *err)
{
    if (container[0] == '\0' || strchr(container, '/') != NULL || strlen(container) > 256)
        return cb_error_set(err, CB_EINVAL,
                            "swift store: container name '%s' is empty, longer than 256 bytes or "
                            "contains '/'",
                            container);
    return 0;
}

/* ---- containers ---- */

static int swift_create_container(swift_state *st, const char *container, cb_error *err)
{
    swift_call c = { st, container, NULL, NULL };
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    char what[400];
    int rc;
    snprintf(what, sizeof(what), "create container '%s'", container);
    req.method = "PUT";
    req.what = what;
    req.has_body = 1;
    if (st->storage_policy != NULL &&
        (rc = cb__http_req_header(&req, err, "X-Storage-Policy: %s", st->storage_policy)) < 0)
        goto done;
    if ((rc = swift_call_do(&c, &req, &resp, err)) == 0 && !swift_ok(&resp))
        rc = cb__http_fail(st->h, &req, &resp, NULL, err);
done:
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}

static int
swift_put_container(void *state, const char *container, unsigned int flags, cb_error *err)
{
    swift_state *st = state;
    swift_call c = { st, container, NULL, NULL };
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    char what[400];
    int rc;
    (void)flags;
    if ((rc = swift_check_container(container, err)) < 0)
        return rc;
    snprintf(what, sizeof(what), "look up container '%s'", container);
    req.method = "HEAD";
    req.what = what;
    if ((rc = swift_call_do(&c, &req, &resp, err)) < 0)
        goto done;
    if (resp.status == 404 && st->create)
        rc = swift_create_container(st, container, err);
    else if (resp.status == 404)
        rc = cb_error_set(err, CB_ENOTFOUND,
                          "swift store: container '%s' does not exist and creating containers is "
                          "disabled (--no-create-container)",
                          container);
    else if (!swift_ok(&resp))
        rc = cb__http_fail(st->h, &req, &resp, NULL, err);
done:
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}

/* ---- listings ---- */

/* Who gets the listed names: fn with the name, or entry_fn with what the listing says. */
typedef struct swift_lister {
    cb_list_fn fn;
    cb_entry_fn entry_fn;
    void *payload;
} swift_lister;

/* An object of a container listing: its "bytes" and its "last_modified", which is UTC
 * without a zone ("2026-12-01T22:34:16.181720"). */
static int swift_list_entry(const swift_lister *l, const char *name, json_t *item)
{
    json_t *bytes = json_object_get(item, "bytes");
    const char *when = json_string_value(json_object_get(item, "last_modified"));
    cb_entry e = {
        .name = name,
        .size = json_is_integer(bytes) && json_integer_value(bytes) >= 0
                    ? (int64_t)json_integer_value(bytes)
                    : -1,
        .mtime = when != NULL ? cb__http_parse_time(when, strlen(when)) : -1,
    };
    return l->entry_fn(&e, l->payload);
}

/* One page of a JSON listing: hand on each name, remember the last one. */
static int swift_list_page(
    const cb_http_resp *resp, const swift_lister *l, char **last, size_t *count, cb_error *err)
{
    json_error_t jerr;
    size_t i;
    json_t *item;
    int rc = 0;
    *count = 0;
    if (resp->status == 204 || resp->body.len == 0)
        return 0;
    json_t *doc = json_loadb(resp->body.data, resp->body.len, 0, &jerr);
    if (!json_is_array(doc)) {
        json_decref(doc);
        return cb_error_set(err, CB_EHTTP, "swift store: a listing is not a JSON array: %s",
                            jerr.text);
    }
    json_array_foreach(doc, i, item)
    {
        const char *name = json_string_value(json_object_get(item, "name"));
        if (name == NULL)
            continue;
        (*count)++;
        free(*last);
        if ((*last = cb__strdup(name, err)) == NULL) {
            rc = CB_ENOMEM;
            break;
        }
        rc = l->entry_fn != NULL ? swift_list_entry(l, name, item) : l->fn(name, l->payload);
        if (rc != 0)
            break;
    }
    json_decref(doc);
    return rc;
}

/* List the account (container NULL) or a container, page by page (marker = last name). */
static int swift_listing(swift_state *st,
                         const char *container,
                         const char *prefix,
                         const swift_lister *l,
                         cb_error *err)
{
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    cb_buf q = CB_BUF_INIT;
    char *last = NULL, what[400];
    size_t count = 1;
    int rc = 0;
    snprintf(what, sizeof(what), container ? "list container '%s'" : "list the account%s",
             container ? container : "");
    req.what = what;
    req.body_max = SWIFT_LISTING_MAX;
    while (rc == 0 && count > 0) {
        cb_buf_reset(&q);
        if ((rc = cb_buf_puts(&q, "format=json", err)) < 0 ||
            (st->list_page && (rc = cb_buf_printf(&q, err, "&limit=%zu", st->list_page)) < 0) ||
            (prefix && prefix[0] && (rc = cb_buf_puts(&q, "&prefix=", err)) == 0 &&
             (rc = cb__http_escape(&q, prefix, 0, err)) < 0) ||
            (last && (rc = cb_buf_puts(&q, "&marker=", err)) == 0 &&
             (rc = cb__http_escape(&q, last, 0, err)) < 0))
            break;
        swift_call c = { st, container, NULL, q.data };
        if ((rc = swift_call_do(&c, &req, &resp, err)) < 0)
            break;
        if (resp.status == 404 && container != NULL) {
            rc = cb_error_set(err, CB_ENOTFOUND, "swift store: container '%s' does not exist",
                              container);
        } else if (!swift_ok(&resp)) {
            rc = cb__http_fail(st->h, &req, &resp, NULL, err);
        } else if (resp.body.len >= SWIFT_LISTING_MAX) {
            rc = cb_error_set(err, CB_EHTTP, "swift store: %s: a listing page is too large", what);
        } else {
            rc = swift_list_page(&resp, l, &last, &count, err);
        }
    }
    free(last);
    cb_buf_dispose(&q);
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}

static int swift_list(void *state,
                      const char *container,
                      const char *prefix,
                      unsigned int flags,
                      cb_list_fn fn,
                      void *payload,
                      cb_error *err)
{
    swift_lister l = { .fn = fn, .payload = payload };
    int rc;
    (void)flags;
    if ((rc = swift_check_container(container, err)) < 0)
        return rc;
    return swift_listing(state, container, prefix, &l, err);
}

static int swift_list_entries(void *state,
                              const char *container,
                              const char *prefix,
                              unsigned int flags,
                              cb_entry_fn fn,
                              void *payload,
                              cb_error *err)
{
    swift_lister l = { .entry_fn = fn, .payload = payload };
    int rc;
    (void)flags;
    if ((rc = swift_check_container(container, err)) < 0)
        return rc;
    return swift_listing(state, container, prefix, &l, err);
}

/* The catalog finds backups in every container of the account; a user who may not list the
 * account still finds those in the default container. */
static int
swift_list_containers(void *state, unsigned int flags, cb_list_fn fn, void *payload, cb_error *err)
{
    swift_state *st = state;
    swift_lister l = { .fn = fn, .payload = payload };
    cb_error e = { 0 };
    (void)flags;
    int rc = swift_listing(st, NULL, NULL, &l, &e);
    if (rc == CB_EAUTH && e.msg[0] != '\0' && strstr(e.msg, "HTTP 403") != NULL)
        return fn(st->container, payload);
    if (rc < 0)
        return cb_error_set(err, e.code, "%s", e.msg);
    return rc;
}

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
        return cb_error_set(err, CB_EEXISTS,
                            "swift store: object '%s' already exists in container '%s' (HTTP 412 "
                            "to a create-only upload; it was left as it was)",
                            w->name, w->container);
    return cb__http_fail(w->st->h, &w->req, &w->resp, detail, err);
}

/* Start the chunked upload and send the held bytes: retried while they are still held. */
static int swift_stream_start(swift_writer *w, cb_error *err)
{
    swift_state *st = w->st;
    cb_error last = { 0 };
    int rc = 0;
    w->req.renewed = 0;
    for (int attempt = 1;; attempt++) {
        cb_error_clear(&last);
        cb__http_xfer_free(w->x);
        w->x = NULL;
        if ((rc = swift_prepare(&w->req, &w->call, err)) < 0 ||
            (rc = cb__http_upload_begin(st->h, &w->req, &w->resp, &w->x, err)) < 0)
            return rc;
        rc = cb__http_xfer_send(w->x, w->held.data, w->held.len, &last);
        if (rc == 0) {
            cb_buf_dispose(&w->held); /* from here on a failure cannot be replayed */
            w->streaming = 1;
            return 0;
        }
        if (rc == 1 && (rc = cb__http_xfer_end(w->x, &last)) == 0) {
            if (w->resp.status == 401 && swift_renewer(st) && w->req.renewed < CB_HTTP_RENEWALS) {
                w->req.renewed++;
                if ((rc = cb__swift_auth_renew(&st->auth, w->req.auth_epoch, err)) < 0)
                    return rc;
                attempt--;
                continue;
            }
            if (!cb__http_retryable_status(w->resp.status))
                return swift_upload_fail(w, NULL, err);
        }
        if (attempt >= cb__http_attempts(st->h))
            break;
        cb__http_backoff(st->h, attempt, rc == 0 ? &w->resp : NULL);
    }
    if (rc == 0)
        return cb__http_fail(st->h, &w->req, &w->resp, NULL, err);
    return cb_error_set(err, CB_ENET, "%s (gave up after %d attempts)", last.msg,
                        cb__http_attempts(st->h));
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
    if (swift_call_do(&w->call, &req, &resp, NULL) == 0)
        cb__http_trace(w->st->h, "deleted '%s' after a checksum mismatch: HTTP %ld", w->name,
                       resp.status);
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
}

static int swift_check_etag(swift_writer *w, cb_error *err)
{
    char etag[128];
    if (w->resp.status != 201 && !swift_ok(&w->resp))
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
            (rc = swift_call_do(&w->call, &w->req, &w->resp, err)) < 0)
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
    .write = swift_writer_write,
    .close = swift_writer_close,
    .free = swift_writer_free,
};

static int swift_open_writer(void *state,
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
    if ((rc = swift_check_container(container, err)) < 0)
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
    .read = swift_reader_read,
    .free = swift_reader_free,
};

static int swift_open_reader(void *state,
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
    if ((rc = swift_check_container(container, err)) < 0)
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
    r->get.prepare = swift_prepare;
    r->get.renew = swift_renewer(st);
    r->get.payload = &r->call;
    if ((rc = cb__http_get_open(&r->get, err)) == 0 && !swift_ok(&r->get.resp))
        rc = r->get.resp.status == 404
                 ? cb_error_set(err, CB_ENOTFOUND,
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

/* ---- the rest ---- */

static int swift_delete_object(
    void *state, const char *container, const char *name, unsigned int flags, cb_error *err)
{
    swift_state *st = state;
    swift_call c = { st, container, name, NULL };
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    char what[600];
    int rc;
    (void)flags;
    if ((rc = swift_check_container(container, err)) < 0)
        return rc;
    snprintf(what, sizeof(what), "delete of '%s' in container '%s'", name, container);
    req.method = "DELETE";
    req.what = what;
    /* 404: already gone, which is what was asked (Cinder 25.0.0 and later agree) */
    if ((rc = swift_call_do(&c, &req, &resp, err)) == 0 && !swift_ok(&resp) && resp.status != 404)
        rc = cb__http_fail(st->h, &req, &resp, NULL, err);
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}

static int swift_update_container_name(
    void *state, const char *backup_id, const char *container, char **out, cb_error *err)
{
    swift_state *st = state;
    (void)backup_id;
    *out = cb__strdup(container ? container : st->container, err);
    return *out ? 0 : CB_ENOMEM;
}

/* The URL's container: every backup may share it, so store-wide records live there. */
static int swift_home_container(void *state, char **out, cb_error *err)
{
    swift_state *st = state;
    *out = cb__strdup(st->container, err);
    return *out ? 0 : CB_ENOMEM;
}

static int swift_check(void *state, cb_error *err)
{
    swift_state *st = state;
    swift_call c = { st, NULL, NULL, NULL };
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    req.method = "HEAD";
    req.what = "look up the account";
    int rc = swift_call_do(&c, &req, &resp, err);
    if (rc == 0 && !swift_ok(&resp))
        rc = cb__http_fail(st->h, &req, &resp, NULL, err);
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}

static void swift_destroy(void *state)
{
    swift_state *st = state;
    if (st == NULL)
        return;
    cb__swift_auth_dispose(&st->auth);
    cb__http_free(st->h);
    free(st->container);
    free(st->storage_policy);
    free(st);
}

static const cb_store_ops swift_store_ops = {
    .version = CB_STORE_OPS_VERSION,
    .name = "swift",
    .flags = CB_STORE_PARALLEL | CB_STORE_EXCLUSIVE,
    .cinder_driver = "cinder.backup.drivers.swift.SwiftBackupDriver",
    .default_object_size = 52428800, /* backup_swift_object_size */
    .default_sha_block = 32768,      /* backup_swift_block_size */
    .put_container = swift_put_container,
    .list = swift_list,
    .open_writer = swift_open_writer,
    .open_reader = swift_open_reader,
    .delete_object = swift_delete_object,
    .destroy = swift_destroy,
    .update_container_name = swift_update_container_name,
    .list_containers = swift_list_containers,
    .check = swift_check,
    .list_entries = swift_list_entries,
    .home_container = swift_home_container,
};

static int
swift_settings(swift_state *st, const char *location, const cb_store_opts *opts, cb_error *err)
{
    const char *buf = cb_store_getenv(opts, "CINDERBLOCK_SWIFT_BUFFER_SIZE");
    int rc;
    if ((rc = cb__http_list_page(opts, "swift", &st->list_page, err)) < 0)
        return rc;
    st->buffer_max = SWIFT_DEFAULT_BUFFER;
    if (buf != NULL && buf[0] != '\0') {
        int64_t v = cb__http_parse_size(buf);
        if (v < 0 || v > (int64_t)1 << 32)
            return cb_error_set(err, CB_EINVAL,
                                "swift store: CINDERBLOCK_SWIFT_BUFFER_SIZE='%s' is not a size "
                                "up to 4G (like 8M)",
                                buf);
        st->buffer_max = (size_t)v;
    }
    st->container = cb__strdup(location[0] ? location : SWIFT_DEFAULT_CONTAINER, err);
    if (st->container == NULL)
        return CB_ENOMEM;
    if (opts->storage_policy != NULL &&
        (st->storage_policy = cb__strdup(opts->storage_policy, err)) == NULL)
        return CB_ENOMEM;
    return swift_check_container(st->container, err);
}

int cb__swift_store_ctor(const char *location,
                         const cb_store_opts *opts,
                         const cb_store_ops **ops_out,
                         void **state_out,
                         cb_error *err)
{
    swift_state *st = cb__calloc(1, sizeof(*st), err);
    int rc;
    if (st == NULL)
        return CB_ENOMEM;
    st->create = opts->create_containers;
    if ((rc = cb__http_new(&st->h, "swift", opts, err)) < 0 ||
        (rc = swift_settings(st, location, opts, err)) < 0) {
        cb__http_free(st->h);
        free(st->container);
        free(st->storage_policy);
        free(st);
        return rc;
    }
    if ((rc = cb__swift_auth_init(&st->auth, st->h, opts, err)) < 0) {
        swift_destroy(st); /* the auth part is initialised even when it fails */
        return rc;
    }
    *ops_out = &swift_store_ops;
    *state_out = st;
    return 0;
}
