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
 *
 * This file has the ops table, the constructor and the small operations; see
 * posix_internal.h for the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"
#include "posix_internal.h"

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

/* The root must be there: only `init` (cb_store_init) makes a new one. */
static int posix_exists(void *state, cb_error *err)
{
    posix_state *st = state;
    struct stat sb;
    if (stat(st->root, &sb) < 0) {
        if (errno == ENOENT)
            return cb_error_set(err, CB_ENOTFOUND, "store '%s' does not exist", st->root);
        return cb_error_set_sys(err, CB_EIO, errno, "store root '%s'", st->root);
    }
    if (!S_ISDIR(sb.st_mode))
        return cb_error_set(err, CB_EINVAL, "store root '%s' is not a directory", st->root);
    return 0;
}

/* Objects written with CB_WRITE_DEFER_SYNC: one syncfs of the file system instead of an
 * fsync per object and per directory (data, then renames, all at once). */
static int posix_sync(void *state, const char *container, unsigned int flags, cb_error *err)
{
    posix_state *st = state;
    int fd, rc;
    (void)flags;
    if ((rc = cb__posix_open_container(st, container, 0, &fd, err)) < 0)
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
    CB_STORE_OPS_INIT,
    .name = "posix",
    .flags = CB_STORE_PARALLEL | CB_STORE_FLAT_PREFIX | CB_STORE_EXCLUSIVE,
    .cinder_driver = "cinder.backup.drivers.posix.PosixBackupDriver",
    .default_object_size = 1999994880ULL, /* 61035 * 32768, Cinder's backup_file_size */
    .default_sha_block = 32768,
    .put_container = cb__posix_put_container,
    .list = cb__posix_list,
    .open_writer = cb__posix_open_writer,
    .open_reader = cb__posix_open_reader,
    .delete_object = cb__posix_delete_object,
    .destroy = posix_destroy,
    .update_container_name = posix_update_container_name,
    .list_containers = cb__posix_list_containers,
    .check = posix_check,
    .sync = posix_sync,
    .list_entries = cb__posix_list_entries,
    .home_container = posix_home_container,
    .exists = posix_exists,
    .default_coalesce = 32768, /* one sha block: local files cost little (docs/cinderblock.1.md) */
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
