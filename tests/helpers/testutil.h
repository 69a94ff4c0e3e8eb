/* SPDX-License-Identifier: Apache-2.0 */
/* testutil.h: helpers shared by the C test programs (cmocka). */
#ifndef CB_TESTUTIL_H
#define CB_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cinderblock/cb.h"

/* Assert a failure's code and that its message mentions `substr`. */
#define assert_cb_error(e, want, substr)                                                           \
    do {                                                                                           \
        if ((e)->code != (want) || strstr((e)->msg, (substr)) == NULL)                             \
            print_error("cb_error: got %s \"%s\", want %s containing \"%s\"\n",                    \
                        cb_status_name((e)->code), (e)->msg, cb_status_name(want), (substr));      \
        assert_int_equal((e)->code, (want));                                                       \
        assert_non_null(strstr((e)->msg, (substr)));                                               \
    } while (0)

/* Assert success, printing the error text if not. */
#define assert_cb_ok(rc, e)                                                                        \
    do {                                                                                           \
        int rc_ = (rc);                                                                            \
        if (rc_ != 0)                                                                              \
            print_error("unexpected failure %s: %s\n", cb_status_name(rc_), (e)->msg);             \
        assert_int_equal(rc_, 0);                                                                  \
    } while (0)

/* Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
void tu_fill_random(void *buf, size_t len, uint64_t seed);

/* A new empty directory under $TMPDIR (or /tmp); free() the result. */
char *tu_mkdtemp(const char *tag);

/* rm -rf path (test directories only). */
void tu_rmtree(const char *path);

/* A random hex string of n characters (n <= 64), for unique container names. */
void tu_random_hex(char *out, size_t n);

#endif
