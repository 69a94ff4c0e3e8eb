/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.c: the only way the library reaches a store's operations. The wrappers check
 * arguments, make sure a failing operation explains itself, enforce the writer and reader
 * state machines and serialise stores that are not CB_STORE_PARALLEL.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cinderblock/sys/store.h"
#include "registry.h"
#include "../util/util.h"

struct cb_store {
    const cb_store_ops *ops;
    void *state;
    cb_store_info info;
    cb_store_opts opts; /* strings below are owned copies */
    char *az;
    char *ca_file;
    char *storage_policy;
    char *lock_host;
    int serial;           /* 1: the store is not CB_STORE_PARALLEL */
    pthread_mutex_t lock; /* guards every call into ops/state when serial */
};

enum { IO_OPEN = 0, IO_FAILED = 1, IO_CLOSED = 2 };

static void store_lock(cb_store *s)
{
    if (s->serial)
        pthread_mutex_lock(&s->lock);
}

static void store_unlock(cb_store *s)
{
    if (s->serial)
        pthread_mutex_unlock(&s->lock);
}

/* A store that fails must say why; if it forgot, say which operation failed. */
static int store_result(const cb_store *s, const char *op, int rc, cb_error *err)
{
    if (rc < 0 && err != NULL && err->code == 0)
        cb_error_set(err, rc, "%s store: %s failed (%s)", s->info.name, op, cb_status_name(rc));
    return rc < 0 ? rc : 0;
}

static int store_copy_opt(char **dst, const char *src, cb_error *err)
{
    *dst = NULL;
    if (src == NULL)
        return 0;
    *dst = cb__strdup(src, err);
    return *dst ? 0 : CB_ENOMEM;
}

int cb_store_new(
    cb_store **out, const cb_store_ops *ops, void *state, const cb_store_opts *opts, cb_error *err)
{
    static const cb_store_opts defaults = CB_STORE_OPTS_INIT;
    *out = NULL;
    if (ops == NULL || ops->version != CB_STORE_OPS_VERSION || ops->destroy == NULL ||
        ops->put_container == NULL || ops->list == NULL || ops->open_writer == NULL ||
        ops->open_reader == NULL || ops->delete_object == NULL) {
        if (ops != NULL && ops->destroy != NULL)
            ops->destroy(state);
        return cb_error_set(err, CB_EINVAL, "store ops table is incomplete or of another version");
    }
    cb_store *s = cb__calloc(1, sizeof(*s), err);
    if (s == NULL) {
        ops->destroy(state);
        return CB_ENOMEM;
    }
    s->ops = ops;
    s->state = state;
    s->opts = opts ? *opts : defaults;
    s->serial = !(ops->flags & CB_STORE_PARALLEL);
    pthread_mutex_init(&s->lock, NULL);
    s->info.name = ops->name;
    s->info.cinder_driver = ops->cinder_driver;
    s->info.default_object_size = ops->default_object_size;
    s->info.default_sha_block = ops->default_sha_block;
    s->info.flat_prefix = (ops->flags & CB_STORE_FLAT_PREFIX) != 0;
    const char *az = s->opts.availability_zone ? s->opts.availability_zone : "nova";
    if (store_copy_opt(&s->az, az, err) < 0 ||
        store_copy_opt(&s->ca_file, s->opts.ca_file, err) < 0 ||
        store_copy_opt(&s->storage_policy, s->opts.storage_policy, err) < 0 ||
        store_copy_opt(&s->lock_host, s->opts.lock_host, err) < 0) {
        cb_store_free(s);
        return CB_ENOMEM;
    }
    s->opts.availability_zone = s->az;
    s->opts.ca_file = s->ca_file;
    s->opts.storage_policy = s->storage_policy;
    s->opts.lock_host = s->lock_host;
    *out = s;
    return 0;
}

int cb_store_open(cb_store **out, const char *url, const cb_store_opts *opts, cb_error *err)
{
    static const cb_store_opts defaults = CB_STORE_OPTS_INIT;
    cb_store_ctor ctor;
    const char *location;
    const cb_store_ops *ops = NULL;
    void *state = NULL;
    int rc;

    *out = NULL;
    if (url == NULL || url[0] == '\0')
        return cb_error_set(err, CB_EINVAL,
                            "no store given (use --store URL or CINDERBLOCK_STORE)");
    if (opts != NULL && opts->version != CB_STORE_OPTS_VERSION)
        return cb_error_set(err, CB_EINVAL, "cb_store_opts version %u is not supported",
                            opts->version);
    if ((rc = cb__store_resolve(url, &ctor, &location, err)) < 0)
        return rc;
    if ((rc = ctor(location, opts ? opts : &defaults, &ops, &state, err)) < 0)
        return store_result(&(cb_store){ .info.name = "store" }, "open", rc, err);
    return cb_store_new(out, ops, state, opts, err);
}

void cb_store_free(cb_store *s)
{
    if (s == NULL)
        return;
    s->ops->destroy(s->state);
    pthread_mutex_destroy(&s->lock);
    free(s->az);
    free(s->ca_file);
    free(s->storage_policy);
    free(s->lock_host);
    free(s);
}

const cb_store_info *cb_store_get_info(const cb_store *s)
{
    return &s->info;
}

const char *cb_store_availability_zone(const cb_store *s)
{
    return s->az;
}

void *cb_store_state(cb_store *s)
{
    return s->state;
}

const cb_store_opts *cb_store_get_opts(const cb_store *s)
{
    return &s->opts;
}

const char *cb_store_getenv(const cb_store_opts *opts, const char *name)
{
    if (opts != NULL && opts->getenv != NULL)
        return opts->getenv(name, opts->getenv_payload);
    return getenv(name);
}

static int store_check_name(const char *what, const char *value, cb_error *err)
{
    if (value == NULL)
        return cb_error_set(err, CB_EINVAL, "no %s given", what);
    return 0;
}

int cb_store_put_container(cb_store *s, const char *container, unsigned int flags, cb_error *err)
{
    int rc;
    if ((rc = store_check_name("container", container, err)) < 0)
        return rc;
    store_lock(s);
    rc = s->ops->put_container(s->state, container, flags, err);
    store_unlock(s);
    return store_result(s, "put_container", rc, err);
}

int cb_store_list(cb_store *s,
                  const char *container,
                  const char *prefix,
                  unsigned int flags,
                  cb_list_fn fn,
                  void *payload,
                  cb_error *err)
{
    int rc;
    if ((rc = store_check_name("container", container, err)) < 0)
        return rc;
    store_lock(s);
    rc = s->ops->list(s->state, container, prefix ? prefix : "", flags, fn, payload, err);
    store_unlock(s);
    if (rc > 0) /* the callback stopped the listing; hand its value back */
        return rc;
    return store_result(s, "list", rc, err);
}

/* A store without list_entries: its names, with nothing known about them. */
typedef struct store_names {
    cb_entry_fn fn;
    void *payload;
} store_names;

static int store_name_entry(const char *name, void *payload)
{
    store_names *n = payload;
    cb_entry e = { .name = name, .size = -1, .mtime = -1 };
    return n->fn(&e, n->payload);
}

int cb_store_list_entries(cb_store *s,
                          const char *container,
                          const char *prefix,
                          unsigned int flags,
                          cb_entry_fn fn,
                          void *payload,
                          cb_error *err)
{
    int rc;
    if ((rc = store_check_name("container", container, err)) < 0)
        return rc;
    if (s->ops->list_entries == NULL) {
        store_names n = { fn, payload };
        return cb_store_list(s, container, prefix, flags, store_name_entry, &n, err);
    }
    store_lock(s);
    rc = s->ops->list_entries(s->state, container, prefix ? prefix : "", flags, fn, payload, err);
    store_unlock(s);
    if (rc > 0)
        return rc;
    return store_result(s, "list_entries", rc, err);
}

int cb_store_list_containers(
    cb_store *s, unsigned int flags, cb_list_fn fn, void *payload, cb_error *err)
{
    int rc;
    if (s->ops->list_containers == NULL)
        return cb_error_set(err, CB_ENOTSUPP, "%s store cannot list its containers", s->info.name);
    store_lock(s);
    rc = s->ops->list_containers(s->state, flags, fn, payload, err);
    store_unlock(s);
    if (rc > 0)
        return rc;
    return store_result(s, "list_containers", rc, err);
}

int cb_store_open_writer(cb_store *s,
                         const char *container,
                         const char *name,
                         const char *extra_metadata,
                         unsigned int flags,
                         cb_writer **out,
                         cb_error *err)
{
    int rc;
    *out = NULL;
    if ((rc = store_check_name("container", container, err)) < 0 ||
        (rc = store_check_name("object name", name, err)) < 0)
        return rc;
    if (name[0] == '\0')
        return cb_error_set(err, CB_EINVAL, "empty object name");
    /* a store that predates the flag would silently overwrite: refuse instead */
    if ((flags & CB_WRITE_EXCLUSIVE) && !(s->ops->flags & CB_STORE_EXCLUSIVE))
        return cb_error_set(err, CB_ENOTSUPP, "%s store cannot create '%s' exclusively",
                            s->info.name, name);
    store_lock(s);
    rc = s->ops->open_writer(s->state, container, name, extra_metadata, flags, out, err);
    store_unlock(s);
    if (rc < 0) {
        *out = NULL;
        return store_result(s, "open_writer", rc, err);
    }
    (*out)->store = s;
    (*out)->state = IO_OPEN;
    return 0;
}

int cb_writer_write(cb_writer *w, const void *buf, size_t len, cb_error *err)
{
    if (w->state != IO_OPEN)
        return cb_error_set(err, CB_EINVAL, "write to a writer that failed or was closed");
    if (len == 0)
        return 0;
    store_lock(w->store);
    int rc = w->ops->write(w, buf, len, err);
    store_unlock(w->store);
    if (rc < 0)
        w->state = IO_FAILED;
    return store_result(w->store, "write", rc, err);
}

int cb_writer_close(cb_writer *w, cb_error *err)
{
    if (w->state != IO_OPEN)
        return cb_error_set(err, CB_EINVAL, "close of a writer that failed or was closed");
    store_lock(w->store);
    int rc = w->ops->close(w, err);
    store_unlock(w->store);
    w->state = rc < 0 ? IO_FAILED : IO_CLOSED;
    return store_result(w->store, "close", rc, err);
}

void cb_writer_free(cb_writer *w)
{
    if (w == NULL)
        return;
    cb_store *s = w->store;
    store_lock(s);
    w->ops->free(w);
    store_unlock(s);
}

int cb_store_open_reader(cb_store *s,
                         const char *container,
                         const char *name,
                         const char *extra_metadata,
                         unsigned int flags,
                         cb_reader **out,
                         cb_error *err)
{
    int rc;
    *out = NULL;
    if ((rc = store_check_name("container", container, err)) < 0 ||
        (rc = store_check_name("object name", name, err)) < 0)
        return rc;
    store_lock(s);
    rc = s->ops->open_reader(s->state, container, name, extra_metadata, flags, out, err);
    store_unlock(s);
    if (rc < 0) {
        *out = NULL;
        return store_result(s, "open_reader", rc, err);
    }
    (*out)->store = s;
    (*out)->state = IO_OPEN;
    return 0;
}

int cb_reader_read(cb_reader *r, void *buf, size_t cap, size_t *n_out, cb_error *err)
{
    *n_out = 0;
    if (r->state != IO_OPEN)
        return cb_error_set(err, CB_EINVAL, "read from a reader that failed");
    if (cap == 0)
        return 0;
    store_lock(r->store);
    int rc = r->ops->read(r, buf, cap, n_out, err);
    store_unlock(r->store);
    if (rc < 0) {
        r->state = IO_FAILED;
        *n_out = 0;
    }
    return store_result(r->store, "read", rc, err);
}

void cb_reader_free(cb_reader *r)
{
    if (r == NULL)
        return;
    cb_store *s = r->store;
    store_lock(s);
    r->ops->free(r);
    store_unlock(s);
}

int cb_store_delete_object(
    cb_store *s, const char *container, const char *name, unsigned int flags, cb_error *err)
{
    int rc;
    if ((rc = store_check_name("container", container, err)) < 0 ||
        (rc = store_check_name("object name", name, err)) < 0)
        return rc;
    store_lock(s);
    rc = s->ops->delete_object(s->state, container, name, flags, err);
    store_unlock(s);
    return store_result(s, "delete_object", rc, err);
}

int cb_store_update_container_name(
    cb_store *s, const char *backup_id, const char *container, char **out, cb_error *err)
{
    int rc = 0;
    *out = NULL;
    if (s->ops->update_container_name != NULL) {
        store_lock(s);
        rc = s->ops->update_container_name(s->state, backup_id, container, out, err);
        store_unlock(s);
        if (rc < 0)
            return store_result(s, "update_container_name", rc, err);
    }
    if (*out != NULL)
        return 0;
    if (container == NULL)
        return cb_error_set(err, CB_EINVAL, "%s store needs a container name", s->info.name);
    *out = cb__strdup(container, err);
    return *out ? 0 : CB_ENOMEM;
}

int cb_store_home_container(cb_store *s, char **out, cb_error *err)
{
    int rc;
    *out = NULL;
    if (s->ops->home_container == NULL)
        return cb_store_update_container_name(s, "00000000-0000-0000-0000-000000000000", NULL, out,
                                              err);
    store_lock(s);
    rc = s->ops->home_container(s->state, out, err);
    store_unlock(s);
    if (rc == 0 && *out == NULL)
        rc = cb_error_set(err, CB_ERROR, "%s store named no home container", s->info.name);
    return store_result(s, "home_container", rc, err);
}

int cb_store_get_extra_metadata(
    cb_store *s, const char *backup_id, const char *volume_id, char **json_out, cb_error *err)
{
    int rc = 0;
    *json_out = NULL;
    if (s->ops->get_extra_metadata == NULL)
        return 0;
    store_lock(s);
    rc = s->ops->get_extra_metadata(s->state, backup_id, volume_id, json_out, err);
    store_unlock(s);
    return store_result(s, "get_extra_metadata", rc, err);
}

int cb_store_sync(cb_store *s, const char *container, unsigned int flags, cb_error *err)
{
    int rc = 0;
    if ((rc = store_check_name("container", container, err)) < 0)
        return rc;
    if (s->ops->sync == NULL)
        return 0;
    store_lock(s);
    rc = s->ops->sync(s->state, container, flags, err);
    store_unlock(s);
    return store_result(s, "sync", rc, err);
}

int cb_store_check(cb_store *s, cb_error *err)
{
    int rc = 0;
    if (s->ops->check == NULL)
        return 0;
    store_lock(s);
    rc = s->ops->check(s->state, err);
    store_unlock(s);
    return store_result(s, "check", rc, err);
}

int cb_store_read_all(cb_store *s,
                      const char *container,
                      const char *name,
                      size_t max,
                      char **data_out,
                      size_t *len_out,
                      cb_error *err)
{
    cb_reader *r = NULL;
    cb_buf b = CB_BUF_INIT;
    int rc;

    *data_out = NULL;
    *len_out = 0;
    if ((rc = cb_store_open_reader(s, container, name, NULL, 0, &r, err)) < 0)
        return rc;
    for (;;) {
        size_t n;
        if ((rc = cb_buf_reserve(&b, 65536, err)) < 0 ||
            (rc = cb_reader_read(r, b.data + b.len, 65536, &n, err)) < 0)
            goto done;
        if (n == 0)
            break;
        b.len += n;
        b.data[b.len] = '\0';
        if (b.len > max) {
            rc = cb_error_set(err, CB_ECORRUPT, "object '%s' in '%s' is larger than %zu bytes",
                              name, container, max);
            goto done;
        }
    }
    *len_out = b.len;
    *data_out = cb_buf_detach(&b);
done:
    cb_reader_free(r);
    cb_buf_dispose(&b);
    return rc;
}

int cb_store_write_all(cb_store *s,
                       const char *container,
                       const char *name,
                       const void *data,
                       size_t len,
                       cb_error *err)
{
    cb_writer *w = NULL;
    int rc;
    if ((rc = cb_store_open_writer(s, container, name, NULL, 0, &w, err)) < 0 ||
        (rc = cb_writer_write(w, data, len, err)) < 0)
        goto done;
    rc = cb_writer_close(w, err);
done:
    cb_writer_free(w);
    return rc;
}
