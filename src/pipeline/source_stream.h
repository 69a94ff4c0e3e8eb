/* SPDX-License-Identifier: Apache-2.0 */
/* source_stream.h: a volume read from a stream, for source.c only (see source.h). */
#ifndef CB_PIPELINE_SOURCE_STREAM_H
#define CB_PIPELINE_SOURCE_STREAM_H

#include "source.h"

/* A stream read through `fn` (source.h, cb_stream_read_fn), from the filler thread, one
 * call at a time; `name` (borrowed for the stream's life) is what its messages call it. */
int cb__stream_new_fn(cb_stream **out,
                      cb_stream_read_fn fn,
                      void *payload,
                      const char *name,
                      uint64_t size,
                      cb_error *err);
/* The same over descriptor `fd` (duplicated): its read function is read(2), polled. */
int cb__stream_new(cb_stream **out, int fd, const char *name, uint64_t size, cb_error *err);
void cb__stream_set_limit(cb_stream *s, uint64_t limit, const char *what);
int cb__stream_start(cb_stream *s, uint64_t object_size, size_t window, cb_error *err);
int cb__stream_wait(cb_stream *s, uint64_t off, uint64_t *size_out, cb_error *err);
/* Copy [off, off+len) out of the window; *all_zero (if not NULL): every object it touched
 * is all zeros (buf is zeroed then). */
int cb__stream_pread(
    cb_stream *s, void *buf, size_t len, uint64_t off, int *all_zero, cb_error *err);
/* The end of the object holding `off` if it is all zeros, else `off`. */
uint64_t cb__stream_next_data(cb_stream *s, uint64_t off);
void cb__stream_release(cb_stream *s, uint64_t off);
void cb__stream_abort(cb_stream *s);
int cb__stream_finish(cb_stream *s, uint64_t *size_out, cb_error *err);
void cb__stream_free(cb_stream *s);
/* Bytes read from the stream so far. */
uint64_t cb__stream_bytes_read(cb_stream *s);

#endif
