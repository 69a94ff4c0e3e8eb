/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline_run.c: the changed runs of an incremental backup, stored by the workers, and
 * any range a worker stores from the volume on its own.
 *
 * The committer finds the runs (the job's commit) in volume order and queues each one; a
 * worker reads, compresses and writes it with its own buffers, so several objects are in
 * flight at once (several uploads, for object stores). The committer hands them to the
 * job's record() in order, as they finish, holding at most a ring of runs: memory stays
 * bounded however many runs a volume has.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_impl.h"
#include "../format/format.h"
#include "../util/util.h"

static int pl_run_done(cb_pl *pl, uint64_t seq)
{
    return pl->scan.runs[seq % pl->scan.n_runs].state == PL_RUN_DONE;
}

/* Record finished runs in order; wait for the oldest while more than `keep` are pending. */
static int pl_runs_record(cb_pl *pl, uint64_t keep, cb_error *err)
{
    int rc;
    while (pl->scan.run_next > pl->scan.run_recorded) {
        pl_run *r = &pl->scan.runs[pl->scan.run_recorded % pl->scan.n_runs];
        pthread_mutex_lock(&pl->lock);
        int done = r->state == PL_RUN_DONE;
        pthread_mutex_unlock(&pl->lock);
        if (!done && pl->scan.run_next - pl->scan.run_recorded <= keep)
            return 0;
        if (!done && (rc = cb__pl_wait(pl, pl_run_done, pl->scan.run_recorded, err)) < 0)
            return rc;
        cb_pl_object o = { r->name, r->off, r->len, r->res, r->reused };
        if ((rc = pl->job->record(pl->job->ctx, &o, err)) < 0)
            return rc;
        free(r->name);
        r->name = NULL;
        pthread_mutex_lock(&pl->lock);
        r->state = PL_RUN_FREE;
        pthread_mutex_unlock(&pl->lock);
        pl->scan.run_recorded++;
        pl->scan.n_objects++;
    }
    return 0;
}

/* A run wholly in a hole: the job stores it (one cached form for all such ranges), after
 * every run before it is recorded, so that objects stay in order. */
static int pl_zero_run(cb_pl *pl, uint64_t off, uint64_t len, cb_error *err)
{
    int rc = pl_runs_record(pl, 0, err);
    if (rc < 0)
        return rc;
    char *name = cb__name_object(pl->job->prefix, pl->scan.n_objects + 1, err);
    if (name == NULL)
        return CB_ENOMEM;
    if ((rc = pl->job->zeros(pl->job->ctx, name, off, len, err)) == 0)
        pl->scan.n_objects++;
    free(name);
    return rc;
}

int cb__pl_store_run(cb_pl *pl, uint64_t off, uint64_t len, cb_error *err)
{
    uint64_t data;
    int rc;
    if ((rc = cb__volume_next_data(pl->job->vol, off, &data, err)) < 0)
        return rc;
    if (data >= off + len)
        return pl_zero_run(pl, off, len, err);
    if ((rc = pl_runs_record(pl, pl->scan.n_runs - 1, err)) < 0) /* room in the ring */
        return rc;
    pl_run *r = &pl->scan.runs[pl->scan.run_next % pl->scan.n_runs];
    uint64_t index = pl->scan.n_objects + (pl->scan.run_next - pl->scan.run_recorded) + 1;
    memset(r, 0, sizeof(*r));
    if ((r->name = cb__name_object(pl->job->prefix, index, err)) == NULL)
        return CB_ENOMEM;
    r->off = off;
    r->len = len;
    pthread_mutex_lock(&pl->lock);
    r->state = PL_RUN_QUEUED;
    r->next = NULL;
    if (pl->scan.run_tail != NULL)
        pl->scan.run_tail->next = r;
    else
        pl->scan.run_head = r;
    pl->scan.run_tail = r;
    pthread_cond_signal(&pl->cond_work); /* either kind of worker may take it */
    pthread_cond_signal(&pl->cond_runs);
    pthread_mutex_unlock(&pl->lock);
    pl->scan.run_next++;
    return 0;
}

int cb__pl_runs_flush(cb_pl *pl, cb_error *err)
{
    return pl_runs_record(pl, 0, err);
}

int cb__pl_runs_end(cb_pl *pl, cb_error *err)
{
    int rc = pl_runs_record(pl, 0, err);
    pthread_mutex_lock(&pl->lock);
    pl->scan.runs_closed = 1; /* the workers may leave once the queues are empty */
    cb__pl_wake_all(pl);
    pthread_mutex_unlock(&pl->lock);
    return rc;
}

/* ---- a range stored by a worker on its own ---- */

static int pl_run_buffers(cb_pl *pl, pl_worker *wk, cb_error *err)
{
    int rc;
    if (wk->run_ready)
        return 0;
    /* what an earlier, failed call made is kept (cb__pl_runs_dispose frees it) */
    if (wk->run_buf == NULL && (wk->run_buf = cb__malloc(pl->piece, err)) == NULL)
        return CB_ENOMEM;
    if (pl->job->objw.codec != CB_CODEC_NONE && wk->run_enc == NULL &&
        (rc = cb_encoder_new(&wk->run_enc, pl->job->objw.codec, 0, err)) < 0)
        return rc;
    wk->run_ready = 1;
    return 0;
}

static int pl_run_read(cb_pl *pl, pl_worker *wk, uint64_t off, size_t n, cb_error *err)
{
    int all_zero;
    return cb__volume_read_sparse(pl->job->vol, wk->run_buf, n, off, 1, &all_zero, err);
}

/* Resuming: the object stored before, if it holds exactly the volume's bytes. */
static int pl_run_kept(cb_pl *pl,
                       pl_worker *wk,
                       const char *name,
                       uint64_t off,
                       uint64_t len,
                       cb_objw_result *res,
                       int *reused,
                       cb_error *err)
{
    cb_pl_kept k;
    unsigned char md5[16];
    int rc;
    if (pl->job->kept == NULL || !pl->job->kept(pl->job->ctx, name, len, &k))
        return 0;
    cb__digest_md5_begin(&wk->dg);
    for (uint64_t pos = 0; pos < len; pos += pl->piece) {
        size_t n = len - pos < pl->piece ? (size_t)(len - pos) : pl->piece;
        if ((rc = pl_run_read(pl, wk, off + pos, n, err)) < 0)
            return rc;
        cb__digest_md5_update(&wk->dg, wk->run_buf, n);
    }
    cb__digest_md5_end(&wk->dg, md5);
    if (memcmp(md5, k.md5, 16) != 0)
        return 0;
    *res = (cb_objw_result){ .comp = k.comp, .stored = k.stored };
    memcpy(res->md5, md5, 16);
    *reused = 1;
    return 0;
}

/* A run of one piece, with a codec of pieces (zlib, bz2): compressed whole by the worker's
 * piece coder (igzip or libdeflate, as a full backup's pieces; the streaming zlib encoder
 * took three times as long), into one complete stream of the codec, stored as it is when
 * it is smaller, else raw (Cinder's rule), without a writer opened for nothing. */
static int pl_store_packed(cb_pl *pl,
                           pl_worker *wk,
                           const char *name,
                           uint64_t off,
                           size_t len,
                           cb_objw_result *res,
                           cb_error *err)
{
    cb_buf *out = &wk->run_packed;
    int rc = pl_run_read(pl, wk, off, len, err);
    cb_buf_reset(out);
    if (rc == 0)
        rc = cb_piece_compress_object(wk->coder, wk->run_buf, len, out, name, err);
    if (rc < 0)
        return rc;
    pl_reread rr = { .vol = pl->job->vol, .off = off, .held = wk->run_buf };
    rc = cb__objw_open(&wk->run_w, &pl->job->objw, name, len,
                       out->len < len ? CB_OBJW_PACKED : CB_OBJW_RAW, 0, NULL, NULL, err);
    if (rc == 0 && (rc = cb__objw_feed(&wk->run_w, wk->run_buf, len, out, err)) == 0)
        return cb__objw_close(&wk->run_w, NULL, cb__pl_reread, &rr, wk->run_buf, pl->piece, res,
                              err);
    cb__objw_abandon(&wk->run_w);
    return rc;
}

int cb__pl_store_range(cb_pl *pl,
                       pl_worker *wk,
                       const char *name,
                       uint64_t off,
                       uint64_t len,
                       int check_kept,
                       cb_objw_result *res,
                       int *reused,
                       cb_error *err)
{
    int rc;
    *reused = 0;
    if ((rc = pl_run_buffers(pl, wk, err)) < 0 ||
        (check_kept && (rc = pl_run_kept(pl, wk, name, off, len, res, reused, err)) < 0))
        return rc;
    if (*reused)
        return 0;
    if (len <= pl->piece && wk->coder != NULL)
        return pl_store_packed(pl, wk, name, off, (size_t)len, res, err);
    /* one piece (most changed runs): compressed in memory, then written once, compressed
     * or raw, from the bytes still in the buffer; longer runs: in pieces by the piece
     * coder (zlib, bz2) or the streaming encoder (zstd) */
    int small = len <= pl->piece;
    cb_objw_form form = small ? CB_OBJW_SMALL : wk->coder ? CB_OBJW_PIECES : CB_OBJW_STREAM;
    pl_reread rr = { .vol = pl->job->vol, .off = off, .held = small ? wk->run_buf : NULL };
    rc = cb__objw_open(&wk->run_w, &pl->job->objw, name, len, form, 0, wk->run_enc, NULL, err);
    for (uint64_t pos = 0; rc == 0 && pos < len; pos += pl->piece) {
        size_t n = len - pos < pl->piece ? (size_t)(len - pos) : pl->piece;
        cb_buf_reset(&wk->run_packed);
        if ((rc = cb__pl_failed(pl) ? cb_error_set(err, CB_ECANCELED, "backup stopped") : 0) == 0 &&
            (rc = pl_run_read(pl, wk, off + pos, n, err)) == 0 &&
            (form != CB_OBJW_PIECES ||
             (rc = cb_piece_compress(wk->coder, wk->run_buf, n, &wk->run_packed, name, err)) == 0))
            rc = cb__objw_feed(&wk->run_w, wk->run_buf, n, &wk->run_packed, err);
    }
    if (rc == 0)
        return cb__objw_close(&wk->run_w, NULL, cb__pl_reread, &rr, wk->run_buf, pl->piece, res,
                              err);
    cb__objw_abandon(&wk->run_w);
    return rc;
}

void cb__pl_do_run(cb_pl *pl, pl_worker *wk, pl_run *r)
{
    cb_error err = { 0 };
    int rc = cb__pl_store_range(pl, wk, r->name, r->off, r->len, 1, &r->res, &r->reused, &err);
    if (rc < 0) { /* first error wins: a stop caused by another failure changes nothing */
        cb__pl_fail(pl, rc, &err);
        return;
    }
    pthread_mutex_lock(&pl->lock);
    r->state = PL_RUN_DONE;
    pthread_cond_broadcast(&pl->cond_done);
    pthread_mutex_unlock(&pl->lock);
}

int cb__pl_runs_init(cb_pl *pl, cb_error *err)
{
    if (pl->mode != CB_PL_SCAN) {
        pl->scan.runs_closed = 1;
        return 0;
    }
    pl->scan.n_runs = (size_t)pl->n_all * PL_RUNS_PER_WORKER;
    if ((pl->scan.runs = cb__calloc(pl->scan.n_runs, sizeof(*pl->scan.runs), err)) == NULL)
        return CB_ENOMEM;
    return 0;
}

void cb__pl_runs_dispose(cb_pl *pl)
{
    for (size_t i = 0; pl->scan.runs != NULL && i < pl->scan.n_runs; i++)
        free(pl->scan.runs[i].name);
    free(pl->scan.runs);
    for (int i = 0; pl->workers != NULL && i < pl->n_all; i++) {
        pl_worker *wk = &pl->workers[i];
        cb__objw_dispose(&wk->run_w);
        cb_encoder_free(wk->run_enc);
        cb_buf_dispose(&wk->run_packed);
        free(wk->run_buf);
    }
}
