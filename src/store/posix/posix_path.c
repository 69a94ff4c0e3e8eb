/* SPDX-License-Identifier: Apache-2.0 */
/* posix_path.c: the posix store's paths: containers and the directories of objects, opened
 * component by component below the root without following symbolic links. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix_internal.h"

/* Refuse absolute paths, empty, "." and ".." components. `what` names the thing for the
 * message ("container", "object name"). An empty container means the root itself. */
int cb__posix_check_relpath(const char *what, const char *path, int allow_empty, cb_error *err)
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

int cb__posix_open_root(const posix_state *st, int create, int *fd_out, cb_error *err)
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
int cb__posix_open_container(
    posix_state *st, const char *container, int create, int *fd_out, cb_error *err)
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
    char *name = cb__strdup(container, NULL); /* no copy: only the cache is skipped */
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
    if ((rc = cb__posix_check_relpath("container", container, 1, err)) < 0)
        return rc;
    if ((rc = cb__posix_open_root(st, create, &root, err)) < 0)
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
int cb__posix_open_parent(int cfd,
                          const char *name,
                          int create,
                          const char *display,
                          int *fd_out,
                          const char **leaf_out,
                          cb_error *err)
{
    int rc;
    if ((rc = cb__posix_check_relpath("object name", name, 0, err)) < 0)
        return rc;
    const char *slash = strrchr(name, '/');
    *leaf_out = slash ? slash + 1 : name;
    if (strlen(*leaf_out) > NAME_MAX)
        return cb_error_set(err, CB_EINVAL, "object name '%s' is too long", name);
    return posix_open_dirs(cfd, name, slash ? (size_t)(slash - name) : 0, create, 0, display,
                           fd_out, err);
}

int cb__posix_put_container(void *state, const char *container, unsigned int flags, cb_error *err)
{
    posix_state *st = state;
    int fd, rc;
    (void)flags;
    rc = cb__posix_open_container(st, container, st->create, &fd, err);
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
