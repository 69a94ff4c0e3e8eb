/* SPDX-License-Identifier: Apache-2.0 */
/* buf.c: growable byte buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void cb_buf_init(cb_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void cb_buf_dispose(cb_buf *b)
{
    free(b->data);
    cb_buf_init(b);
}

void cb_buf_reset(cb_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

int cb_buf_reserve(cb_buf *b, size_t extra, cb_error *err)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = cb__realloc(b->data, cap, err);
    if (p == NULL)
        return CB_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int cb_buf_put(cb_buf *b, const void *data, size_t len, cb_error *err)
{
    if (cb_buf_reserve(b, len, err) < 0)
        return CB_ENOMEM;
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int cb_buf_puts(cb_buf *b, const char *s, cb_error *err)
{
    return cb_buf_put(b, s, strlen(s), err);
}

int cb_buf_putc(cb_buf *b, char c, cb_error *err)
{
    return cb_buf_put(b, &c, 1, err);
}

int cb_buf_printf(cb_buf *b, cb_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return cb_error_set(err, CB_ERROR, "bad format string");
    if (cb_buf_reserve(b, (size_t)n, err) < 0)
        return CB_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *cb_buf_detach(cb_buf *b)
{
    char *p = b->data;
    if (p == NULL)
        p = cb__calloc(1, 1, NULL);
    cb_buf_init(b);
    return p;
}
