/* SPDX-License-Identifier: Apache-2.0 */
/* registry.c: choose a store by URL ("PATH", "posix:PATH", "file://PATH", "swift://C", ...). */
#include <string.h>

#include "registry.h"
#include "posix/posix.h"
#ifdef CB_HAVE_SWIFT
#include "swift/swift.h"
#endif
#ifdef CB_HAVE_S3
#include "s3/s3.h"
#endif

typedef struct store_kind {
    const char *scheme;
    int slashes;        /* 1: the scheme is written "scheme://" */
    cb_store_ctor ctor; /* NULL: known but not built in */
} store_kind;

static const store_kind registry_kinds[] = {
    { "posix", 0, cb__posix_store_ctor }, { "file", 1, cb__posix_store_ctor },
    { "mem", 0, cb__mem_store_ctor },
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

/* A scheme is letters, digits, '+', '-', '.', starting with a letter, before the first ':'
 * and before any '/'. Anything else is a plain path. */
static size_t registry_scheme_len(const char *url)
{
    size_t i = 0;
    if (!((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z')))
        return 0;
    while (url[i] != '\0' && url[i] != ':') {
        char c = url[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.'))
            return 0;
        i++;
    }
    return url[i] == ':' ? i : 0;
}

int cb__store_resolve(const char *url,
                      cb_store_ctor *ctor_out,
                      const char **location_out,
                      cb_error *err)
{
    size_t n = registry_scheme_len(url);
    if (n == 0) {
        *ctor_out = cb__posix_store_ctor;
        *location_out = url;
        return 0;
    }
    for (size_t i = 0; i < sizeof(registry_kinds) / sizeof(registry_kinds[0]); i++) {
        const store_kind *k = &registry_kinds[i];
        if (strlen(k->scheme) != n || strncmp(k->scheme, url, n) != 0)
            continue;
        const char *rest = url + n + 1;
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
    return cb_error_set(err, CB_EINVAL,
                        "store URL '%s': unknown store type '%.*s' (known: posix:PATH, "
                        "file://PATH, swift://CONTAINER, s3://BUCKET, mem:); write ./%s for a "
                        "directory of that name",
                        url, (int)n, url, url);
}
