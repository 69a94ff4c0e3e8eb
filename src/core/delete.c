/* SPDX-License-Identifier: Apache-2.0 */
/* delete.c: removing backups, _metadata first so a half-deleted one never looks complete. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "../util/alloc.h"

typedef struct del_names {
    char **v;
    size_t n, cap;
    cb_error *err;
} del_names;

static int del_collect(const char *name, void *payload)
{
    del_names *d = payload;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        char **v = cb__realloc(d->v, cap * sizeof(*v), d->err);
        if (v == NULL)
            return CB_ENOMEM;
        d->v = v;
        d->cap = cap;
    }
    if ((d->v[d->n] = cb__strdup(name, d->err)) == NULL)
        return CB_ENOMEM;
    d->n++;
    return 0;
}

int cb__delete_prefix(cb_store *store, const char *container, const char *prefix, cb_error *err)
{
    del_names d = { .err = err };
    char *meta = cb__name_metadata(prefix, err);
    int rc;
    if (meta == NULL)
        return CB_ENOMEM;
    /* the commit point goes first */
    if ((rc = cb_store_delete_object(store, container, meta, 0, err)) < 0)
        goto done;
    rc = cb_store_list(store, container, prefix, 0, del_collect, &d, err);
    if (rc == CB_ENOTFOUND) { /* no container: nothing to delete */
        cb_error_clear(err);
        rc = 0;
    }
    for (size_t i = 0; rc == 0 && i < d.n; i++)
        rc = cb_store_delete_object(store, container, d.v[i], 0, err);
done:
    for (size_t i = 0; i < d.n; i++)
        free(d.v[i]);
    free(d.v);
    free(meta);
    return rc;
}

typedef struct del_child {
    char *id;
    char *created_at;
} del_child;

/* The backups whose parent is `id`, found by reading every metadata of the store. */
static int del_children(cb_store *store,
                        const cb_found *all,
                        size_t n,
                        const char *id,
                        cb_found **kids,
                        size_t *n_kids,
                        cb_error *err)
{
    *kids = NULL;
    *n_kids = 0;
    for (size_t i = 0; i < n; i++) {
        cb_meta m;
        int rc = cb__catalog_read_meta(store, &all[i], &m, err);
        if (rc < 0)
            return rc;
        int child = m.parent_id != NULL && strcmp(m.parent_id, id) == 0;
        cb__meta_dispose(&m);
        if (!child)
            continue;
        cb_found *k = cb__realloc(*kids, (*n_kids + 1) * sizeof(*k), err);
        if (k == NULL)
            return CB_ENOMEM;
        *kids = k;
        k[*n_kids] = all[i]; /* borrowed */
        (*n_kids)++;
    }
    return 0;
}

/* Delete `f` and, with cascade, its descendants first (newest first: depth first). */
static int del_tree(cb_store *store,
                    const cb_found *all,
                    size_t n,
                    const cb_found *f,
                    unsigned flags,
                    int depth,
                    cb_error *err)
{
    cb_found *kids;
    size_t n_kids;
    int rc;
    if (depth > 10000)
        return cb_error_set(err, CB_ECORRUPT, "backup chain loops through %s", f->parts.backup_id);
    if ((rc = del_children(store, all, n, f->parts.backup_id, &kids, &n_kids, err)) < 0)
        goto done;
    if (n_kids > 0 && !(flags & CB_DELETE_CASCADE)) {
        char list[600] = "";
        for (size_t i = 0; i < n_kids && strlen(list) < 500; i++) {
            strcat(list, i ? ", " : "");
            strcat(list, kids[i].parts.backup_id);
        }
        rc = cb_error_set(err, CB_EINUSE,
                          "backup %s has %zu incremental backup(s) depending on it (%s); delete "
                          "them first or use --cascade",
                          f->parts.backup_id, n_kids, list);
        goto done;
    }
    for (size_t i = 0; i < n_kids && rc == 0; i++)
        rc = del_tree(store, all, n, &kids[i], flags, depth + 1, err);
    if (rc == 0)
        rc = cb__delete_prefix(store, f->container, f->prefix, err);
done:
    free(kids);
    return rc;
}

int cb_backup_delete(cb_store *store, const char *backup_id, unsigned int flags, cb_error *err)
{
    char id[CB_UUID_LEN + 1];
    cb_found *all = NULL, target = { 0 };
    size_t n = 0;
    int rc;
    if ((rc = cb__uuid_normalize(id, backup_id, "backup id", err)) < 0)
        return rc;
    if ((rc = cb__catalog_find(store, id, &target, err)) < 0)
        return rc;
    if ((rc = cb__catalog_scan(store, &all, &n, err)) == 0)
        rc = del_tree(store, all, n, &target, flags, 0, err);
    cb__catalog_free(all, n);
    cb__found_dispose(&target);
    return rc;
}
