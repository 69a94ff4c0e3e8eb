/* SPDX-License-Identifier: Apache-2.0 */
/* source.c: reading the volume being backed up. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "source.h"
#include "source_nbd.h"
#include "source_stream.h"
#include "../util/util.h"

static const char *volume_kind(mode_t mode)
{
    return S_ISFIFO(mode)   ? "a named pipe"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISDIR(mode)  ? "a directory"
           : S_ISSOCK(mode) ? "a socket"
                            : "not a regular file or a block device";
}

/* A descriptor's bytes at an offset (cb_volume_pread_fn): the payload is the descriptor. */
static long long volume_fd_pread(void *payload, void *buf, size_t len, uint64_t off)
{
    for (;;) {
        ssize_t n = pread((int)(intptr_t)payload, buf, len, (off_t)off);
        if (n >= 0)
            return (long long)n;
        if (errno != EINTR)
            return -(long long)errno;
    }
}

/* The checks and sizes every file or device volume gets, on descriptor v->fd (the volume's
 * own, closed with it); `label` names it in messages. `own`: the descriptor's open file
 * description is the library's (its flags may be changed). */
static int volume_setup(cb_volume *v, const char *label, int own, cb_error *err)
{
    struct stat sb;
    if (fstat(v->fd, &sb) < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "cannot stat volume '%s'", label);
    if (!S_ISBLK(sb.st_mode) && !S_ISREG(sb.st_mode))
        return cb_error_set(err, CB_EINVAL,
                            "volume '%s' is %s: back up a regular file or a block device", label,
                            volume_kind(sb.st_mode));
    int fl = own ? fcntl(v->fd, F_GETFL) : 0;
    if (own && (fl < 0 || fcntl(v->fd, F_SETFL, fl & ~O_NONBLOCK) < 0))
        return cb_error_set_sys(err, CB_EIO, errno, "cannot set up volume '%s'", label);
    v->dev = (uint64_t)sb.st_dev;
    v->ino = (uint64_t)sb.st_ino;
    v->pread_fn = volume_fd_pread;
    v->pread_payload = (void *)(intptr_t)v->fd;
    if (S_ISBLK(sb.st_mode)) {
        v->is_block = 1;
        if (cb__dev_size(v->fd, &v->size) < 0)
            return cb_error_set_sys(err, CB_EIO, errno, "cannot get the size of device '%s'",
                                    label);
    } else {
        v->size = (uint64_t)sb.st_size;
    }
    if (own)
        posix_fadvise(v->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return 0;
}

int cb__volume_open(cb_volume *v, const char *path, cb_error *err)
{
    memset(v, 0, sizeof(*v));
    v->fd = -1;
    if (path == NULL || path[0] == '\0')
        return cb_error_set(err, CB_EINVAL, "no volume given");
    /* O_NONBLOCK: opening a named pipe without a writer would wait forever */
    v->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (v->fd < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "cannot open volume '%s'", path);
    v->by_path = 1;
    int rc = volume_setup(v, path, 1, err);
    if (rc < 0) {
        cb__volume_close(v);
        return rc;
    }
    /* The canonical path names the volume (its default volume id is derived from it): a
     * path that cannot be resolved is an error, never a silent fall back to another name. */
    char canon[PATH_MAX];
    if (realpath(path, canon) == NULL) {
        int e = errno;
        cb__volume_close(v);
        return cb_error_set_sys(err, CB_EIO, e, "cannot resolve the path of volume '%s'", path);
    }
    v->path = cb__strdup(path, err);
    v->canonical = cb__strdup(canon, err);
    if (v->path == NULL || v->canonical == NULL) {
        cb__volume_close(v);
        return CB_ENOMEM;
    }
    return 0;
}

int cb__volume_open_fd(cb_volume *v, int fd, uint64_t size, cb_error *err)
{
    struct stat sb, again;
    char proc[64], label[48];
    memset(v, 0, sizeof(*v));
    v->fd = -1;
    snprintf(label, sizeof(label), "descriptor %d", fd);
    if (fd < 0 || fstat(fd, &sb) < 0)
        return cb_error_set_sys(err, CB_EIO, fd < 0 ? EBADF : errno, "cannot use %s as the volume",
                                label);
    if (!S_ISBLK(sb.st_mode) && !S_ISREG(sb.st_mode)) { /* a pipe, a socket: a stream */
        if ((v->path = cb__strdup(label, err)) == NULL ||
            (v->canonical = cb__strdup("-", err)) == NULL) {
            cb__volume_close(v);
            return CB_ENOMEM;
        }
        v->size = size;
        int rc = cb__stream_new(&v->stream, fd, v->path, size, err);
        if (rc < 0)
            cb__volume_close(v);
        return rc;
    }
    /* its own open file description, so that SEEK_DATA moves no offset of the caller's;
     * the same file, or not used */
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    int own = 1;
    v->fd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (v->fd >= 0 && (fstat(v->fd, &again) < 0 || again.st_dev != sb.st_dev ||
                       again.st_ino != sb.st_ino || again.st_rdev != sb.st_rdev)) {
        close(v->fd);
        v->fd = -1;
    }
    if (v->fd < 0) { /* shared with the caller: pread only, never lseek */
        own = 0;
        v->no_seek = 1;
        if ((v->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
            return cb_error_set_sys(err, CB_EIO, errno, "cannot use %s as the volume", label);
    }
    int rc = volume_setup(v, label, own, err);
    if (rc == 0 && ((v->path = cb__strdup(label, err)) == NULL ||
                    (v->canonical = cb__strdup("-", err)) == NULL))
        rc = CB_ENOMEM;
    if (rc < 0)
        cb__volume_close(v);
    return rc;
}

static int volume_open_named_stream(cb_volume *v, const char *name, uint64_t size, cb_error *err)
{
    memset(v, 0, sizeof(*v));
    v->fd = -1;
    v->size = size;
    /* no path names a stream: its volume id is given (or is its parent's) */
    v->path = cb__strdup(name, err);
    v->canonical = cb__strdup("-", err);
    if (v->path == NULL || v->canonical == NULL) {
        cb__volume_close(v);
        return CB_ENOMEM;
    }
    return 0;
}

int cb__volume_open_stream(cb_volume *v, int fd, uint64_t size, cb_error *err)
{
    int rc = volume_open_named_stream(v, "standard input", size, err);
    if (rc == 0 && (rc = cb__stream_new(&v->stream, fd, v->path, size, err)) < 0)
        cb__volume_close(v);
    return rc;
}

int cb__volume_open_fn(
    cb_volume *v, cb_stream_read_fn fn, void *payload, uint64_t size, cb_error *err)
{
    int rc = volume_open_named_stream(v, "the volume's read callback", size, err);
    if (rc == 0 && (rc = cb__stream_new_fn(&v->stream, fn, payload, v->path, size, err)) < 0)
        cb__volume_close(v);
    return rc;
}

int cb__volume_open_pread(
    cb_volume *v, cb_volume_pread_fn fn, void *payload, uint64_t size, cb_error *err)
{
    int rc = volume_open_named_stream(v, "the volume's pread callback", size, err);
    if (rc < 0)
        return rc;
    v->pread_fn = fn;
    v->pread_payload = payload;
    v->by_caller = 1;
    v->no_seek = 1; /* no holes known: every byte is read */
    return 0;
}

int cb__volume_open_nbd(cb_volume *v,
                        const char *uri,
                        const char *bitmap,
                        uint32_t sample_ppm,
                        int connections,
                        uint32_t block,
                        cb_error *err)
{
    int rc = volume_open_named_stream(v, uri, 0, err);
    if (rc == 0) { /* the export names it */
        free(v->canonical);
        if ((v->canonical = cb__strdup(uri, err)) == NULL)
            rc = CB_ENOMEM;
    }
    if (rc == 0)
        rc = cb__nbd_open(uri, bitmap, connections, block, &v->nbd, &v->size, err);
    if (rc < 0) {
        cb__volume_close(v);
        return rc;
    }
    v->pread_fn = cb__nbd_pread;
    v->pread_payload = v->nbd;
    v->bitmap = bitmap;
    v->sample_ppm = sample_ppm;
    for (uint64_t at = 0, end; bitmap != NULL && at < v->size; at = end)
        v->has_clean |= cb__nbd_extent(v->nbd, at, &end) == CB_EXTENT_CLEAN;
    struct timespec now; /* a new sample every run: any block may be checked some night */
    clock_gettime(CLOCK_REALTIME, &now);
    v->sample_seed =
        (uint64_t)now.tv_sec * 1000000007u ^ (uint64_t)now.tv_nsec ^ (uint64_t)getpid() << 32;
    return 0;
}

uint64_t cb__volume_bytes_read(const cb_volume *v)
{
    if (v->nbd != NULL)
        return cb__nbd_bytes_read(v->nbd);
    if (v->stream != NULL)
        return cb__stream_bytes_read(v->stream);
    return v->read_count != NULL ? atomic_load(v->read_count) : 0;
}

int cb__volume_has_clean(const cb_volume *v)
{
    return v->has_clean;
}

uint64_t cb__volume_clean_end(const cb_volume *v, uint64_t off)
{
    uint64_t end;
    if (!v->has_clean || off >= v->size || cb__nbd_extent(v->nbd, off, &end) != CB_EXTENT_CLEAN)
        return off;
    return end; /* the map merges neighbours of a kind: one lookup */
}

int cb__volume_sampled(const cb_volume *v, uint64_t index)
{
    if (v->sample_ppm == 0)
        return 0;
    uint64_t x = index + v->sample_seed; /* splitmix64: uniform, independent per block */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x % 1000000u < v->sample_ppm;
}

int cb__volume_is_stream(const cb_volume *v)
{
    return v->stream != NULL;
}

void cb__volume_set_limit(const cb_volume *v, uint64_t limit, const char *what)
{
    if (v->stream != NULL)
        cb__stream_set_limit(v->stream, limit, what);
}

int cb__volume_start(const cb_volume *v, uint64_t object_size, size_t window, cb_error *err)
{
    return v->stream != NULL ? cb__stream_start(v->stream, object_size, window, err) : 0;
}

int cb__volume_wait(const cb_volume *v, uint64_t off, uint64_t *size_out, cb_error *err)
{
    *size_out = v->size;
    return v->stream != NULL ? cb__stream_wait(v->stream, off, size_out, err) : 0;
}

void cb__volume_release(const cb_volume *v, uint64_t off)
{
    if (v->stream != NULL)
        cb__stream_release(v->stream, off);
}

void cb__volume_abort(const cb_volume *v)
{
    if (v->stream != NULL)
        cb__stream_abort(v->stream);
}

int cb__volume_finish(cb_volume *v, cb_error *err)
{
    uint64_t size;
    if (v->stream == NULL)
        return 0;
    int rc = cb__stream_finish(v->stream, &size, err);
    if (rc == 0)
        v->size = size;
    return rc;
}

/* The volume's size now, through the descriptor the backup reads. */
static int volume_size_now(const cb_volume *v, uint64_t *size_out)
{
    struct stat sb;
    if (v->is_block)
        return cb__dev_size(v->fd, size_out);
    if (fstat(v->fd, &sb) < 0)
        return -1;
    *size_out = (uint64_t)sb.st_size;
    return 0;
}

int cb__volume_recheck(const cb_volume *v, cb_error *err)
{
    struct stat sb;
    uint64_t now;
    if (v->stream != NULL || v->by_caller || v->nbd != NULL) /* cb__volume_finish checked
                                                                 it; the caller's; the server's */
        return 0;
    if (volume_size_now(v, &now) < 0)
        return cb_error_set_sys(err, CB_ESOURCE, errno, "cannot stat volume '%s'", v->path);
    if (now != v->size)
        return cb_error_set(err, CB_ESOURCE,
                            "volume '%s' changed size during the backup (%llu bytes, now %llu): "
                            "nothing was committed; back it up again (from a snapshot if it is in "
                            "use)",
                            v->path, (unsigned long long)v->size, (unsigned long long)now);
    if (v->by_path &&
        (stat(v->path, &sb) < 0 || (uint64_t)sb.st_dev != v->dev || (uint64_t)sb.st_ino != v->ino))
        return cb_error_set(err, CB_ESOURCE,
                            "volume '%s' was replaced or removed during the backup: nothing was "
                            "committed",
                            v->path);
    return 0;
}

void cb__volume_close(cb_volume *v)
{
    cb__stream_free(v->stream);
    v->stream = NULL;
    cb__nbd_free(v->nbd);
    v->nbd = NULL;
    if (v->fd >= 0)
        close(v->fd);
    v->fd = -1;
    free(v->path);
    free(v->canonical);
    v->path = v->canonical = NULL;
}

/* A failed read of an NBD export: libnbd's message (which ends with the system's error). */
static int volume_nbd_failed(const cb_volume *v, uint64_t off, cb_error *err)
{
    char why[256];
    cb__nbd_last_error(v->nbd, why, sizeof(why));
    return cb_error_set(err, CB_ESOURCE, "reading NBD volume '%s' at offset %llu: %s", v->path,
                        (unsigned long long)off, why[0] ? why : "the read failed");
}

int cb__volume_pread(const cb_volume *v, void *buf, size_t len, uint64_t off, cb_error *err)
{
    char *p = buf;
    if (v->stream != NULL)
        return cb__stream_pread(v->stream, buf, len, off, NULL, err);
    while (len > 0) { /* one path: a descriptor's pread(2) or the caller's function */
        long long n = v->pread_fn(v->pread_payload, p, len, off);
        if (n < 0 && v->nbd != NULL)
            return volume_nbd_failed(v, off, err);
        if (n < 0 || (n == 0 && v->by_caller))
            return cb_error_set_sys(err, CB_ESOURCE, n < 0 && n >= -4095 ? (int)-n : EIO,
                                    "reading volume '%s' at offset %llu%s", v->path,
                                    (unsigned long long)off,
                                    n == 0 ? " (it returned no bytes)" : "");
        if (n == 0)
            return cb_error_set(err, CB_ESOURCE,
                                "volume '%s' ended at offset %llu: it shrank during the backup",
                                v->path, (unsigned long long)off);
        if ((unsigned long long)n > len)
            return cb_error_set(err, CB_ESOURCE,
                                "reading volume '%s' at offset %llu: %lld bytes came for %zu",
                                v->path, (unsigned long long)off, n, len);
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
        if (v->read_count != NULL)
            atomic_fetch_add(v->read_count, (uint64_t)n);
    }
    return 0;
}

int cb__volume_next_data(const cb_volume *v, uint64_t off, uint64_t *data_out, cb_error *err)
{
    *data_out = off;
    if (v->stream != NULL) {
        *data_out = cb__stream_next_data(v->stream, off);
        return 0;
    }
    if (v->nbd != NULL) { /* the server's zeros (clean blocks are data: they hold some) */
        uint64_t end = cb__nbd_run_end(v->nbd, off, 1);
        *data_out = end < v->size ? end : v->size;
        return 0;
    }
    if (v->is_block || v->no_seek || off >= v->size)
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
    if (v->stream != NULL)
        return v->size; /* streams: whole zero objects only (cb__volume_read_sparse) */
    if (v->nbd != NULL) {
        uint64_t end = cb__nbd_run_end(v->nbd, off, 0);
        return end < v->size ? end : v->size;
    }
    if (v->is_block || v->no_seek || off >= v->size)
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
    if (v->stream != NULL) /* all-zero objects read as holes; pieces lie in one object */
        return cb__stream_pread(v->stream, buf, len, off, all_zero, err);
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
