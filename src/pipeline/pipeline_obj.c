/* SPDX-License-Identifier: Apache-2.0 */
/* pipeline_obj.c: the reader, and each object's sequence from first piece to close. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_impl.h"
#include "../util/util.h"
#include "../hash/hash.h"
#include "../codec/codec.h"
#include "../format/format.h"

#define PL_SAMPLES 8
#define PL_SAMPLE_LEN 4096

/* Free an object: the committer does it while workers run, so what goes back to the
 * pipeline (pieces still waiting in it after a failure, its encoder) goes under the lock. */
void cb__pl_obj_free(cb_pl *pl, pl_obj *o)
{
    cb_encoder *spare = NULL;
    if (o == NULL)
        return;
    cb__objw_dispose(&o->ow); /* an unfinished object is abandoned: nothing is committed */
    EVP_MD_CTX_free(o->md5ctx);
    pthread_mutex_lock(&pl->lock);
    for (size_t i = 0; o->arrived != NULL && i < o->n_pieces; i++)
        if (o->arrived[i] != NULL) {
            o->arrived[i]->next = pl->pool;
            pl->pool = o->arrived[i];
        }
    if (o->enc != NULL &&
        pl->full.n_free_enc < sizeof(pl->full.free_enc) / sizeof(pl->full.free_enc[0]))
        pl->full.free_enc[pl->full.n_free_enc++] = o->enc;
    else
        spare = o->enc;
    pthread_mutex_unlock(&pl->lock);
    cb_encoder_free(spare);
    pthread_mutex_destroy(&o->lock);
    free(o->arrived);
    if (!o->shared_digests)
        free(o->digests);
    free(o->name);
    free(o);
}

/* ---- the sequence of one object: strictly in piece order, on whichever thread ---- */

static cb_encoder *pl_take_encoder(cb_pl *pl)
{
    cb_encoder *e = NULL;
    pthread_mutex_lock(&pl->lock);
    if (pl->full.n_free_enc > 0)
        e = pl->full.free_enc[--pl->full.n_free_enc];
    pthread_mutex_unlock(&pl->lock);
    return e;
}

/* How an object's compressed form is made on this path (objwrite.h). */
static cb_objw_form pl_form(const cb_pl *pl, const pl_obj *o)
{
    if (o->raw)
        return CB_OBJW_RAW;
    if (cb_piece_supported(pl->job->objw.codec)) /* zlib and bzip2 compress whole pieces */
        return CB_OBJW_PIECES;
    return o->zr != NULL ? CB_OBJW_RING : CB_OBJW_STREAM;
}

/* A streaming encoder for one object, from the spares. Objects run in parallel with each
 * other; when there are too few of them to keep every worker busy (1.86 GiB posix
 * objects), the codec's own threads split each one instead, still into one frame. */
static int pl_object_encoder(cb_pl *pl, pl_obj *o, cb_error *err)
{
    int rc;
    if ((o->enc = pl_take_encoder(pl)) == NULL &&
        (rc = cb_encoder_new(&o->enc, pl->job->objw.codec, 0, err)) < 0)
        return rc;
    /* a stream's zstd objects go one at a time (pipeline_setup.c): split each one too */
    int inner = pl->n_ranges < (uint64_t)pl->n_workers * 2 || cb__volume_is_stream(pl->job->vol)
                    ? pl->n_workers
                    : 0;
    return cb_encoder_set_workers(o->enc, inner, err);
}

static int pl_begin_object(cb_pl *pl, pl_obj *o, cb_error *err)
{
    cb_objw_form form = pl_form(pl, o);
    int rc;
    /* whole objects: the worker's lanes compute the MD5s (cb__pl_whole_batch) */
    if (o->has_kept) { /* only read and summed: pl_finish_kept decides */
        if (!pl->full.whole && (o->md5ctx = EVP_MD_CTX_new()) == NULL)
            return cb_error_set(err, CB_ENOMEM, "out of memory");
        if (o->md5ctx != NULL)
            EVP_DigestInit_ex(o->md5ctx, EVP_md5(), NULL);
        return 0;
    }
    if (form == CB_OBJW_STREAM && (rc = pl_object_encoder(pl, o, err)) < 0)
        return rc;
    return cb__objw_open(&o->ow, &pl->job->objw, o->name, o->len, form, pl->full.whole, o->enc,
                         o->zr, err);
}

static int pl_sequence_piece(cb_pl *pl, pl_obj *o, pl_piece *p, cb_error *err)
{
    int rc;
    /* a hole's bytes were not read: they are zeros, and take the writer's zero path */
    const unsigned char *data = p->hole ? pl->zeros : p->data;
    if (p->index == 0 && (rc = pl_begin_object(pl, o, err)) < 0)
        return rc;
    if (o->has_kept) {
        if (o->md5ctx != NULL)
            EVP_DigestUpdate(o->md5ctx, data, p->len);
        return 0;
    }
    if (p->hole)
        return cb__objw_feed_zeros(&o->ow, p->len, &p->out, err);
    return cb__objw_feed(&o->ow, data, p->len, &p->out, err);
}

/* Resuming: the object stored before is these bytes, or it is stored after all, by this
 * worker, as a changed run would be. */
static int pl_finish_kept(cb_pl *pl, pl_worker *wk, pl_obj *o, cb_error *err)
{
    unsigned int n = 16;
    if (o->md5ctx != NULL)
        EVP_DigestFinal_ex(o->md5ctx, o->md5sum, &n);
    if (memcmp(o->md5sum, o->kept.md5, 16) == 0) {
        o->res = (cb_objw_result){ .comp = o->kept.comp, .stored = o->kept.stored };
        memcpy(o->res.md5, o->md5sum, 16);
        o->reused = 1;
        return 0;
    }
    return cb__pl_store_range(pl, wk, o->name, o->off, o->len, 0, &o->res, &o->reused, err);
}

static int pl_finish_object(cb_pl *pl, pl_worker *wk, pl_obj *o, cb_error *err)
{
    pl_reread rr = { .vol = pl->job->vol, .off = o->off };
    if (o->has_kept)
        return pl_finish_kept(pl, wk, o, err);
    return cb__objw_close(&o->ow, pl->full.whole ? o->md5sum : NULL, cb__pl_reread, &rr, NULL,
                          pl->piece, &o->res, err);
}

int cb__pl_deliver(cb_pl *pl, pl_worker *wk, pl_piece *p, cb_error *err)
{
    pl_obj *o = p->obj;
    int rc = 0, finished;
    pthread_mutex_lock(&o->lock);
    o->arrived[p->index] = p;
    if (o->running) { /* the thread feeding this object will take it in turn */
        pthread_mutex_unlock(&o->lock);
        return 0;
    }
    o->running = 1;
    while (rc == 0 && o->next_seq < o->n_pieces && o->arrived[o->next_seq] != NULL) {
        pl_piece *q = o->arrived[o->next_seq];
        o->arrived[o->next_seq++] = NULL;
        pthread_mutex_unlock(&o->lock);
        rc = cb__pl_failed(pl) ? CB_ECANCELED : pl_sequence_piece(pl, o, q, err);
        cb__pl_release(pl, q);
        pthread_mutex_lock(&o->lock);
    }
    /* checked and cleared under the lock: a piece that arrives now starts a new run */
    finished = rc == 0 && o->next_seq == o->n_pieces;
    o->running = 0;
    pthread_mutex_unlock(&o->lock);
    if (rc == CB_ECANCELED && err->code == 0)
        return 0; /* another stage failed first; it reports */
    if (rc == 0 && finished && (rc = pl_finish_object(pl, wk, o, err)) == 0)
        cb__pl_obj_done(pl, o);
    return rc;
}

/* ---- the reader ---- */

/* Whether an object is worth compressing, from a few samples spread over it. */
static int pl_sample_raw(cb_pl *pl, uint64_t off, uint64_t len)
{
    unsigned char buf[PL_SAMPLE_LEN * PL_SAMPLES];
    cb_error err = { 0 };
    if (pl->job->objw.codec == CB_CODEC_NONE)
        return 0;
    if (pl->job->vol->raw_hint != NULL)
        return pl->job->vol->raw_hint(pl->job->vol->raw_hint_payload, off, len);
    if (len < sizeof(buf) * 4)
        return 0;
    for (int i = 0; i < PL_SAMPLES; i++) {
        uint64_t at = off + (len - PL_SAMPLE_LEN) / (PL_SAMPLES - 1) * (uint64_t)i;
        if (cb__volume_pread(pl->job->vol, buf + i * PL_SAMPLE_LEN, PL_SAMPLE_LEN, at, &err) < 0)
            return 0; /* the real read will report it */
    }
    for (int i = 0; i < PL_SAMPLES; i++)
        if (!cb_looks_incompressible(buf + i * PL_SAMPLE_LEN, PL_SAMPLE_LEN))
            return 0;
    return 1;
}

/* The digests of `len` bytes of a hole into d: the zero block's, and a short last one's. */
static int pl_zero_digests(cb_pl *pl, uint64_t len, unsigned char *d, cb_error *err)
{
    uint32_t blk = pl->job->sha_block;
    cb_digest dg;
    int rc = cb__digest_init(&dg, blk, err);
    if (rc < 0)
        return rc;
    for (uint64_t at = 0; at < len; at += blk, d += 32) {
        if (len - at >= blk)
            memcpy(d, dg.zero_sha, 32);
        else
            cb__digest_sha256(&dg, pl->zeros, (size_t)(len - at), d);
    }
    cb__digest_dispose(&dg);
    return 0;
}

/* An object-sized hole's digests, shared by every such object: made by the first worker
 * that meets one, under the lock (a zero object costs no digests of its own). */
static int pl_shared_zero_digests(cb_pl *pl, pl_obj *o, cb_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&pl->lock);
    if (pl->full.zero_digests == NULL) {
        size_t blocks = (size_t)(pl->job->object_size / pl->job->sha_block);
        unsigned char *d = cb__malloc(blocks * 32, err);
        if (d == NULL)
            rc = CB_ENOMEM;
        else if ((rc = pl_zero_digests(pl, pl->job->object_size, d, err)) < 0)
            free(d);
        else
            pl->full.zero_digests = d;
    }
    o->digests = pl->full.zero_digests;
    o->shared_digests = rc == 0;
    pthread_mutex_unlock(&pl->lock);
    return rc;
}

/* An object of `size` bytes of volume (CB_VOLUME_SIZE_UNKNOWN: a stream's object, whole
 * unless the stream ended in it). */
static int pl_new_object(cb_pl *pl, uint64_t index, uint64_t size, pl_obj **out, cb_error *err)
{
    const cb_pl_job *j = pl->job;
    pl_obj *o = cb__calloc(1, sizeof(*o), err);
    uint64_t data;
    int rc;
    if (o == NULL)
        return CB_ENOMEM;
    pthread_mutex_init(&o->lock, NULL);
    o->index = index;
    o->off = index * j->object_size;
    o->len = size - o->off < j->object_size ? size - o->off : j->object_size;
    o->n_pieces = (size_t)((o->len + pl->piece - 1) / pl->piece);
    size_t blocks = (size_t)((o->len + j->sha_block - 1) / j->sha_block);
    *out = o;
    if ((o->name = cb__name_object(j->prefix, index + 1, err)) == NULL)
        return CB_ENOMEM;
    if ((rc = cb__volume_next_data(j->vol, o->off, &data, err)) < 0)
        return rc;
    o->zero = data >= o->off + o->len;
    /* every digest of a zero object is the zero block's; the committer stores it */
    if (o->zero && o->len == j->object_size && j->object_size % j->sha_block == 0)
        return pl_shared_zero_digests(pl, o, err);
    if ((o->digests = cb__malloc(blocks * 32, err)) == NULL)
        return CB_ENOMEM;
    if (o->zero) /* the volume's short last object */
        return pl_zero_digests(pl, o->len, o->digests, err);
    if ((o->arrived = cb__calloc(o->n_pieces, sizeof(*o->arrived), err)) == NULL)
        return CB_ENOMEM;
    if (j->kept != NULL && j->kept(j->ctx, o->name, o->len, &o->kept)) {
        o->has_kept = 1;
        o->raw = 1; /* nothing to compress: it is only read, hashed and summed */
        return 0;
    }
    o->raw = pl->mode == CB_PL_FULL && pl_sample_raw(pl, o->off, o->len);
    return 0;
}

/* Whether an object must wait to be published: the ring is full from the committer's object
 * on, or it would be one more data object in flight beyond the frontier than allowed. Zero
 * objects never wait for data ones, so a sparse volume's workers run ahead to its data; an
 * object below the frontier never waits for in_flight either: objects are taken in order,
 * so the lowest one not committed (and its batch) always gets in. Under the lock. */
static int pl_publish_waits(const cb_pl *pl, const pl_obj *o)
{
    if (o->index - pl->committed >= pl->full.ring)
        return 1;
    return !o->zero && o->index >= pl->full.frontier && pl->full.in_flight >= pl->full.max_objs;
}

/* Publish an object once there is room for it among the objects in flight. */
static int pl_publish(cb_pl *pl, pl_obj *o)
{
    pthread_mutex_lock(&pl->lock);
    while (!pl->failed && pl_publish_waits(pl, o))
        pthread_cond_wait(&pl->cond_free, &pl->lock);
    int failed = pl->failed;
    if (!failed) {
        pl->full.objs[o->index % pl->full.ring] = o;
        if (!o->zero) {
            pl->full.in_flight++;
            pl->full.frontier = o->index + 1 > pl->full.frontier ? o->index + 1 : pl->full.frontier;
        }
        if (o->zero) {
            o->done = 1;
            pthread_cond_broadcast(&pl->cond_done);
        }
    }
    pthread_mutex_unlock(&pl->lock);
    return failed;
}

static pl_piece *pl_take_piece(cb_pl *pl)
{
    pthread_mutex_lock(&pl->lock);
    while (pl->pool == NULL && !pl->failed)
        pthread_cond_wait(&pl->cond_free, &pl->lock);
    pl_piece *p = pl->failed ? NULL : pl->pool;
    if (p != NULL)
        pl->pool = p->next;
    pthread_mutex_unlock(&pl->lock);
    return p;
}

static void pl_queue(cb_pl *pl, pl_piece *p)
{
    pthread_mutex_lock(&pl->lock);
    p->next = NULL;
    if (pl->work_tail != NULL)
        pl->work_tail->next = p;
    else
        pl->work_head = p;
    pl->work_tail = p;
    pthread_cond_signal(&pl->cond_work);
    pthread_mutex_unlock(&pl->lock);
}

static int pl_read_piece(cb_pl *pl, pl_obj *o, size_t i, pl_piece *p, cb_error *err)
{
    p->obj = o;
    p->slot = NULL;
    p->index = i;
    p->off = o->off + (uint64_t)i * pl->piece;
    p->len = o->off + o->len - p->off < pl->piece ? (size_t)(o->off + o->len - p->off) : pl->piece;
    /* a piece wholly in a hole is not read, nor its buffer zeroed: every stage takes it as
     * zeros (pl_hash_blocks, cb__pl_prepare, pl_sequence_piece) */
    return cb__volume_read_sparse(pl->job->vol, p->data, p->len, p->off, 0, &p->hole, err);
}

/* A stream ended before object `index`: there are no more ranges (the committer stops). */
static void pl_set_end(cb_pl *pl, uint64_t index)
{
    pthread_mutex_lock(&pl->lock);
    pl->n_ranges = index;
    pthread_cond_broadcast(&pl->cond_done);
    pthread_mutex_unlock(&pl->lock);
}

/* Create an object and publish it; NULL with rc 0 when it is wholly in a hole. A stream's
 * object is first waited for; past its end, CB_ITEROVER (and the ranges end there). */
static int pl_open_object(cb_pl *pl, uint64_t index, pl_obj **out, cb_error *err)
{
    pl_obj *o = NULL;
    uint64_t size;
    int rc = cb__volume_wait(pl->job->vol, index * pl->job->object_size, &size, err);
    *out = NULL;
    if (rc < 0)
        return rc;
    if (size != CB_VOLUME_SIZE_UNKNOWN && index * pl->job->object_size >= size) {
        pl_set_end(pl, index);
        return CB_ITEROVER;
    }
    rc = pl_new_object(pl, index, size, &o, err);
    if (rc < 0) {
        cb__pl_obj_free(pl, o);
        return rc;
    }
    /* once published, the object belongs to the pipeline: a zero object, or one whose
     * last piece is done, may be committed and freed at any moment */
    int zero = o->zero;
    if ((rc = pl_publish(pl, o)) != 0) {
        cb__pl_obj_free(pl, o);
        return rc;
    }
    *out = zero ? NULL : o;
    return 0;
}

/* Lane j's next chunk, at `at` in its object: read, hashed, and fed to the object's codec
 * and writer while it is still in this core's cache. Its MD5 comes after, with the other
 * lanes' chunks. */
static int pl_lane_chunk(cb_pl *pl, pl_worker *wk, pl_obj *o, size_t j, uint64_t at, cb_error *err)
{
    pl_piece *p = wk->own;
    p->obj = o;
    p->slot = NULL;
    p->index = (size_t)(at / pl->chunk);
    p->off = o->off + at;
    p->len = o->len - at < pl->chunk ? (size_t)(o->len - at) : pl->chunk;
    p->data = wk->zring[j] != NULL ? cb_zring_slot(wk->zring[j]) : wk->lane_data[j];
    int rc = cb__volume_read_sparse(pl->job->vol, p->data, p->len, p->off, 0, &p->hole, err);
    if (rc == 0 && p->hole)
        p->data = pl->zeros; /* for the MD5 lanes; nothing else reads a hole's bytes */
    if (rc == 0 && (rc = cb__pl_prepare(pl, wk, p, err)) == 0 &&
        (rc = pl_sequence_piece(pl, o, p, err)) == 0)
        cb__pl_progress(pl, p->len);
    return rc;
}

/* The MD5s of the batch, then each object closed and handed to the committer. */
static int pl_finish_batch(cb_pl *pl, pl_worker *wk, pl_obj **o, size_t n, cb_error *err)
{
    int rc = 0;
    for (size_t j = 0; rc == 0 && j < n; j++) {
        if (o[j] == NULL)
            continue;
        cb__md5x_final(&wk->md5, (unsigned)j, o[j]->md5sum);
        if ((rc = pl_finish_object(pl, wk, o[j], err)) == 0)
            cb__pl_obj_done(pl, o[j]); /* the committer's from here on */
    }
    return rc;
}

/*
 * Objects [first, first + n), start to finish, side by side on this worker: a chunk of
 * each in turn, then their MD5s together in the lanes of one vector (md5x.h). An MD5 is
 * serial within its object, so this is how one core computes several at once.
 */
int cb__pl_whole_batch(cb_pl *pl, pl_worker *wk, uint64_t first, size_t n, cb_error *err)
{
    pl_obj *o[CB_MD5X_LANES] = { NULL };
    uint64_t longest = 0;
    int rc = 0;
    for (size_t j = 0; rc == 0 && j < n; j++) {
        if ((rc = pl_open_object(pl, first + j, &o[j], err)) != 0 || o[j] == NULL)
            continue; /* a zero object is already done */
        cb__md5x_reset(&wk->md5, (unsigned)j);
        o[j]->zr = wk->zring[j];
        longest = o[j]->len > longest ? o[j]->len : longest;
    }
    for (uint64_t at = 0; rc == 0 && at < longest; at += pl->chunk) {
        const unsigned char *data[CB_MD5X_LANES] = { NULL };
        size_t len[CB_MD5X_LANES] = { 0 };
        for (size_t j = 0; rc == 0 && j < n; j++) {
            /* per chunk, not per round of the lanes: a round is up to 8 chunks, seconds of
             * bzip2, and a cancel (or another stage's failure) must stop within one */
            if (cb__pl_failed(pl))
                return 0; /* another stage failed first; it reports */
            if (o[j] == NULL || at >= o[j]->len)
                continue;
            rc = pl_lane_chunk(pl, wk, o[j], j, at, err);
            data[j] = wk->own->data;
            len[j] = wk->own->len;
        }
        if (rc == 0)
            cb__md5x_update(&wk->md5, data, len);
    }
    if (rc == 0)
        rc = pl_finish_batch(pl, wk, o, n, err);
    return rc > 0 ? 0 : rc; /* positive: failed elsewhere, and that stage reports */
}

/* Create and publish the objects [first, first + n). */
static int
pl_open_group(cb_pl *pl, uint64_t first, size_t n, pl_obj **group, size_t *pieces, cb_error *err)
{
    for (size_t j = 0; j < n; j++) {
        int rc = pl_open_object(pl, first + j, &group[j], err);
        if (rc == CB_ITEROVER) { /* a stream ended: the group is shorter */
            for (; j < n; j++)
                group[j] = NULL, pieces[j] = 0;
            return CB_ITEROVER;
        }
        if (rc != 0)
            return rc;
        /* an object with pieces still to read cannot be finished, nor freed */
        pieces[j] = group[j] != NULL ? group[j]->n_pieces : 0;
    }
    return 0;
}

/*
 * Read a group of objects with their pieces interleaved (piece 0 of each, then piece 1 of
 * each, ...). An object's MD5 and writer take its pieces strictly in order, so reading
 * several objects side by side is what lets several of them progress at once, with a pool
 * far smaller than the objects.
 */
static int pl_read_group(cb_pl *pl, uint64_t first, size_t n, cb_error *err)
{
    pl_obj *group[PL_GROUP_MAX];
    size_t pieces[PL_GROUP_MAX];
    int rc = pl_open_group(pl, first, n, group, pieces, err), last = rc == CB_ITEROVER;
    if (last)
        rc = 0;
    for (size_t i = 0, more = 1; rc == 0 && more; i++) {
        more = 0;
        for (size_t j = 0; rc == 0 && j < n; j++) {
            if (i >= pieces[j])
                continue;
            pl_piece *p = pl_take_piece(pl);
            if (p == NULL)
                return CB_ECANCELED; /* failed elsewhere */
            if ((rc = pl_read_piece(pl, group[j], i, p, err)) < 0) {
                cb__pl_release(pl, p);
                return rc;
            }
            pl_queue(pl, p);
            more = more || i + 1 < pieces[j];
        }
    }
    return rc == 0 && last ? CB_ITEROVER : rc;
}

/* CB_PL_SCAN: 1 if the piece lies in a hole of a file or an NBD export (its digests are
 * then the zero block's, set here: a worker would only copy them, at the cost of two
 * wake-ups per piece), 0 if it must be read. */
static int pl_scan_hole(cb_pl *pl, pl_slot *slot, uint64_t off, size_t len)
{
    uint32_t blk = pl->job->sha_block;
    uint64_t data;
    cb_error e = { 0 };
    if (cb__volume_is_stream(pl->job->vol) ||
        cb__volume_next_data(pl->job->vol, off, &data, &e) < 0 || data < off + len)
        return 0; /* (a failure is the worker's to report) */
    for (size_t k = 0; k * blk < len; k++) {
        size_t n = len - k * blk < blk ? len - k * blk : blk;
        if (n == blk)
            memcpy(slot->digests + 32 * k, pl->zdg.zero_sha, 32);
        else
            cb__digest_sha256(&pl->zdg, pl->zeros, n, slot->digests + 32 * k);
    }
    return 1;
}

/* CB_PL_SCAN: pieces in volume order (never across an object boundary), each with the slot
 * its hashes go to; waits while the committer is a ring behind. The workers read them. */
static int pl_scan_piece(cb_pl *pl, uint64_t seq, uint64_t off, size_t len, int range_end)
{
    pthread_mutex_lock(&pl->lock);
    if (seq - pl->committed >= pl->scan.n_slots) { /* full: wait until half of it is free */
        pl->scan.wake_at = seq - pl->scan.n_slots / 2;
        while (!pl->failed && pl->committed < pl->scan.wake_at)
            pthread_cond_wait(&pl->cond_free, &pl->lock);
    }
    int failed = pl->failed;
    pl_slot *slot = &pl->scan.slots[seq % pl->scan.n_slots];
    if (!failed) {
        slot->seq = seq;
        slot->off = off;
        slot->len = len;
        slot->range_end = range_end;
        slot->done = 0;
    }
    pthread_mutex_unlock(&pl->lock);
    if (failed)
        return failed;
    int clean =
        cb__volume_has_clean(pl->job->vol) ? cb__pl_scan_clean(pl, off, len, slot->clean) : 0;
    slot->any_clean = clean > 0;
    /* nothing to read or hash: a dirty bitmap says none of it changed, or it is a hole */
    if (clean == 2 || pl_scan_hole(pl, slot, off, len)) {
        pthread_mutex_lock(&pl->lock);
        slot->done = 1;
        pl->bytes_done += len;
        pthread_cond_broadcast(&pl->cond_done);
        pthread_mutex_unlock(&pl->lock);
        return 0;
    }
    pl_piece *p = pl_take_piece(pl);
    if (p == NULL)
        return CB_ECANCELED;
    p->obj = NULL;
    p->slot = slot;
    p->index = 0;
    p->off = off;
    p->len = len;
    pl_queue(pl, p); /* its worker reads it (pipeline.c) */
    return 0;
}

void *cb__pl_scan_reader_main(void *arg)
{
    cb_pl *pl = arg;
    const cb_pl_job *j = pl->job;
    cb_error err = { 0 };
    uint64_t seq = 0, size = j->vol->size;
    int rc = 0; /* non-zero only when another stage failed (that stage reports), or the
                   stream did (reported here) */
    for (uint64_t off = 0; rc == 0; off += j->object_size) {
        /* a stream's object is read before its pieces go to the workers */
        if ((rc = cb__volume_wait(j->vol, off, &size, &err)) < 0) {
            cb__pl_fail(pl, rc, &err);
            break;
        }
        if (size != CB_VOLUME_SIZE_UNKNOWN && off >= size)
            break;
        uint64_t end = size - off < j->object_size ? size : off + j->object_size;
        for (uint64_t at = off; rc == 0 && at < end; at += pl->piece)
            rc = pl_scan_piece(pl, seq++, at, end - at < pl->piece ? (size_t)(end - at) : pl->piece,
                               at + pl->piece >= end);
    }
    pthread_mutex_lock(&pl->lock);
    pl->scan.n_pieces = seq; /* what was queued: all of it, unless the pipeline failed */
    pthread_cond_broadcast(&pl->cond_done);
    pl->reader_done = 1;
    cb__pl_wake_all(pl);
    pthread_mutex_unlock(&pl->lock);
    return NULL;
}

void *cb__pl_reader_main(void *arg)
{
    cb_pl *pl = arg;
    cb_error err = { 0 };
    int rc = 0;
    /* only this thread changes n_ranges (a stream's, at its end) */
    for (uint64_t i = 0; rc == 0 && i < pl->n_ranges; i += pl->full.group) {
        size_t n = pl->n_ranges - i < pl->full.group ? (size_t)(pl->n_ranges - i) : pl->full.group;
        rc = pl_read_group(pl, i, n, &err);
    }
    if (rc == CB_ITEROVER)
        rc = 0;
    if (rc < 0 && err.code != 0)
        cb__pl_fail(pl, rc, &err);
    pthread_mutex_lock(&pl->lock);
    pl->reader_done = 1;
    cb__pl_wake_all(pl);
    pthread_mutex_unlock(&pl->lock);
    return NULL;
}
