/* SPDX-License-Identifier: Apache-2.0 */
/* creds_table.c: the resolved settings of a store (creds.h) and the getenv that reads them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "../util/util.h"

static const char *creds_nonempty(const char *v)
{
    return v != NULL && v[0] != '\0' ? v : NULL;
}

const char *cb__creds_base(const cb_creds *c, const char *name)
{
    if (c->base != NULL)
        return creds_nonempty(c->base(name, c->base_payload));
    return creds_nonempty(getenv(name));
}

const char *cb__creds_get(const cb_creds *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->names[i], name) == 0)
            return c->values[i];
    return cb__creds_base(c, name);
}

const char *cb__creds_getenv(const char *name, void *payload)
{
    return cb__creds_get(payload, name);
}

static void creds_wipe(char *s)
{
    if (s != NULL)
        memset(s, 0, strlen(s));
    free(s);
}

int cb__creds_set(cb_creds *c, const char *name, const char *value, cb_error *err)
{
    char *v = cb__strdup(value, err);
    if (v == NULL)
        return CB_ENOMEM;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->names[i], name) == 0) {
            creds_wipe(c->values[i]);
            c->values[i] = v;
            return 0;
        }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        char **nn = cb__realloc(c->names, cap * sizeof(*nn), err);
        if (nn == NULL)
            goto nomem;
        c->names = nn;
        char **vv = cb__realloc(c->values, cap * sizeof(*vv), err);
        if (vv == NULL)
            goto nomem;
        c->values = vv;
        c->cap = cap;
    }
    if ((c->names[c->n] = cb__strdup(name, err)) == NULL)
        goto nomem;
    c->values[c->n++] = v;
    return 0;
nomem:
    creds_wipe(v);
    return CB_ENOMEM;
}

void cb__creds_free(cb_creds *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->names[i]);
        creds_wipe(c->values[i]);
    }
    free(c->names);
    free(c->values);
    free(c);
}

int cb__creds_read_file(const char *path, const char *what, char **out, size_t max, cb_error *err)
{
    cb_buf b = CB_BUF_INIT;
    int rc = 0;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return cb_error_set_sys(err, CB_EAUTH, errno, "cannot read %s '%s'", what, path);
    for (;;) {
        if ((rc = cb_buf_reserve(&b, 4096, err)) < 0)
            break;
        size_t n = fread(b.data + b.len, 1, 4096, f);
        b.len += n;
        b.data[b.len] = '\0';
        if (b.len > max) {
            rc = cb_error_set(err, CB_EAUTH, "%s '%s' is larger than %zu bytes", what, path, max);
            break;
        }
        if (n < 4096) {
            if (ferror(f))
                rc = cb_error_set_sys(err, CB_EAUTH, errno, "cannot read %s '%s'", what, path);
            break;
        }
    }
    fclose(f);
    if (rc == 0 && b.data == NULL && (rc = cb_buf_reserve(&b, 1, err)) == 0)
        b.data[0] = '\0';
    if (rc < 0) {
        if (b.data != NULL)
            memset(b.data, 0, b.cap);
        cb_buf_dispose(&b);
        return rc;
    }
    *out = cb_buf_detach(&b);
    return 0;
}
