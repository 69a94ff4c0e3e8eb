/* SPDX-License-Identifier: Apache-2.0 */
/* posix_io.c: the posix store's writers (a temporary or nameless file, fsynced and linked
 * into place), readers (with a rolling read-ahead) and deletion. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix_internal.h"

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

/* ---- writer ---- */

static int posix_writer_write(cb_writer *base, const void *buf, size_t len, cb_error *err)
{
    posix_writer *w = (posix_writer *)base;
    int rc = cb_dio_write(&w->out, buf, len, w->pos, err);
    w->pos += len;
    return rc;
}

static int posix_tmp_name(posix_writer *w, cb_error *err);

/* Putting the file in place failed with errno `e`: an existing name for an exclusive writer is
 * CB_EEXISTS, anything else CB_EIO. Always a cb_status, whatever err already holds. */
static int posix_publish_fail(const posix_writer *w, int e, cb_error *err)
{
    if (e == EEXIST && w->exclusive)
        return cb_error_set(err, CB_EEXISTS, "object '%s' already exists", w->display);
    return cb_error_set_sys(err, CB_EIO, e, "putting object '%s' in place", w->display);
}

/* A named temporary file into place without replacing anything: link() fails on an existing
 * name, atomically, on every file system (renameat2's RENAME_NOREPLACE is not on all). */
static int posix_publish_new(posix_writer *w, cb_error *err)
{
    if (linkat(w->dirfd, w->tmp, w->dirfd, w->leaf, 0) < 0)
        return posix_publish_fail(w, errno, err);
    unlinkat(w->dirfd, w->tmp, 0);
    return 0;
}

/* Give the finished file its name. A nameless (O_TMPFILE) file is linked in; an existing
 * object is replaced through a temporary name and rename(), which is atomic - unless the
 * writer is exclusive, when an existing name is CB_EEXISTS. */
static int posix_publish(posix_writer *w, int fd, cb_error *err)
{
    char proc[64];
    if (!w->anon && w->exclusive)
        return posix_publish_new(w, err);
    if (!w->anon)
        return renameat(w->dirfd, w->tmp, w->dirfd, w->leaf) < 0 ? posix_publish_fail(w, errno, err)
                                                                 : 0;
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, proc, w->dirfd, w->leaf, AT_SYMLINK_FOLLOW) == 0)
        return 0;
    /* without /proc, AT_EMPTY_PATH does the same for a process allowed to use it */
    if (errno == ENOENT && linkat(fd, "", w->dirfd, w->leaf, AT_EMPTY_PATH) == 0)
        return 0;
    if (errno != EEXIST || w->exclusive)
        return posix_publish_fail(w, errno, err);
    int rc = posix_tmp_name(w, err);
    if (rc < 0)
        return rc;
    if (linkat(AT_FDCWD, proc, w->dirfd, w->tmp, AT_SYMLINK_FOLLOW) < 0)
        return posix_publish_fail(w, errno, err);
    w->anon = 0; /* it has a name now: free() removes it if the rename fails */
    return renameat(w->dirfd, w->tmp, w->dirfd, w->leaf) < 0 ? posix_publish_fail(w, errno, err)
                                                             : 0;
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
    if (rc < 0)
        return rc;
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
    CB_WRITER_OPS_INIT,
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

int cb__posix_open_writer(void *state,
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
    if ((rc = cb__posix_open_container(st, container, 0, &cfd, err)) < 0 ||
        (rc = cb__posix_open_parent(cfd, name, 1, w->display, &w->dirfd, &leaf, err)) < 0)
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
    CB_READER_OPS_INIT,
    .read = posix_reader_read,
    .free = posix_reader_free,
};

int cb__posix_open_reader(void *state,
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
    if ((rc = cb__posix_open_container(st, container, 0, &cfd, err)) < 0 ||
        (rc = cb__posix_open_parent(cfd, name, 0, r->display, &dfd, &leaf, err)) < 0)
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

int cb__posix_delete_object(
    void *state, const char *container, const char *name, unsigned int flags, cb_error *err)
{
    posix_state *st = state;
    const char *leaf;
    int cfd = -1, dfd = -1, rc;
    (void)flags;

    rc = cb__posix_open_container(st, container, 0, &cfd, err);
    if (rc == 0)
        rc = cb__posix_open_parent(cfd, name, 0, name, &dfd, &leaf, err);
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
