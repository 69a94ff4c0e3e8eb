/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backup.c: a full backup in Cinder's chunked format 1.0.0 (spec §2.2).
 *
 * Order of writes, which is what makes a backup crash-safe: the data objects, then
 * <prefix>_sha256file, then <prefix>_metadata. Until the metadata exists nothing looks like
 * a backup, and on any failure or cancel everything under the prefix is removed.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "../util/alloc.h"

int cb__bk_tick(cb_bk *b, cb_error *err)
{
    const cb_backup_opts *o = b->opts;
    if (o->cancel != NULL && o->cancel(o->cancel_payload))
        return cb_error_set(err, CB_ECANCELED, "backup %s cancelled", b->backup_id);
    if (o->progress != NULL)
        o->progress(&b->progress, o->progress_payload);
    return 0;
}

static int bk_ids(cb_bk *b, cb_error *err)
{
    const cb_backup_opts *o = b->opts;
    int rc;
    if (o->volume_id != NULL) {
        if ((rc = cb__uuid_normalize(b->volume_id, o->volume_id, "volume id", err)) < 0)
            return rc;
    } else {
        /* the same disk keeps its id: derived from its canonical path */
        cb__uuid_from_name(b->volume_id, b->vol.canonical);
    }
    if (o->backup_id == NULL)
        return cb__uuid_random(b->backup_id, err);
    if ((rc = cb__uuid_normalize(b->backup_id, o->backup_id, "backup id", err)) < 0)
        return rc;
    cb_found f;
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

static int bk_options(cb_bk *b, cb_error *err)
{
    const cb_backup_opts *o = b->opts;
    const cb_store_info *info = cb_store_get_info(b->store);
    const char *comp = o->compression ? o->compression : "zlib";
    int rc;

    if ((rc = cb_codec_lookup(comp, &b->codec, err)) < 0)
        return rc;
    if ((b->comp_name = cb__strdup(comp, err)) == NULL)
        return CB_ENOMEM;
    for (char *p = b->comp_name; *p; p++) /* Cinder records the configured name lowercased */
        *p = (char)tolower((unsigned char)*p);
    b->sha_block = o->sha_block
                       ? o->sha_block
                       : (info->default_sha_block ? info->default_sha_block : CB_DEFAULT_SHA_BLOCK);
    b->object_size = o->object_size ? o->object_size : info->default_object_size;
    return 0;
}

/* After the parent is known (it may set the sha block size): sizes and the piece. */
static int bk_sizes(cb_bk *b, cb_error *err)
{
    if (b->object_size % b->sha_block != 0)
        return cb_error_set(err, CB_EINVAL,
                            "object size %llu is not a multiple of the sha block size %u",
                            (unsigned long long)b->object_size, b->sha_block);
    /* pieces: about 4 MiB, whole sha blocks, never more than an object */
    uint64_t piece = CB_PIECE_TARGET / b->sha_block * b->sha_block;
    if (piece == 0)
        piece = b->sha_block;
    b->piece = (size_t)(piece < b->object_size ? piece : b->object_size);
    return 0;
}

static int bk_sha_sink(const void *data, size_t len, void *payload, cb_error *err)
{
    return cb_writer_write(payload, data, len, err);
}

/* Open <prefix>_sha256file and write everything up to the first hash. Keys sorted. */
static int bk_sha_begin(cb_bk *b, cb_error *err)
{
    char *name = cb__name_sha256file(b->prefix, err);
    int rc;
    if (name == NULL)
        return CB_ENOMEM;
    rc = cb_store_open_writer(b->store, b->container, name, NULL, CB_WRITE_DEFER_SYNC,
                              &b->sha_writer, err);
    free(name);
    if (rc < 0)
        return rc;
    cb_pyjson *j = &b->sha_json;
    cb_pyjson_init(j, 2, bk_sha_sink, b->sha_writer);
    cb_pyjson_begin_object(j, err);
    cb_pyjson_key(j, "backup_description", err);
    b->meta.description ? cb_pyjson_string(j, b->meta.description, err) : cb_pyjson_null(j, err);
    cb_pyjson_key(j, "backup_id", err);
    cb_pyjson_string(j, b->backup_id, err);
    cb_pyjson_key(j, "backup_name", err);
    b->meta.name ? cb_pyjson_string(j, b->meta.name, err) : cb_pyjson_null(j, err);
    cb_pyjson_key(j, "chunk_size", err); /* Cinder's name for the sha block size */
    cb_pyjson_uint(j, b->sha_block, err);
    cb_pyjson_key(j, "created_at", err);
    cb_pyjson_string(j, b->created_at, err);
    cb_pyjson_key(j, "sha256s", err);
    return cb_pyjson_begin_array(j, err);
}

static int bk_sha_end(cb_bk *b, cb_error *err)
{
    cb_pyjson *j = &b->sha_json;
    int rc;
    cb_pyjson_end_array(j, err);
    cb_pyjson_key(j, "version", err);
    cb_pyjson_string(j, CB_META_VERSION, err);
    cb_pyjson_key(j, "volume_id", err);
    cb_pyjson_string(j, b->volume_id, err);
    cb_pyjson_end_object(j, err);
    if ((rc = cb_pyjson_finish(j, err)) < 0)
        return rc;
    return cb_writer_close(b->sha_writer, err);
}

static int bk_write_metadata(cb_bk *b, cb_error *err)
{
    char *text = NULL, *name = NULL;
    size_t len;
    int rc;
    /* everything the metadata refers to is durable before the metadata exists */
    if ((rc = cb_store_sync(b->store, b->container, 0, err)) < 0 ||
        (rc = cb__meta_write(&b->meta, &text, &len, err)) < 0)
        return rc;
    if (len > CB_META_MAX) { /* the bounds above should make this impossible */
        free(text);
        return cb_error_set(err, CB_ERROR,
                            "the metadata of backup %s takes %zu bytes, more than a restore "
                            "reads (%zu)",
                            b->backup_id, len, CB_META_MAX);
    }
    if ((name = cb__name_metadata(b->prefix, err)) == NULL)
        rc = CB_ENOMEM;
    else
        rc = cb_store_write_all(b->store, b->container, name, text, len, err);
    free(name);
    free(text);
    return rc;
}

/* Fill the metadata fields that are known before any data is read. */
static int bk_meta_begin(cb_bk *b, cb_error *err)
{
    const cb_backup_opts *o = b->opts;
    cb_meta *m = &b->meta;
    int rc;
    if ((m->backup_id = cb__strdup(b->backup_id, err)) == NULL ||
        (m->volume_id = cb__strdup(b->volume_id, err)) == NULL ||
        (m->created_at = cb__strdup(b->created_at, err)) == NULL ||
        (o->name && (m->name = cb__strdup(o->name, err)) == NULL) ||
        (o->description && (m->description = cb__strdup(o->description, err)) == NULL))
        return CB_ENOMEM;
    if (b->parent.n > 0 &&
        (m->parent_id = cb__strdup(b->parent.layers[0].where.parts.backup_id, err)) == NULL)
        return CB_ENOMEM;
    if ((rc = cb__volmeta_build(o->metadata, o->n_metadata, &m->volume_meta, err)) < 0)
        return rc;
    return cb_store_get_extra_metadata(b->store, b->backup_id, b->volume_id, &m->extra_json, err);
}

/* Choose the container and the prefix, and create the container. */
static int bk_prepare(cb_bk *b, cb_error *err)
{
    cb_time now;
    int rc;
    if ((rc = cb__time_now(&now, b->opts->now, b->opts->now_usec, err)) < 0)
        return rc;
    cb__time_prefix(b->ts, now);
    cb__time_created_at(b->created_at, now);
    if ((rc = cb_store_update_container_name(b->store, b->backup_id, b->opts->container,
                                             &b->container, err)) < 0 ||
        (rc = cb_store_put_container(b->store, b->container, 0, err)) < 0)
        return rc;
    b->prefix = cb__prefix_make(cb_store_get_info(b->store)->flat_prefix, b->volume_id, b->ts,
                                cb_store_availability_zone(b->store), b->backup_id, err);
    return b->prefix ? 0 : CB_ENOMEM;
}

/* A full backup's metadata is bounded before anything is stored: refused, naming an object
 * size that fits, when it would be larger than a restore reads. (An incremental's object
 * count is known only as its runs are found: cb__bk_meta_add stops it then.) */
static int bk_meta_fits(const cb_bk *b, cb_error *err)
{
    uint64_t n = (b->vol.size + b->object_size - 1) / b->object_size, digits = 5;
    for (uint64_t k = 100000; k <= n; k *= 10)
        digits++;
    size_t comp = strlen(b->comp_name) > 4 ? strlen(b->comp_name) : 4; /* or "none" */
    size_t entry = cb__meta_entry_bound(strlen(b->prefix) + 1 + (size_t)digits, comp);
    size_t head = cb__meta_head_bound(&b->meta);
    if (b->parent.n > 0 || (head < CB_META_MAX && n <= (CB_META_MAX - head) / entry))
        return 0;
    uint64_t most = head < CB_META_MAX ? (CB_META_MAX - head) / entry : 1;
    uint64_t fit = (b->vol.size + (most ? most : 1) - 1) / (most ? most : 1);
    fit = (fit + b->sha_block - 1) / b->sha_block * b->sha_block;
    return cb_error_set(err, CB_EINVAL,
                        "a backup of %llu bytes in objects of %llu bytes needs %llu objects, "
                        "more than the %zu MiB of metadata a restore reads can list: use "
                        "--object-size %llu or more",
                        (unsigned long long)b->vol.size, (unsigned long long)b->object_size,
                        (unsigned long long)n, CB_META_MAX >> 20, (unsigned long long)fit);
}

static int bk_run(cb_bk *b, cb_error *err)
{
    int rc;
    if ((rc = bk_prepare(b, err)) < 0 || (rc = bk_meta_begin(b, err)) < 0 ||
        (rc = bk_meta_fits(b, err)) < 0)
        return rc;
    if ((rc = cb__bk_io_init(b, &b->io, err)) < 0)
        return rc;
    b->started = 1;
    if ((rc = bk_sha_begin(b, err)) < 0)
        return rc;
    rc = b->parent.n > 0 ? cb__pl_run(b, CB_PL_SCAN, cb__bk_commit_incremental, err)
                         : cb__pl_run(b, CB_PL_FULL, cb__bk_commit_full, err);
    if (rc < 0)
        return rc;
    /* what was read must be one volume: same size, same file, from start to end */
    if ((rc = cb__volume_recheck(&b->vol, err)) < 0 || (rc = bk_sha_end(b, err)) < 0 ||
        (rc = cb__bk_tick(b, err)) < 0)
        return rc;
    return bk_write_metadata(b, err);
}

/* Remove what a failed backup wrote; a failure here is added to the first error's text. */
static void bk_cleanup(cb_bk *b, cb_error *err)
{
    cb_error cerr = { 0 };
    cb_writer_free(b->sha_writer);
    b->sha_writer = NULL;
    if (!b->started || b->prefix == NULL)
        return;
    if (cb__delete_prefix(b->store, b->container, b->prefix, &cerr) < 0) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof(err->msg) - n,
                 " (and removing the partial backup failed: %s; run `cinderblock delete %s`)",
                 cerr.msg, b->backup_id);
    }
}

static int bk_result(cb_bk *b, cb_backup_info **out, cb_error *err)
{
    cb_found f = { .container = b->container, .prefix = b->prefix };
    cb__prefix_parse(b->prefix, &f.parts);
    int rc = cb__catalog_info(b->store, &f, &b->meta, out, err);
    if (rc == 0) {
        (*out)->size = b->vol.size;
        (*out)->sha_block = b->sha_block;
        (*out)->stored_bytes = b->progress.bytes_stored;
    }
    return rc;
}

static void bk_dispose(cb_bk *b)
{
    cb_writer_free(b->sha_writer);
    cb_pyjson_dispose(&b->sha_json);
    cb__bk_io_dispose(&b->io);
    cb__meta_dispose(&b->meta);
    cb__volume_close(&b->vol);
    cb__parent_close(&b->pshas);
    cb__chain_dispose(&b->parent);
    cb_buf_dispose(&b->zero_blob);
    free(b->container);
    free(b->prefix);
    free(b->comp_name);
}

int cb_backup(cb_store *store,
              const char *volume_path,
              const cb_backup_opts *opts,
              cb_backup_info **out,
              cb_error *err)
{
    static const cb_backup_opts defaults = CB_BACKUP_OPTS_INIT;
    cb_bk b;
    int rc;

    memset(&b, 0, sizeof(b));
    b.vol.fd = -1;
    if (out != NULL)
        *out = NULL;
    b.store = store;
    b.opts = opts ? opts : &defaults;
    if (b.opts->version != CB_BACKUP_OPTS_VERSION) {
        rc = cb_error_set(err, CB_EINVAL, "cb_backup_opts version %u is not supported",
                          b.opts->version);
        goto done;
    }
    b.progress.phase = "backup";
    if ((rc = bk_options(&b, err)) < 0 || (rc = cb__volume_open(&b.vol, volume_path, err)) < 0)
        goto done;
    if (b.vol.size == 0) {
        rc = cb_error_set(err, CB_EINVAL, "volume '%s' is empty: there is nothing to back up",
                          volume_path);
        goto done;
    }
    b.progress.bytes_total = b.vol.size;
    if ((rc = bk_ids(&b, err)) < 0)
        goto done;
    if ((b.opts->incremental || b.opts->parent_id != NULL) && (rc = cb__bk_parent(&b, err)) < 0)
        goto done;
    if ((rc = bk_sizes(&b, err)) < 0)
        goto done;
    if ((rc = bk_run(&b, err)) < 0) {
        bk_cleanup(&b, err);
        goto done;
    }
    if (out != NULL)
        rc = bk_result(&b, out, err);
done:
    bk_dispose(&b);
    return rc;
}
