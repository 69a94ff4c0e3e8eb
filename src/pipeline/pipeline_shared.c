/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline_shared.c: what every thread of the pipeline calls - the first failure, the
 * piece pool, progress, the committer's waits, hashing a piece, re-reading the volume for
 * the object writer. It calls nothing else of the pipeline, so the files above it
 * (pipeline_obj.c, pipeline_run.c, pipeline_setup.c, pipeline.c) form no circle.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"
#include "pipeline_impl.h"
#include "../util/util.h"
#include "../hash/hash.h"
#include "../codec/codec.h"

/* Record the first failure and wake everybody. Call without pl->lock. */
void cb__pl_wake_all(cb_pl *pl)
{
    pthread_cond_broadcast(&pl->cond_work);
    pthread_cond_broadcast(&pl->cond_runs);
}

void cb__pl_fail(cb_pl *pl, int rc, const cb_error *err)
{
    pthread_mutex_lock(&pl->lock);
    if (!pl->failed) {
        pl->failed = rc;
        pl->err = *err;
        if (pl->err.code == 0)
            cb_error_set(&pl->err, rc, "backup pipeline failed (%s)", cb_status_name(rc));
    }
    pthread_cond_broadcast(&pl->cond_free);
    cb__pl_wake_all(pl);
    pthread_cond_broadcast(&pl->cond_done);
    pthread_mutex_unlock(&pl->lock);
    cb__volume_abort(pl->job->vol); /* a stream's filler stops waiting for room */
}

int cb__pl_failed(cb_pl *pl)
{
    pthread_mutex_lock(&pl->lock);
    int f = pl->failed;
    pthread_mutex_unlock(&pl->lock);
    return f;
}

void cb__pl_release(cb_pl *pl, pl_piece *p)
{
    pthread_mutex_lock(&pl->lock);
    p->next = pl->pool;
    pl->pool = p;
    pl->bytes_done += p->len; /* a piece is released once it is done */
    pthread_cond_signal(&pl->cond_free);
    pthread_mutex_unlock(&pl->lock);
}

void cb__pl_progress(cb_pl *pl, size_t len)
{
    pthread_mutex_lock(&pl->lock);
    pl->bytes_done += len;
    pthread_mutex_unlock(&pl->lock);
}

void cb__pl_obj_done(cb_pl *pl, pl_obj *o)
{
    pthread_mutex_lock(&pl->lock);
    o->done = 1;
    pthread_cond_broadcast(&pl->cond_done);
    pthread_mutex_unlock(&pl->lock);
}

/* SHA-256 of every sha block of `len` bytes into d (32 bytes each); a hole's bytes are
 * zeros and were not read. */
static void pl_hash_blocks(
    cb_pl *pl, pl_worker *wk, const unsigned char *data, size_t len, int hole, unsigned char *d)
{
    uint32_t blk = pl->job->sha_block;
    size_t whole = len / blk, at = whole * blk;
    if (!hole)
        cb__digest_sha256_blocks(&wk->dg, data, blk, whole, d);
    for (size_t i = 0; hole && i < whole; i++)
        memcpy(d + 32 * i, wk->dg.zero_sha, 32);
    if (at < len) /* the volume's last, short block */
        cb__digest_sha256(&wk->dg, hole ? pl->zeros : data + at, len - at, d + 32 * whole);
}

/* A full backup's piece: straight into its object's digest array. */
static void pl_hash(cb_pl *pl, pl_worker *wk, const pl_piece *p)
{
    pl_hash_blocks(pl, wk, p->data, p->len, p->hole,
                   p->obj->digests + (p->off - p->obj->off) / pl->job->sha_block * 32);
}

int cb__pl_scan_clean(cb_pl *pl, uint64_t off, size_t len, unsigned char *clean)
{
    uint32_t blk = pl->job->sha_block;
    size_t n = (len + blk - 1) / blk, n_yes = 0, n_any = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t at = off + (uint64_t)k * blk;
        uint64_t bl = off + len - at < blk ? off + len - at : blk;
        clean[k] = CB_PL_CLEAN_NO;
        if (cb__volume_clean_end(pl->job->vol, at) >= at + bl)
            clean[k] =
                cb__volume_sampled(pl->job->vol, at / blk) ? CB_PL_CLEAN_SAMPLE : CB_PL_CLEAN_YES;
        n_yes += clean[k] == CB_PL_CLEAN_YES;
        n_any += clean[k] != CB_PL_CLEAN_NO;
    }
    return n_yes == n ? 2 : n_any > 0;
}

/*
 * CB_PL_SCAN: the worker reads its own piece, a cache-sized chunk at a time, and hashes
 * each chunk while it is still in this core's cache. Read by the reader thread into
 * piece-sized buffers, the copy out of the page cache cost more than the hashing. Blocks a
 * dirty bitmap says are unchanged are skipped (the reader marked them): their digests are
 * the parent's.
 */
int cb__pl_scan_hash(cb_pl *pl, pl_worker *wk, pl_piece *p, cb_error *err)
{
    uint32_t blk = pl->job->sha_block;
    unsigned char *d = p->slot->digests, *clean = p->slot->clean; /* the reader's */
    for (size_t at = 0; at < p->len;) {
        size_t n = p->len - at < pl->chunk ? p->len - at : pl->chunk;
        size_t k = at / blk, skip = 0;
        while (p->slot->any_clean && skip < n && clean[k + skip / blk] == CB_PL_CLEAN_YES)
            skip += blk; /* unchanged blocks: not read */
        if (skip > 0) {
            at += skip < n ? skip : n;
            continue;
        }
        while (p->slot->any_clean && skip < n && clean[k + skip / blk] != CB_PL_CLEAN_YES)
            skip += blk;
        if (p->slot->any_clean && skip < n)
            n = skip; /* up to the next unchanged block */
        int hole, rc;
        if ((rc = cb__volume_read_sparse(pl->job->vol, wk->scratch, n, p->off + at, 0, &hole,
                                         err)) < 0)
            return rc;
        pl_hash_blocks(pl, wk, wk->scratch, n, hole, d + k * 32);
        at += n;
    }
    return 0;
}

/* A piece wholly in a hole, compressed: every such piece of one length compresses to the
 * same bytes, so the worker makes them once (from pl->zeros) and copies them. */
static int pl_zero_piece(cb_pl *pl, pl_worker *wk, pl_piece *p, cb_error *err)
{
    int rc;
    if (wk->zero_len != p->len || wk->zero_packed.len == 0) {
        cb_buf_reset(&wk->zero_packed);
        wk->zero_len = 0;
        if ((rc = cb_piece_compress(wk->coder, pl->zeros, p->len, &wk->zero_packed, p->obj->name,
                                    err)) < 0)
            return rc;
        wk->zero_len = p->len;
    }
    return cb_buf_put(&p->out, wk->zero_packed.data, wk->zero_packed.len, err);
}

int cb__pl_prepare(cb_pl *pl, pl_worker *wk, pl_piece *p, cb_error *err)
{
    pl_hash(pl, wk, p);
    cb_buf_reset(&p->out);
    if (wk->coder == NULL || p->obj->raw)
        return 0;
    if (p->hole) /* its bytes were not read: they are zeros */
        return pl_zero_piece(pl, wk, p, err);
    return cb_piece_compress(wk->coder, p->data, p->len, &p->out, p->obj->name, err);
}

/* The job's tick with the bytes read so far: progress, and whether to go on. */
int cb__pl_tick(cb_pl *pl, cb_error *err)
{
    pthread_mutex_lock(&pl->lock);
    uint64_t done = pl->bytes_done;
    pthread_mutex_unlock(&pl->lock);
    return pl->job->tick(pl->job->ctx, done, err);
}

/* Wait (reporting progress, polling cancel) until `ready` says so or the pipeline failed. */
int cb__pl_wait(cb_pl *pl, int (*ready)(cb_pl *pl, uint64_t i), uint64_t i, cb_error *err)
{
    for (;;) {
        pthread_mutex_lock(&pl->lock);
        int ok = ready(pl, i), failed = pl->failed;
        if (!ok && !failed)
            cb__cond_wait_ms(&pl->cond_done, &pl->lock, 200);
        pthread_mutex_unlock(&pl->lock);
        if (failed)
            return failed;
        if (ok)
            return 0;
        int rc = cb__pl_tick(pl, err);
        if (rc < 0)
            return rc;
    }
}

int cb__pl_reread(void *ctx, uint64_t pos, void *buf, size_t n, cb_error *err)
{
    const pl_reread *r = ctx;
    if (r->held != NULL) {
        if (buf != r->held + pos)
            memcpy(buf, r->held + pos, n);
        return 0;
    }
    return cb__volume_pread(r->vol, buf, n, r->off + pos, err);
}
