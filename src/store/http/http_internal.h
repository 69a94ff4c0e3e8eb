/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_internal.h: what the files of store/http share beyond http.h: the store's HTTP
 * context (http.c makes it and keeps its pool of connections; http_xfer.c runs transfers on
 * them; http_retry.c reads the retry settings).
 */
#ifndef CB_STORE_HTTP_INTERNAL_H
#define CB_STORE_HTTP_INTERNAL_H

#include <pthread.h>

#include "http.h"

typedef struct http_conn {
    CURLM *multi; /* owns the connection cache this conn reuses */
    CURL *easy;
    struct http_conn *next;
} http_conn;

struct cb_http {
    char name[16];
    char *ca_file;
    int insecure;
    int attempts;
    double backoff;
    double timeout;
    int trace;
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST]; /* one per kind of shared data */
    pthread_mutex_t pool_lock;                        /* guards idle and n_idle */
    http_conn *idle;
    int n_idle;
    pthread_mutex_t rand_lock; /* guards rand_state */
    uint64_t rand_state;
};

/* Seconds on the monotonic clock. */
double cb__http_now(void);

/* A connection from the pool, or a new one; NULL (err set) if none can be made. */
http_conn *cb__http_conn_take(cb_http *h, cb_error *err);

/* Back to the pool (reset), or closed when the pool is full. */
void cb__http_conn_give(cb_http *h, http_conn *c);

#endif
