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

/* All the store's backups and, read once, the parent of each. */
typedef struct del_scan {
    cb_found *all;
    char **parents;
    size_t n;
} del_scan;

/* Delete `f` and, with cascade, its descendants first, deepest first. */
static int del_tree(cb_store *store,
                    const del_scan *sc,
                    const cb_found *f,
                    unsigned flags,
                    int depth,
                    cb_error *err)
{
    const char *id = f->parts.backup_id;
    char list[600] = "";
    size_t n_kids = 0;
    int rc = 0;
    if (depth > 10000)
        return cb_error_set(err, CB_ECORRUPT, "backup chain loops through %s", id);
    for (size_t i = 0; i < sc->n; i++) {
        if (sc->parents[i] == NULL || strcmp(sc->parents[i], id) != 0)
            continue;
        n_kids++;
        if (strlen(list) < 500) {
            strcat(list, n_kids > 1 ? ", " : "");
            strcat(list, sc->all[i].parts.backup_id);
        }
        if ((flags & CB_DELETE_CASCADE) &&
            (rc = del_tree(store, sc, &sc->all[i], flags, depth + 1, err)) < 0)
            return rc;
    }
    if (n_kids > 0 && !(flags & CB_DELETE_CASCADE))
        return cb_error_set(err, CB_EINUSE,
                            "backup %s has %zu incremental backup(s) depending on it (%s); "
                            "delete them first or use --cascade",
                            id, n_kids, list);
    return cb__delete_prefix(store, f->container, f->prefix, err);
}

int cb_backup_delete(cb_store *store, const char *backup_id, unsigned int flags, cb_error *err)
{
    char id[CB_UUID_LEN + 1];
    cb_found target = { 0 };
    del_scan sc = { 0 };
    int rc;
    if ((rc = cb__uuid_normalize(id, backup_id, "backup id", err)) < 0)
        return rc;
    if ((rc = cb__catalog_find(store, id, &target, err)) < 0)
        return rc;
    if ((rc = cb__catalog_scan(store, &sc.all, &sc.n, err)) == 0 &&
        (rc = cb__catalog_parents(store, sc.all, sc.n, &sc.parents, err)) == 0)
        rc = del_tree(store, &sc, &target, flags, 0, err);
    cb__catalog_parents_free(sc.parents, sc.n);
    cb__catalog_free(sc.all, sc.n);
    cb__found_dispose(&target);
    return rc;
}
