/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_retry.c: the retry policy on top of http_xfer.c's single attempts: the one retry loop
 * (backoff, up to CB_HTTP_RENEWALS renewals of credentials per request), the mapping of HTTP
 * statuses to cb_status, and a GET that resumes a broken body where it stopped.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http_internal.h"

#define HTTP_BACKOFF_MAX 64.0 /* seconds; python-swiftclient's cap */

/* ---- the policy ---- */

int cb__http_retryable_status(long status)
{
    if (status == 408 || status == 429 || status == 498)
        return 1;
    /* 501 Not Implemented, 505 and 507 Insufficient Storage will not change by waiting */
    return status >= 500 && status != 501 && status != 505 && status != 507 && status != 508 &&
           status != 511;
}

int cb__http_attempts(const cb_http *h)
{
    return h->attempts;
}

void cb__http_backoff(cb_http *h, int attempt, const cb_http_resp *resp)
{
    double d = h->backoff * pow(2.0, attempt - 1);
    if (d > HTTP_BACKOFF_MAX)
        d = HTTP_BACKOFF_MAX;
    pthread_mutex_lock(&h->rand_lock);
    h->rand_state = h->rand_state * 6364136223846793005ULL + 1442695040888963407ULL;
    double r = (double)(h->rand_state >> 11) / (double)(1ULL << 53);
    pthread_mutex_unlock(&h->rand_lock);
    /* "equal jitter": half the delay is fixed, half random, so that threads that failed
     * together do not all come back together */
    d = d / 2 + r * d / 2;
    if (resp != NULL && resp->retry_after > d)
        d = resp->retry_after < HTTP_BACKOFF_MAX ? resp->retry_after : HTTP_BACKOFF_MAX;
    cb__http_trace(h, "retrying in %.2f s (attempt %d of %d)", d, attempt + 1, h->attempts);
    struct timespec ts = { (time_t)d, (long)((d - floor(d)) * 1e9) };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int cb__http_pass_error(cb_error *err, const cb_error *from)
{
    if (err != NULL && err->code == 0)
        *err = *from;
    return from->code;
}

/*
 * The one retry loop. A transport failure (CB_ENET) and a retryable status are tried again,
 * a 401 renews the credentials without counting an attempt; any other failure of an attempt
 * is final at once: a request libcurl refuses does not improve by waiting.
 */
int cb__http_retry(cb_http *h,
                   cb_http_req *req,
                   cb_http_resp *resp,
                   const cb_http_hooks *hooks,
                   cb_http_attempt_fn attempt,
                   void *ctx,
                   cb_error *err)
{
    cb_error last = { 0 };
    int rc = 0;
    req->renewed = 0;
    for (int n = 1;; n++) {
        cb_error_clear(&last);
        if (hooks->prepare != NULL && (rc = hooks->prepare(req, hooks->payload, err)) < 0)
            return rc;
        rc = attempt(ctx, &last);
        if (rc > 0) /* under way: nothing to judge yet */
            return 0;
        if (rc < 0 && rc != CB_ENET)
            return cb__http_pass_error(err, &last);
        if (rc == 0 && resp->status == 401 && hooks->renew != NULL &&
            req->renewed < CB_HTTP_RENEWALS) {
            /* credentials expired: renew, without counting an attempt */
            req->renewed++;
            cb__http_trace(h, "%s: HTTP 401, authenticating again", req->what);
            if ((rc = hooks->renew(req, hooks->payload, err)) < 0)
                return rc;
            n--;
            continue;
        }
        if (rc == 0 && !cb__http_retryable_status(resp->status))
            return 0;
        if (n >= h->attempts)
            break;
        cb__http_backoff(h, n, rc == 0 ? resp : NULL);
    }
    if (rc < 0)
        return cb_error_set(err, CB_ENET, "%s (gave up after %d attempt%s)", last.msg, h->attempts,
                            h->attempts == 1 ? "" : "s");
    return 0; /* a retryable status, still: the caller reports it */
}

typedef struct http_call {
    cb_http *h;
    cb_http_req *req;
    cb_http_resp *resp;
} http_call;

static int http_call_attempt(void *ctx, cb_error *err)
{
    http_call *c = ctx;
    return cb__http_perform(c->h, c->req, c->resp, err);
}

int cb__http_call(cb_http *h,
                  cb_http_req *req,
                  cb_http_prepare_fn prepare,
                  cb_http_renew_fn renew,
                  void *payload,
                  cb_http_resp *resp,
                  cb_error *err)
{
    cb_http_hooks hooks = { .prepare = prepare, .renew = renew, .payload = payload };
    http_call c = { h, req, resp };
    return cb__http_retry(h, req, resp, &hooks, http_call_attempt, &c, err);
}

int cb__http_error(cb_error *err, int code, long status, const char *fmt, ...)
{
    char msg[sizeof(err->msg)];
    va_list ap;
    if (err == NULL || err->code != 0)
        return code;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cb_error_set(err, code, "%s", msg);
    err->http_status = status;
    return code;
}

int cb__http_fail(
    cb_http *h, const cb_http_req *req, const cb_http_resp *resp, const char *detail, cb_error *err)
{
    long s = resp->status;
    int code = s == 401 || s == 403           ? CB_EAUTH
               : s == 404                     ? CB_ENOTFOUND
               : cb__http_retryable_status(s) ? CB_ENET
                                              : CB_EHTTP;
    const char *why = s == 401   ? "authentication refused"
                      : s == 403 ? "permission denied"
                      : s == 404 ? "not found"
                      : s == 413 ? "too large for the server"
                      : s == 422 ? "the server's checksum does not match the data sent"
                      : s == 507 ? "the server is out of space"
                                 : "unexpected answer";
    char url[512];
    cb__http_redact_url(url, sizeof(url), req->url);
    return cb__http_error(
        err, code, s, "%s store: %s: %s %s: HTTP %ld (%s)%s%s%s", cb__http_name(h), req->what,
        req->method, url, s, why, detail && *detail ? ": " : "", detail ? detail : "",
        code == CB_ENET && cb__http_attempts(h) > 1 ? " (gave up after every attempt)" : "");
}

/* ---- a GET that resumes ---- */

/* One GET attempt; leaves g->x open on a 2xx answer. */
static int http_get_attempt(void *ctx, cb_error *err)
{
    cb_http_get *g = ctx;
    cb__http_xfer_free(g->x);
    g->x = NULL;
    return cb__http_download_begin(g->h, &g->req, &g->resp, &g->x, err);
}

/* The GET with the retry policy around it. */
static int http_get_attempts(cb_http_get *g, cb_error *err)
{
    cb_http_hooks hooks = { .prepare = g->prepare, .renew = g->renew, .payload = g->payload };
    return cb__http_retry(g->h, &g->req, &g->resp, &hooks, http_get_attempt, g, err);
}

int cb__http_get_open(cb_http_get *g, cb_error *err)
{
    int rc = http_get_attempts(g, err);
    if (rc == 0 && g->resp.status >= 200 && g->resp.status < 300)
        cb__http_resp_header(&g->resp, "etag", g->etag, sizeof(g->etag));
    return rc;
}

/* The body broke off after g->got bytes: ask for the rest of the same version. */
static int http_get_resume(cb_http_get *g, const cb_error *why, cb_error *err)
{
    int rc;
    if (g->etag[0] == '\0' || g->resumes >= cb__http_attempts(g->h) - 1)
        return cb__http_pass_error(err, why);
    g->resumes++;
    cb__http_trace(g->h, "%s: resuming at byte %llu", g->req.what, (unsigned long long)g->got);
    cb__http_backoff(g->h, g->resumes, NULL);
    cb__http_req_drop_header(&g->req, "Range");
    cb__http_req_drop_header(&g->req, "If-Match");
    if ((rc = cb__http_req_header(&g->req, err, "Range: bytes=%llu-", (unsigned long long)g->got)) <
            0 ||
        (rc = cb__http_req_header(&g->req, err, "If-Match: %s", g->etag)) < 0 ||
        (rc = http_get_attempts(g, err)) < 0)
        return rc;
    if (g->resp.status == 412)
        return cb__http_error(err, CB_ECORRUPT, 412,
                              "%s store: %s: the object changed while it was being read",
                              cb__http_name(g->h), g->req.what);
    if (g->resp.status != 206)
        return cb__http_fail(g->h, &g->req, &g->resp, "resuming a broken download", err);
    return 0;
}

int cb__http_get_read(cb_http_get *g, void *buf, size_t cap, size_t *n_out, cb_error *err)
{
    *n_out = 0;
    for (;;) {
        cb_error e = { 0 };
        if (g->x == NULL)
            return 0;
        int rc = cb__http_xfer_recv(g->x, buf, cap, n_out, &e);
        if (rc == 0) {
            g->got += *n_out;
            return 0;
        }
        if (rc != CB_ENET)
            return cb__http_pass_error(err, &e);
        if ((rc = http_get_resume(g, &e, err)) < 0)
            return rc;
    }
}

void cb__http_get_dispose(cb_http_get *g)
{
    cb__http_xfer_free(g->x);
    g->x = NULL;
    cb__http_resp_dispose(&g->resp);
    cb__http_req_dispose(&g->req);
}
