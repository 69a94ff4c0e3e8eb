/* SPDX-License-Identifier: Apache-2.0 */
/* buf.h: a growable byte buffer, embedded in the caller's memory (init / dispose). */
#ifndef CB_UTIL_BUF_H
#define CB_UTIL_BUF_H

#include <stddef.h>

#include "cinderblock/common.h"

typedef struct cb_buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
} cb_buf;

#define CB_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void cb_buf_init(cb_buf *b);
void cb_buf_dispose(cb_buf *b);
void cb_buf_reset(cb_buf *b); /* length 0, keeps the memory */
int cb_buf_reserve(cb_buf *b, size_t extra, cb_error *err);
int cb_buf_put(cb_buf *b, const void *data, size_t len, cb_error *err);
int cb_buf_puts(cb_buf *b, const char *s, cb_error *err);
int cb_buf_putc(cb_buf *b, char c, cb_error *err);
int cb_buf_printf(cb_buf *b, cb_error *err, const char *fmt, ...) CB_PRINTF(3, 4);
/* Hand the data over to the caller (free() it); the buffer is left empty. */
char *cb_buf_detach(cb_buf *b);

#endif
