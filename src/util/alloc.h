/* SPDX-License-Identifier: Apache-2.0 */
/* alloc.h: allocation wrappers that report failure through cb_error. */
#ifndef CB_UTIL_ALLOC_H
#define CB_UTIL_ALLOC_H

#include <stdlib.h>

#include "cinderblock/common.h"

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

#endif
