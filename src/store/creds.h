/* SPDX-License-Identifier: Apache-2.0 */
/*
 * creds.h: where a store's settings and credentials come from besides the variables
 * themselves. cb_store_open() builds a cb_creds for the store kind of the URL and gives the
 * store a getenv that reads it first, the caller's getenv after; every store then sees one
 * resolved environment (docs/cinderblock.1.md, SETTINGS AND CREDENTIALS):
 *
 *   NAME_FILE       for every secret: the file's content, one trailing newline removed
 *                   (NAME and NAME_FILE both set is an error)
 *   OS_CLOUD        Swift: the cloud's values from clouds.yaml and secure.yaml, for each OS_*
 *                   variable that is not set itself (creds_clouds.c)
 *   AWS_PROFILE     S3: the profile of ~/.aws/credentials and ~/.aws/config (creds_aws.c)
 *
 * Any problem with these sources is CB_EAUTH, naming the file, variable or cloud.
 *
 * creds_table.c is the table and the getenv; creds.c fills it and calls creds_clouds.c and
 * creds_aws.c, which call only the table.
 */
#ifndef CB_STORE_CREDS_H
#define CB_STORE_CREDS_H

#include "cinderblock/sys/store.h"

typedef struct cb_creds {
    char **names, **values; /* the resolved settings, owned; values may be secrets */
    size_t n, cap;
    cb_getenv_fn base; /* the caller's getenv (NULL: the process environment) */
    void *base_payload;
} cb_creds;

/* ---- creds_table.c ---- */

/* The value: the table's, else the caller's environment's. Empty counts as unset. */
const char *cb__creds_get(const cb_creds *c, const char *name);
/* Only the caller's environment (empty: NULL). */
const char *cb__creds_base(const cb_creds *c, const char *name);
/* Set (replace) a value in the table. */
int cb__creds_set(cb_creds *c, const char *name, const char *value, cb_error *err);
/* The cb_getenv_fn over a cb_creds (payload). */
const char *cb__creds_getenv(const char *name, void *payload);
/* Free the table (secrets wiped). NULL ok. */
void cb__creds_free(cb_creds *c);
/* A whole small file as a string: *out, allocated. `what` names it in errors. */
int cb__creds_read_file(const char *path, const char *what, char **out, size_t max, cb_error *err);

/* ---- creds_clouds.c, creds_aws.c ---- */

int cb__creds_clouds(cb_creds *c, const char *cloud, cb_error *err);
int cb__creds_aws(cb_creds *c, cb_error *err);

/* ---- creds.c ---- */

/* Build the table for the store kind `kind` ("swift", "s3", ...) of opts' environment. */
int cb__creds_load(cb_creds **out, const char *kind, const cb_store_opts *opts, cb_error *err);

#endif
