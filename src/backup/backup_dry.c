/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backup_dry.c: the store a dry-run backup writes to (cb_backup_opts.dry_run). It reads
 * through to the real store (the catalog, the parent's chain and hash list) and takes every
 * write: each object is compressed and measured exactly as in a real run, then dropped, so
 * the objects and bytes a dry run reports are the ones a real run would store. Creating
 * containers and deleting objects do nothing; the real store is never written.
 */
#include <stdlib.h>
#include <string.h>

#include "cinderblock/sys/store.h"
#include "backup_job.h"
#include "../util/util.h"

typedef struct dry_state {
    cb_store *real; /* borrowed: outlives the dry store */
    cb_store_ops ops;
} dry_state;

typedef struct dry_writer {
    cb_writer base; /* first: the library sees this */
} dry_writer;

static int dry_write(cb_writer *w, const void *buf, size_t len, cb_error *err)
{
    (void)w;
    (void)buf;
    (void)len;
    (void)err;
    return 0;
}

static int dry_close(cb_writer *w, cb_error *err)
{
    (void)w;
    (void)err;
    return 0;
}

static void dry_writer_free(cb_writer *w)
{
    free(w);
}

static const cb_writer_ops dry_writer_ops = {
    CB_WRITER_OPS_INIT,
    .write = dry_write,
    .close = dry_close,
    .free = dry_writer_free,
};

static int dry_put_container(void *state, const char *container, unsigned int flags, cb_error *err)
{
    (void)state;
    (void)container;
    (void)flags;
    (void)err;
    return 0;
}

static int dry_list(void *state,
                    const char *container,
                    const char *prefix,
                    unsigned int flags,
                    cb_list_fn fn,
                    void *payload,
                    cb_error *err)
{
    dry_state *st = state;
    return cb_store_list(st->real, container, prefix, flags, fn, payload, err);
}

static int dry_list_entries(void *state,
                            const char *container,
                            const char *prefix,
                            unsigned int flags,
                            cb_entry_fn fn,
                            void *payload,
                            cb_error *err)
{
    dry_state *st = state;
    return cb_store_list_entries(st->real, container, prefix, flags, fn, payload, err);
}

static int
dry_list_containers(void *state, unsigned int flags, cb_list_fn fn, void *payload, cb_error *err)
{
    dry_state *st = state;
    return cb_store_list_containers(st->real, flags, fn, payload, err);
}

static int dry_open_writer(void *state,
                           const char *container,
                           const char *name,
                           const char *extra_metadata,
                           unsigned int flags,
                           cb_writer **out,
                           cb_error *err)
{
    (void)state;
    (void)container;
    (void)name;
    (void)extra_metadata;
    (void)flags;
    dry_writer *w = cb__calloc(1, sizeof(*w), err);
    if (w == NULL)
        return CB_ENOMEM;
    w->base.ops = &dry_writer_ops;
    *out = &w->base;
    return 0;
}

/* A reader of the real store, wrapped: its own wrappers keep serialising its calls. */
typedef struct dry_reader {
    cb_reader base; /* first */
    cb_reader *real;
} dry_reader;

static int dry_read(cb_reader *r, void *buf, size_t cap, size_t *n_out, cb_error *err)
{
    return cb_reader_read(((dry_reader *)r)->real, buf, cap, n_out, err);
}

static void dry_reader_free(cb_reader *r)
{
    cb_reader_free(((dry_reader *)r)->real);
    free(r);
}

static const cb_reader_ops dry_reader_ops = {
    CB_READER_OPS_INIT,
    .read = dry_read,
    .free = dry_reader_free,
};

static int dry_open_reader(void *state,
                           const char *container,
                           const char *name,
                           const char *extra_metadata,
                           unsigned int flags,
                           cb_reader **out,
                           cb_error *err)
{
    dry_state *st = state;
    dry_reader *r = cb__calloc(1, sizeof(*r), err);
    if (r == NULL)
        return CB_ENOMEM;
    int rc = cb_store_open_reader(st->real, container, name, extra_metadata, flags, &r->real, err);
    if (rc < 0) {
        free(r);
        return rc;
    }
    r->base.ops = &dry_reader_ops;
    *out = &r->base;
    return 0;
}

static int dry_delete_object(
    void *state, const char *container, const char *name, unsigned int flags, cb_error *err)
{
    (void)state;
    (void)container;
    (void)name;
    (void)flags;
    (void)err;
    return 0;
}

static int dry_update_container_name(
    void *state, const char *backup_id, const char *container, char **out, cb_error *err)
{
    dry_state *st = state;
    return cb_store_update_container_name(st->real, backup_id, container, out, err);
}

static int dry_get_extra_metadata(
    void *state, const char *backup_id, const char *volume_id, char **json_out, cb_error *err)
{
    dry_state *st = state;
    return cb_store_get_extra_metadata(st->real, backup_id, volume_id, json_out, err);
}

static int dry_home_container(void *state, char **out, cb_error *err)
{
    dry_state *st = state;
    return cb_store_home_container(st->real, out, err);
}

static void dry_destroy(void *state)
{
    free(state);
}

int cb__bk_dry_store(cb_store *real, cb_store **out, cb_error *err)
{
    const cb_store_info *info = cb_store_get_info(real);
    dry_state *st = cb__calloc(1, sizeof(*st), err);
    *out = NULL;
    if (st == NULL)
        return CB_ENOMEM;
    st->real = real;
    /* the real store's facts, so that names, sizes and defaults come out as in a real run;
     * its calls are serialised where it needs that, by its own wrappers */
    st->ops = (cb_store_ops){
        CB_STORE_OPS_INIT,
        .name = info->name,
        .flags = CB_STORE_PARALLEL | CB_STORE_EXCLUSIVE |
                 (info->flat_prefix ? CB_STORE_FLAT_PREFIX : 0u),
        .cinder_driver = info->cinder_driver,
        .default_object_size = info->default_object_size,
        .default_sha_block = info->default_sha_block,
        .default_coalesce = info->default_coalesce,
        .default_connections = cb_store_connections(real),
        .put_container = dry_put_container,
        .list = dry_list,
        .open_writer = dry_open_writer,
        .open_reader = dry_open_reader,
        .delete_object = dry_delete_object,
        .destroy = dry_destroy,
        .update_container_name = dry_update_container_name,
        .get_extra_metadata = dry_get_extra_metadata,
        .list_containers = dry_list_containers,
        .list_entries = dry_list_entries,
        .home_container = dry_home_container,
    };
    /* cb_store_new copies the table: st->ops need not outlive this call, but it does */
    return cb_store_new(out, &st->ops, st, cb_store_get_opts(real), err);
}
