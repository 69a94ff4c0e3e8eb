/* SPDX-License-Identifier: Apache-2.0 */
/*
 * restore_stream.h: a restore written to a stream (`restore ID -`): standard output, a
 * pipe, in volume order. The workers fetch and verify whole objects in parallel, as for a
 * file; each verified object's bytes are handed over here, and one writer thread writes
 * the plan's ranges in order as their objects arrive, freeing each object once its last
 * range is out. A worker may start an object only while it begins within `window` bytes
 * of what was written (the reorder window): the object the writer waits for always begins
 * before that, so it is always being fetched, and memory stays a few objects.
 */
#ifndef CB_RESTORE_RESTORE_STREAM_H
#define CB_RESTORE_RESTORE_STREAM_H

#include <stdint.h>

#include "../catalog/catalog.h"
#include "../util/util.h"

typedef struct cb_rstream cb_rstream;

/* The descriptor `target` names as a stream ("-", "/dev/stdout", "/dev/fd/N"), or -1. */
int cb__rstream_fd(const char *target);

/* Where the writer's bytes go (cb_restore_opts.target_write): `len` bytes at volume offset
 * `offset`; len, or < 0 (-errno if known) for a failure. */
typedef long long (*cb_rstream_write_fn)(void *payload,
                                         const void *buf,
                                         size_t len,
                                         uint64_t offset);

#define CB_RSTREAM_CALL (4u << 20)   /* the most bytes handed to one write */
#define CB_RSTREAM_GRAIN (64u << 10) /* skip_zeros: all-zero pieces this size are skipped */

/* Start the writer for `plan` (borrowed until cb__rstream_free): with `write` NULL it
 * writes `fd` with write(2), else it calls `write` with `payload`; both in volume order,
 * CB_RSTREAM_CALL bytes at most at a time. `skip_zeros`: all-zero pieces of
 * CB_RSTREAM_GRAIN (aligned in the volume) are not written (the offset jumps). */
int cb__rstream_new(cb_rstream **out,
                    int fd,
                    cb_rstream_write_fn write,
                    void *payload,
                    int skip_zeros,
                    const cb_plan *plan,
                    uint64_t window,
                    cb_error *err);

/* Volume bytes skipped as all zero so far. */
uint64_t cb__rstream_zeros(cb_rstream *s);

/* Wait until task `i` may be fetched: 0, or the writer's error (CB_ECANCELED if stopped). */
int cb__rstream_admit(cb_rstream *s, size_t i, cb_error *err);

/* Task `i`'s bytes, verified: the writer takes `obj`'s buffer (obj is left empty). */
int cb__rstream_put(cb_rstream *s, size_t i, cb_buf *obj, cb_error *err);

/* Stop the writer (a worker failed, or the restore was cancelled). */
void cb__rstream_abort(cb_rstream *s);

/* Wait until everything is written; the writer's error, if any. */
int cb__rstream_finish(cb_rstream *s, cb_error *err);

void cb__rstream_free(cb_rstream *s);

#endif
