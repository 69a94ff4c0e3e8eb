/* SPDX-License-Identifier: Apache-2.0 */
/* delete.c: removing backups, _metadata first so a half-deleted one never looks complete. */
#include <stdlib.h>
#include <string.h>

#include "../catalog/catalog.h"
#include "../lock/lock.h"
#include "../util/util.h"
#include "../format/format.h"

/* Everything under `prefix`, the _metadata first; *removed (if not NULL): the objects that
 * were there (listed before the commit point goes, so that it counts too). */
static int delete_prefix_counted(
    cb_store *store, const char *container, const char *prefix, uint64_t *removed, cb_error *err)
{
    cb_strv d = { .err = err };
    char *meta = cb__name_metadata(prefix, err);
    int rc, listed;
    if (removed != NULL)
        *removed = 0;
    if (meta == NULL)
        return CB_ENOMEM;
    /* counting: what is there, before anything goes */
    listed = removed != NULL;
    rc = listed ? cb_store_list(store, container, prefix, 0, cb__strv_collect, &d, err) : 0;
    if (rc == CB_ENOTFOUND) { /* no container: nothing to delete */
        cb_error_clear(err);
        rc = 0;
    }
    /* the commit point goes first */
    if (rc == 0)
        rc = cb_store_delete_object(store, container, meta, 0, err);
    if (rc == 0 && !listed) {
        rc = cb_store_list(store, container, prefix, 0, cb__strv_collect, &d, err);
        if (rc == CB_ENOTFOUND) {
            cb_error_clear(err);
            rc = 0;
        }
    }
    for (size_t i = 0; rc == 0 && i < d.n; i++) {
        if (strcmp(d.v[i], meta) != 0)
            rc = cb_store_delete_object(store, container, d.v[i], 0, err);
        if (rc == 0 && removed != NULL)
            (*removed)++;
    }
    cb__strv_dispose(&d);
    free(meta);
    return rc;
}

int cb__delete_prefix(cb_store *store, const char *container, const char *prefix, cb_error *err)
{
    return delete_prefix_counted(store, container, prefix, NULL, err);
}

int cb_backup_delete_at(
    cb_store *store, const char *container, const char *prefix, uint64_t *removed, cb_error *err)
{
    cb_prefix_parts parts;
    if (removed != NULL)
        *removed = 0;
    if (store == NULL)
        return cb_error_set(err, CB_EINVAL, "cb_backup_delete_at: no store");
    if (container == NULL || container[0] == '\0')
        return cb_error_set(err, CB_EINVAL, "delete at prefix '%s': no container given",
                            prefix ? prefix : "(null)");
    /* never "" or a partial name: a listing by that prefix would take other backups along */
    if (!cb__prefix_parse_as(prefix, cb_store_get_info(store)->flat_prefix, &parts))
        return cb_error_set(err, CB_EINVAL,
                            "prefix '%s' is not a whole backup prefix in this store's object "
                            "names: nothing deleted",
                            prefix ? prefix : "(null)");
    return delete_prefix_counted(store, container, prefix, removed, err);
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

/* Keep only the first `n` names of `sv` (those of the backups actually deleted). */
static void del_keep(cb_strv *sv, size_t n)
{
    while (sv != NULL && sv->n > n)
        free(sv->v[--sv->n]);
}

/* Delete `target` and, with cascade, every backup that depends on it, children first (the
 * reverse of the walk down), so that no remaining backup ever lacks its parent. The ids go
 * into `done` (when not NULL) before anything is deleted, so that no allocation can fail
 * once a backup is gone; those not deleted are dropped again. */
static int del_tree(cb_store *store,
                    const del_scan *sc,
                    const cb_found *target,
                    unsigned flags,
                    cb_lock *lock,
                    cb_strv *done,
                    cb_error *err)
{
    size_t root = del_index(sc, target->parts.backup_id), *order = NULL, n = 0, gone = 0;
    int dry = (flags & CB_DELETE_DRY_RUN) != 0;
    int rc;
    if (root == sc->n) { /* gone from the listing meanwhile: nothing depends on it we see */
        if (done != NULL && (rc = cb__strv_push(done, target->parts.backup_id)) < 0)
            return rc;
        rc = dry ? 0 : cb__delete_prefix(store, target->container, target->prefix, err);
        del_keep(done, rc == 0 ? 1 : 0);
        return rc;
    }
    if ((rc = del_descendants(sc, root, &order, &n, err)) < 0)
        return rc;
    if (n > 1 && !(flags & CB_DELETE_CASCADE))
        rc = del_refuse(sc, target->parts.backup_id, order, n, err);
    for (size_t k = n; rc == 0 && done != NULL && k-- > 0;)
        rc = cb__strv_push(done, sc->all[order[k]].parts.backup_id);
    for (size_t k = n; rc == 0 && k-- > 0; gone += rc == 0)
        if ((rc = cb__lock_held(lock, err)) == 0)
            rc = dry ? 0
                     : cb__delete_prefix(store, sc->all[order[k]].container,
                                         sc->all[order[k]].prefix, err);
    del_keep(done, gone);
    free(order);
    return rc;
}

int cb_backup_delete_ex(cb_store *store,
                        const char *backup_id,
                        unsigned int flags,
                        char ***deleted_out,
                        size_t *n_out,
                        cb_error *err)
{
    char id[CB_UUID_LEN + 1];
    cb_found target = { 0 };
    del_scan sc = { 0 };
    cb_strv done = { .err = err };
    int rc;
    cb_lock *lock = NULL;
    if (deleted_out != NULL)
        *deleted_out = NULL;
    if (n_out != NULL)
        *n_out = 0;
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
        rc = del_tree(store, &sc, &target, flags, lock, deleted_out ? &done : NULL, err);
    cb__catalog_parents_free(sc.parents, sc.n);
    cb__catalog_free(sc.all, sc.n);
    cb__found_dispose(&target);
    cb__lock_release(lock);
    if (deleted_out != NULL) { /* the array is the caller's now */
        *deleted_out = done.v;
        if (n_out != NULL)
            *n_out = done.n;
        done = (cb_strv){ 0 };
    }
    cb__strv_dispose(&done);
    return rc;
}

int cb_backup_delete(cb_store *store, const char *backup_id, unsigned int flags, cb_error *err)
{
    return cb_backup_delete_ex(store, backup_id, flags, NULL, NULL, err);
}

void cb_backup_ids_free(char **ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}
