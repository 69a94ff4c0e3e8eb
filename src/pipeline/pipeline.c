/* SPDX-License-Identifier: Apache-2.0 */
/* pipeline.c: workers and committer (see pipeline.h); setup in pipeline_setup.c. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline.h"
#include "pipeline_impl.h"
#include "../util/util.h"
#include "../hash/hash.h"
#include "../codec/codec.h"

/* ---- workers ---- */

/* The next job: a changed run to store (first: the committer waits for those), or a piece
 * (never for a runs_only worker). Both NULL once no more runs will come, the queues are
 * empty and (for the others) the reader is done. */
static void pl_next_work(cb_pl *pl, const pl_worker *wk, pl_piece **piece, pl_run **run)
{
    pthread_mutex_lock(&pl->lock);
    while ((wk->runs_only || pl->work_head == NULL) && pl->scan.run_head == NULL && !pl->failed &&
           !((pl->reader_done || wk->runs_only) && pl->scan.runs_closed))
        pthread_cond_wait(wk->runs_only ? &pl->cond_runs : &pl->cond_work, &pl->lock);
    *run = pl->scan.run_head;
    *piece = *run != NULL || wk->runs_only ? NULL : pl->work_head;
    if (*run != NULL && (pl->scan.run_head = (*run)->next) == NULL)
        pl->scan.run_tail = NULL;
    if (*piece != NULL && (pl->work_head = (*piece)->next) == NULL)
        pl->work_tail = NULL;
    pthread_mutex_unlock(&pl->lock);
}

static int pl_work_one(cb_pl *pl, pl_worker *wk, pl_piece *p, cb_error *err)
{
    if (pl->mode == CB_PL_SCAN) {
        int rc = cb__pl_scan_hash(pl, wk, p, err);
        if (rc < 0) {
            cb__pl_release(pl, p);
            return rc;
        }
        pthread_mutex_lock(&pl->lock);
        p->slot->done = 1;
        pthread_cond_broadcast(&pl->cond_done);
        pthread_mutex_unlock(&pl->lock);
        cb__pl_release(pl, p);
        return 0;
    }
    int rc = cb__pl_prepare(pl, wk, p, err);
    if (rc < 0) {
        cb__pl_release(pl, p);
        return rc;
    }
    return cb__pl_deliver(pl, wk, p, err);
}

/* Whole objects: the next batch nobody has taken yet; 0 when none is left. Towards the end
 * batches shrink, so that every worker still gets its share. */
static size_t pl_next_batch(cb_pl *pl, uint64_t *first)
{
    size_t n = 0;
    pthread_mutex_lock(&pl->lock);
    if (!pl->failed && pl->full.next_obj < pl->n_ranges) {
        uint64_t left = pl->n_ranges - pl->full.next_obj;
        uint64_t share = (left + (uint64_t)pl->n_workers - 1) / (uint64_t)pl->n_workers;
        n = share < pl->full.lanes ? (size_t)share : pl->full.lanes;
        *first = pl->full.next_obj;
        pl->full.next_obj += n;
    }
    pthread_mutex_unlock(&pl->lock);
    return n;
}

static void *pl_worker_main(void *arg)
{
    pl_worker *wk = arg;
    cb_pl *pl = wk->pl;
    pl_piece *p;
    for (uint64_t i = 0, n; pl->full.whole && (n = pl_next_batch(pl, &i)) != 0;) {
        cb_error err = { 0 };
        int rc = cb__pl_whole_batch(pl, wk, i, (size_t)n, &err);
        if (rc < 0)
            cb__pl_fail(pl, rc, &err);
    }
    for (pl_run *r;;) {
        cb_error err = { 0 };
        pl_next_work(pl, wk, &p, &r);
        if (p == NULL && r == NULL)
            break;
        if (cb__pl_failed(pl)) { /* drain: give the buffer back, do nothing */
            if (p != NULL)
                cb__pl_release(pl, p);
            continue;
        }
        if (r != NULL) {
            cb__pl_do_run(pl, wk, r);
            continue;
        }
        int rc = pl_work_one(pl, wk, p, &err);
        if (rc < 0)
            cb__pl_fail(pl, rc, &err);
    }
    return NULL;
}

/* ---- committer ---- */

static void pl_range_of(const cb_pl *pl, const pl_obj *o, cb_pl_range *r)
{
    memset(r, 0, sizeof(*r));
    r->index = o->index;
    r->off = o->off;
    r->len = o->len;
    r->digests = o->digests;
    r->n_digests = (size_t)((o->len + pl->job->sha_block - 1) / pl->job->sha_block);
    r->zero = o->zero;
    r->name = o->name;
    r->res = o->res;
    r->reused = o->reused;
}

/* Ready, or past the end of a stream (found by the reader). Called under the lock. */
static int pl_object_ready(cb_pl *pl, uint64_t index)
{
    const pl_obj *o = pl->full.objs[index % pl->full.ring];
    return (o != NULL && o->index == index && o->done) || index >= pl->n_ranges;
}

static int pl_slot_ready(cb_pl *pl, uint64_t seq)
{
    const pl_slot *s = &pl->scan.slots[seq % pl->scan.n_slots];
    return (s->seq == seq && s->done) || seq >= pl->scan.n_pieces;
}

/* Whether item i exists: a stream's count is known only at its end. */
static int pl_before(cb_pl *pl, const uint64_t *count, uint64_t i)
{
    pthread_mutex_lock(&pl->lock);
    int yes = i < *count;
    pthread_mutex_unlock(&pl->lock);
    return yes;
}

/* CB_PL_SCAN: pieces to the committer in order; each slot is freed for the reader. */
static int pl_commit_scan(cb_pl *pl, cb_error *err)
{
    const cb_pl_job *j = pl->job;
    int stream = cb__volume_is_stream(j->vol);
    for (uint64_t seq = 0; pl_before(pl, &pl->scan.n_pieces, seq); seq++) {
        int rc = cb__pl_wait(pl, pl_slot_ready, seq, err);
        if (rc < 0)
            return rc;
        if (!pl_before(pl, &pl->scan.n_pieces, seq))
            break; /* a stream ended */
        pl_slot *s = &pl->scan.slots[seq % pl->scan.n_slots];
        cb_pl_range r = { .index = seq, .off = s->off, .len = s->len, .digests = s->digests };
        r.n_digests = (s->len + j->sha_block - 1) / j->sha_block;
        r.range_end = s->range_end;
        r.clean = s->any_clean ? s->clean : NULL;
        if ((rc = j->commit(j->ctx, pl, &r, err)) < 0 || (rc = cb__pl_tick(pl, err)) < 0)
            return rc;
        /* a stream: once the object's changed runs are stored, its bytes are not needed */
        if (stream && r.range_end) {
            if ((rc = cb__pl_runs_flush(pl, err)) < 0)
                return rc;
            cb__volume_release(j->vol, s->off + s->len);
        }
        pthread_mutex_lock(&pl->lock);
        s->done = 0;
        s->seq = UINT64_MAX;
        pl->committed = seq + 1;
        if (pl->committed >= pl->scan.wake_at)      /* the reader may wait for room: woken once */
            pthread_cond_broadcast(&pl->cond_free); /* half the ring is free, not per slot */
        pthread_mutex_unlock(&pl->lock);
    }
    return cb__pl_runs_end(pl, err); /* the last changed runs are recorded */
}

static int pl_commit_all(cb_pl *pl, cb_error *err)
{
    if (pl->mode == CB_PL_SCAN)
        return pl_commit_scan(pl, err);
    for (uint64_t i = 0; pl_before(pl, &pl->n_ranges, i); i++) {
        pl_obj *o = NULL;
        cb_pl_range r;
        int rc = cb__pl_wait(pl, pl_object_ready, i, err);
        if (rc < 0)
            return rc;
        if (!pl_before(pl, &pl->n_ranges, i))
            break; /* a stream ended */
        pthread_mutex_lock(&pl->lock);
        o = pl->full.objs[i % pl->full.ring];
        pthread_mutex_unlock(&pl->lock);
        pl_range_of(pl, o, &r);
        if ((rc = pl->job->commit(pl->job->ctx, pl, &r, err)) < 0 ||
            (rc = cb__pl_tick(pl, err)) < 0)
            return rc;
        pthread_mutex_lock(&pl->lock);
        pl->full.objs[i % pl->full.ring] = NULL;
        pl->full.in_flight -= !o->zero;
        pl->committed++;
        pthread_cond_broadcast(&pl->cond_free); /* the reader may wait for an object slot */
        pthread_mutex_unlock(&pl->lock);
        cb__volume_release(pl->job->vol, r.off + r.len); /* a stream's window moves on */
        cb__pl_obj_free(pl, o);
    }
    return 0;
}

int cb__pl_run(const cb_pl_job *job, cb_pl_mode mode, cb_error *err)
{
    cb_pl pl;
    pthread_t reader;
    int started = 0, reader_started = 0;
    int rc = cb__pl_init(&pl, job, mode, err);
    if (rc == 0) {
        for (; started < pl.n_all; started++)
            if (pthread_create(&pl.workers[started].thread, NULL, pl_worker_main,
                               &pl.workers[started]) != 0)
                break;
        if (started < pl.n_all)
            rc = cb_error_set(err, CB_ERROR, "cannot start worker threads");
        /* whole objects: every worker reads for itself, and reader_done is already set */
        else if (!pl.full.whole &&
                 pthread_create(&reader, NULL,
                                mode == CB_PL_SCAN ? cb__pl_scan_reader_main : cb__pl_reader_main,
                                &pl) != 0)
            rc = cb_error_set(err, CB_ERROR, "cannot start the reader thread");
        else
            reader_started = !pl.full.whole;
    }
    if (rc == 0)
        rc = pl_commit_all(&pl, err);
    if (rc < 0) /* stop everybody; the first error is already in err (or in pl.err) */
        cb__pl_fail(&pl, rc, err);
    pthread_mutex_lock(&pl.lock);
    pl.reader_done = pl.reader_done || !reader_started;
    cb__pl_wake_all(&pl);
    pthread_mutex_unlock(&pl.lock);
    if (reader_started)
        pthread_join(reader, NULL);
    pthread_mutex_lock(&pl.lock);
    pl.reader_done = 1;
    pl.scan.runs_closed = 1;
    cb__pl_wake_all(&pl);
    pthread_mutex_unlock(&pl.lock);
    for (int i = 0; i < started; i++)
        pthread_join(pl.workers[i].thread, NULL);
    if (rc < 0 && pl.failed && err->code == 0) /* a worker's error, first in time */
        *err = pl.err;
    cb__pl_dispose(&pl);
    return rc;
}
