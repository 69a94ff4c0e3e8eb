/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backup_incr.c: incremental backups (spec §2.3). Every sha block of the volume is hashed
 * and compared with the parent's hash of the same block; each maximal run of changed blocks
 * inside one object-sized range becomes one object, so unchanged data is not stored, except
 * that runs separated by at most `coalesce` bytes of unchanged blocks are stored as one
 * object covering the gap: one request fewer for those bytes (the store's choice). The
 * new _sha256file still covers the whole volume. Holes of a sparse volume hash to a
 * constant without being read.
 *
 * The pipeline hashes the volume in parallel; the committer takes the hashes piece by piece
 * in volume order, compares them with the parent's, and hands each changed run to the
 * workers, which re-read it (from the page cache, usually), compress and store it
 * (pipeline_run.c). Memory depends on neither the volume nor the object size.
 */
#include <stdlib.h>
#include <string.h>

#include "backup_job.h"
#include "../util/util.h"
#include "../format/format.h"
#include "../catalog/catalog.h"

/* Store the pending run [run_start, run_end) as one object, with the unchanged blocks
 * between its changed ones (the coalesced gaps: the volume's bytes, equal to the parent's). */
static int bk_flush_run(cb_bk *b, cb_pl *pl, cb_error *err)
{
    if (!b->in_run)
        return 0;
    b->in_run = 0;
    b->progress.bytes_coalesced += b->run_gaps;
    return cb__pl_store_run(pl, b->run_start, b->run_end - b->run_start, err);
}

/* A changed block [at, end): it opens a run, or extends the open one over the gap since its
 * last changed block (never longer than `coalesce`: the run was stored before it grew so). */
static void bk_changed(cb_bk *b, uint64_t at, uint64_t end)
{
    if (!b->in_run) {
        b->in_run = 1;
        b->run_start = at;
        b->run_gaps = 0;
    } else
        b->run_gaps += at - b->run_end;
    b->run_end = end;
}

/* A block a dirty bitmap said unchanged and that was read all the same: it must be. */
static int bk_check_sample(
    cb_bk *b, uint64_t at, const unsigned char *got, const unsigned char *old, cb_error *err)
{
    if (memcmp(got, old, 32) == 0)
        return 0;
    return cb_error_set(err, CB_ESOURCE,
                        "dirty bitmap '%s' of volume '%s' says the block at offset %llu is "
                        "unchanged since backup %s, but it differs from that backup's: the "
                        "bitmap was not created or cleared when that backup was taken. Nothing "
                        "was committed; back up without --dirty-bitmap (every block is then "
                        "read), and start the bitmap afresh with the next full backup",
                        b->vol.bitmap ? b->vol.bitmap : "?", b->vol.path, (unsigned long long)at,
                        b->parent.layers[0].where.parts.backup_id);
}

/* Room for a piece's digests, where those of its unchanged blocks become the parent's. */
static int bk_digs_room(cb_bk *b, size_t n, cb_error *err)
{
    if (n * 32 <= b->digs_cap)
        return 0;
    unsigned char *d = cb__realloc(b->digs, n * 32, err);
    if (d == NULL)
        return CB_ENOMEM;
    b->digs = d;
    b->digs_cap = n * 32;
    return 0;
}

/*
 * One piece's hashes, in volume order: compare each block with the parent's, extend or
 * end the run of changed blocks, and store a run when it ends (at an unchanged block or at
 * the end of an object-sized range: runs never cross object boundaries, as in Cinder).
 * Blocks a dirty bitmap says are unchanged were not read: they take the parent's digest.
 */
int cb__bk_commit_incremental(void *ctx, cb_pl *pl, const cb_pl_range *r, cb_error *err)
{
    cb_bk *b = ctx;
    uint64_t first = r->off / b->sha_block;
    int rc;
    if (r->clean != NULL && (rc = bk_digs_room(b, r->n_digests, err)) < 0)
        return rc;
    for (size_t k = 0; k < r->n_digests; k++) {
        unsigned char old[32];
        const unsigned char *cur = r->digests + k * 32;
        int have;
        uint64_t at = r->off + (uint64_t)k * b->sha_block;
        if ((rc = cb__hashes_get(&b->pshas, first + k, old, &have, err)) < 0)
            return rc;
        if (!have)
            return cb_error_set(err, CB_ECORRUPT,
                                "the hash list of parent backup %s ends before block %llu of the "
                                "volume: do a full backup",
                                b->parent.layers[0].where.parts.backup_id,
                                (unsigned long long)(first + k));
        if (r->clean != NULL && r->clean[k] == CB_PL_CLEAN_YES)
            cur = old;
        if (r->clean != NULL && r->clean[k] == CB_PL_CLEAN_SAMPLE &&
            (rc = bk_check_sample(b, at, cur, old, err)) < 0)
            return rc;
        if (r->clean != NULL)
            memcpy(b->digs + k * 32, cur, 32);
        uint64_t end = r->off + r->len - at < b->sha_block ? r->off + r->len : at + b->sha_block;
        if (memcmp(cur, old, 32) != 0)
            bk_changed(b, at, end);
        else {
            b->progress.bytes_unchanged += end - at;
            /* the gap grew past what one more object costs: the run ends where it changed */
            if (b->in_run && end - b->run_end > b->coalesce && (rc = bk_flush_run(b, pl, err)) < 0)
                return rc;
        }
    }
    if ((rc = cb__bk_emit_digests(b, r->clean ? b->digs : r->digests, r->n_digests, err)) < 0)
        return rc;
    return r->range_end ? bk_flush_run(b, pl, err) : 0;
}

/* ---- choosing and checking the parent ---- */

typedef struct bk_candidate {
    cb_found found;
    char *created_at;
} bk_candidate;

static int bk_cand_cmp(const void *a, const void *b)
{
    const bk_candidate *x = a, *y = b;
    int c = strcmp(y->created_at ? y->created_at : "", x->created_at ? x->created_at : "");
    return c ? c : strcmp(y->found.parts.ts, x->found.parts.ts); /* newest first */
}

/* A backup of another volume that may be this disk, moved or renamed (its derived volume id
 * changed with its path): of the same size, complete, the newest; one whose name is the
 * volume file's base name (cinderblock's default --name) first. Describes it in `hint`. */
static void bk_moved_hint(cb_bk *b, const cb_found *all, size_t n, char *hint, size_t cap)
{
    const char *slash = strrchr(b->vol.canonical, '/');
    const char *base = slash ? slash + 1 : b->vol.canonical;
    char best[CB_UUID_LEN + 1] = "", best_vol[CB_UUID_LEN + 1] = "", best_at[40] = "";
    char best_name[128] = "";
    int best_named = 0;
    size_t looked = 0;
    hint[0] = '\0';
    for (size_t i = 0; i < n && looked < 256; i++) {
        cb_chain ch = { 0 };
        cb_error lerr = { 0 };
        if (strcmp(all[i].parts.volume_id, b->volume_id) == 0)
            continue;
        looked++;
        if (cb__chain_load(b->store, all[i].parts.backup_id, &ch, &lerr) < 0)
            continue;
        const cb_meta *m = &ch.layers[0].meta;
        const char *at = m->created_at ? m->created_at : "";
        int named = m->name != NULL && strcmp(m->name, base) == 0;
        if (ch.size == b->vol.size && (best[0] == '\0' || named > best_named ||
                                       (named == best_named && strcmp(at, best_at) > 0))) {
            snprintf(best, sizeof(best), "%s", all[i].parts.backup_id);
            snprintf(best_vol, sizeof(best_vol), "%s",
                     m->volume_id ? m->volume_id : all[i].parts.volume_id);
            snprintf(best_at, sizeof(best_at), "%s", at);
            snprintf(best_name, sizeof(best_name), "%s", m->name ? m->name : "");
            best_named = named;
        }
        cb__chain_dispose(&ch);
    }
    if (best[0] == '\0')
        return;
    snprintf(hint, cap,
             "; backup %s (volume %s%s%s%s, created %s) holds a volume of the same size: if "
             "this is that disk, moved or renamed, continue its chain with `--volume-id %s "
             "--incremental`, or `--volume-id %s --parent %s`",
             best, best_vol, best_name[0] ? ", named '" : "", best_name, best_name[0] ? "'" : "",
             best_at[0] ? best_at : "unknown", best_vol, best_vol, best);
}

/* The newest backup of this volume whose chain loads and checks completely. */
static int bk_newest_complete(cb_bk *b, cb_error *err)
{
    cb_found *all = NULL;
    bk_candidate *c = NULL;
    size_t n = 0, nc = 0;
    int rc = cb__catalog_scan(b->store, &all, &n, err);
    if (rc == 0 && (c = cb__calloc(n + 1, sizeof(*c), err)) == NULL)
        rc = CB_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        cb_meta m;
        cb_error merr = { 0 };
        if (strcmp(all[i].parts.volume_id, b->volume_id) != 0 ||
            cb__catalog_read_meta(b->store, &all[i], &m, &merr) < 0)
            continue; /* another volume, or damaged: not a candidate */
        c[nc].found = all[i];
        c[nc].created_at = m.created_at;
        m.created_at = NULL;
        all[i] = (cb_found){ 0 };
        nc++;
        cb__meta_dispose(&m);
    }
    qsort(c, nc, sizeof(*c), bk_cand_cmp);
    for (size_t i = 0; rc == 0 && i < nc; i++) {
        cb_error lerr = { 0 };
        if (cb__chain_load(b->store, c[i].found.parts.backup_id, &b->parent, &lerr) == 0)
            break; /* a complete chain: this is the parent */
    }
    if (rc == 0 && b->parent.n == 0) {
        char hint[700] = "";
        if (nc == 0 && b->opts->volume_id == NULL) /* the id was derived from the path */
            bk_moved_hint(b, all, n, hint, sizeof(hint));
        rc = cb_error_set(err, CB_ENOTFOUND,
                          "no complete backup of volume %s to base an incremental backup on: "
                          "do a full backup first%s",
                          b->volume_id, hint);
    }
    for (size_t i = 0; i < nc; i++) {
        cb__found_dispose(&c[i].found);
        free(c[i].created_at);
    }
    free(c);
    cb__catalog_free(all, n);
    return rc;
}

static int bk_named_parent(cb_bk *b, cb_error *err)
{
    char id[CB_UUID_LEN + 1];
    cb_error lerr = { 0 };
    int rc;
    if ((rc = cb__uuid_normalize(id, b->opts->parent_id, "parent backup id", err)) < 0)
        return rc;
    if ((rc = cb__chain_load(b->store, id, &b->parent, &lerr)) == 0)
        return 0;
    if (rc == CB_ENOTFOUND && strstr(lerr.msg, id) != NULL && strstr(lerr.msg, "needs") == NULL)
        return cb_error_set(err, CB_ENOTFOUND, "parent backup %s not found in the store", id);
    return cb_error_set(err, rc, "parent backup %s is not complete: %s", id, lerr.msg);
}

int cb__bk_parent(cb_bk *b, cb_error *err)
{
    uint64_t block;
    int rc;
    if ((rc = b->opts->parent_id ? bk_named_parent(b, err) : bk_newest_complete(b, err)) < 0)
        return rc;
    const cb_layer *p = &b->parent.layers[0];
    const char *pvol = p->meta.volume_id ? p->meta.volume_id : p->where.parts.volume_id;
    if (b->volume_id[0] == '\0' && /* a stream without --volume-id: the parent's volume */
        (rc = cb__uuid_normalize(b->volume_id, pvol, "volume id", err)) < 0)
        return rc;
    if (strcmp(pvol, b->volume_id) != 0)
        return cb_error_set(err, CB_EINVAL,
                            "parent backup %s is of volume %s, not of volume %s (give "
                            "--volume-id to back up this disk as that volume)",
                            p->where.parts.backup_id, pvol, b->volume_id);
    if (cb__volume_is_stream(&b->vol)) {
        /* a stream must be the parent's size: checked now if given, else at its end (and
         * it may not grow past it meanwhile) */
        if (b->vol.size != CB_VOLUME_SIZE_UNKNOWN && b->vol.size != b->parent.size)
            return cb_error_set(err, CB_EINVAL,
                                "--size %llu differs from the size of parent backup %s (%llu "
                                "bytes): an incremental must be of the same size (do a full "
                                "backup)",
                                (unsigned long long)b->vol.size, p->where.parts.backup_id,
                                (unsigned long long)b->parent.size);
        cb__volume_set_limit(&b->vol, b->parent.size, "the size of the parent backup");
    } else if (b->vol.size > b->parent.size)
        return cb_error_set(err, CB_EINVAL,
                            "the volume grew from %llu to %llu bytes since backup %s: do a full "
                            "backup",
                            (unsigned long long)b->parent.size, (unsigned long long)b->vol.size,
                            p->where.parts.backup_id);
    if ((rc = cb__hashes_open(&b->pshas, b->store, &p->where, &block, err)) < 0)
        return rc;
    if (b->opts->sha_block == 0 && block <= (1u << 30))
        b->sha_block = (uint32_t)block; /* follow the parent unless told otherwise */
    if (block != b->sha_block)
        return cb_error_set(err, CB_EINVAL,
                            "the sha block size changed: parent backup %s uses %llu, this backup "
                            "%u: do a full backup",
                            p->where.parts.backup_id, (unsigned long long)block, b->sha_block);
    return 0;
}
