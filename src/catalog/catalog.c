/* SPDX-License-Identifier: Apache-2.0 */
/* catalog.c: backups are found by listing *_metadata objects in the store's containers. */
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "../util/util.h"
#include "../format/format.h"

void cb__catalog_free(cb_found *found, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cb__found_dispose(&found[i]);
    free(found);
}

typedef struct catalog_acc {
    cb_found *items;
    size_t n, cap;
    const char *container; /* the container being listed */
    const char *want_id;   /* only this backup, or NULL for all */
    cb_error *err;
} catalog_acc;

static int catalog_add(catalog_acc *a, const char *prefix, const cb_prefix_parts *parts)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        cb_found *f = cb__realloc(a->items, cap * sizeof(*f), a->err);
        if (f == NULL)
            return CB_ENOMEM;
        a->items = f;
        a->cap = cap;
    }
    cb_found *f = &a->items[a->n];
    f->container = cb__strdup(a->container, a->err);
    f->prefix = cb__strdup(prefix, a->err);
    f->parts = *parts;
    if (f->container == NULL || f->prefix == NULL) {
        cb__found_dispose(f);
        return CB_ENOMEM;
    }
    a->n++;
    return 0;
}

static int catalog_on_object(const char *name, void *payload)
{
    catalog_acc *a = payload;
    static const char suffix[] = "_metadata";
    size_t len = strlen(name), slen = sizeof(suffix) - 1;
    cb_prefix_parts parts;
    if (len <= slen || strcmp(name + len - slen, suffix) != 0)
        return 0;
    char *prefix = cb__strndup(name, len - slen, a->err);
    if (prefix == NULL)
        return CB_ENOMEM;
    int rc = 0;
    if (cb__prefix_parse(prefix, &parts) &&
        (a->want_id == NULL || strcmp(parts.backup_id, a->want_id) == 0))
        rc = catalog_add(a, prefix, &parts);
    free(prefix);
    return rc;
}

static int catalog_list_one(cb_store *store, catalog_acc *a, const char *container)
{
    a->container = container;
    int rc = cb_store_list(store, container, "volume_", 0, catalog_on_object, a, a->err);
    if (rc == CB_ENOTFOUND) { /* a container that vanished, or was never made */
        cb_error_clear(a->err);
        return 0;
    }
    return rc;
}

static int catalog_on_container(const char *container, void *payload)
{
    catalog_acc *a = payload;
    /* list_containers holds the store's attention; gather names first */
    return catalog_add(a, container, &(cb_prefix_parts){ { 0 } });
}

/* The containers to search: all the store can enumerate, else its default one. */
static int catalog_containers(cb_store *store, catalog_acc *names, cb_error *err)
{
    names->err = err;
    names->container = "";
    int rc = cb_store_list_containers(store, 0, catalog_on_container, names, err);
    if (rc != CB_ENOTSUPP)
        return rc;
    cb_error_clear(err);
    char *def = NULL;
    if ((rc = cb_store_update_container_name(store, "00000000-0000-0000-0000-000000000000", NULL,
                                             &def, err)) < 0)
        return rc;
    names->container = def;
    rc = catalog_add(names, def, &(cb_prefix_parts){ { 0 } });
    free(def);
    return rc;
}

int cb__catalog_containers(cb_store *store, char ***out, size_t *n_out, cb_error *err)
{
    catalog_acc names = { 0 };
    int rc = catalog_containers(store, &names, err);
    char **v = rc == 0 ? cb__calloc(names.n + 1, sizeof(*v), err) : NULL;
    if (rc == 0 && v == NULL)
        rc = CB_ENOMEM;
    for (size_t i = 0; rc == 0 && i < names.n; i++) { /* the name is in .prefix */
        v[i] = names.items[i].prefix;
        names.items[i].prefix = NULL;
    }
    cb__catalog_free(names.items, names.n);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v;
    *n_out = names.n;
    return 0;
}

static int catalog_search(cb_store *store, const char *want_id, catalog_acc *a, cb_error *err)
{
    catalog_acc names = { 0 };
    int rc = catalog_containers(store, &names, err);
    a->want_id = want_id;
    a->err = err;
    /* the container name was stored in .prefix by catalog_on_container */
    for (size_t i = 0; rc == 0 && i < names.n; i++)
        rc = catalog_list_one(store, a, names.items[i].prefix);
    cb__catalog_free(names.items, names.n);
    return rc;
}

int cb__catalog_scan(cb_store *store, cb_found **out, size_t *n_out, cb_error *err)
{
    catalog_acc a = { 0 };
    int rc = catalog_search(store, NULL, &a, err);
    if (rc < 0) {
        cb__catalog_free(a.items, a.n);
        return rc;
    }
    *out = a.items;
    *n_out = a.n;
    return 0;
}

int cb__catalog_find(cb_store *store, const char *backup_id, cb_found *out, cb_error *err)
{
    catalog_acc a = { 0 };
    char *guess = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    a.want_id = backup_id;
    a.err = err;
    /* the caller said where it is: one listing of its _metadata, there (a hint that is wrong
     * costs that listing, never a wrong answer: the search below still runs) */
    char *hc, *hp;
    if (cb__catalog_hinted(store, backup_id, &hc, &hp)) {
        cb_error herr = { 0 };
        char *meta = cb__name_metadata(hp, &herr);
        a.container = hc;
        a.err = &herr;
        rc = meta == NULL ? CB_ENOMEM
                          : cb_store_list(store, hc, meta, 0, catalog_on_object, &a, &herr);
        size_t hit = a.n;
        for (size_t i = 0; rc == 0 && i < a.n; i++) /* that very prefix, nothing longer */
            if (strcmp(a.items[i].prefix, hp) == 0)
                hit = i;
        if (hit < a.n) {
            *out = a.items[hit];
            a.items[hit] = (cb_found){ 0 };
        }
        cb__catalog_free(a.items, a.n);
        a = (catalog_acc){ .want_id = backup_id, .err = err };
        free(meta);
        free(hc);
        free(hp);
        if (out->prefix != NULL)
            return 0;
    }
    /* fast path: the container the store would have chosen for this id (a store that
     * cannot guess one is searched in full) */
    cb_error gerr = { 0 };
    if (cb_store_update_container_name(store, backup_id, NULL, &guess, &gerr) == 0)
        rc = catalog_list_one(store, &a, guess);
    else
        rc = 0;
    free(guess);
    if (rc == 0 && a.n == 0)
        rc = catalog_search(store, backup_id, &a, err);
    if (rc == 0 && a.n == 0)
        rc = cb_error_set(err, CB_ENOTFOUND, "backup %s not found in the store", backup_id);
    if (rc == 0) {
        *out = a.items[0];
        a.items[0] = (cb_found){ 0 };
    }
    cb__catalog_free(a.items, a.n);
    return rc;
}

int cb__catalog_read_meta(cb_store *store, const cb_found *f, cb_meta *m, cb_error *err)
{
    char *name = cb__asprintf(err, "%s_metadata", f->prefix);
    char *json = NULL;
    size_t len;
    int rc;
    if (name == NULL)
        return CB_ENOMEM;
    if ((rc = cb_store_read_all(store, f->container, name, CB_META_MAX, &json, &len, err)) == 0)
        rc = cb__meta_parse(m, json, len, name, err);
    free(json);
    free(name);
    return rc;
}

int cb__catalog_parents(cb_store *store, const cb_found *all, size_t n, char ***out, cb_error *err)
{
    char **parents = cb__calloc(n + 1, sizeof(*parents), err);
    if (parents == NULL)
        return CB_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        cb_meta m;
        cb_error merr = { 0 };
        int rc = cb__catalog_read_meta(store, &all[i], &m, &merr);
        if (rc == CB_ECORRUPT || rc == CB_ENOTFOUND)
            continue; /* damaged, or gone meanwhile: nobody's child that we can know of */
        if (rc < 0) { /* unread, it may be a child: deciding without it could orphan it */
            cb__catalog_parents_free(parents, n);
            *err = merr;
            return rc;
        }
        parents[i] = m.parent_id;
        m.parent_id = NULL;
        cb__meta_dispose(&m);
    }
    *out = parents;
    return 0;
}

void cb__catalog_parents_free(char **parents, size_t n)
{
    for (size_t i = 0; parents != NULL && i < n; i++)
        free(parents[i]);
    free(parents);
}
