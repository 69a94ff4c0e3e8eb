/* SPDX-License-Identifier: Apache-2.0 */
/* strv.h: a growable array of owned strings, such as the names a store listing gives. */
#ifndef CB_UTIL_STRV_H
#define CB_UTIL_STRV_H

#include <stddef.h>

#include "cinderblock/common.h"

typedef struct cb_strv {
    char **v;
    size_t n, cap;
    cb_error *err; /* where a failed allocation is reported */
} cb_strv;

/* Append a copy of `s`. 0 or CB_ENOMEM (in sv->err). */
int cb__strv_push(cb_strv *sv, const char *s);

/* A cb_list_fn (payload: a cb_strv) that keeps every name listed. */
int cb__strv_collect(const char *name, void *payload);

/* Whether `s` is among the strings. */
int cb__strv_has(const cb_strv *sv, const char *s);

void cb__strv_dispose(cb_strv *sv); /* the strings and the array; sv may be reused */

#endif
