/* SPDX-License-Identifier: Apache-2.0 */
/*
 * swift_internal.h: what the files of the Swift store share: its state (swift.c), the
 * requests it makes (swift_request.c), listings (swift_list.c), writers and readers
 * (swift_io.c), and its authentication (swift_auth.c), described here.
 *
 * Three ways in, chosen from the settings (environment, through cb_store_opts.getenv):
 *   token      OS_AUTH_TOKEN + OS_STORAGE_URL: a token someone else obtained (Cinder's
 *              per_user mode); it cannot be renewed, so a 401 is final
 *   tempauth   ST_AUTH, ST_USER, ST_KEY: Swift's v1 authentication
 *   keystone   OS_AUTH_URL + OS_USERNAME/OS_USER_ID + OS_PASSWORD (or
 *              OS_APPLICATION_CREDENTIAL_ID/_NAME + _SECRET), scoped to OS_PROJECT_NAME/_ID in
 *              OS_PROJECT_DOMAIN_NAME/_ID; the storage URL is the catalog's object-store
 *              endpoint for OS_INTERFACE (public) in OS_REGION_NAME, unless OS_STORAGE_URL
 *              names one
 * CINDERBLOCK_SWIFT_AUTH=token|tempauth|keystone forces one; otherwise the first of the
 * three whose settings are present wins, in that order.
 *
 * The token is fetched on first use and shared by every thread of the store. Renewal after
 * a 401 is keyed by an epoch, so that when several threads see the same expired token only
 * one of them authenticates again.
 */
#ifndef CB_STORE_SWIFT_INTERNAL_H
#define CB_STORE_SWIFT_INTERNAL_H

#include <pthread.h>

#include "../http/http.h"
#include "../../util/util.h"

enum { SWIFT_AUTH_TOKEN = 1, SWIFT_AUTH_TEMPAUTH, SWIFT_AUTH_KEYSTONE };

typedef struct swift_auth {
    int mode;
    cb_http *h;
    pthread_mutex_t lock; /* guards token, storage_url and epoch */
    char *token;          /* current token, NULL before the first login */
    char *storage_url;    /* account URL, no trailing '/' */
    unsigned epoch;       /* bumped at every login */
    /* settings, owned copies (NULL when unset) */
    char *auth_url;
    char *user, *user_id, *user_domain_name, *user_domain_id;
    char *key; /* ST_KEY or OS_PASSWORD */
    char *project_name, *project_id, *project_domain_name, *project_domain_id;
    char *app_cred_id, *app_cred_name, *app_cred_secret;
    char *region, *interface;
    char *storage_url_override; /* OS_STORAGE_URL */
} swift_auth;

/** Read the settings. Fails with CB_EINVAL naming what is missing. */
int cb__swift_auth_init(swift_auth *a, cb_http *h, const cb_store_opts *opts, cb_error *err);
void cb__swift_auth_dispose(swift_auth *a);

/** 1 if a refused token can be replaced (credentials are known). */
int cb__swift_auth_renewable(const swift_auth *a);

/**
 * The current storage URL and token (logging in first if needed), as new strings the
 * caller frees, and the epoch they belong to.
 */
int cb__swift_auth_get(
    swift_auth *a, char **url_out, char **token_out, unsigned *epoch_out, cb_error *err);

/** The token of `epoch` was refused: log in again unless another thread already did. */
int cb__swift_auth_renew(swift_auth *a, unsigned epoch, cb_error *err);

/** A short description for messages: "tempauth user 'test:tester' at http://...". */
void cb__swift_auth_describe(const swift_auth *a, char *out, size_t cap);

/* ---- the store (swift.c) ---- */

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

/* ---- requests (swift_request.c) ---- */

/* What swift_prepare needs to build a request's URL and token for each attempt. */
typedef struct swift_call {
    swift_state *st;
    const char *container; /* NULL: the account */
    const char *object;    /* NULL: the container */
    const char *query;     /* escaped, without '?', or NULL */
} swift_call;

/* Build the URL and token of a request before each attempt (a cb_http_prepare_fn). */
int cb__swift_prepare(cb_http_req *req, void *payload, cb_error *err);
/* The renewal hook, or NULL when the token cannot be renewed. */
cb_http_renew_fn cb__swift_renewer(const swift_state *st);
/* Run a request with the retry policy, the token renewed on 401. */
int cb__swift_call_do(swift_call *c, cb_http_req *req, cb_http_resp *resp, cb_error *err);
/* A 2xx answer. */
int cb__swift_ok(const cb_http_resp *resp);
/* CB_EINVAL for a name Swift would refuse. */
int cb__swift_check_container(const char *container, cb_error *err);

/* ---- listings (swift_list.c) ---- */

int cb__swift_list(void *state,
                   const char *container,
                   const char *prefix,
                   unsigned int flags,
                   cb_list_fn fn,
                   void *payload,
                   cb_error *err);
int cb__swift_list_entries(void *state,
                           const char *container,
                           const char *prefix,
                           unsigned int flags,
                           cb_entry_fn fn,
                           void *payload,
                           cb_error *err);
int cb__swift_list_containers(
    void *state, unsigned int flags, cb_list_fn fn, void *payload, cb_error *err);

/* ---- writers and readers (swift_io.c) ---- */

int cb__swift_open_writer(void *state,
                          const char *container,
                          const char *name,
                          const char *extra_metadata,
                          unsigned int flags,
                          cb_writer **out,
                          cb_error *err);
int cb__swift_open_reader(void *state,
                          const char *container,
                          const char *name,
                          const char *extra_metadata,
                          unsigned int flags,
                          cb_reader **out,
                          cb_error *err);

#endif
