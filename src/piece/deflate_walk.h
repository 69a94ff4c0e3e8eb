/* SPDX-License-Identifier: Apache-2.0 */
/*
 * deflate_walk.h: the shape of a raw DEFLATE stream (RFC 1951) without inflating it.
 *
 * A one-shot compressor (libdeflate) ends its output with a final block (BFINAL set) and a
 * partly used last byte. To join such streams into one (piece.h), the final block must
 * become an ordinary one and the stream be brought to a byte boundary, which needs the bit
 * where the last block starts and the bit where the stream ends. Nothing reports those,
 * so this decodes every block's Huffman codes, writing no output. It also counts the bytes
 * the stream decodes to, which lets the caller check the stream against its input.
 */
#ifndef CB_PIECE_DEFLATE_WALK_H
#define CB_PIECE_DEFLATE_WALK_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t last_block_bit; /* bit (LSB first) holding the last block's BFINAL */
    uint64_t end_bit;        /* the first bit after the last block's end */
    uint64_t out_len;        /* bytes the stream decodes to */
} cb_deflate_shape;

/* 0 with `shape` filled in for a stream that ends with a final block within `len` bytes;
 * -1 for anything else (bad codes, truncation, a distance before the stream's start).
 * Never reads outside `in[0 .. len)`. */
int cb_deflate_walk(const unsigned char *in, size_t len, cb_deflate_shape *shape);

#endif
