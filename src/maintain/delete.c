/* SPDX-License-Identifier: Apache-2.0 */
/* delete.c: removing backups, _metadata first so a half-deleted one never looks complete. */
#include <stdlib.h>
#include <string.h>

#include "../catalog/catalog.h"
#include "../lock/lock.h"
#include "../util/util.h"
#include "../format/format.h"

int cb__delete_prefix(cb_store *store, const char *container, const char *prefix, cb_error *err)
{
    cb_strv d = { .err = err };
    char *meta = cb__name_metadata(prefix, err);
    int rc;
    if (meta == NULL)
        return CB_ENOMEM;
    /* the commit point goes first */
    if ((rc = cb_store_delete_object(store, container, meta, 0, err)) < 0)
        goto done;
    rc = cb_store_list(store, container, prefix, 0, cb__strv_collect, &d, err);
    if (rc == CB_ENOTFOUND) { /* no container: nothing to delete */
        cb_error_clear(err);
        rc = 0;
    }
    for (size_t i = 0; rc == 0 && i < d.n; i++)
        rc = cb_store_delete_object(store, container, d.v[i], 0, err);
done:
    cb__strv_dispose(&d);
    free(meta);
    return rc;
}

/* All the store's backups and, read once, the parent of each. */
typedef struct del_scan {
    cb_found *all;
    char **parents;
    size_t n;
} del_scan;

/* The index of backup `id` in the scan, or sc->n. */
static size_t del_index(const del_scan *sc, const char *id)
{
    for (size_t i = 0; i < sc->n; i++)
        if (strcmp(sc->all[i].parts.backup_id, id) == 0)
            return i;
    return sc->n;
}

/*
 * The backups that depend on `root`, breadth first, each once: the parent links come from
 * metadata anybody could have written, and a loop among them must neither recurse without
 * end nor delete a backup twice. order[0] is root; every backup comes after its parent.
 */
static int
del_descendants(const del_scan *sc, size_t root, size_t **out, size_t *n_out, cb_error *err)
{
    size_t *order = cb__calloc(sc->n + 1, sizeof(*order), err);
    unsigned char *seen = cb__calloc(sc->n + 1, 1, err);
    size_t n = 0;
    if (order == NULL || seen == NULL) {
        free(order);
        free(seen);
        return CB_ENOMEM;
    }
    order[n++] = root;
    seen[root] = 1;
    for (size_t head = 0; head < n; head++) {
        const char *id = sc->all[order[head]].parts.backup_id;
        for (size_t i = 0; i < sc->n; i++)
            if (!seen[i] && sc->parents[i] != NULL && strcmp(sc->parents[i], id) == 0) {
                seen[i] = 1;
                order[n++] = i;
            }
    }
    free(seen);
    *out = order;
    *n_out = n;
    return 0;
}

/* Refuse to delete a backup others depend on, naming (some of) them. */
static int
del_refuse(const del_scan *sc, const char *id, const size_t *order, size_t n, cb_error *err)
{
    char list[600] = "";
    size_t kids = 0;
    for (size_t k = 1; k < n; k++) {
        const cb_found *f = &sc->all[order[k]];
        if (strcmp(sc->parents[order[k]], id) != 0)
            continue;
        kids++;
        if (strlen(list) < 500) {
            strcat(list, kids > 1 ? ", " : "");
            strcat(list, f->parts.backup_id);
        }
    }
    return cb_error_set(err, CB_EINUSE,
                        "backup %s has %zu incremental backup(s) depending on it (%s); delete "
                        "them first or use --cascade",
                        id, kids, list);
}

/* What was (or, in a dry run, would be) deleted, in order. */
typedef struct del_done {
    cb_backup_info **v; /* NULL: the caller does not want the list */
    size_t n;
    int want;
} del_done;

/* Delete one backup (unless `dry`) and note it. */
static int del_one(cb_store *store, const cb_found *f, int dry, del_done *done, cb_error *err)
{
    int rc = dry ? 0 : cb__delete_prefix(store, f->container, f->prefix, err);
    if (rc < 0 || !done->want)
        return rc;
    cb_backup_info **v = realloc(done->v, (done->n + 1) * sizeof(*v));
    if (v == NULL)
        return cb_error_set(err, CB_ENOMEM, "out of memory");
    done->v = v;
    if ((rc = cb__catalog_info(store, f, NULL, &v[done->n], err)) < 0)
        return rc;
    done->n++;
    return 0;
}

/* Delete `target` and, with cascade, every backup that depends on it, children first (the
 * reverse of the walk down), so that no remaining backup ever lacks its parent. */
static int del_tree(cb_store *store,
                    const del_scan *sc,
                    const cb_found *target,
                    unsigned flags,
                    cb_lock *lock,
                    del_done *done,
                    cb_error *err)
{
    size_t root = del_index(sc, target->parts.backup_id), *order = NULL, n = 0;
    int dry = (flags & CB_DELETE_DRY_RUN) != 0;
    int rc;
    if (root == sc->n) /* gone from the listing meanwhile: nothing depends on it that we see */
        return del_one(store, target, dry, done, err);
    if ((rc = del_descendants(sc, root, &order, &n, err)) < 0)
        return rc;
    if (n > 1 && !(flags & CB_DELETE_CASCADE))
        rc = del_refuse(sc, target->parts.backup_id, order, n, err);
    for (size_t k = n; rc == 0 && k-- > 0;)
        if ((rc = cb__lock_held(lock, err)) == 0)
            rc = del_one(store, &sc->all[order[k]], dry, done, err);
    free(order);
    return rc;
}

static int
del_run(cb_store *store, const char *backup_id, unsigned int flags, del_done *done, cb_error *err)
{
    char id[CB_UUID_LEN + 1];
    cb_found target = { 0 };
    del_scan sc = { 0 };
    int rc;
    cb_lock *lock = NULL;
    if ((rc = cb__uuid_normalize(id, backup_id, "backup id", err)) < 0)
        return rc;
    /* a dry run writes nothing, not even a lock: what it reports may be stale at once */
    if ((rc = cb__catalog_find(store, id, &target, err)) < 0 ||
        (!(flags & CB_DELETE_DRY_RUN) &&
         (rc = cb__lock_take(store, 1, "delete", id, &lock, err)) < 0)) {
        cb__found_dispose(&target);
        return rc;
    }
    if ((rc = cb__catalog_scan(store, &sc.all, &sc.n, err)) == 0 &&
        (rc = cb__catalog_parents(store, sc.all, sc.n, &sc.parents, err)) == 0)
        rc = del_tree(store, &sc, &target, flags, lock, done, err);
    cb__catalog_parents_free(sc.parents, sc.n);
    cb__catalog_free(sc.all, sc.n);
    cb__found_dispose(&target);
    cb__lock_release(lock);
    return rc;
}

int cb_backup_delete(cb_store *store, const char *backup_id, unsigned int flags, cb_error *err)
{
    del_done done = { 0 };
    return del_run(store, backup_id, flags, &done, err);
}

int cb_backup_delete_list(cb_store *store,
                          const char *backup_id,
                          unsigned int flags,
                          cb_backup_info ***out,
                          size_t *n_out,
                          cb_error *err)
{
    del_done done = { .want = 1 };
    int rc = del_run(store, backup_id, flags, &done, err);
    if (rc < 0) {
        cb_backup_info_free_array(done.v, done.n);
        done.v = NULL;
        done.n = 0;
    }
    *out = done.v;
    *n_out = done.n;
    return rc;
}
