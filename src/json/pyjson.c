/* SPDX-License-Identifier: Apache-2.0 */
/* pyjson.c: streaming JSON emitter matching Python's json.dumps() byte for byte. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyjson.h"

/* Bits of a container's state byte on j->stack. */
#define PYJSON_OBJECT 0x1
#define PYJSON_ARRAY 0x2
#define PYJSON_HAS_ITEMS 0x4

static const char pyjson_hex[] = "0123456789abcdef";

void cb_pyjson_init(cb_pyjson *j, int indent, cb_json_sink_fn sink, void *payload)
{
    memset(j, 0, sizeof(*j));
    cb_buf_init(&j->out);
    cb_buf_init(&j->stack);
    j->indent = indent > 0 ? indent : 0;
    j->sink = sink;
    j->payload = payload;
}

void cb_pyjson_dispose(cb_pyjson *j)
{
    if (j == NULL)
        return;
    cb_buf_dispose(&j->out);
    cb_buf_dispose(&j->stack);
}

int cb_pyjson_status(const cb_pyjson *j, cb_error *err)
{
    if (j->error.code == 0)
        return 0;
    if (err != NULL && err->code == 0)
        *err = j->error;
    return j->error.code;
}

static int pyjson_flush(cb_pyjson *j)
{
    if (j->sink == NULL || j->out.len == 0)
        return 0;
    int rc = j->sink(j->out.data, j->out.len, j->payload, &j->error);
    if (rc < 0)
        /* a sink that forgot to fill err still stops the emitter with a message */
        return cb_error_set(&j->error, rc, "JSON sink failed (%s)", cb_status_name(rc));
    j->flushed += j->out.len;
    cb_buf_reset(&j->out);
    return 0;
}

static int pyjson_put_indent(cb_pyjson *j, size_t depth)
{
    static const char spaces[] = "                                "; /* 32 */
    size_t n = depth * (size_t)j->indent;
    if (cb_buf_putc(&j->out, '\n', &j->error) < 0)
        return CB_ENOMEM;
    while (n > 0) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
        if (cb_buf_put(&j->out, spaces, k, &j->error) < 0)
            return CB_ENOMEM;
        n -= k;
    }
    return 0;
}

/* Separator before an item of the innermost container: "," or ", ", then the indentation. */
static int pyjson_item_sep(cb_pyjson *j)
{
    char *top = &j->stack.data[j->stack.len - 1];
    int first = (*top & PYJSON_HAS_ITEMS) == 0;
    *top |= PYJSON_HAS_ITEMS;
    if (!first && cb_buf_puts(&j->out, j->indent ? "," : ", ", &j->error) < 0)
        return CB_ENOMEM;
    return j->indent ? pyjson_put_indent(j, j->stack.len) : 0;
}

/* Common checks before any value; writes the array separator where one is due. */
static int pyjson_before_value(cb_pyjson *j)
{
    if (j->error.code != 0)
        return j->error.code;
    if (j->finished || (j->stack.len == 0 && j->top_done))
        return cb_error_set(&j->error, CB_EINVAL, "JSON emitter: a second top-level value%s",
                            j->finished ? " (after finish)" : "");
    if (j->stack.len == 0)
        return 0;
    if (j->stack.data[j->stack.len - 1] & PYJSON_OBJECT) {
        if (!j->after_key)
            return cb_error_set(&j->error, CB_EINVAL, "JSON emitter: object member without a key");
        j->after_key = 0;
        return 0;
    }
    return pyjson_item_sep(j);
}

static int pyjson_after_value(cb_pyjson *j)
{
    if (j->stack.len == 0)
        j->top_done = 1;
    return j->out.len >= CB_PYJSON_FLUSH_AT ? pyjson_flush(j) : 0;
}

static int pyjson_begin(cb_pyjson *j, char kind, char open)
{
    if (pyjson_before_value(j) < 0 || cb_buf_putc(&j->stack, kind, &j->error) < 0 ||
        cb_buf_putc(&j->out, open, &j->error) < 0)
        return j->error.code;
    return 0;
}

static int pyjson_end(cb_pyjson *j, char kind, char close)
{
    if (j->error.code != 0)
        return j->error.code;
    if (j->stack.len == 0 || (j->stack.data[j->stack.len - 1] & kind) == 0 || j->after_key)
        return cb_error_set(&j->error, CB_EINVAL, "JSON emitter: unbalanced end of %s",
                            kind == PYJSON_OBJECT ? "object" : "array");
    int had_items = (j->stack.data[--j->stack.len] & PYJSON_HAS_ITEMS) != 0;
    j->stack.data[j->stack.len] = '\0'; /* keep cb_buf's invariant */
    if (had_items && j->indent && pyjson_put_indent(j, j->stack.len) < 0)
        return j->error.code;
    if (cb_buf_putc(&j->out, close, &j->error) < 0)
        return j->error.code;
    return pyjson_after_value(j);
}

int cb_pyjson_begin_object(cb_pyjson *j, cb_error *err)
{
    pyjson_begin(j, PYJSON_OBJECT, '{');
    return cb_pyjson_status(j, err);
}

int cb_pyjson_end_object(cb_pyjson *j, cb_error *err)
{
    pyjson_end(j, PYJSON_OBJECT, '}');
    return cb_pyjson_status(j, err);
}

int cb_pyjson_begin_array(cb_pyjson *j, cb_error *err)
{
    pyjson_begin(j, PYJSON_ARRAY, '[');
    return cb_pyjson_status(j, err);
}

int cb_pyjson_end_array(cb_pyjson *j, cb_error *err)
{
    pyjson_end(j, PYJSON_ARRAY, ']');
    return cb_pyjson_status(j, err);
}

/*
 * Decode one UTF-8 sequence at s[*i]. Rejects what Python's strict decoder rejects:
 * truncated or stray continuation bytes, overlong forms, surrogates, and values past U+10FFFF.
 */
static int pyjson_utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp_out)
{
    static const uint32_t min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
    unsigned char c = s[*i];
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (n == 0 || c >= 0xF8 || *i + n > len)
        return -1;
    uint32_t cp = c & (0x7F >> n);
    for (size_t k = 1; k < n; k++) {
        if ((s[*i + k] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[*i + k] & 0x3F);
    }
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *i += n;
    *cp_out = cp;
    return 0;
}

static int pyjson_put_u(cb_buf *out, uint32_t unit, cb_error *err)
{
    char e[6] = { '\\', 'u' };
    for (int k = 0; k < 4; k++)
        e[2 + k] = pyjson_hex[(unit >> (12 - 4 * k)) & 0xF];
    return cb_buf_put(out, e, sizeof(e), err);
}

/* The escape for one ASCII byte that is not copied as is (py_encode_basestring_ascii). */
static int pyjson_escape_ascii(cb_buf *out, unsigned char c, cb_error *err)
{
    static const char plain[] = "\"\\\n\r\t\b\f", escaped[] = "\"\\nrtbf";
    const char *hit = memchr(plain, c, sizeof(plain) - 1); /* never matches NUL */
    if (hit == NULL)
        return pyjson_put_u(out, c, err);
    char e[2] = { '\\', escaped[hit - plain] };
    return cb_buf_put(out, e, 2, err);
}

int cb_pyjson_escape(cb_buf *out, const char *str, size_t len, cb_error *err)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    if (cb_buf_reserve(out, len + 2, err) < 0 || cb_buf_putc(out, '"', err) < 0)
        return CB_ENOMEM;
    while (i < len) {
        size_t run = i;
        while (run < len && s[run] >= 0x20 && s[run] <= 0x7E && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i && cb_buf_put(out, s + i, run - i, err) < 0)
            return CB_ENOMEM;
        if ((i = run) == len)
            break;
        if (s[i] < 0x80) {
            if (pyjson_escape_ascii(out, s[i++], err) < 0)
                return CB_ENOMEM;
            continue;
        }
        uint32_t cp;
        size_t at = i;
        if (pyjson_utf8_next(s, len, &i, &cp) < 0)
            return cb_error_set(err, CB_EINVAL,
                                "JSON string: invalid UTF-8 at byte %zu (0x%02x) of %zu", at, s[at],
                                len);
        if (cp >= 0x10000) { /* UTF-16 surrogate pair, as Python writes it */
            cp -= 0x10000;
            if (pyjson_put_u(out, 0xD800 + (cp >> 10), err) < 0)
                return CB_ENOMEM;
            cp = 0xDC00 + (cp & 0x3FF);
        }
        if (pyjson_put_u(out, cp, err) < 0)
            return CB_ENOMEM;
    }
    return cb_buf_putc(out, '"', err);
}

int cb_pyjson_keyn(cb_pyjson *j, const char *key, size_t len, cb_error *err)
{
    if (j->error.code != 0)
        return cb_pyjson_status(j, err);
    if (j->finished || j->stack.len == 0 || !(j->stack.data[j->stack.len - 1] & PYJSON_OBJECT) ||
        j->after_key) {
        cb_error_set(&j->error, CB_EINVAL, "JSON emitter: key outside an object or after a key");
        return cb_pyjson_status(j, err);
    }
    if (pyjson_item_sep(j) == 0 && cb_pyjson_escape(&j->out, key, len, &j->error) == 0 &&
        cb_buf_put(&j->out, ": ", 2, &j->error) == 0)
        j->after_key = 1;
    return cb_pyjson_status(j, err);
}

int cb_pyjson_key(cb_pyjson *j, const char *key, cb_error *err)
{
    return cb_pyjson_keyn(j, key, strlen(key), err);
}

/* Emit a scalar whose text is already known to be valid JSON. */
static int pyjson_raw_value(cb_pyjson *j, const char *text, size_t len)
{
    if (pyjson_before_value(j) < 0 || cb_buf_put(&j->out, text, len, &j->error) < 0)
        return j->error.code;
    return pyjson_after_value(j);
}

int cb_pyjson_stringn(cb_pyjson *j, const char *s, size_t len, cb_error *err)
{
    if (pyjson_before_value(j) == 0 && cb_pyjson_escape(&j->out, s, len, &j->error) == 0)
        pyjson_after_value(j);
    return cb_pyjson_status(j, err);
}

int cb_pyjson_plain_stringn(cb_pyjson *j, const char *s, size_t len, cb_error *err)
{
    char text[256];
    if (len > sizeof(text) - 2)
        return cb_pyjson_stringn(j, s, len, err);
    text[0] = '"';
    memcpy(text + 1, s, len);
    text[len + 1] = '"';
    pyjson_raw_value(j, text, len + 2);
    return cb_pyjson_status(j, err);
}

int cb_pyjson_string(cb_pyjson *j, const char *s, cb_error *err)
{
    if (s == NULL)
        return cb_pyjson_null(j, err);
    return cb_pyjson_stringn(j, s, strlen(s), err);
}

int cb_pyjson_int(cb_pyjson *j, int64_t v, cb_error *err)
{
    char text[24];
    int n = snprintf(text, sizeof(text), "%" PRId64, v);
    pyjson_raw_value(j, text, (size_t)n);
    return cb_pyjson_status(j, err);
}

int cb_pyjson_uint(cb_pyjson *j, uint64_t v, cb_error *err)
{
    char text[24];
    int n = snprintf(text, sizeof(text), "%" PRIu64, v);
    pyjson_raw_value(j, text, (size_t)n);
    return cb_pyjson_status(j, err);
}

int cb_pyjson_null(cb_pyjson *j, cb_error *err)
{
    pyjson_raw_value(j, "null", 4);
    return cb_pyjson_status(j, err);
}

int cb_pyjson_bool(cb_pyjson *j, int v, cb_error *err)
{
    pyjson_raw_value(j, v ? "true" : "false", v ? 4 : 5);
    return cb_pyjson_status(j, err);
}

int cb_pyjson_real(cb_pyjson *j, double v, cb_error *err)
{
    if (pyjson_before_value(j) == 0 && cb_pyjson_format_real(&j->out, v, &j->error) == 0)
        pyjson_after_value(j);
    return cb_pyjson_status(j, err);
}

int cb_pyjson_finish(cb_pyjson *j, cb_error *err)
{
    if (j->error.code == 0 && !j->finished) {
        if (j->stack.len != 0 || !j->top_done)
            cb_error_set(&j->error, CB_EINVAL, "JSON emitter: finished with %s",
                         j->stack.len != 0 ? "unclosed containers" : "no value");
        else if (pyjson_flush(j) == 0)
            j->finished = 1;
    }
    return cb_pyjson_status(j, err);
}

uint64_t cb_pyjson_size(const cb_pyjson *j)
{
    return j->flushed + j->out.len;
}

char *cb_pyjson_detach(cb_pyjson *j, size_t *len_out)
{
    if (!j->finished || j->sink != NULL || j->error.code != 0)
        return NULL;
    if (len_out != NULL)
        *len_out = j->out.len;
    return cb_buf_detach(&j->out);
}
