/* SPDX-License-Identifier: Apache-2.0 */
/* restore_sha.c: see restore_sha.h. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "../catalog/catalog.h"
#include "restore_sha.h"
#include "../util/util.h"
#include "../hash/hash.h"

#define RSHA_BATCH 64 /* blocks hashed together at most */

/* The hash of a block of `len` zero bytes. */
static void rsha_zero_hash(uint64_t len, unsigned char out[32])
{
    static const unsigned char zeros[64u << 10];
    cb_digest dg = { 0 };
    if (cb__digest_init(&dg, 0, NULL) < 0) {
        memset(out, 0, 32); /* no hash is all zeros: no block is taken for one */
        return;
    }
    EVP_DigestInit_ex(dg.sha, EVP_sha256(), NULL);
    for (uint64_t at = 0; at < len; at += sizeof(zeros))
        EVP_DigestUpdate(dg.sha, zeros, len - at < sizeof(zeros) ? len - at : sizeof(zeros));
    EVP_DigestFinal_ex(dg.sha, out, NULL);
    cb__digest_dispose(&dg);
}

int cb__rsha_load(cb_rsha *h, cb_store *store, const cb_chain *chain, cb_error *err)
{
    cb_hashes ps;
    cb_error lerr = { 0 };
    uint64_t block = 0;
    int rc = 0, have = 0;
    unsigned char one[32], zero[32], zero_last[32];
    memset(h, 0, sizeof(*h));
    memset(&ps, 0, sizeof(ps));
    if (chain->n == 0 || chain->size == 0 ||
        cb__hashes_open(&ps, store, &chain->layers[0].where, &block, &lerr) < 0)
        goto done;
    if (block == 0 || block > (1u << 30))
        goto done;
    uint64_t n = (chain->size + block - 1) / block;
    /* the hashes themselves within the budget; which blocks are zeros, whatever the size */
    if (n <= CB_RSHA_BUDGET / 32)
        h->hashes = cb__malloc((size_t)n * 32, NULL);
    if ((h->zeros = calloc((size_t)(n + 7) / 8, 1)) == NULL && h->hashes == NULL)
        goto done;
    rsha_zero_hash(block, zero);
    rsha_zero_hash(chain->size - (n - 1) * block, zero_last);
    for (uint64_t i = 0; i < n; i++) {
        unsigned char *to = h->hashes ? h->hashes + i * 32 : one;
        if (cb__hashes_get(&ps, i, to, &have, &lerr) < 0 || !have) {
            cb__rsha_dispose(h); /* a list shorter than the volume: not this volume's */
            goto done;
        }
        if (h->zeros != NULL && memcmp(to, i + 1 < n ? zero : zero_last, 32) == 0)
            h->zeros[i / 8] |= (unsigned char)(1u << (i % 8));
    }
    unsigned char extra[32];
    if (cb__hashes_get(&ps, n, extra, &have, &lerr) == 0 && have) {
        cb__rsha_dispose(h);
        rc = cb_error_set(err, CB_ECORRUPT,
                          "backup %s is damaged: its objects hold %llu bytes of the volume, but "
                          "its '%s' describes more than %llu blocks of %llu bytes",
                          chain->layers[0].where.parts.backup_id, (unsigned long long)chain->size,
                          ps.name, (unsigned long long)n, (unsigned long long)block);
        goto done;
    }
    h->n = n;
    h->block = (uint32_t)block;
    h->size = chain->size;
done:
    cb__hashes_close(&ps);
    return rc;
}

void cb__rsha_dispose(cb_rsha *h)
{
    free(h->hashes);
    free(h->zeros);
    memset(h, 0, sizeof(*h));
}

static int rsha_boundary(const cb_rsha *h, uint64_t off)
{
    return off % h->block == 0 || off == h->size;
}

int cb__rsha_fits(const cb_rsha *h, const cb_task *t)
{
    if (h->hashes == NULL)
        return 0;
    for (size_t i = 0; i < t->n_ranges; i++)
        if (!rsha_boundary(h, t->ranges[i].off) ||
            !rsha_boundary(h, t->ranges[i].off + t->ranges[i].len))
            return 0;
    return 1;
}

void cb__rsha_begin(cb_rsha_check *c, const cb_rsha *h, const cb_task *t, unsigned char *buf)
{
    memset(c, 0, sizeof(*c));
    c->h = h;
    c->t = t;
    c->buf = buf;
}

/* Whether the block starting at `start` is written from this object (ranges are sorted
 * and, by cb__rsha_fits, hold whole blocks). `*range` is a cursor into the ranges that only
 * moves forward: starts must not decrease from one call to the next with the same cursor. */
static int rsha_written_at(const cb_task *t, size_t *range, uint64_t start)
{
    while (*range < t->n_ranges && t->ranges[*range].off + t->ranges[*range].len <= start)
        (*range)++;
    return *range < t->n_ranges && t->ranges[*range].off <= start;
}

static int rsha_written(cb_rsha_check *c, uint64_t start)
{
    return rsha_written_at(c->t, &c->range, start);
}

static void rsha_check(cb_rsha_check *c, cb_digest *dg, uint64_t b, const void *data, size_t n)
{
    unsigned char got[32];
    cb__digest_sha256(dg, data, n, got);
    if (memcmp(got, c->h->hashes + b * 32, 32) != 0)
        c->bad = 1;
}

/* How many whole, written blocks of full size lie at `p` (block `b` onwards, `len` bytes),
 * up to RSHA_BATCH. It looks ahead with a cursor of its own: the block after the run may
 * be one this object does not write, and moving the check's cursor past the range that
 * holds block `b` would leave a lone block unchecked. */
static size_t rsha_whole_run(const cb_rsha_check *c, uint64_t b, size_t len)
{
    const cb_rsha *h = c->h;
    size_t range = c->range, k = 0;
    while (k < RSHA_BATCH && (uint64_t)(k + 1) * h->block <= len &&
           (b + k + 1) * h->block <= h->size && rsha_written_at(c->t, &range, (b + k) * h->block))
        k++;
    return k;
}

/* Blocks that arrive whole and side by side are hashed together: the multi-buffer
 * SHA-256 takes sixteen at a time (digest.c), a third faster than one by one. */
static void rsha_check_run(cb_rsha_check *c, cb_digest *dg, uint64_t b, const void *p, size_t k)
{
    unsigned char got[RSHA_BATCH * 32];
    cb__digest_sha256_blocks(dg, p, c->h->block, k, got);
    if (memcmp(got, c->h->hashes + b * 32, k * 32) != 0)
        c->bad = 1;
}

void cb__rsha_feed(cb_rsha_check *c, cb_digest *dg, uint64_t off, const void *data, size_t len)
{
    const cb_rsha *h = c->h;
    const unsigned char *p = data;
    while (len > 0 && off < h->size) {
        uint64_t b = off / h->block, start = b * h->block;
        uint64_t end = start + h->block < h->size ? start + h->block : h->size;
        size_t n = end - off < len ? (size_t)(end - off) : len, k;
        if (off == start && (k = rsha_whole_run(c, b, len)) > 1) {
            rsha_check_run(c, dg, b, p, k);
            off += (uint64_t)k * h->block;
            p += k * h->block;
            len -= k * h->block;
            continue;
        }
        if (rsha_written(c, start)) {
            if (off == start && n == end - start) { /* the whole block is here */
                rsha_check(c, dg, b, p, n);
            } else {
                memcpy(c->buf + (off - start), p, n);
                if (off + n == end)
                    rsha_check(c, dg, b, c->buf, (size_t)(end - start));
            }
        }
        off += n;
        p += n;
        len -= n;
    }
}

int cb__rsha_all_zero(const cb_rsha *h, const cb_task *t)
{
    if (h->zeros == NULL || h->n == 0)
        return 0;
    for (size_t i = 0; i < t->n_ranges; i++)
        if (!rsha_boundary(h, t->ranges[i].off) ||
            !rsha_boundary(h, t->ranges[i].off + t->ranges[i].len))
            return 0;
    for (size_t i = 0; i < t->n_ranges; i++)
        for (uint64_t b = t->ranges[i].off / h->block;
             b * h->block < t->ranges[i].off + t->ranges[i].len; b++)
            if (b >= h->n || !(h->zeros[b / 8] & (1u << (b % 8))))
                return 0;
    return 1;
}
