/* SPDX-License-Identifier: Apache-2.0 */
/* restore_sha.c: see restore_sha.h. */
#include <stdlib.h>
#include <string.h>

#include "parent.h"
#include "restore_sha.h"
#include "../util/alloc.h"

#define RSHA_BATCH 64 /* blocks hashed together at most */

void cb__rsha_load(cb_rsha *h, cb_store *store, const cb_chain *chain)
{
    cb_parent_shas ps;
    cb_error err = { 0 };
    uint64_t block = 0;
    memset(h, 0, sizeof(*h));
    memset(&ps, 0, sizeof(ps));
    if (chain->n == 0 || chain->size == 0 ||
        cb__parent_open(&ps, store, &chain->layers[0].where, &block, &err) < 0)
        goto done;
    if (block == 0 || block > (1u << 30))
        goto done;
    uint64_t n = (chain->size + block - 1) / block;
    if (n > CB_RSHA_BUDGET / 32 || (h->hashes = cb__malloc((size_t)n * 32, NULL)) == NULL)
        goto done;
    for (uint64_t i = 0; i < n; i++) {
        int have = 0;
        if (cb__parent_get(&ps, i, h->hashes + i * 32, &have, &err) < 0 || !have) {
            free(h->hashes); /* a list shorter than the volume: not this volume's */
            h->hashes = NULL;
            goto done;
        }
    }
    h->n = n;
    h->block = (uint32_t)block;
    h->size = chain->size;
done:
    cb__parent_close(&ps);
}

void cb__rsha_dispose(cb_rsha *h)
{
    free(h->hashes);
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
 * and, by cb__rsha_fits, hold whole blocks). */
static int rsha_written(cb_rsha_check *c, uint64_t start)
{
    const cb_task *t = c->t;
    while (c->range < t->n_ranges && t->ranges[c->range].off + t->ranges[c->range].len <= start)
        c->range++;
    return c->range < t->n_ranges && t->ranges[c->range].off <= start;
}

static void rsha_check(cb_rsha_check *c, cb_digest *dg, uint64_t b, const void *data, size_t n)
{
    unsigned char got[32];
    cb__digest_sha256(dg, data, n, got);
    if (memcmp(got, c->h->hashes + b * 32, 32) != 0)
        c->bad = 1;
}

/* How many whole, written blocks of full size lie at `p` (block `b` onwards, `len` bytes),
 * up to RSHA_BATCH. */
static size_t rsha_whole_run(cb_rsha_check *c, uint64_t b, size_t len)
{
    const cb_rsha *h = c->h;
    size_t k = 0;
    while (k < RSHA_BATCH && (uint64_t)(k + 1) * h->block <= len &&
           (b + k + 1) * h->block <= h->size && rsha_written(c, (b + k) * h->block))
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
