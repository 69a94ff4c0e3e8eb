/* SPDX-License-Identifier: Apache-2.0 */
/* resolve.c: a backup named by a unique prefix of its id, as restic and git take them. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "../util/util.h"
#include "../format/format.h"

#define RESOLVE_MIN 8    /* the shortest prefix taken */
#define RESOLVE_LISTED 5 /* candidates named in the message of an ambiguous prefix */

/* The distinct ids of `found` that start with `want` (lowercase), in `*out`. */
static int resolve_match(const cb_found *found,
                         size_t n,
                         const char *want,
                         const char ***out,
                         size_t *n_out,
                         cb_error *err)
{
    const char **v = cb__calloc(n + 1, sizeof(*v), err);
    size_t k = 0, len = strlen(want);
    if (v == NULL)
        return CB_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *id = found[i].parts.backup_id;
        size_t j;
        if (strncmp(id, want, len) != 0)
            continue;
        for (j = 0; j < k && strcmp(v[j], id) != 0; j++)
            ;
        if (j == k) /* a backup found in two containers is one candidate */
            v[k++] = id;
    }
    *out = v;
    *n_out = k;
    return 0;
}

/* CB_EINVAL naming the prefix and its first candidates. */
static int resolve_ambiguous(const char *prefix, const char **v, size_t n, cb_error *err)
{
    char list[RESOLVE_LISTED * (CB_UUID_LEN + 2) + 16] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && i < RESOLVE_LISTED; i++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", v[i]);
    if (n > RESOLVE_LISTED)
        snprintf(list + used, sizeof(list) - used, ", ...");
    return cb_error_set(err, CB_EINVAL,
                        "backup id prefix '%s' is ambiguous: %zu backups start with it (%s); "
                        "give more of the id",
                        prefix, n, list);
}

int cb_backup_resolve_id(cb_store *store, const char *prefix, char **full, cb_error *err)
{
    char want[CB_UUID_LEN + 1];
    size_t len = strlen(prefix);
    cb_found *found = NULL;
    const char **v = NULL;
    size_t n = 0, k = 0;
    int rc;

    *full = NULL;
    if (len == CB_UUID_LEN) { /* a whole id: the command that uses it finds it or not */
        if ((rc = cb__uuid_normalize(want, prefix, "backup id", err)) < 0)
            return rc;
        return (*full = cb__strdup(want, err)) != NULL ? 0 : CB_ENOMEM;
    }
    for (size_t i = 0; i < len; i++)
        if (len > CB_UUID_LEN || !(isxdigit((unsigned char)prefix[i]) || prefix[i] == '-'))
            return cb_error_set(err, CB_EINVAL,
                                "backup id '%s' is not a UUID or the beginning of one", prefix);
    if (len < RESOLVE_MIN)
        return cb_error_set(err, CB_EINVAL,
                            "backup id prefix '%s' is too short: give at least %d characters",
                            prefix, RESOLVE_MIN);
    for (size_t i = 0; i <= len; i++)
        want[i] = (char)tolower((unsigned char)prefix[i]);
    if ((rc = cb__catalog_scan(store, &found, &n, err)) < 0 ||
        (rc = resolve_match(found, n, want, &v, &k, err)) < 0)
        goto done;
    if (k == 0)
        rc = cb_error_set(err, CB_ENOTFOUND, "no backup id in the store starts with '%s'", prefix);
    else if (k > 1)
        rc = resolve_ambiguous(prefix, v, k, err);
    else if ((*full = cb__strdup(v[0], err)) == NULL)
        rc = CB_ENOMEM;
done:
    free(v);
    cb__catalog_free(found, n);
    return rc;
}
