/* SPDX-License-Identifier: Apache-2.0 */
/* chainread.c: see chainread.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chainread.h"
#include "../codec/codec.h"
#include "../util/util.h"

#define CR_FETCH (128u << 10) /* bytes fetched from the store at a time, per stream */
#define CR_STREAMS 16         /* objects open at once: a full's and the newer backups' inside it */

/* One volume range and the plan task (object) that supplies it. */
typedef struct cr_seg {
    uint64_t off, len;
    const cb_task *task;
} cr_seg;

/* An object being decoded, left where its last read stopped. */
typedef struct cr_stream {
    const cb_task *task; /* NULL: not open */
    cb_reader *rd;
    cb_decoder *dec[4]; /* by cb_codec_id, made when first needed */
    cb_decoder *cur;
    unsigned char *io; /* CR_FETCH bytes */
    const void *in;    /* fetched, not yet decoded */
    size_t in_len;
    const unsigned char *out; /* decoded, not yet consumed */
    size_t out_len;
    uint64_t pos;            /* object-relative offset of out[0] */
    int held;                /* the last step filled its window: more may come without input */
    int eof;                 /* the store's object ended */
    int busy;                /* a read uses it */
    uint64_t goal;           /* busy: the object offset where that read stops */
    uint64_t start;          /* busy: where it starts from (0: from the object's start) */
    const cb_task *for_task; /* busy: the object it reads (set under the lock: `task` is the
                                reader's while it is busy) */
    uint64_t used;           /* when it was last used: the oldest idle one is reused first */
} cr_stream;

/* A reader waiting for a stream (on its own stack while it waits). */
typedef struct cr_waiter {
    const cb_task *task;
    uint64_t pos;
    struct cr_waiter *next;
} cr_waiter;

struct cb_chainread {
    cb_store *store;
    uint64_t size;
    cr_seg *segs;
    size_t n_segs;
    cb_cancel_fn cancel;
    void *cancel_payload;
    pthread_mutex_t lock; /* guards the pool, clock, failed, waiting */
    pthread_cond_t idle;  /* a stream was released */
    cr_stream *pool;
    size_t n_pool;
    uint64_t clock;
    cb_error failed; /* the first failure */
    uint64_t opens;  /* objects opened (fetches begun), atomically: cb__chainread_opens */
    cr_waiter *waiting;
};

static int cr_seg_cmp(const void *a, const void *b)
{
    const cr_seg *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Every range of every task, sorted by volume offset: the plan's ranges never overlap. */
static int cr_segments(cb_chainread *r, const cb_plan *plan, cb_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < plan->n_tasks; i++)
        n += plan->tasks[i].n_ranges;
    if (n > 0 && (r->segs = cb__calloc(n, sizeof(*r->segs), err)) == NULL)
        return CB_ENOMEM;
    for (size_t i = 0; i < plan->n_tasks; i++)
        for (size_t j = 0; j < plan->tasks[i].n_ranges; j++)
            r->segs[r->n_segs++] = (cr_seg){ .off = plan->tasks[i].ranges[j].off,
                                             .len = plan->tasks[i].ranges[j].len,
                                             .task = &plan->tasks[i] };
    if (r->n_segs > 1)
        qsort(r->segs, r->n_segs, sizeof(*r->segs), cr_seg_cmp);
    return 0;
}

int cb__chainread_new(cb_store *store,
                      const cb_plan *plan,
                      uint64_t size,
                      int threads,
                      cb_cancel_fn cancel,
                      void *cancel_payload,
                      cb_chainread **out,
                      cb_error *err)
{
    *out = NULL;
    cb_chainread *r = cb__calloc(1, sizeof(*r), err);
    if (r == NULL)
        return CB_ENOMEM;
    r->store = store;
    r->size = size;
    r->cancel = cancel;
    r->cancel_payload = cancel_payload;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->idle, NULL);
    r->n_pool = threads + 1 > CR_STREAMS ? (size_t)threads + 1 : CR_STREAMS; /* one each */
    int rc = cr_segments(r, plan, err);
    if (rc == 0 && (r->pool = cb__calloc(r->n_pool, sizeof(*r->pool), err)) == NULL)
        rc = CB_ENOMEM;
    if (rc < 0) {
        cb__chainread_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

static void cr_stream_close(cr_stream *s)
{
    cb_reader_free(s->rd);
    s->rd = NULL;
    s->task = NULL;
}

void cb__chainread_free(cb_chainread *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; r->pool != NULL && i < r->n_pool; i++) {
        cr_stream_close(&r->pool[i]);
        for (size_t k = 0; k < 4; k++)
            cb_decoder_free(r->pool[i].dec[k]);
        free(r->pool[i].io);
    }
    free(r->pool);
    free(r->segs);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->idle);
    free(r);
}

/* The segment that holds volume byte `off`, or NULL. */
static const cr_seg *cr_seg_at(const cb_chainread *r, uint64_t off)
{
    size_t lo = 0, hi = r->n_segs; /* the last segment that begins at or before off */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->segs[mid].off <= off)
            lo = mid;
        else
            hi = mid;
    }
    if (r->n_segs == 0 || r->segs[lo].off > off || off - r->segs[lo].off >= r->segs[lo].len)
        return NULL;
    return &r->segs[lo];
}

int cb__chainread_raw(void *payload, uint64_t off, uint64_t len)
{
    const cb_chainread *r = payload;
    for (const cr_seg *g = cr_seg_at(r, off); g != NULL && len > 0; g = cr_seg_at(r, off)) {
        const char *comp = g->task->obj->compression;
        if (comp == NULL || (strcasecmp(comp, "none") != 0 && strcasecmp(comp, "off") != 0 &&
                             strcasecmp(comp, "no") != 0))
            return 0;
        uint64_t n = g->off + g->len - off;
        if (n >= len)
            return 1;
        off += n;
        len -= n;
    }
    return 0;
}

const cb_task *cb__chainread_task_at(const cb_chainread *r, uint64_t off)
{
    const cr_seg *g = cr_seg_at(r, off);
    return g != NULL ? g->task : NULL;
}

const cb_task *
cb__chainread_segment(const cb_chainread *r, uint64_t off, uint64_t *start, uint64_t *end)
{
    const cr_seg *g = cr_seg_at(r, off);
    if (g == NULL)
        return NULL;
    *start = g->off;
    *end = g->off + g->len;
    return g->task;
}

void cb__chainread_wake(cb_chainread *r)
{
    pthread_mutex_lock(&r->lock);
    pthread_cond_broadcast(&r->idle);
    pthread_mutex_unlock(&r->lock);
}

uint64_t cb__chainread_opens(const cb_chainread *r)
{
    return __atomic_load_n(&r->opens, __ATOMIC_RELAXED);
}

int cb__chainread_failure(cb_chainread *r, cb_error *err)
{
    pthread_mutex_lock(&r->lock);
    cb_error f = r->failed;
    pthread_mutex_unlock(&r->lock);
    if (f.code == 0)
        return 0;
    *err = f;
    return f.code;
}

/*
 * A stream for object `t` at object offset `pos`: an idle one of that object stopped at or
 * before it (the nearest), else one to open anew: an unused one, else one read to its end
 * (a newer backup's small object, done with), else the least recently used. NULL: wait,
 * either because every stream is busy or because a busy stream of `t` will stop at or
 * before `pos`, nearer than any idle one, or because another waiting reader wants a byte
 * between the idle stream's position and `pos` (it goes first: taken by us, the stream would
 * pass its byte and it would have to decode the object again from its start). Readers that
 * arrive nearly in order (nbdcopy's requests on several connections, the backup's workers)
 * then take turns on one stream, lowest offset first.
 */
static cr_stream *
cr_pick(cb_chainread *r, const cb_task *t, uint64_t pos, const cr_waiter *me, int passing)
{
    cr_stream *near = NULL, *fresh = NULL, *spent = NULL, *oldest = NULL, *ahead = NULL;
    for (size_t i = 0; i < r->n_pool; i++) {
        cr_stream *s = &r->pool[i];
        if (s->busy) {
            if (s->for_task == t && s->goal <= pos && (ahead == NULL || s->goal > ahead->goal))
                ahead = s;
            if (passing && s->for_task == t && s->start <= pos && pos < s->goal)
                return NULL; /* it decodes our bytes on its way: its sink may take them */
            continue;
        }
        if (s->task == t && s->pos <= pos && (near == NULL || s->pos > near->pos))
            near = s;
        if (s->task == NULL && fresh == NULL)
            fresh = s;
        if (s->task != NULL && s->task->obj->has_length && s->pos >= s->task->obj->length &&
            spent == NULL)
            spent = s;
        if (oldest == NULL || s->used < oldest->used)
            oldest = s;
    }
    if (ahead != NULL && (near == NULL || near->pos < ahead->goal))
        return NULL;
    for (const cr_waiter *w = r->waiting; near != NULL && w != NULL; w = w->next)
        if (w != me && w->task == t && w->pos >= near->pos && w->pos < pos)
            return NULL;
    return near ? near : fresh ? fresh : spent ? spent : oldest;
}

/* A stream for [pos, goal) of `t`, or NULL when `claim` says another read's sink filled it. */
static cr_stream *
cr_acquire(cb_chainread *r, const cb_task *t, uint64_t pos, uint64_t goal, int *claim)
{
    cr_waiter me = { .task = t, .pos = pos };
    int listed = 0;
    cr_stream *s = NULL;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        int v = claim != NULL ? __atomic_load_n(claim, __ATOMIC_ACQUIRE) : CB_CLAIM_READER;
        if (v == CB_CLAIM_STAGED)
            break;
        if (v != CB_CLAIM_STAGING &&
            (s = cr_pick(r, t, pos, listed ? &me : NULL,
                         claim != NULL && v != CB_CLAIM_ABANDONED)) != NULL) {
            if (claim == NULL || v == CB_CLAIM_READER ||
                __atomic_compare_exchange_n(claim, &v, CB_CLAIM_READER, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE))
                break;
            s = NULL;
            continue; /* a sink took it meanwhile */
        }
        if (!listed) {
            me.next = r->waiting;
            r->waiting = &me;
            listed = 1;
        }
        pthread_cond_wait(&r->idle, &r->lock); /* wait for a stream (see cr_pick) */
    }
    if (listed) {
        cr_waiter **p = &r->waiting;
        while (*p != &me)
            p = &(*p)->next;
        *p = me.next;
    }
    if (s != NULL) {
        s->busy = 1;
        s->for_task = t;
        s->goal = goal;
        s->start = s->task == t && s->pos <= pos ? s->pos : 0;
        s->used = ++r->clock;
    }
    pthread_mutex_unlock(&r->lock);
    return s;
}

static void cr_release(cb_chainread *r, cr_stream *s)
{
    pthread_mutex_lock(&r->lock);
    s->busy = 0;
    pthread_cond_broadcast(&r->idle); /* waiters wait for different streams */
    pthread_mutex_unlock(&r->lock);
}

/* (Re)open object `t` from its first byte. */
static int cr_open(cb_chainread *r, cr_stream *s, const cb_task *t, cb_error *err)
{
    const cb_meta_object *o = t->obj;
    const char *container = t->layer->where.container;
    cb_codec_id id;
    int rc;
    cr_stream_close(s);
    if ((rc = cb_codec_lookup(o->compression, &id, err)) < 0)
        return rc;
    if (s->io == NULL && (s->io = cb__malloc(CR_FETCH, err)) == NULL)
        return CB_ENOMEM;
    if (s->dec[id] == NULL && (rc = cb_decoder_new(&s->dec[id], id, err)) < 0)
        return rc;
    rc = cb_store_open_reader(r->store, container, o->name, t->layer->meta.extra_json, 0, &s->rd,
                              err);
    if (rc == CB_ENOTFOUND) { /* the metadata names it: a missing object is damage */
        cb_error_clear(err);
        return cb_error_set(err, CB_ECORRUPT,
                            "object '%s' of backup %s is missing from container "
                            "'%s'",
                            o->name, t->layer->where.parts.backup_id, container);
    }
    if (rc < 0)
        return rc;
    __atomic_add_fetch(&r->opens, 1, __ATOMIC_RELAXED);
    s->cur = s->dec[id];
    if ((rc = cb_decoder_begin(s->cur, o->has_length ? o->length : UINT64_MAX, o->name, err)) < 0)
        return rc;
    s->task = t;
    s->in_len = s->out_len = 0;
    s->pos = 0;
    s->held = s->eof = 0;
    return 0;
}

/* Decode until some bytes are pending (s->out_len > 0); an object that ends before is
 * damaged (its metadata says it holds more). */
static int cr_fill(cb_chainread *r, cr_stream *s, cb_error *err)
{
    const cb_task *t = s->task;
    int rc;
    while (s->out_len == 0) {
        if (r->cancel != NULL && r->cancel(r->cancel_payload))
            return cb_error_set(err, CB_ECANCELED, "read cancelled");
        if (s->in_len == 0 && !s->held) {
            size_t n = 0;
            if (!s->eof && (rc = cb_reader_read(s->rd, s->io, CR_FETCH, &n, err)) < 0)
                return rc;
            if (n == 0) {
                s->eof = 1;
                if ((rc = cb_decoder_end(s->cur, err)) < 0)
                    return rc;
                return cb_error_set(err, CB_ECORRUPT,
                                    "object '%s' of backup %s is damaged: it holds %llu bytes, "
                                    "the metadata says %llu",
                                    t->obj->name, t->layer->where.parts.backup_id,
                                    (unsigned long long)s->pos, (unsigned long long)t->obj->length);
            }
            s->in = s->io;
            s->in_len = n;
        }
        const void *out;
        if ((rc = cb_decoder_step(s->cur, &s->in, &s->in_len, &out, &s->out_len, err)) < 0)
            return rc;
        s->out = out;
        s->held = s->out_len == CB_CODEC_WINDOW;
    }
    return 0;
}

/* `len` bytes of the stream's object from object offset `pos` into buf; the bytes decoded
 * on the way there go to the skip sink, if any. */
static int cr_stream_read(cb_chainread *r,
                          cr_stream *s,
                          char *buf,
                          size_t len,
                          uint64_t pos,
                          const cb_chainread_skip *skip,
                          cb_error *err)
{
    int rc;
    while (len > 0) {
        if ((rc = cr_fill(r, s, err)) < 0)
            return rc;
        size_t n = s->out_len;
        if (s->pos < pos) { /* before the wanted byte: skip */
            if (n > pos - s->pos)
                n = (size_t)(pos - s->pos);
            if (skip != NULL)
                skip->fn(skip->payload, s->task, s->task->obj->offset + s->pos, s->out, n);
        } else {
            if (n > len)
                n = len;
            memcpy(buf, s->out, n);
            buf += n;
            len -= n;
            pos += n;
        }
        s->out += n;
        s->out_len -= n;
        s->pos += n;
    }
    return 0;
}

/* One segment's part [off, off+len) through a stream of its object. */
static int cr_read_seg(cb_chainread *r,
                       const cb_task *t,
                       char *buf,
                       size_t len,
                       uint64_t off,
                       const cb_chainread_skip *skip,
                       cb_error *err)
{
    uint64_t pos = off - t->obj->offset;
    cr_stream *s = cr_acquire(r, t, pos, pos + len, skip != NULL ? skip->claim : NULL);
    int rc = 0;
    if (s == NULL)
        return 1; /* filled by another read's sink */
    if (s->task != t || s->pos > pos)
        rc = cr_open(r, s, t, err);
    if (rc == 0)
        rc = cr_stream_read(r, s, buf, len, pos, skip, err);
    if (rc < 0)
        cr_stream_close(s); /* in an unknown state: open it afresh next time */
    cr_release(r, s);
    return rc;
}

int cb__chainread_read_ex(cb_chainread *r,
                          void *out,
                          size_t len,
                          uint64_t off,
                          const cb_chainread_skip *skip,
                          cb_error *err)
{
    char *buf = out;
    cb_chainread_skip local;
    while (len > 0) {
        const cr_seg *g = cr_seg_at(r, off);
        if (g == NULL)
            return cb_error_set(err, CB_ECORRUPT, "no object of the chain holds volume byte %llu",
                                (unsigned long long)off);
        uint64_t end = g->off + g->len;
        size_t n = end - off < len ? (size_t)(end - off) : len;
        int rc = cr_read_seg(r, g->task, buf, n, off, skip, err);
        if (rc != 0)
            return rc;
        if (skip != NULL && skip->claim != NULL) { /* the claim is about the first part only */
            local = *skip;
            local.claim = NULL;
            skip = &local;
        }
        buf += n;
        len -= n;
        off += n;
    }
    return 0;
}

int cb__chainread_read(cb_chainread *r, void *buf, size_t len, uint64_t off, cb_error *err)
{
    return cb__chainread_read_ex(r, buf, len, off, NULL, err);
}

long long cb__chainread_pread(void *payload, void *buf, size_t len, uint64_t off)
{
    cb_chainread *r = payload;
    cb_error err = { 0 };
    if (off >= r->size)
        return 0;
    if (len > r->size - off)
        len = (size_t)(r->size - off);
    int rc = cb__chainread_read(r, buf, len, off, &err);
    if (rc == 0)
        return (long long)len;
    pthread_mutex_lock(&r->lock);
    if (r->failed.code == 0)
        r->failed = err;
    pthread_mutex_unlock(&r->lock);
    return -1;
}
