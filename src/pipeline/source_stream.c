/* SPDX-License-Identifier: Apache-2.0 */
/*
 * source_stream.c: a volume read from a pipe, a FIFO or a socket (`backup -`), held in a
 * window of whole objects so that the pipeline's workers still read it in parallel.
 *
 * Why a window of objects and not a sequential mode of the pipeline: every stage of the
 * pipeline reads the volume at an offset (pread): the reader's pieces, a worker's chunks,
 * the raw rewrite of an object that did not compress, the changed runs of an incremental.
 * Holding the objects in flight in memory keeps all of them, unchanged, and keeps the
 * hashing and compressing parallel; the filler thread only has to stay ahead of them.
 * The pipeline never asks for an object before cb__volume_wait() said it is here, and
 * releases it after its commit, so the filler, the reader and the committer always make
 * progress: the window holds at least one group of objects read side by side.
 *
 * Called only from source.c (which dispatches on v->stream): it calls nothing back.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source_stream.h"
#include "../hash/hash.h"
#include "../util/util.h"

struct cb_stream {
    int fd;                 /* the descriptor read (st_fd_read), or -1: a caller's function */
    cb_stream_read_fn read; /* where the bytes come from, in order, one call at a time */
    void *read_payload;
    const char *name; /* what the messages call the stream ("standard input") */
    uint64_t want;    /* the exact size given, or CB_VOLUME_SIZE_UNKNOWN */
    uint64_t limit;   /* at most this many bytes (want, a parent's size, or none) */
    const char *limit_what;
    uint64_t object_size;
    size_t n_slots;
    unsigned char **slot; /* n_slots buffers of object_size bytes, by object index % n */
    unsigned char *zero;  /* per slot: its object is all zeros */
    pthread_t thread;
    int started;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;  /* an object was read, one released, the end, a failure, stop */
    uint64_t loaded;      /* objects [0, loaded) are in their slots */
    uint64_t released;    /* objects [0, released) are no longer needed */
    uint64_t total;       /* bytes read so far */
    int ended;            /* the filler is done: total is the stream's size (if !failed) */
    int stop;             /* the pipeline gave up: the filler leaves */
    int failed;
    cb_error err;
};

static void st_fail(cb_stream *s, const cb_error *e)
{
    pthread_mutex_lock(&s->lock);
    if (!s->failed) {
        s->failed = e->code;
        s->err = *e;
    }
    s->ended = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static int st_stopped(cb_stream *s)
{
    pthread_mutex_lock(&s->lock);
    int stop = s->stop;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

/* The descriptor form of a stream's read function: read(2), polling so that a stalled
 * writer does not keep a stopped backup from ending (-ECANCELED once stopped). */
static long long st_fd_read(void *payload, void *buf, size_t len)
{
    cb_stream *s = payload;
    for (;;) {
        struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
        if (st_stopped(s))
            return -ECANCELED;
        int pr = poll(&pfd, 1, 200);
        if (pr < 0 && errno != EINTR)
            return -errno;
        if (pr <= 0)
            continue;
        ssize_t n = read(s->fd, buf, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        return n < 0 ? -(long long)errno : (long long)n;
    }
}

/* Read up to `len` bytes through the stream's function; *got_out < len only at its end. */
static int st_read(cb_stream *s, unsigned char *buf, size_t len, size_t *got_out, cb_error *err)
{
    size_t got = 0;
    while (got < len) {
        if (st_stopped(s))
            return cb_error_set(err, CB_ECANCELED, "reading %s stopped", s->name);
        long long n = s->read(s->read_payload, buf + got, len - got);
        if (n == -ECANCELED && st_stopped(s))
            return cb_error_set(err, CB_ECANCELED, "reading %s stopped", s->name);
        if (n < 0) {
            int e = n >= -4095 ? (int)-n : 0;
            return cb_error_set_sys(err, CB_ESOURCE, e, "reading %s at byte %llu", s->name,
                                    (unsigned long long)(s->total + got));
        }
        if (n == 0)
            break;
        if ((unsigned long long)n > len - got)
            return cb_error_set(err, CB_ESOURCE,
                                "reading %s at byte %llu: %lld bytes returned for a buffer of %zu",
                                s->name, (unsigned long long)(s->total + got), n, len - got);
        got += (size_t)n;
    }
    *got_out = got;
    return 0;
}

/* After `limit` bytes: one more byte means the stream is longer than it may be. */
static int st_check_tail(cb_stream *s, cb_error *err)
{
    unsigned char extra;
    size_t got = 0;
    int rc = st_read(s, &extra, 1, &got, err);
    if (rc < 0 || got == 0)
        return rc;
    return cb_error_set(err, CB_ESOURCE,
                        "%s holds more than %llu bytes (%s): nothing was committed", s->name,
                        (unsigned long long)s->limit, s->limit_what);
}

static int st_fill(cb_stream *s, cb_error *err)
{
    for (uint64_t k = 0;; k++) {
        if (s->total == s->limit) /* only this thread writes total */
            return st_check_tail(s, err);
        pthread_mutex_lock(&s->lock);
        while (!s->stop && k >= s->released + s->n_slots)
            pthread_cond_wait(&s->cond, &s->lock);
        int stop = s->stop;
        uint64_t total = s->total;
        pthread_mutex_unlock(&s->lock);
        if (stop)
            return cb_error_set(err, CB_ECANCELED, "reading %s stopped", s->name);
        uint64_t room = s->limit - total;
        size_t want = room < s->object_size ? (size_t)room : (size_t)s->object_size, got = 0;
        size_t i = (size_t)(k % s->n_slots);
        int rc = want > 0 ? st_read(s, s->slot[i], want, &got, err) : 0;
        if (rc < 0)
            return rc;
        pthread_mutex_lock(&s->lock);
        s->zero[i] = got > 0 && cb__is_zero(s->slot[i], got);
        s->total += got;
        total = s->total;
        if (got > 0)
            s->loaded = k + 1;
        /* EOF, with no size to reach: the size is known together with the last object, so
         * that nobody takes a short last object for a whole one */
        if (got < want && s->want == CB_VOLUME_SIZE_UNKNOWN)
            s->ended = 1;
        /* short of the size given: failed before anyone reads the short object as whole */
        int short_read = got < want && s->want != CB_VOLUME_SIZE_UNKNOWN;
        if (short_read && !s->failed) {
            s->failed =
                cb_error_set(&s->err, CB_ESOURCE,
                             "%s ended after %llu bytes, but --size says "
                             "%llu: nothing was committed",
                             s->name, (unsigned long long)total, (unsigned long long)s->want);
            s->ended = 1;
        }
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        if (short_read) {
            *err = s->err;
            return s->failed;
        }
        if (got == want && want == s->object_size)
            continue;                                   /* a whole object: more may follow */
        return got == want ? st_check_tail(s, err) : 0; /* at the limit, or at EOF */
    }
}

static void *st_main(void *arg)
{
    cb_stream *s = arg;
    cb_error err = { 0 };
    int rc = st_fill(s, &err);
    if (rc < 0) {
        st_fail(s, &err);
        return NULL;
    }
    pthread_mutex_lock(&s->lock);
    s->ended = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int cb__stream_new_fn(cb_stream **out,
                      cb_stream_read_fn fn,
                      void *payload,
                      const char *name,
                      uint64_t size,
                      cb_error *err)
{
    cb_stream *s = cb__calloc(1, sizeof(*s), err);
    *out = NULL;
    if (s == NULL)
        return CB_ENOMEM;
    s->fd = -1;
    s->read = fn;
    s->read_payload = payload;
    s->name = name;
    s->want = s->limit = size;
    s->limit_what = "--size";
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    *out = s;
    return 0;
}

int cb__stream_new(cb_stream **out, int fd, const char *name, uint64_t size, cb_error *err)
{
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    *out = NULL;
    if (dfd < 0)
        return cb_error_set_sys(err, CB_ESOURCE, errno, "cannot use descriptor %d as the volume",
                                fd);
    int rc = cb__stream_new_fn(out, st_fd_read, NULL, name, size, err);
    if (rc < 0) {
        close(dfd);
        return rc;
    }
    (*out)->fd = dfd;
    (*out)->read_payload = *out; /* st_fd_read polls the descriptor and the stop flag */
    return 0;
}

void cb__stream_set_limit(cb_stream *s, uint64_t limit, const char *what)
{
    if (s->want == CB_VOLUME_SIZE_UNKNOWN && !s->started) {
        s->limit = limit;
        s->limit_what = what;
    }
}

int cb__stream_start(cb_stream *s, uint64_t object_size, size_t window, cb_error *err)
{
    if (s->started)
        return 0;
    s->object_size = object_size;
    s->n_slots = window < 1 ? 1 : window;
    if ((s->slot = cb__calloc(s->n_slots, sizeof(*s->slot), err)) == NULL ||
        (s->zero = cb__calloc(s->n_slots, 1, err)) == NULL)
        return CB_ENOMEM;
    for (size_t i = 0; i < s->n_slots; i++)
        if ((s->slot[i] = cb__malloc((size_t)object_size, err)) == NULL)
            return CB_ENOMEM;
    if (pthread_create(&s->thread, NULL, st_main, s) != 0)
        return cb_error_set(err, CB_ERROR, "cannot start the thread that reads %s", s->name);
    s->started = 1;
    return 0;
}

int cb__stream_wait(cb_stream *s, uint64_t off, uint64_t *size_out, cb_error *err)
{
    uint64_t k = off / s->object_size;
    pthread_mutex_lock(&s->lock);
    while (!s->failed && !s->ended && !s->stop && k >= s->loaded)
        pthread_cond_wait(&s->cond, &s->lock);
    int failed = s->failed;
    if (failed)
        *err = s->err;
    else if (s->stop && !s->ended && k >= s->loaded)
        failed = cb_error_set(err, CB_ECANCELED, "reading %s stopped", s->name);
    /* the size given; or what came before EOF; or all the limit allowed (a parent's size:
     * one byte more is an error, found at the end) */
    *size_out = s->want != CB_VOLUME_SIZE_UNKNOWN  ? s->want
                : s->ended || s->total == s->limit ? s->total
                                                   : CB_VOLUME_SIZE_UNKNOWN;
    pthread_mutex_unlock(&s->lock);
    return failed;
}

/* The object holding `off`, which the pipeline was told is here and did not release. */
static const unsigned char *st_object(cb_stream *s, uint64_t off, size_t *len_out, int *zero)
{
    uint64_t k = off / s->object_size;
    const unsigned char *p = NULL;
    pthread_mutex_lock(&s->lock);
    if (k < s->loaded && k >= s->released) {
        uint64_t start = k * s->object_size, end = start + s->object_size;
        if (end > s->total)
            end = s->total;
        size_t i = (size_t)(k % s->n_slots);
        p = s->slot[i] + (off - start);
        *len_out = (size_t)(end - off);
        *zero = s->zero[i];
    }
    pthread_mutex_unlock(&s->lock);
    return p;
}

int cb__stream_pread(
    cb_stream *s, void *buf, size_t len, uint64_t off, int *all_zero, cb_error *err)
{
    unsigned char *dst = buf;
    int every_zero = 1;
    while (len > 0) {
        uint64_t size;
        size_t have = 0;
        int zero = 0, rc;
        if ((rc = cb__stream_wait(s, off, &size, err)) < 0)
            return rc;
        const unsigned char *p = st_object(s, off, &have, &zero);
        if ((p == NULL || have == 0) && (rc = cb__stream_wait(s, off, &size, err)) < 0)
            return rc; /* the stream failed: its own error says why */
        if (p == NULL || have == 0)
            return cb_error_set(err, CB_ESOURCE,
                                "the volume's stream holds no byte %llu (it ended, or that part "
                                "was already released)",
                                (unsigned long long)off);
        size_t n = have < len ? have : len;
        if (all_zero != NULL && zero)
            memset(dst, 0, n); /* cheap, and the caller may need the bytes anyway */
        else
            memcpy(dst, p, n);
        every_zero = every_zero && zero;
        dst += n;
        off += n;
        len -= n;
    }
    if (all_zero != NULL)
        *all_zero = every_zero;
    return 0;
}

uint64_t cb__stream_next_data(cb_stream *s, uint64_t off)
{
    size_t have = 0;
    int zero = 0;
    uint64_t size;
    cb_error ignored = { 0 };
    if (cb__stream_wait(s, off, &size, &ignored) < 0)
        return off; /* the read that follows reports it */
    return st_object(s, off, &have, &zero) != NULL && zero ? off + have : off;
}

void cb__stream_release(cb_stream *s, uint64_t off)
{
    pthread_mutex_lock(&s->lock);
    uint64_t k = s->object_size ? off / s->object_size : 0;
    if (k > s->released) {
        s->released = k;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
}

void cb__stream_abort(cb_stream *s)
{
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

int cb__stream_finish(cb_stream *s, uint64_t *size_out, cb_error *err)
{
    if (s->started) {
        cb__stream_release(s, UINT64_MAX); /* nothing is read from the window any more */
        pthread_join(s->thread, NULL);
        s->started = 0;
    }
    if (s->failed) {
        *err = s->err;
        return s->failed;
    }
    *size_out = s->total;
    return 0;
}

void cb__stream_free(cb_stream *s)
{
    if (s == NULL)
        return;
    if (s->started) {
        cb__stream_abort(s);
        pthread_join(s->thread, NULL);
    }
    for (size_t i = 0; s->slot != NULL && i < s->n_slots; i++)
        free(s->slot[i]);
    free(s->slot);
    free(s->zero);
    if (s->fd >= 0)
        close(s->fd);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

uint64_t cb__stream_bytes_read(cb_stream *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t n = s->total;
    pthread_mutex_unlock(&s->lock);
    return n;
}
