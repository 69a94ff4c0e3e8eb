/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc.c: allocation wrappers; the library never aborts when memory runs out.
 *
 * Every allocation of the library goes through here, so that tests can fail the Nth one
 * (curl's torture mode): each wrapper first asks cb__alloc_fails(). The library's own
 * definition is weak and says no; a test program that links the static archive overrides
 * it with a strong one (tests/helpers/allocfail.c). The symbol is hidden like every cb__
 * name, so libcinderblock.so neither exports it nor lets a program replace it: its calls
 * bind to its own definition when the shared library is linked.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

__attribute__((weak)) int cb__alloc_fails(size_t size)
{
    (void)size;
    return 0;
}

static void *alloc_check(void *p, size_t size, cb_error *err)
{
    if (p == NULL)
        cb_error_set(err, CB_ENOMEM, "out of memory (%zu bytes)", size);
    return p;
}

void *cb__malloc(size_t size, cb_error *err)
{
    return alloc_check(cb__alloc_fails(size) ? NULL : malloc(size ? size : 1), size, err);
}

void *cb__calloc(size_t n, size_t size, cb_error *err)
{
    return alloc_check(cb__alloc_fails(n * size) ? NULL : calloc(n ? n : 1, size ? size : 1),
                       n * size, err);
}

void *cb__realloc(void *ptr, size_t size, cb_error *err)
{
    /* a failing realloc leaves `ptr` as it was, and so does a simulated failure */
    return alloc_check(cb__alloc_fails(size) ? NULL : realloc(ptr, size ? size : 1), size, err);
}

void *cb__aligned_alloc(size_t align, size_t size, cb_error *err)
{
    void *p = NULL;
    if (!cb__alloc_fails(size) && posix_memalign(&p, align, size ? size : 1) != 0)
        p = NULL;
    return alloc_check(p, size, err);
}

char *cb__strdup(const char *s, cb_error *err)
{
    return cb__strndup(s, strlen(s), err);
}

char *cb__strndup(const char *s, size_t n, cb_error *err)
{
    char *p = cb__malloc(n + 1, err);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *cb__asprintf(cb_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        cb_error_set(err, CB_ERROR, "bad format string");
        return NULL;
    }
    char *p = cb__malloc((size_t)n + 1, err);
    if (p == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
