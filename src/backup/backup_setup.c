/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backup_setup.c: what a backup decides before it reads the volume (its id, codec, sizes,
 * names and the metadata fields known up front) and the two JSON objects it writes around
 * the data: the _sha256file, streamed while the volume is read, and the _metadata, last.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "backup_job.h"
#include "../util/util.h"
#include "../codec/codec.h"
#include "../json/json.h"
#include "../format/format.h"

int cb__bk_ids(cb_bk *b, cb_error *err)
{
    const cb_backup_opts *o = b->opts;
    int rc;
    if (o->volume_id != NULL) {
        if ((rc = cb__uuid_normalize(b->volume_id, o->volume_id, "volume id", err)) < 0)
            return rc;
    } else if (cb__volume_is_stream(&b->vol) || strcmp(b->vol.canonical, "-") == 0) {
        b->volume_id[0] = '\0'; /* no path names it: its parent's (cb__bk_parent) */
    } else {
        /* the same disk keeps its id: derived from its canonical path */
        cb__uuid_from_name(b->volume_id, b->vol.canonical);
    }
    if (o->backup_id == NULL)
        return cb__uuid_random(b->backup_id, err);
    return cb__uuid_normalize(b->backup_id, o->backup_id, "backup id", err);
}

/* What only an NBD volume's incremental may ask for (the volume itself is checked when it
 * is opened). */
static int bk_nbd_options(const cb_backup_opts *o, cb_error *err)
{
    if (o->dirty_bitmap != NULL && o->dirty_bitmap[0] == '\0')
        return cb_error_set(err, CB_EINVAL, "--dirty-bitmap needs the name of a bitmap");
    if (o->dirty_bitmap != NULL && !o->incremental && o->parent_id == NULL)
        return cb_error_set(err, CB_EINVAL,
                            "--dirty-bitmap %s needs --incremental or --parent: it says what "
                            "changed since a parent backup (a full backup reads every block)",
                            o->dirty_bitmap);
    if (!(o->verify_unchanged >= 0.0 && o->verify_unchanged <= 100.0))
        return cb_error_set(err, CB_EINVAL,
                            "--verify-unchanged %g is not a percentage between 0 and 100",
                            o->verify_unchanged);
    if (o->verify_unchanged > 0.0 && o->dirty_bitmap == NULL)
        return cb_error_set(err, CB_EINVAL,
                            "--verify-unchanged checks what a dirty bitmap says: give "
                            "--dirty-bitmap");
    if (o->nbd_connections < 0 || o->nbd_connections > 16)
        return cb_error_set(err, CB_EINVAL, "--nbd-connections %d is not between 1 and 16",
                            o->nbd_connections);
    return 0;
}

int cb__bk_options(cb_bk *b, cb_error *err)
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
    if (o->coalesce < -1)
        return cb_error_set(err, CB_EINVAL, "coalesce %lld is negative (-1: the store's default)",
                            (long long)o->coalesce);
    b->coalesce = o->coalesce < 0 ? info->default_coalesce : (uint64_t)o->coalesce;
    return bk_nbd_options(o, err);
}

/* After the parent is known (it may set the sha block size): sizes and the piece. */
int cb__bk_sizes(cb_bk *b, cb_error *err)
{
    /* A stream is held in memory an object or two at a time (source_stream.c), so a stream
     * whose caller chose no object size gets one that keeps that small, whatever the store's
     * Cinder default (posix: 1.86 GiB). Cinder restores any object size. */
    if (cb__volume_is_stream(&b->vol) && b->opts->object_size == 0 &&
        b->object_size > CB_STREAM_OBJECT_SIZE && CB_STREAM_OBJECT_SIZE >= b->sha_block)
        b->object_size = CB_STREAM_OBJECT_SIZE / b->sha_block * b->sha_block;
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
int cb__bk_sha_begin(cb_bk *b, cb_error *err)
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

int cb__bk_sha_end(cb_bk *b, cb_error *err)
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

int cb__bk_write_metadata(cb_bk *b, cb_error *err)
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
int cb__bk_meta_begin(cb_bk *b, cb_error *err)
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
    if (o->volume_meta != NULL && o->n_metadata > 0)
        return cb_error_set(err, CB_EINVAL,
                            "volume_meta and metadata are both given: give Cinder's volume_meta "
                            "text or KEY=VALUE pairs, not both");
    if (o->volume_meta != NULL)
        m->volume_meta = cb__strdup(o->volume_meta, err); /* Cinder's text, verbatim */
    else if ((rc = cb__volmeta_build(o->metadata, o->n_metadata, &m->volume_meta, err)) < 0)
        return rc;
    if (o->volume_meta != NULL && m->volume_meta == NULL)
        return CB_ENOMEM;
    return cb_store_get_extra_metadata(b->store, b->backup_id, b->volume_id, &m->extra_json, err);
}

/* The caller's prefix (Cinder's service_metadata): the store's grammar, naming this backup. */
static int bk_given_prefix(cb_bk *b, const char *prefix, cb_error *err)
{
    cb_prefix_parts parts;
    int flat = cb_store_get_info(b->store)->flat_prefix;
    if (!cb__prefix_parse_as(prefix, flat, &parts))
        return cb_error_set(err, CB_EINVAL,
                            "prefix '%s' does not follow this store's object names (%s)", prefix,
                            flat ? "volume_<volume id>_<YYYYmmddHHMMSS>_backup_<backup id>"
                                 : "volume_<volume id>/<YYYYmmddHHMMSS>/az_<zone>_backup_<backup "
                                   "id>");
    if (strcmp(parts.volume_id, b->volume_id) != 0 || strcmp(parts.backup_id, b->backup_id) != 0)
        return cb_error_set(err, CB_EINVAL,
                            "prefix '%s' names volume %s and backup %s, but this is backup %s of "
                            "volume %s",
                            prefix, parts.volume_id, parts.backup_id, b->backup_id, b->volume_id);
    memcpy(b->ts, parts.ts, sizeof(b->ts));
    b->prefix = cb__strdup(prefix, err);
    return b->prefix ? 0 : CB_ENOMEM;
}

/* The prefix's time, the container's name and the prefix; nothing is created yet. */
int cb__bk_names(cb_bk *b, cb_error *err)
{
    const cb_backup_opts *o = b->opts;
    cb_time now, given;
    int rc;
    if ((rc = cb__time_now(&now, o->now, o->now_usec, err)) < 0)
        return rc;
    cb__time_prefix(b->ts, now);
    cb__time_created_at(b->created_at, now);
    if (o->created_at != NULL) { /* Cinder's str(backup.created_at), kept as it is */
        if (strlen(o->created_at) >= sizeof(b->created_at) ||
            cb__time_parse(o->created_at, &given) < 0)
            return cb_error_set(err, CB_EINVAL,
                                "created_at '%.60s' is not a time such as "
                                "\"2026-12-02 04:27:13+00:00\"",
                                o->created_at);
        memcpy(b->created_at, o->created_at, strlen(o->created_at) + 1);
    }
    if ((rc = cb_store_update_container_name(b->store, b->backup_id, o->container, &b->container,
                                             err)) < 0)
        return rc;
    if (o->prefix != NULL)
        return bk_given_prefix(b, o->prefix, err);
    b->prefix = cb__prefix_make(cb_store_get_info(b->store)->flat_prefix, b->volume_id, b->ts,
                                cb_store_availability_zone(b->store), b->backup_id, err);
    return b->prefix ? 0 : CB_ENOMEM;
}

/* A full backup's metadata is bounded before anything is stored: refused, naming an object
 * size that fits, when it would be larger than a restore reads. (An incremental's object
 * count is known only as its runs are found: cb__bk_meta_add stops it then.) */
int cb__bk_meta_fits(const cb_bk *b, cb_error *err)
{
    if (b->vol.size == CB_VOLUME_SIZE_UNKNOWN) /* a stream: cb__bk_meta_add stops it */
        return 0;
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
