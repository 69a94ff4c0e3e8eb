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

/* Unlist the least recently used segment nobody holds, for its memory to be used again
 * (a fresh 1 MiB buffer costs 256 page faults); NULL if every one is held. */
static img_seg *img_evict(img_cache *c)
{
    img_seg *lru = NULL;
    for (size_t i = 0; i < c->n_table; i++)
        for (img_seg *g = c->table[i]; g != NULL; g = g->next)
            if (g->refs == 0 && (lru == NULL || g->used < lru->used))
                lru = g;
    if (lru != NULL)
        img_unlist(c, lru);
    return lru;
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

/* A new segment for the range at `off`, listed as being filled and held (under the lock),
 * in `old`'s memory (an evicted segment) or new memory; NULL (err set) if none. */
static img_seg *img_list_new(cb_image *img, img_seg *old, uint64_t off, cb_error *err)
{
    img_cache *c = &img->cache;
    img_seg *g = old;
    if (old != NULL) { /* its buffers, the window's size, are used again */
        unsigned char *data = g->data, *bad = g->bad;
        memset(g, 0, sizeof(*g));
        g->data = data;
        g->bad = bad;
    } else if ((g = cb__calloc(1, sizeof(*g), err)) == NULL) {
        return NULL;
    }
    img_range(img, off, &g->off, &g->len);
    g->state = IMG_FILLING;
    g->claim = CB_CLAIM_NOT_YET;
    g->refs = 1;
    g->listed = 1;
    g->used = ++c->clock;
    size_t slot = img_slot(c, g->off);
    g->next = c->table[slot];
    c->table[slot] = g;
    c->n++;
    c->bytes += g->len;
    return g;
}

/* The buffers of a segment about to be filled (kept when it is evicted and reused). */
static int img_buffers(const cb_image *img, img_seg *g, cb_error *err)
{
    uint64_t w = img->cache.window, nb = (w + img->shas.blk - 1) / img->shas.blk;
    if ((g->data == NULL && (g->data = cb__malloc((size_t)w, err)) == NULL) ||
        (g->bad == NULL && (g->bad = cb__malloc((size_t)nb, err)) == NULL))
        return CB_ENOMEM;
    memset(g->bad, 0, (size_t)nb);
    return 0;
}

/*
 * The bytes a fill decodes on its way to its segment (its stream stopped before it) are
 * kept as segments too, when whole ranges of them belong to the plan's object and memory
 * allows without waiting: readers of those ranges that arrive a little late (nbdcopy's
 * requests are served by several threads, not quite in order) then find them instead of
 * decoding the object again from its start.
 */
#define IMG_STAGE_NEAR (128u << 20) /* only the skipped bytes this close to the fill's segment */

typedef struct img_stage {
    cb_image *img;
    int foreign;     /* st->g is another fill's segment, taken over (its claim) */
    uint64_t target; /* the fill's segment: bytes far before it are a random read's way there,
                        not worth hashing and keeping */
    img_seg *g;      /* being filled from skipped bytes (listed, held), or NULL */
    uint64_t have;   /* its bytes so far */
} img_stage;

/* Give up the stage's segment: unlisted, and its waiters look again; or done. Another fill's
 * segment is handed back to it (which verifies it) through its claim. */
static void img_stage_drop(img_stage *st, int state, uint64_t n_bad)
{
    img_cache *c = &st->img->cache;
    img_seg *g = st->g;
    if (st->foreign) {
        __atomic_store_n(&g->claim, state == IMG_READY ? CB_CLAIM_STAGED : CB_CLAIM_ABANDONED,
                         __ATOMIC_RELEASE);
        cb__chainread_wake(st->img->rd); /* its fill waits there */
        pthread_mutex_lock(&c->lock);
        if (--g->refs == 0 && !g->listed)
            img_seg_free(g);
        pthread_mutex_unlock(&c->lock);
        st->g = NULL;
        st->foreign = 0;
        return;
    }
    pthread_mutex_lock(&c->lock);
    g->state = state;
    if (state == IMG_ABANDONED)
        img_unlist(c, g);
    else {
        c->filled++;
        c->bad_blocks += n_bad;
    }
    if (--g->refs == 0 && !g->listed)
        img_seg_free(g);
    if (c->waiting > 0)
        pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    st->g = NULL;
}

/* A segment to stage at `v`, if it is worth one and memory allows; else how far to skip. */
static uint64_t img_stage_begin(img_stage *st, const cb_task *t, uint64_t v)
{
    cb_image *img = st->img;
    img_cache *c = &img->cache;
    uint64_t s0 = 0, s1 = 0, start = 0, len = 0;
    if (cb__chainread_segment(img->rd, v, &s0, &s1) != t)
        return s1 > v ? s1 : v + 1; /* a newer layer's bytes there: not these */
    if (v + IMG_STAGE_NEAR < st->target)
        return st->target - IMG_STAGE_NEAR < s1 ? st->target - IMG_STAGE_NEAR : s1;
    img_range(img, v, &start, &len);
    /* begun before, needs two objects, or all zeros (nbdcopy and most readers skip holes) */
    if (start != v || start + len > s1 || cb__img_shas_all_zero(&img->shas, start, len))
        return start + len > v ? start + len : v + 1;
    pthread_mutex_lock(&c->lock);
    img_seg *old = NULL, *f = img_find(c, v);
    int free_claim = CB_CLAIM_FREE, abandoned = CB_CLAIM_ABANDONED;
    st->have = 0;
    if (f != NULL) { /* another fill's, waiting for a stream: fill it for it */
        if (f->state == IMG_FILLING && f->off == v && f->len == len &&
            (__atomic_compare_exchange_n(&f->claim, &free_claim, CB_CLAIM_STAGING, 0,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
             __atomic_compare_exchange_n(&f->claim, &abandoned, CB_CLAIM_STAGING, 0,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))) {
            f->refs++;
            st->g = f;
            st->foreign = 1;
        }
        pthread_mutex_unlock(&c->lock);
        return st->g != NULL ? v : start + len;
    }
    if (c->n < c->max || (old = img_evict(c)) != NULL)
        st->g = img_list_new(img, old, v, NULL);
    pthread_mutex_unlock(&c->lock);
    if (st->g != NULL && img_buffers(img, st->g, NULL) < 0)
        img_stage_drop(st, IMG_ABANDONED, 0);
    return st->g != NULL ? v : start + len;
}

static void img_stage_bytes(void *payload, const cb_task *t, uint64_t v, const void *data, size_t n)
{
    img_stage *st = payload;
    const unsigned char *p = data;
    while (n > 0) {
        uint64_t to = v;
        if (st->g != NULL && st->g->off + st->have != v)
            img_stage_drop(st, IMG_ABANDONED, 0); /* not contiguous (never expected) */
        if (st->g == NULL && (to = img_stage_begin(st, t, v)) > v) {
            size_t k = to - v < n ? (size_t)(to - v) : n;
            p += k;
            v += k;
            n -= k;
            continue;
        }
        img_seg *g = st->g;
        size_t k = g->len - st->have < n ? (size_t)(g->len - st->have) : n;
        memcpy(g->data + st->have, p, k);
        st->have += k;
        p += k;
        v += k;
        n -= k;
        if (st->have == g->len && st->foreign) {
            img_stage_drop(st, IMG_READY, 0); /* its own fill verifies it */
        } else if (st->have == g->len) {
            uint64_t n_bad = 0;
            int rc =
                cb__img_shas_check(&st->img->shas, g->data, g->off, g->len, g->bad, &n_bad, NULL);
            img_stage_drop(st, rc == 0 ? IMG_READY : IMG_ABANDONED, n_bad);
        }
    }
}

/* Decode and verify a listed segment (outside the lock: only its filler touches it). */
static int img_fill(cb_image *img, img_seg *g, uint64_t *n_bad, cb_error *err)
{
    if (img_buffers(img, g, err) < 0)
        return CB_ENOMEM;
    cb_error rerr = { 0 };
    img_stage st = { .img = img, .target = g->off };
    cb_chainread_skip skip = { .fn = img_stage_bytes, .payload = &st, .claim = &g->claim };
    __atomic_store_n(&g->claim, CB_CLAIM_FREE, __ATOMIC_RELEASE); /* buffers there: takeable */
    int rc = cb__chainread_read_ex(img->rd, g->data, (size_t)g->len, g->off, &skip, &rerr);
    if (st.g != NULL)
        img_stage_drop(&st, IMG_ABANDONED, 0);
    if (rc > 0)
        rc = 0; /* another fill's stage decoded it for us; verified below all the same */
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
    img_seg *g, *old = NULL;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        if ((g = img_find(c, off)) != NULL) {
            g->refs++;
            while (g->state == IMG_FILLING) {
                c->waiting++;
                pthread_cond_wait(&c->cond, &c->lock);
                c->waiting--;
            }
            if (g->state == IMG_ABANDONED) { /* a skip's segment left half: look again */
                if (--g->refs == 0)
                    img_seg_free(g);
                continue;
            }
            g->used = ++c->clock;
            c->hits++;
            pthread_mutex_unlock(&c->lock);
            return g;
        }
        if (c->n < c->max || (old = img_evict(c)) != NULL)
            break;
        c->waiting++;
        pthread_cond_wait(&c->cond, &c->lock); /* every segment is held: wait for one */
        c->waiting--;
    }
    g = img_list_new(img, old, off, err);
    pthread_mutex_unlock(&c->lock);
    if (g == NULL)
        return NULL;

    uint64_t n_bad = 0;
    int rc = img_fill(img, g, &n_bad, &g->err);

    pthread_mutex_lock(&c->lock);
    g->state = rc < 0 ? IMG_FAILED : IMG_READY;
    c->filled += rc == 0;
    c->bad_blocks += n_bad;
    if (rc < 0)
        img_unlist(c, g); /* the next reader tries again (a network error may pass) */
    if (c->waiting > 0)
        pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    return g;
}

static void img_put(img_cache *c, img_seg *g)
{
    pthread_mutex_lock(&c->lock);
    if (--g->refs == 0 && !g->listed)
        img_seg_free(g);
    else if (g->refs == 0 && c->waiting > 0)
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
