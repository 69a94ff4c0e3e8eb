/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify_data.c: reading every data object back (verify --read-data) with N workers.
 *
 * Objects are handed out backup by backup, in offset order. Handing one out copies the
 * entries of its own backup's _sha256file for the sha blocks it holds into the worker's
 * buffer, so the workers share nothing while they check. The list of the backup being
 * handed out is held whole when it is at most CB_VF_SHA_HOLD bytes, else streamed: its
 * indexes only increase as the objects do. Memory is one list (or one stream) plus each
 * worker's decoder, read buffer and hashes of one object, whatever the volume size.
 *
 * Each object is read and checked (decoded length, MD5, the SHA-256 of every whole sha
 * block), and read again if that failed: only when both attempts fail alike (the same
 * error over bytes with the same MD5) is it damaged; otherwise it is unreadable.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verify.h"
#include "../catalog/catalog.h"
#include "verify_object.h"
#include "../util/util.h"
#include "../format/format.h"

/* The hash list of the backup whose objects are being handed out. */
typedef struct vd_src {
    size_t node;        /* CB_VF_NONE: none yet */
    int usable;         /* 0: its objects are checked without it (length and MD5) */
    unsigned char *all; /* the whole list, or NULL: streamed through `ps` */
    cb_hashes ps;       /* open while streaming */
    int streaming;
} vd_src;

struct vd_shared {
    cb_vf *v;
    pthread_mutex_t take; /* guards node, obj, src: handing out objects */
    size_t node, obj;     /* the next object to consider */
    vd_src src;
    pthread_cond_t cond; /* under v->lock: a worker finished or failed */
    int failed;          /* v->lock: the failure that stops everybody */
    cb_error err;        /* v->lock: its message */
    int running;         /* v->lock: workers still going */
    uint64_t total;      /* bytes of the objects selected */
};

static uint64_t vd_fnv1a(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h;
}

unsigned cb__vf_part(const char *container, const char *name, unsigned t)
{
    /* FNV-1a, 64 bits, over "container/name": stable across runs, stores and builds */
    uint64_t h = vd_fnv1a(vd_fnv1a(vd_fnv1a(0xcbf29ce484222325ull, container), "/"), name);
    return 1 + (unsigned)(h % t);
}

static void vd_src_close(vd_src *s)
{
    free(s->all);
    if (s->streaming)
        cb__hashes_close(&s->ps);
    memset(s, 0, sizeof(*s));
    s->node = CB_VF_NONE;
}

/* Open the list of node `i`: held whole if small, else streamed. */
static int vd_src_try(cb_vf *v, vd_src *s, size_t i, cb_error *e)
{
    const cb_vf_node *nd = &v->nodes[i];
    uint64_t block;
    int rc = cb__hashes_open(&s->ps, v->store, &nd->where, &block, e);
    s->streaming = 1;
    if (rc < 0 || nd->count * 32 > v->sha_hold)
        return rc;
    if ((s->all = cb__malloc(nd->count * 32 + 1, e)) == NULL)
        return CB_ENOMEM;
    for (uint64_t k = 0; rc == 0 && k < nd->count; k++) {
        int have;
        if ((rc = cb__hashes_get(&s->ps, k, s->all + k * 32, &have, e)) == 0 && !have)
            rc = cb_error_set(e, CB_ECORRUPT, "'%s' ended at entry %llu", s->ps.name,
                              (unsigned long long)k);
    }
    cb__hashes_close(&s->ps);
    s->streaming = 0;
    return rc;
}

/* A problem of the backup's _sha256file, from a worker or the handing out of objects. */
static int vd_list_problem(cb_vf *v, const cb_vf_node *nd, int code, const char *msg, cb_error *err)
{
    char *name = cb__name_sha256file(nd->where.prefix, err);
    if (name == NULL)
        return CB_ENOMEM;
    pthread_mutex_lock(&v->lock);
    int rc = cb__vf_problem(v, nd, name, code, msg, err);
    pthread_mutex_unlock(&v->lock);
    free(name);
    return rc;
}

/* Switch to node `i`'s list, reading it twice if need be; a list that cannot be read is
 * a problem of its own, and the backup's objects are checked without it. */
static int vd_src_open(struct vd_shared *sh, size_t i, cb_error *err)
{
    cb_vf *v = sh->v;
    const cb_vf_node *nd = &v->nodes[i];
    cb_error e = { 0 };
    int rc = 0;
    vd_src_close(&sh->src);
    sh->src.node = i;
    if (!nd->list_ok || nd->size_state != 2) /* the structure check said why */
        return 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        vd_src_close(&sh->src);
        sh->src.node = i;
        cb_error_clear(&e);
        if ((rc = vd_src_try(v, &sh->src, i, &e)) == 0) {
            sh->src.usable = 1;
            pthread_mutex_lock(&v->lock);
            v->rep->retried += (uint64_t)attempt;
            pthread_mutex_unlock(&v->lock);
            return 0;
        }
        if (rc == CB_ENOMEM)
            break;
    }
    vd_src_close(&sh->src);
    sh->src.node = i;
    if (rc == CB_ENOMEM)
        return cb_error_set(err, rc, "%s", e.msg);
    return vd_list_problem(v, nd, rc, e.msg, err);
}

/* The entries for the job's blocks into the worker's buffer. A stream that fails is
 * reopened once (it may have sat idle for long); past that it is a problem of its own,
 * and the rest of the backup's objects are checked without the list. */
static int vd_src_slice(struct vd_shared *sh, cb_vd_job *j, unsigned char *out, cb_error *err)
{
    vd_src *s = &sh->src;
    if (s->all != NULL) {
        memcpy(out, s->all + j->first * 32, (size_t)j->k * 32);
        return 0;
    }
    for (uint64_t b = 0; b < j->k; b++) {
        cb_error e = { 0 };
        int have = 0, rc = cb__hashes_get(&s->ps, j->first + b, out + b * 32, &have, &e);
        if (rc < 0 && rc != CB_ENOMEM && rc != CB_ECORRUPT) {
            uint64_t block;
            cb__hashes_close(&s->ps);
            cb_error_clear(&e);
            if ((rc = cb__hashes_open(&s->ps, sh->v->store, &sh->v->nodes[s->node].where, &block,
                                      &e)) == 0 &&
                (rc = cb__hashes_get(&s->ps, j->first + b, out + b * 32, &have, &e)) == 0) {
                pthread_mutex_lock(&sh->v->lock);
                sh->v->rep->retried++;
                pthread_mutex_unlock(&sh->v->lock);
            }
        }
        if (rc == CB_ENOMEM)
            return cb_error_set(err, rc, "%s", e.msg);
        if (rc < 0) { /* the list is unreadable (or changed since the structure check) */
            cb_vf *v = sh->v;
            const cb_vf_node *nd = &v->nodes[s->node];
            size_t node = s->node;
            vd_src_close(s);
            s->node = node;
            j->k = 0;
            return vd_list_problem(v, nd, rc, e.msg, err);
        }
        if (!have) { /* the list is short: the structure check reported it */
            j->k = b;
            return 0;
        }
    }
    return 0;
}

/* The next object to read, with its hashes; 0 when none is left. */
static int vd_take(struct vd_shared *sh, cb_vd_worker *w, cb_vd_job *j, cb_error *err)
{
    cb_vf *v = sh->v;
    const cb_verify_opts *o = v->opts;
    int rc = 0;
    pthread_mutex_lock(&sh->take);
    for (;;) {
        pthread_mutex_lock(&v->lock);
        int failed = sh->failed;
        pthread_mutex_unlock(&v->lock);
        if (failed || sh->node >= v->n)
            break;
        const cb_vf_node *nd = &v->nodes[sh->node];
        if (!nd->meta_ok || sh->obj >= nd->meta.n_objects) {
            sh->node++;
            sh->obj = 0;
            continue;
        }
        const cb_meta_object *ob = &nd->meta.objects[sh->obj++];
        if (o->subset_t > 0 &&
            cb__vf_part(nd->where.container, ob->name, o->subset_t) != o->subset_n)
            continue;
        if (sh->src.node != sh->node && (rc = vd_src_open(sh, sh->node, err)) < 0)
            break;
        cb__vd_job_init(j, nd, ob, sh->src.usable);
        if (j->k > 0 && (rc = cb__vd_worker_reserve(w, j, err)) == 0)
            rc = vd_src_slice(sh, j, w->hashes, err);
        rc = rc < 0 ? rc : 1;
        break;
    }
    pthread_mutex_unlock(&sh->take);
    return rc;
}

static void vd_fail(struct vd_shared *sh, int rc, const cb_error *err)
{
    pthread_mutex_lock(&sh->v->lock);
    if (!sh->failed) {
        sh->failed = rc;
        sh->err = *err;
    }
    pthread_cond_broadcast(&sh->cond);
    pthread_mutex_unlock(&sh->v->lock);
}

/* What came of one object: counted, reported, and a problem if it is one. */
static int
vd_record(struct vd_shared *sh, const cb_vd_job *j, const cb_vd_verdict *vd, cb_error *err)
{
    cb_vf *v = sh->v;
    int rc = 0;
    pthread_mutex_lock(&v->lock);
    v->rep->objects_read++;
    v->rep->retried += vd->retried;
    /* an object the object-list check already found missing is not reported twice */
    if (vd->status != 0 && !(vd->status == CB_ECORRUPT && cb__vf_named(v, j->nd, j->o->name)))
        rc = cb__vf_problem(v, j->nd, j->o->name, vd->status, vd->msg, err);
    if (v->opts->on_object != NULL)
        v->opts->on_object(j->nd->where.parts.backup_id, j->o->name, vd->status,
                           v->opts->on_object_payload);
    pthread_mutex_unlock(&v->lock);
    return rc;
}

static void *vd_worker_main(void *arg)
{
    cb_vd_worker *w = arg;
    struct vd_shared *sh = w->sh;
    for (;;) {
        cb_error err = { 0 };
        cb_vd_job j;
        cb_vd_verdict vd;
        int rc = vd_take(sh, w, &j, &err);
        if (rc == 0)
            break;
        if (rc == 1 && (rc = cb__vd_check(w, &j, &vd, &err)) == 0)
            rc = vd_record(sh, &j, &vd, &err);
        if (rc < 0) {
            if (rc != CB_ECANCELED)
                vd_fail(sh, rc, &err);
            break;
        }
    }
    pthread_mutex_lock(&sh->v->lock);
    sh->running--;
    pthread_cond_broadcast(&sh->cond);
    pthread_mutex_unlock(&sh->v->lock);
    return NULL;
}

/* The caller's thread: progress and the cancel hook until the workers are done. */
static int vd_supervise(struct vd_shared *sh, cb_error *err)
{
    cb_vf *v = sh->v;
    const cb_verify_opts *o = v->opts;
    cb_progress pr = { .phase = "verify", .bytes_total = sh->total };
    pthread_mutex_lock(&v->lock);
    for (;;) {
        pr.bytes_done = v->rep->bytes;
        pr.objects_done = v->rep->objects_read;
        int running = sh->running, failed = sh->failed;
        pthread_mutex_unlock(&v->lock);
        if (o->progress != NULL)
            o->progress(&pr, o->progress_payload);
        if (running == 0 || failed)
            break;
        cb_error cerr = { 0 };
        if (cb__vf_stopped(v, &cerr) < 0)
            vd_fail(sh, cerr.code, &cerr);
        pthread_mutex_lock(&v->lock);
        if (sh->running > 0 && !sh->failed)
            cb__cond_wait_ms(&sh->cond, &v->lock, 200);
    }
    pthread_mutex_lock(&v->lock);
    int failed = sh->failed;
    if (failed)
        cb_error_set(err, failed, "%s", sh->err.msg);
    pthread_mutex_unlock(&v->lock);
    return failed;
}

static int vd_tick(struct vd_shared *sh, cb_error *err)
{
    pthread_mutex_lock(&sh->v->lock);
    int failed = sh->failed;
    pthread_mutex_unlock(&sh->v->lock);
    return failed ? cb_error_set(err, CB_ECANCELED, "verify stopped") : 0;
}

static void vd_bytes(struct vd_shared *sh, uint64_t n)
{
    pthread_mutex_lock(&sh->v->lock);
    sh->v->rep->bytes += n;
    pthread_mutex_unlock(&sh->v->lock);
}

static const cb_vd_hooks vd_hooks = { .tick = vd_tick, .bytes = vd_bytes };

/* Start `n` workers and wait for them. */
static int vd_run(struct vd_shared *sh, int n, cb_error *err)
{
    cb_vd_worker *w = cb__calloc((size_t)n, sizeof(*w), err);
    int started = 0, rc = 0;
    if (w == NULL)
        return CB_ENOMEM;
    for (; started < n; started++) {
        if ((rc = cb__vd_worker_init(&w[started], sh, &vd_hooks, sh->v->store, err)) < 0)
            break;
        pthread_mutex_lock(&sh->v->lock);
        sh->running++;
        pthread_mutex_unlock(&sh->v->lock);
        if (pthread_create(&w[started].thread, NULL, vd_worker_main, &w[started]) != 0) {
            pthread_mutex_lock(&sh->v->lock);
            sh->running--;
            pthread_mutex_unlock(&sh->v->lock);
            cb__vd_worker_dispose(&w[started]);
            rc = cb_error_set(err, CB_ERROR, "cannot start verify threads");
            break;
        }
    }
    if (rc < 0)
        vd_fail(sh, rc, err);
    int src = vd_supervise(sh, err);
    for (int i = 0; i < started; i++) {
        pthread_join(w[i].thread, NULL);
        cb__vd_worker_dispose(&w[i]);
    }
    free(w);
    return rc < 0 ? rc : src;
}

int cb__vf_read_data(cb_vf *v, cb_error *err)
{
    struct vd_shared sh = { .v = v };
    const cb_verify_opts *o = v->opts;
    int rc = cb__vf_stopped(v, err);
    if (rc < 0)
        return rc;
    sh.src.node = CB_VF_NONE;
    for (size_t i = 0; i < v->n; i++)
        for (size_t k = 0; v->nodes[i].meta_ok && k < v->nodes[i].meta.n_objects; k++)
            if (o->subset_t == 0 ||
                cb__vf_part(v->nodes[i].where.container, v->nodes[i].meta.objects[k].name,
                            o->subset_t) == o->subset_n)
                sh.total += v->nodes[i].meta.objects[k].length;
    pthread_mutex_init(&sh.take, NULL);
    pthread_cond_init(&sh.cond, NULL);
    rc = vd_run(&sh, cb__threads(o->threads), err);
    vd_src_close(&sh.src);
    pthread_mutex_destroy(&sh.take);
    pthread_cond_destroy(&sh.cond);
    return rc;
}
