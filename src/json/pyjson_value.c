/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pyjson_value.c: re-emitting a jansson value with sorted keys, as Python's
 * json.dumps(sort_keys=True) does (floats: pyjson_real.c).
 */
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyjson.h"
#include "../util/util.h"

typedef struct pyjson_member {
    const char *key;
    size_t len;
    json_t *value;
} pyjson_member;

/* Byte order of UTF-8 keys equals the code point order that Python's sort_keys uses. */
static int pyjson_member_cmp(const void *a, const void *b)
{
    const pyjson_member *x = a, *y = b;
    int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    if (c != 0)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

static int pyjson_value_at(cb_pyjson *j, const json_t *v, int depth);

static int pyjson_object(cb_pyjson *j, const json_t *obj, int depth)
{
    /* jansson's iterators take a non-const object; nothing is modified */
    json_t *o = (json_t *)obj;
    size_t n = 0, size = json_object_size(o);
    pyjson_member *m = cb__calloc(size, sizeof(*m), &j->error);
    if (m == NULL)
        return CB_ENOMEM;
    for (void *it = json_object_iter(o); it != NULL && n < size;
         it = json_object_iter_next(o, it)) {
        m[n].key = json_object_iter_key(it);
        m[n].len = json_object_iter_key_len(it);
        m[n++].value = json_object_iter_value(it);
    }
    qsort(m, n, sizeof(*m), pyjson_member_cmp);
    int rc = cb_pyjson_begin_object(j, NULL);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = cb_pyjson_keyn(j, m[i].key, m[i].len, NULL);
        if (rc == 0)
            rc = pyjson_value_at(j, m[i].value, depth + 1);
    }
    if (rc == 0)
        rc = cb_pyjson_end_object(j, NULL);
    free(m);
    return rc;
}

static int pyjson_array(cb_pyjson *j, const json_t *arr, int depth)
{
    int rc = cb_pyjson_begin_array(j, NULL);
    for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++)
        rc = pyjson_value_at(j, json_array_get(arr, i), depth + 1);
    return rc == 0 ? cb_pyjson_end_array(j, NULL) : rc;
}

static int pyjson_value_at(cb_pyjson *j, const json_t *v, int depth)
{
    if (v == NULL || depth > CB_PYJSON_MAX_DEPTH)
        return cb_error_set(&j->error, CB_EINVAL, "JSON emitter: %s",
                            v == NULL ? "NULL json_t value" : "value nested too deeply");
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return pyjson_object(j, v, depth);
    case JSON_ARRAY:
        return pyjson_array(j, v, depth);
    case JSON_STRING:
        return cb_pyjson_stringn(j, json_string_value(v), json_string_length(v), NULL);
    case JSON_INTEGER:
        return cb_pyjson_int(j, (int64_t)json_integer_value(v), NULL);
    case JSON_REAL:
        return cb_pyjson_real(j, json_real_value(v), NULL);
    case JSON_TRUE:
    case JSON_FALSE:
        return cb_pyjson_bool(j, json_is_true(v), NULL);
    default:
        return cb_pyjson_null(j, NULL);
    }
}

int cb_pyjson_value(cb_pyjson *j, const json_t *v, cb_error *err)
{
    if (j->error.code == 0)
        pyjson_value_at(j, v, 1);
    return cb_pyjson_status(j, err);
}
