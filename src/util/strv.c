/* SPDX-License-Identifier: Apache-2.0 */
/* strv.c: see strv.h. */
#include <stdlib.h>
#include <string.h>

#include "util.h"

int cb__strv_push(cb_strv *sv, const char *s)
{
    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 16;
        char **v = cb__realloc(sv->v, cap * sizeof(*v), sv->err);
        if (v == NULL)
            return CB_ENOMEM;
        sv->v = v;
        sv->cap = cap;
    }
    if ((sv->v[sv->n] = cb__strdup(s, sv->err)) == NULL)
        return CB_ENOMEM;
    sv->n++;
    return 0;
}

int cb__strv_collect(const char *name, void *payload)
{
    return cb__strv_push(payload, name);
}

int cb__strv_has(const cb_strv *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0)
            return 1;
    return 0;
}

void cb__strv_dispose(cb_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}
