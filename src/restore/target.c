/* SPDX-License-Identifier: Apache-2.0 */
/* target.c: writing restore targets (see target.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target.h"
#include "../util/util.h"

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

/* The process's umask without changing it (umask(2) sets it, for every thread): Linux
 * reports it in /proc/self/status; where it does not, 022 is the usual one. */
static mode_t target_umask(void)
{
    unsigned int mask = 022;
    char line[128];
    FILE *f = fopen("/proc/self/status", "re");
    if (f == NULL)
        return (mode_t)mask;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "Umask: %o", &mask) == 1)
            break;
    fclose(f);
    return (mode_t)(mask & 0777);
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
    /* a replaced file keeps its mode; a new one gets what open(2) would give it, 0644 less
     * the umask (mkostemp made it 0600), before the rename makes it visible */
    mode_t mode = old != NULL ? old->st_mode & 07777 : 0644 & ~target_umask();
    if (fchmod(t->fd, mode) < 0 || ftruncate(t->fd, (off_t)t->size) < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "cannot size restore target '%s'", path);
    return target_reserve(t, path, sparse, err);
}

/* The checks every block device target passes, opened by path or given as a descriptor. */
static int target_check_dev(cb_target *t, const char *name, uint64_t size, cb_error *err)
{
    uint64_t dev_size;
    t->is_block = t->in_place = 1;
    if (cb__dev_size(t->fd, &dev_size) < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "cannot get the size of '%s'", name);
    if (dev_size < size)
        return cb_error_set(err, CB_EINVAL,
                            "target device '%s' holds %llu bytes; the backup needs %llu", name,
                            (unsigned long long)dev_size, (unsigned long long)size);
    return 0;
}

static void target_init(cb_target *t, uint64_t size)
{
    memset(t, 0, sizeof(*t));
    t->fd = t->dfd = -1;
    t->size = size;
    t->zero_from = UINT64_MAX;
}

int cb__target_open(
    cb_target *t, const char *path, uint64_t size, int sparse, int overwrite, cb_error *err)
{
    struct stat sb;
    target_init(t, size);
    if (path == NULL || path[0] == '\0')
        return cb_error_set(err, CB_EINVAL, "no restore target given");
    if ((t->path = cb__strdup(path, err)) == NULL)
        return CB_ENOMEM;
    if (stat(path, &sb) == 0 && S_ISBLK(sb.st_mode)) {
        int rc;
        /* O_EXCL on a block device: the kernel refuses it while it is mounted, a member of
         * a RAID or LVM, or open O_EXCL by anyone else */
        t->fd = open(path, O_WRONLY | O_EXCL | O_CLOEXEC);
        if (t->fd < 0 && errno == EBUSY)
            return cb_error_set_sys(err, CB_EINUSE, errno,
                                    "target device '%s' is in use (mounted, or held by another "
                                    "program): refusing to write it",
                                    path);
        if (t->fd < 0)
            return cb_error_set_sys(err, CB_EIO, errno, "cannot open target device '%s'", path);
        if ((rc = target_check_dev(t, path, size, err)) < 0)
            return rc;
        t->dfd = cb_dio_open(path, -1);
        return 0;
    }
    if (stat(path, &sb) < 0)
        return target_open_file(t, path, NULL, sparse, err);
    if (!S_ISREG(sb.st_mode))
        return cb_error_set(err, CB_EINVAL,
                            "restore target '%s' is not a regular file or a block device", path);
    if (!overwrite)
        return cb_error_set(err, CB_EEXISTS, "restore target '%s' exists; use --force to overwrite",
                            path);
    return target_open_file(t, path, &sb, sparse, err);
}

/* A regular file given as a descriptor: extended (never shrunk) to the volume size, the
 * extension reserved unless `sparse`; it reads as zeros from its starting size on. */
static int
target_fd_file(cb_target *t, const struct stat *sb, int sparse, int zeroed, cb_error *err)
{
    uint64_t old = (uint64_t)sb->st_size;
    t->in_place = 1;
    t->zeros_free = zeroed;
    t->zero_from = old;
    if (old >= t->size)
        return 0;
    if (ftruncate(t->fd, (off_t)t->size) < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "cannot extend restore target %s to %llu bytes",
                                t->path, (unsigned long long)t->size);
    if (sparse || fallocate(t->fd, 0, (off_t)old, (off_t)(t->size - old)) == 0 ||
        errno == EOPNOTSUPP || errno == ENOSYS)
        return 0;
    return cb_error_set_sys(err, CB_EIO, errno,
                            "not enough space for restore target %s (%llu bytes more)", t->path,
                            (unsigned long long)(t->size - old));
}

int cb__target_open_fd(
    cb_target *t, int fd, uint64_t size, int sparse, int zeroed, int *stream_out, cb_error *err)
{
    struct stat sb;
    int fl;
    target_init(t, size);
    *stream_out = 0;
    if (fd < 0 || (fl = fcntl(fd, F_GETFL)) < 0 || fstat(fd, &sb) < 0)
        return cb_error_set(err, CB_EINVAL, "restore target descriptor %d is not open", fd);
    if ((fl & O_ACCMODE) == O_RDONLY)
        return cb_error_set(err, CB_EINVAL, "restore target descriptor %d is not open for writing",
                            fd);
    if (S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode) || S_ISCHR(sb.st_mode)) {
        *stream_out = 1;
        return 0;
    }
    if (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode))
        return cb_error_set(err, CB_EINVAL,
                            "restore target descriptor %d is not a regular file, a block device "
                            "or a stream",
                            fd);
    if (fl & O_APPEND) /* pwrite would append */
        return cb_error_set(err, CB_EINVAL,
                            "restore target descriptor %d is open O_APPEND: it cannot be "
                            "written in place",
                            fd);
    if ((t->path = cb__asprintf(err, "descriptor %d", fd)) == NULL)
        return CB_ENOMEM;
    if ((t->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "cannot duplicate %s", t->path);
    t->from_fd = 1;
    if (S_ISBLK(sb.st_mode) && sparse)
        return cb_error_set(err, CB_EINVAL,
                            "--sparse does not apply to a block device (restore target %s)",
                            t->path);
    int rc = S_ISBLK(sb.st_mode) ? target_check_dev(t, t->path, size, err)
                                 : target_fd_file(t, &sb, sparse, zeroed, err);
    if (rc == 0 && t->is_block)
        t->zeros_free = zeroed;
    if (rc == 0) /* /proc/self/fd/N reopened O_DIRECT where it suits, as for a path */
        t->dfd = cb_dio_open(NULL, t->fd);
    return rc;
}

int cb__target_open_fn(cb_target *t,
                       cb_dio_write_fn fn,
                       int (*flush)(void *payload),
                       void *payload,
                       uint64_t size,
                       int zeroed,
                       cb_error *err)
{
    target_init(t, size);
    if ((t->path = cb__strdup("the restore's target_pwrite callback", err)) == NULL)
        return CB_ENOMEM;
    t->in_place = 1; /* as a device: every object verified before any of it is written */
    t->zeros_free = zeroed;
    t->write_fn = fn;
    t->write_payload = payload;
    t->flush_fn = flush;
    return 0;
}

void cb__target_dio_init(const cb_target *t, cb_dio *d, cb_dio_pool *pool)
{
    if (t->write_fn != NULL)
        cb_dio_init_fn(d, t->write_fn, t->write_payload, t->path);
    else
        cb_dio_init(d, t->fd, t->dfd, t->path, pool);
}

void cb__target_writeback(const cb_target *t, uint64_t off, uint64_t len)
{
    if (t->fd < 0) /* the caller's function: nothing of ours to push */
        return;
    sync_file_range(t->fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
}

int cb__target_commit(cb_target *t, cb_error *err)
{
    if (t->write_fn != NULL) { /* the caller's: its flush, once */
        int rc = t->flush_fn != NULL ? t->flush_fn(t->write_payload) : 0;
        if (rc < 0)
            return cb_error_set_sys(err, CB_EIO, rc >= -4095 ? -rc : EIO,
                                    "the restore's target_flush callback failed");
        return 0;
    }
    /* one flush covers the writes through both descriptors: they share the file */
    if (fdatasync(t->fd) < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "flushing '%s'", t->path);
    if (!t->is_new_file)
        return 0;
    /* the directory's name first: once the file is in place, nothing may fail */
    char *dir = cb__strdup(t->path, err);
    if (dir == NULL)
        return CB_ENOMEM;
    if (rename(t->tmp_path, t->path) < 0) {
        free(dir);
        return cb_error_set_sys(err, CB_EIO, errno, "renaming the restored file to '%s'", t->path);
    }
    free(t->tmp_path);
    t->tmp_path = NULL;
    /* the rename is durable once the directory is */
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
