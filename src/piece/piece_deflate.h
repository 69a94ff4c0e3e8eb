/* SPDX-License-Identifier: Apache-2.0 */
/*
 * piece_deflate.h: one piece of a zlib object as raw DEFLATE that ends on a byte boundary
 * with no final block, so that the pieces of an object join into one stream (piece.h).
 *
 * Two encoders: ISA-L's igzip (level 2), fast, and libdeflate (level 2), about 3x slower
 * and 5-10 % smaller. A trial on a slice of each piece decides: libdeflate where it saves
 * at least CB_DEFLATE_GAIN_PCT per cent of igzip's output and 0.4 % of the input (not on
 * zeros, where it is 40 times slower for a few bytes), igzip elsewhere. A piece that looks
 * incompressible is stored without running either.
 */
#ifndef CB_PIECE_PIECE_DEFLATE_H
#define CB_PIECE_PIECE_DEFLATE_H

#include <stddef.h>

#include "../util/util.h"
#include "cinderblock/common.h"

#define CB_DEFLATE_GAIN_PCT 5

typedef struct cb_deflater cb_deflater; /* one per thread */

/* Which encoder compresses a piece. */
typedef enum cb_deflate_choice {
    CB_DEFLATE_TRIAL = 0,      /* the trial decides, piece by piece (what the library uses) */
    CB_DEFLATE_LIBDEFLATE = 1, /* always libdeflate (tests) */
    CB_DEFLATE_IGZIP = -1,     /* always igzip (tests) */
} cb_deflate_choice;

cb_deflater *cb_deflater_new(cb_deflate_choice choice, cb_error *err);
void cb_deflater_free(cb_deflater *d);

/* Append the piece's raw DEFLATE (non-final, byte-aligned) to `out`. */
int cb_deflater_piece(
    cb_deflater *d, const unsigned char *in, size_t len, cb_buf *out, cb_error *err);
/* The same for an object's only piece, which need not join another: *final = 1 when the
 * stream ends with its final block already (libdeflate's, as it made it), 0 when it is a
 * joinable piece that the object's end must close. */
int cb_deflater_only(
    cb_deflater *d, const unsigned char *in, size_t len, cb_buf *out, int *final, cb_error *err);

#endif
