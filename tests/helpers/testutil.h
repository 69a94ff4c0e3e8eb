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
/* restore options that replace an existing target file (cb_restore refuses one by default) */
#define TU_REPLACE (&(const cb_restore_opts){ .version = CB_RESTORE_OPTS_VERSION, .overwrite = 1 })

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

/* Write `len` bytes to a new file (asserting that it worked). */
void tu_write_file(const char *path, const void *data, size_t len);

/* A whole file (malloc'd, one byte more than *len), or NULL if it cannot be opened. */
unsigned char *tu_read_file(const char *path, size_t *len);

/* 1 if the file at `path` holds exactly these `len` bytes (0 if not, or if it is missing). */
int tu_file_equals(const char *path, const void *want, size_t len);

/* Write the volume (`len` bytes at `data`) to `vol` and back it up with `opts`: cb_backup's
 * result, and the new backup's id in id_out. */
int tu_backup(cb_store *store,
              const char *vol,
              const void *data,
              size_t len,
              const cb_backup_opts *opts,
              char id_out[40],
              cb_error *err);

#endif
