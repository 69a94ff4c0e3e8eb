/* SPDX-License-Identifier: Apache-2.0 */
/*
 * objread.h: reading one data object back, the way restore, verify, resume and the
 * measuring of objects without a recorded length all need it: fetched from the store,
 * decoded by its own recorded algorithm, its uncompressed bytes handed to a sink in order.
 * Checking them is the caller's business.
 */
#ifndef CB_READBACK_OBJREAD_H
#define CB_READBACK_OBJREAD_H

#include "cinderblock/store.h"
#include "../format/format.h"
#include "../codec/codec.h"

#define CB_OBJREAD_CHUNK (1u << 20) /* bytes fetched from the store at a time */

/* One thread's decoders (made when first needed) and fetch buffer. */
typedef struct cb_objread {
    cb_decoder *dec[4]; /* by cb_codec_id */
    char *io;           /* CB_OBJREAD_CHUNK bytes */
    cb_codec_id codec;  /* the algorithm of the last object read */
} cb_objread;

int cb__objread_init(cb_objread *r, cb_error *err);
void cb__objread_dispose(cb_objread *r);

/* Polled between fetches: non-zero (with err set) stops the read. */
typedef int (*cb_objread_tick_fn)(void *arg, cb_error *err);

/*
 * Fetch object `o` from `container` and hand its decoded bytes to `sink`. An object whose
 * compression is NULL (one of an interrupted backup, which no metadata describes yet) is
 * decoded by what its first bytes look like: a zlib header, "BZh", zstd's magic number,
 * else raw; a raw object that happens to look compressed then fails to decode. More than
 * `max_out` decoded bytes is CB_ECORRUPT (a decompression bomb, or a damaged object).
 * `*got_out` is the number of decoded bytes.
 */
int cb__objread_run(cb_objread *r,
                    cb_store *store,
                    const char *container,
                    const cb_meta_object *o,
                    const char *extra_json,
                    uint64_t max_out,
                    cb_sink_fn sink,
                    void *payload,
                    cb_objread_tick_fn tick,
                    void *tick_arg,
                    uint64_t *got_out,
                    cb_error *err);

#endif
