/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chainread.h: the interface of src/image/. The volume as a backup holds it, read at any
 * offset straight from its chain's objects, as the restore plan lays them out (the newest
 * layer wins): what a consolidate backs up as a new full backup (cb_backup_opts.volume_pread),
 * and what the public read-only image (cinderblock/image.h, image.c) serves through its
 * cache of verified segments. Several threads read at once.
 *
 * An object is decoded as it is read, never held whole: each read continues one of a pool
 * of open object streams (fetch + decoder) that stopped at or before the wanted byte,
 * skipping forward by decoding, or opens the object again from its start (a jump back costs
 * a decode from there). So the backup reads this volume in order (cb_bk_extra.in_order) and
 * asks raw_hint instead of sampling ahead; the chain's objects are then decoded about once
 * (1.07 times the volume, measured on 512 MiB with five incrementals, whatever the new
 * object size; side by side lanes had cost up to 17 times). Memory: the streams in use (each
 * a 128 KiB fetch buffer and a decoder), whatever the object size.
 *
 * Readers that arrive nearly in order take turns on one stream (a reader waits for a busy
 * stream of its object that will stop at or before its byte) rather than decode the object
 * again from its start: that is what keeps nbdcopy's parallel sequential requests linear.
 *
 * Nothing is checked here but what decoding checks: the consolidate compares the SHA-256
 * of every sha block the backup hashes with the consolidated backup's _sha256file, and the
 * image checks every sha block against its backup's list before it serves one (image.c).
 */
#ifndef CB_CONSOLIDATE_CHAINREAD_H
#define CB_CONSOLIDATE_CHAINREAD_H

#include "../catalog/catalog.h"

typedef struct cb_chainread cb_chainread;

/* A reader of the volume `plan` (borrowed until free) describes, of `size` bytes, for at
 * most `threads` readers at once. `cancel` (or NULL) is polled while it decodes. */
int cb__chainread_new(cb_store *store,
                      const cb_plan *plan,
                      uint64_t size,
                      int threads,
                      cb_cancel_fn cancel,
                      void *cancel_payload,
                      cb_chainread **out,
                      cb_error *err);

/* cb_backup_opts.volume_pread: len bytes at off, or -1 (the failure is kept: see below). */
long long cb__chainread_pread(void *payload, void *buf, size_t len, uint64_t off);

/* The same with the failure into err (and not kept): `len` bytes at `off`, all inside the
 * volume. */
int cb__chainread_read(cb_chainread *r, void *buf, size_t len, uint64_t off, cb_error *err);

/* Where the bytes a read decodes on its way to its first byte go (a stream that stopped
 * before it skips them): `vol_off` is their volume offset as object `t` would place them
 * (parts of it may be overwritten by a newer layer: the sink checks with
 * cb__chainread_segment). Called on the reading thread, while it holds the stream. */
typedef struct cb_chainread_skip {
    void (*fn)(void *payload, const cb_task *t, uint64_t vol_off, const void *data, size_t len);
    void *payload;
    int *claim; /* or NULL: who fills the read's bytes, shared with other readers' sinks
                   (atomic, CB_CLAIM_*): a read that finds another stream passing through its
                   first byte waits instead of opening the object again, and that stream's
                   sink may take the read over (STAGING, then STAGED: the read returns 1,
                   its buffer filled by the sink) */
} cb_chainread_skip;

enum {
    CB_CLAIM_FREE = 0,      /* a sink may take the read over */
    CB_CLAIM_READER = 1,    /* the read got a stream: it reads for itself */
    CB_CLAIM_STAGED = 2,    /* a sink filled the read's buffer */
    CB_CLAIM_STAGING = 3,   /* a sink is filling it */
    CB_CLAIM_ABANDONED = 4, /* a sink gave up: the read reads for itself */
    CB_CLAIM_NOT_YET = 5    /* its buffer is not there yet: no sink may take it */
};

/* cb__chainread_read, the skipped bytes into `skip` (NULL: dropped); 1 when skip->claim was
 * taken over and filled by another read's sink. */
int cb__chainread_read_ex(cb_chainread *r,
                          void *buf,
                          size_t len,
                          uint64_t off,
                          const cb_chainread_skip *skip,
                          cb_error *err);

/* cb_volume.raw_hint: 1 if every byte of [off, off+len) comes from an object stored raw
 * ("none": the backup that wrote it found it incompressible, or was told not to compress). */
int cb__chainread_raw(void *payload, uint64_t off, uint64_t len);

/* The first failure of a read (code and message into err), or 0. */
int cb__chainread_failure(cb_chainread *r, cb_error *err);

/* The object that supplies volume byte `off` (NULL beyond the volume). */
const cb_task *cb__chainread_task_at(const cb_chainread *r, uint64_t off);

/* The same, with the volume range [*start, *end) of the plan's segment that holds `off`
 * (one object's part): a read inside it costs at most one object fetch. */
const cb_task *
cb__chainread_segment(const cb_chainread *r, uint64_t off, uint64_t *start, uint64_t *end);

/* Wake the reads waiting for a stream: a sink changed a claim (CB_CLAIM_STAGED). */
void cb__chainread_wake(cb_chainread *r);

/* How many times an object was opened (a fetch begun) so far. */
uint64_t cb__chainread_opens(const cb_chainread *r);

void cb__chainread_free(cb_chainread *r);

/* The public image (cinderblock/image.h) lives in this folder too; nothing else of the
 * library uses it. */

#endif
