/* SPDX-License-Identifier: Apache-2.0 */
/*
 * restore_plan.c: newest-wins merging of a backup chain, so that every byte of the volume is
 * written once, from the newest backup that holds it, instead of Cinder's rewriting of the
 * whole volume once per layer (oldest first).
 */
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "../util/util.h"

typedef struct plan_set {
    cb_range *v; /* sorted, disjoint, merged */
    size_t n, cap;
} plan_set;

static int
plan_push(cb_range **v, size_t *n, size_t *cap, uint64_t off, uint64_t len, cb_error *err)
{
    if (len == 0)
        return 0;
    if (*n > 0 && (*v)[*n - 1].off + (*v)[*n - 1].len == off) { /* extend the previous */
        (*v)[*n - 1].len += len;
        return 0;
    }
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        cb_range *nv = cb__realloc(*v, c * sizeof(*nv), err);
        if (nv == NULL)
            return CB_ENOMEM;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = (cb_range){ off, len };
    return 0;
}

/* First interval of `s` that ends after `off` (binary search). */
static size_t plan_seek(const plan_set *s, uint64_t off)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->v[mid].off + s->v[mid].len <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The parts of [a, b) not in `covered`, appended to the task. */
static int plan_uncovered(
    const plan_set *covered, uint64_t a, uint64_t b, cb_task *t, size_t *cap, cb_error *err)
{
    int rc;
    for (size_t i = plan_seek(covered, a); a < b && i < covered->n; i++) {
        const cb_range *c = &covered->v[i];
        if (c->off >= b)
            break;
        if (c->off > a && (rc = plan_push(&t->ranges, &t->n_ranges, cap, a, c->off - a, err)) < 0)
            return rc;
        a = c->off + c->len > a ? c->off + c->len : a;
    }
    return a < b ? plan_push(&t->ranges, &t->n_ranges, cap, a, b - a, err) : 0;
}

/* covered := covered ∪ (the layer's objects, clipped to size): a linear merge. */
static int plan_merge(plan_set *covered, const cb_layer *l, uint64_t size, cb_error *err)
{
    plan_set out = { 0 };
    size_t i = 0, j = 0;
    int rc = 0;
    while (rc == 0 && (i < covered->n || j < l->meta.n_objects)) {
        cb_range r;
        const cb_meta_object *o = j < l->meta.n_objects ? &l->meta.objects[j] : NULL;
        if (o != NULL && (i == covered->n || o->offset < covered->v[i].off)) {
            uint64_t end = o->offset + o->length < size ? o->offset + o->length : size;
            r = (cb_range){ o->offset, end > o->offset ? end - o->offset : 0 };
            j++;
        } else {
            r = covered->v[i++];
        }
        if (r.len == 0)
            continue;
        if (out.n > 0 && r.off <= out.v[out.n - 1].off + out.v[out.n - 1].len) {
            cb_range *last = &out.v[out.n - 1];
            uint64_t end =
                r.off + r.len > last->off + last->len ? r.off + r.len : last->off + last->len;
            last->len = end - last->off;
        } else {
            rc = plan_push(&out.v, &out.n, &out.cap, r.off, r.len, err);
        }
    }
    free(covered->v);
    *covered = out;
    return rc;
}

static int plan_layer(cb_plan *p,
                      plan_set *covered,
                      const cb_layer *l,
                      uint64_t size,
                      size_t *cap_tasks,
                      cb_error *err)
{
    int rc;
    for (size_t j = 0; j < l->meta.n_objects; j++) {
        const cb_meta_object *o = &l->meta.objects[j];
        uint64_t end = o->offset + o->length < size ? o->offset + o->length : size;
        cb_task t = { .layer = l, .obj = o };
        size_t cap = 0;
        if (o->offset >= end)
            continue;
        if ((rc = plan_uncovered(covered, o->offset, end, &t, &cap, err)) < 0) {
            free(t.ranges);
            return rc;
        }
        if (t.n_ranges == 0)
            continue; /* wholly overwritten by newer backups: never read */
        if (p->n_tasks == *cap_tasks) {
            size_t c = *cap_tasks ? *cap_tasks * 2 : 64;
            cb_task *v = cb__realloc(p->tasks, c * sizeof(*v), err);
            if (v == NULL) {
                free(t.ranges);
                return CB_ENOMEM;
            }
            p->tasks = v;
            *cap_tasks = c;
        }
        for (size_t k = 0; k < t.n_ranges; k++)
            p->bytes += t.ranges[k].len;
        p->tasks[p->n_tasks++] = t;
    }
    return plan_merge(covered, l, size, err);
}

static int plan_cmp(const void *a, const void *b)
{
    const cb_task *x = a, *y = b;
    return x->ranges[0].off < y->ranges[0].off ? -1 : x->ranges[0].off > y->ranges[0].off;
}

int cb__plan_build(const cb_chain *chain, cb_plan *out, cb_error *err)
{
    plan_set covered = { 0 };
    size_t cap = 0;
    int rc = 0;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; rc == 0 && i < chain->n; i++)
        rc = plan_layer(out, &covered, &chain->layers[i], chain->size, &cap, err);
    if (rc == 0 && chain->size > 0) {
        uint64_t have = covered.n > 0 && covered.v[0].off == 0 ? covered.v[0].len : 0;
        if (have < chain->size) {
            uint64_t gap_end = covered.n > 1                            ? covered.v[1].off
                               : covered.n == 1 && covered.v[0].off > 0 ? covered.v[0].off
                                                                        : chain->size;
            rc = cb_error_set(err, CB_ECORRUPT,
                              "backup %s is incomplete: bytes %llu to %llu of the volume are in "
                              "no object of its chain",
                              chain->layers[0].where.parts.backup_id, (unsigned long long)have,
                              (unsigned long long)gap_end);
        }
    }
    free(covered.v);
    if (rc < 0) {
        cb__plan_dispose(out);
        return rc;
    }
    if (out->n_tasks > 1)
        qsort(out->tasks, out->n_tasks, sizeof(out->tasks[0]), plan_cmp);
    return 0;
}

void cb__plan_dispose(cb_plan *p)
{
    for (size_t i = 0; i < p->n_tasks; i++)
        free(p->tasks[i].ranges);
    free(p->tasks);
    memset(p, 0, sizeof(*p));
}
