/* SPDX-License-Identifier: Apache-2.0 */
/*
 * posix.c: the local directory store (Cinder's PosixBackupDriver semantics, made safe).
 *
 * A container is a relative directory under the root, created with its parents; the
 * container directory gets mode 0770 and objects 0660, as Cinder does. Unlike Cinder:
 * - every object is written to a file with no name (O_TMPFILE) or, where the file system
 *   lacks that, a temporary name that can never match a backup prefix (backup prefixes
 *   start with "volume_"); it is fsynced, then linked or renamed into place, and the
 *   directory fsynced, so a crash never leaves a partial object under a backup's name;
 * - container and object names that are absolute, contain "." or ".." components, empty
 *   components, or walk through symbolic links are refused, so nothing escapes the root.
 */
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cinderblock/sys/store.h"
#include "../registry.h"
#include "../../util/util.h"

#define POSIX_TMP_PREFIX ".cinderblock-tmp-"
#define POSIX_MAX_DEPTH 64

typedef struct posix_state {
    char *root;
    int create;           /* put_container may create missing directories */
    int nameless;         /* O_TMPFILE files can be linked in (/proc/self/fd is there) */
    pthread_mutex_t lock; /* guards the cache below */
    char *cached;         /* the container last opened, and its directory: a backup opens */
    int cached_fd;        /* the same container for thousands of objects */
    cb_dio_pool *pool;    /* writes objects' data while the writers go on (util/dio.h) */
    int pool_tried;       /* made when the first writer opens; NULL if that failed */
} posix_state;

typedef struct posix_writer {
    cb_writer base;
    int dirfd;     /* directory that will hold the object */
    int fd;        /* the temporary file */
    char tmp[64];  /* its name inside dirfd */
    char *leaf;    /* final name inside dirfd */
    char *display; /* "container/name" for messages */
    int committed;
    int anon;       /* O_TMPFILE: the file has no name until close links it in */
    int defer_sync; /* CB_WRITE_DEFER_SYNC: durable at the next posix_sync, not at close */
    int exclusive;  /* CB_WRITE_EXCLUSIVE: never replace an existing object */
    cb_dio out;     /* the data on its way to the file */
    uint64_t pos;   /* bytes written so far */
} posix_writer;

typedef struct posix_reader {
    cb_reader base;
    int fd;
    char *display;
    uint64_t pos;   /* bytes read so far */
    uint64_t ahead; /* the kernel was asked to read up to here */
} posix_reader;

/* How far ahead of the reader the kernel is asked to read. Objects are read whole, by a
 * restore that decompresses between its reads: with only the kernel's own readahead the
 * disk idled meanwhile, and a restore of the bench's backup, its objects not in the page
 * cache (written with O_DIRECT), took 2.1-2.8 s; with 8 MiB ahead 1.7-1.8 s (32 MiB: the
 * same). A rolling window keeps the queue deep without pulling a 1.86 GiB object into
 * memory at once. */
#define POSIX_READ_AHEAD ((uint64_t)8 << 20)

/* Refuse absolute paths, empty, "." and ".." components. `what` names the thing for the
 * message ("container", "object name"). An empty container means the root itself. */
static int posix_check_relpath(const char *what, const char *path, int allow_empty, cb_error *err)
{
    if (path[0] == '\0') {
        if (allow_empty)
            return 0;
        return cb_error_set(err, CB_EINVAL, "%s is empty", what);
    }
    if (path[0] == '/')
        return cb_error_set(err, CB_EINVAL,
                            "%s '%s' is absolute; it must be a path relative to the store root",
                            what, path);
    const char *p = path;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0)
            return cb_error_set(err, CB_EINVAL, "%s '%s' has an empty path component", what, path);
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return cb_error_set(err, CB_EINVAL,
                                "%s '%s' contains '%.*s'; it must stay inside the store root", what,
                                path, (int)n, p);
        if (slash == NULL)
            return 0;
        p = slash + 1;
    }
}

static int posix_open_root(const posix_state *st, int create, int *fd_out, cb_error *err)
{
    int fd = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        /* create the root and its parents, one component at a time */
        char *p = cb__strdup(st->root, err);
        if (p == NULL)
            return CB_ENOMEM;
        for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
            if (s != NULL)
                *s = '\0';
            if (mkdir(p, 0777) < 0 && errno != EEXIST) {
                int e = errno;
                free(p);
                return cb_error_set_sys(err, CB_EIO, e, "cannot create store root '%s'", st->root);
            }
            if (s == NULL)
                break;
            *s = '/';
        }
        free(p);
        fd = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0) {
        int e = errno;
        return cb_error_set_sys(err, e == ENOENT ? CB_ENOTFOUND : CB_EIO, e,
                                "cannot open store root '%s'", st->root);
    }
    *fd_out = fd;
    return 0;
}

/*
 * Open the directory `rel` (components separated by '/', already checked) below `base`,
 * never following symbolic links. With `create`, missing directories are made; `leaf_mode`
 * (if non-zero) is applied to the last one when it had to be created.
 */
static int posix_open_dirs(int base,
                           const char *rel,
                           size_t rel_len,
                           int create,
                           mode_t leaf_mode,
                           const char *display,
                           int *fd_out,
                           cb_error *err)
{
    int fd = dup(base);
    char comp[NAME_MAX + 1];
    size_t i = 0;

    if (fd < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "dup");
    while (i < rel_len) {
        size_t n = 0;
        while (i + n < rel_len && rel[i + n] != '/')
            n++;
        if (n > NAME_MAX) {
            close(fd);
            return cb_error_set(err, CB_EINVAL, "'%s': a path component is too long", display);
        }
        memcpy(comp, rel + i, n);
        comp[n] = '\0';
        i += n + 1;
        int made = 0;
        int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, comp, 0777) == 0)
                made = 1;
            else if (errno != EEXIST)
                goto fail;
            next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0)
            goto fail;
        close(fd);
        fd = next;
        if (made && leaf_mode != 0 && i >= rel_len && fchmod(fd, leaf_mode) < 0)
            goto fail;
    }
    *fd_out = fd;
    return 0;
fail : {
    int e = errno;
    close(fd);
    if (e == ENOENT)
        return cb_error_set(err, CB_ENOTFOUND, "'%s' does not exist", display);
    if (e == ELOOP || e == ENOTDIR)
        return cb_error_set(err, CB_EINVAL,
                            "'%s': a path component is not a directory (symbolic links are not "
                            "followed)",
                            display);
    return cb_error_set_sys(err, CB_EIO, e, "cannot open directory '%s'", display);
}
}

static int posix_walk_container(
    const posix_state *st, const char *container, int create, int *fd_out, cb_error *err);

/* Open the container directory (a dup of the cached one when it is the last used).
 * Missing container: CB_ENOTFOUND naming it. */
static int
posix_open_container(posix_state *st, const char *container, int create, int *fd_out, cb_error *err)
{
    int fd = -1, rc;
    pthread_mutex_lock(&st->lock);
    /* a new open file description, not a dup: listings read the directory from its start */
    if (!create && st->cached != NULL && strcmp(st->cached, container) == 0)
        fd = openat(st->cached_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    pthread_mutex_unlock(&st->lock);
    if (fd >= 0) {
        *fd_out = fd;
        return 0;
    }
    if ((rc = posix_walk_container(st, container, create, fd_out, err)) < 0)
        return rc;
    char *name = strdup(container);
    int keep = name != NULL ? dup(*fd_out) : -1;
    pthread_mutex_lock(&st->lock);
    if (keep >= 0) {
        if (st->cached != NULL)
            close(st->cached_fd);
        free(st->cached);
        st->cached = name;
        st->cached_fd = keep;
        name = NULL;
    }
    pthread_mutex_unlock(&st->lock);
    free(name);
    return 0;
}

/* Walk from the root to the container directory, component by component. */
static int posix_walk_container(
    const posix_state *st, const char *container, int create, int *fd_out, cb_error *err)
{
    int root, rc;
    if ((rc = posix_check_relpath("container", container, 1, err)) < 0)
        return rc;
    if ((rc = posix_open_root(st, create, &root, err)) < 0)
        return rc;
    char display[4200];
    snprintf(display, sizeof(display), "%s/%s", st->root, container);
    rc = posix_open_dirs(root, container, strlen(container), create, 0770, display, fd_out, err);
    close(root);
    if (rc == CB_ENOTFOUND) {
        cb_error_clear(err);
        rc = cb_error_set(err, CB_ENOTFOUND, "container '%s' does not exist in store root '%s'",
                          container, st->root);
    }
    return rc;
}

/* Open the directory that holds object `name` (which may contain '/') inside container
 * directory `cfd`; *leaf_out points into name at the final component. */
static int posix_open_parent(int cfd,
                             const char *name,
                             int create,
                             const char *display,
                             int *fd_out,
                             const char **leaf_out,
                             cb_error *err)
{
    int rc;
    if ((rc = posix_check_relpath("object name", name, 0, err)) < 0)
        return rc;
    const char *slash = strrchr(name, '/');
    *leaf_out = slash ? slash + 1 : name;
    if (strlen(*leaf_out) > NAME_MAX)
        return cb_error_set(err, CB_EINVAL, "object name '%s' is too long", name);
    return posix_open_dirs(cfd, name, slash ? (size_t)(slash - name) : 0, create, 0, display,
                           fd_out, err);
}

static int
posix_put_container(void *state, const char *container, unsigned int flags, cb_error *err)
{
    posix_state *st = state;
    int fd, rc;
    (void)flags;
    rc = posix_open_container(st, container, st->create, &fd, err);
    if (rc == CB_ENOTFOUND && !st->create) {
        cb_error_clear(err);
        return cb_error_set(err, CB_ENOTFOUND,
                            "container '%s' does not exist in store root '%s' and creating "
                            "containers is disabled",
                            container, st->root);
    }
    if (rc < 0)
        return rc;
    close(fd);
    return 0;
}

/* ---- writer ---- */

static int posix_writer_write(cb_writer *base, const void *buf, size_t len, cb_error *err)
{
    posix_writer *w = (posix_writer *)base;
    int rc = cb_dio_write(&w->out, buf, len, w->pos, err);
    w->pos += len;
    return rc;
}

static int posix_tmp_name(posix_writer *w, cb_error *err);

/* A named temporary file into place without replacing anything: link() fails on an existing
 * name, atomically, on every file system (renameat2's RENAME_NOREPLACE is not on all). */
static int posix_publish_new(posix_writer *w)
{
    if (linkat(w->dirfd, w->tmp, w->dirfd, w->leaf, 0) < 0)
        return -errno;
    unlinkat(w->dirfd, w->tmp, 0);
    return 0;
}

/* Give the finished file its name. A nameless (O_TMPFILE) file is linked in; an existing
 * object is replaced through a temporary name and rename(), which is atomic - unless the
 * writer is exclusive, when an existing name is -EEXIST. */
static int posix_publish(posix_writer *w, int fd, cb_error *err)
{
    char proc[64];
    if (!w->anon)
        return w->exclusive                                        ? posix_publish_new(w)
               : renameat(w->dirfd, w->tmp, w->dirfd, w->leaf) < 0 ? -errno
                                                                   : 0;
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, proc, w->dirfd, w->leaf, AT_SYMLINK_FOLLOW) == 0)
        return 0;
    /* without /proc, AT_EMPTY_PATH does the same for a process allowed to use it */
    if (errno == ENOENT && linkat(fd, "", w->dirfd, w->leaf, AT_EMPTY_PATH) == 0)
        return 0;
    if (errno != EEXIST || w->exclusive)
        return -errno;
    int rc = posix_tmp_name(w, err);
    if (rc < 0)
        return rc;
    if (linkat(AT_FDCWD, proc, w->dirfd, w->tmp, AT_SYMLINK_FOLLOW) < 0)
        return -errno;
    w->anon = 0; /* it has a name now: free() removes it if the rename fails */
    return renameat(w->dirfd, w->tmp, w->dirfd, w->leaf) < 0 ? -errno : 0;
}

static int posix_writer_close(cb_writer *base, cb_error *err)
{
    posix_writer *w = (posix_writer *)base;
    int fd = w->fd, rc;
    if ((rc = cb_dio_flush(&w->out, err)) < 0)
        return rc;
    w->fd = -1;
    /* deferred: hand the data to the disk now, without waiting, so that the one flush
     * before the backup's metadata (posix_sync) finds little left to write */
    if (w->defer_sync)
        sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    if (!w->defer_sync && fsync(fd) < 0) {
        int e = errno;
        close(fd);
        return cb_error_set_sys(err, CB_EIO, e, "fsync of object '%s'", w->display);
    }
    rc = posix_publish(w, fd, err);
    if (close(fd) < 0 && rc == 0)
        return cb_error_set_sys(err, CB_EIO, errno, "closing object '%s'", w->display);
    if (rc == -EEXIST && w->exclusive)
        return cb_error_set(err, CB_EEXISTS, "object '%s' already exists", w->display);
    if (rc < 0)
        return err->code
                   ? rc
                   : cb_error_set_sys(err, CB_EIO, -rc, "putting object '%s' in place", w->display);
    w->committed = 1;
    /* the name is durable only once the directory is */
    if (!w->defer_sync && fsync(w->dirfd) < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "fsync of the directory of '%s'", w->display);
    return 0;
}

static void posix_writer_free(cb_writer *base)
{
    posix_writer *w = (posix_writer *)base;
    cb_dio_dispose(&w->out); /* the pool may still be writing from its buffers */
    if (w->fd >= 0)
        close(w->fd);
    if (!w->committed && !w->anon && w->tmp[0] != '\0')
        unlinkat(w->dirfd, w->tmp, 0);
    if (w->dirfd >= 0)
        close(w->dirfd);
    free(w->leaf);
    free(w->display);
    free(w);
}

static const cb_writer_ops posix_writer_ops = {
    .write = posix_writer_write,
    .close = posix_writer_close,
    .free = posix_writer_free,
};

/* A fresh temporary name that no backup prefix can match (they start with "volume_"). */
static int posix_tmp_name(posix_writer *w, cb_error *err)
{
    unsigned char rnd[8];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return cb_error_set(err, CB_EIO, "no random bytes for a temporary name");
    _Static_assert(sizeof(POSIX_TMP_PREFIX) - 1 + 2 * sizeof(rnd) < sizeof(w->tmp),
                   "a temporary name fits");
    int n = snprintf(w->tmp, sizeof(w->tmp), "%s", POSIX_TMP_PREFIX);
    cb__hex(w->tmp + n, rnd, sizeof(rnd));
    return 0;
}

/*
 * The file the object is written to. Where the file system allows it, a nameless one
 * (O_TMPFILE): it only gets a name once complete, and vanishes by itself if the writer is
 * abandoned or the machine crashes. Elsewhere (NFS, ...), a temporary name.
 */
static int posix_open_tmp(posix_writer *w, int nameless, cb_error *err)
{
    int rc;
    w->fd = nameless ? openat(w->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0660) : -1;
    w->anon = w->fd >= 0;
    for (int attempt = 0; w->fd < 0 && attempt < 100; attempt++) {
        if ((rc = posix_tmp_name(w, err)) < 0)
            return rc;
        w->fd =
            openat(w->dirfd, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0660);
        if (w->fd < 0 && errno != EEXIST) {
            int e = errno;
            w->tmp[0] = '\0';
            return cb_error_set_sys(err, CB_EIO, e, "creating a temporary file for '%s'",
                                    w->display);
        }
    }
    if (w->fd < 0) {
        w->tmp[0] = '\0';
        return cb_error_set(err, CB_EIO, "no free temporary name for '%s'", w->display);
    }
    /* Cinder chmods objects to 0660 regardless of the umask */
    if (fchmod(w->fd, 0660) < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "chmod of '%s'", w->display);
    return 0;
}

/* The store's writing thread, started with its first writer; NULL (each writer then writes
 * its own buffers) if it cannot start. */
static cb_dio_pool *posix_pool(posix_state *st)
{
    pthread_mutex_lock(&st->lock);
    if (!st->pool_tried) {
        cb_error ignored = { 0 };
        st->pool_tried = 1;
        cb_dio_pool_new(&st->pool, &ignored);
    }
    cb_dio_pool *p = st->pool;
    pthread_mutex_unlock(&st->lock);
    return p;
}

static int posix_open_writer(void *state,
                             const char *container,
                             const char *name,
                             const char *extra_metadata,
                             unsigned int flags,
                             cb_writer **out,
                             cb_error *err)
{
    posix_state *st = state;
    const char *leaf;
    int cfd = -1, rc;
    (void)extra_metadata;

    posix_writer *w = cb__calloc(1, sizeof(*w), err);
    if (w == NULL)
        return CB_ENOMEM;
    w->base.ops = &posix_writer_ops;
    w->defer_sync = (flags & CB_WRITE_DEFER_SYNC) != 0;
    w->exclusive = (flags & CB_WRITE_EXCLUSIVE) != 0;
    w->dirfd = -1;
    w->fd = -1;
    if ((w->display = cb__asprintf(err, "%s/%s", container, name)) == NULL) {
        rc = CB_ENOMEM;
        goto fail;
    }
    if ((rc = posix_open_container(st, container, 0, &cfd, err)) < 0 ||
        (rc = posix_open_parent(cfd, name, 1, w->display, &w->dirfd, &leaf, err)) < 0)
        goto fail;
    if ((w->leaf = cb__strdup(leaf, err)) == NULL) {
        rc = CB_ENOMEM;
        goto fail;
    }
    if ((rc = posix_open_tmp(w, st->nameless, err)) < 0)
        goto fail;
    cb_dio_init(&w->out, w->fd, CB_DIO_LAZY, w->display, posix_pool(st));
    close(cfd);
    *out = &w->base;
    return 0;
fail:
    if (cfd >= 0)
        close(cfd);
    posix_writer_free(&w->base);
    return rc;
}

/* ---- reader ---- */

/* Ask for the window ahead of the reader (a hint: its failure changes nothing). */
static void posix_reader_prefetch(posix_reader *r)
{
    uint64_t want = r->pos + POSIX_READ_AHEAD;
    if (want <= r->ahead)
        return;
    (void)posix_fadvise(r->fd, (off_t)r->ahead, (off_t)(want - r->ahead), POSIX_FADV_WILLNEED);
    r->ahead = want;
}

static int posix_reader_read(cb_reader *base, void *buf, size_t cap, size_t *n_out, cb_error *err)
{
    posix_reader *r = (posix_reader *)base;
    for (;;) {
        ssize_t n = read(r->fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cb_error_set_sys(err, CB_EIO, errno, "reading object '%s'", r->display);
        *n_out = (size_t)n;
        r->pos += (uint64_t)n;
        if (n > 0)
            posix_reader_prefetch(r);
        return 0;
    }
}

static void posix_reader_free(cb_reader *base)
{
    posix_reader *r = (posix_reader *)base;
    if (r->fd >= 0)
        close(r->fd);
    free(r->display);
    free(r);
}

static const cb_reader_ops posix_reader_ops = {
    .read = posix_reader_read,
    .free = posix_reader_free,
};

static int posix_open_reader(void *state,
                             const char *container,
                             const char *name,
                             const char *extra_metadata,
                             unsigned int flags,
                             cb_reader **out,
                             cb_error *err)
{
    posix_state *st = state;
    const char *leaf;
    int cfd = -1, dfd = -1, rc;
    (void)extra_metadata;
    (void)flags;

    posix_reader *r = cb__calloc(1, sizeof(*r), err);
    if (r == NULL)
        return CB_ENOMEM;
    r->base.ops = &posix_reader_ops;
    r->fd = -1;
    if ((r->display = cb__asprintf(err, "%s/%s", container, name)) == NULL) {
        rc = CB_ENOMEM;
        goto done;
    }
    if ((rc = posix_open_container(st, container, 0, &cfd, err)) < 0 ||
        (rc = posix_open_parent(cfd, name, 0, r->display, &dfd, &leaf, err)) < 0)
        goto done;
    r->fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (r->fd >= 0)
        posix_reader_prefetch(r);
    if (r->fd < 0) {
        int e = errno;
        rc = e == ENOENT ? cb_error_set(err, CB_ENOTFOUND,
                                        "object '%s' not found in container '%s'", name, container)
                         : cb_error_set_sys(err, CB_EIO, e, "cannot open object '%s'", r->display);
    }
done:
    if (rc == CB_ENOTFOUND && err != NULL && strstr(err->msg, "object '") == NULL) {
        /* a missing intermediate directory also means a missing object */
        cb_error_clear(err);
        rc = cb_error_set(err, CB_ENOTFOUND, "object '%s' not found in container '%s'", name,
                          container);
    }
    if (cfd >= 0)
        close(cfd);
    if (dfd >= 0)
        close(dfd);
    if (rc < 0) {
        posix_reader_free(&r->base);
        return rc;
    }
    *out = &r->base;
    return 0;
}

/* ---- delete ---- */

static int posix_delete_object(
    void *state, const char *container, const char *name, unsigned int flags, cb_error *err)
{
    posix_state *st = state;
    const char *leaf;
    int cfd = -1, dfd = -1, rc;
    (void)flags;

    rc = posix_open_container(st, container, 0, &cfd, err);
    if (rc == 0)
        rc = posix_open_parent(cfd, name, 0, name, &dfd, &leaf, err);
    if (rc == CB_ENOTFOUND) { /* nothing there: deleting it succeeds */
        cb_error_clear(err);
        rc = 0;
        goto done;
    }
    if (rc < 0)
        goto done;
    if (unlinkat(dfd, leaf, 0) < 0 && errno != ENOENT)
        rc = cb_error_set_sys(err, CB_EIO, errno, "deleting object '%s/%s'", container, name);
done:
    if (cfd >= 0)
        close(cfd);
    if (dfd >= 0)
        close(dfd);
    return rc;
}

/* ---- listing ---- */

typedef struct posix_walk {
    const char *prefix;
    cb_list_fn fn;
    cb_entry_fn entry_fn; /* list_entries: called instead of fn, with size and mtime */
    void *payload;
    int files;       /* 1: report files by prefix; 0: report directories (containers) */
    const char *top; /* for messages */
    cb_error *err;
} posix_walk;

static int posix_is_dir(int dfd, const struct dirent *de, int *is_dir, int *is_file)
{
    struct stat sb;
    *is_dir = de->d_type == DT_DIR;
    *is_file = de->d_type == DT_REG;
    if (de->d_type != DT_UNKNOWN)
        return 0;
    if (fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
        return -1;
    *is_dir = S_ISDIR(sb.st_mode);
    *is_file = S_ISREG(sb.st_mode);
    return 0;
}

/* May a name under directory `rel` (ending in '/', or "") still start with the prefix? */
static int posix_prefix_reachable(const char *rel, size_t rel_len, const char *prefix)
{
    size_t plen = strlen(prefix);
    return strncmp(rel, prefix, rel_len < plen ? rel_len : plen) == 0;
}

static int posix_report_entry(posix_walk *wk, int dfd, const char *leaf, const char *name)
{
    struct stat sb;
    cb_entry e = { .name = name, .size = -1, .mtime = -1 };
    if (fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) < 0)
        return 0; /* vanished meanwhile: no longer there to report */
    e.size = (int64_t)sb.st_size;
    e.mtime = (int64_t)sb.st_mtime;
    return wk->entry_fn(&e, wk->payload);
}

static int posix_walk_dir(posix_walk *wk, int dfd, cb_buf *rel, int depth)
{
    int rc = 0;
    int fd = dup(dfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return cb_error_set_sys(wk->err, CB_EIO, e, "cannot list '%s/%s'", wk->top, rel->data);
    }
    size_t base_len = rel->len;
    struct dirent *de;
    while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
        int is_dir, is_file;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            strncmp(de->d_name, POSIX_TMP_PREFIX, strlen(POSIX_TMP_PREFIX)) == 0)
            continue;
        if (posix_is_dir(dirfd(d), de, &is_dir, &is_file) < 0)
            continue; /* vanished meanwhile */
        rel->len = base_len;
        if ((rc = cb_buf_puts(rel, de->d_name, wk->err)) < 0)
            break;
        if (is_file && wk->files && strncmp(rel->data, wk->prefix, strlen(wk->prefix)) == 0) {
            rc = wk->entry_fn != NULL ? posix_report_entry(wk, dirfd(d), de->d_name, rel->data)
                                      : wk->fn(rel->data, wk->payload);
        } else if (is_dir && depth < POSIX_MAX_DEPTH) {
            if (!wk->files && (rc = wk->fn(rel->data, wk->payload)) != 0)
                break;
            if ((rc = cb_buf_putc(rel, '/', wk->err)) < 0)
                break;
            if (wk->files && !posix_prefix_reachable(rel->data, rel->len, wk->prefix))
                continue;
            int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0)
                continue;
            rc = posix_walk_dir(wk, sub, rel, depth + 1);
            close(sub);
        }
    }
    if (rc == 0 && errno != 0)
        rc = cb_error_set_sys(wk->err, CB_EIO, errno, "cannot list '%s'", wk->top);
    rel->len = base_len;
    rel->data[base_len] = '\0';
    closedir(d);
    return rc;
}

static int posix_list_walk(posix_state *st, const char *container, posix_walk *wk, cb_error *err)
{
    cb_buf rel = CB_BUF_INIT;
    int cfd, rc;
    if ((rc = posix_open_container(st, container, 0, &cfd, err)) < 0)
        return rc;
    if ((rc = cb_buf_puts(&rel, "", err)) == 0)
        rc = posix_walk_dir(wk, cfd, &rel, 0);
    close(cfd);
    cb_buf_dispose(&rel);
    return rc;
}

static int posix_list(void *state,
                      const char *container,
                      const char *prefix,
                      unsigned int flags,
                      cb_list_fn fn,
                      void *payload,
                      cb_error *err)
{
    posix_walk wk = {
        .prefix = prefix, .fn = fn, .payload = payload, .files = 1, .top = container, .err = err
    };
    (void)flags;
    return posix_list_walk(state, container, &wk, err);
}

static int posix_list_entries(void *state,
                              const char *container,
                              const char *prefix,
                              unsigned int flags,
                              cb_entry_fn fn,
                              void *payload,
                              cb_error *err)
{
    posix_walk wk = { .prefix = prefix,
                      .entry_fn = fn,
                      .payload = payload,
                      .files = 1,
                      .top = container,
                      .err = err };
    (void)flags;
    return posix_list_walk(state, container, &wk, err);
}

static int
posix_list_containers(void *state, unsigned int flags, cb_list_fn fn, void *payload, cb_error *err)
{
    posix_state *st = state;
    posix_walk wk = {
        .prefix = "", .fn = fn, .payload = payload, .files = 0, .top = st->root, .err = err
    };
    cb_buf rel = CB_BUF_INIT;
    int root, rc;
    (void)flags;

    if ((rc = posix_open_root(st, 0, &root, err)) < 0)
        return rc;
    if ((rc = fn("", payload)) == 0 && (rc = cb_buf_puts(&rel, "", err)) == 0)
        rc = posix_walk_dir(&wk, root, &rel, 0);
    close(root);
    cb_buf_dispose(&rel);
    return rc;
}

/* ---- the rest of the table ---- */

static int posix_update_container_name(
    void *state, const char *backup_id, const char *container, char **out, cb_error *err)
{
    (void)state;
    if (container != NULL) {
        *out = cb__strdup(container, err);
        return *out ? 0 : CB_ENOMEM;
    }
    if (backup_id == NULL || strlen(backup_id) < 4)
        return cb_error_set(err, CB_EINVAL, "backup id '%s' is too short for a container path",
                            backup_id ? backup_id : "");
    /* Cinder's default: id[0:2]/id[2:4]/id */
    *out = cb__asprintf(err, "%.2s/%.2s/%s", backup_id, backup_id + 2, backup_id);
    return *out ? 0 : CB_ENOMEM;
}

/* The root itself: there is no container every backup shares. */
static int posix_home_container(void *state, char **out, cb_error *err)
{
    (void)state;
    *out = cb__strdup("", err);
    return *out ? 0 : CB_ENOMEM;
}

static int posix_check(void *state, cb_error *err)
{
    posix_state *st = state;
    struct stat sb;
    if (stat(st->root, &sb) < 0) {
        if (errno == ENOENT && st->create)
            return 0; /* the first backup creates it */
        return cb_error_set_sys(err, CB_EIO, errno, "store root '%s'", st->root);
    }
    if (!S_ISDIR(sb.st_mode))
        return cb_error_set(err, CB_EINVAL, "store root '%s' is not a directory", st->root);
    if (access(st->root, W_OK | X_OK) < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "store root '%s' is not writable", st->root);
    return 0;
}

/* Objects written with CB_WRITE_DEFER_SYNC: one syncfs of the file system instead of an
 * fsync per object and per directory (data, then renames, all at once). */
static int posix_sync(void *state, const char *container, unsigned int flags, cb_error *err)
{
    posix_state *st = state;
    int fd, rc;
    (void)flags;
    if ((rc = posix_open_container(st, container, 0, &fd, err)) < 0)
        return rc;
    if (syncfs(fd) < 0)
        rc = cb_error_set_sys(err, CB_EIO, errno, "flushing container '%s' to disk", container);
    close(fd);
    return rc;
}

static void posix_destroy(void *state)
{
    posix_state *st = state;
    if (st == NULL)
        return;
    if (st->cached != NULL)
        close(st->cached_fd);
    free(st->cached);
    cb_dio_pool_free(st->pool); /* the writers are gone: nothing is queued */
    pthread_mutex_destroy(&st->lock);
    free(st->root);
    free(st);
}

static const cb_store_ops posix_store_ops = {
    .version = CB_STORE_OPS_VERSION,
    .name = "posix",
    .flags = CB_STORE_PARALLEL | CB_STORE_FLAT_PREFIX | CB_STORE_EXCLUSIVE,
    .cinder_driver = "cinder.backup.drivers.posix.PosixBackupDriver",
    .default_object_size = 1999994880ULL, /* 61035 * 32768, Cinder's backup_file_size */
    .default_sha_block = 32768,
    .put_container = posix_put_container,
    .list = posix_list,
    .open_writer = posix_open_writer,
    .open_reader = posix_open_reader,
    .delete_object = posix_delete_object,
    .destroy = posix_destroy,
    .update_container_name = posix_update_container_name,
    .list_containers = posix_list_containers,
    .check = posix_check,
    .sync = posix_sync,
    .list_entries = posix_list_entries,
    .home_container = posix_home_container,
};

int cb__posix_store_ctor(const char *location,
                         const cb_store_opts *opts,
                         const cb_store_ops **ops_out,
                         void **state_out,
                         cb_error *err)
{
    if (location[0] == '\0')
        return cb_error_set(err, CB_EINVAL, "posix store: no directory given");
    posix_state *st = cb__calloc(1, sizeof(*st), err);
    if (st == NULL)
        return CB_ENOMEM;
    /* keep "/" as is, drop other trailing slashes so that messages read well */
    size_t n = strlen(location);
    while (n > 1 && location[n - 1] == '/')
        n--;
    st->root = cb__strndup(location, n, err);
    if (st->root == NULL) {
        free(st);
        return CB_ENOMEM;
    }
    st->create = opts->create_containers;
    st->nameless = access("/proc/self/fd", X_OK) == 0;
    pthread_mutex_init(&st->lock, NULL);
    *ops_out = &posix_store_ops;
    *state_out = st;
    return 0;
}
