/* SPDX-License-Identifier: Apache-2.0 */
/*
 * example_store.c: a store for cinderblock written outside its tree, loaded as the plugin
 * cinderblock-store-example.so for URLs example://DIR. It is built against the installed
 * headers alone (pkg-config cinderblock) and uses nothing but the public API and POSIX.
 *
 * On disk it is a directory store with a layout of its own, flat where the posix store nests:
 *   DIR/c_<container>/o_<object name>   one file per object, in its container's directory
 *   DIR/c_<container>/t_<unique>        an object being written (never listed)
 * Names are kept as they are except for bytes outside [A-Za-z0-9._-], which are written
 * %XX, so "volume_x/20260101/az_nova_backup_y-00001" is one file name. An object is written
 * to a temporary file, fsynced, and renamed into place (or linked, for a create-only writer,
 * which fails on a taken name), so a reader never sees half an object.
 *
 * The store does not declare CB_STORE_PARALLEL: the library then calls it from one thread at
 * a time, and it needs no locks.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cinderblock/sys/store.h>

#define EXAMPLE_HOME "backups" /* the container of a backup that asks for none */

typedef struct example_state {
    char *root;
    int create;             /* put_container may create directories */
    unsigned long tmp_next; /* for unique temporary names */
} example_state;

typedef struct example_writer {
    cb_writer base; /* first: the library sees only this */
    example_state *st;
    int fd;
    char *tmp;       /* the temporary file's path */
    char *path;      /* the object's path */
    char *name;      /* for messages */
    char *container; /* for messages */
    int exclusive;   /* CB_WRITE_EXCLUSIVE: never replace an object */
    int committed;   /* close put it in place */
} example_writer;

typedef struct example_reader {
    cb_reader base;
    int fd;
    char *name;
} example_reader;

/* ---- names ---- */

/* "<dir>/<tag><name, escaped>" as a new string; NULL (err set) when memory runs out. */
static char *example_path(const char *dir, const char *tag, const char *name, cb_error *err)
{
    size_t dl = strlen(dir), n = 0;
    char *p = malloc(dl + 1 + strlen(tag) + 3 * strlen(name) + 1);
    if (p == NULL) {
        cb_error_set(err, CB_ENOMEM, "example store: out of memory");
        return NULL;
    }
    n = (size_t)sprintf(p, "%s/%s", dir, tag);
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            *c == '.' || *c == '_' || *c == '-')
            p[n++] = (char)*c;
        else
            n += (size_t)sprintf(p + n, "%%%02X", *c);
    }
    p[n] = '\0';
    return p;
}

static int example_hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The name a directory entry stands for: `escaped` decoded into out (as long). */
static void example_unescape(const char *escaped, char *out)
{
    while (*escaped) {
        int hi = escaped[0] == '%' ? example_hex_digit(escaped[1]) : -1;
        int lo = hi >= 0 ? example_hex_digit(escaped[2]) : -1;
        if (lo >= 0) {
            *out++ = (char)(hi << 4 | lo);
            escaped += 3;
        } else {
            *out++ = *escaped++;
        }
    }
    *out = '\0';
}

static char *example_container_dir(const example_state *st, const char *container, cb_error *err)
{
    return example_path(st->root, "c_", container, err);
}

static int example_missing_container(const char *container, cb_error *err)
{
    return cb_error_set(err, CB_ENOTFOUND, "example store: container '%s' does not exist",
                        container);
}

/* The container's directory, which must exist. */
static int example_open_container(const example_state *st,
                                  const char *container,
                                  char **dir_out,
                                  cb_error *err)
{
    struct stat sb;
    char *dir = example_container_dir(st, container, err);
    if (dir == NULL)
        return CB_ENOMEM;
    if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        int e = errno;
        free(dir);
        return e == ENOENT || e == 0
                   ? example_missing_container(container, err)
                   : cb_error_set_sys(err, CB_EIO, e, "example store: container '%s'", container);
    }
    *dir_out = dir;
    return 0;
}

/* ---- containers ---- */

static int
example_put_container(void *state, const char *container, unsigned int flags, cb_error *err)
{
    example_state *st = state;
    char *dir;
    int rc = 0;
    (void)flags;
    if ((dir = example_container_dir(st, container, err)) == NULL)
        return CB_ENOMEM;
    if (st->create && mkdir(st->root, 0777) < 0 && errno != EEXIST)
        rc = cb_error_set_sys(err, CB_EIO, errno, "example store: cannot create '%s'", st->root);
    else if (st->create && mkdir(dir, 0770) < 0 && errno != EEXIST)
        rc = cb_error_set_sys(err, CB_EIO, errno, "example store: cannot create container '%s'",
                              container);
    else if (!st->create && access(dir, F_OK) < 0)
        rc = cb_error_set(err, CB_ENOTFOUND,
                          "example store: container '%s' does not exist and creating containers "
                          "is disabled",
                          container);
    free(dir);
    return rc;
}

/* ---- listings ---- */

/* Every directory entry starting with `tag`, decoded, with its stat, to `each`. */
typedef int (*example_each_fn)(const char *name, const struct stat *sb, void *payload);

static int example_scan(const char *dir,
                        const char *tag,
                        const char *what,
                        example_each_fn each,
                        void *payload,
                        cb_error *err)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc = 0;
    if (d == NULL)
        return errno == ENOENT
                   ? cb_error_set(err, CB_ENOTFOUND, "example store: %s does not exist", what)
                   : cb_error_set_sys(err, CB_EIO, errno, "example store: %s", what);
    while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
        struct stat sb;
        char *name, full[4096];
        if (strncmp(de->d_name, tag, strlen(tag)) != 0)
            continue;
        snprintf(full, sizeof(full), "%s/%s", dir, de->d_name);
        if (stat(full, &sb) < 0)
            continue; /* gone meanwhile */
        if ((name = malloc(strlen(de->d_name) + 1)) == NULL) {
            rc = cb_error_set(err, CB_ENOMEM, "example store: out of memory");
            break;
        }
        example_unescape(de->d_name + strlen(tag), name);
        rc = each(name, &sb, payload);
        free(name);
    }
    if (rc == 0 && errno != 0)
        rc = cb_error_set_sys(err, CB_EIO, errno, "example store: listing %s", what);
    closedir(d);
    return rc;
}

typedef struct example_lister {
    const char *prefix;
    cb_list_fn fn;        /* list */
    cb_entry_fn entry_fn; /* list_entries */
    void *payload;
} example_lister;

static int example_list_one(const char *name, const struct stat *sb, void *payload)
{
    example_lister *l = payload;
    if (strncmp(name, l->prefix, strlen(l->prefix)) != 0)
        return 0;
    if (l->fn != NULL)
        return l->fn(name, l->payload);
    cb_entry e = { .name = name, .size = (int64_t)sb->st_size, .mtime = (int64_t)sb->st_mtime };
    return l->entry_fn(&e, l->payload);
}

static int
example_listing(example_state *st, const char *container, example_lister *l, cb_error *err)
{
    char *dir, what[600];
    int rc = example_open_container(st, container, &dir, err);
    if (rc < 0)
        return rc;
    snprintf(what, sizeof(what), "container '%s'", container);
    rc = example_scan(dir, "o_", what, example_list_one, l, err);
    free(dir);
    return rc;
}

static int example_list(void *state,
                        const char *container,
                        const char *prefix,
                        unsigned int flags,
                        cb_list_fn fn,
                        void *payload,
                        cb_error *err)
{
    example_lister l = { .prefix = prefix, .fn = fn, .payload = payload };
    (void)flags;
    return example_listing(state, container, &l, err);
}

static int example_list_entries(void *state,
                                const char *container,
                                const char *prefix,
                                unsigned int flags,
                                cb_entry_fn fn,
                                void *payload,
                                cb_error *err)
{
    example_lister l = { .prefix = prefix, .entry_fn = fn, .payload = payload };
    (void)flags;
    return example_listing(state, container, &l, err);
}

static int example_container_one(const char *name, const struct stat *sb, void *payload)
{
    example_lister *l = payload;
    return S_ISDIR(sb->st_mode) ? l->fn(name, l->payload) : 0;
}

static int example_list_containers(
    void *state, unsigned int flags, cb_list_fn fn, void *payload, cb_error *err)
{
    example_state *st = state;
    example_lister l = { .fn = fn, .payload = payload };
    char what[600];
    (void)flags;
    snprintf(what, sizeof(what), "store directory '%s'", st->root);
    return example_scan(st->root, "c_", what, example_container_one, &l, err);
}

/* ---- writers ---- */

static int example_writer_write(cb_writer *base, const void *buf, size_t len, cb_error *err)
{
    example_writer *w = (example_writer *)base;
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cb_error_set_sys(err, CB_EIO, errno, "example store: writing '%s'", w->name);
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The object exists once this returns 0: fsynced, then renamed (or linked) into place. */
static int example_writer_close(cb_writer *base, cb_error *err)
{
    example_writer *w = (example_writer *)base;
    int rc = fsync(w->fd);
    if (close(w->fd) < 0 && rc == 0)
        rc = -1;
    w->fd = -1;
    if (rc < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "example store: writing '%s'", w->name);
    if (w->exclusive) {
        /* link() never replaces: of two writers of one name, exactly one gets it */
        if (link(w->tmp, w->path) < 0)
            return errno == EEXIST
                       ? cb_error_set(err, CB_EEXISTS,
                                      "example store: object '%s' already exists in container "
                                      "'%s'",
                                      w->name, w->container)
                       : cb_error_set_sys(err, CB_EIO, errno, "example store: storing '%s'",
                                          w->name);
        unlink(w->tmp);
    } else if (rename(w->tmp, w->path) < 0) {
        return cb_error_set_sys(err, CB_EIO, errno, "example store: storing '%s'", w->name);
    }
    w->committed = 1;
    return 0;
}

static void example_writer_free(cb_writer *base)
{
    example_writer *w = (example_writer *)base;
    if (w->fd >= 0)
        close(w->fd);
    if (!w->committed && w->tmp != NULL)
        unlink(w->tmp); /* an abandoned object leaves nothing */
    free(w->tmp);
    free(w->path);
    free(w->name);
    free(w->container);
    free(w);
}

static const cb_writer_ops example_writer_ops = {
    CB_WRITER_OPS_INIT,
    .write = example_writer_write,
    .close = example_writer_close,
    .free = example_writer_free,
};

static int example_open_writer(void *state,
                               const char *container,
                               const char *name,
                               const char *extra_metadata,
                               unsigned int flags,
                               cb_writer **out,
                               cb_error *err)
{
    example_state *st = state;
    char *dir = NULL, unique[64];
    int rc;
    (void)extra_metadata;
    example_writer *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return cb_error_set(err, CB_ENOMEM, "example store: out of memory");
    w->base.ops = &example_writer_ops;
    w->st = st;
    w->fd = -1;
    w->exclusive = (flags & CB_WRITE_EXCLUSIVE) != 0;
    if ((w->name = strdup(name)) == NULL || (w->container = strdup(container)) == NULL) {
        rc = cb_error_set(err, CB_ENOMEM, "example store: out of memory");
        goto fail;
    }
    if ((rc = example_open_container(st, container, &dir, err)) < 0 ||
        (w->path = example_path(dir, "o_", name, err)) == NULL) {
        rc = rc < 0 ? rc : CB_ENOMEM;
        goto fail;
    }
    /* a name no other writer has: this process's id, a counter, the clock */
    for (int attempt = 0; w->fd < 0 && attempt < 100; attempt++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(unique, sizeof(unique), "%ld-%lu-%ld", (long)getpid(), st->tmp_next++,
                 (long)ts.tv_nsec);
        free(w->tmp);
        if ((w->tmp = example_path(dir, "t_", unique, err)) == NULL) {
            rc = CB_ENOMEM;
            goto fail;
        }
        w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL, 0660);
        if (w->fd < 0 && errno != EEXIST) {
            rc = cb_error_set_sys(err, CB_EIO, errno, "example store: creating '%s'", w->tmp);
            free(w->tmp);
            w->tmp = NULL;
            goto fail;
        }
    }
    if (w->fd < 0) {
        rc = cb_error_set(err, CB_EIO, "example store: no free temporary name in '%s'", dir);
        goto fail;
    }
    free(dir);
    *out = &w->base;
    return 0;
fail:
    free(dir);
    example_writer_free(&w->base);
    return rc;
}

/* ---- readers ---- */

static int example_reader_read(cb_reader *base, void *buf, size_t cap, size_t *n_out, cb_error *err)
{
    example_reader *r = (example_reader *)base;
    for (;;) {
        ssize_t n = read(r->fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cb_error_set_sys(err, CB_EIO, errno, "example store: reading '%s'", r->name);
        *n_out = (size_t)n;
        return 0;
    }
}

static void example_reader_free(cb_reader *base)
{
    example_reader *r = (example_reader *)base;
    if (r->fd >= 0)
        close(r->fd);
    free(r->name);
    free(r);
}

static const cb_reader_ops example_reader_ops = {
    CB_READER_OPS_INIT,
    .read = example_reader_read,
    .free = example_reader_free,
};

static int example_open_reader(void *state,
                               const char *container,
                               const char *name,
                               const char *extra_metadata,
                               unsigned int flags,
                               cb_reader **out,
                               cb_error *err)
{
    example_state *st = state;
    char *dir = NULL, *path = NULL;
    int rc;
    (void)extra_metadata;
    (void)flags;
    if ((rc = example_open_container(st, container, &dir, err)) < 0)
        return rc;
    path = example_path(dir, "o_", name, err);
    free(dir);
    if (path == NULL)
        return CB_ENOMEM;
    example_reader *r = calloc(1, sizeof(*r));
    if (r == NULL || (r->name = strdup(name)) == NULL) {
        free(r);
        free(path);
        return cb_error_set(err, CB_ENOMEM, "example store: out of memory");
    }
    r->base.ops = &example_reader_ops;
    r->fd = open(path, O_RDONLY);
    if (r->fd < 0) {
        int e = errno;
        rc = e == ENOENT ? cb_error_set(err, CB_ENOTFOUND,
                                        "example store: object '%s' not found in container '%s'",
                                        name, container)
                         : cb_error_set_sys(err, CB_EIO, e, "example store: opening '%s'", name);
        free(path);
        example_reader_free(&r->base);
        return rc;
    }
    free(path);
    *out = &r->base;
    return 0;
}

/* ---- the rest ---- */

static int example_delete_object(
    void *state, const char *container, const char *name, unsigned int flags, cb_error *err)
{
    example_state *st = state;
    char *dir = example_container_dir(st, container, err), *path;
    int rc = 0;
    (void)flags;
    if (dir == NULL)
        return CB_ENOMEM;
    path = example_path(dir, "o_", name, err);
    free(dir);
    if (path == NULL)
        return CB_ENOMEM;
    /* missing (object or container): what was asked for */
    if (unlink(path) < 0 && errno != ENOENT && errno != ENOTDIR)
        rc = cb_error_set_sys(err, CB_EIO, errno, "example store: deleting '%s'", name);
    free(path);
    return rc;
}

static int example_update_container_name(
    void *state, const char *backup_id, const char *container, char **out, cb_error *err)
{
    (void)state;
    (void)backup_id;
    if ((*out = strdup(container != NULL ? container : EXAMPLE_HOME)) == NULL)
        return cb_error_set(err, CB_ENOMEM, "example store: out of memory");
    return 0;
}

static int example_home_container(void *state, char **out, cb_error *err)
{
    return example_update_container_name(state, NULL, NULL, out, err);
}

static int example_check(void *state, cb_error *err)
{
    example_state *st = state;
    struct stat sb;
    if (stat(st->root, &sb) < 0)
        return errno == ENOENT && st->create
                   ? 0 /* the first backup creates it */
                   : cb_error_set_sys(err, CB_EIO, errno, "example store: '%s'", st->root);
    if (!S_ISDIR(sb.st_mode))
        return cb_error_set(err, CB_EINVAL, "example store: '%s' is not a directory", st->root);
    return 0;
}

static void example_destroy(void *state)
{
    example_state *st = state;
    if (st == NULL)
        return;
    free(st->root);
    free(st);
}

static const cb_store_ops example_ops = {
    CB_STORE_OPS_INIT,
    .name = "example",
    .flags = CB_STORE_EXCLUSIVE, /* not CB_STORE_PARALLEL: the library serialises the calls */
    .default_object_size = 4u << 20,
    .default_sha_block = 32768,
    .put_container = example_put_container,
    .list = example_list,
    .open_writer = example_open_writer,
    .open_reader = example_open_reader,
    .delete_object = example_delete_object,
    .destroy = example_destroy,
    .update_container_name = example_update_container_name,
    .list_containers = example_list_containers,
    .check = example_check,
    .list_entries = example_list_entries,
    .home_container = example_home_container,
};

/* example://DIR */
static int example_open(const char *location,
                        const cb_store_opts *opts,
                        const cb_store_ops **ops_out,
                        void **state_out,
                        cb_error *err)
{
    if (location[0] == '\0')
        return cb_error_set(err, CB_EINVAL, "example store: no directory given (example://DIR)");
    example_state *st = calloc(1, sizeof(*st));
    if (st == NULL || (st->root = strdup(location)) == NULL) {
        free(st);
        return cb_error_set(err, CB_ENOMEM, "example store: out of memory");
    }
    st->create = opts->create_containers;
    *ops_out = &example_ops;
    *state_out = st;
    return 0;
}

static const cb_store_plugin example_plugin = {
#ifdef EXAMPLE_STORE_ABI /* tests build it once more for another ABI version, to see it refused */
    .abi_version = EXAMPLE_STORE_ABI,
    .struct_size = sizeof(cb_store_plugin),
#else
    CB_STORE_PLUGIN_INIT,
#endif
    .scheme = "example",
    .open = example_open,
};

const cb_store_plugin *cb_store_plugin_init(void)
{
    return &example_plugin;
}
