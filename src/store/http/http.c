/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.c: the HTTP context of a store: libcurl's one-time initialisation, the share object
 * for DNS and TLS sessions, tracing, and the pool of connections that transfers take and
 * give back (http_xfer.c).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_internal.h"
#include "../../util/util.h"

#define HTTP_POOL_MAX 32 /* idle connections kept per store */

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_init_rc;

static void http_global_init(void)
{
    http_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

double cb__http_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- setup ---- */

static void http_share_lock(CURL *easy, curl_lock_data data, curl_lock_access access, void *p)
{
    cb_http *h = p;
    (void)easy;
    (void)access;
    pthread_mutex_lock(&h->share_locks[data]);
}

static void http_share_unlock(CURL *easy, curl_lock_data data, void *p)
{
    cb_http *h = p;
    (void)easy;
    pthread_mutex_unlock(&h->share_locks[data]);
}

int cb__http_new(cb_http **out, const char *name, const cb_store_opts *opts, cb_error *err)
{
    *out = NULL;
    pthread_once(&http_once, http_global_init);
    if (http_init_rc != CURLE_OK)
        return cb_error_set(err, CB_ERROR, "%s store: libcurl failed to initialise: %s", name,
                            curl_easy_strerror(http_init_rc));
    cb_http *h = cb__calloc(1, sizeof(*h), err);
    if (h == NULL)
        return CB_ENOMEM;
    snprintf(h->name, sizeof(h->name), "%s", name);
    h->insecure = opts->insecure;
    h->attempts = opts->retries >= 1 ? opts->retries : 1;
    h->backoff = opts->retry_backoff >= 0 ? opts->retry_backoff : 0;
    h->timeout = opts->timeout > 0 ? opts->timeout : 120;
    const char *dbg = cb_store_getenv(opts, "CB_DEBUG");
    h->trace = dbg != NULL && dbg[0] != '\0' && strcmp(dbg, "0") != 0;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&h->share_locks[i], NULL);
    pthread_mutex_init(&h->pool_lock, NULL);
    pthread_mutex_init(&h->rand_lock, NULL);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h->rand_state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)getpid();
    if (opts->ca_file != NULL && (h->ca_file = cb__strdup(opts->ca_file, err)) == NULL) {
        cb__http_free(h);
        return CB_ENOMEM;
    }
    /* DNS answers and TLS sessions are shared by every connection of the store (with
     * locks); connections themselves are not, since curl does not support sharing them
     * between threads */
    h->share = curl_share_init();
    if (h->share == NULL) {
        cb__http_free(h);
        return cb_error_set(err, CB_ENOMEM, "%s store: curl_share_init failed", name);
    }
    curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, http_share_lock);
    curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, http_share_unlock);
    curl_share_setopt(h->share, CURLSHOPT_USERDATA, h);
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    *out = h;
    return 0;
}

static void http_conn_free(http_conn *c)
{
    if (c == NULL)
        return;
    if (c->multi != NULL)
        curl_multi_cleanup(c->multi);
    if (c->easy != NULL)
        curl_easy_cleanup(c->easy);
    free(c);
}

void cb__http_free(cb_http *h)
{
    if (h == NULL)
        return;
    while (h->idle != NULL) {
        http_conn *c = h->idle;
        h->idle = c->next;
        http_conn_free(c);
    }
    if (h->share != NULL)
        curl_share_cleanup(h->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&h->share_locks[i]);
    pthread_mutex_destroy(&h->pool_lock);
    pthread_mutex_destroy(&h->rand_lock);
    free(h->ca_file);
    free(h);
}

const char *cb__http_name(const cb_http *h)
{
    return h->name;
}

int cb__http_tracing(const cb_http *h)
{
    return h->trace;
}

void cb__http_trace(const cb_http *h, const char *fmt, ...)
{
    char line[1200];
    va_list ap;
    if (!h->trace)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "cinderblock: %s: %s\n", h->name, line);
}

http_conn *cb__http_conn_take(cb_http *h, cb_error *err)
{
    pthread_mutex_lock(&h->pool_lock);
    http_conn *c = h->idle;
    if (c != NULL) {
        h->idle = c->next;
        h->n_idle--;
    }
    pthread_mutex_unlock(&h->pool_lock);
    if (c != NULL)
        return c;
    if ((c = cb__calloc(1, sizeof(*c), err)) == NULL)
        return NULL;
    c->multi = curl_multi_init();
    c->easy = curl_easy_init();
    if (c->multi == NULL || c->easy == NULL) {
        http_conn_free(c);
        cb_error_set(err, CB_ENOMEM, "%s store: cannot create a curl handle", h->name);
        return NULL;
    }
    return c;
}

void cb__http_conn_give(cb_http *h, http_conn *c)
{
    curl_easy_reset(c->easy);
    pthread_mutex_lock(&h->pool_lock);
    if (h->n_idle < HTTP_POOL_MAX) {
        c->next = h->idle;
        h->idle = c;
        h->n_idle++;
        c = NULL;
    }
    pthread_mutex_unlock(&h->pool_lock);
    http_conn_free(c);
}
