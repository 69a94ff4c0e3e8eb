/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memstore.c: an in-memory store that counts calls and fails on demand, for the tests. It is
 * not part of the library: it is a store like any other written outside it, against
 * cinderblock/sys/store.h alone, and cb_mem_store_use() registers it for mem: URLs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memstore.h"

#define MEM_DEFAULT_CONTAINER "backups" /* when a backup asks for none */

/* ---- allocation that reports through cb_error, as a store must ---- */

static void *mem_fail_alloc(size_t size, cb_error *err)
{
    cb_error_set(err, CB_ENOMEM, "mem store: out of memory (%zu bytes)", size);
    return NULL;
}

static void *mem_calloc(size_t n, size_t size, cb_error *err)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    return p != NULL ? p : mem_fail_alloc(n * size, err);
}

static void *mem_realloc(void *old, size_t size, cb_error *err)
{
    void *p = realloc(old, size ? size : 1);
    return p != NULL ? p : mem_fail_alloc(size, err);
}

static char *mem_strdup(const char *s, cb_error *err)
{
    char *p = strdup(s);
    return p != NULL ? p : mem_fail_alloc(strlen(s) + 1, err);
}

/* A growing byte buffer: the data of a writer, always followed by a NUL (tests read small
 * objects as text). */
typedef struct mem_buf {
    unsigned char *data;
    size_t len, cap;
} mem_buf;

static int mem_buf_put(mem_buf *b, const void *data, size_t len, cb_error *err)
{
    if (b->data == NULL || b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len + 1)
            cap *= 2;
        unsigned char *p = mem_realloc(b->data, cap, err);
        if (p == NULL)
            return CB_ENOMEM;
        b->data = p;
        b->cap = cap;
    }
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

typedef struct mem_object {
    char *container;
    char *name;
    unsigned char *data;
    size_t len;
    int64_t mtime;       /* when it was committed, seconds since the epoch */
    unsigned long reads; /* open_reader calls of it */
    unsigned fail_opens; /* that many next open_reader calls of it fail ... */
    int fail_code;       /* ... with this code */
} mem_object;

typedef struct mem_state {
    pthread_mutex_t lock; /* guards every field below */
    char **containers;    /* existing container names */
    size_t n_containers;
    mem_object *objects; /* committed objects */
    size_t n_objects;
    unsigned long calls[CB_MEM_OP_COUNT + 1];   /* per op, and [CB_MEM_ANY] for all */
    unsigned long fail_at[CB_MEM_OP_COUNT + 1]; /* call number that fails, 0: none */
    int fail_code[CB_MEM_OP_COUNT + 1];
    char *extra_metadata;
    int create;
    char *slow_suffix; /* writes to matching objects sleep slow_usec */
    unsigned slow_usec;
} mem_state;

typedef struct mem_writer {
    cb_writer base;
    mem_state *st;
    char *container;
    char *name;
    int exclusive; /* CB_WRITE_EXCLUSIVE: commit only under a free name */
    mem_buf data;
} mem_writer;

typedef struct mem_reader {
    cb_reader base;
    mem_state *st;
    unsigned char *data; /* a private copy taken at open */
    size_t len;
    size_t pos;
} mem_reader;

static const char *const mem_op_names[] = {
    "put_container",
    "list",
    "open_writer",
    "write",
    "close",
    "open_reader",
    "read",
    "delete_object",
    "update_container_name",
    "get_extra_metadata",
    "check",
    "list_containers",
    "list_entries",
    "home_container",
};
/* a new operation needs its name here, or an injected failure of it would read past the end */
_Static_assert(sizeof(mem_op_names) / sizeof(mem_op_names[0]) == CB_MEM_OP_COUNT,
               "mem_op_names has one name per cb_mem_op");

/* Count a call; fail it if asked to. Call with the lock held. */
static int mem_enter(mem_state *st, cb_mem_op op, cb_error *err)
{
    unsigned long n = ++st->calls[op];
    unsigned long any = ++st->calls[CB_MEM_ANY];
    if (st->fail_at[op] != 0 && n == st->fail_at[op]) {
        st->fail_at[op] = 0;
        return cb_error_set(err, st->fail_code[op], "mem store: injected failure of %s call %lu",
                            mem_op_names[op], n);
    }
    if (st->fail_at[CB_MEM_ANY] != 0 && any == st->fail_at[CB_MEM_ANY]) {
        st->fail_at[CB_MEM_ANY] = 0;
        return cb_error_set(err, st->fail_code[CB_MEM_ANY],
                            "mem store: injected failure of call %lu (%s)", any, mem_op_names[op]);
    }
    return 0;
}

static int mem_has_container(const mem_state *st, const char *container)
{
    for (size_t i = 0; i < st->n_containers; i++)
        if (strcmp(st->containers[i], container) == 0)
            return 1;
    return 0;
}

static mem_object *mem_find(mem_state *st, const char *container, const char *name)
{
    for (size_t i = 0; i < st->n_objects; i++)
        if (strcmp(st->objects[i].container, container) == 0 &&
            strcmp(st->objects[i].name, name) == 0)
            return &st->objects[i];
    return NULL;
}

static int mem_put_container(void *state, const char *container, unsigned int flags, cb_error *err)
{
    mem_state *st = state;
    int rc;
    (void)flags;
    pthread_mutex_lock(&st->lock);
    if ((rc = mem_enter(st, CB_MEM_PUT_CONTAINER, err)) < 0 || mem_has_container(st, container))
        goto done;
    if (!st->create) {
        rc = cb_error_set(err, CB_ENOTFOUND,
                          "container '%s' does not exist and creating containers is disabled",
                          container);
        goto done;
    }
    char **c = mem_realloc(st->containers, (st->n_containers + 1) * sizeof(*c), err);
    if (c == NULL) {
        rc = CB_ENOMEM;
        goto done;
    }
    st->containers = c;
    if ((c[st->n_containers] = mem_strdup(container, err)) == NULL)
        rc = CB_ENOMEM;
    else
        st->n_containers++;
done:
    pthread_mutex_unlock(&st->lock);
    return rc;
}

static int mem_missing_container(const char *container, cb_error *err)
{
    return cb_error_set(err, CB_ENOTFOUND, "container '%s' does not exist", container);
}

/* Snapshot the matching objects (names, sizes, times), then call back without the lock
 * held, so that a callback may use the store. */
static int mem_listing(mem_state *st,
                       cb_mem_op op,
                       const char *container,
                       const char *prefix,
                       cb_list_fn fn,
                       cb_entry_fn entry_fn,
                       void *payload,
                       cb_error *err)
{
    cb_entry *entries = NULL;
    size_t n = 0;
    int rc;
    pthread_mutex_lock(&st->lock);
    if ((rc = mem_enter(st, op, err)) == 0 && !mem_has_container(st, container))
        rc = mem_missing_container(container, err);
    if (rc == 0 && (entries = mem_calloc(st->n_objects + 1, sizeof(*entries), err)) == NULL)
        rc = CB_ENOMEM;
    for (size_t i = 0; rc == 0 && i < st->n_objects; i++) {
        mem_object *o = &st->objects[i];
        if (strcmp(o->container, container) != 0 || strncmp(o->name, prefix, strlen(prefix)) != 0)
            continue;
        entries[n] = (cb_entry){ .size = (int64_t)o->len, .mtime = o->mtime };
        if ((entries[n++].name = mem_strdup(o->name, err)) == NULL)
            rc = CB_ENOMEM;
    }
    pthread_mutex_unlock(&st->lock);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = entry_fn != NULL ? entry_fn(&entries[i], payload) : fn(entries[i].name, payload);
    for (size_t i = 0; i < n; i++)
        free((char *)entries[i].name);
    free(entries);
    return rc;
}

static int mem_list(void *state,
                    const char *container,
                    const char *prefix,
                    unsigned int flags,
                    cb_list_fn fn,
                    void *payload,
                    cb_error *err)
{
    (void)flags;
    return mem_listing(state, CB_MEM_LIST, container, prefix, fn, NULL, payload, err);
}

static int mem_list_entries(void *state,
                            const char *container,
                            const char *prefix,
                            unsigned int flags,
                            cb_entry_fn fn,
                            void *payload,
                            cb_error *err)
{
    (void)flags;
    return mem_listing(state, CB_MEM_LIST_ENTRIES, container, prefix, NULL, fn, payload, err);
}

static int
mem_list_containers(void *state, unsigned int flags, cb_list_fn fn, void *payload, cb_error *err)
{
    mem_state *st = state;
    char **names = NULL;
    size_t n = 0;
    int rc;
    (void)flags;
    pthread_mutex_lock(&st->lock);
    rc = mem_enter(st, CB_MEM_LIST_CONTAINERS, err);
    if (rc == 0 && (names = mem_calloc(st->n_containers + 1, sizeof(*names), err)) == NULL)
        rc = CB_ENOMEM;
    for (size_t i = 0; rc == 0 && i < st->n_containers; i++)
        if ((names[n++] = mem_strdup(st->containers[i], err)) == NULL)
            rc = CB_ENOMEM;
    pthread_mutex_unlock(&st->lock);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = fn(names[i], payload);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* ---- writer ---- */

static int mem_writer_write(cb_writer *base, const void *buf, size_t len, cb_error *err)
{
    mem_writer *w = (mem_writer *)base;
    pthread_mutex_lock(&w->st->lock);
    int rc = mem_enter(w->st, CB_MEM_WRITE, err);
    unsigned delay = 0;
    const char *sfx = w->st->slow_suffix;
    size_t nl = strlen(w->name), sl = sfx ? strlen(sfx) : 0;
    if (sfx != NULL && nl >= sl && strcmp(w->name + nl - sl, sfx) == 0)
        delay = w->st->slow_usec;
    pthread_mutex_unlock(&w->st->lock);
    if (delay)
        usleep(delay);
    if (rc < 0)
        return rc;
    return mem_buf_put(&w->data, buf, len, err);
}

/* Called with the lock held: the look-up and the insertion are one step, so of two exclusive
 * writers of one name exactly one finds it free. */
static int mem_commit(mem_state *st, mem_writer *w, cb_error *err)
{
    if (!mem_has_container(st, w->container))
        return mem_missing_container(w->container, err);
    if (w->data.data == NULL && mem_buf_put(&w->data, "", 0, err) < 0) /* empty: still a NUL */
        return CB_ENOMEM;
    mem_object *o = mem_find(st, w->container, w->name);
    if (o != NULL && w->exclusive)
        return cb_error_set(err, CB_EEXISTS, "object '%s' already exists in container '%s'",
                            w->name, w->container);
    if (o == NULL) {
        mem_object *objs = mem_realloc(st->objects, (st->n_objects + 1) * sizeof(*objs), err);
        if (objs == NULL)
            return CB_ENOMEM;
        st->objects = objs;
        o = &objs[st->n_objects++];
        memset(o, 0, sizeof(*o));
        o->container = w->container;
        o->name = w->name;
        w->container = w->name = NULL;
    } else {
        free(o->data);
    }
    o->len = w->data.len;
    o->data = w->data.data;
    w->data = (mem_buf){ 0 };
    o->mtime = (int64_t)time(NULL);
    return 0;
}

static int mem_writer_close(cb_writer *base, cb_error *err)
{
    mem_writer *w = (mem_writer *)base;
    pthread_mutex_lock(&w->st->lock);
    int rc = mem_enter(w->st, CB_MEM_CLOSE, err);
    if (rc == 0)
        rc = mem_commit(w->st, w, err);
    pthread_mutex_unlock(&w->st->lock);
    return rc;
}

static void mem_writer_free(cb_writer *base)
{
    mem_writer *w = (mem_writer *)base;
    free(w->container);
    free(w->name);
    free(w->data.data);
    free(w);
}

static const cb_writer_ops mem_writer_ops = {
    CB_WRITER_OPS_INIT,
    .write = mem_writer_write,
    .close = mem_writer_close,
    .free = mem_writer_free,
};

static int mem_open_writer(void *state,
                           const char *container,
                           const char *name,
                           const char *extra_metadata,
                           unsigned int flags,
                           cb_writer **out,
                           cb_error *err)
{
    mem_state *st = state;
    int rc;
    (void)extra_metadata;
    pthread_mutex_lock(&st->lock);
    if ((rc = mem_enter(st, CB_MEM_OPEN_WRITER, err)) == 0 && !mem_has_container(st, container))
        rc = mem_missing_container(container, err);
    pthread_mutex_unlock(&st->lock);
    if (rc < 0)
        return rc;
    mem_writer *w = mem_calloc(1, sizeof(*w), err);
    if (w == NULL)
        return CB_ENOMEM;
    w->base.ops = &mem_writer_ops;
    w->st = st;
    w->exclusive = (flags & CB_WRITE_EXCLUSIVE) != 0;
    w->container = mem_strdup(container, err);
    w->name = mem_strdup(name, err);
    if (w->container == NULL || w->name == NULL) {
        mem_writer_free(&w->base);
        return CB_ENOMEM;
    }
    *out = &w->base;
    return 0;
}

/* ---- reader ---- */

static int mem_reader_read(cb_reader *base, void *buf, size_t cap, size_t *n_out, cb_error *err)
{
    mem_reader *r = (mem_reader *)base;
    pthread_mutex_lock(&r->st->lock);
    int rc = mem_enter(r->st, CB_MEM_READ, err);
    pthread_mutex_unlock(&r->st->lock);
    if (rc < 0)
        return rc;
    size_t n = r->len - r->pos < cap ? r->len - r->pos : cap;
    if (n > 0)
        memcpy(buf, r->data + r->pos, n);
    r->pos += n;
    *n_out = n;
    return 0;
}

static void mem_reader_free(cb_reader *base)
{
    mem_reader *r = (mem_reader *)base;
    free(r->data);
    free(r);
}

static const cb_reader_ops mem_reader_ops = {
    CB_READER_OPS_INIT,
    .read = mem_reader_read,
    .free = mem_reader_free,
};

static int mem_open_reader(void *state,
                           const char *container,
                           const char *name,
                           const char *extra_metadata,
                           unsigned int flags,
                           cb_reader **out,
                           cb_error *err)
{
    mem_state *st = state;
    mem_reader *r = NULL;
    int rc;
    (void)extra_metadata;
    (void)flags;
    pthread_mutex_lock(&st->lock);
    mem_object *o = NULL;
    if ((rc = mem_enter(st, CB_MEM_OPEN_READER, err)) < 0)
        goto done;
    if ((o = mem_find(st, container, name)) == NULL) {
        rc = cb_error_set(err, CB_ENOTFOUND, "object '%s' not found in container '%s'", name,
                          container);
        goto done;
    }
    o->reads++;
    if (o->fail_opens > 0) {
        o->fail_opens--;
        rc = cb_error_set(err, o->fail_code, "mem store: injected failure of reading '%s'", name);
        goto done;
    }
    if ((r = mem_calloc(1, sizeof(*r), err)) == NULL ||
        (r->data = mem_calloc(1, o->len, err)) == NULL) {
        rc = CB_ENOMEM;
        goto done;
    }
    if (o->len > 0)
        memcpy(r->data, o->data, o->len);
    r->len = o->len;
    r->st = st;
    r->base.ops = &mem_reader_ops;
    *out = &r->base;
    r = NULL;
done:
    pthread_mutex_unlock(&st->lock);
    if (r != NULL)
        mem_reader_free(&r->base);
    return rc;
}

static int mem_delete_object(
    void *state, const char *container, const char *name, unsigned int flags, cb_error *err)
{
    mem_state *st = state;
    int rc;
    (void)flags;
    pthread_mutex_lock(&st->lock);
    if ((rc = mem_enter(st, CB_MEM_DELETE, err)) == 0) {
        mem_object *o = mem_find(st, container, name);
        if (o != NULL) {
            free(o->container);
            free(o->name);
            free(o->data);
            *o = st->objects[--st->n_objects];
        }
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

static int mem_update_container_name(
    void *state, const char *backup_id, const char *container, char **out, cb_error *err)
{
    mem_state *st = state;
    (void)backup_id;
    pthread_mutex_lock(&st->lock);
    int rc = mem_enter(st, CB_MEM_UPDATE_CONTAINER_NAME, err);
    pthread_mutex_unlock(&st->lock);
    if (rc < 0)
        return rc;
    *out = mem_strdup(container ? container : MEM_DEFAULT_CONTAINER, err);
    return *out ? 0 : CB_ENOMEM;
}

/* The container update_container_name picks when none is asked for. */
static int mem_home_container(void *state, char **out, cb_error *err)
{
    mem_state *st = state;
    pthread_mutex_lock(&st->lock);
    int rc = mem_enter(st, CB_MEM_HOME_CONTAINER, err);
    pthread_mutex_unlock(&st->lock);
    if (rc < 0)
        return rc;
    *out = mem_strdup(MEM_DEFAULT_CONTAINER, err);
    return *out ? 0 : CB_ENOMEM;
}

static int mem_get_extra_metadata(
    void *state, const char *backup_id, const char *volume_id, char **json_out, cb_error *err)
{
    mem_state *st = state;
    (void)backup_id;
    (void)volume_id;
    pthread_mutex_lock(&st->lock);
    int rc = mem_enter(st, CB_MEM_GET_EXTRA_METADATA, err);
    if (rc == 0 && st->extra_metadata != NULL &&
        (*json_out = mem_strdup(st->extra_metadata, err)) == NULL)
        rc = CB_ENOMEM;
    pthread_mutex_unlock(&st->lock);
    return rc;
}

static int mem_check(void *state, cb_error *err)
{
    mem_state *st = state;
    pthread_mutex_lock(&st->lock);
    int rc = mem_enter(st, CB_MEM_CHECK, err);
    pthread_mutex_unlock(&st->lock);
    return rc;
}

static void mem_destroy(void *state)
{
    mem_state *st = state;
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n_objects; i++) {
        free(st->objects[i].container);
        free(st->objects[i].name);
        free(st->objects[i].data);
    }
    for (size_t i = 0; i < st->n_containers; i++)
        free(st->containers[i]);
    free(st->objects);
    free(st->containers);
    free(st->extra_metadata);
    free(st->slow_suffix);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

static const cb_store_ops mem_store_ops = {
    CB_STORE_OPS_INIT,
    .name = "mem",
    .flags = CB_STORE_PARALLEL | CB_STORE_EXCLUSIVE,
    .cinder_driver = "cinder.backup.drivers.swift.SwiftBackupDriver",
    .default_object_size = 52428800,
    .default_sha_block = 32768,
    .put_container = mem_put_container,
    .list = mem_list,
    .open_writer = mem_open_writer,
    .open_reader = mem_open_reader,
    .delete_object = mem_delete_object,
    .destroy = mem_destroy,
    .update_container_name = mem_update_container_name,
    .get_extra_metadata = mem_get_extra_metadata,
    .list_containers = mem_list_containers,
    .check = mem_check,
    .list_entries = mem_list_entries,
    .home_container = mem_home_container,
};

static int mem_store_ctor(const char *location,
                          const cb_store_opts *opts,
                          const cb_store_ops **ops_out,
                          void **state_out,
                          cb_error *err)
{
    (void)location;
    mem_state *st = mem_calloc(1, sizeof(*st), err);
    if (st == NULL)
        return CB_ENOMEM;
    pthread_mutex_init(&st->lock, NULL);
    st->create = opts->create_containers;
    *ops_out = &mem_store_ops;
    *state_out = st;
    return 0;
}

static mem_state *mem_of(cb_store *store)
{
    return cb_store_state(store);
}

unsigned long cb_mem_store_calls(cb_store *store, cb_mem_op op)
{
    mem_state *st = mem_of(store);
    pthread_mutex_lock(&st->lock);
    unsigned long n = st->calls[op];
    pthread_mutex_unlock(&st->lock);
    return n;
}

void cb_mem_store_fail(cb_store *store, cb_mem_op op, unsigned long nth, int code)
{
    mem_state *st = mem_of(store);
    pthread_mutex_lock(&st->lock);
    st->fail_at[op] = nth ? st->calls[op] + nth : 0;
    st->fail_code[op] = code;
    pthread_mutex_unlock(&st->lock);
}

int cb_mem_store_object(cb_store *store,
                        const char *container,
                        const char *name,
                        unsigned char **data_out,
                        size_t *len_out)
{
    mem_state *st = mem_of(store);
    pthread_mutex_lock(&st->lock);
    mem_object *o = mem_find(st, container, name);
    if (o != NULL) {
        *data_out = o->data;
        *len_out = o->len;
    }
    pthread_mutex_unlock(&st->lock);
    return o ? 0 : CB_ENOTFOUND;
}

size_t cb_mem_store_count(cb_store *store)
{
    mem_state *st = mem_of(store);
    pthread_mutex_lock(&st->lock);
    size_t n = st->n_objects;
    pthread_mutex_unlock(&st->lock);
    return n;
}

void cb_mem_store_set_extra_metadata(cb_store *store, const char *json)
{
    mem_state *st = mem_of(store);
    pthread_mutex_lock(&st->lock);
    free(st->extra_metadata);
    st->extra_metadata = json ? strdup(json) : NULL;
    pthread_mutex_unlock(&st->lock);
}

void cb_mem_store_slow_object(cb_store *store, const char *suffix, unsigned usec)
{
    mem_state *st = mem_of(store);
    pthread_mutex_lock(&st->lock);
    free(st->slow_suffix);
    st->slow_suffix = suffix ? strdup(suffix) : NULL;
    st->slow_usec = usec;
    pthread_mutex_unlock(&st->lock);
}

unsigned long cb_mem_store_object_reads(cb_store *store, const char *container, const char *name)
{
    mem_state *st = mem_of(store);
    pthread_mutex_lock(&st->lock);
    mem_object *o = mem_find(st, container, name);
    unsigned long n = o != NULL ? o->reads : 0;
    pthread_mutex_unlock(&st->lock);
    return n;
}

int cb_mem_store_fail_object(
    cb_store *store, const char *container, const char *name, unsigned times, int code)
{
    mem_state *st = mem_of(store);
    pthread_mutex_lock(&st->lock);
    mem_object *o = mem_find(st, container, name);
    if (o != NULL) {
        o->fail_opens = times;
        o->fail_code = code;
    }
    pthread_mutex_unlock(&st->lock);
    return o ? 0 : CB_ENOTFOUND;
}

static void mem_register(void)
{
    static const cb_store_plugin plugin = {
        CB_STORE_PLUGIN_INIT,
        .scheme = "mem",
        .open = mem_store_ctor,
    };
    cb_error err = { 0 };
    if (cb_store_register(&plugin, &err) < 0) {
        fprintf(stderr, "memstore: %s\n", err.msg);
        abort(); /* a test without its store cannot run */
    }
}

void cb_mem_store_use(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, mem_register);
}
