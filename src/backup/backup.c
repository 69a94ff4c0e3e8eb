/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backup.c: a full backup in Cinder's chunked format 1.0.0 (spec §2.2).
 *
 * Order of writes, which is what makes a backup crash-safe: the record of the backup in
 * progress (pending.h, which reserves its id), the data objects, then <prefix>_sha256file,
 * then <prefix>_metadata. Until the metadata exists nothing looks like a backup; on a
 * failure everything under the prefix is removed, and so is the record. A backup holds a
 * shared lock of the store from start to end (lock.h), so no delete or cleanup runs
 * meanwhile; an incremental also checks its parent once more just before it commits.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lock/lock.h"
#include "backup_job.h"
#include "../util/util.h"
#include "../json/json.h"
#include "../format/format.h"
#include "../catalog/catalog.h"

/* The record that reserves the backup's id and says where its objects go; then the id must
 * not be a committed backup's either. */
static int bk_reserve(cb_bk *b, cb_error *err)
{
    cb_pending *p = &b->pending;
    cb_found f;
    int rc;
    memcpy(p->backup_id, b->backup_id, sizeof(p->backup_id));
    memcpy(p->volume_id, b->volume_id, sizeof(p->volume_id));
    memcpy(p->ts, b->ts, sizeof(p->ts));
    memcpy(p->created_at, b->created_at, sizeof(p->created_at));
    p->object_size = b->object_size;
    p->sha_block = b->sha_block;
    p->size = b->vol.size == CB_VOLUME_SIZE_UNKNOWN ? 0 : b->vol.size; /* a stream's: 0 */
    p->pid = (int64_t)getpid();
    p->started = (int64_t)time(NULL);
    cb__lock_host(b->store, p->host);
    if ((p->container = cb__strdup(b->container, err)) == NULL ||
        (p->prefix = cb__strdup(b->prefix, err)) == NULL ||
        (p->compression = cb__strdup(b->comp_name, err)) == NULL ||
        (p->volume = cb__strdup(b->vol.canonical, err)) == NULL ||
        (b->meta.parent_id && (p->parent_id = cb__strdup(b->meta.parent_id, err)) == NULL) ||
        (b->meta.name && (p->name = cb__strdup(b->meta.name, err)) == NULL) ||
        (b->meta.description && (p->description = cb__strdup(b->meta.description, err)) == NULL) ||
        (b->meta.volume_meta && (p->volume_meta = cb__strdup(b->meta.volume_meta, err)) == NULL))
        return CB_ENOMEM;
    if ((rc = cb__pending_reserve(b->store, p, err)) < 0)
        return rc;
    b->reserved = 1;
    rc = cb__catalog_find(b->store, b->backup_id, &f, err);
    if (rc == 0) {
        rc = cb_error_set(err, CB_EEXISTS, "backup %s already exists in container '%s'",
                          b->backup_id, f.container);
        cb__found_dispose(&f);
        return rc;
    }
    if (rc == CB_ENOTFOUND) {
        cb_error_clear(err);
        return 0;
    }
    return rc;
}

/* Just before the commit: the parent and its ancestors are still there, as they were when
 * the backup started (a delete that ignored the lock, or ran on a host whose lock this
 * store did not show, would otherwise leave a child that cannot be restored). */
static int bk_recheck_parent(cb_bk *b, cb_error *err)
{
    cb_chain now;
    cb_error lerr = { 0 };
    const char *pid = b->meta.parent_id;
    if (pid == NULL)
        return 0;
    int rc = cb__chain_load(b->store, pid, &now, &lerr);
    if (rc == 0 && now.n == b->parent.n && now.size == b->parent.size) {
        for (size_t i = 0; rc == 0 && i < now.n; i++)
            if (now.layers[i].meta.n_objects != b->parent.layers[i].meta.n_objects)
                rc = CB_ECORRUPT;
    } else if (rc == 0) {
        rc = CB_ECORRUPT;
    }
    cb__chain_dispose(&now);
    if (rc == 0)
        return 0;
    return cb_error_set(err, CB_ECORRUPT,
                        "parent backup %s changed or went away during the backup%s%s: this "
                        "backup is not committed",
                        pid, lerr.msg[0] ? ": " : "", lerr.msg);
}

static int bk_commit(cb_bk *b, cb_error *err)
{
    int rc;
    /* what was read must be one volume: same size, same file, from start to end */
    if ((rc = cb__volume_recheck(&b->vol, err)) < 0)
        return rc;
    cb__bk_step(b, "writing the _sha256file");
    if ((rc = cb__bk_expect_end(b, err)) < 0 || (rc = cb__bk_sha_end(b, err)) < 0 ||
        (rc = cb__bk_tick(b, err)) < 0 || (rc = bk_recheck_parent(b, err)) < 0 ||
        (b->reuse != NULL && (rc = cb__bk_resume_strays(b, err)) < 0))
        return rc;
    cb__bk_step(b, "writing the _metadata");
    if ((rc = cb__bk_write_metadata(b, err)) < 0)
        return rc;
    /* committed: the record goes (one left behind is only a leftover for `cleanup`) */
    cb_error ignored = { 0 };
    if (cb__pending_remove(b->store, b->backup_id, &ignored) == 0)
        b->reserved = 0;
    return 0;
}

/* What cb_backup returns, made before the commit: once the backup is committed, running out
 * of memory must not turn it into a failure. stored_bytes is final only after the commit. */
static int bk_result(cb_bk *b, cb_backup_info **out, cb_error *err)
{
    cb_found f = { .container = b->container, .prefix = b->prefix };
    cb__prefix_parse(b->prefix, &f.parts);
    int rc = cb__catalog_info(b->store, &f, &b->meta, out, err);
    if (rc == 0) {
        (*out)->size = b->vol.size;
        (*out)->sha_block = b->sha_block;
        (*out)->stored_bytes = b->progress.bytes_stored;
        (*out)->reused_objects = b->reused;
        (*out)->chain_length = (unsigned)b->parent.n + 1; /* as cb_backup_show counts it */
    }
    return rc;
}

/* The pipeline's progress: how far it read, then the backup's own tick. */
static int bk_job_tick(void *ctx, uint64_t bytes_done, cb_error *err)
{
    cb_bk *b = ctx;
    b->progress.bytes_done = bytes_done;
    b->progress.bytes_read = cb__volume_bytes_read(&b->vol);
    return cb__bk_tick(b, err);
}

/* A stream, once the pipeline read it: its end seen (and nothing after a given size), its
 * size now known (0 is a volume too: Cinder backs up empty ones), and as long as the parent
 * of an incremental. */
static int bk_stream_end(cb_bk *b, cb_error *err)
{
    int rc;
    if (!cb__volume_is_stream(&b->vol))
        return 0;
    if ((rc = cb__volume_finish(&b->vol, err)) < 0)
        return rc;
    b->progress.bytes_total = b->vol.size;
    if (b->parent.n > 0 && b->vol.size != b->parent.size)
        return cb_error_set(err, CB_ESOURCE,
                            "%s held %llu bytes, but parent backup %s is of a volume "
                            "of %llu bytes: an incremental must be of the same size (do a full "
                            "backup)",
                            b->vol.path, (unsigned long long)b->vol.size,
                            b->parent.layers[0].where.parts.backup_id,
                            (unsigned long long)b->parent.size);
    return 0;
}

static int bk_run(cb_bk *b, cb_error *err)
{
    int rc;
    if ((rc = cb__bk_names(b, err)) < 0 || (rc = cb__bk_meta_begin(b, err)) < 0 ||
        (rc = cb__bk_meta_fits(b, err)) < 0 ||
        (rc = b->opts->resume_id ? cb__bk_resume_apply(b, err)
                                 : (b->dry_run ? 0 : bk_reserve(b, err))) < 0 ||
        (rc = cb_store_put_container(b->store, b->container, 0, err)) < 0)
        return rc;
    b->started = 1;
    if ((rc = cb__bk_sha_begin(b, err)) < 0)
        return rc;
    int incremental = b->parent.n > 0;
    b->objw = (cb_objw_spec){ .store = b->store,
                              .container = b->container,
                              .extra_json = b->meta.extra_json,
                              .codec = b->codec,
                              .comp_name = b->comp_name };
    cb_pl_job job = {
        .vol = &b->vol,
        .object_size = b->object_size,
        .sha_block = b->sha_block,
        .threads = b->opts->threads,
        .connections = cb_store_connections(b->store),
        .objw = b->objw,
        .prefix = b->prefix,
        .ctx = b,
        .commit = incremental ? cb__bk_commit_incremental : cb__bk_commit_full,
        .tick = bk_job_tick,
        .record = cb__bk_record,
        .zeros = cb__bk_zero_object,
        .kept = b->reuse != NULL ? cb__bk_kept : NULL,
    };
    cb__bk_step(b, incremental ? "reading the volume, comparing it with the parent's hashes"
                               : "reading the volume");
    rc = cb__pl_run(&job, incremental ? CB_PL_SCAN : CB_PL_FULL, err);
    if (rc < 0 || (rc = bk_stream_end(b, err)) < 0 ||
        (b->want_info && (rc = bk_result(b, &b->info, err)) < 0))
        return rc;
    return bk_commit(b, err);
}

/* Remove what a failed backup wrote, and then its record; a failure here is added to the
 * first error's text. A cancelled backup asked to keep what it stored keeps both, for
 * --resume (and `cleanup`). */
static void bk_cleanup(cb_bk *b, cb_error *err)
{
    cb_error cerr = { 0 };
    cb_writer_free(b->sha_writer);
    b->sha_writer = NULL;
    if (err->code == CB_ECANCELED && b->opts->keep_partial && b->reserved) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof(err->msg) - n,
                 "; what it stored is kept: continue with `cinderblock backup VOLUME --resume "
                 "%s`, or remove it with `cinderblock cleanup`",
                 b->backup_id);
        return;
    }
    if (b->started && b->prefix != NULL &&
        cb__delete_prefix(b->store, b->container, b->prefix, &cerr) < 0) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof(err->msg) - n,
                 " (and removing the partial backup failed: %s; run `cinderblock cleanup`)",
                 cerr.msg);
        return; /* the record stays: it marks the leftovers */
    }
    if (b->reserved && cb__pending_remove(b->store, b->backup_id, &cerr) == 0)
        b->reserved = 0;
}

static void bk_dispose(cb_bk *b)
{
    cb_backup_info_free(b->info);
    cb__lock_release(b->lock);
    cb__pending_dispose(&b->pending);
    cb__reuse_dispose(&b->reuse_table);
    cb_writer_free(b->sha_writer);
    cb_pyjson_dispose(&b->sha_json);
    cb__objw_dispose(&b->zero_w);
    cb_encoder_free(b->zero_enc);
    if (b->zeros != NULL)
        cb__digest_dispose(&b->zero_dg);
    free(b->zeros);
    free(b->digs);
    cb__meta_dispose(&b->meta);
    cb__volume_close(&b->vol);
    cb__hashes_close(&b->pshas);
    cb__hashes_close(&b->expect);
    cb__chain_dispose(&b->parent);
    cb_buf_dispose(&b->zero_blob);
    free(b->container);
    free(b->prefix);
    free(b->comp_name);
}

/* The descriptor a stream path names ("-", "/dev/stdin", "/dev/fd/N"), or -1: a file. */
static int bk_stream_fd(const char *path, const cb_backup_opts *o)
{
    char *end;
    if (path == NULL)
        return -1;
    if (strcmp(path, "-") == 0)
        return o->stream_fd;
    if (strcmp(path, "/dev/stdin") == 0)
        return 0;
    if (strncmp(path, "/dev/fd/", 8) == 0 && path[8] >= '0' && path[8] <= '9') {
        long fd = strtol(path + 8, &end, 10);
        if (*end == '\0' && fd <= 1 << 20)
            return (int)fd;
    }
    return -1;
}

/* The caller's read callback (opts->volume_read), as the stream's read function. */
static long long bk_volume_read(void *payload, void *buf, size_t len)
{
    const cb_backup_opts *o = payload;
    return o->volume_read(o->volume_read_payload, buf, len);
}

/* Open the volume: a file or device by path, a stream, the caller's descriptor or read
 * callback (a volume without a path needs a volume id from somewhere). */
static int bk_open_volume(cb_bk *b, const char *volume_path, cb_error *err)
{
    const cb_backup_opts *o = b->opts;
    int fd = bk_stream_fd(volume_path, o);
    uint64_t size = o->stream_size ? o->stream_size : CB_VOLUME_SIZE_UNKNOWN;
    int pathless = volume_path == NULL &&
                   (o->volume_pread != NULL || o->volume_read != NULL || o->volume_fd >= 0);
    if (fd < 0 && !pathless && cb__nbd_is_uri(volume_path))
        return cb__volume_open_nbd(&b->vol, volume_path, o->dirty_bitmap,
                                   (uint32_t)(o->verify_unchanged * 10000.0 + 0.5),
                                   o->nbd_connections, b->sha_block, err);
    if (o->dirty_bitmap != NULL)
        return cb_error_set(err, CB_EINVAL,
                            "--dirty-bitmap needs an NBD volume (nbd://... or "
                            "nbd+unix:///?socket=...), not '%s'",
                            volume_path ? volume_path : "(a volume without a path)");
    if (fd < 0 && !pathless)
        return cb__volume_open(&b->vol, volume_path, err);
    const char *what = !pathless                 ? "a volume read from standard input"
                       : o->volume_pread != NULL ? "a volume read through volume_pread"
                       : o->volume_read != NULL  ? "a volume read through volume_read"
                                                 : "a volume given as a descriptor (volume_fd)";
    if (o->resume_id != NULL)
        return cb_error_set(err, CB_EINVAL, "%s cannot be resumed (--resume): back it up again",
                            what);
    if (o->volume_id == NULL && o->parent_id == NULL)
        return cb_error_set(err, CB_EINVAL,
                            "%s has no path to derive its id from: give --volume-id (or "
                            "--parent)",
                            what);
    if (!pathless)
        return cb__volume_open_stream(&b->vol, fd, size, err);
    if (o->volume_pread != NULL) /* read as a file is: at offsets, in parallel */
        return cb__volume_open_pread(&b->vol, o->volume_pread, o->volume_pread_payload,
                                     o->volume_size, err);
    if (o->volume_read != NULL)
        return cb__volume_open_fn(&b->vol, bk_volume_read, (void *)o, size, err);
    return cb__volume_open_fd(&b->vol, o->volume_fd, size, err);
}

int cb_volume_is_nbd(const char *volume_path)
{
    return cb__nbd_is_uri(volume_path);
}

int cb_backup(cb_store *store,
              const char *volume_path,
              const cb_backup_opts *opts,
              cb_backup_info **out,
              cb_error *err)
{
    return cb__backup_ex(store, volume_path, opts, NULL, out, err);
}

/* The list the backup's blocks must match (cb_bk_extra.expect), opened in step. */
static int bk_expect_open(cb_bk *b, cb_error *err)
{
    uint64_t blk;
    if (b->extra == NULL || b->extra->expect == NULL)
        return 0;
    int rc = cb__hashes_open(&b->expect, b->store, b->extra->expect, &blk, err);
    if (rc < 0)
        return rc;
    b->expecting = 1;
    if (blk != b->sha_block)
        return cb_error_set(err, CB_EINVAL,
                            "backup %s has sha blocks of %llu bytes, the backup %u (internal "
                            "error)",
                            b->extra->expect->parts.backup_id, (unsigned long long)blk,
                            b->sha_block);
    return 0;
}

int cb__backup_ex(cb_store *store,
                  const char *volume_path,
                  const cb_backup_opts *opts,
                  const cb_bk_extra *extra,
                  cb_backup_info **out,
                  cb_error *err)
{
    static const cb_backup_opts defaults = CB_BACKUP_OPTS_INIT;
    cb_backup_opts resumed, current = CB_BACKUP_OPTS_INIT;
    cb_store *dry = NULL;
    cb_bk b;
    int rc;

    memset(&b, 0, sizeof(b));
    b.vol.fd = -1;
    if (out != NULL)
        *out = NULL;
    b.store = store;
    b.extra = extra;
    b.opts = opts ? opts : &defaults;
    if (b.opts->version >= 1 && b.opts->version <= 5) { /* the fields it has; the newer
                                                           ones keep their defaults */
        memcpy(&current, b.opts,
               b.opts->version == 1   ? offsetof(cb_backup_opts, stream_size)
               : b.opts->version == 2 ? offsetof(cb_backup_opts, volume_fd)
               : b.opts->version == 3 ? offsetof(cb_backup_opts, volume_pread)
               : b.opts->version == 4 ? offsetof(cb_backup_opts, dirty_bitmap)
                                      : offsetof(cb_backup_opts, coalesce));
        if (b.opts->version < 3)
            current.volume_fd = -1;
        current.version = CB_BACKUP_OPTS_VERSION;
        b.opts = &current;
    }
    if (b.opts->version != CB_BACKUP_OPTS_VERSION) {
        rc = cb_error_set(err, CB_EINVAL, "cb_backup_opts version %u is not supported",
                          b.opts->version);
        goto done;
    }
    b.dry_run = b.opts->dry_run;
    if (b.dry_run && b.opts->resume_id != NULL) {
        rc = cb_error_set(err, CB_EINVAL, "a dry run cannot resume backup %s", b.opts->resume_id);
        goto done;
    }
    /* a dry run reads the store through a store that drops every write */
    if (b.dry_run && (rc = cb__bk_dry_store(store, &dry, err)) < 0)
        goto done;
    if (dry != NULL)
        b.store = dry;
    b.progress.phase = "backup";
    if (b.opts->resume_id != NULL) { /* the interrupted backup's settings, from its record */
        resumed = *b.opts;
        if ((rc = cb__bk_resume_begin(&b, &resumed, err)) < 0)
            goto done;
        b.opts = &resumed;
    }
    if ((rc = cb__bk_options(&b, err)) < 0)
        goto done;
    cb__bk_step(&b, "opening the volume");
    if ((rc = bk_open_volume(&b, volume_path, err)) < 0)
        goto done;
    if (extra != NULL && extra->raw_hint != NULL) {
        b.vol.raw_hint = extra->raw_hint;
        b.vol.raw_hint_payload = extra->raw_hint_payload;
    }
    b.vol.in_order = extra != NULL && extra->in_order;
    b.vol.read_count = &b.read_bytes;
    b.progress.bytes_total = b.vol.size == CB_VOLUME_SIZE_UNKNOWN ? 0 : b.vol.size;
    if ((rc = cb__bk_ids(&b, err)) < 0)
        goto done;
    if (b.lock == NULL && !b.dry_run && !(extra != NULL && extra->locked)) {
        /* a dry run writes nothing, not even a lock */
        cb__bk_step(&b, "taking the store's lock");
        if ((rc = cb__lock_take(store, 0, "backup", b.backup_id, &b.lock, err)) < 0)
            goto done;
    }
    if (b.opts->incremental || b.opts->parent_id != NULL) {
        cb__bk_step(&b, "finding the parent backup");
        if ((rc = cb__bk_parent(&b, err)) < 0)
            goto done;
    }
    if ((rc = cb__bk_sizes(&b, err)) < 0 || (rc = bk_expect_open(&b, err)) < 0)
        goto done;
    b.want_info = out != NULL;
    if ((rc = bk_run(&b, err)) < 0) {
        bk_cleanup(&b, err);
        goto done;
    }
    /* the last call: every object done, the _sha256file and _metadata counted */
    b.progress.bytes_done = b.progress.bytes_total;
    b.progress.bytes_read = cb__volume_bytes_read(&b.vol);
    cb__bk_step(&b, b.dry_run ? "done (a dry run: nothing was written)" : "committed");
    if (out != NULL) {
        b.info->stored_bytes = b.progress.bytes_stored; /* with the _sha256file and _metadata */
        *out = b.info;
        b.info = NULL;
    }
done:
    bk_dispose(&b);
    cb_store_free(dry); /* after everything that reads through it */
    return rc;
}
