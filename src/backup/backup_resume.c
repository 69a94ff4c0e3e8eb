/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backup_resume.c: `backup --resume ID`, continuing an interrupted backup under its own
 * prefix. The record the interrupted run left (pending.h) gives every setting that shapes
 * the backup (its volume id, container, prefix and time, codec, sizes, parent, name); the
 * objects it stored are read back (reuse.h), and the backup then runs as an uninterrupted
 * one would, storing only the objects that are missing or whose bytes are not the volume's.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup_job.h"
#include "../lock/lock.h"
#include "../pipeline/pipeline.h"
#include "../util/util.h"
#include "../format/format.h"
#include "../catalog/catalog.h"

/* A live lock of this backup that is not ours: the interrupted run is still running. */
static int resume_running(cb_bk *b, cb_error *err)
{
    cb_lock_info *locks = NULL;
    size_t n = 0;
    char want[64], host[256];
    int rc = cb_lock_list(b->store, &locks, &n, err);
    snprintf(want, sizeof(want), "backup %s", b->backup_id);
    cb__lock_host(b->store, host);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const cb_lock_info *l = &locks[i];
        if (l->stale || l->command == NULL || strcmp(l->command, want) != 0 ||
            (strcmp(l->host, host) == 0 && l->pid == (int64_t)getpid()))
            continue;
        rc = cb_error_set(err, CB_ELOCKED,
                          "backup %s is still being written (host %s, pid %lld): it cannot be "
                          "resumed while it runs",
                          b->backup_id, l->host, (long long)l->pid);
    }
    cb_lock_info_free_array(locks, n);
    return rc;
}

int cb__bk_resume_begin(cb_bk *b, cb_backup_opts *ro, cb_error *err)
{
    cb_pending *p = &b->pending;
    cb_found f;
    int rc;
    if ((rc = cb__uuid_normalize(b->backup_id, b->opts->resume_id, "backup id", err)) < 0 ||
        (rc = cb__lock_take(b->store, 0, "backup", b->backup_id, &b->lock, err)) < 0)
        return rc;
    if ((rc = cb__catalog_find(b->store, b->backup_id, &f, err)) == 0) {
        cb__found_dispose(&f);
        return cb_error_set(err, CB_EEXISTS,
                            "backup %s is complete: there is nothing to resume (`cinderblock "
                            "cleanup` removes its leftover record)",
                            b->backup_id);
    }
    if (rc != CB_ENOTFOUND)
        return rc;
    cb_error_clear(err);
    if ((rc = cb__pending_get(b->store, b->backup_id, p, err)) < 0 ||
        (rc = resume_running(b, err)) < 0)
        return rc;
    /* what shaped the backup comes from the record, not from the options */
    ro->volume_id = p->volume_id;
    ro->backup_id = p->backup_id;
    ro->container = p->container;
    ro->compression = p->compression;
    ro->object_size = p->object_size;
    ro->sha_block = p->sha_block;
    ro->parent_id = p->parent_id;
    ro->incremental = 0;
    ro->name = p->name;
    ro->description = p->description;
    ro->metadata = NULL;
    ro->n_metadata = 0;
    return 0;
}

/* After the names were chosen: the interrupted run's time and prefix, its volume_meta; the
 * record becomes ours; the stored objects are read back. */
int cb__bk_resume_apply(cb_bk *b, cb_error *err)
{
    cb_pending *p = &b->pending;
    int rc;
    if (b->vol.size != p->size)
        return cb_error_set(err, CB_EINVAL,
                            "volume '%s' holds %llu bytes; the interrupted backup %s read %llu: "
                            "it cannot be resumed from this volume (start a new backup)",
                            b->vol.path, (unsigned long long)b->vol.size, b->backup_id,
                            (unsigned long long)p->size);
    memcpy(b->ts, p->ts, sizeof(b->ts));
    memcpy(b->created_at, p->created_at, sizeof(b->created_at));
    free(b->prefix);
    free(b->meta.created_at);
    free(b->meta.volume_meta);
    b->meta.volume_meta = NULL;
    if ((b->prefix = cb__strdup(p->prefix, err)) == NULL ||
        (b->meta.created_at = cb__strdup(p->created_at, err)) == NULL ||
        (p->volume_meta && (b->meta.volume_meta = cb__strdup(p->volume_meta, err)) == NULL))
        return CB_ENOMEM;
    p->pid = (int64_t)getpid();
    p->started = (int64_t)time(NULL);
    cb__lock_host(b->store, p->host);
    if ((rc = cb__pending_put(b->store, p, err)) < 0)
        return rc;
    b->reserved = 1;
    if ((rc = cb__reuse_scan(&b->reuse_table, b->store, b->container, b->prefix,
                             cb__threads(b->opts->threads), err)) < 0)
        return rc;
    b->reuse = &b->reuse_table;
    return 0;
}

int cb__bk_kept(void *ctx, const char *name, uint64_t len, cb_pl_kept *out)
{
    const cb_bk *b = ctx;
    const cb_reuse_obj *r = cb__reuse_find(b->reuse, name, len);
    /* stored raw, or with this backup's codec (its name as the metadata records it) */
    if (r == NULL || (r->codec != CB_CODEC_NONE && r->codec != b->codec))
        return 0;
    memcpy(out->md5, r->md5, 16);
    out->comp = r->codec == CB_CODEC_NONE ? "none" : b->comp_name;
    out->stored = r->stored;
    return 1;
}

/* Before the commit: objects under the prefix that this run did not record (a damaged one,
 * or one the volume no longer needs) would make Cinder refuse the backup. */
typedef struct resume_strays {
    const cb_bk *b;
    cb_strv names;
} resume_strays;

static int resume_on_name(const char *name, void *payload)
{
    resume_strays *s = payload;
    const char *rest = name + strlen(s->b->prefix);
    if (strcmp(rest, "_sha256file") == 0 || strcmp(rest, "_metadata") == 0)
        return 0;
    for (size_t k = 0; k < s->b->meta.n_objects; k++)
        if (strcmp(s->b->meta.objects[k].name, name) == 0)
            return 0;
    return cb__strv_push(&s->names, name);
}

int cb__bk_resume_strays(cb_bk *b, cb_error *err)
{
    resume_strays s = { .b = b, .names = { .err = err } };
    int rc = cb_store_list(b->store, b->container, b->prefix, 0, resume_on_name, &s, err);
    for (size_t i = 0; rc == 0 && i < s.names.n; i++)
        rc = cb_store_delete_object(b->store, b->container, s.names.v[i], 0, err);
    cb__strv_dispose(&s.names);
    return rc;
}
