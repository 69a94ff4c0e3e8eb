/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pyjson_value.c: the parts of the emitter that imitate Python beyond plain text: repr() of
 * floats, and re-emitting a jansson value with sorted keys (json.dumps(sort_keys=True)).
 */
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyjson.h"
#include "../util/util.h"

/*
 * Try the p-digit decimals nearest to v: the correctly rounded one first, then its two
 * neighbours, because at a power of two the round-trip interval is lopsided and only the
 * neighbour on the wide side may read back as v. Sets digits/decpt on success.
 */
static int pyjson_try_prec(double v, int prec, char digits[24], int *decpt_out)
{
    char text[40];
    snprintf(text, sizeof(text), "%.*e", prec, v); /* "D[.DDDD]e[+-]XX" */
    char *e = strchr(text, 'e');
    int q = atoi(e + 1) - prec; /* v ~ m * 10^q */
    uint64_t m = 0;
    for (const char *c = text; c < e; c++)
        if (*c != '.')
            m = m * 10 + (uint64_t)(*c - '0');
    for (int delta = 0; delta < 3; delta++) {
        uint64_t cand = delta == 0 ? m : delta == 1 ? m + 1 : m - 1;
        if (delta == 2 && m == 0)
            break;
        snprintf(text, sizeof(text), "%" PRIu64 "e%d", cand, q);
        if (strtod(text, NULL) != v)
            continue;
        int n = snprintf(digits, 24, "%" PRIu64, cand);
        *decpt_out = n + q;
        while (n > 1 && digits[n - 1] == '0')
            digits[--n] = '\0';
        return 1;
    }
    return 0;
}

/*
 * Shortest decimal digits that read back as v (v >= 0, finite), as Python's repr() picks
 * them, and the decimal point position: v = 0.DIGITS * 10^decpt. The C locale is forced
 * because printf and strtod would otherwise honour a decimal comma.
 */
static int pyjson_shortest(double v, char digits[24], int *decpt_out, cb_error *err)
{
    locale_t c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (c_locale == (locale_t)0)
        return cb_error_set(err, CB_ENOMEM, "JSON: cannot create the C locale");
    locale_t old = uselocale(c_locale);
    /* 17 significant digits always round-trip */
    for (int prec = 0; prec < 17 && !pyjson_try_prec(v, prec, digits, decpt_out); prec++)
        ;
    uselocale(old);
    freelocale(c_locale);
    return 0;
}

int cb_pyjson_format_real(cb_buf *out, double v, cb_error *err)
{
    static const char zeros[] = "0000000000000000"; /* the most a fixed-form repr needs */
    char digits[24], text[64];
    int decpt = 0, n = 0, rc;
    if (!isfinite(v))
        return cb_error_set(err, CB_EINVAL, "JSON: %s is not a JSON number",
                            isnan(v) ? "NaN" : "an infinity");
    if ((rc = pyjson_shortest(fabs(v), digits, &decpt, err)) < 0)
        return rc;
    int nd = (int)strlen(digits);
    const char *sign = signbit(v) ? "-" : "";
    /* the same cases as CPython's format_float_short() for repr */
    if (decpt <= -4 || decpt > 16)
        n = snprintf(text, sizeof(text), "%s%c%s%se%c%02d", sign, digits[0], nd > 1 ? "." : "",
                     digits + 1, decpt > 0 ? '+' : '-', abs(decpt - 1));
    else if (decpt <= 0)
        n = snprintf(text, sizeof(text), "%s0.%.*s%s", sign, -decpt, zeros, digits);
    else if (decpt >= nd)
        n = snprintf(text, sizeof(text), "%s%s%.*s.0", sign, digits, decpt - nd, zeros);
    else
        n = snprintf(text, sizeof(text), "%s%.*s.%s", sign, decpt, digits, digits + decpt);
    return cb_buf_put(out, text, (size_t)n, err);
}

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
