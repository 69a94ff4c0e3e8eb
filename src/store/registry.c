/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry.c: choose a store by URL ("PATH", "posix:PATH", "file://PATH", "swift://C", ...):
 * the built-in stores first, then those registered in this process (cb_store_register() and
 * plugins loaded earlier), then a plugin found on disk (plugin.c).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "plugin.h"
#include "posix/posix.h"
#ifdef CB_HAVE_SWIFT
#include "swift/swift.h"
#endif
#ifdef CB_HAVE_S3
#include "s3/s3.h"
#endif
#include "../util/util.h"

typedef struct store_kind {
    const char *scheme;
    int slashes;           /* 1: the scheme is written "scheme://" */
    cb_store_ctor_fn ctor; /* NULL: known but not built in */
} store_kind;

static const store_kind registry_kinds[] = {
    { "posix", 0, cb__posix_store_ctor },
    { "file", 1, cb__posix_store_ctor },
#ifdef CB_HAVE_SWIFT
    { "swift", 1, cb__swift_store_ctor },
#else
    { "swift", 1, NULL },
#endif
#ifdef CB_HAVE_S3
    { "s3", 1, cb__s3_store_ctor },
#else
    { "s3", 1, NULL },
#endif
};

/* A store added at run time. Entries are never removed: stores opened through one may live
 * as long as the process, and so must their constructor and ops tables. */
typedef struct registered {
    char *scheme;
    cb_store_ctor_fn ctor;
    char *origin; /* the plugin's path, or NULL for cb_store_register() */
    struct registered *next;
} registered;

/* The one mutable global of the library besides its pthread_once initialisations: stores are
 * registered for the whole process, as dlopen() loads for the whole process. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER; /* guards registry_list */
static registered *registry_list;

static const store_kind *registry_builtin(const char *scheme, size_t n)
{
    for (size_t i = 0; i < sizeof(registry_kinds) / sizeof(registry_kinds[0]); i++)
        if (strlen(registry_kinds[i].scheme) == n &&
            strncmp(registry_kinds[i].scheme, scheme, n) == 0)
            return &registry_kinds[i];
    return NULL;
}

/* Call with the lock held. */
static registered *registry_find(const char *scheme, size_t n)
{
    for (registered *r = registry_list; r != NULL; r = r->next)
        if (strlen(r->scheme) == n && strncmp(r->scheme, scheme, n) == 0)
            return r;
    return NULL;
}

/* Add a checked entry. With `existing`, a scheme already registered is not an error: *existing
 * gets its constructor (two threads loaded the same plugin at once). */
static int registry_add(const cb_store_plugin *p,
                        const char *origin,
                        cb_store_ctor_fn *existing,
                        cb_error *err)
{
    size_t n = strlen(p->scheme);
    int rc = 0;
    if (registry_builtin(p->scheme, n) != NULL)
        return cb_error_set(err, CB_EEXISTS,
                            "store '%s' is built in; a store of that scheme cannot be added",
                            p->scheme);
    registered *r = cb__calloc(1, sizeof(*r), err);
    if (r == NULL)
        return CB_ENOMEM;
    if ((r->scheme = cb__strdup(p->scheme, err)) == NULL ||
        (origin != NULL && (r->origin = cb__strdup(origin, err)) == NULL)) {
        rc = CB_ENOMEM;
        goto done;
    }
    r->ctor = p->open;
    pthread_mutex_lock(&registry_lock);
    registered *old = registry_find(p->scheme, n);
    if (old == NULL) {
        r->next = registry_list;
        registry_list = r;
        r = NULL;
    } else if (existing != NULL) {
        *existing = old->ctor;
    } else {
        rc = cb_error_set(err, CB_EEXISTS, "a store '%s' is already registered%s%s", p->scheme,
                          old->origin ? " by the plugin " : "", old->origin ? old->origin : "");
    }
    pthread_mutex_unlock(&registry_lock);
done:
    if (r != NULL) {
        free(r->scheme);
        free(r->origin);
        free(r);
    }
    return rc;
}

int cb_store_register(const cb_store_plugin *plugin, cb_error *err)
{
    char origin[128];
    /* the scheme is read only once the layout is known to be this library's */
    int same = plugin != NULL && plugin->abi_version == CB_STORE_ABI_VERSION &&
               plugin->struct_size >= offsetof(cb_store_plugin, scheme) + sizeof(plugin->scheme) &&
               plugin->scheme != NULL;
    snprintf(origin, sizeof(origin), "store '%.64s'", same ? plugin->scheme : "(unknown)");
    int rc = cb__store_plugin_check(plugin, origin, err);
    return rc < 0 ? rc : registry_add(plugin, NULL, NULL, err);
}

/* The schemes registered so far, for messages ("" when none). */
static void registry_names(char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    pthread_mutex_lock(&registry_lock);
    for (registered *r = registry_list; r != NULL && len < cap; r = r->next) {
        int k = snprintf(out + len, cap - len, "%s%s://", len ? ", " : "", r->scheme);
        len += k > 0 ? (size_t)k : 0;
    }
    pthread_mutex_unlock(&registry_lock);
}

static int registry_unknown(const char *url, size_t n, const cb_store_opts *opts, cb_error *err)
{
    char names[256], dirs[512];
    registry_names(names, sizeof(names));
    cb__store_plugin_dirs(opts, dirs, sizeof(dirs));
    return cb_error_set(err, CB_EINVAL,
                        "store URL '%s': unknown store type '%.*s' (built in: posix:PATH, "
                        "file://PATH, swift://CONTAINER, s3://BUCKET%s%s; no plugin "
                        "cinderblock-store-%.*s.so in %s); write ./%s for a directory of that "
                        "name",
                        url, (int)n, url, names[0] ? "; registered: " : "", names, (int)n, url,
                        dirs, url);
}

int cb__store_resolve(const char *url,
                      const cb_store_opts *opts,
                      cb_store_ctor_fn *ctor_out,
                      const char **location_out,
                      cb_error *err)
{
    size_t n = cb__store_scheme_len(url, ':');
    int rc;
    if (n == 0) {
        *ctor_out = cb__posix_store_ctor;
        *location_out = url;
        return 0;
    }
    const char *rest = url + n + 1;
    const store_kind *k = registry_builtin(url, n);
    if (k != NULL) {
        if (k->slashes) {
            if (strncmp(rest, "//", 2) != 0)
                return cb_error_set(err, CB_EINVAL, "store URL '%s': expected '%s://'", url,
                                    k->scheme);
            rest += 2;
        }
        if (k->ctor == NULL)
            return cb_error_set(err, CB_ENOTSUPP,
                                "store URL '%s': the %s store is not built into this "
                                "cinderblock",
                                url, k->scheme);
        *ctor_out = k->ctor;
        *location_out = rest;
        return 0;
    }
    /* a store added at run time: SCHEME://LOCATION, or SCHEME:LOCATION */
    if (strncmp(rest, "//", 2) == 0)
        rest += 2;
    *location_out = rest;
    pthread_mutex_lock(&registry_lock);
    registered *r = registry_find(url, n);
    *ctor_out = r != NULL ? r->ctor : NULL;
    pthread_mutex_unlock(&registry_lock);
    if (*ctor_out != NULL)
        return 0;

    char scheme[CB_STORE_SCHEME_MAX + 1], *path = NULL;
    const cb_store_plugin *p = NULL;
    memcpy(scheme, url, n);
    scheme[n] = '\0';
    if ((rc = cb__store_plugin_load(scheme, opts, &p, &path, err)) < 0)
        return rc;
    if (p == NULL)
        return registry_unknown(url, n, opts, err);
    if ((rc = registry_add(p, path, ctor_out, err)) == 0 && *ctor_out == NULL)
        *ctor_out = p->open;
    free(path);
    return rc;
}
