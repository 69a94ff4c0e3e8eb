/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reuse.h: the objects an interrupted backup already stored, as `backup --resume` finds
 * them. Each is read back and decoded first; while the backup runs again, an object is
 * reused only where its bytes are exactly the volume's at its place (same length, same
 * MD5). Everything else is written again, so a resumed backup is the backup that an
 * uninterrupted run would have made.
 */
#ifndef CB_CORE_REUSE_H
#define CB_CORE_REUSE_H

#include "cinderblock/store.h"
#include "../codec/codec.h"

typedef struct cb_reuse_obj {
    char *name;
    uint64_t length;       /* decoded bytes */
    unsigned char md5[16]; /* of the decoded bytes */
    cb_codec_id codec;     /* how it is stored */
    uint64_t stored;       /* bytes in the store */
} cb_reuse_obj;

typedef struct cb_reuse {
    cb_reuse_obj *v; /* sorted by name */
    size_t n;
} cb_reuse;

/* Read back every data object under `prefix` in `container` with `threads` threads. Objects
 * that cannot be read or decoded are left out (they will be written again). */
int cb__reuse_scan(cb_reuse *r,
                   cb_store *store,
                   const char *container,
                   const char *prefix,
                   int threads,
                   cb_error *err);

/* The object named `name`, if it was found and decoded to `length` bytes; else NULL. */
const cb_reuse_obj *cb__reuse_find(const cb_reuse *r, const char *name, uint64_t length);

void cb__reuse_dispose(cb_reuse *r);

#endif
