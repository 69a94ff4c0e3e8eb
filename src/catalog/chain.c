/* SPDX-License-Identifier: Apache-2.0 */
/* chain.c: loading and checking a backup chain from the store alone (no database). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "../util/util.h"
#include "../format/format.h"

#define CHAIN_MAX 100000 /* a parent_id loop must not run forever */

void cb__chain_dispose(cb_chain *c)
{
    for (size_t i = 0; i < c->n; i++) {
        cb__found_dispose(&c->layers[i].where);
        cb__meta_dispose(&c->layers[i].meta);
    }
    free(c->layers);
    memset(c, 0, sizeof(*c));
}

typedef struct chain_listed {
    cb_strv names;
    const char *prefix;
} chain_listed;

static int chain_collect(const char *name, void *payload)
{
    chain_listed *l = payload;
    const char *rest = name + strlen(l->prefix);
    /* the two JSON objects are not data objects */
    if (strcmp(rest, "_metadata") == 0 || strcmp(rest, "_sha256file") == 0)
        return 0;
    return cb__strv_push(&l->names, name);
}

static int chain_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Compare two sorted name lists; report the first difference. */
static int chain_compare(
    const char **want, size_t nw, char **have, size_t nh, const cb_layer *l, cb_error *err)
{
    size_t i = 0, j = 0;
    while (i < nw || j < nh) {
        int c = i == nw ? 1 : j == nh ? -1 : strcmp(want[i], have[j]);
        if (c < 0)
            return cb_error_set(err, CB_ECORRUPT,
                                "backup %s is damaged: object '%s' is in its metadata but not in "
                                "container '%s'",
                                l->where.parts.backup_id, want[i], l->where.container);
        if (c > 0)
            return cb_error_set(err, CB_ECORRUPT,
                                "backup %s: container '%s' holds object '%s' under the backup's "
                                "prefix that its metadata does not list (Cinder would refuse "
                                "this backup too)",
                                l->where.parts.backup_id, l->where.container, have[j]);
        i++;
        j++;
    }
    return 0;
}

int cb__chain_check_listing(cb_store *store, const cb_layer *l, cb_error *err)
{
    chain_listed got = { .names = { .err = err }, .prefix = l->where.prefix };
    const char **want = cb__calloc(l->meta.n_objects + 1, sizeof(*want), err);
    int rc;
    if (want == NULL)
        return CB_ENOMEM;
    for (size_t i = 0; i < l->meta.n_objects; i++)
        want[i] = l->meta.objects[i].name;
    qsort(want, l->meta.n_objects, sizeof(*want), chain_strcmp);
    for (size_t i = 1; i < l->meta.n_objects; i++)
        if (strcmp(want[i - 1], want[i]) == 0) {
            rc = cb_error_set(err, CB_ECORRUPT, "backup %s lists object '%s' twice",
                              l->where.parts.backup_id, want[i]);
            goto done;
        }
    rc = cb_store_list(store, l->where.container, l->where.prefix, 0, chain_collect, &got, err);
    if (rc == 0) {
        if (got.names.n > 1)
            qsort(got.names.v, got.names.n, sizeof(*got.names.v), chain_strcmp);
        rc = chain_compare(want, l->meta.n_objects, got.names.v, got.names.n, l, err);
    }
done:
    cb__strv_dispose(&got.names);
    free(want);
    return rc;
}

static int chain_add(cb_store *store, cb_chain *c, const char *id, int check, cb_error *err)
{
    cb_layer *v = cb__realloc(c->layers, (c->n + 1) * sizeof(*v), err);
    if (v == NULL)
        return CB_ENOMEM;
    c->layers = v;
    cb_layer *l = &v[c->n];
    memset(l, 0, sizeof(*l));
    int rc = cb__catalog_find(store, id, &l->where, err);
    if (rc == CB_ENOTFOUND && c->n > 0) {
        cb_error_clear(err);
        rc = cb_error_set(err, CB_ENOTFOUND,
                          "backup %s needs its parent %s, which is not in the store",
                          c->layers[c->n - 1].where.parts.backup_id, id);
    }
    if (rc < 0)
        return rc;
    c->n++; /* from here on dispose cleans it up */
    char label[128];
    snprintf(label, sizeof(label), "metadata of backup %s", id);
    if ((rc = cb__catalog_read_meta(store, &l->where, &l->meta, err)) < 0)
        return rc;
    if (!check)
        return 0;
    if ((rc = cb__meta_check(&l->meta, l->where.prefix, label, err)) < 0)
        return rc;
    if (l->meta.backup_id != NULL && strcmp(l->meta.backup_id, id) != 0)
        return cb_error_set(err, CB_ECORRUPT, "%s names itself %s", label, l->meta.backup_id);
    return cb__chain_check_listing(store, l, err);
}

static int chain_count(const void *data, size_t len, void *payload, cb_error *err)
{
    (void)data;
    (void)len;
    (void)payload;
    (void)err;
    return 0; /* the decoder counts the bytes */
}

int cb__meta_learn_lengths(cb_store *store, const cb_found *f, cb_meta *m, cb_error *err)
{
    cb_objread rd;
    int rc = 0, ready = 0;
    for (size_t i = 0; rc == 0 && i < m->n_objects; i++) {
        cb_meta_object *o = &m->objects[i];
        if (o->has_length)
            continue;
        if (!ready && (rc = cb__objread_init(&rd, err)) < 0)
            return rc;
        ready = 1;
        rc = cb__objread_run(&rd, store, f->container, o, m->extra_json, UINT64_MAX, chain_count,
                             NULL, NULL, NULL, &o->length, err);
        o->has_length = rc == 0;
    }
    if (ready)
        cb__objread_dispose(&rd);
    return rc;
}

static int
chain_parent_size(const char *parent_id, uint64_t *size_out, void *payload, cb_error *err)
{
    const cb_layer *parent = payload;
    (void)parent_id;
    (void)err;
    *size_out = parent->size;
    return 0;
}

static int
chain_load(cb_store *store, const char *backup_id, int check, cb_chain *out, cb_error *err)
{
    const char *id = backup_id;
    int rc = 0;
    memset(out, 0, sizeof(*out));
    for (;;) {
        if (out->n >= CHAIN_MAX) {
            rc = cb_error_set(err, CB_ECORRUPT, "the chain of backup %s does not end", backup_id);
            break;
        }
        for (size_t i = 0; i < out->n; i++)
            if (strcmp(out->layers[i].where.parts.backup_id, id) == 0)
                rc = cb_error_set(err, CB_ECORRUPT, "the chain of backup %s loops at %s", backup_id,
                                  id);
        if (rc < 0 || (rc = chain_add(store, out, id, check, err)) < 0)
            break;
        id = out->layers[out->n - 1].meta.parent_id;
        if (id == NULL)
            break;
    }
    /* objects without a recorded length (foreign writers) are measured: sizes come from
     * the objects' ends, and a guess would truncate the volume */
    for (size_t i = 0; rc == 0 && i < out->n; i++)
        rc = cb__meta_learn_lengths(store, &out->layers[i].where, &out->layers[i].meta, err);
    /* sizes from the oldest layer up, each needing only its parent's */
    for (size_t i = out->n; rc == 0 && i-- > 0;)
        rc = cb__size_compute(store, &out->layers[i].where, &out->layers[i].meta, chain_parent_size,
                              &out->layers[i + 1 < out->n ? i + 1 : i], &out->layers[i].size, err);
    if (rc == 0)
        out->size = out->layers[0].size;
    if (rc < 0)
        cb__chain_dispose(out);
    return rc;
}

int cb__chain_load(cb_store *store, const char *backup_id, cb_chain *out, cb_error *err)
{
    return chain_load(store, backup_id, 1, out, err);
}

int cb__chain_load_light(cb_store *store, const char *backup_id, cb_chain *out, cb_error *err)
{
    return chain_load(store, backup_id, 0, out, err);
}
