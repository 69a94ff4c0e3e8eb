/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify_chain.c: the structure rules that tie a backup to its parents, once every backup
 * checked was read on its own (verify.c): no loop, the volume size at each backup, a hash
 * list of one entry per sha block, the parent's sha block and no growth, and every byte
 * of the volume in some object of the chain.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"
#include "../catalog/catalog.h"
#include "../util/util.h"
#include "../format/format.h"

/* A chain whose parents loop: the backups on the loop have the problem; the ones that
 * descend from it only cannot be checked further. */
static int vf_check_loop(cb_vf *v, size_t i, cb_error *err)
{
    size_t p = v->nodes[i].parent;
    for (size_t steps = 0; p != CB_VF_NONE && steps <= v->n; steps++) {
        if (p == i) {
            v->nodes[i].size_state = 3;
            return cb__vf_problem(v, &v->nodes[i], NULL, CB_ECORRUPT, "its chain of parents loops",
                                  err);
        }
        p = v->nodes[p].parent;
    }
    if (p != CB_VF_NONE)
        v->nodes[i].size_state = 3;
    return 0;
}

static int vf_parent_size(const char *parent_id, uint64_t *size_out, void *payload, cb_error *err)
{
    const cb_vf_node *p = payload;
    if (p == NULL || p->size_state != 2)
        return cb_error_set(err, CB_ENOTFOUND, "the size of parent %s is not known", parent_id);
    *size_out = p->size;
    return 0;
}

/* The volume size at one node whose parent's is settled. */
static int vf_size_one(cb_vf *v, size_t i, cb_error *err)
{
    cb_vf_node *nd = &v->nodes[i];
    cb_vf_node *p = nd->parent != CB_VF_NONE ? &v->nodes[nd->parent] : NULL;
    cb_error e = { 0 };
    nd->size_state = 3;
    if (!nd->meta_ok || (nd->meta.parent_id != NULL && !nd->list_ok))
        return 0;
    int rc = cb__size_from_shas(&nd->where, &nd->meta, nd->count, nd->block, vf_parent_size, p,
                                &nd->size, &e);
    if (rc == 0)
        nd->size_state = 2;
    return rc == CB_ECORRUPT ? cb__vf_problem(v, nd, NULL, rc, e.msg, err) : 0;
}

/* Every node's volume size, parents first. A chain may be as long as the store has
 * backups: walked with a stack of its own, not by recursion. (No loops are left.) */
static int vf_sizes(cb_vf *v, cb_error *err)
{
    size_t *stack = cb__calloc(v->n + 1, sizeof(*stack), err);
    int rc = 0;
    if (stack == NULL)
        return CB_ENOMEM;
    for (size_t i = 0; rc == 0 && i < v->n; i++) {
        size_t depth = 0;
        for (size_t p = i; p != CB_VF_NONE && v->nodes[p].size_state == 0 && depth < v->n;
             p = v->nodes[p].parent)
            stack[depth++] = p;
        while (rc == 0 && depth > 0)
            rc = vf_size_one(v, stack[--depth], err);
    }
    free(stack);
    return rc;
}

/* Every byte of the volume in some object of the chain (restore's own plan). */
static int vf_check_gaps(cb_vf *v, size_t i, cb_error *err)
{
    size_t len = 0, p;
    for (p = i; p != CB_VF_NONE && len <= v->n; p = v->nodes[p].parent, len++)
        if (!v->nodes[p].meta_ok || v->nodes[p].size_state != 2)
            return 0; /* a problem of its own says why */
    if (p != CB_VF_NONE || v->nodes[i].size_state != 2)
        return 0;
    cb_layer *layers = cb__calloc(len, sizeof(*layers), err);
    if (layers == NULL)
        return CB_ENOMEM;
    size_t k = 0;
    for (p = i; p != CB_VF_NONE; p = v->nodes[p].parent, k++) /* borrowed, not copied */
        layers[k] = (cb_layer){ v->nodes[p].where, v->nodes[p].meta, v->nodes[p].size };
    cb_chain chain = { layers, len, v->nodes[i].size };
    cb_plan plan;
    cb_error e = { 0 };
    int rc = cb__plan_build(&chain, &plan, &e);
    free(layers);
    if (rc == 0)
        cb__plan_dispose(&plan);
    if (rc == CB_ECORRUPT)
        return cb__vf_problem(v, &v->nodes[i], NULL, rc, e.msg, err);
    if (rc < 0 && err->code == 0)
        *err = e;
    return rc < 0 ? rc : 0;
}

/* Record a broken rule of node i, as a problem of its _sha256file or of the backup. */
static int vf_rule(cb_vf *v, size_t i, int of_list, cb_error *err, const char *fmt, ...)
    CB_PRINTF(5, 6);

static int vf_rule(cb_vf *v, size_t i, int of_list, cb_error *err, const char *fmt, ...)
{
    char msg[sizeof(err->msg)], *list = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (of_list && (list = cb__name_sha256file(v->nodes[i].where.prefix, err)) == NULL)
        return CB_ENOMEM;
    int rc = cb__vf_problem(v, &v->nodes[i], list, CB_ECORRUPT, msg, err);
    free(list);
    return rc;
}

/* The rules between a backup, its hash list and its parent. */
static int vf_check_rules(cb_vf *v, size_t i, cb_error *err)
{
    const cb_vf_node *nd = &v->nodes[i];
    const cb_vf_node *p = nd->parent != CB_VF_NONE ? &v->nodes[nd->parent] : NULL;
    const char *id = nd->where.parts.backup_id;
    int rc = 0;
    uint64_t want = nd->size == 0 || nd->block == 0 ? 0 : (nd->size - 1) / nd->block + 1;
    if (nd->list_ok && nd->size_state == 2 && nd->count != want)
        rc = vf_rule(v, i, 1, err,
                     "backup %s: its _sha256file has %llu entries, but its volume of %llu bytes "
                     "has %llu sha blocks of %llu bytes",
                     id, (unsigned long long)nd->count, (unsigned long long)nd->size,
                     (unsigned long long)want, (unsigned long long)nd->block);
    if (rc == 0 && p != NULL && nd->list_ok && p->list_ok && nd->block != p->block)
        rc = vf_rule(v, i, 1, err,
                     "backup %s: its sha block of %llu bytes differs from that of its parent %s "
                     "(%llu)",
                     id, (unsigned long long)nd->block, p->where.parts.backup_id,
                     (unsigned long long)p->block);
    if (rc == 0 && p != NULL && nd->size_state == 2 && p->size_state == 2 && nd->size > p->size)
        rc = vf_rule(v, i, 0, err,
                     "backup %s: its volume of %llu bytes is larger than its parent %s's (%llu): "
                     "an incremental backup cannot grow",
                     id, (unsigned long long)nd->size, p->where.parts.backup_id,
                     (unsigned long long)p->size);
    return rc < 0 ? rc : vf_check_gaps(v, i, err);
}

int cb__vf_check_chains(cb_vf *v, cb_error *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < v->n; i++)
        rc = vf_check_loop(v, i, err);
    if (rc == 0)
        rc = vf_sizes(v, err);
    for (size_t i = 0; rc == 0 && i < v->n; i++)
        rc = vf_check_rules(v, i, err);
    return rc;
}
