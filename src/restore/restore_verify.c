/* SPDX-License-Identifier: Apache-2.0 */
/* restore_verify.c: see restore_verify.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore_verify.h"
#include "../catalog/catalog.h"
#include "../util/util.h"
#include "../hash/hash.h"
#include "../format/format.h"

#define RV_READ (8u << 20)         /* bytes read back at a time (whole sha blocks) */
#define RV_MAX_BLOCK (64ull << 20) /* a larger chunk_size: the list is not used */
#define RV_BATCH 64                /* blocks per multi-buffer call */
#define RV_UNUSABLE 1              /* the list cannot decide: `why` says why */

typedef struct rv {
    cb_store *store;
    const cb_chain *chain;
    const cb_target *t;
    const cb_restore_opts *opts;
    int fd; /* the target, opened anew for reading */
    unsigned char *buf;
    size_t cap;
    cb_digest dg;
    int have_dg;
    cb_progress pr;
    uint64_t block; /* the list's sha block */
    char why[1024]; /* RV_UNUSABLE: the list's problem */
} rv;

static int rv_pread(rv *r, size_t len, uint64_t off, cb_error *err)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = pread(r->fd, r->buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cb_error_set_sys(err, CB_EIO, errno, "restore --verify: reading '%s' at %llu",
                                    r->t->path, (unsigned long long)(off + done));
        if (n == 0)
            return cb_error_set(err, CB_EIO,
                                "restore --verify: '%s' ends at %llu, before the %llu "
                                "bytes restored",
                                r->t->path, (unsigned long long)(off + done),
                                (unsigned long long)r->chain->size);
        done += (size_t)n;
    }
    return 0;
}

static int rv_poll(rv *r, uint64_t done, cb_error *err)
{
    const cb_restore_opts *o = r->opts;
    r->pr.bytes_done = done;
    if (o->progress != NULL)
        o->progress(&r->pr, o->progress_payload);
    if (o->cancel != NULL && o->cancel(o->cancel_payload))
        return cb_error_set(err, CB_ECANCELED, "restore --verify cancelled (the restore is done)");
    return 0;
}

static int rv_buffers(rv *r, uint64_t block, cb_error *err)
{
    r->cap = block >= RV_READ ? (size_t)block : RV_READ / (size_t)block * (size_t)block;
    if ((r->buf = cb__malloc(r->cap, err)) == NULL)
        return CB_ENOMEM;
    int rc = cb__digest_init(&r->dg, (size_t)block, err);
    r->have_dg = rc == 0;
    return rc;
}

/* Compare `n` hashes of blocks from `b` on with the list's entries. */
static int
rv_compare(rv *r, cb_hashes *ps, uint64_t b, const unsigned char *got, size_t n, cb_error *err)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char want[32];
        cb_error lerr = { 0 };
        int have = 0;
        if (cb__hashes_get(ps, b + i, want, &have, &lerr) < 0 || !have) {
            snprintf(r->why, sizeof(r->why), "%s",
                     !have && lerr.code == 0 ? "it is too short" : lerr.msg);
            return RV_UNUSABLE;
        }
        if (memcmp(want, got + 32 * i, 32) != 0)
            return cb_error_set(err, CB_ECORRUPT,
                                "restore --verify: '%s' differs from backup %s's _sha256file at "
                                "byte offset %llu (sha block %llu); the target stays as written",
                                r->t->path, r->chain->layers[0].where.parts.backup_id,
                                (unsigned long long)((b + i) * r->block),
                                (unsigned long long)(b + i));
    }
    return 0;
}

/* Read `len` bytes at `off` (whole blocks, or the volume's short last one) and compare. */
static int rv_piece(rv *r, cb_hashes *ps, uint64_t off, size_t len, cb_error *err)
{
    unsigned char got[RV_BATCH * 32];
    size_t blk = (size_t)r->block, m = len / blk, rem = len % blk;
    uint64_t b = off / blk;
    int rc = rv_pread(r, len, off, err);
    for (size_t i = 0; rc == 0 && i < m; i += RV_BATCH) {
        size_t n = m - i < RV_BATCH ? m - i : RV_BATCH;
        cb__digest_sha256_blocks(&r->dg, r->buf + i * blk, blk, n, got);
        rc = rv_compare(r, ps, b + i, got, n, err);
    }
    if (rc == 0 && rem > 0) {
        cb__digest_sha256(&r->dg, r->buf + m * blk, rem, got);
        rc = rv_compare(r, ps, b + m, got, 1, err);
    }
    return rc;
}

/* Every sha block against the restored backup's list, streamed. */
static int rv_by_list(rv *r, cb_error *err)
{
    cb_hashes ps;
    cb_error lerr = { 0 };
    uint64_t size = r->chain->size;
    int rc;
    if (cb__hashes_open(&ps, r->store, &r->chain->layers[0].where, &r->block, &lerr) < 0) {
        snprintf(r->why, sizeof(r->why), "%s", lerr.msg);
        char *cut = strstr(r->why, ": it cannot be the base"); /* parent.c speaks of backups */
        if (cut != NULL)
            *cut = '\0';
        rc = RV_UNUSABLE;
    } else if (r->block == 0 || r->block > RV_MAX_BLOCK) {
        snprintf(r->why, sizeof(r->why), "its chunk_size %llu is not a sha block size",
                 (unsigned long long)r->block);
        rc = RV_UNUSABLE;
    } else {
        rc = rv_buffers(r, r->block, err);
    }
    for (uint64_t off = 0; rc == 0 && off < size; off += r->cap) {
        size_t len = size - off < r->cap ? (size_t)(size - off) : r->cap;
        if ((rc = rv_piece(r, &ps, off, len, err)) == 0)
            rc = rv_poll(r, off + len, err);
    }
    unsigned char extra[32];
    int have = 0;
    uint64_t n = (size + r->block - 1) / (r->block ? r->block : 1);
    if (rc == 0 && cb__hashes_get(&ps, n, extra, &have, &lerr) == 0 && have) {
        snprintf(r->why, sizeof(r->why), "it describes more than the volume's %llu blocks",
                 (unsigned long long)n);
        rc = RV_UNUSABLE;
    }
    cb__hashes_close(&ps);
    return rc;
}

/* A full backup without a usable list: each object's bytes against its MD5. */
static int rv_by_md5(rv *r, cb_error *err)
{
    const cb_layer *l = &r->chain->layers[0];
    const char *id = l->where.parts.backup_id;
    int rc = 0;
    if (r->buf == NULL && (rc = rv_buffers(r, CB_DEFAULT_SHA_BLOCK, err)) < 0)
        return rc;
    for (size_t i = 0; rc == 0 && i < l->meta.n_objects; i++) {
        const cb_meta_object *o = &l->meta.objects[i];
        uint64_t end =
            o->offset + o->length < r->chain->size ? o->offset + o->length : r->chain->size;
        unsigned char md5[16];
        if (!o->has_md5)
            return cb_error_set(err, CB_ECORRUPT,
                                "restore --verify: cannot verify '%s': backup %s's _sha256file "
                                "cannot be used (%s), and object '%s' records no MD5; the target "
                                "stays as written",
                                r->t->path, id, r->why, o->name);
        cb__digest_md5_begin(&r->dg);
        for (uint64_t off = o->offset; rc == 0 && off < end;) {
            size_t len = end - off < r->cap ? (size_t)(end - off) : r->cap;
            if ((rc = rv_pread(r, len, off, err)) == 0)
                cb__digest_md5_update(&r->dg, r->buf, len);
            off += len;
            if (rc == 0)
                rc = rv_poll(r, off, err);
        }
        cb__digest_md5_end(&r->dg, md5);
        if (rc == 0 && memcmp(md5, o->md5, 16) != 0)
            rc = cb_error_set(err, CB_ECORRUPT,
                              "restore --verify: bytes %llu to %llu of '%s' differ from object "
                              "'%s' of backup %s (its MD5); the target stays as written",
                              (unsigned long long)o->offset, (unsigned long long)end, r->t->path,
                              o->name, id);
    }
    return rc;
}

int cb__restore_verify(cb_store *store,
                       const cb_chain *chain,
                       const cb_target *t,
                       const cb_restore_opts *opts,
                       cb_error *err)
{
    rv r = { .store = store, .chain = chain, .t = t, .opts = opts, .fd = -1 };
    int rc;
    r.pr.phase = "verify";
    r.pr.bytes_total = chain->size;
    /* the commit flushed every page: drop them, so that what follows reads the disk */
    posix_fadvise(t->fd, 0, 0, POSIX_FADV_DONTNEED);
    if (t->dfd >= 0)
        posix_fadvise(t->dfd, 0, 0, POSIX_FADV_DONTNEED);
    char proc[64]; /* a descriptor's file: opened anew, for reading, through /proc */
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
    if ((r.fd = open(t->from_fd ? proc : t->path, O_RDONLY | O_CLOEXEC)) < 0)
        return cb_error_set_sys(err, CB_EIO, errno, "restore --verify: cannot open '%s'", t->path);
    posix_fadvise(r.fd, 0, 0, POSIX_FADV_DONTNEED);
    posix_fadvise(r.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    rc = chain->size == 0 ? 0 : rv_by_list(&r, err);
    if (rc == RV_UNUSABLE && chain->n == 1)
        rc = rv_by_md5(&r, err);
    else if (rc == RV_UNUSABLE)
        rc = cb_error_set(err, CB_ECORRUPT,
                          "restore --verify: cannot verify '%s': backup %s's _sha256file cannot "
                          "be used (%s), and only that list describes the volume a chain of "
                          "backups restores; the target stays as written",
                          t->path, chain->layers[0].where.parts.backup_id, r.why);
    close(r.fd);
    free(r.buf);
    if (r.have_dg)
        cb__digest_dispose(&r.dg);
    return rc;
}
