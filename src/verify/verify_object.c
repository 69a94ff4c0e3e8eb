/* SPDX-License-Identifier: Apache-2.0 */
/* verify_object.c: see verify_object.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_object.h"
#include "../catalog/catalog.h"
#include "../util/util.h"
#include "../hash/hash.h"
#include "../format/format.h"

#define VD_RUN_BYTES (1u << 20) /* whole blocks hashed together, at most */
#define VD_BATCH 64             /* blocks per multi-buffer call */

void cb__vd_job_init(cb_vd_job *j, const cb_vf_node *nd, const cb_meta_object *o, int with_list)
{
    memset(j, 0, sizeof(*j));
    j->nd = nd;
    j->o = o;
    if (!with_list || nd->block == 0 || nd->size == 0)
        return;
    uint64_t blk = nd->block, end = o->offset + o->length;
    /* Cinder's objects start on block boundaries; the volume's last block may be short */
    uint64_t first = (o->offset + blk - 1) / blk;
    uint64_t last = end >= nd->size ? (nd->size - 1) / blk + 1 : end / blk; /* exclusive */
    if (last > nd->count)
        last = nd->count; /* a short list: the structure check reported it */
    if (last <= first || (last - first) * 32 > CB_VD_SLICE_MAX)
        return;
    j->first = first;
    j->k = last - first;
}

int cb__vd_worker_init(
    cb_vd_worker *w, struct vd_shared *sh, const cb_vd_hooks *hooks, cb_store *store, cb_error *err)
{
    int rc;
    memset(w, 0, sizeof(*w));
    w->sh = sh;
    w->hooks = hooks;
    w->store = store;
    if ((rc = cb__objread_init(&w->rd, err)) < 0 ||
        (rc = cb__digest_init(&w->dg, CB_DEFAULT_SHA_BLOCK, err)) < 0)
        return rc;
    w->dg_block = CB_DEFAULT_SHA_BLOCK;
    return 0;
}

void cb__vd_worker_dispose(cb_vd_worker *w)
{
    cb__objread_dispose(&w->rd);
    if (w->dg_block != 0)
        cb__digest_dispose(&w->dg);
    free(w->hashes);
    free(w->run);
    memset(w, 0, sizeof(*w));
}

int cb__vd_worker_reserve(cb_vd_worker *w, const cb_vd_job *j, cb_error *err)
{
    size_t need = (size_t)j->k * 32;
    uint64_t blk = j->nd->block;
    if (need > w->hashes_cap) {
        unsigned char *h = cb__realloc(w->hashes, need, err);
        if (h == NULL)
            return CB_ENOMEM;
        w->hashes = h;
        w->hashes_cap = need;
    }
    if (blk == w->dg_block && w->run != NULL)
        return 0;
    /* the run buffer and the all-zero block's hash follow the sha block size */
    size_t per = blk >= VD_RUN_BYTES ? 1 : VD_RUN_BYTES / (size_t)blk;
    free(w->run);
    w->run_cap = 0;
    if ((w->run = cb__malloc(per * (size_t)blk, err)) == NULL)
        return CB_ENOMEM;
    w->run_cap = per * (size_t)blk;
    if (blk == w->dg_block)
        return 0;
    cb__digest_dispose(&w->dg);
    w->dg_block = 0;
    int rc = cb__digest_init(&w->dg, (size_t)blk, err);
    if (rc == 0)
        w->dg_block = blk;
    return rc;
}

/* One reading of the object. */
typedef struct vd_sink {
    cb_vd_worker *w;
    const cb_vd_job *j;
    uint64_t pos;       /* volume offset of the next byte */
    uint64_t run_first; /* the block at w->run[0] */
    size_t fill;        /* bytes in w->run */
    uint64_t limit;     /* the end of the last block checked */
    uint64_t bad;       /* 1 + the first block that differs from the list; 0: none */
} vd_sink;

static void vd_compare(vd_sink *s, uint64_t b, const unsigned char *got, size_t n)
{
    const unsigned char *want = s->w->hashes + (b - s->j->first) * 32;
    if (s->bad != 0 || memcmp(got, want, n * 32) == 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (memcmp(got + i * 32, want + i * 32, 32) != 0) {
            s->bad = b + i + 1;
            return;
        }
}

/* Hash the gathered blocks: whole ones side by side, and the volume's short last block. */
static void vd_flush(vd_sink *s, int cut)
{
    cb_vd_worker *w = s->w;
    size_t blk = (size_t)s->j->nd->block, m = s->fill / blk, rem = s->fill % blk;
    unsigned char got[VD_BATCH * 32];
    for (size_t i = 0; i < m; i += VD_BATCH) {
        size_t n = m - i < VD_BATCH ? m - i : VD_BATCH;
        cb__digest_sha256_blocks(&w->dg, w->run + i * blk, blk, n, got);
        vd_compare(s, s->run_first + i, got, n);
    }
    /* a partial block is whole only when it ends the volume (not when the object is cut) */
    if (rem > 0 && !cut) {
        cb__digest_sha256(&w->dg, w->run + m * blk, rem, got);
        vd_compare(s, s->run_first + m, got, 1);
        m++;
    }
    s->run_first += m;
    s->fill = 0;
}

static int vd_on_bytes(const void *data, size_t len, void *payload, cb_error *err)
{
    vd_sink *s = payload;
    const unsigned char *p = data;
    (void)err;
    cb__digest_md5_update(&s->w->dg, data, len);
    s->w->hooks->bytes(s->w->sh, len);
    while (len > 0 && s->j->k > 0) {
        uint64_t want = s->run_first * s->j->nd->block + s->fill; /* the run's next byte */
        if (want >= s->limit)
            break;
        if (s->pos < want) { /* before the first whole block */
            size_t skip = want - s->pos < len ? (size_t)(want - s->pos) : len;
            s->pos += skip;
            p += skip;
            len -= skip;
            continue;
        }
        size_t n = s->w->run_cap - s->fill;
        if (n > len)
            n = len;
        if (n > s->limit - want)
            n = (size_t)(s->limit - want);
        memcpy(s->w->run + s->fill, p, n);
        s->fill += n;
        s->pos += n;
        p += n;
        len -= n;
        if (s->fill == s->w->run_cap || want + n == s->limit)
            vd_flush(s, 0);
    }
    s->pos += len;
    return 0;
}

/* What one reading found. */
typedef struct vd_try {
    int rc; /* 0, CB_ECORRUPT, or the error that kept the object from being read */
    cb_error e;
    uint64_t got;          /* decoded bytes */
    unsigned char md5[16]; /* of those bytes */
} vd_try;

static int vd_tick(void *arg, cb_error *err)
{
    const cb_vd_worker *w = arg;
    return w->hooks->tick(w->sh, err);
}

/* The object's checks once it decoded: its length, its MD5, its blocks. */
static void vd_judge(const cb_vd_job *j, const vd_sink *s, vd_try *t)
{
    const cb_meta_object *o = j->o;
    char got[33], want[33];
    if (t->got != o->length) {
        cb_error_set(&t->e, CB_ECORRUPT, "it holds %llu bytes, the metadata says %llu",
                     (unsigned long long)t->got, (unsigned long long)o->length);
    } else if (o->has_md5 && memcmp(t->md5, o->md5, 16) != 0) {
        cb__hex(got, t->md5, 16);
        cb__hex(want, o->md5, 16);
        cb_error_set(&t->e, CB_ECORRUPT, "its MD5 is %s, the metadata says %s", got, want);
    } else if (s->bad != 0) {
        uint64_t b = s->bad - 1;
        cb_error_set(
            &t->e, CB_ECORRUPT,
            "its sha block at volume offset %llu differs from entry %llu of "
            "'%s_sha256file'%s",
            (unsigned long long)(b * j->nd->block), (unsigned long long)b, j->nd->where.prefix,
            o->has_md5 ? " (the object matches its MD5: the list may be the damaged part)" : "");
    }
    t->rc = t->e.code;
}

/* One reading: 0 with what it found in `t`, or a failure that stops everything. */
static int vd_read(cb_vd_worker *w, const cb_vd_job *j, vd_try *t, cb_error *err)
{
    const cb_vf_node *nd = j->nd;
    vd_sink s = { .w = w, .j = j, .pos = j->o->offset, .run_first = j->first };
    memset(t, 0, sizeof(*t));
    if (j->k > 0) {
        uint64_t end = (j->first + j->k) * nd->block;
        s.limit = end < nd->size ? end : nd->size;
    }
    cb__digest_md5_begin(&w->dg);
    int rc = cb__objread_run(&w->rd, w->store, nd->where.container, j->o, nd->meta.extra_json,
                             j->o->length, vd_on_bytes, &s, vd_tick, w, &t->got, &t->e);
    cb__digest_md5_end(&w->dg, t->md5);
    if (rc == CB_ECANCELED || rc == CB_ENOMEM) {
        if (err->code == 0)
            *err = t->e;
        return rc;
    }
    if (rc == 0 && s.fill > 0)
        vd_flush(&s, 1);
    if (rc == 0)
        vd_judge(j, &s, t);
    else
        t->rc = rc;
    return 0;
}

/* Both readings failed the same way: the same error over the same bytes. */
static int vd_same(const vd_try *a, const vd_try *b)
{
    return a->rc == CB_ECORRUPT && b->rc == CB_ECORRUPT && a->got == b->got &&
           memcmp(a->md5, b->md5, 16) == 0 && strcmp(a->e.msg, b->e.msg) == 0;
}

int cb__vd_check(cb_vd_worker *w, const cb_vd_job *j, cb_vd_verdict *out, cb_error *err)
{
    vd_try a, b;
    int rc;
    memset(out, 0, sizeof(*out));
    if ((rc = vd_read(w, j, &a, err)) < 0 || a.rc == 0)
        return rc;
    if ((rc = vd_read(w, j, &b, err)) < 0)
        return rc;
    if (b.rc == 0) { /* garbled or lost on the way the first time: not damage */
        out->retried = 1;
        return 0;
    }
    if (vd_same(&a, &b)) {
        out->status = CB_ECORRUPT;
        snprintf(out->msg, sizeof(out->msg), "%s", b.e.msg);
        return 0;
    }
    /* not twice alike: the store, not the object, may be at fault */
    const vd_try *bad = b.rc != CB_ECORRUPT ? &b : &a;
    out->status = bad->rc != CB_ECORRUPT ? bad->rc : CB_EIO;
    if (a.rc == CB_ECORRUPT && b.rc == CB_ECORRUPT)
        snprintf(out->msg, sizeof(out->msg),
                 "unreadable: two readings gave different bytes (%.400s; then %.400s)", a.e.msg,
                 b.e.msg);
    else if (a.rc == b.rc && strcmp(a.e.msg, b.e.msg) == 0)
        snprintf(out->msg, sizeof(out->msg), "unreadable (read twice): %.900s", b.e.msg);
    else
        snprintf(out->msg, sizeof(out->msg), "unreadable: %.400s; read again: %.400s", a.e.msg,
                 b.e.msg);
    return 0;
}
