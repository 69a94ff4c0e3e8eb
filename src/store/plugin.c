/* SPDX-License-Identifier: Apache-2.0 */
/* plugin.c: find and load store plugins (plugin.h). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin.h"
#include "../util/util.h"

#ifndef CB_PLUGIN_DIR
#error "CB_PLUGIN_DIR, the installed plugin directory, comes from meson"
#endif

#define PLUGIN_PATH_ENV "CINDERBLOCK_PLUGIN_PATH"

typedef const cb_store_plugin *(*plugin_init_fn)(void);

/* The search path. A program that runs with more privileges than its caller (setuid) takes
 * no plugin directories from the environment, as the dynamic linker ignores LD_LIBRARY_PATH. */
static const char *plugin_path(const cb_store_opts *opts)
{
    if (opts != NULL && opts->getenv != NULL)
        return opts->getenv(PLUGIN_PATH_ENV, opts->getenv_payload);
    return secure_getenv(PLUGIN_PATH_ENV);
}

/* 1 with *path_out set when dir[0..n) holds the plugin of `scheme`, 0 when it does not. */
static int plugin_try(const char *dir, size_t n, const char *scheme, char **path_out, cb_error *err)
{
    char *path = cb__asprintf(err, "%.*s/cinderblock-store-%s.so", (int)n, dir, scheme);
    if (path == NULL)
        return CB_ENOMEM;
    if (access(path, F_OK) != 0) {
        free(path);
        return 0;
    }
    *path_out = path;
    return 1;
}

/* The first file of the plugin's name on the path; *path_out NULL when there is none. */
static int
plugin_find(const char *scheme, const cb_store_opts *opts, char **path_out, cb_error *err)
{
    const char *p = plugin_path(opts);
    int rc;
    *path_out = NULL;
    while (p != NULL && *p != '\0') {
        size_t n = strcspn(p, ":");
        if (n > 0 && (rc = plugin_try(p, n, scheme, path_out, err)) != 0)
            return rc < 0 ? rc : 0;
        p += n;
        if (*p == ':')
            p++;
    }
    rc = plugin_try(CB_PLUGIN_DIR, strlen(CB_PLUGIN_DIR), scheme, path_out, err);
    return rc < 0 ? rc : 0;
}

void cb__store_plugin_dirs(const cb_store_opts *opts, char *out, size_t cap)
{
    const char *p = plugin_path(opts);
    if (p != NULL && *p != '\0')
        snprintf(out, cap, "$" PLUGIN_PATH_ENV " (%.200s) or %s", p, CB_PLUGIN_DIR);
    else
        snprintf(out, cap, "%s ($" PLUGIN_PATH_ENV " is not set)", CB_PLUGIN_DIR);
}

int cb__store_plugin_load(const char *scheme,
                          const cb_store_opts *opts,
                          const cb_store_plugin **out,
                          char **path_out,
                          cb_error *err)
{
    char *path = NULL, origin[600];
    void *dl = NULL, *sym;
    plugin_init_fn init;
    int rc;

    *out = NULL;
    *path_out = NULL;
    if ((rc = plugin_find(scheme, opts, &path, err)) < 0 || path == NULL)
        return rc;
    snprintf(origin, sizeof(origin), "store plugin '%s'", path);
    /* RTLD_NOW: a plugin with a missing symbol fails here, not in the middle of a backup;
     * RTLD_LOCAL: its symbols never stand in for the library's or another plugin's */
    if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
        rc = cb_error_set(err, CB_EINVAL, "cannot load %s: %s", origin, dlerror());
        goto fail;
    }
    if ((sym = dlsym(dl, CB_STORE_PLUGIN_ENTRY)) == NULL) {
        rc = cb_error_set(err, CB_EINVAL, "%s is not a cinderblock store plugin: it has no %s()",
                          origin, CB_STORE_PLUGIN_ENTRY);
        goto fail;
    }
    memcpy(&init, &sym, sizeof(init)); /* POSIX: a dlsym() result may be a function */
    const cb_store_plugin *p = init();
    if ((rc = cb__store_plugin_check(p, origin, err)) < 0)
        goto fail;
    if (strcmp(p->scheme, scheme) != 0) {
        rc = cb_error_set(err, CB_EINVAL, "%s is the plugin of store '%.64s', not of '%s'", origin,
                          p->scheme, scheme);
        goto fail;
    }
    *out = p;
    *path_out = path;
    return 0;
fail:
    if (dl != NULL)
        dlclose(dl);
    free(path);
    return rc;
}
