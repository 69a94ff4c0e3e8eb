/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util.h: the interface of src/util/, what every layer above uses and that knows nothing
 * of backups: allocation that reports through cb_error, growable buffers and string
 * lists, hex digits, thread counts and timed waits, declared here; O_DIRECT writing in
 * dio.h, which this includes.
 */
#ifndef CB_UTIL_UTIL_H
#define CB_UTIL_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "cinderblock/common.h"

/* ---- allocation (alloc.c): failures reported through cb_error ---- */

/* Each returns NULL and sets CB_ENOMEM in err (if given) when memory runs out. */
void *cb__malloc(size_t size, cb_error *err);
void *cb__calloc(size_t n, size_t size, cb_error *err);
void *cb__realloc(void *ptr, size_t size, cb_error *err);
/* `size` bytes aligned to `align` (a power of two, a multiple of sizeof(void *)); free(). */
void *cb__aligned_alloc(size_t align, size_t size, cb_error *err);
char *cb__strdup(const char *s, cb_error *err);
char *cb__strndup(const char *s, size_t n, cb_error *err);
char *cb__asprintf(cb_error *err, const char *fmt, ...) CB_PRINTF(2, 3);

/*
 * Whether the allocation about to be made (of `size` bytes) must fail: 0 in the library.
 * A weak symbol that test programs linking the static archive replace, to fail the Nth
 * allocation (tests/helpers/allocfail.h); the shared library ignores any replacement.
 * Called from any thread.
 */
int cb__alloc_fails(size_t size);

/* ---- a growable byte buffer, embedded in the caller's memory (buf.c) ---- */

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

/* ---- a growable array of owned strings, such as a listing's names (strv.c) ---- */

typedef struct cb_strv {
    char **v;
    size_t n, cap;
    cb_error *err; /* where a failed allocation is reported */
} cb_strv;

/* Append a copy of `s`. 0 or CB_ENOMEM (in sv->err). */
int cb__strv_push(cb_strv *sv, const char *s);

/* A cb_list_fn (payload: a cb_strv) that keeps every name listed. */
int cb__strv_collect(const char *name, void *payload);

/* Whether `s` is among the strings. */
int cb__strv_has(const cb_strv *sv, const char *s);

void cb__strv_dispose(cb_strv *sv); /* the strings and the array; sv may be reused */

/* ---- bytes as hex digits and back: digests, ETags, percent-encoding (hex.c) ---- */

/* Lowercase hex of `n` bytes into `out` (2n+1 bytes, NUL-terminated). */
void cb__hex(char *out, const unsigned char *in, size_t n);

/* The 2n digits alone, without a NUL, lowercase or (`upper`) uppercase: percent-encoding
 * writes "%2F" inside a longer string, and RFC 3986 §2.1 prefers upper case there. */
void cb__hex_digits(char *out, const unsigned char *in, size_t n, int upper);

/* Parse 2n hex digits (either case); -1 if malformed. */
int cb__unhex(unsigned char *out, const char *in, size_t n);

/* ---- how many worker threads a `threads` option means (threads.c) ---- */

/* `threads` if positive, else the online CPUs; always 1 to 256. */
int cb__threads(int threads);

/* ---- waiting on a condition variable for at most some milliseconds (wait.c) ---- */

/* pthread_cond_timedwait() for `ms` milliseconds from now; `m` is held, as for it. The
 * supervising loops (committer, restore, verify) wake this often to report progress and
 * poll the cancel hook even when no worker signals. */
void cb__cond_wait_ms(pthread_cond_t *c, pthread_mutex_t *m, long ms);

#include "dio.h"

#endif
