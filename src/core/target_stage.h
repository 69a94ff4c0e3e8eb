/* SPDX-License-Identifier: Apache-2.0 */
/*
 * target_stage.h: a restore worker's writes to the target, through O_DIRECT where the
 * target allows it.
 *
 * A restore writes a whole disk image. Through the page cache that is a copy of every
 * byte into freshly allocated pages (on a VM, pages the host must back first), two
 * writers queuing on the file's lock, and a cache full of data nobody reads. O_DIRECT
 * writes go from the worker's buffer to the disk, but only from aligned memory, at aligned
 * offsets, in aligned lengths. So a worker's writes are staged, contiguous, in an aligned
 * buffer, and written when it is full or the next write does not follow on: the aligned
 * middle directly, a partial block at either end through the page cache. Where O_DIRECT
 * is refused (tmpfs, say), everything goes through the page cache as before.
 */
#ifndef CB_CORE_TARGET_STAGE_H
#define CB_CORE_TARGET_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "volume.h"

#define CB_STAGE_ALIGN 4096u       /* covers 512- and 4096-byte logical blocks */
#define CB_STAGE_LEN (1024u << 10) /* a multiple of CB_STAGE_ALIGN */

typedef struct cb_target_stage {
    unsigned char *buf; /* CB_STAGE_LEN bytes, aligned; NULL: no O_DIRECT */
    uint64_t base;      /* target offset of buf[0], aligned */
    size_t head;        /* where the staged bytes start in buf (< CB_STAGE_ALIGN) */
    size_t len;         /* bytes staged */
} cb_target_stage;

int cb__stage_init(cb_target_stage *s, const cb_target *t, cb_error *err);
void cb__stage_dispose(cb_target_stage *s);

/* Write `len` bytes at `off`, now or at the next flush. */
int cb__stage_write(cb_target_stage *s,
                    const cb_target *t,
                    const void *data,
                    size_t len,
                    uint64_t off,
                    cb_error *err);

/* Write what is staged. Call before the worker moves to other data it depends on being on
 * the target (the end of each object), and before the target is committed. */
int cb__stage_flush(cb_target_stage *s, const cb_target *t, cb_error *err);

#endif
