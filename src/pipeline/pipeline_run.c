/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline_run.c: the changed runs of an incremental backup, stored by the workers.
 *
 * The committer finds the runs (backup_incr.c) in volume order and queues each one; a
 * worker reads, compresses and writes it with its own buffers, so several objects are in
 * flight at once (several uploads, for object stores). The committer records them in the
 * metadata in order, as they finish, holding at most a ring of runs: memory stays bounded
 * however many runs a volume has.
 */
#include <stdlib.h>
#include <string.h>

#include "pipeline_impl.h"
#include "../util/util.h"
#include "../format/format.h"

static int pl_run_done(cb_pl *pl, uint64_t seq)
{
    return pl->runs[seq % pl->n_runs].state == PL_RUN_DONE;
}

/* Record finished runs in order; wait for the oldest while more than `keep` are pending. */
static int pl_runs_record(cb_pl *pl, uint64_t keep, cb_error *err)
{
    int rc;
    while (pl->run_next > pl->run_recorded) {
        pl_run *r = &pl->runs[pl->run_recorded % pl->n_runs];
        pthread_mutex_lock(&pl->lock);
        int done = r->state == PL_RUN_DONE;
        pthread_mutex_unlock(&pl->lock);
        if (!done && pl->run_next - pl->run_recorded <= keep)
            return 0;
        if (!done && (rc = cb__pl_wait(pl, pl_run_done, pl->run_recorded, err)) < 0)
            return rc;
        if ((rc = cb__bk_record(pl->b, &r->o, err)) < 0)
            return rc;
        free(r->o.name);
        r->o.name = NULL;
        pthread_mutex_lock(&pl->lock);
        r->state = PL_RUN_FREE;
        pthread_mutex_unlock(&pl->lock);
        pl->run_recorded++;
    }
    return 0;
}

/* A run wholly in a hole: the committer stores the cached zeros itself, after every run
 * before it is recorded, so that objects stay in order. */
static int pl_zero_run(cb_pl *pl, uint64_t off, uint64_t len, cb_error *err)
{
    cb_bk *b = pl->b;
    int rc = pl_runs_record(pl, 0, err);
    if (rc < 0)
        return rc;
    char *name = cb__name_object(b->prefix, b->meta.n_objects + 1, err);
    if (name == NULL)
        return CB_ENOMEM;
    rc = cb__bk_zero_object(b, name, off, len, err);
    free(name);
    return rc;
}

int cb__pl_store_run(cb_bk *b, uint64_t off, uint64_t len, cb_error *err)
{
    cb_pl *pl = b->pl;
    uint64_t data;
    int rc;
    if ((rc = cb__volume_next_data(&b->vol, off, &data, err)) < 0)
        return rc;
    if (data >= off + len)
        return pl_zero_run(pl, off, len, err);
    if ((rc = pl_runs_record(pl, pl->n_runs - 1, err)) < 0) /* room in the ring */
        return rc;
    pl_run *r = &pl->runs[pl->run_next % pl->n_runs];
    uint64_t index = b->meta.n_objects + (pl->run_next - pl->run_recorded) + 1;
    memset(&r->o, 0, sizeof(r->o));
    if ((r->o.name = cb__name_object(b->prefix, index, err)) == NULL)
        return CB_ENOMEM;
    r->o.off = off;
    r->o.len = len;
    pthread_mutex_lock(&pl->lock);
    r->state = PL_RUN_QUEUED;
    r->next = NULL;
    if (pl->run_tail != NULL)
        pl->run_tail->next = r;
    else
        pl->run_head = r;
    pl->run_tail = r;
    pthread_cond_signal(&pl->cond_work);
    pthread_mutex_unlock(&pl->lock);
    pl->run_next++;
    return 0;
}

int cb__pl_runs_end(cb_pl *pl, cb_error *err)
{
    int rc = pl_runs_record(pl, 0, err);
    pthread_mutex_lock(&pl->lock);
    pl->runs_closed = 1; /* the workers may leave once the queues are empty */
    pthread_cond_broadcast(&pl->cond_work);
    pthread_mutex_unlock(&pl->lock);
    return rc;
}

static int pl_run_tick(void *arg, cb_error *err)
{
    return cb__pl_failed(arg) ? cb_error_set(err, CB_ECANCELED, "backup stopped") : 0;
}

void cb__pl_do_run(cb_pl *pl, pl_worker *wk, pl_run *r)
{
    cb_error err = { 0 };
    int rc = 0;
    if (!wk->io_ready && (rc = cb__bk_io_init(pl->b, &wk->io, &err)) == 0)
        wk->io_ready = 1;
    if (rc == 0)
        rc = cb__bk_write_object(pl->b, &wk->io, &r->o, pl_run_tick, pl, &err);
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
        pl->runs_closed = 1;
        return 0;
    }
    pl->n_runs = (size_t)pl->n_workers * PL_RUNS_PER_WORKER;
    if ((pl->runs = cb__calloc(pl->n_runs, sizeof(*pl->runs), err)) == NULL)
        return CB_ENOMEM;
    return 0;
}

void cb__pl_runs_dispose(cb_pl *pl)
{
    for (size_t i = 0; pl->runs != NULL && i < pl->n_runs; i++)
        free(pl->runs[i].o.name);
    free(pl->runs);
    for (int i = 0; pl->workers != NULL && i < pl->n_workers; i++)
        if (pl->workers[i].io_ready)
            cb__bk_io_dispose(&pl->workers[i].io);
}
