/* SPDX-License-Identifier: Apache-2.0 */
/*
 * zstd_ring.h: one zstd frame per object, compressed in place from the caller's chunks.
 *
 * libzstd's streaming API copies every input byte into a window buffer of its own before
 * compressing it. Its buffer-less API compresses where the input lies, provided the input
 * that came before (up to the window, 512 KiB at level 3) is still there, unchanged. A ring
 * of CB_ZRING_SLOTS chunks gives that: the caller reads each chunk straight into the next
 * slot, hashes it, and has it compressed there, while the slots behind it still hold the
 * window. On the bench volume this takes a tenth off zstd's CPU time (no copy, and a window
 * that is mostly one contiguous run), for the same output within 0.1 %.
 *
 * A block whose bytes look random (a byte-entropy sample, as for whole objects) is written
 * as a raw block of our own, without the compressor: zstd would search it for matches in
 * vain, then store it raw itself after copying it twice. That took another tenth off the
 * full zstd backup (3.52 -> 3.21 s, 6.77 -> 6.17 CPU-s), the output 4 KB smaller. The
 * compressor's history is then cut at the next block it sees (zstd_ring.c says how), so
 * no match reaches across the raw block; the frame ends with an empty last block.
 *
 *     cb_zring_begin(z, len, err);           exactly `len` bytes follow
 *     buf = cb_zring_slot(z);                fill up to `chunk` bytes, then
 *     cb_zring_compress(z, n, label, sink, payload, err);  the frame ends with the last byte
 *
 * One per thread; reused from object to object. The frame declares its content size, like
 * codec_zstd.c's (Cinder's restore needs it), with the same level-3 tables.
 */
#ifndef CB_PIECE_ZSTD_RING_H
#define CB_PIECE_ZSTD_RING_H

#include <stddef.h>
#include <stdint.h>

#include "../codec/codec.h"

/* A slot is filled while the three before it still hold the window (2^19 bytes at level 3,
 * so chunks of at least 256 KiB keep all of it); four slots measured a little faster than
 * two, as a bigger ring leaves zstd's slower two-segment search to fewer blocks. */
#define CB_ZRING_SLOTS 4

typedef struct cb_zring cb_zring;

/* @param level  zstd level, 0 for the default (3); @param chunk  most bytes per slot */
int cb_zring_new(cb_zring **out, int level, size_t chunk, cb_error *err);
void cb_zring_free(cb_zring *z); /* NULL-safe */

/* Start a frame of exactly `pledged` bytes; abandons any frame left unfinished. */
int cb_zring_begin(cb_zring *z, uint64_t pledged, const char *label, cb_error *err);

/* Where the next chunk goes: `chunk` bytes. Stays the same until cb_zring_compress. */
unsigned char *cb_zring_slot(const cb_zring *z);

/* Compress the first `len` bytes of the current slot (0 only to end an empty frame) and move to the
 * next slot; the output goes to `sink`. The chunk that completes the pledged size ends the frame.
 * @return 0, CB_EINVAL (no frame begun, len out of range, more than pledged), CB_ERROR
 *         (libzstd) or the sink's value */
int cb_zring_compress(
    cb_zring *z, size_t len, const char *label, cb_sink_fn sink, void *payload, cb_error *err);

/* `len` zero bytes (a hole of the volume) as the frame's next bytes, without the compressor
 * and without touching a slot: RLE blocks of our own (3 bytes of header and the byte 0 for
 * each block of zeros), its history then cut as after a raw block. Ends the frame when it
 * completes the pledged size, as cb_zring_compress does. Same errors. */
int cb_zring_zeros(
    cb_zring *z, uint64_t len, const char *label, cb_sink_fn sink, void *payload, cb_error *err);

#endif
