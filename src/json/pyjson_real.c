/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pyjson_real.c: a float as Python's repr() writes it, the shortest decimal that reads
 * back as the same double (json.dumps uses repr for floats). Written by hand: neither
 * libc's printf nor the JSON libraries in Debian produce repr's digits and forms.
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
