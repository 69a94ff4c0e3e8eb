/* SPDX-License-Identifier: Apache-2.0 */
/*
 * restore.c: restore a backup and its chain into a file or block device.
 *
 * Every object is decompressed by its own recorded algorithm and its length and MD5 are
 * verified before its bytes count as restored (Cinder checks neither). A regular-file target
 * is written under a temporary name and renamed into place only after everything verified,
 * so a failed restore leaves the target as it was. A block device is written in place: an
 * object is buffered and verified before it is written, or (if larger than the buffer limit)
 * verified in a first pass and written in a second.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <time.h>

#include "../lock/lock.h"
#include "../catalog/catalog.h"
#include "restore_sha.h"
#include "restore_stream.h"
#include "restore_verify.h"
#include "../util/util.h"
#include "../hash/hash.h"
#include "../format/format.h"

#define RS_BUFFER_BUDGET (256ull << 20) /* all workers together, for verify-then-write */
#define RS_BUFFER_MIN (8ull << 20)
#define RS_SPARSE_GRAIN (64u << 10) /* all-zero pieces this size: not written to a new file */
#define RS_WRITE_STEP (4u << 20)    /* bytes written between two looks at a stop */
#define RS_WORKERS_MAX 64           /* objects in flight at most */

typedef enum rs_mode {
    RS_VERIFY_ONLY, /* pass one of a large object on a device: check, write nothing */
    RS_WRITE,       /* write as the bytes come (regular file: nothing is final yet) */
    RS_BUFFER,      /* keep the object in memory until it verified */
} rs_mode;

/* What the workers share. */
typedef struct rs_shared {
    cb_store *store;
    const cb_restore_opts *opts;
    cb_target target;
    cb_dio_pool *pool; /* writes the workers' full buffers while they decode on */
    const cb_plan *plan;
    pthread_mutex_t lock; /* guards next_task, failed, err, bytes, objects, zeros, running */
    pthread_cond_t cond;  /* a worker finished or failed */
    size_t next_task;
    int failed;   /* the first failure's code */
    cb_error err; /* its message */
    uint64_t bytes, objects;
    uint64_t zeros;      /* bytes of all-zero pieces not written (they read as zeros already) */
    int running;         /* workers still going */
    uint64_t buffer_max; /* largest object a worker verifies in memory before writing it */
    cb_rsha sha;         /* the restored backup's hash list, when usable */
    cb_lock *store_lock; /* the store's shared lock */
    cb_rstream *stream;  /* a target that is a stream (restore_stream.h), or NULL */
} rs_shared;

/* One worker: its own hashing and decoding contexts and buffers. */
typedef struct cb_rs {
    rs_shared *sh;
    pthread_t thread;
    cb_digest dg;
    cb_objread rd;        /* fetching and decoding */
    unsigned char *block; /* one sha block, for cb_rsha_check */
    cb_buf obj;           /* RS_BUFFER mode: the object's bytes */
    cb_dio out;           /* writes on their way to the target */
} cb_rs;

typedef struct rs_sink {
    cb_rs *rs;
    const cb_task *task;
    rs_mode mode;
    cb_rsha_check *chk; /* check sha blocks against the hash list; NULL: the object's MD5 */
    uint64_t pos;       /* object-relative position of the next byte */
    size_t next;        /* first range that may still be reached */
    uint64_t stop_at;   /* 0, or where the plan's last range in it ends: read no further */
} rs_sink;

/* What rs_on_bytes returns once it has stop_at bytes: not a failure (err stays clear); the
 * fetch stops there, and the rest of the object is never downloaded. */
#define RS_ENOUGH (-10000)

/* Workers stop as soon as any of them failed or the caller cancelled. */
static int rs_tick(void *arg, cb_error *err)
{
    cb_rs *rs = arg;
    pthread_mutex_lock(&rs->sh->lock);
    int failed = rs->sh->failed;
    pthread_mutex_unlock(&rs->sh->lock);
    return failed ? cb_error_set(err, CB_ECANCELED, "restore stopped") : 0;
}

/* Write `len` bytes at volume offset `off`. All-zero pieces where the target reads as
 * zeros already are skipped: a new file's unwritten blocks, reserved (the default) or holes
 * (--sparse), a descriptor's file beyond its starting size, a target the caller says is
 * zeroed. */
static int
rs_pwrite(cb_rs *rs, const char *data, size_t len, uint64_t off, uint64_t *zeros, cb_error *err)
{
    uint64_t zero_from = rs->sh->target.zeros_free ? 0 : rs->sh->target.zero_from;
    if (zero_from >= off + len)
        return cb_dio_write(&rs->out, data, len, off, err);
    size_t run = 0; /* bytes before `pos` not written yet, none of them in a zero piece: one
                       write for each run (a caller's target_pwrite is called once a run) */
    for (size_t pos = 0; pos < len;) {
        /* pieces aligned to the grain in volume offsets, so holes line up with blocks */
        size_t n = RS_SPARSE_GRAIN - (size_t)((off + pos) % RS_SPARSE_GRAIN);
        if (n > len - pos)
            n = len - pos;
        int zero = off + pos >= zero_from && cb__is_zero(data + pos, n);
        if (zero && run > 0) {
            int rc = cb_dio_write(&rs->out, data + pos - run, run, off + pos - run, err);
            if (rc < 0)
                return rc;
            run = 0;
        }
        run += zero ? 0 : n;
        *zeros += zero ? n : 0;
        pos += n;
    }
    return run > 0 ? cb_dio_write(&rs->out, data + len - run, run, off + len - run, err) : 0;
}

/* Write the parts of [pos, pos+len) of the object that the plan assigns to it. */
static int rs_emit(cb_rs *rs,
                   const cb_task *t,
                   size_t *next,
                   uint64_t pos,
                   const char *data,
                   size_t len,
                   cb_error *err)
{
    uint64_t a = t->obj->offset + pos, b = a + len;
    for (size_t i = *next; i < t->n_ranges; i++) {
        const cb_range *r = &t->ranges[i];
        if (r->off >= b)
            break;
        uint64_t lo = r->off > a ? r->off : a;
        uint64_t hi = r->off + r->len < b ? r->off + r->len : b;
        if (hi <= lo) {
            *next = i + 1; /* this range lies wholly before the data: done with it */
            continue;
        }
        /* a verified object (up to buffer_max) goes out RS_WRITE_STEP at a time: a cancel
         * or another worker's failure stops it between two, and progress moves */
        for (uint64_t at = lo; at < hi;) {
            uint64_t step = hi - at < RS_WRITE_STEP ? hi - at : RS_WRITE_STEP, zeros = 0;
            int rc = rs_tick(rs, err);
            if (rc == 0)
                rc = rs_pwrite(rs, data + (at - a), (size_t)step, at, &zeros, err);
            if (rc < 0)
                return rc;
            pthread_mutex_lock(&rs->sh->lock);
            rs->sh->bytes += step;
            rs->sh->zeros += zeros;
            pthread_mutex_unlock(&rs->sh->lock);
            at += step;
        }
    }
    return 0;
}

static int rs_on_bytes(const void *data, size_t len, void *payload, cb_error *err)
{
    rs_sink *s = payload;
    int rc = 0;
    if (s->stop_at != 0 && len > s->stop_at - s->pos)
        len = (size_t)(s->stop_at - s->pos);
    if (s->chk != NULL)
        cb__rsha_feed(s->chk, &s->rs->dg, s->task->obj->offset + s->pos, data, len);
    else
        cb__digest_md5_update(&s->rs->dg, data, len);
    if (s->mode == RS_WRITE)
        rc = rs_emit(s->rs, s->task, &s->next, s->pos, data, len, err);
    else if (s->mode == RS_BUFFER)
        rc = cb_buf_put(&s->rs->obj, data, len, err);
    s->pos += len;
    return rc == 0 && s->stop_at != 0 && s->pos == s->stop_at ? RS_ENOUGH : rc;
}

/* Where the plan's last range in the object ends, when that is before the object's end and
 * its blocks are checked against the hash list (they verify without the rest, whose MD5
 * is then not needed): a ranged read, from the object's start (an object superseded at
 * its tail by a newer backup is not fetched whole). 0: the whole object. */
static uint64_t rs_stop_at(const cb_task *t, int sha)
{
    if (!sha || t->n_ranges == 0)
        return 0;
    const cb_range *last = &t->ranges[t->n_ranges - 1];
    uint64_t end = last->off + last->len - t->obj->offset;
    return end < t->obj->length ? end : 0;
}

/* The object's length, and its MD5 unless md5 is NULL (its blocks were checked instead). */
static int rs_verify(const cb_task *t, uint64_t got, const unsigned char *md5, cb_error *err)
{
    const cb_meta_object *o = t->obj;
    if (md5 != NULL && !o->has_md5)
        return cb_error_set(err, CB_ECORRUPT,
                            "object '%s' of backup %s cannot be verified: its metadata records "
                            "no MD5, and the backup's _sha256file does not cover it",
                            o->name, t->layer->where.parts.backup_id);
    if (got != o->length)
        return cb_error_set(err, CB_ECORRUPT,
                            "object '%s' of backup %s is damaged: it holds %llu bytes, the "
                            "metadata says %llu",
                            o->name, t->layer->where.parts.backup_id, (unsigned long long)got,
                            (unsigned long long)o->length);
    if (md5 != NULL && memcmp(md5, o->md5, 16) != 0)
        return cb_error_set(err, CB_ECORRUPT,
                            "object '%s' of backup %s is damaged: its MD5 differs from the "
                            "metadata's",
                            o->name, t->layer->where.parts.backup_id);
    return 0;
}

/* Fetch and decompress one object; what happens to the bytes depends on the mode.
 * *got_out and md5 describe what the object really held. */
static int rs_fetch(cb_rs *rs,
                    const cb_task *t,
                    rs_mode mode,
                    cb_rsha_check *chk,
                    uint64_t max_out,
                    uint64_t *got_out,
                    unsigned char md5[16],
                    cb_error *err)
{
    rs_sink s = { .rs = rs,
                  .task = t,
                  .mode = mode,
                  .chk = chk,
                  .stop_at = rs->sh->stream == NULL ? rs_stop_at(t, chk != NULL) : 0 };
    cb__digest_md5_begin(&rs->dg);
    cb_buf_reset(&rs->obj);
    int rc = cb__objread_run(&rs->rd, rs->sh->store, t->layer->where.container, t->obj,
                             t->layer->meta.extra_json, max_out, rs_on_bytes, &s, rs_tick, rs,
                             got_out, err);
    if (rc == RS_ENOUGH) { /* every range's bytes came, and were checked block by block */
        *got_out = t->obj->length;
        return 0;
    }
    if (rc == 0 && chk == NULL)
        cb__digest_md5_end(&rs->dg, md5);
    return rc;
}

/* One read of the object. With `sha`, its blocks are checked against the hash list and
 * *differs says whether one did not match (then the object's MD5 is to decide: the list
 * may be the damaged part); without, its MD5 is checked. */
static int rs_pass(cb_rs *rs, const cb_task *t, rs_mode mode, int sha, int *differs, cb_error *err)
{
    uint64_t got;
    unsigned char md5[16];
    cb_rsha_check chk;
    if (sha)
        cb__rsha_begin(&chk, &rs->sh->sha, t, rs->block);
    int rc = rs_fetch(rs, t, mode, sha ? &chk : NULL, t->obj->length, &got, md5, err);
    if (rc == 0)
        rc = rs_verify(t, got, sha ? NULL : md5, err);
    *differs = rc == 0 && sha && chk.bad;
    return rc;
}

/* The object's bytes to the target, each pass checked as rs_pass says; nothing is written
 * to a device from a pass whose blocks differed. */
static int rs_task_write(cb_rs *rs, const cb_task *t, int sha, int *differs, cb_error *err)
{
    int rc;
    size_t next = 0;
    if (!rs->sh->target.in_place) /* nothing is final until the rename */
        return rs_pass(rs, t, RS_WRITE, sha, differs, err);
    /* objects up to each worker's share of the budget are verified in memory */
    if (t->obj->length <= rs->sh->buffer_max) {
        if ((rc = rs_pass(rs, t, RS_BUFFER, sha, differs, err)) < 0 || *differs)
            return rc;
        return rs_emit(rs, t, &next, 0, rs->obj.data, rs->obj.len, err);
    }
    /* too large to hold: verify first, then write while checking again */
    if ((rc = rs_pass(rs, t, RS_VERIFY_ONLY, sha, differs, err)) < 0 || *differs)
        return rc;
    return rs_pass(rs, t, RS_WRITE, sha, differs, err);
}

/* A stream: the whole object is verified in memory (as for a device), then its bytes go
 * to the stream's writer, which writes them in volume order. Nothing unverified is
 * written. */
static int rs_task_stream(cb_rs *rs, size_t i, const cb_task *t, cb_error *err)
{
    int differs = 0, sha = cb__rsha_fits(&rs->sh->sha, t);
    int rc = rs_pass(rs, t, RS_BUFFER, sha, &differs, err);
    if (rc == 0 && differs)
        rc = rs_pass(rs, t, RS_BUFFER, 0, &differs, err);
    if (rc < 0 || (rc = cb__rstream_put(rs->sh->stream, i, &rs->obj, err)) < 0)
        return rc;
    uint64_t n = 0;
    for (size_t k = 0; k < t->n_ranges; k++)
        n += t->ranges[k].len;
    pthread_mutex_lock(&rs->sh->lock);
    rs->sh->bytes += n;
    pthread_mutex_unlock(&rs->sh->lock);
    return 0;
}

/* One object; then its ranges are handed to the disk while the next objects decode. The
 * blocks written are checked against the hash list where it fits the object, else (or if
 * a block differs from it) the object's MD5 is. */
/* An object whose every restored block the hash list says is zeros (a hole of the
 * volume), where the target reads as zeros already (a new file, a zeroed target): nothing
 * to fetch or write. A 256 GiB volume holding 2 GiB is mostly such objects. */
static int rs_zero_task(cb_rs *rs, const cb_task *t)
{
    const cb_target *tg = &rs->sh->target;
    if (t->n_ranges == 0 || (!tg->zeros_free && t->ranges[0].off < tg->zero_from) ||
        !cb__rsha_all_zero(&rs->sh->sha, t))
        return 0;
    uint64_t n = 0;
    for (size_t i = 0; i < t->n_ranges; i++)
        n += t->ranges[i].len;
    pthread_mutex_lock(&rs->sh->lock);
    rs->sh->bytes += n;
    rs->sh->zeros += n;
    pthread_mutex_unlock(&rs->sh->lock);
    return 1;
}

static int rs_task(cb_rs *rs, const cb_task *t, cb_error *err)
{
    int differs = 0;
    if (rs_zero_task(rs, t))
        return 0;
    int rc = rs_task_write(rs, t, cb__rsha_fits(&rs->sh->sha, t), &differs, err);
    if (rc == 0 && differs)
        rc = rs_task_write(rs, t, 0, &differs, err);
    if (rc == 0) /* a failed object is never committed: what is staged can stay there */
        rc = cb_dio_flush(&rs->out, err);
    for (size_t i = 0; rc == 0 && i < t->n_ranges; i++)
        cb__target_writeback(&rs->sh->target, t->ranges[i].off, t->ranges[i].len);
    return rc;
}

static void rs_worker_dispose(cb_rs *rs)
{
    cb__objread_dispose(&rs->rd);
    if (rs->dg.sha != NULL)
        cb__digest_dispose(&rs->dg);
    cb_buf_dispose(&rs->obj);
    cb_dio_dispose(&rs->out);
    free(rs->block);
}

static void rs_fail(rs_shared *sh, int rc, const cb_error *err)
{
    pthread_mutex_lock(&sh->lock);
    if (!sh->failed) {
        sh->failed = rc;
        sh->err = *err;
    }
    pthread_cond_broadcast(&sh->cond);
    pthread_mutex_unlock(&sh->lock);
    cb__rstream_abort(sh->stream); /* its writer, and workers waiting for room, stop */
}

/* Take tasks (objects) until none is left; the first failure stops everybody. */
static void *rs_worker_main(void *arg)
{
    cb_rs *rs = arg;
    rs_shared *sh = rs->sh;
    for (;;) {
        cb_error err = { 0 };
        pthread_mutex_lock(&sh->lock);
        size_t i = sh->failed ? sh->plan->n_tasks : sh->next_task++;
        pthread_mutex_unlock(&sh->lock);
        if (i >= sh->plan->n_tasks)
            break;
        int rc;
        if (sh->stream == NULL)
            rc = rs_task(rs, &sh->plan->tasks[i], &err);
        else if ((rc = cb__rstream_admit(sh->stream, i, &err)) == 0) /* in the window */
            rc = rs_task_stream(rs, i, &sh->plan->tasks[i], &err);
        if (rc < 0 && rc != CB_ECANCELED)
            rs_fail(sh, rc, &err);
        pthread_mutex_lock(&sh->lock);
        sh->objects++;
        pthread_mutex_unlock(&sh->lock);
    }
    pthread_mutex_lock(&sh->lock);
    sh->running--;
    pthread_cond_broadcast(&sh->cond);
    pthread_mutex_unlock(&sh->lock);
    return NULL;
}

static int rs_worker_init(cb_rs *rs, rs_shared *sh, cb_error *err)
{
    memset(rs, 0, sizeof(*rs));
    rs->sh = sh;
    int rc = cb__objread_init(&rs->rd, err);
    if (rc == 0 && sh->sha.block > 0 && (rs->block = cb__malloc(sh->sha.block, err)) == NULL)
        rc = CB_ENOMEM;
    if (rc == 0) {
        cb__target_dio_init(&sh->target, &rs->out, sh->pool);
        rc = cb__digest_init(&rs->dg, sh->sha.block, err); /* all-zero blocks: a constant */
    }
    if (rc < 0) /* a worker that is not started is disposed here, not by rs_run */
        rs_worker_dispose(rs);
    return rc;
}

/* The caller's thread: progress and the cancel hook, until the workers are done. */
static int rs_supervise(rs_shared *sh, cb_progress *progress, cb_error *err)
{
    const cb_restore_opts *o = sh->opts;
    pthread_mutex_lock(&sh->lock);
    for (;;) {
        progress->bytes_done = sh->bytes;
        progress->objects_done = sh->objects;
        progress->bytes_zero = sh->zeros + (sh->stream ? cb__rstream_zeros(sh->stream) : 0);
        int running = sh->running, failed = sh->failed;
        pthread_mutex_unlock(&sh->lock);
        if (o->progress != NULL)
            o->progress(progress, o->progress_payload);
        if (running == 0 || failed)
            break;
        cb_error cerr = { 0 };
        if (o->cancel != NULL && o->cancel(o->cancel_payload)) {
            cb_error_set(&cerr, CB_ECANCELED, "restore cancelled");
            rs_fail(sh, CB_ECANCELED, &cerr);
        } else if (cb__lock_held(sh->store_lock, &cerr) < 0) {
            rs_fail(sh, cerr.code, &cerr);
        }
        pthread_mutex_lock(&sh->lock);
        if (sh->running > 0 && !sh->failed)
            cb__cond_wait_ms(&sh->cond, &sh->lock, 200);
    }
    if (sh->failed) {
        if (err->code == 0)
            *err = sh->err;
        return sh->failed;
    }
    return 0;
}

/* Restore the plan's objects with `n` workers. */
static int rs_run(rs_shared *sh, int n, cb_progress *progress, cb_error *err)
{
    cb_rs *w = cb__calloc((size_t)n, sizeof(*w), err);
    int started = 0, rc = 0;
    if (w == NULL)
        return CB_ENOMEM;
    for (; started < n && rc == 0; started++) {
        if ((rc = rs_worker_init(&w[started], sh, err)) < 0)
            break;
        pthread_mutex_lock(&sh->lock);
        sh->running++;
        pthread_mutex_unlock(&sh->lock);
        if (pthread_create(&w[started].thread, NULL, rs_worker_main, &w[started]) != 0) {
            pthread_mutex_lock(&sh->lock);
            sh->running--;
            pthread_mutex_unlock(&sh->lock);
            rc = cb_error_set(err, CB_ERROR, "cannot start restore threads");
            rs_worker_dispose(&w[started]);
            break;
        }
    }
    if (rc < 0)
        rs_fail(sh, rc, err);
    int src = rs_supervise(sh, progress, err);
    for (int i = 0; i < started; i++) {
        pthread_join(w[i].thread, NULL);
        rs_worker_dispose(&w[i]);
    }
    free(w);
    return rc < 0 ? rc : src;
}

/* Say what the restore does now (progress.step); 0, to sit in a chain of steps. */
static int rs_step(const rs_shared *sh, cb_progress *progress, const char *step)
{
    progress->step = step;
    if (sh->opts->progress != NULL)
        sh->opts->progress(progress, sh->opts->progress_payload);
    return 0;
}

/* Restore into a stream (a descriptor, or opts->target_write when `fd` is -1): refused
 * options, then the workers with the stream's writer. The reorder window holds a few
 * objects per worker: enough to keep them all busy. */
static int rs_stream(rs_shared *sh, int fd, int n, cb_progress *progress, cb_error *err)
{
    const cb_restore_opts *o = sh->opts;
    int cb = fd < 0;
    uint64_t largest = 0;
    int rc;
    if (o->sparse || o->verify)
        return cb_error_set(err, CB_EINVAL,
                            "%s does not apply to a restore into %s: it is written once, in "
                            "order, and cannot be read back",
                            o->verify ? "--verify" : "--sparse",
                            cb ? "a target_write callback" : "a stream (standard output, a pipe)");
    for (size_t i = 0; i < sh->plan->n_tasks; i++)
        if (sh->plan->tasks[i].obj->length > largest)
            largest = sh->plan->tasks[i].obj->length;
    /* each worker holds a whole object here: the workers beyond the threads (connections)
     * only while they fit in the buffer budget */
    int threads = cb__threads(o->threads);
    if (n > threads && largest > 0 && ((uint64_t)n + 1) * largest > RS_BUFFER_BUDGET) {
        uint64_t fit = RS_BUFFER_BUDGET / largest;
        n = fit > (uint64_t)threads + 1 ? (int)(fit - 1) : threads;
    }
    if ((rc = cb__rstream_new(&sh->stream, fd, cb ? o->target_write : NULL,
                              cb ? o->target_write_payload : NULL, cb && o->target_zeroed, sh->plan,
                              ((uint64_t)n + 1) * largest, err)) < 0)
        return rc;
    progress->bytes_total = sh->plan->bytes;
    rs_step(sh, progress, "fetching the objects and writing them to the stream in order");
    if ((rc = rs_run(sh, n, progress, err)) < 0 || (rc = cb__rstream_finish(sh->stream, err)) < 0)
        return rc;
    /* the writer is done now, after the workers' last report: the zeros it skipped */
    progress->bytes_zero = cb__rstream_zeros(sh->stream);
    if (o->progress != NULL)
        o->progress(progress, o->progress_payload);
    return 0;
}

/* cb_restore_opts version 3 without a path: target_pwrite (version 4: sh->target written
 * through it), target_write (sh->target stays closed, *sfd -1), a descriptor that is a
 * stream (*sfd), or one written in place (sh->target). */
static int rs_open_nopath(rs_shared *sh, uint64_t size, int *sfd, cb_error *err)
{
    const cb_restore_opts *o = sh->opts;
    int stream = 0, rc;
    if (o->version < 3)
        return cb_error_set(err, CB_EINVAL,
                            "no restore target given (a target without a path needs "
                            "cb_restore_opts version 3)");
    if (o->target_pwrite != NULL) { /* written as a device is, through the caller */
        if (o->sparse || o->verify)
            return cb_error_set(err, CB_EINVAL,
                                "%s does not apply to a restore through a target_pwrite "
                                "callback: the library cannot %s",
                                o->verify ? "--verify" : "--sparse",
                                o->verify ? "read it back" : "make holes in it");
        return cb__target_open_fn(&sh->target, o->target_pwrite, o->target_flush,
                                  o->target_pwrite_payload, size, o->target_zeroed, err);
    }
    if (o->target_write != NULL)
        return 0;
    if (o->target_fd < 0)
        return cb_error_set(err, CB_EINVAL,
                            "no restore target given: no path, target_write or target_fd");
    if ((rc = cb__target_open_fd(&sh->target, o->target_fd, size, o->sparse, o->target_zeroed,
                                 &stream, err)) < 0)
        return rc;
    *sfd = stream ? o->target_fd : -1;
    return 0;
}

int cb_restore(cb_store *store,
               const char *backup_id,
               const char *target,
               const cb_restore_opts *opts,
               cb_error *err)
{
    static const cb_restore_opts defaults = CB_RESTORE_OPTS_INIT;
    cb_restore_opts current = CB_RESTORE_OPTS_INIT;
    char id[CB_UUID_LEN + 1];
    cb_chain chain = { 0 };
    cb_plan plan = { 0 };
    cb_progress progress = { .phase = "restore" };
    rs_shared sh;
    int rc;

    memset(&sh, 0, sizeof(sh));
    sh.target.fd = sh.target.dfd = -1;
    sh.store = store;
    sh.opts = opts ? opts : &defaults;
    sh.plan = &plan;
    pthread_mutex_init(&sh.lock, NULL);
    pthread_cond_init(&sh.cond, NULL);
    if (sh.opts->version < 1 || sh.opts->version > CB_RESTORE_OPTS_VERSION) {
        rc = cb_error_set(err, CB_EINVAL, "cb_restore_opts version %u is not supported",
                          sh.opts->version);
        goto done;
    }
    if (sh.opts->version < CB_RESTORE_OPTS_VERSION) { /* the fields it has (its version kept:
                                                         1 replaces files, 2 needs overwrite);
                                                         the newer ones keep their defaults */
        memcpy(&current, sh.opts,
               sh.opts->version == 1   ? offsetof(cb_restore_opts, overwrite)
               : sh.opts->version == 2 ? offsetof(cb_restore_opts, target_fd)
                                       : offsetof(cb_restore_opts, target_pwrite));
        sh.opts = &current;
    }
    if ((rc = cb__uuid_normalize(id, backup_id, "backup id", err)) < 0 ||
        (rc = rs_step(&sh, &progress, "taking the store's lock")) < 0 ||
        (rc = cb__lock_take(store, 0, "restore", id, &sh.store_lock, err)) < 0 ||
        (rc = rs_step(&sh, &progress, "reading the chain of backups")) < 0 ||
        (rc = cb__chain_load(store, id, &chain, err)) < 0 ||
        (rc = cb__plan_build(&chain, &plan, err)) < 0 ||
        (rc = rs_step(&sh, &progress, "reading the _sha256file")) < 0 ||
        (rc = cb__rsha_load(&sh.sha, store, &chain, err)) < 0)
        goto done;
    /* an object store's requests wait on the network more than on a CPU: as many objects
     * in flight as the store takes (each worker holds its share of the buffer budget) */
    int n = cb__threads(sh.opts->threads), sfd = cb__rstream_fd(target);
    if (cb_store_connections(store) > n)
        n = cb_store_connections(store) > RS_WORKERS_MAX ? RS_WORKERS_MAX
                                                         : cb_store_connections(store);
    if ((rc = rs_step(&sh, &progress, "opening the target")) < 0 ||
        (target == NULL && (rc = rs_open_nopath(&sh, chain.size, &sfd, err)) < 0))
        goto done;
    if (sfd >= 0 || (target == NULL && sh.target.fd < 0 && sh.target.write_fn == NULL)) {
        /* a stream, or target_write */
        rc = rs_stream(&sh, sfd, n, &progress, err);
        goto done;
    }
    if (target != NULL &&
        (rc = cb__target_open(&sh.target, target, chain.size, sh.opts->sparse,
                              sh.opts->version < 2 || sh.opts->overwrite, err)) < 0)
        goto done;
    progress.bytes_total = plan.bytes;
    sh.buffer_max = RS_BUFFER_BUDGET / (uint64_t)n > RS_BUFFER_MIN ? RS_BUFFER_BUDGET / (uint64_t)n
                                                                   : RS_BUFFER_MIN;
    if (sh.target.dfd >= 0 && (rc = cb_dio_pool_new(&sh.pool, err)) < 0)
        goto done;
    rs_step(&sh, &progress, "fetching the objects and writing the target");
    if ((rc = rs_run(&sh, n, &progress, err)) == 0 &&
        (rc = rs_step(&sh, &progress, "committing the target")) == 0 &&
        (rc = cb__target_commit(&sh.target, err)) == 0 && sh.opts->verify &&
        (rc = rs_step(&sh, &progress, "reading the target back")) == 0)
        rc = cb__restore_verify(store, &chain, &sh.target, sh.opts, err);
done:
    cb__rstream_free(sh.stream);
    cb_dio_pool_free(sh.pool); /* the workers are gone, and with them their buffers */
    cb__target_close(&sh.target);
    cb__plan_dispose(&plan);
    cb__rsha_dispose(&sh.sha);
    cb__chain_dispose(&chain);
    cb__lock_release(sh.store_lock);
    pthread_mutex_destroy(&sh.lock);
    pthread_cond_destroy(&sh.cond);
    return rc;
}
