/* SPDX-License-Identifier: Apache-2.0 */
/* pipeline_setup.c: how a pipeline is shaped, its buffers and threads' state, and teardown. */
#include <stdlib.h>
#include <string.h>

#include "pipeline_impl.h"
#include "../util/util.h"
#include "../hash/hash.h"
#include "../codec/codec.h"

/* How the work is cut: piece and chunk sizes, workers, objects in flight. */
static void pl_init_shape(cb_pl *pl, const cb_pl_job *b, cb_pl_mode mode)
{
    /* pieces: whole sha blocks, never more than an object; a scan only hashes, so smaller
     * pieces (less memory) keep its workers just as busy */
    size_t target = mode == CB_PL_FULL ? PL_PIECE_FULL : PL_PIECE_SCAN;
    pl->piece = target / b->sha_block * b->sha_block;
    if (pl->piece == 0)
        pl->piece = b->sha_block;
    if (pl->piece > b->object_size)
        pl->piece = (size_t)b->object_size;
    /* what a worker reads and processes at a time when it reads for itself */
    pl->chunk = (mode == CB_PL_SCAN ? PL_SCAN_CHUNK : PL_WHOLE_CHUNK) / b->sha_block * b->sha_block;
    if (pl->chunk == 0)
        pl->chunk = b->sha_block;
    if (pl->chunk > pl->piece)
        pl->chunk = pl->piece;
    pl->n_workers = cb__threads(b->threads);
    /* a changed run is a request to the store more than CPU work: an object store keeps
     * more of them in flight than there are CPUs (each such worker holds one piece) */
    pl->n_all = pl->n_workers;
    if (mode == CB_PL_SCAN && b->connections > pl->n_workers)
        pl->n_all = b->connections > PL_CONNECTIONS_MAX ? PL_CONNECTIONS_MAX : b->connections;
    /* a stream of unknown size: the reader finds the last range at EOF and sets it */
    pl->n_ranges = b->vol->size == CB_VOLUME_SIZE_UNKNOWN
                       ? UINT64_MAX
                       : (b->vol->size + b->object_size - 1) / b->object_size;
    /* Enough objects to keep every worker busy: each worker takes whole objects, reading,
     * hashing and compressing a cache-sized chunk at a time. No buffer crosses cores, and
     * a slow object holds up only its own worker. */
    pl->full.whole = mode == CB_PL_FULL && pl->n_ranges >= (uint64_t)pl->n_workers * PL_WHOLE_MIN;
    /* a stream is read in order by one thread: the reader's pieces, not workers reading
     * whole objects for themselves (source.h) */
    if (cb__volume_is_stream(b->vol) || b->vol->in_order)
        pl->full.whole = 0;
    /* Otherwise a full backup reads one object per worker side by side (their MD5s are
     * serial); a scan hashes pieces in parallel and needs no more than one object at a
     * time, and so does zstd, whose own threads then split each object (pipeline_obj.c). */
    pl->full.group = mode == CB_PL_FULL ? (size_t)pl->n_workers : 1;
    if (mode == CB_PL_FULL && !pl->full.whole && b->objw.codec == CB_CODEC_ZSTD)
        pl->full.group = 1;
    if (b->vol->in_order) /* one object at a time: the reader's reads never jump back */
        pl->full.group = 1;
    if (pl->full.group > PL_GROUP_MAX)
        pl->full.group = PL_GROUP_MAX;
    /* a stream holds the group and one object more (source.h): with large objects, fewer
     * side by side (their pieces are still compressed in parallel), down to one */
    if (cb__volume_is_stream(b->vol)) {
        uint64_t fit = PL_STREAM_BUDGET / b->object_size;
        size_t most = fit > 2 ? (size_t)(fit - 1) : 1;
        pl->full.group = pl->full.group > most ? most : pl->full.group;
    }
    pl->full.max_objs = 2 * pl->full.group + 1;
    /* Whole objects go in batches, side by side on a worker so that their MD5s share the
     * vector lanes (md5x.h). Each open object may hold an upload buffer in an object store,
     * so there are at most PL_LANES_TOTAL of them, however many workers. */
    if (pl->full.whole) {
        pl->full.lanes = PL_LANES_TOTAL / (size_t)pl->n_workers;
        pl->full.lanes = pl->full.lanes < 1               ? 1
                         : pl->full.lanes > CB_MD5X_LANES ? CB_MD5X_LANES
                                                          : pl->full.lanes;
        if (cb_piece_supported(b->objw.codec)) /* zlib and bzip2 compress whole pieces */
            pl->chunk = pl->piece;
        pl->full.max_objs = 2 * pl->full.lanes * (size_t)pl->n_workers + 1;
    }
    /* a stream holds what it reads ahead (source_stream.c): its window decides, not holes */
    pl->full.ring = pl->full.max_objs;
    if (mode == CB_PL_FULL && !cb__volume_is_stream(b->vol) && pl->full.ring < PL_ZERO_AHEAD)
        pl->full.ring = PL_ZERO_AHEAD;
}

/* CB_PL_SCAN: the ring of slots that holds hashes until the committer takes them. */
static int pl_init_slots(cb_pl *pl, const cb_pl_job *b, cb_error *err)
{
    size_t per = (pl->piece + b->sha_block - 1) / b->sha_block * 32;
    int unknown = b->vol->size == CB_VOLUME_SIZE_UNKNOWN;
    pl->scan.n_pieces = unknown ? UINT64_MAX : 0;
    for (uint64_t off = 0; !unknown && off < b->vol->size; off += b->object_size) {
        uint64_t len = b->vol->size - off < b->object_size ? b->vol->size - off : b->object_size;
        pl->scan.n_pieces += (len + pl->piece - 1) / pl->piece;
    }
    /* hashing may run well ahead while the committer stores changed runs: a slot costs
     * 32 bytes per sha block of a piece */
    pl->scan.n_slots = 256;
    if ((pl->scan.slots = cb__calloc(pl->scan.n_slots, sizeof(*pl->scan.slots), err)) == NULL)
        return CB_ENOMEM;
    for (size_t i = 0; i < pl->scan.n_slots; i++) {
        pl->scan.slots[i].seq = UINT64_MAX;
        if ((pl->scan.slots[i].digests = cb__malloc(per, err)) == NULL ||
            (pl->scan.slots[i].clean = cb__calloc(per / 32, 1, err)) == NULL)
            return CB_ENOMEM;
    }
    return 0;
}

static pl_piece *pl_piece_new(size_t data_len, cb_error *err)
{
    pl_piece *p = cb__calloc(1, sizeof(*p), err);
    if (p != NULL && data_len > 0 && (p->data = cb__malloc(data_len, err)) == NULL) {
        free(p);
        return NULL;
    }
    return p;
}

/* The pool: a few pieces per worker keep every stage busy; more would only cost memory.
 * Whole objects need none (each worker has its own piece); a scan's pieces carry no data,
 * since its workers read for themselves. */
static int pl_init_pool(cb_pl *pl, cb_error *err)
{
    size_t n = pl->full.whole ? 0 : (size_t)pl->n_workers * (pl->mode == CB_PL_FULL ? 3 : 2) + 2;
    for (size_t i = 0; i < n; i++) {
        pl_piece *p = pl_piece_new(pl->mode == CB_PL_FULL ? pl->piece : 0, err);
        if (p == NULL)
            return CB_ENOMEM;
        p->next = pl->pool;
        pl->pool = p;
    }
    return 0;
}

static int pl_init_worker(cb_pl *pl, pl_worker *wk, cb_error *err)
{
    const cb_pl_job *b = pl->job;
    int rc;
    wk->pl = pl;
    if ((rc = cb__digest_init(&wk->dg, b->sha_block, err)) < 0)
        return rc;
    if (pl->mode == CB_PL_SCAN && (wk->scratch = cb__malloc(pl->chunk, err)) == NULL)
        return CB_ENOMEM;
    if (pl->full.whole && (wk->own = pl_piece_new(0, err)) == NULL)
        return CB_ENOMEM;
    /* zstd compresses each lane's chunks where they are read, in a ring (zstd_ring.h) */
    for (size_t j = 0; j < pl->full.lanes; j++)
        if (b->objw.codec == CB_CODEC_ZSTD) {
            if ((rc = cb_zring_new(&wk->zring[j], 0, pl->chunk, err)) < 0)
                return rc;
        } else if ((wk->lane_data[j] = cb__malloc(pl->chunk, err)) == NULL) {
            return CB_ENOMEM;
        }
    /* pieces of full backups, and the one-piece changed runs of incrementals */
    if (cb_piece_supported(b->objw.codec) &&
        (rc = cb_piece_coder_new(&wk->coder, b->objw.codec, err)) < 0)
        return rc;
    return 0;
}

/* The longest run of zeros read from pl->zeros: a short sha block's, and a hole piece's or
 * chunk's MD5 (the pages of a calloc this large are not touched until read). */
static size_t pl_zeros_len(const cb_pl *pl)
{
    size_t n = pl->job->sha_block;
    n = pl->piece > n ? pl->piece : n;
    return pl->chunk > n ? pl->chunk : n;
}

int cb__pl_init(cb_pl *pl, const cb_pl_job *b, cb_pl_mode mode, cb_error *err)
{
    int rc;
    memset(pl, 0, sizeof(*pl));
    pl->job = b;
    pl->mode = mode;
    pl_init_shape(pl, b, mode);
    pl->reader_done = pl->full.whole; /* whole objects: no reader thread, workers read */
    pthread_mutex_init(&pl->lock, NULL);
    pthread_cond_init(&pl->cond_free, NULL);
    pthread_cond_init(&pl->cond_work, NULL);
    pthread_cond_init(&pl->cond_runs, NULL);
    pthread_cond_init(&pl->cond_done, NULL);
    if ((pl->full.objs = cb__calloc(pl->full.ring, sizeof(*pl->full.objs), err)) == NULL ||
        (pl->zeros = cb__calloc(1, pl_zeros_len(pl), err)) == NULL ||
        (pl->workers = cb__calloc((size_t)pl->n_all, sizeof(*pl->workers), err)) == NULL)
        return CB_ENOMEM;
    if (mode == CB_PL_SCAN && (rc = cb__digest_init(&pl->zdg, b->sha_block, err)) < 0)
        return rc;
    pl->zdg_ready = mode == CB_PL_SCAN;
    if ((mode == CB_PL_SCAN && (rc = pl_init_slots(pl, b, err)) < 0) ||
        (rc = pl_init_pool(pl, err)) < 0 || (rc = cb__pl_runs_init(pl, err)) < 0)
        return rc;
    for (int i = 0; i < pl->n_all; i++) {
        pl->workers[i].runs_only = i >= pl->n_workers;
        if ((rc = pl_init_worker(pl, &pl->workers[i], err)) < 0)
            return rc;
    }
    /* a stream's window: the objects a full backup's reader reads side by side, and one
     * more to read ahead into; a scan needs one object at a time, two read ahead */
    size_t window = mode == CB_PL_FULL ? pl->full.group + 1 : 3;
    return cb__volume_start(b->vol, b->object_size, window, err);
}

static void pl_free_pieces(pl_piece *p)
{
    for (pl_piece *n; p != NULL; p = n) {
        n = p->next;
        cb_buf_dispose(&p->out);
        free(p->data);
        free(p);
    }
}

void cb__pl_dispose(cb_pl *pl)
{
    for (size_t i = 0; pl->full.objs != NULL && i < pl->full.ring; i++)
        cb__pl_obj_free(pl, pl->full.objs[i]);
    pl_free_pieces(pl->pool);
    pl_free_pieces(pl->work_head); /* queued after the workers left, on failure */
    for (int i = 0; pl->workers != NULL && i < pl->n_all; i++) {
        if (pl->workers[i].dg.sha != NULL)
            cb__digest_dispose(&pl->workers[i].dg);
        cb_piece_coder_free(pl->workers[i].coder);
        cb_buf_dispose(&pl->workers[i].zero_packed);
        free(pl->workers[i].scratch);
        if (pl->workers[i].own != NULL)
            pl->workers[i].own->data = NULL; /* a lane's buffer, freed below */
        pl_free_pieces(pl->workers[i].own);
        for (size_t j = 0; j < pl->full.lanes; j++) {
            free(pl->workers[i].lane_data[j]);
            cb_zring_free(pl->workers[i].zring[j]);
        }
    }
    cb__pl_runs_dispose(pl);
    for (size_t i = 0; i < pl->full.n_free_enc; i++)
        cb_encoder_free(pl->full.free_enc[i]);
    for (size_t i = 0; pl->scan.slots != NULL && i < pl->scan.n_slots; i++) {
        free(pl->scan.slots[i].digests);
        free(pl->scan.slots[i].clean);
    }
    free(pl->scan.slots);
    free(pl->workers);
    free(pl->full.objs);
    free(pl->full.zero_digests);
    free(pl->zeros);
    if (pl->zdg_ready)
        cb__digest_dispose(&pl->zdg);
    pthread_mutex_destroy(&pl->lock);
    pthread_cond_destroy(&pl->cond_free);
    pthread_cond_destroy(&pl->cond_work);
    pthread_cond_destroy(&pl->cond_runs);
    pthread_cond_destroy(&pl->cond_done);
}
