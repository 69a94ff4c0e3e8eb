/* SPDX-License-Identifier: Apache-2.0 */
/*
 * objwrite.h: one data object stored by Cinder's rule, the one place that applies it:
 * the bytes compressed with the backup's codec; kept raw, recorded as "none", when the
 * compressed form is not smaller (Cinder's rule; the object is then written again, raw);
 * the MD5 of the uncompressed bytes recorded; nothing visible before close. Every way a
 * backup stores an object goes through it: whole objects and pieces in the pipeline,
 * changed runs of an incremental, all-zero objects.
 *
 * How the compressed form is made depends on the path, the rule does not:
 *   RAW     not compressed (sampling said it would not help, or the codec is none)
 *   STREAM  the writer's encoder compresses the bytes in order (zstd pieces, large runs)
 *   PIECES  the caller compressed each piece on its own (zlib, bz2: codec/piece.h)
 *   RING    the bytes sit in a zstd ring's current slot (codec/zstd_ring.h)
 *   SMALL   compressed in memory and written once at close (objects of one piece)
 *   PACKED  the caller hands the whole compressed object at once (cached zeros)
 *
 * A writer belongs to one thread at a time; its sequence is open, feed*, close (or
 * abandon, which commits nothing).
 */
#ifndef CB_PIPELINE_OBJWRITE_H
#define CB_PIPELINE_OBJWRITE_H

#include "cinderblock/store.h"
#include "../codec/codec.h"
#include "../piece/piece.h"

/* What every object of one backup shares. Read-only while objects are written. */
typedef struct cb_objw_spec {
    cb_store *store;
    const char *container;
    const char *extra_json; /* the store's extra metadata for its writers, or NULL */
    cb_codec_id codec;
    const char *comp_name; /* what the metadata records for a compressed object */
} cb_objw_spec;

typedef enum cb_objw_form {
    CB_OBJW_RAW,
    CB_OBJW_STREAM,
    CB_OBJW_PIECES,
    CB_OBJW_RING,
    CB_OBJW_SMALL,
    CB_OBJW_PACKED,
} cb_objw_form;

/* What the metadata records of a stored object. */
typedef struct cb_objw_result {
    const char *comp;      /* "none" or the spec's comp_name */
    unsigned char md5[16]; /* of the uncompressed bytes */
    uint64_t stored;       /* bytes handed to the store */
} cb_objw_result;

/* The object's uncompressed bytes once more, [pos, pos + n), for a raw rewrite. */
typedef int (*cb_objw_reread_fn)(void *ctx, uint64_t pos, void *buf, size_t n, cb_error *err);

typedef struct cb_objw {
    const cb_objw_spec *spec;
    const char *name; /* borrowed until close or abandon */
    uint64_t len;
    cb_objw_form form;
    cb_writer *w;
    void *md5;       /* EVP_MD_CTX, kept from object to object; NULL: md5 given at close */
    int md5_given;   /* the caller computes the MD5 (the pipeline's vector lanes) */
    uint32_t adler;  /* PIECES, zlib: of the object's bytes */
    cb_encoder *enc; /* STREAM, SMALL: borrowed */
    cb_zring *zr;    /* RING: borrowed */
    cb_buf small;    /* SMALL: the compressed form, until close */
    uint64_t fed;    /* uncompressed bytes so far */
    uint64_t stored; /* bytes handed to the store so far */
} cb_objw;

/* A zeroed cb_objw is ready for cb__objw_open; dispose releases what it keeps. */
void cb__objw_dispose(cb_objw *o);

/*
 * Start object `name` of `len` uncompressed bytes. `enc` (STREAM, SMALL) and `zr` (RING)
 * are the caller's, borrowed until close. With `md5_given` the caller passes the MD5 to
 * close instead.
 */
int cb__objw_open(cb_objw *o,
                  const cb_objw_spec *spec,
                  const char *name,
                  uint64_t len,
                  cb_objw_form form,
                  int md5_given,
                  cb_encoder *enc,
                  cb_zring *zr,
                  cb_error *err);

/* The next `n` uncompressed bytes; PIECES: with `packed`, their compressed form; RING:
 * `data` must be the ring's current slot; PACKED: `packed` is the whole object and `data`
 * may be NULL. */
int cb__objw_feed(cb_objw *o, const void *data, size_t n, const cb_buf *packed, cb_error *err);

/*
 * The next `n` uncompressed bytes are zeros (a hole of the volume): nothing is read or
 * compressed for them. The MD5 still runs over them (the format's MD5 is of the object's
 * bytes), from a buffer of zeros of its own; RAW writes them, STREAM and SMALL feed them to
 * the encoder; PIECES writes `packed`, the caller's compressed form of n zeros (computed
 * once: it is the same for every such piece), its Adler-32 brought forward arithmetically;
 * RING writes RLE blocks (cb_zring_zeros). The object's bytes are those of cb__objw_feed
 * with n zeros, except RING's compressed form, which decodes to them.
 */
int cb__objw_feed_zeros(cb_objw *o, size_t n, const cb_buf *packed, cb_error *err);

/*
 * Finish and commit: the end of the compressed stream, Cinder's rule (a compressed form not
 * smaller than the data is replaced by the raw bytes, read again through `reread` in
 * pieces of `scratch_len` into `scratch`, or into a buffer of its own if that is NULL),
 * the writer's close. `md5` is the caller's when
 * the object was opened with md5_given. On failure nothing is committed.
 */
int cb__objw_close(cb_objw *o,
                   const unsigned char *md5,
                   cb_objw_reread_fn reread,
                   void *ctx,
                   void *scratch,
                   size_t scratch_len,
                   cb_objw_result *out,
                   cb_error *err);

/* Drop an unfinished object: nothing is committed. */
void cb__objw_abandon(cb_objw *o);

#endif
