/* SPDX-License-Identifier: Apache-2.0 */
/* list.c: every backup of a store, oldest first, with sizes and chain lengths. */
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "../util/util.h"
#include "../format/format.h"

typedef struct lst_entry {
    cb_found found;
    cb_meta meta;
    int meta_ok;
    int state; /* 0: size unknown, 1: being computed (loop guard), 2: done */
    uint64_t size;
    unsigned chain;
    char *problem;
} lst_entry;

typedef struct lst {
    cb_store *store;
    lst_entry *e;
    size_t n;
    cb_error *err; /* the caller's: memory running out fails the listing */
    int rc;        /* CB_ENOMEM once it has */
} lst;

/* An entry's problem (the first one wins): `msg` copied, or, when it is memory running out,
 * not a problem of the backup at all but a failure of the listing. */
static void lst_problem(lst *l, lst_entry *e, int code, const char *msg)
{
    if (e->problem != NULL || l->rc < 0)
        return;
    if (code == CB_ENOMEM)
        l->rc = cb_error_set(l->err, CB_ENOMEM, "%s", msg);
    else if ((e->problem = cb__strdup(msg, l->err)) == NULL)
        l->rc = CB_ENOMEM;
}

static lst_entry *lst_by_id(lst *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->e[i].found.parts.backup_id, id) == 0)
            return &l->e[i];
    return NULL;
}

static int lst_parent_size(const char *parent_id, uint64_t *size_out, void *payload, cb_error *err)
{
    lst *l = payload;
    lst_entry *p = lst_by_id(l, parent_id);
    if (p == NULL)
        return cb_error_set(err, CB_ENOTFOUND, "its parent %s is not in the store", parent_id);
    if (p->problem != NULL)
        return cb_error_set(err, CB_ECORRUPT, "its parent %s: %s", parent_id, p->problem);
    *size_out = p->size; /* lst_size computes parents first */
    return 0;
}

/* One entry's size and chain length, once its parent's are known. */
static void lst_size_one(lst *l, lst_entry *e)
{
    cb_error perr = { 0 };
    lst_entry *p = e->meta_ok && e->meta.parent_id ? lst_by_id(l, e->meta.parent_id) : NULL;
    if (e->meta_ok &&
        cb__size_compute(l->store, &e->found, &e->meta, lst_parent_size, l, &e->size, &perr) < 0)
        lst_problem(l, e, perr.code, perr.msg);
    if (e->meta_ok && e->meta.parent_id != NULL && p == NULL && e->problem == NULL) {
        cb_error missing = { 0 };
        cb_error_set(&missing, CB_ENOTFOUND, "its parent %s is not in the store",
                     e->meta.parent_id);
        lst_problem(l, e, missing.code, missing.msg);
    }
    e->chain = p != NULL && p->state == 2 ? p->chain + 1 : 1;
    e->state = 2;
}

/*
 * Size and chain length, memoised, parents first; failures become the entry's `problem`.
 * Iterative: a chain may be long, and its parent links may loop (anyone can write a
 * metadata document), so walk up to the first known entry, then compute down.
 */
static int lst_size(lst *l, lst_entry *e, cb_error *err)
{
    lst_entry **path = NULL;
    size_t n = 0, cap = 0;
    for (lst_entry *x = e; x != NULL && x->state == 0;) {
        if (n == cap) {
            size_t c = cap ? cap * 2 : 16;
            lst_entry **v = cb__realloc(path, c * sizeof(*v), err);
            if (v == NULL) {
                free(path);
                return CB_ENOMEM;
            }
            path = v;
            cap = c;
        }
        path[n++] = x;
        x->state = 1;
        lst_entry *p = x->meta_ok && x->meta.parent_id ? lst_by_id(l, x->meta.parent_id) : NULL;
        if (p != NULL && p->state == 1) { /* back on this walk: the parents loop */
            for (size_t i = 0; i < n; i++)
                lst_problem(l, path[i], CB_ECORRUPT, "its chain of parents loops");
            break;
        }
        x = p;
    }
    while (n-- > 0)
        lst_size_one(l, path[n]);
    free(path);
    return l->rc;
}

static int lst_load(lst *l, const char *volume_id, cb_error *err)
{
    cb_found *found;
    size_t n;
    int rc = cb__catalog_scan(l->store, &found, &n, err);
    if (rc < 0)
        return rc;
    if ((l->e = cb__calloc(n + 1, sizeof(*l->e), err)) == NULL) {
        cb__catalog_free(found, n);
        return CB_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        /* another volume's backups (and their chains) need not be read at all */
        if (volume_id != NULL && strcmp(found[i].parts.volume_id, volume_id) != 0)
            continue;
        lst_entry *e = &l->e[l->n++];
        cb_error merr = { 0 };
        e->found = found[i];
        found[i] = (cb_found){ 0 };
        if (cb__catalog_read_meta(l->store, &e->found, &e->meta, &merr) == 0 &&
            cb__meta_learn_lengths(l->store, &e->found, &e->meta, &merr) == 0)
            e->meta_ok = 1;
        else
            lst_problem(l, e, merr.code, merr.msg);
    }
    cb__catalog_free(found, n);
    return l->rc;
}

/*
 * What each backup takes in the store: the sizes its objects are listed with (its _metadata
 * and _sha256file too). Cinder's metadata does not record it; a store whose listing does not
 * say gives 0. One listing per container, not per backup: in Swift or S3 every backup of a
 * store shares one container, and a listing is a request per thousand objects.
 */
typedef struct lst_stored {
    cb_backup_info **by_prefix; /* the backups of `container`, sorted by prefix */
    size_t n;
    const char *container;
} lst_stored;

static int lst_prefix_cmp(const void *a, const void *b)
{
    return strcmp((*(cb_backup_info *const *)a)->prefix, (*(cb_backup_info *const *)b)->prefix);
}

/* The backup an object belongs to: its name less "_metadata", "_sha256file" or "-NNNNN". */
static int lst_add_size(const cb_entry *entry, void *payload)
{
    lst_stored *st = payload;
    static const char *const suffixes[] = { "_metadata", "_sha256file" };
    size_t len = strlen(entry->name), plen = 0;
    for (size_t i = 0; i < 2 && plen == 0; i++) {
        size_t sl = strlen(suffixes[i]);
        if (len > sl && strcmp(entry->name + len - sl, suffixes[i]) == 0)
            plen = len - sl;
    }
    const char *dash = strrchr(entry->name, '-');
    if (plen == 0 && dash != NULL)
        plen = (size_t)(dash - entry->name);
    if (plen == 0 || entry->size <= 0)
        return 0;
    size_t lo = 0, hi = st->n; /* binary search of the name's first plen bytes */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *p = st->by_prefix[mid]->prefix;
        int c = strncmp(p, entry->name, plen);
        if (c == 0 && p[plen] != '\0')
            c = 1;
        if (c == 0) {
            st->by_prefix[mid]->stored_bytes += (uint64_t)entry->size;
            return 0;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int lst_container_cmp(const void *a, const void *b)
{
    const cb_backup_info *x = *(cb_backup_info *const *)a, *y = *(cb_backup_info *const *)b;
    int c = strcmp(x->container, y->container);
    return c ? c : strcmp(x->prefix, y->prefix);
}

/* Fill stored_bytes of v[0..n): `v` is reordered (by container, then prefix). */
static int lst_stored_all(cb_store *store, cb_backup_info **v, size_t n, cb_error *err)
{
    qsort(v, n, sizeof(*v), lst_container_cmp);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i; j < n && strcmp(v[j]->container, v[i]->container) == 0; j++)
            v[j]->stored_bytes = 0;
        lst_stored st = { .by_prefix = v + i, .n = j - i, .container = v[i]->container };
        qsort(st.by_prefix, st.n, sizeof(*st.by_prefix), lst_prefix_cmp);
        int rc = cb_store_list_entries(store, st.container, "volume_", 0, lst_add_size, &st, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int lst_cmp(const void *a, const void *b)
{
    const cb_backup_info *x = *(cb_backup_info *const *)a, *y = *(cb_backup_info *const *)b;
    int c = strcmp(x->created_at ? x->created_at : "", y->created_at ? y->created_at : "");
    return c ? c : strcmp(x->backup_id, y->backup_id);
}

static void lst_dispose(lst *l)
{
    for (size_t i = 0; i < l->n; i++) {
        cb__found_dispose(&l->e[i].found);
        cb__meta_dispose(&l->e[i].meta);
        free(l->e[i].problem);
    }
    free(l->e);
}

int cb_backup_list(
    cb_store *store, const char *volume_id, cb_backup_info ***out, size_t *n_out, cb_error *err)
{
    lst l = { .store = store, .err = err };
    cb_backup_info **v = NULL;
    size_t n = 0;
    int rc;
    *out = NULL;
    *n_out = 0;
    if ((rc = lst_load(&l, volume_id, err)) < 0)
        goto done;
    if ((v = cb__calloc(l.n + 1, sizeof(*v), err)) == NULL) {
        rc = CB_ENOMEM;
        goto done;
    }
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        lst_entry *e = &l.e[i];
        const char *vid =
            e->meta_ok && e->meta.volume_id ? e->meta.volume_id : e->found.parts.volume_id;
        if (volume_id != NULL && strcmp(vid, volume_id) != 0)
            continue;
        if ((rc = lst_size(&l, e, err)) < 0 ||
            (rc = cb__catalog_info(store, &e->found, e->meta_ok ? &e->meta : NULL, &v[n], err)) < 0)
            break;
        v[n]->size = e->size;
        v[n]->chain_length = e->chain;
        if (e->problem != NULL && (v[n]->problem = cb__strdup(e->problem, err)) == NULL)
            rc = CB_ENOMEM;
        n++;
    }
    if (rc == 0)
        rc = lst_stored_all(store, v, n, err);
    if (rc == 0) {
        qsort(v, n, sizeof(*v), lst_cmp);
        *out = v;
        *n_out = n;
        v = NULL;
    }
done:
    cb_backup_info_free_array(v, n);
    lst_dispose(&l);
    return rc;
}
