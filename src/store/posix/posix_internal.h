/* SPDX-License-Identifier: Apache-2.0 */
/*
 * posix_internal.h: what the files of the posix store share. posix.c has the ops table and
 * the constructor; posix_path.c finds containers and objects' directories without leaving
 * the root; posix_io.c writes, reads and deletes objects; posix_list.c lists them.
 */
#ifndef CB_STORE_POSIX_INTERNAL_H
#define CB_STORE_POSIX_INTERNAL_H

#include <pthread.h>

#include "cinderblock/sys/store.h"
#include "../../util/util.h"

#define POSIX_TMP_PREFIX ".cinderblock-tmp-"
/* A temporary file not written for this long belongs to a writer that is gone (killed
 * between writing it and renaming it into place): a listing of its directory removes it. A
 * live writer changes its file as it writes; a day also covers hosts' clocks that differ. */
#define POSIX_TMP_STALE (24 * 3600)
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

/* ---- posix_path.c ---- */

/* Refuse absolute paths, empty, "." and ".." components (CB_EINVAL naming `what`). */
int cb__posix_check_relpath(const char *what, const char *path, int allow_empty, cb_error *err);

/* Open the root directory, creating it and its parents with `create`. */
int cb__posix_open_root(const posix_state *st, int create, int *fd_out, cb_error *err);

/* Open the container directory (created with `create`); CB_ENOTFOUND naming a missing one. */
int cb__posix_open_container(
    posix_state *st, const char *container, int create, int *fd_out, cb_error *err);

/* Open the directory that holds object `name` inside container directory `cfd`; *leaf_out
 * points into name at its last component. */
int cb__posix_open_parent(int cfd,
                          const char *name,
                          int create,
                          const char *display,
                          int *fd_out,
                          const char **leaf_out,
                          cb_error *err);

/* ---- the operations, by file ---- */

int cb__posix_put_container(void *state, const char *container, unsigned int flags, cb_error *err);
int cb__posix_open_writer(void *state,
                          const char *container,
                          const char *name,
                          const char *extra_metadata,
                          unsigned int flags,
                          cb_writer **out,
                          cb_error *err);
int cb__posix_open_reader(void *state,
                          const char *container,
                          const char *name,
                          const char *extra_metadata,
                          unsigned int flags,
                          cb_reader **out,
                          cb_error *err);
int cb__posix_delete_object(
    void *state, const char *container, const char *name, unsigned int flags, cb_error *err);
int cb__posix_list(void *state,
                   const char *container,
                   const char *prefix,
                   unsigned int flags,
                   cb_list_fn fn,
                   void *payload,
                   cb_error *err);
int cb__posix_list_entries(void *state,
                           const char *container,
                           const char *prefix,
                           unsigned int flags,
                           cb_entry_fn fn,
                           void *payload,
                           cb_error *err);
int cb__posix_list_containers(
    void *state, unsigned int flags, cb_list_fn fn, void *payload, cb_error *err);

#endif
