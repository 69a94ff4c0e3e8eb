/* SPDX-License-Identifier: Apache-2.0 */
/* source_nbd.c: an NBD export as the volume of a backup (source_nbd.h), through libnbd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source_nbd.h"
#include "../util/util.h"

int cb__nbd_is_uri(const char *path)
{
    static const char *const schemes[] = { "nbd:",       "nbds:",      "nbd+unix:",
                                           "nbds+unix:", "nbd+vsock:", "nbds+vsock:" };
    for (size_t i = 0; path != NULL && i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (strncmp(path, schemes[i], strlen(schemes[i])) == 0)
            return 1;
    return 0;
}

#ifndef CB_HAVE_NBD

int cb__nbd_open(const char *uri,
                 const char *bitmap,
                 int connections,
                 uint32_t block,
                 cb_nbd **out,
                 uint64_t *size_out,
                 cb_error *err)
{
    (void)bitmap, (void)connections, (void)block, (void)size_out;
    *out = NULL;
    return cb_error_set(err, CB_ENOTSUPP,
                        "volume '%s' is an NBD export, and this build of cinderblock has no NBD "
                        "support (built without libnbd: meson -Dnbd=enabled)",
                        uri);
}

void cb__nbd_free(cb_nbd *n)
{
    (void)n;
}

long long cb__nbd_pread(void *payload, void *buf, size_t len, uint64_t off)
{
    (void)payload, (void)buf, (void)len, (void)off;
    return -5;
}

cb_extent_kind cb__nbd_extent(const cb_nbd *n, uint64_t off, uint64_t *end_out)
{
    (void)n;
    *end_out = off;
    return CB_EXTENT_DATA;
}

uint64_t cb__nbd_run_end(const cb_nbd *n, uint64_t off, int zero)
{
    (void)n;
    return zero ? off : UINT64_MAX;
}

uint64_t cb__nbd_bytes_read(const cb_nbd *n)
{
    (void)n;
    return 0;
}

void cb__nbd_last_error(cb_nbd *n, char *buf, size_t cap)
{
    (void)n;
    if (cap > 0)
        buf[0] = '\0';
}

#else

#include <errno.h>
#include <libnbd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define NBD_MAX_CONNECTIONS 16
#define NBD_CONNECT_WAIT_MS 2000    /* for the connections after the first (see nbd_more) */
#define NBD_CACHE_BYTES (64u << 20) /* blocks read, kept for the re-read of a changed run */
#define NBD_REQUEST_MAX (32u << 20) /* what servers take in one request (qemu-nbd: 32 MiB) */
#define NBD_STATUS_MAX (1u << 30)   /* bytes asked of block status at a time */

typedef struct nbd_extent {
    uint64_t off; /* it ends where the next one begins (the last: at the size) */
    cb_extent_kind kind;
    uint64_t zero_at; /* where the next zero extent (this one, or one after) begins, or the
                         size: the end of a data run is one lookup, however many clean and
                         dirty extents alternate in it */
} nbd_extent;

/* The block cache: direct-mapped (block i in slot i % n): a changed run is re-read soon
 * after it was hashed, within the pipeline's window, far smaller than the cache. */
typedef struct nbd_slot {
    uint64_t block; /* UINT64_MAX: empty */
    unsigned char *data;
} nbd_slot;

struct cb_nbd {
    char *uri;
    struct nbd_handle *h[NBD_MAX_CONNECTIONS];
    int n_h;
    int free_h[NBD_MAX_CONNECTIONS]; /* a stack of the idle connections */
    int n_free;
    pthread_mutex_t lock; /* guards free_h, the cache and last_error */
    pthread_cond_t cond;
    uint64_t size;
    uint32_t block;
    uint64_t request_max;
    nbd_extent *ext;
    size_t n_ext, cap_ext;
    nbd_slot *slots;
    size_t n_slots;
    _Atomic uint64_t bytes_read;
    char last_error[256];
};

/* ---- the map of the export: base:allocation and the dirty bitmap, merged ---- */

typedef struct nbd_list {
    uint64_t *off; /* where each entry starts */
    uint32_t *flags;
    size_t n, cap;
    uint64_t end; /* covered up to here */
} nbd_list;

typedef struct nbd_status {
    nbd_list alloc, dirty;
    const char *bitmap_ctx; /* or NULL */
    int oom;
} nbd_status;

static int nbd_list_add(nbd_list *l, uint64_t off, uint32_t flags)
{
    if (l->n > 0 && l->flags[l->n - 1] == flags)
        return 0; /* the same as the one before: it goes on */
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        uint64_t *o = realloc(l->off, cap * sizeof(*o));
        if (o != NULL)
            l->off = o;
        uint32_t *f = o ? realloc(l->flags, cap * sizeof(*f)) : NULL;
        if (f == NULL)
            return -1;
        l->flags = f;
        l->cap = cap;
    }
    l->off[l->n] = off;
    l->flags[l->n++] = flags;
    return 0;
}

/* libnbd's extent callback: `entries` are (length, flags) pairs from `offset`. A context's
 * answer may end before or after the other's: what a list already covers is skipped. */
static int nbd_on_extents(
    void *user, const char *ctx, uint64_t offset, uint32_t *entries, size_t n, int *error)
{
    nbd_status *st = user;
    (void)error;
    nbd_list *l = strcmp(ctx, LIBNBD_CONTEXT_BASE_ALLOCATION) == 0             ? &st->alloc
                  : st->bitmap_ctx != NULL && strcmp(ctx, st->bitmap_ctx) == 0 ? &st->dirty
                                                                               : NULL;
    if (l == NULL)
        return 0;
    uint64_t at = offset;
    for (size_t i = 0; i + 1 < n; i += 2) {
        uint64_t end = at + entries[i];
        if (end > l->end) {
            if (nbd_list_add(l, at > l->end ? at : l->end, entries[i + 1]) < 0)
                st->oom = 1;
            l->end = end;
        }
        at = end;
    }
    return 0;
}

/* The kind of a range from its two flags: zeros win (they are known without reading, and
 * right whatever the bitmap says), then a bitmap's clean. */
static cb_extent_kind nbd_kind(uint32_t alloc, int have_bitmap, uint32_t dirty)
{
    if (alloc & LIBNBD_STATE_ZERO)
        return CB_EXTENT_ZERO;
    if (have_bitmap && !(dirty & 1)) /* qemu's dirty bitmap context: bit 0, dirty */
        return CB_EXTENT_CLEAN;
    return CB_EXTENT_DATA;
}

static int nbd_ext_add(cb_nbd *n, uint64_t off, cb_extent_kind kind)
{
    if (n->n_ext > 0 && n->ext[n->n_ext - 1].kind == kind)
        return 0;
    if (n->n_ext == n->cap_ext) {
        size_t cap = n->cap_ext ? 2 * n->cap_ext : 64;
        nbd_extent *e = realloc(n->ext, cap * sizeof(*e));
        if (e == NULL)
            return -1;
        n->ext = e;
        n->cap_ext = cap;
    }
    n->ext[n->n_ext].off = off;
    n->ext[n->n_ext++].kind = kind;
    return 0;
}

/* Walk both lists together: a boundary of either is a boundary of the map. */
static int nbd_merge(cb_nbd *n, const nbd_status *st, int have_bitmap)
{
    size_t i = 0, j = 0;
    uint64_t at = 0;
    while (at < n->size) {
        while (i + 1 < st->alloc.n && st->alloc.off[i + 1] <= at)
            i++;
        while (have_bitmap && j + 1 < st->dirty.n && st->dirty.off[j + 1] <= at)
            j++;
        uint32_t a = st->alloc.n ? st->alloc.flags[i] : 0;
        uint32_t d = have_bitmap && st->dirty.n ? st->dirty.flags[j] : 1;
        if (nbd_ext_add(n, at, nbd_kind(a, have_bitmap, d)) < 0)
            return -1;
        uint64_t next = n->size;
        if (i + 1 < st->alloc.n && st->alloc.off[i + 1] < next)
            next = st->alloc.off[i + 1];
        if (have_bitmap && j + 1 < st->dirty.n && st->dirty.off[j + 1] < next)
            next = st->dirty.off[j + 1];
        at = next;
    }
    return 0;
}

static int nbd_fail(cb_nbd *n, int code, const char *what, cb_error *err)
{
    /* libnbd's message already ends with the system's error text */
    return cb_error_set(err, code, "%s NBD volume '%s': %s", what, n->uri,
                        nbd_get_error() ? nbd_get_error() : "failed");
}

/* Ask the server what every block of the export is, from the first connection. */
static int nbd_map(cb_nbd *n, const char *bitmap_ctx, cb_error *err)
{
    nbd_status st = { .bitmap_ctx = bitmap_ctx };
    int rc = 0;
    int have_alloc = nbd_can_meta_context(n->h[0], LIBNBD_CONTEXT_BASE_ALLOCATION) == 1;
    while (rc == 0 && (have_alloc || bitmap_ctx != NULL)) {
        uint64_t at = have_alloc ? st.alloc.end : n->size;
        if (bitmap_ctx != NULL && st.dirty.end < at)
            at = st.dirty.end;
        if (at >= n->size)
            break;
        uint64_t len = n->size - at < NBD_STATUS_MAX ? n->size - at : NBD_STATUS_MAX;
        if (nbd_block_status(n->h[0], len, at,
                             (nbd_extent_callback){ .callback = nbd_on_extents, .user_data = &st },
                             0) < 0)
            rc = nbd_fail(n, CB_ESOURCE, "asking the block status of", err);
        else if (st.oom)
            rc = cb_error_set(err, CB_ENOMEM, "out of memory for the map of NBD volume '%s'",
                              n->uri);
        else if ((have_alloc && st.alloc.end <= at) || (bitmap_ctx && st.dirty.end <= at))
            rc = cb_error_set(err, CB_ESOURCE,
                              "NBD volume '%s': the server's block status at offset %llu "
                              "covered no bytes",
                              n->uri, (unsigned long long)at);
    }
    if (rc == 0 && nbd_merge(n, &st, bitmap_ctx != NULL) < 0)
        rc = cb_error_set(err, CB_ENOMEM, "out of memory for the map of NBD volume '%s'", n->uri);
    for (size_t i = n->n_ext; rc == 0 && i-- > 0;)
        n->ext[i].zero_at = n->ext[i].kind == CB_EXTENT_ZERO ? n->ext[i].off
                            : i + 1 < n->n_ext               ? n->ext[i + 1].zero_at
                                                             : n->size;
    free(st.alloc.off), free(st.alloc.flags), free(st.dirty.off), free(st.dirty.flags);
    return rc;
}

/* The last extent that starts at or before `off` (the map has one at 0). */
static size_t nbd_find(const cb_nbd *n, uint64_t off)
{
    size_t lo = 0, hi = n->n_ext;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (n->ext[mid].off <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

cb_extent_kind cb__nbd_extent(const cb_nbd *n, uint64_t off, uint64_t *end_out)
{
    if (n->n_ext == 0) { /* a server without block status: everything is data */
        *end_out = n->size;
        return CB_EXTENT_DATA;
    }
    size_t i = nbd_find(n, off);
    *end_out = i + 1 < n->n_ext ? n->ext[i + 1].off : n->size;
    return n->ext[i].kind;
}

uint64_t cb__nbd_run_end(const cb_nbd *n, uint64_t off, int zero)
{
    if (off >= n->size)
        return off;
    if (n->n_ext == 0)
        return zero ? off : n->size;
    size_t i = nbd_find(n, off);
    if ((n->ext[i].kind == CB_EXTENT_ZERO) != zero)
        return off;
    if (!zero)
        return n->ext[i].zero_at;
    return i + 1 < n->n_ext ? n->ext[i + 1].off : n->size; /* zeros are one merged extent */
}

/* ---- connections ---- */

static struct nbd_handle *nbd_handle_new(cb_nbd *n, cb_error *err)
{
    struct nbd_handle *h = nbd_create();
    if (h == NULL)
        nbd_fail(n, CB_ENOMEM, "cannot connect to", err);
    return h;
}

/* More connections, for parallel reads, when the server allows them. Tried at once, each
 * given a short while: a server that takes fewer clients (qemu-nbd's --shared, 1 by
 * default) leaves the others waiting in its listen queue, never refused. */
static void nbd_more(cb_nbd *n, int want)
{
    struct nbd_handle *h[NBD_MAX_CONNECTIONS];
    int k = 0;
    for (int i = 1; i < want; i++) {
        if ((h[k] = nbd_create()) == NULL)
            break;
        if (nbd_aio_connect_uri(h[k], n->uri) < 0) {
            nbd_close(h[k]);
            break;
        }
        k++;
    }
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int waiting = k; waiting > 0;) {
        waiting = 0;
        for (int i = 0; i < k; i++)
            if (h[i] != NULL && nbd_aio_is_connecting(h[i])) {
                nbd_poll(h[i], 10);
                waiting += nbd_aio_is_connecting(h[i]);
            }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >
            NBD_CONNECT_WAIT_MS)
            break;
    }
    for (int i = 0; i < k; i++) {
        if (nbd_aio_is_ready(h[i]))
            n->h[n->n_h++] = h[i];
        else
            nbd_close(h[i]);
    }
}

int cb__nbd_open(const char *uri,
                 const char *bitmap,
                 int connections,
                 uint32_t block,
                 cb_nbd **out,
                 uint64_t *size_out,
                 cb_error *err)
{
    char ctx[300];
    int rc = 0;
    cb_nbd *n = cb__calloc(1, sizeof(*n), err);
    *out = NULL;
    if (n == NULL)
        return CB_ENOMEM;
    pthread_mutex_init(&n->lock, NULL);
    pthread_cond_init(&n->cond, NULL);
    n->block = block ? block : 32768;
    if ((n->uri = cb__strdup(uri, err)) == NULL) {
        cb__nbd_free(n);
        return CB_ENOMEM;
    }
    if (bitmap != NULL)
        snprintf(ctx, sizeof(ctx), "qemu:dirty-bitmap:%s", bitmap);
    struct nbd_handle *h = nbd_handle_new(n, err);
    if (h == NULL) {
        cb__nbd_free(n);
        return CB_ENOMEM;
    }
    n->h[n->n_h++] = h;
    if (nbd_add_meta_context(h, LIBNBD_CONTEXT_BASE_ALLOCATION) < 0 ||
        (bitmap != NULL && nbd_add_meta_context(h, ctx) < 0) || nbd_connect_uri(h, uri) < 0)
        rc = nbd_fail(n, CB_ESOURCE, "cannot connect to", err);
    int64_t size = rc == 0 ? nbd_get_size(h) : -1;
    if (rc == 0 && size < 0)
        rc = nbd_fail(n, CB_ESOURCE, "cannot get the size of", err);
    if (rc == 0 && bitmap != NULL && nbd_can_meta_context(h, ctx) != 1)
        rc = cb_error_set(err, CB_ESOURCE,
                          "NBD volume '%s' does not offer dirty bitmap '%s' (meta context %s): "
                          "export it with the bitmap (qemu-nbd -B %s), or back up without "
                          "--dirty-bitmap",
                          uri, bitmap, ctx, bitmap);
    if (rc == 0) {
        n->size = (uint64_t)size;
        int64_t mx = nbd_get_block_size(h, LIBNBD_SIZE_MAXIMUM);
        n->request_max = mx > 0 && (uint64_t)mx < NBD_REQUEST_MAX ? (uint64_t)mx : NBD_REQUEST_MAX;
        rc = nbd_map(n, bitmap != NULL ? ctx : NULL, err);
    }
    if (rc == 0 &&
        (n->slots = cb__calloc(NBD_CACHE_BYTES / n->block + 1, sizeof(nbd_slot), err)) == NULL)
        rc = CB_ENOMEM;
    if (rc < 0) {
        cb__nbd_free(n);
        return rc;
    }
    n->n_slots = NBD_CACHE_BYTES / n->block + 1;
    for (size_t i = 0; i < n->n_slots; i++)
        n->slots[i].block = UINT64_MAX;
    if (connections <= 0)
        connections = CB_NBD_CONNECTIONS;
    if (connections > NBD_MAX_CONNECTIONS)
        connections = NBD_MAX_CONNECTIONS;
    if (connections > 1 && nbd_can_multi_conn(h) == 1)
        nbd_more(n, connections);
    for (int i = 0; i < n->n_h; i++)
        n->free_h[n->n_free++] = i;
    *size_out = n->size;
    *out = n;
    return 0;
}

void cb__nbd_free(cb_nbd *n)
{
    if (n == NULL)
        return;
    for (int i = 0; i < n->n_h; i++) {
        nbd_shutdown(n->h[i], 0);
        nbd_close(n->h[i]);
    }
    for (size_t i = 0; i < n->n_slots; i++)
        free(n->slots[i].data);
    free(n->slots);
    free(n->ext);
    free(n->uri);
    pthread_cond_destroy(&n->cond);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

/* ---- reading ---- */

/* [off, off+len) from the server through an idle connection (waiting for one). */
static long long nbd_read_server(cb_nbd *n, unsigned char *buf, uint64_t len, uint64_t off)
{
    pthread_mutex_lock(&n->lock);
    while (n->n_free == 0)
        pthread_cond_wait(&n->cond, &n->lock);
    int k = n->free_h[--n->n_free];
    pthread_mutex_unlock(&n->lock);
    int rc = 0, e = 0;
    for (uint64_t done = 0; rc == 0 && done < len;) {
        uint64_t m = len - done < n->request_max ? len - done : n->request_max;
        if ((rc = nbd_pread(n->h[k], buf + done, (size_t)m, off + done, 0)) < 0)
            e = nbd_get_errno();
        done += m;
    }
    pthread_mutex_lock(&n->lock);
    if (rc < 0)
        snprintf(n->last_error, sizeof(n->last_error), "%s",
                 nbd_get_error() ? nbd_get_error() : "read failed");
    n->free_h[n->n_free++] = k;
    pthread_cond_signal(&n->cond);
    pthread_mutex_unlock(&n->lock);
    if (rc < 0)
        return -(long long)(e > 0 ? e : EIO);
    atomic_fetch_add(&n->bytes_read, len);
    return (long long)len;
}

static uint64_t nbd_block_len(const cb_nbd *n, uint64_t b)
{
    uint64_t at = b * n->block;
    return n->size - at < n->block ? n->size - at : n->block;
}

/* Blocks first..last-1 at buf: those the cache holds are copied out (have[i] set). */
static void
nbd_cache_get(cb_nbd *n, uint64_t first, uint64_t last, unsigned char *buf, unsigned char *have)
{
    pthread_mutex_lock(&n->lock);
    for (uint64_t b = first; b < last; b++) {
        nbd_slot *s = &n->slots[b % n->n_slots];
        have[b - first] = s->block == b;
        if (have[b - first])
            memcpy(buf + (b - first) * n->block, s->data, nbd_block_len(n, b));
    }
    pthread_mutex_unlock(&n->lock);
}

static void nbd_cache_put(cb_nbd *n, uint64_t first, uint64_t last, const unsigned char *buf)
{
    pthread_mutex_lock(&n->lock);
    for (uint64_t b = first; b < last; b++) {
        nbd_slot *s = &n->slots[b % n->n_slots];
        if (s->data == NULL && (s->data = malloc(n->block)) == NULL)
            continue; /* no room: the block is simply not kept */
        memcpy(s->data, buf + (b - first) * n->block, nbd_block_len(n, b));
        s->block = b;
    }
    pthread_mutex_unlock(&n->lock);
}

#define NBD_RUN_BLOCKS 256 /* blocks looked up in the cache at a time */

/* Whole blocks [first, last) into buf: from the cache where it has them, the rest from the
 * server, one request per run of missing blocks, kept in the cache. */
static long long nbd_read_blocks(cb_nbd *n, unsigned char *buf, uint64_t first, uint64_t last)
{
    unsigned char have[NBD_RUN_BLOCKS];
    for (uint64_t b = first; b < last;) {
        uint64_t end = last - b < NBD_RUN_BLOCKS ? last : b + NBD_RUN_BLOCKS;
        unsigned char *p = buf + (b - first) * n->block;
        nbd_cache_get(n, b, end, p, have);
        for (uint64_t i = b; i < end;) {
            if (have[i - b]) {
                i++;
                continue;
            }
            uint64_t j = i;
            while (j < end && !have[j - b])
                j++;
            uint64_t at = i * n->block,
                     len = j * n->block < n->size ? (j - i) * n->block : n->size - at;
            long long r = nbd_read_server(n, buf + (at - first * n->block), len, at);
            if (r < 0)
                return r;
            nbd_cache_put(n, i, j, buf + (at - first * n->block));
            i = j;
        }
        b = end;
    }
    return 0;
}

long long cb__nbd_pread(void *payload, void *buf, size_t len, uint64_t off)
{
    cb_nbd *n = payload;
    if (off >= n->size)
        return 0;
    if (len > n->size - off)
        len = (size_t)(n->size - off);
    /* whole blocks (the last may be short: it ends at the size) go through the cache */
    if (off % n->block != 0 || (len % n->block != 0 && off + len != n->size))
        return nbd_read_server(n, buf, len, off);
    long long r = nbd_read_blocks(n, buf, off / n->block, (off + len + n->block - 1) / n->block);
    return r < 0 ? r : (long long)len;
}

uint64_t cb__nbd_bytes_read(const cb_nbd *n)
{
    return atomic_load(&n->bytes_read);
}

void cb__nbd_last_error(cb_nbd *n, char *buf, size_t cap)
{
    pthread_mutex_lock(&n->lock);
    snprintf(buf, cap, "%s", n->last_error);
    pthread_mutex_unlock(&n->lock);
}

#endif
