/* SPDX-License-Identifier: Apache-2.0 */
/* volume.c: reading volumes and writing restore targets. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "volume.h"
#include "../util/alloc.h"
#include "../util/dio.h"

static int volume_blocksize(int fd, uint64_t *size_out)
{
    unsigned long long size = 0;
    if (ioctl(fd, BLKGETSIZE64, &size) < 0)
        return -1;
    *size_out = size;
    return 0;
}

static const char *volume_kind(mode_t mode)
{
    return S_ISFIFO(mode)   ? "a named pipe"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISDIR(mode)  ? "a directory"
           : S_ISSOCK(mode) ? "a socket"
                            : "not a regular file or a block device";
}

int cb__volume_open(cb_volume *v, const char *path, cb_error *err)
{
    struct stat sb;
    memset(v, 0, sizeof(*v));
    v->fd = -1;
    if (path == NULL || path[0] == '\0')
        return cb_error_set(err, CB_EINVAL, "no volume given");
    /* O_NONBLOCK: opening a named pipe without a writer would wait forever */
    v->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (v->fd < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "cannot open volume '%s'", path);
    if (fstat(v->fd, &sb) < 0) {
        int e = errno;
        cb__volume_close(v);
        return cb_error_set_sys(err, CB_EIO, e, "cannot stat volume '%s'", path);
    }
    if (!S_ISBLK(sb.st_mode) && !S_ISREG(sb.st_mode)) {
        const char *kind = volume_kind(sb.st_mode);
        cb__volume_close(v);
        return cb_error_set(err, CB_EINVAL,
                            "volume '%s' is %s: back up a regular file or a block device", path,
                            kind);
    }
    int fl = fcntl(v->fd, F_GETFL);
    if (fl < 0 || fcntl(v->fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        int e = errno;
        cb__volume_close(v);
        return cb_error_set_sys(err, CB_EIO, e, "cannot set up volume '%s'", path);
    }
    v->dev = (uint64_t)sb.st_dev;
    v->ino = (uint64_t)sb.st_ino;
    if (S_ISBLK(sb.st_mode)) {
        v->is_block = 1;
        if (volume_blocksize(v->fd, &v->size) < 0) {
            int e = errno;
            cb__volume_close(v);
            return cb_error_set_sys(err, CB_EIO, e, "cannot get the size of device '%s'", path);
        }
    } else {
        v->size = (uint64_t)sb.st_size;
    }
    char *canon = realpath(path, NULL);
    v->path = cb__strdup(path, err);
    v->canonical = canon ? canon : cb__strdup(path, err);
    if (v->path == NULL || v->canonical == NULL) {
        cb__volume_close(v);
        return CB_ENOMEM;
    }
    posix_fadvise(v->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return 0;
}

/* The volume's size now, through the descriptor the backup reads. */
static int volume_size_now(const cb_volume *v, uint64_t *size_out)
{
    struct stat sb;
    if (v->is_block)
        return volume_blocksize(v->fd, size_out);
    if (fstat(v->fd, &sb) < 0)
        return -1;
    *size_out = (uint64_t)sb.st_size;
    return 0;
}

int cb__volume_recheck(const cb_volume *v, cb_error *err)
{
    struct stat sb;
    uint64_t now;
    if (volume_size_now(v, &now) < 0)
        return cb_error_set_sys(err, CB_ESOURCE, errno, "cannot stat volume '%s'", v->path);
    if (now != v->size)
        return cb_error_set(err, CB_ESOURCE,
                            "volume '%s' changed size during the backup (%llu bytes, now %llu): "
                            "nothing was committed; back it up again (from a snapshot if it is in "
                            "use)",
                            v->path, (unsigned long long)v->size, (unsigned long long)now);
    if (stat(v->path, &sb) < 0 || (uint64_t)sb.st_dev != v->dev || (uint64_t)sb.st_ino != v->ino)
        return cb_error_set(err, CB_ESOURCE,
                            "volume '%s' was replaced or removed during the backup: nothing was "
                            "committed",
                            v->path);
    return 0;
}

void cb__volume_close(cb_volume *v)
{
    if (v->fd >= 0)
        close(v->fd);
    v->fd = -1;
    free(v->path);
    free(v->canonical);
    v->path = v->canonical = NULL;
}

int cb__volume_pread(const cb_volume *v, void *buf, size_t len, uint64_t off, cb_error *err)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = pread(v->fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cb_error_set_sys(err, CB_ESOURCE, errno, "reading volume '%s' at offset %llu",
                                    v->path, (unsigned long long)off);
        if (n == 0)
            return cb_error_set(err, CB_ESOURCE,
                                "volume '%s' ended at offset %llu: it shrank during the backup",
                                v->path, (unsigned long long)off);
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int cb__volume_next_data(const cb_volume *v, uint64_t off, uint64_t *data_out, cb_error *err)
{
    *data_out = off;
    if (v->is_block || off >= v->size)
        return 0;
    off_t d = lseek(v->fd, (off_t)off, SEEK_DATA);
    if (d < 0) {
        /* ENXIO: no data after off (a trailing hole), or the file shrank: its end is not a
         * hole of the volume that was opened; other errors: no hole support */
        uint64_t now;
        if (errno != ENXIO)
            return 0;
        if (volume_size_now(v, &now) == 0 && now < v->size && off >= now)
            return cb_error_set(err, CB_ESOURCE,
                                "volume '%s' shrank during the backup, from %llu to %llu bytes",
                                v->path, (unsigned long long)v->size, (unsigned long long)now);
        *data_out = v->size;
        return 0;
    }
    *data_out = (uint64_t)d < v->size ? (uint64_t)d : v->size;
    return 0;
}

uint64_t cb__volume_data_end(const cb_volume *v, uint64_t off)
{
    if (v->is_block || off >= v->size)
        return v->size;
    off_t h = lseek(v->fd, (off_t)off, SEEK_HOLE);
    if (h < 0 || (uint64_t)h > v->size)
        return v->size;
    return (uint64_t)h;
}

int cb__volume_read_sparse(const cb_volume *v,
                           void *buf,
                           size_t len,
                           uint64_t off,
                           int need_bytes,
                           int *all_zero,
                           cb_error *err)
{
    unsigned char *p = buf;
    uint64_t data;
    int rc;
    if ((rc = cb__volume_next_data(v, off, &data, err)) < 0)
        return rc;
    *all_zero = data >= off + len;
    if (*all_zero) {
        if (need_bytes)
            memset(p, 0, len);
        return 0;
    }
    if (data == off && cb__volume_data_end(v, data) >= off + len) /* all data: one read */
        return cb__volume_pread(v, p, len, off, err);
    for (size_t done = 0; done < len;) { /* holes and data mixed */
        if (done > 0 && (rc = cb__volume_next_data(v, off + done, &data, err)) < 0)
            return rc;
        size_t hole = data - (off + done) < len - done ? (size_t)(data - (off + done)) : len - done;
        memset(p + done, 0, hole);
        if ((done += hole) == len)
            break;
        uint64_t end = cb__volume_data_end(v, off + done);
        size_t n = end - (off + done) < len - done ? (size_t)(end - (off + done)) : len - done;
        if (n == 0)
            n = len - done;
        if ((rc = cb__volume_pread(v, p + done, n, off + done, err)) < 0)
            return rc;
        done += n;
    }
    return 0;
}

/* ---- targets ---- */

/* Reserve every block of a new file: unwritten extents cost no data I/O and read as zeros. */
static int target_reserve(cb_target *t, const char *path, int sparse, cb_error *err)
{
    if (sparse || t->size == 0) {
        t->zeros_free = sparse;
        return 0;
    }
    int rc = fallocate(t->fd, 0, 0, (off_t)t->size);
    if (rc == 0) {
        t->zeros_free = 1;
        return 0;
    }
    if (errno == EOPNOTSUPP || errno == ENOSYS)
        return 0; /* no reservation here (NFS v3, some FUSE): write every byte */
    if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG)
        return cb_error_set_sys(err, CB_EIO, errno,
                                "not enough space for restore target '%s' (%llu bytes)", path,
                                (unsigned long long)t->size);
    return cb_error_set_sys(err, CB_EIO, errno, "cannot reserve space for restore target '%s'",
                            path);
}

#define TARGET_TMP ".cinderblock-tmp-"

/*
 * Remove the temporary files that earlier restores of the same target left when they were
 * killed. A restore holds an flock on its own temporary file for its whole life, and the
 * kernel drops it with the process: a file whose lock can be taken is nobody's any more.
 */
static void target_sweep(const char *path)
{
    char *dir = cb__strdup(path, NULL);
    if (dir == NULL)
        return;
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : path;
    const char *d = slash == NULL ? "." : (slash == dir ? "/" : (*slash = '\0', dir));
    size_t blen = strlen(base);
    int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dh = dfd >= 0 ? fdopendir(dfd) : NULL;
    struct dirent *de;
    while (dh != NULL && (de = readdir(dh)) != NULL) {
        if (strncmp(de->d_name, base, blen) != 0 ||
            strncmp(de->d_name + blen, TARGET_TMP, strlen(TARGET_TMP)) != 0 ||
            strlen(de->d_name + blen + strlen(TARGET_TMP)) != 6)
            continue;
        int fd = openat(dirfd(dh), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            unlinkat(dirfd(dh), de->d_name, 0);
        close(fd);
    }
    if (dh != NULL)
        closedir(dh);
    else if (dfd >= 0)
        close(dfd);
    free(dir);
}

static int
target_open_file(cb_target *t, const char *path, const struct stat *old, int sparse, cb_error *err)
{
    target_sweep(path);
    /* a temporary name in the same directory, so that rename() is atomic */
    if ((t->tmp_path = cb__asprintf(err, "%s" TARGET_TMP "XXXXXX", path)) == NULL)
        return CB_ENOMEM;
    t->fd = mkostemp(t->tmp_path, O_CLOEXEC);
    if (t->fd < 0) {
        int e = errno;
        free(t->tmp_path);
        t->tmp_path = NULL;
        return cb_error_set_sys(err, CB_EIO, e, "cannot create a temporary file next to '%s'",
                                path);
    }
    t->is_new_file = 1;
    flock(t->fd, LOCK_EX | LOCK_NB); /* ours while this process lives (target_sweep) */
    /* where the file system allows it (not tmpfs, say), big aligned writes bypass the page
     * cache: no copy, and no page cache filled with a whole disk image */
    t->dfd = cb_dio_open(t->tmp_path, -1);
    /* a replaced file keeps its mode; a new one stays 0600 (disk images hold secrets) */
    if ((old != NULL && fchmod(t->fd, old->st_mode & 07777) < 0) ||
        ftruncate(t->fd, (off_t)t->size) < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "cannot size restore target '%s'", path);
    return target_reserve(t, path, sparse, err);
}

int cb__target_open(cb_target *t, const char *path, uint64_t size, int sparse, cb_error *err)
{
    struct stat sb;
    memset(t, 0, sizeof(*t));
    t->fd = t->dfd = -1;
    t->size = size;
    if (path == NULL || path[0] == '\0')
        return cb_error_set(err, CB_EINVAL, "no restore target given");
    if ((t->path = cb__strdup(path, err)) == NULL)
        return CB_ENOMEM;
    if (stat(path, &sb) == 0 && S_ISBLK(sb.st_mode)) {
        uint64_t dev_size;
        t->is_block = 1;
        t->fd = open(path, O_WRONLY | O_CLOEXEC);
        if (t->fd < 0)
            return cb_error_set_sys(err, CB_EIO, errno, "cannot open target device '%s'", path);
        if (volume_blocksize(t->fd, &dev_size) < 0)
            return cb_error_set_sys(err, CB_EIO, errno, "cannot get the size of '%s'", path);
        if (dev_size < size)
            return cb_error_set(err, CB_EINVAL,
                                "target device '%s' holds %llu bytes; the backup needs %llu", path,
                                (unsigned long long)dev_size, (unsigned long long)size);
        t->dfd = cb_dio_open(path, -1);
        return 0;
    }
    if (stat(path, &sb) < 0)
        return target_open_file(t, path, NULL, sparse, err);
    if (!S_ISREG(sb.st_mode))
        return cb_error_set(err, CB_EINVAL,
                            "restore target '%s' is not a regular file or a block device", path);
    return target_open_file(t, path, &sb, sparse, err);
}

void cb__target_writeback(const cb_target *t, uint64_t off, uint64_t len)
{
    sync_file_range(t->fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
}

int cb__target_commit(cb_target *t, cb_error *err)
{
    /* one flush covers the writes through both descriptors: they share the file */
    if (fdatasync(t->fd) < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "flushing '%s'", t->path);
    if (!t->is_new_file)
        return 0;
    if (rename(t->tmp_path, t->path) < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "renaming the restored file to '%s'", t->path);
    free(t->tmp_path);
    t->tmp_path = NULL;
    /* the rename is durable once the directory is */
    char *dir = cb__strdup(t->path, err);
    if (dir == NULL)
        return CB_ENOMEM;
    char *slash = strrchr(dir, '/');
    const char *d = slash == NULL ? "." : (slash == dir ? "/" : (*slash = '\0', dir));
    int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
    return 0;
}

void cb__target_close(cb_target *t)
{
    if (t->fd >= 0)
        close(t->fd);
    if (t->dfd >= 0)
        close(t->dfd);
    t->fd = t->dfd = -1;
    if (t->tmp_path != NULL)
        unlink(t->tmp_path);
    free(t->tmp_path);
    free(t->path);
    t->tmp_path = t->path = NULL;
}
