/* SPDX-License-Identifier: Apache-2.0 */
/* reuse.c: see reuse.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../hash/hash.h"
#include "../catalog/catalog.h"
#include "reuse.h"
#include "../util/util.h"

typedef struct reuse_scan {
    cb_reuse *r;
    cb_store *store;
    const char *container;
    const char *prefix;
    size_t cap;
    int64_t *sizes;       /* per entry of r->v, as listed (-1: unknown) */
    unsigned char *found; /* per entry: read back and decoded */
    pthread_mutex_t lock; /* guards next, failed, err */
    size_t next;
    int failed;
    cb_error err;
} reuse_scan;

/* A data object's name: the prefix, '-', digits. */
static int reuse_is_data(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || name[n] != '-' || name[n + 1] == '\0')
        return 0;
    for (const char *d = name + n + 1; *d; d++)
        if (*d < '0' || *d > '9')
            return 0;
    return 1;
}

static int reuse_on_entry(const cb_entry *e, void *payload)
{
    reuse_scan *s = payload;
    cb_reuse *r = s->r;
    if (!reuse_is_data(e->name, s->prefix))
        return 0;
    if (r->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        cb_reuse_obj *v = cb__realloc(r->v, cap * sizeof(*v), &s->err);
        int64_t *sz = cb__realloc(s->sizes, cap * sizeof(*sz), &s->err);
        if (v != NULL)
            r->v = v;
        if (sz != NULL)
            s->sizes = sz;
        if (v == NULL || sz == NULL)
            return CB_ENOMEM;
        s->cap = cap;
    }
    memset(&r->v[r->n], 0, sizeof(r->v[r->n]));
    if ((r->v[r->n].name = cb__strdup(e->name, &s->err)) == NULL)
        return CB_ENOMEM;
    s->sizes[r->n++] = e->size;
    return 0;
}

static int reuse_md5(const void *data, size_t len, void *payload, cb_error *err)
{
    (void)err;
    cb__digest_md5_update(payload, data, len);
    return 0;
}

/* One object: decoded, measured and summed; a damaged one is simply not reusable. */
static void reuse_one(reuse_scan *s, cb_objread *rd, cb_digest *dg, size_t i)
{
    cb_reuse_obj *o = &s->r->v[i];
    cb_meta_object mo = { .name = o->name, .compression = NULL };
    cb_error err = { 0 };
    cb__digest_md5_begin(dg);
    if (cb__objread_run(rd, s->store, s->container, &mo, NULL, UINT64_MAX, reuse_md5, dg, NULL,
                        NULL, &o->length, &err) < 0)
        return;
    cb__digest_md5_end(dg, o->md5);
    o->codec = rd->codec;
    o->stored = s->sizes[i] >= 0 ? (uint64_t)s->sizes[i] : o->length;
    s->found[i] = 1;
}

static void *reuse_main(void *arg)
{
    reuse_scan *s = arg;
    cb_objread rd;
    cb_digest dg;
    cb_error err = { 0 };
    int rc = cb__objread_init(&rd, &err);
    if (rc == 0 && (rc = cb__digest_init(&dg, 4096, &err)) < 0)
        cb__objread_dispose(&rd);
    if (rc < 0) {
        pthread_mutex_lock(&s->lock);
        if (!s->failed) {
            s->failed = rc;
            s->err = err;
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&s->lock);
        size_t i = s->failed ? s->r->n : s->next++;
        pthread_mutex_unlock(&s->lock);
        if (i >= s->r->n)
            break;
        reuse_one(s, &rd, &dg, i);
    }
    cb__digest_dispose(&dg);
    cb__objread_dispose(&rd);
    return NULL;
}

static int reuse_cmp(const void *a, const void *b)
{
    return strcmp(((const cb_reuse_obj *)a)->name, ((const cb_reuse_obj *)b)->name);
}

/* Keep the objects that were read back, sorted for cb__reuse_find. */
static void reuse_keep_found(reuse_scan *s)
{
    cb_reuse *r = s->r;
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (s->found[i])
            r->v[k++] = r->v[i];
        else
            free(r->v[i].name);
    }
    r->n = k;
    if (k > 1)
        qsort(r->v, k, sizeof(r->v[0]), reuse_cmp);
}

int cb__reuse_scan(cb_reuse *r,
                   cb_store *store,
                   const char *container,
                   const char *prefix,
                   int threads,
                   cb_error *err)
{
    reuse_scan s = { .r = r, .store = store, .container = container, .prefix = prefix };
    pthread_t t[64];
    int started = 0;
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&s.lock, NULL);
    int rc = cb_store_list_entries(store, container, prefix, 0, reuse_on_entry, &s, err);
    if (rc == CB_ENOTFOUND) { /* no container: nothing was stored */
        cb_error_clear(err);
        rc = 0;
    }
    if (rc < 0 && err->code == 0)
        *err = s.err;
    if (rc == 0 && r->n > 0 && (s.found = cb__calloc(r->n, 1, err)) == NULL)
        rc = CB_ENOMEM;
    for (; rc == 0 && r->n > 0 && started < threads && started < 64; started++)
        if (pthread_create(&t[started], NULL, reuse_main, &s) != 0)
            break;
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    if (rc == 0 && r->n > 0 && started == 0)
        rc = cb_error_set(err, CB_ERROR, "cannot start threads to read back stored objects");
    if (rc == 0 && s.failed)
        rc = cb_error_set(err, s.failed, "%s", s.err.msg);
    if (rc == 0)
        reuse_keep_found(&s);
    free(s.found);
    free(s.sizes);
    pthread_mutex_destroy(&s.lock);
    if (rc < 0)
        cb__reuse_dispose(r);
    return rc;
}

const cb_reuse_obj *cb__reuse_find(const cb_reuse *r, const char *name, uint64_t length)
{
    if (r == NULL || r->n == 0)
        return NULL;
    cb_reuse_obj key = { .name = (char *)name };
    const cb_reuse_obj *o = bsearch(&key, r->v, r->n, sizeof(r->v[0]), reuse_cmp);
    return o != NULL && o->length == length ? o : NULL;
}

void cb__reuse_dispose(cb_reuse *r)
{
    for (size_t i = 0; r->v != NULL && i < r->n; i++)
        free(r->v[i].name);
    free(r->v);
    memset(r, 0, sizeof(*r));
}
