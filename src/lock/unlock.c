/* SPDX-License-Identifier: Apache-2.0 */
/* unlock.c: showing and removing a store's locks (`cinderblock unlock`). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lock_doc.h"
#include "../util/util.h"

void cb_lock_info_free_array(cb_lock_info *v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++) {
        free(v[i].name);
        free(v[i].host);
        free(v[i].command);
    }
    free(v);
}

/* Describe lock object `name`; a document that cannot be parsed is `unreadable`. */
static int unlock_describe(cb_store *store,
                           const char *home,
                           const char *name,
                           const char *my_host,
                           cb_lock_info *out,
                           cb_error *err)
{
    cb_lock_doc d;
    cb_error gerr = { 0 };
    memset(out, 0, sizeof(*out));
    int rc = cb__lock_doc_get(store, home, name, &d, &gerr);
    if (rc == CB_ENOTFOUND)
        return 1; /* released meanwhile */
    if (rc < 0 && rc != CB_ECORRUPT) {
        *err = gerr;
        return rc;
    }
    if ((out->name = cb__strdup(name, err)) == NULL)
        return CB_ENOMEM;
    if (rc == CB_ECORRUPT) {
        out->unreadable = out->stale = 1;
        return 0;
    }
    if ((out->host = cb__strdup(d.host, err)) == NULL ||
        (out->command = cb__strdup(d.command, err)) == NULL)
        return CB_ENOMEM;
    out->pid = d.pid;
    out->exclusive = d.exclusive;
    out->created = d.created;
    out->expires = d.expires;
    out->stale = cb__lock_doc_stale(&d, my_host, (int64_t)time(NULL));
    return 0;
}

/* Every lock object but the claim, described; `*home_out` is the home container. */
static int
unlock_scan(cb_store *store, char **home_out, cb_lock_info **out, size_t *n_out, cb_error *err)
{
    cb_strv names = { .err = err };
    char host[256];
    size_t k = 0;
    cb_lock_info *v = NULL;
    int rc = cb_store_home_container(store, home_out, err);
    if (rc == 0)
        rc = cb__lock_names(store, *home_out, &names, err);
    if (rc == 0 && (v = cb__calloc(names.n + 1, sizeof(*v), err)) == NULL)
        rc = CB_ENOMEM;
    cb__lock_host(store, host);
    for (size_t i = 0; rc == 0 && i < names.n; i++) {
        if (strcmp(names.v[i], CB_LOCK_CLAIM) == 0)
            continue;
        int got = unlock_describe(store, *home_out, names.v[i], host, &v[k], err);
        if (got < 0)
            rc = got;
        else if (got == 0)
            k++;
    }
    cb__strv_dispose(&names);
    if (rc < 0) {
        cb_lock_info_free_array(v, k + 1);
        return rc;
    }
    *out = v;
    *n_out = k;
    return 0;
}

int cb_lock_list(cb_store *store, cb_lock_info **out, size_t *n_out, cb_error *err)
{
    char *home = NULL;
    int rc = unlock_scan(store, &home, out, n_out, err);
    free(home);
    return rc;
}

/* The claim goes with its exclusive lock: when that lock is gone or removed, or is stale. */
static void unlock_claim(cb_store *store, const char *home, unsigned flags, const char *host)
{
    cb_lock_doc claim, holder;
    cb_error e = { 0 };
    char name[64];
    if (cb__lock_doc_get(store, home, CB_LOCK_CLAIM, &claim, &e) == CB_ENOTFOUND)
        return;
    cb_error_clear(&e);
    cb__lock_doc_name(&claim, name);
    int gone = cb__lock_doc_get(store, home, name, &holder, &e) < 0;
    if ((flags & CB_UNLOCK_ALL) || gone || cb__lock_doc_stale(&claim, host, (int64_t)time(NULL)))
        cb_store_delete_object(store, home, CB_LOCK_CLAIM, 0, &e);
}

int cb_unlock(
    cb_store *store, unsigned int flags, cb_lock_info **removed, size_t *n_removed, cb_error *err)
{
    char *home = NULL, host[256];
    cb_lock_info *v = NULL;
    size_t n = 0, k = 0;
    int rc = unlock_scan(store, &home, &v, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!(flags & CB_UNLOCK_ALL) && !v[i].stale)
            continue;
        if ((rc = cb_store_delete_object(store, home, v[i].name, 0, err)) < 0)
            break;
        if (k != i) { /* keep what was removed at the front */
            cb_lock_info t = v[k];
            v[k] = v[i];
            v[i] = t;
        }
        k++;
    }
    if (rc == 0) {
        cb__lock_host(store, host);
        unlock_claim(store, home, flags, host);
    }
    free(home);
    if (rc < 0 || removed == NULL) {
        cb_lock_info_free_array(v, n);
        if (removed != NULL)
            *removed = NULL;
    } else {
        for (size_t i = k; i < n; i++) { /* the caller gets the first k */
            free(v[i].name);
            free(v[i].host);
            free(v[i].command);
        }
        *removed = v;
    }
    if (n_removed != NULL)
        *n_removed = rc == 0 ? k : 0;
    return rc;
}
