/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image_cache.c: the image's bounded cache of decoded, verified segments. A read looks its
 * segment up; a miss lists a new segment as being filled (so that other readers of it wait
 * instead of fetching it again), decodes it through the chain reader outside the lock,
 * verifies every sha block, and wakes them. Only segments nobody holds are evicted, least
 * recently used first; a reader that finds the cache full of held segments waits, so memory
 * stays at `max` segments plus those of readers that failed (released at once).
 */
#include <stdlib.h>
#include <string.h>

#include "image_impl.h"
#include "../util/util.h"

int cb__img_cache_init(img_cache *c, uint64_t bytes, uint32_t blk, cb_error *err)
{
    memset(c, 0, sizeof(*c));
    c->window = IMG_SEGMENT >= blk ? IMG_SEGMENT - IMG_SEGMENT % blk : blk;
    uint64_t max = bytes / c->window;
    c->max = max > 0 ? (size_t)max : 1;
    c->n_table = c->max * 2 + 1;
    if ((c->table = cb__calloc(c->n_table, sizeof(*c->table), err)) == NULL)
        return CB_ENOMEM;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    return 0;
}

static void img_seg_free(img_seg *g)
{
    if (g == NULL)
        return;
    free(g->data);
    free(g->bad);
    free(g);
}

void cb__img_cache_dispose(img_cache *c)
{
    if (c->table == NULL)
        return;
    for (size_t i = 0; i < c->n_table; i++)
        for (img_seg *g = c->table[i], *next; g != NULL; g = next) {
            next = g->next;
            img_seg_free(g);
        }
    free(c->table);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    memset(c, 0, sizeof(*c));
}

static size_t img_slot(const img_cache *c, uint64_t off)
{
    return (size_t)((off / c->window) % c->n_table);
}

static img_seg *img_find(img_cache *c, uint64_t off)
{
    for (img_seg *g = c->table[img_slot(c, off)]; g != NULL; g = g->next)
        if (g->off <= off && off - g->off < g->len)
            return g;
    return NULL;
}

static void img_unlist(img_cache *c, img_seg *g)
{
    img_seg **p = &c->table[img_slot(c, g->off)];
    while (*p != g)
        p = &(*p)->next;
    *p = g->next;
    g->listed = 0;
    c->n--;
    c->bytes -= g->len;
}

/* Drop the least recently used segment nobody holds; 0 if every one is held. */
static int img_evict(img_cache *c)
{
    img_seg *lru = NULL;
    for (size_t i = 0; i < c->n_table; i++)
        for (img_seg *g = c->table[i]; g != NULL; g = g->next)
            if (g->refs == 0 && (lru == NULL || g->used < lru->used))
                lru = g;
    if (lru == NULL)
        return 0;
    img_unlist(c, lru);
    img_seg_free(lru);
    return 1;
}

/* The range of the segment that holds `off`: whole sha blocks inside its window, from the
 * one plan segment (object) that holds `off`, so that filling it opens one object. Where a
 * plan segment does not end on a sha block (never in Cinder's or our backups), the block
 * that straddles it is read whole, from both objects. */
static void img_range(const cb_image *img, uint64_t off, uint64_t *start, uint64_t *len)
{
    uint64_t w = img->cache.window, blk = img->shas.blk;
    uint64_t lo = off - off % w, hi = lo + w, s0 = 0, s1 = img->size;
    cb__chainread_segment(img->rd, off, &s0, &s1);
    s0 -= s0 % blk;
    s1 = s1 % blk ? s1 + (blk - s1 % blk) : s1;
    lo = s0 > lo ? s0 : lo;
    hi = s1 < hi ? s1 : hi;
    *start = lo;
    *len = (hi < img->size ? hi : img->size) - lo;
}

/* Decode and verify a listed segment (outside the lock: only its filler touches it). */
static int img_fill(cb_image *img, img_seg *g, uint64_t *n_bad, cb_error *err)
{
    uint64_t nb = (g->len + img->shas.blk - 1) / img->shas.blk;
    if ((g->data = cb__malloc((size_t)g->len, err)) == NULL ||
        (g->bad = cb__calloc(1, (size_t)nb, err)) == NULL)
        return CB_ENOMEM;
    cb_error rerr = { 0 };
    int rc = cb__chainread_read(img->rd, g->data, (size_t)g->len, g->off, &rerr);
    if (rc < 0)
        return cb_error_set(err, rc, "backup %s: reading volume bytes %llu-%llu: %s",
                            img->backup_id, (unsigned long long)g->off,
                            (unsigned long long)(g->off + g->len - 1), rerr.msg);
    return cb__img_shas_check(&img->shas, g->data, g->off, g->len, g->bad, n_bad, err);
}

/* The segment holding `off`, held (refs) and filled, or failed; NULL only for a failure to
 * allocate (err set). */
static img_seg *img_get(cb_image *img, uint64_t off, cb_error *err)
{
    img_cache *c = &img->cache;
    img_seg *g;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        if ((g = img_find(c, off)) != NULL) {
            g->refs++;
            while (g->state == IMG_FILLING)
                pthread_cond_wait(&c->cond, &c->lock);
            g->used = ++c->clock;
            c->hits++;
            pthread_mutex_unlock(&c->lock);
            return g;
        }
        if (c->n < c->max || img_evict(c))
            break;
        pthread_cond_wait(&c->cond, &c->lock); /* every segment is held: wait for one */
    }
    if ((g = cb__calloc(1, sizeof(*g), err)) == NULL) {
        pthread_mutex_unlock(&c->lock);
        return NULL;
    }
    img_range(img, off, &g->off, &g->len);
    g->state = IMG_FILLING;
    g->refs = 1;
    g->listed = 1;
    g->used = ++c->clock;
    size_t slot = img_slot(c, g->off);
    g->next = c->table[slot];
    c->table[slot] = g;
    c->n++;
    c->bytes += g->len;
    pthread_mutex_unlock(&c->lock);

    uint64_t n_bad = 0;
    int rc = img_fill(img, g, &n_bad, &g->err);

    pthread_mutex_lock(&c->lock);
    g->state = rc < 0 ? IMG_FAILED : IMG_READY;
    c->filled += rc == 0;
    c->bad_blocks += n_bad;
    if (rc < 0)
        img_unlist(c, g); /* the next reader tries again (a network error may pass) */
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    return g;
}

static void img_put(img_cache *c, img_seg *g)
{
    pthread_mutex_lock(&c->lock);
    if (--g->refs == 0 && !g->listed)
        img_seg_free(g);
    pthread_cond_broadcast(&c->cond); /* one more segment may be evicted */
    pthread_mutex_unlock(&c->lock);
}

/* CB_ECORRUPT naming the object that supplied the first bad block of [off, off+len). */
static int
img_check_served(const cb_image *img, const img_seg *g, uint64_t off, uint64_t len, cb_error *err)
{
    uint32_t blk = img->shas.blk;
    for (uint64_t b = (off - g->off) / blk; b * blk < off - g->off + len; b++) {
        if (!g->bad[b])
            continue;
        uint64_t at = g->off + b * blk;
        const cb_task *t = cb__chainread_task_at(img->rd, at);
        return cb_error_set(err, CB_ECORRUPT,
                            "object '%s' of backup %s is damaged: the sha block at volume byte "
                            "%llu differs from the _sha256file of backup %s",
                            t ? t->obj->name : "?", t ? t->layer->where.parts.backup_id : "?",
                            (unsigned long long)at, img->backup_id);
    }
    return 0;
}

int cb__img_cache_read(cb_image *img, unsigned char *buf, size_t len, uint64_t off, cb_error *err)
{
    while (len > 0) {
        img_seg *g = img_get(img, off, err);
        if (g == NULL)
            return err->code;
        uint64_t n = g->off + g->len - off;
        if (n > len)
            n = len;
        int rc = 0;
        if (g->state == IMG_FAILED) {
            cb_error_set(err, g->err.code, "%s", g->err.msg);
            rc = g->err.code;
        } else if ((rc = img_check_served(img, g, off, n, err)) == 0) {
            memcpy(buf, g->data + (off - g->off), (size_t)n);
        }
        img_put(&img->cache, g);
        if (rc < 0)
            return rc;
        buf += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}
