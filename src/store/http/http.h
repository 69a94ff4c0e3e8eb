/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.h: the libcurl glue shared by the Swift and S3 stores.
 *
 * One cb_http per store holds the options (timeouts, retries, TLS), a share object for DNS
 * and TLS sessions, and a pool of connections. A connection is a curl multi handle plus one
 * easy handle: the multi handle owns the connection cache, so a connection taken from the
 * pool reuses the sockets of its earlier requests. A transfer takes a connection for its
 * whole life and gives it back when freed; two threads never use one connection at once, so
 * the stores may be CB_STORE_PARALLEL.
 *
 * Every transfer runs through the multi interface, which lets a writer push a body piece by
 * piece (the read callback pauses when it has nothing) and a reader pull one (the write
 * callback pauses when the caller's buffer is full). Nothing here buffers a whole object.
 *
 * cb__http_call() adds the retry policy: exponential backoff with jitter on connection
 * errors, timeouts, 5xx, 408, 429 and 498, at most opts->retries attempts, and one renewal
 * of credentials on 401. It returns the final response whatever its status; the store maps
 * the status to a cb_status with cb__http_fail().
 *
 * Secrets: no header value is ever printed. Messages name the method, the URL with any
 * user:password removed, the HTTP status and curl's own error text.
 */
#ifndef CB_STORE_HTTP_H
#define CB_STORE_HTTP_H

#include <stdint.h>
#include <curl/curl.h>

#include "cinderblock/sys/store.h"
#include "../../util/util.h"

/* Renewals of credentials for one request, at most. More than one: a token renewed by
 * another thread can expire again before this request's retry reaches the server (short
 * token lives, a loaded machine); refused credentials fail at the login itself. */
#define CB_HTTP_RENEWALS 3

typedef struct cb_http cb_http;
typedef struct cb_http_xfer cb_http_xfer;

/** What came back. Zero-initialise (CB_HTTP_RESP_INIT), dispose when done. */
typedef struct cb_http_resp {
    long status;        /* the final HTTP status; 0 when no response arrived */
    cb_buf headers;     /* the final response's header lines as received */
    cb_buf body;        /* the body, up to the request's body_max bytes */
    double retry_after; /* seconds from a Retry-After header, or 0 */
} cb_http_resp;

#define CB_HTTP_RESP_INIT                                                                          \
    {                                                                                              \
        0, CB_BUF_INIT, CB_BUF_INIT, 0                                                             \
    }

/** One request. The strings and header list are owned by it (cb__http_req_dispose). */
typedef struct cb_http_req {
    const char *method;         /* "GET", "HEAD", "PUT", "POST", "DELETE" */
    char *url;                  /* full URL, escaped */
    struct curl_slist *headers; /* extra request headers */
    const void *body;           /* PUT/POST body in memory (replayed on retries), or NULL */
    size_t body_len;
    int has_body;        /* 1: send body/body_len (possibly empty) */
    size_t body_max;     /* response body bytes kept in resp->body (the rest is dropped) */
    const char *what;    /* for messages: "put object 'x' in container 'c'" */
    int renewed;         /* cb__http_call: times credentials were renewed for it */
    unsigned auth_epoch; /* for the store's renew hook: which credentials were used */
} cb_http_req;

#define CB_HTTP_REQ_INIT                                                                           \
    {                                                                                              \
        .method = "GET", .body_max = 65536                                                         \
    }

/* ---- setup ---- */

/**
 * Create the HTTP context of a store. `name` ("swift", "s3") starts every message.
 * Reads CB_DEBUG through opts->getenv: "1" traces each request (method, redacted URL,
 * status, time) on stderr.
 */
int cb__http_new(cb_http **out, const char *name, const cb_store_opts *opts, cb_error *err);
void cb__http_free(cb_http *h); /* NULL ok; no transfer may be open */

/** The store name given to cb__http_new. */
const char *cb__http_name(const cb_http *h);

/** Trace a line on stderr when tracing is on (CB_DEBUG=1). Never pass a secret. */
void cb__http_trace(const cb_http *h, const char *fmt, ...) CB_PRINTF(2, 3);
int cb__http_tracing(const cb_http *h);

/* ---- requests, responses ---- */

void cb__http_req_dispose(cb_http_req *req);
/** Append "Name: value" to the request's headers. */
int cb__http_req_header(cb_http_req *req, cb_error *err, const char *fmt, ...) CB_PRINTF(3, 4);
/** Drop every header line that starts with `name:` (case-insensitive). */
void cb__http_req_drop_header(cb_http_req *req, const char *name);

void cb__http_resp_reset(cb_http_resp *resp);
void cb__http_resp_dispose(cb_http_resp *resp);
/** Copy the value of header `name` (case-insensitive, trimmed) into out; 0 or CB_ENOTFOUND. */
int cb__http_resp_header(const cb_http_resp *resp, const char *name, char *out, size_t cap);

/* ---- one attempt ---- */

/** Run `req` once with its in-memory body. 0 once any response arrived; CB_ENET if none. */
int cb__http_perform(cb_http *h, cb_http_req *req, cb_http_resp *resp, cb_error *err);

/**
 * Start a PUT whose body is pushed with cb__http_xfer_send (chunked transfer encoding).
 * Response headers and status land in `resp` at cb__http_xfer_end.
 */
int cb__http_upload_begin(
    cb_http *h, cb_http_req *req, cb_http_resp *resp, cb_http_xfer **out, cb_error *err);

/**
 * Push body bytes. 0: all taken; 1: the server answered before taking the whole body (call
 * cb__http_xfer_end for its answer); CB_ENET: the transfer broke (err says why).
 */
int cb__http_xfer_send(cb_http_xfer *x, const void *buf, size_t len, cb_error *err);

/** End the body and wait for the answer. 0 once a response arrived; CB_ENET if none. */
int cb__http_xfer_end(cb_http_xfer *x, cb_error *err);

/**
 * Start a GET and wait for the response headers. If the status is 2xx the body is read with
 * cb__http_xfer_recv; otherwise it is captured in resp->body (up to req->body_max) and the
 * transfer is finished.
 */
int cb__http_download_begin(
    cb_http *h, cb_http_req *req, cb_http_resp *resp, cb_http_xfer **out, cb_error *err);

/** Read body bytes; *n_out == 0 only at the end. CB_ENET if the transfer broke. */
int cb__http_xfer_recv(cb_http_xfer *x, void *buf, size_t cap, size_t *n_out, cb_error *err);

/** Abort the transfer if it still runs and give its connection back. NULL ok. */
void cb__http_xfer_free(cb_http_xfer *x);

/* ---- the retry policy ---- */

/** Rebuild url and headers for an attempt (a renewed token, a new date). */
typedef int (*cb_http_prepare_fn)(cb_http_req *req, void *payload, cb_error *err);
/** Credentials were refused (401): get new ones. 0 to try again. */
typedef int (*cb_http_renew_fn)(cb_http_req *req, void *payload, cb_error *err);

/** The caller's part in the retry policy. */
typedef struct cb_http_hooks {
    cb_http_prepare_fn prepare; /* before every attempt (NULL: none); its failure is final */
    cb_http_renew_fn renew;     /* after a 401 (NULL: a 401 is the answer) */
    void *payload;              /* for both */
} cb_http_hooks;

/**
 * One attempt of a request, for cb__http_retry. 0 when an answer came (in the response the
 * caller gave cb__http_retry); 1 when the attempt goes on and there is no answer to judge yet
 * (an upload whose body is still being pushed); CB_ENET when no answer came, which is worth
 * another attempt; any other code is final. Fills `err` on failure.
 */
typedef int (*cb_http_attempt_fn)(void *ctx, cb_error *err);

/**
 * The retry policy, the one loop every request goes through: prepare and attempt until an
 * answer whose status is not worth retrying, at most cb__http_attempts() attempts with
 * backoff, renewing credentials on 401 at most CB_HTTP_RENEWALS times (not counted).
 * @return 0 with the final answer in resp (any status: the caller judges it) or with the
 *         attempt under way, CB_ENET when every attempt failed without an answer, or the
 *         first final error.
 */
int cb__http_retry(cb_http *h,
                   cb_http_req *req,
                   cb_http_resp *resp,
                   const cb_http_hooks *hooks,
                   cb_http_attempt_fn attempt,
                   void *ctx,
                   cb_error *err);

/**
 * Run a request held in memory with the retry policy. `prepare` (may be NULL) runs before
 * every attempt.
 * @return as cb__http_retry
 */
int cb__http_call(cb_http *h,
                  cb_http_req *req,
                  cb_http_prepare_fn prepare,
                  cb_http_renew_fn renew,
                  void *payload,
                  cb_http_resp *resp,
                  cb_error *err);

/** Hand on a failure recorded elsewhere, whole (code, errno, HTTP status, message), unless
 * err already holds one. @return its code. */
int cb__http_pass_error(cb_error *err, const cb_error *from);

/** 1 if a response with this status is worth another attempt. */
int cb__http_retryable_status(long status);
/** Sleep before attempt `attempt` + 1 (exponential backoff with jitter, Retry-After). */
void cb__http_backoff(cb_http *h, int attempt, const cb_http_resp *resp);
/** The number of attempts per request (>= 1). */
int cb__http_attempts(const cb_http *h);

/**
 * Fill `err` for a response that is not a success: 401/403 -> CB_EAUTH, 404 -> CB_ENOTFOUND,
 * retryable statuses -> CB_ENET, others CB_EHTTP; err->http_status is the status. `detail`
 * (may be NULL) is the server's own explanation, already stripped of secrets.
 */
int cb__http_fail(cb_http *h,
                  const cb_http_req *req,
                  const cb_http_resp *resp,
                  const char *detail,
                  cb_error *err);

/**
 * Record a failure that an HTTP answer with `status` explains: cb_error_set(), and the status
 * in err->http_status. Nothing if err already holds a failure.
 * @return code
 */
int cb__http_error(cb_error *err, int code, long status, const char *fmt, ...) CB_PRINTF(4, 5);

/* ---- a GET that resumes where it broke ---- */

/**
 * A download with the retry policy: the first response is retried like cb__http_call, and a
 * body that breaks off is resumed with "Range: bytes=N-" and "If-Match: <etag>", so an
 * object that changed in between is never spliced. Embed it; cb__http_get_dispose at the end.
 */
typedef struct cb_http_get {
    cb_http *h;
    cb_http_req req; /* the caller fills method/what/headers; prepare sets url */
    cb_http_resp resp;
    cb_http_xfer *x;
    cb_http_prepare_fn prepare;
    cb_http_renew_fn renew;
    void *payload;
    uint64_t got;   /* body bytes delivered so far */
    char etag[128]; /* of the first response, for If-Match on a resume */
    int resumes;    /* resumes so far */
} cb_http_get;

/**
 * Send the GET (with retries). 0 with g->resp.status set: 2xx means the body is ready for
 * cb__http_get_read; anything else is for the caller to report (cb__http_fail).
 */
int cb__http_get_open(cb_http_get *g, cb_error *err);
/** Read body bytes; *n_out == 0 only at the end. */
int cb__http_get_read(cb_http_get *g, void *buf, size_t cap, size_t *n_out, cb_error *err);
void cb__http_get_dispose(cb_http_get *g);

/* ---- text helpers ---- */

/**
 * Append to a buffer that will never hold more than `limit` bytes: it grows by doubling but
 * never beyond limit + 1, so that an 8 MiB part costs 8 MiB and not 16.
 */
int cb__http_buf_append(cb_buf *b, const void *data, size_t len, size_t limit, cb_error *err);

/** Percent-encode `s` (RFC 3986 unreserved kept; '/' kept if keep_slash) onto b. */
int cb__http_escape(cb_buf *b, const char *s, int keep_slash, cb_error *err);
/** Copy url into out without any "user:password@" part. */
void cb__http_redact_url(char *out, size_t cap, const char *url);
/** Parse a size like "8M", "64k", "1G" (powers of 1024); -1 if malformed. */
int64_t cb__http_parse_size(const char *s);
/**
 * Seconds since the epoch of a UTC time in the ISO 8601 form listings use: Swift's
 * "2026-12-01T22:34:16.181720" (no zone) and S3's "2026-12-01T22:34:16.181Z"; a fraction is
 * dropped, a zone other than "Z" or "+00:00" is refused. -1 if malformed.
 */
int64_t cb__http_parse_time(const char *s, size_t len);

/** base64 of n bytes into out (4 * ((n + 2) / 3) + 1 bytes). */
void cb__http_base64(char *out, const unsigned char *in, size_t n);

/*
 * CINDERBLOCK_LIST_PAGE: names per listing request (Swift's limit, S3's max-keys); unset
 * or 0 means the server's default (10,000 and 1,000). Mostly for tests of paging.
 */
int cb__http_list_page(const cb_store_opts *opts, const char *store, size_t *out, cb_error *err);

#endif
