/* SPDX-License-Identifier: Apache-2.0 */
/*
 * consolidate.c: a synthetic full backup. The volume as a backup holds it is read from its
 * chain's objects (chainread.h) and backed up as a new full backup through the backup
 * pipeline; the backup compares every sha block's SHA-256 with the consolidated backup's
 * _sha256file before it commits (backup.h, cb_bk_extra), which is the check a restore makes.
 * With delete_chain the old chain then goes, under the exclusive lock: the consolidated
 * backup's dependants are moved onto the new full (same content), and the consolidated backup
 * and the parents no other backup needs are deleted, newest first, so that no backup is ever
 * left without its parent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "consolidate.h"
#include "../image/chainread.h"
#include "../backup/backup.h"
#include "../lock/lock.h"
#include "../util/util.h"

typedef struct cons_ctx {
    const char *backup_id;
    cb_chainread *rd;
    const cb_consolidate_opts *opts;
} cons_ctx;

/* The chain's compression: that of its newest object stored compressed, else "none". */
static const char *cons_compression(const cb_chain *c)
{
    for (size_t i = 0; i < c->n; i++)
        for (size_t k = c->layers[i].meta.n_objects; k-- > 0;) {
            const char *comp = c->layers[i].meta.objects[k].compression;
            if (comp != NULL && strcasecmp(comp, "none") != 0 && strcasecmp(comp, "off") != 0 &&
                strcasecmp(comp, "no") != 0)
                return comp;
        }
    return "none";
}

/* The backup's blocks must be the consolidated backup's: say where they are not. */
static int cons_mismatch(void *ctx, uint64_t off, int kind, cb_error *err)
{
    const cons_ctx *c = ctx;
    if (kind == 1)
        return cb_error_set(err, CB_ECORRUPT,
                            "backup %s holds data beyond byte %llu, which its _sha256file does "
                            "not list: nothing was committed",
                            c->backup_id, (unsigned long long)off);
    if (kind == 2)
        return cb_error_set(err, CB_ECORRUPT,
                            "the _sha256file of backup %s lists sha blocks beyond byte %llu, "
                            "where its data ends: nothing was committed",
                            c->backup_id, (unsigned long long)off);
    const cb_task *t = cb__chainread_task_at(c->rd, off);
    return cb_error_set(err, CB_ECORRUPT,
                        "backup %s is damaged: its sha block at byte %llu (read from object "
                        "'%s' of backup %s on) differs from its _sha256file: nothing was "
                        "committed (`cinderblock verify --read-data %s` checks the whole chain)",
                        c->backup_id, (unsigned long long)off, t ? t->obj->name : "?",
                        t ? t->layer->where.parts.backup_id : "?", c->backup_id);
}

/* The backup's progress, as the consolidate's. */
static void cons_progress(const cb_progress *p, void *payload)
{
    const cons_ctx *c = payload;
    cb_progress q = *p;
    q.phase = "consolidate";
    c->opts->progress(&q, c->opts->progress_payload);
}

/* The sha block size of the consolidated backup's _sha256file, which must be readable. */
static int cons_sha_block(cb_store *store, const cb_layer *k, uint32_t *out, cb_error *err)
{
    cb_hashes h;
    uint64_t blk = 0;
    cb_error herr = { 0 };
    memset(&h, 0, sizeof(h));
    int rc = cb__hashes_open(&h, store, &k->where, &blk, &herr);
    cb__hashes_close(&h);
    if (rc == 0 && (blk == 0 || blk > UINT32_MAX))
        rc = cb_error_set(&herr, CB_ECORRUPT, "its chunk_size %llu is not a sha block size",
                          (unsigned long long)blk);
    if (rc < 0)
        return cb_error_set(err, rc == CB_ENOTFOUND ? CB_ECORRUPT : rc,
                            "backup %s cannot be consolidated: its _sha256file, against which "
                            "every byte is checked, cannot be used: %s",
                            k->where.parts.backup_id, herr.msg);
    *out = (uint32_t)blk;
    return 0;
}

/* The new full backup's options, from the consolidated backup's and the caller's. */
static void cons_backup_opts(const cb_chain *chain,
                             const cb_consolidate_opts *o,
                             cons_ctx *ctx,
                             const char *description,
                             uint32_t sha_block,
                             cb_backup_opts *bo)
{
    const cb_meta *m = &chain->layers[0].meta;
    *bo = (cb_backup_opts)CB_BACKUP_OPTS_INIT;
    bo->volume_id = m->volume_id;
    bo->name = o->name != NULL ? o->name : m->name;
    bo->description = description;
    bo->compression = o->compression != NULL ? o->compression : cons_compression(chain);
    bo->object_size = o->object_size;
    bo->sha_block = sha_block;
    bo->now = o->now;
    bo->now_usec = o->now_usec;
    bo->threads = o->threads;
    bo->progress = o->progress != NULL ? cons_progress : NULL;
    bo->progress_payload = ctx;
    bo->cancel = o->cancel;
    bo->cancel_payload = o->cancel_payload;
    bo->created_at = m->created_at;
    bo->volume_meta = m->volume_meta;
    bo->volume_pread = cb__chainread_pread;
    bo->volume_pread_payload = ctx->rd;
    bo->volume_size = chain->size;
}

int cb__consolidate_one(cb_store *store,
                        const char *backup_id,
                        const cb_consolidate_opts *opts,
                        int locked,
                        cb_lock *lock,
                        cb_backup_info **out,
                        cb_error *err)
{
    cb_chain chain;
    cb_plan plan;
    cons_ctx ctx = { .backup_id = backup_id, .opts = opts };
    char *desc = NULL;
    uint32_t blk = 0;
    int rc;
    memset(&chain, 0, sizeof(chain));
    memset(&plan, 0, sizeof(plan));
    if ((rc = cb__chain_load(store, backup_id, &chain, err)) < 0 ||
        (rc = cons_sha_block(store, &chain.layers[0], &blk, err)) < 0 ||
        (rc = cb__plan_build(&chain, &plan, err)) < 0)
        goto done;
    int threads = opts->threads > 0 ? opts->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if ((rc = cb__chainread_new(store, &plan, chain.size, threads, opts->cancel,
                                opts->cancel_payload, &ctx.rd, err)) < 0)
        goto done;
    if (opts->description == NULL &&
        (desc = cb__asprintf(err, CB_SYNTHETIC_DESCRIPTION "%s (%s)", backup_id,
                             chain.layers[0].meta.created_at)) == NULL) {
        rc = CB_ENOMEM;
        goto done;
    }
    cb_backup_opts bo;
    cons_backup_opts(&chain, opts, &ctx, opts->description ? opts->description : desc, blk, &bo);
    cb_bk_extra extra = { .expect = &chain.layers[0].where,
                          .mismatch = cons_mismatch,
                          .ctx = &ctx,
                          .raw_hint = cb__chainread_raw,
                          .raw_hint_payload = ctx.rd,
                          .in_order = 1,
                          .locked = locked,
                          .lock = lock };
    rc = cb__backup_ex(store, NULL, &bo, &extra, out, err);
    if (rc < 0 && rc != CB_ECANCELED) { /* a failed read says why better than the backup */
        cb_error rerr = { 0 };
        if (cb__chainread_failure(ctx.rd, &rerr) < 0) {
            *err = rerr;
            rc = rerr.code;
        }
    }
done:
    cb__chainread_free(ctx.rd);
    free(desc);
    cb__plan_dispose(&plan);
    cb__chain_dispose(&chain);
    return rc;
}

int cb__same_content(cb_store *store, const cb_found *a, const cb_found *b, cb_error *err)
{
    cb_hashes ha, hb;
    uint64_t ba = 0, bb = 0;
    unsigned char da[32], db[32];
    int have_a = 1, have_b = 1, same;
    memset(&ha, 0, sizeof(ha));
    memset(&hb, 0, sizeof(hb));
    int rc = cb__hashes_open(&ha, store, a, &ba, err);
    if (rc == 0)
        rc = cb__hashes_open(&hb, store, b, &bb, err);
    same = rc == 0 && ba == bb;
    for (uint64_t i = 0; rc == 0 && same && (have_a || have_b); i++) {
        if ((rc = cb__hashes_get(&ha, i, da, &have_a, err)) == 0 &&
            (rc = cb__hashes_get(&hb, i, db, &have_b, err)) == 0)
            same = have_a == have_b && (!have_a || memcmp(da, db, 32) == 0);
    }
    cb__hashes_close(&ha);
    cb__hashes_close(&hb);
    return rc < 0 ? rc : same;
}

int cb__reparent(cb_store *store, const cb_found *child, const char *parent_id, cb_error *err)
{
    cb_meta m;
    char *text = NULL, *name = NULL, *pid = NULL;
    size_t len;
    int rc;
    cb__meta_init(&m);
    if ((rc = cb__catalog_read_meta(store, child, &m, err)) < 0)
        goto done;
    if (m.parent_id == NULL) {
        rc = cb_error_set(err, CB_EINVAL, "backup %s is a full backup: it has no parent to change",
                          child->parts.backup_id);
        goto done;
    }
    for (size_t i = 0; i < m.n_objects; i++) /* written again, it would claim what it lacks */
        if (!m.objects[i].has_length || !m.objects[i].has_md5) {
            rc = cb_error_set(err, CB_EINVAL,
                              "backup %s cannot be moved onto another parent: its metadata "
                              "records no length or MD5 for object '%s' (a writer other than "
                              "Cinder's), and a rewrite would have to invent one",
                              child->parts.backup_id, m.objects[i].name);
            goto done;
        }
    if ((pid = cb__strdup(parent_id, err)) == NULL ||
        (name = cb__name_metadata(child->prefix, err)) == NULL) {
        rc = CB_ENOMEM;
        goto done;
    }
    free(m.parent_id);
    m.parent_id = pid;
    pid = NULL;
    if ((rc = cb__meta_write(&m, &text, &len, err)) == 0)
        rc = cb_store_write_all(store, child->container, name, text, len, err);
done:
    free(pid);
    free(name);
    free(text);
    cb__meta_dispose(&m);
    return rc;
}

/* The catalog entry of `id`, or NULL. */
static cb_backup_info *cons_find(cb_backup_info **v, size_t n, const char *id)
{
    for (size_t i = 0; id != NULL && i < n; i++)
        if (strcmp(v[i]->backup_id, id) == 0)
            return v[i];
    return NULL;
}

/* Whether a backup of the catalog depends on `id`. */
static int cons_needed(cb_backup_info **v, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i]->parent_id != NULL && strcmp(v[i]->parent_id, id) == 0)
            return 1;
    return 0;
}

/* Drop entry `b` from the catalog array (it was deleted). */
static void cons_forget(cb_backup_info **v, size_t *n, const cb_backup_info *b)
{
    for (size_t i = 0; i < *n; i++)
        if (v[i] == b) {
            cb_backup_info_free(v[i]);
            v[i] = v[--*n];
            return;
        }
}

/* Move `old`'s dependants onto `full`, then delete `old` and its parents that nothing else
 * needs, newest first. */
static int cons_delete_chain(cb_store *store,
                             const char *old,
                             const char *full,
                             cb_lock *lock,
                             cb_strv *deleted,
                             cb_error *err)
{
    cb_backup_info **v = NULL;
    size_t n = 0;
    int rc = cb_backup_list(store, NULL, &v, &n, err);
    if (rc < 0)
        return rc;
    if (cons_find(v, n, full) == NULL || cons_find(v, n, old) == NULL)
        rc = cb_error_set(err, CB_ENOTFOUND,
                          "backup %s or its synthetic full %s went away before the chain could "
                          "be deleted: nothing deleted",
                          old, full);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (v[i]->parent_id == NULL || strcmp(v[i]->parent_id, old) != 0)
            continue;
        cb_found f = { .container = v[i]->container, .prefix = v[i]->prefix };
        cb__prefix_parse(v[i]->prefix, &f.parts);
        char *pid = cb__strdup(full, err);
        if (pid == NULL || (rc = cb__lock_held(lock, err)) < 0 ||
            (rc = cb__reparent(store, &f, full, err)) < 0) {
            free(pid);
            rc = rc < 0 ? rc : CB_ENOMEM;
            break;
        }
        free(v[i]->parent_id);
        v[i]->parent_id = pid;
    }
    for (cb_backup_info *b = cons_find(v, n, old); rc == 0 && b != NULL;) {
        if (cons_needed(v, n, b->backup_id))
            break; /* another branch of the chain grows from here */
        char *parent = b->parent_id ? cb__strdup(b->parent_id, err) : NULL;
        if ((b->parent_id != NULL && parent == NULL) || cb__strv_push(deleted, b->backup_id) < 0)
            rc = CB_ENOMEM;
        if (rc == 0 && (rc = cb__lock_held(lock, err)) == 0 &&
            (rc = cb__delete_prefix(store, b->container, b->prefix, err)) < 0)
            free(deleted->v[--deleted->n]);
        if (rc == 0)
            cons_forget(v, &n, b);
        b = rc == 0 ? cons_find(v, n, parent) : NULL;
        free(parent);
    }
    cb_backup_info_free_array(v, n);
    return rc;
}

int cb_consolidate(cb_store *store,
                   const char *backup_id,
                   const cb_consolidate_opts *opts,
                   cb_backup_info **out,
                   char ***deleted,
                   size_t *n_deleted,
                   cb_error *err)
{
    static const cb_consolidate_opts defaults = CB_CONSOLIDATE_OPTS_INIT;
    cb_backup_info *info = NULL;
    cb_strv gone = { .err = err };
    cb_lock *lock = NULL;
    if (out != NULL)
        *out = NULL;
    if (deleted != NULL)
        *deleted = NULL;
    if (n_deleted != NULL)
        *n_deleted = 0;
    if (opts == NULL)
        opts = &defaults;
    if (store == NULL || backup_id == NULL)
        return cb_error_set(err, CB_EINVAL, "cb_consolidate: no store or backup id given");
    if (opts->version != CB_CONSOLIDATE_OPTS_VERSION)
        return cb_error_set(err, CB_EINVAL, "cb_consolidate_opts version %u is not supported",
                            opts->version);
    int rc = cb__consolidate_one(store, backup_id, opts, 0, NULL, &info, err);
    if (rc == 0 && opts->delete_chain &&
        (rc = cb__lock_take(store, 1, "consolidate", backup_id, &lock, err)) == 0) {
        rc = cons_delete_chain(store, backup_id, info->backup_id, lock, &gone, err);
        cb__lock_release(lock);
        if (rc < 0) { /* the new full is committed: say so with the failure */
            size_t len = strlen(err->msg);
            snprintf(err->msg + len, sizeof(err->msg) - len,
                     " (the synthetic full %s was committed; %zu backup(s) deleted)",
                     info->backup_id, gone.n);
        }
    }
    if (deleted != NULL) {
        *deleted = gone.v;
        gone.v = NULL;
    }
    if (n_deleted != NULL)
        *n_deleted = gone.n;
    if (gone.v == NULL)
        gone.n = 0;
    cb__strv_dispose(&gone);
    if (out != NULL)
        *out = info;
    else
        cb_backup_info_free(info);
    return rc;
}
