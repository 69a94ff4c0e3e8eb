/* SPDX-License-Identifier: Apache-2.0 */
/* ids.c: backup ids as the user types them: whole, or a unique prefix of 8 characters. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

/* Keep `s` until the command ends (cli_dispose). */
static int ids_keep(cli *c, char *s)
{
    char **v = realloc(c->owned, (c->n_owned + 1) * sizeof(*v));
    if (v == NULL) {
        free(s);
        cb_error err = { 0 };
        cb_error_set(&err, CB_ENOMEM, "out of memory");
        return cli_fail(c, &err);
    }
    c->owned = v;
    c->owned[c->n_owned++] = s;
    return 0;
}

/* Text that is no prefix of a UUID at all goes to the command as it is, which names it. */
static int ids_is_prefix(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= 36)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) && s[i] != '-')
            return 0;
    return 1;
}

/* The exit code for a failed resolution: a prefix that names no single backup is a usage
 * error (2: too short, or ambiguous); one that names none is 10. */
static int ids_fail(cli *c, const cb_error *err)
{
    if (err->code == CB_EINVAL)
        return cli_usage_error(c, NULL, "%s", err->msg);
    return cli_fail(c, err);
}

int cli_resolve_id(cli *c, const char *arg, char **full)
{
    cb_error err = { 0 };
    char *id = NULL;
    *full = (char *)arg;
    if (!ids_is_prefix(arg))
        return 0;
    if (cb_backup_resolve_id(c->store, arg, &id, &err) < 0)
        return ids_fail(c, &err);
    *full = id;
    return ids_keep(c, id);
}

int cli_resolve_resume_id(cli *c, const char *arg, char **full)
{
    cb_leftover *v = NULL;
    size_t n = 0, k = 0, len = strlen(arg);
    const char *match = NULL;
    cb_error err = { 0 };
    int rc = 0;

    *full = (char *)arg;
    if (!ids_is_prefix(arg))
        return 0;
    if (len < 8) {
        cb_error_set(&err, CB_EINVAL,
                     "backup id prefix '%s' is too short: give at least 8 characters", arg);
        return ids_fail(c, &err);
    }
    if (cb_leftover_list(c->store, &v, &n, &err) < 0)
        return cli_fail(c, &err);
    for (size_t i = 0; i < n; i++) {
        const char *id = v[i].backup_id;
        if (id == NULL || strncasecmp(id, arg, len) != 0 || (match && strcmp(match, id) == 0))
            continue;
        k++;
        if (match == NULL)
            match = id;
    }
    if (k == 1) {
        char *id = strdup(match);
        if (id == NULL)
            cb_error_set(&err, CB_ENOMEM, "out of memory");
        else if ((rc = ids_keep(c, id)) == 0)
            *full = id;
    } else if (k == 0) {
        cb_error_set(&err, CB_ENOTFOUND,
                     "no interrupted backup (list --incomplete) has an id starting with '%s'", arg);
    } else {
        cb_error_set(&err, CB_EINVAL,
                     "backup id prefix '%s' is ambiguous: %zu interrupted backups start with it "
                     "(list --incomplete); give more of the id",
                     arg, k);
    }
    cb_leftover_free_array(v, n);
    if (err.code != 0)
        return ids_fail(c, &err);
    return rc;
}

void cli_dispose(cli *c)
{
    for (size_t i = 0; i < c->n_owned; i++)
        free(c->owned[i]);
    free(c->owned);
    c->owned = NULL;
    c->n_owned = 0;
}
