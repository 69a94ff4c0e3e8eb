/* SPDX-License-Identifier: Apache-2.0 */
/* posix_list.c: the posix store's listings: objects by prefix (with their sizes and times)
 * and containers, walking directories without following symbolic links. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "posix_internal.h"

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

/* A temporary file (never listed): removed once stale, as far as this user may. */
static void posix_sweep_tmp(int dfd, const char *name)
{
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        time(NULL) - st.st_mtime > POSIX_TMP_STALE)
        unlinkat(dfd, name, 0);
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
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (strncmp(de->d_name, POSIX_TMP_PREFIX, strlen(POSIX_TMP_PREFIX)) == 0) {
            posix_sweep_tmp(dirfd(d), de->d_name);
            continue;
        }
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
    if ((rc = cb__posix_open_container(st, container, 0, &cfd, err)) < 0)
        return rc;
    if ((rc = cb_buf_puts(&rel, "", err)) == 0)
        rc = posix_walk_dir(wk, cfd, &rel, 0);
    close(cfd);
    cb_buf_dispose(&rel);
    return rc;
}

int cb__posix_list(void *state,
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

int cb__posix_list_entries(void *state,
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

int cb__posix_list_containers(
    void *state, unsigned int flags, cb_list_fn fn, void *payload, cb_error *err)
{
    posix_state *st = state;
    posix_walk wk = {
        .prefix = "", .fn = fn, .payload = payload, .files = 0, .top = st->root, .err = err
    };
    cb_buf rel = CB_BUF_INIT;
    int root, rc;
    (void)flags;

    if ((rc = cb__posix_open_root(st, 0, &root, err)) < 0)
        return rc;
    if ((rc = fn("", payload)) == 0 && (rc = cb_buf_puts(&rel, "", err)) == 0)
        rc = posix_walk_dir(&wk, root, &rel, 0);
    close(root);
    cb_buf_dispose(&rel);
    return rc;
}
