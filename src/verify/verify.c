/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify.c: cb_verify(), and its structure check: each backup's metadata, object list and
 * _sha256file on their own, then the rules that tie a backup to its parents. Every problem
 * is recorded against the backup it belongs to and the check goes on, so that one damaged
 * backup does not hide another. The data objects are read by verify_data.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lock/lock.h"
#include "verify.h"
#include "../util/util.h"
#include "../format/format.h"
#include "../catalog/catalog.h"

#define VF_MAX_FOUND 4 /* problems one reading of a backup can find */

/* The problems one attempt at reading a backup found. */
typedef struct vf_found {
    cb_error e[VF_MAX_FOUND];
    int of_list[VF_MAX_FOUND]; /* the problem is its _sha256file's */
    size_t n;
} vf_found;

static int vf_note(vf_found *f, int of_list, const cb_error *e)
{
    if (f->n < VF_MAX_FOUND) {
        f->e[f->n] = *e;
        f->of_list[f->n++] = of_list;
    }
    return 0;
}

/* First error wins: copy `e` into `err` unless it already holds one. */
static int vf_pass(cb_error *err, const cb_error *e, int rc)
{
    if (err != NULL && err->code == 0)
        *err = *e;
    return rc;
}

static void vf_node_reset(cb_vf_node *nd)
{
    cb__meta_dispose(&nd->meta);
    cb__meta_init(&nd->meta);
    nd->meta_ok = nd->list_ok = 0;
    nd->block = nd->count = 0;
}

/* The _sha256file: parsed to the end (entries counted, never held), a sane chunk_size. */
static int vf_load_list(cb_vf *v, cb_vf_node *nd, vf_found *found, cb_error *e)
{
    int rc = cb__shafile_stream(v->store, &nd->where, NULL, NULL, &nd->count, &nd->block, e);
    if (rc == CB_ENOTFOUND) {
        cb_error_clear(e);
        cb_error_set(e, CB_ECORRUPT, "backup %s has no '%s_sha256file'", nd->where.parts.backup_id,
                     nd->where.prefix);
        return vf_note(found, 1, e);
    }
    if (rc == CB_ECORRUPT)
        return vf_note(found, 1, e);
    if (rc < 0)
        return rc;
    if (nd->block > CB_VF_MAX_BLOCK) {
        cb_error_set(e, CB_ECORRUPT, "'%s_sha256file' gives chunk_size %llu: not a sha block size",
                     nd->where.prefix, (unsigned long long)nd->block);
        return vf_note(found, 1, e);
    }
    nd->list_ok = 1;
    return 0;
}

/* One reading of a backup's JSON objects and listing: 0 with the problems in `found`,
 * or the error that kept it from being read (in `e`). */
static int vf_load_once(cb_vf *v, cb_vf_node *nd, vf_found *found, cb_error *e)
{
    const char *id = nd->where.parts.backup_id;
    char label[128];
    int rc;
    snprintf(label, sizeof(label), "metadata of backup %s", id);
    rc = cb__catalog_read_meta(v->store, &nd->where, &nd->meta, e);
    if (rc == CB_ENOTFOUND) { /* listed a moment ago: deleted while we looked */
        cb_error_clear(e);
        cb_error_set(e, CB_ECORRUPT, "the %s disappeared while it was being verified", label);
    }
    if (rc == CB_ECORRUPT || rc == CB_ENOTFOUND)
        return vf_note(found, 0, e);
    if (rc < 0)
        return rc;
    if ((rc = cb__meta_check(&nd->meta, nd->where.prefix, label, e)) < 0)
        return rc == CB_ECORRUPT ? vf_note(found, 0, e) : rc;
    nd->meta_ok = 1;
    if (nd->meta.backup_id != NULL && strcmp(nd->meta.backup_id, id) != 0) {
        cb_error_set(e, CB_ECORRUPT, "the %s names itself %s", label, nd->meta.backup_id);
        vf_note(found, 0, e);
        cb_error_clear(e);
    }
    cb_layer l = { .where = nd->where, .meta = nd->meta };
    if ((rc = cb__chain_check_listing(v->store, &l, e)) == CB_ECORRUPT) {
        vf_note(found, 0, e);
        cb_error_clear(e);
    } else if (rc < 0) {
        return rc;
    }
    /* objects without a recorded length (foreign writers) must be measured, by reading
     * them: the volume size depends on them */
    if ((rc = cb__meta_learn_lengths(v->store, &nd->where, &nd->meta, e)) == CB_ECORRUPT) {
        nd->meta_ok = 0;
        vf_note(found, 0, e);
        cb_error_clear(e);
    } else if (rc < 0) {
        return rc;
    }
    return vf_load_list(v, nd, found, e);
}

/* Read a backup, twice if the first reading failed (a network error is not damage). */
static int vf_load(cb_vf *v, size_t i, cb_error *err)
{
    cb_error e = { 0 };
    int rc = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        cb_vf_node *nd = &v->nodes[i];
        vf_found found = { .n = 0 };
        vf_node_reset(nd);
        cb_error_clear(&e);
        if ((rc = vf_load_once(v, nd, &found, &e)) == 0) {
            v->rep->retried += (uint64_t)attempt;
            for (size_t k = 0; rc == 0 && k < found.n; k++) {
                char *list = found.of_list[k] ? cb__name_sha256file(nd->where.prefix, err) : NULL;
                if (found.of_list[k] && list == NULL)
                    return CB_ENOMEM;
                rc = cb__vf_problem(v, nd, list, CB_ECORRUPT, found.e[k].msg, err);
                free(list);
            }
            return rc;
        }
        if (rc == CB_ENOMEM || rc == CB_ECANCELED)
            return vf_pass(err, &e, rc);
    }
    vf_node_reset(&v->nodes[i]); /* what the failed reading left is not to be trusted */
    return cb__vf_problem(v, &v->nodes[i], NULL, rc, e.msg, err);
}

static size_t vf_lookup(const cb_vf *v, const char *id)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->nodes[i].where.parts.backup_id, id) == 0)
            return i;
    return CB_VF_NONE;
}

/* Add a node for a found backup; takes `f` over (also on failure). */
static int vf_add(cb_vf *v, cb_found *f, cb_error *err)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        cb_vf_node *nodes = cb__realloc(v->nodes, cap * sizeof(*nodes), err);
        if (nodes == NULL) {
            cb__found_dispose(f);
            return CB_ENOMEM;
        }
        v->nodes = nodes;
        v->cap = cap;
    }
    cb_vf_node *nd = &v->nodes[v->n++];
    memset(nd, 0, sizeof(*nd));
    nd->where = *f;
    nd->parent = CB_VF_NONE;
    cb__meta_init(&nd->meta);
    return 0;
}

/* Find the parent of node i among the nodes, or (ids given) in the store. */
static int vf_link_parent(cb_vf *v, size_t i, int search, cb_error *err)
{
    char pid[CB_UUID_LEN + 1];
    cb_error e = { 0 };
    int rc;
    if (!v->nodes[i].meta_ok || v->nodes[i].meta.parent_id == NULL)
        return 0;
    if (cb__uuid_normalize(pid, v->nodes[i].meta.parent_id, "its parent_id", &e) < 0)
        return cb__vf_problem(v, &v->nodes[i], NULL, CB_ECORRUPT, e.msg, err);
    size_t p = vf_lookup(v, pid);
    if (p == CB_VF_NONE && search) {
        cb_found f;
        if ((rc = cb__catalog_find(v->store, pid, &f, &e)) == 0) {
            if ((rc = vf_add(v, &f, err)) < 0)
                return rc;
            p = v->n - 1;
        } else if (rc != CB_ENOTFOUND) {
            return vf_pass(err, &e, rc); /* the store cannot be listed: nothing more to do */
        }
    }
    v->nodes[i].parent = p;
    if (p != CB_VF_NONE)
        return 0;
    cb_error_clear(&e);
    cb_error_set(&e, CB_ECORRUPT, "backup %s needs its parent %s, which is not in the store",
                 v->nodes[i].where.parts.backup_id, pid);
    return cb__vf_problem(v, &v->nodes[i], NULL, CB_ECORRUPT, e.msg, err);
}

/* The nodes: the backups asked for (or all), then, for ids, the parents they need. */
static int vf_gather(cb_vf *v, const char *const *ids, size_t n_ids, cb_error *err)
{
    int rc = 0;
    if (n_ids == 0) {
        cb_found *all = NULL;
        size_t n = 0;
        if ((rc = cb__catalog_scan(v->store, &all, &n, err)) < 0)
            return rc;
        for (size_t i = 0; i < n; i++) /* each moved into a node, or disposed by vf_add */
            if (rc == 0)
                rc = vf_add(v, &all[i], err);
            else
                cb__found_dispose(&all[i]);
        free(all);
    }
    for (size_t i = 0; rc == 0 && i < n_ids; i++) {
        char id[CB_UUID_LEN + 1];
        cb_found f;
        if ((rc = cb__uuid_normalize(id, ids[i], "backup id", err)) < 0)
            break;
        if (vf_lookup(v, id) == CB_VF_NONE && (rc = cb__catalog_find(v->store, id, &f, err)) == 0)
            rc = vf_add(v, &f, err);
    }
    /* v->n grows while parents are found */
    for (size_t i = 0; rc == 0 && i < v->n; i++)
        if ((rc = cb__vf_stopped(v, err)) == 0 && (rc = vf_load(v, i, err)) == 0)
            rc = vf_link_parent(v, i, n_ids > 0, err);
    return rc;
}

static int vf_problem_cmp(const void *a, const void *b)
{
    const cb_verify_problem *x = a, *y = b;
    int c = strcmp(x->backup_id, y->backup_id);
    if (c == 0 && (x->object == NULL) != (y->object == NULL))
        return x->object == NULL ? -1 : 1; /* the backup's own problems first */
    if (c == 0 && x->object != NULL)
        c = strcmp(x->object, y->object);
    return c != 0 ? c : strcmp(x->message, y->message);
}

/* CB_ECORRUPT if anything is damaged, else the error of an unreadable object, else 0. */
static int vf_verdict(cb_vf *v, cb_error *err)
{
    cb_verify_report *r = v->rep;
    size_t damaged = 0;
    const cb_verify_problem *first = NULL;
    if (r->n_problems > 1)
        qsort(r->problems, r->n_problems, sizeof(*r->problems), vf_problem_cmp);
    for (size_t i = 0; i < r->n_problems; i++)
        if (r->problems[i].code == CB_ECORRUPT && damaged++ == 0)
            first = &r->problems[i];
    if (first == NULL && r->n_problems > 0)
        first = &r->problems[0];
    if (first == NULL)
        return 0;
    return cb_error_set(err, damaged ? CB_ECORRUPT : first->code,
                        "%zu problem%s found%s; the first: backup %s%s%s: %s", r->n_problems,
                        r->n_problems == 1 ? "" : "s", damaged ? "" : " (nothing damaged)",
                        first->backup_id, first->object ? ", object " : "",
                        first->object ? first->object : "", first->message);
}

static int vf_check_opts(const cb_verify_opts *o, cb_error *err)
{
    if (o->version != CB_VERIFY_OPTS_VERSION)
        return cb_error_set(err, CB_EINVAL, "cb_verify_opts version %u is not supported",
                            o->version);
    if (o->subset_t > 0 && (!o->read_data || o->subset_n < 1 || o->subset_n > o->subset_t))
        return cb_error_set(err, CB_EINVAL,
                            "read-data subset %u/%u: give part N of T with 1 <= N <= T, and "
                            "read the data",
                            o->subset_n, o->subset_t);
    return 0;
}

int cb_verify(cb_store *store,
              const char *const *backup_ids,
              size_t n_ids,
              const cb_verify_opts *opts,
              cb_verify_report **out,
              cb_error *err)
{
    return cb__verify(store, backup_ids, n_ids, opts, CB_VF_SHA_HOLD, out, err);
}

int cb__verify(cb_store *store,
               const char *const *backup_ids,
               size_t n_ids,
               const cb_verify_opts *opts,
               uint64_t sha_hold,
               cb_verify_report **out,
               cb_error *err)
{
    static const cb_verify_opts defaults = CB_VERIFY_OPTS_INIT;
    cb_vf v = { .store = store, .opts = opts ? opts : &defaults, .sha_hold = sha_hold };
    int rc = 0;

    *out = NULL;
    if ((v.rep = cb__calloc(1, sizeof(*v.rep), err)) == NULL)
        return CB_ENOMEM;
    pthread_mutex_init(&v.lock, NULL);
    if (n_ids > 0 && backup_ids == NULL)
        rc = cb_error_set(err, CB_EINVAL, "cb_verify: %zu backup ids, but no array", n_ids);
    if (rc < 0 || (rc = vf_check_opts(v.opts, err)) < 0 ||
        (rc = cb__lock_take(store, 0, "verify", NULL, &v.store_lock, err)) < 0 ||
        (rc = vf_gather(&v, backup_ids, n_ids, err)) < 0 || (rc = cb__vf_check_chains(&v, err)) < 0)
        goto done;
    if (v.opts->read_data && (rc = cb__vf_read_data(&v, err)) < 0)
        goto done;
    v.rep->complete = 1;
    rc = vf_verdict(&v, err);
done:
    v.rep->backups = v.n;
    for (size_t i = 0; i < v.n; i++) {
        v.rep->objects += v.nodes[i].meta.n_objects;
        cb__found_dispose(&v.nodes[i].where);
        cb__meta_dispose(&v.nodes[i].meta);
    }
    free(v.nodes);
    cb__lock_release(v.store_lock);
    pthread_mutex_destroy(&v.lock);
    *out = v.rep;
    return rc;
}

void cb_verify_report_free(cb_verify_report *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_problems; i++) {
        free(r->problems[i].backup_id);
        free(r->problems[i].container);
        free(r->problems[i].object);
        free(r->problems[i].message);
    }
    free(r->problems);
    free(r);
}
