/* SPDX-License-Identifier: Apache-2.0 */
/* restore_stream.c: a restore written to a stream, in order (see restore_stream.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore_stream.h"
#include "../hash/hash.h"

typedef struct rst_piece {
    uint64_t off, len; /* in the volume */
    size_t task;
} rst_piece;

struct cb_rstream {
    int fd;                    /* write NULL: the descriptor written */
    cb_rstream_write_fn write; /* where the bytes go (rst_fd_write for a descriptor) */
    void *payload;
    int skip_zeros;
    const cb_plan *plan;
    rst_piece *pieces; /* every range of every task, by offset: the volume in order */
    size_t n_pieces;
    uint64_t window;
    pthread_t thread;
    int started;
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;  /* an object arrived, bytes were written, the end, a failure */
    cb_buf *bufs;         /* per task: its verified bytes (data NULL until then) */
    size_t *left;         /* per task: its ranges not yet written */
    unsigned char *ready; /* per task: bufs[i] holds its bytes */
    uint64_t written;     /* the volume's bytes [0, written) are out */
    uint64_t zeros;       /* of those, all-zero bytes not written (skip_zeros) */
    int done;             /* the writer wrote everything */
    int stop;
    int failed;
    cb_error err;
};

int cb__rstream_fd(const char *target)
{
    char *end;
    if (target == NULL)
        return -1;
    if (strcmp(target, "-") == 0 || strcmp(target, "/dev/stdout") == 0)
        return 1;
    if (strncmp(target, "/dev/fd/", 8) == 0 && target[8] >= '0' && target[8] <= '9') {
        long fd = strtol(target + 8, &end, 10);
        if (*end == '\0' && fd <= 1 << 20)
            return (int)fd;
    }
    return -1;
}

static int rst_piece_cmp(const void *a, const void *b)
{
    const rst_piece *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

static int rst_stopped(cb_rstream *s)
{
    pthread_mutex_lock(&s->lock);
    int stop = s->stop;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

/* The descriptor's writer: all of [data, data+len) at the stream's position (`off` is where
 * it is); polls so that a reader that stopped reading does not keep a cancelled restore
 * from ending. */
static long long rst_fd_write(void *payload, const void *data, size_t len, uint64_t off)
{
    cb_rstream *s = payload;
    const char *p = data;
    (void)off;
    for (size_t left = len; left > 0;) {
        struct pollfd pfd = { .fd = s->fd, .events = POLLOUT };
        if (rst_stopped(s))
            return -ECANCELED;
        int pr = poll(&pfd, 1, 200);
        if (pr < 0 && errno != EINTR)
            return -errno;
        if (pr <= 0)
            continue;
        ssize_t n = write(s->fd, p, left);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return -errno;
        p += n;
        left -= (size_t)n;
    }
    return (long long)len;
}

/* One call of the writer: all `len` bytes, or the failure (a stop is CB_ECANCELED). */
static int rst_call(cb_rstream *s, const char *data, size_t len, uint64_t off, cb_error *err)
{
    long long n = s->write(s->payload, data, len, off);
    if (n == (long long)len)
        return 0;
    if (rst_stopped(s))
        return cb_error_set(err, CB_ECANCELED, "restore stopped");
    const char *what = s->write == rst_fd_write ? "writing the restored volume to the stream"
                                                : "the restore's target_write callback";
    if (n < 0)
        return cb_error_set_sys(err, CB_EIO, n >= -4095 ? (int)-n : EIO, "%s failed at byte %llu",
                                what, (unsigned long long)off);
    return cb_error_set(err, CB_EIO, "%s took %lld of the %zu bytes at byte %llu", what, n, len,
                        (unsigned long long)off);
}

/* Write [data, data+len), volume bytes from `off`: CB_RSTREAM_CALL at most a call, and with
 * skip_zeros only the runs of pieces that are not all zero. */
static int rst_write(cb_rstream *s, const char *data, size_t len, uint64_t off, cb_error *err)
{
    size_t run = 0; /* bytes before `pos` not yet written, all to be written */
    uint64_t zeros = 0;
    int rc = 0;
    for (size_t pos = 0; rc == 0 && pos < len;) {
        size_t n = CB_RSTREAM_GRAIN - (size_t)((off + pos) % CB_RSTREAM_GRAIN);
        if (n > len - pos)
            n = len - pos;
        int zero = s->skip_zeros && cb__is_zero(data + pos, n);
        if (run > 0 && (zero || run + n > CB_RSTREAM_CALL)) {
            rc = rst_call(s, data + pos - run, run, off + pos - run, err);
            run = 0;
        }
        if (rst_stopped(s) && rc == 0)
            rc = cb_error_set(err, CB_ECANCELED, "restore stopped");
        run += zero ? 0 : n;
        zeros += zero ? n : 0;
        pos += n;
    }
    if (rc == 0 && run > 0)
        rc = rst_call(s, data + len - run, run, off + len - run, err);
    pthread_mutex_lock(&s->lock);
    s->zeros += zeros;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int rst_write_all(cb_rstream *s, cb_error *err)
{
    for (size_t k = 0; k < s->n_pieces; k++) {
        const rst_piece *p = &s->pieces[k];
        const cb_task *t = &s->plan->tasks[p->task];
        pthread_mutex_lock(&s->lock);
        while (!s->ready[p->task] && !s->stop)
            pthread_cond_wait(&s->cond, &s->lock);
        int stop = s->stop;
        const char *data = s->bufs[p->task].data;
        pthread_mutex_unlock(&s->lock);
        if (stop)
            return cb_error_set(err, CB_ECANCELED, "restore stopped");
        int rc = rst_write(s, data + (p->off - t->obj->offset), (size_t)p->len, p->off, err);
        if (rc < 0)
            return rc;
        cb_buf done = CB_BUF_INIT;
        pthread_mutex_lock(&s->lock);
        if (--s->left[p->task] == 0) { /* its last range: the object's memory goes */
            done = s->bufs[p->task];
            s->bufs[p->task] = (cb_buf)CB_BUF_INIT;
        }
        s->written = p->off + p->len;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        cb_buf_dispose(&done);
    }
    return 0;
}

static void *rst_main(void *arg)
{
    cb_rstream *s = arg;
    cb_error err = { 0 };
    int rc = rst_write_all(s, &err);
    pthread_mutex_lock(&s->lock);
    if (rc < 0 && !s->failed) {
        s->failed = rc;
        s->err = err;
    }
    s->done = rc == 0;
    if (rc < 0)
        s->stop = 1; /* the workers waiting for room stop too */
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int cb__rstream_new(cb_rstream **out,
                    int fd,
                    cb_rstream_write_fn write,
                    void *payload,
                    int skip_zeros,
                    const cb_plan *plan,
                    uint64_t window,
                    cb_error *err)
{
    cb_rstream *s = cb__calloc(1, sizeof(*s), err);
    size_t n = 0;
    *out = NULL;
    if (s == NULL)
        return CB_ENOMEM;
    s->fd = fd;
    s->write = write != NULL ? write : rst_fd_write;
    s->payload = write != NULL ? payload : s;
    s->skip_zeros = skip_zeros;
    s->plan = plan;
    s->window = window;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    *out = s;
    for (size_t i = 0; i < plan->n_tasks; i++)
        n += plan->tasks[i].n_ranges;
    if ((s->pieces = cb__calloc(n + 1, sizeof(*s->pieces), err)) == NULL ||
        (s->bufs = cb__calloc(plan->n_tasks + 1, sizeof(*s->bufs), err)) == NULL ||
        (s->left = cb__calloc(plan->n_tasks + 1, sizeof(*s->left), err)) == NULL ||
        (s->ready = cb__calloc(plan->n_tasks + 1, 1, err)) == NULL)
        return CB_ENOMEM;
    for (size_t i = 0; i < plan->n_tasks; i++) {
        s->left[i] = plan->tasks[i].n_ranges;
        for (size_t j = 0; j < plan->tasks[i].n_ranges; j++)
            s->pieces[s->n_pieces++] = (rst_piece){ .off = plan->tasks[i].ranges[j].off,
                                                    .len = plan->tasks[i].ranges[j].len,
                                                    .task = i };
    }
    qsort(s->pieces, s->n_pieces, sizeof(*s->pieces), rst_piece_cmp);
    if (pthread_create(&s->thread, NULL, rst_main, s) != 0)
        return cb_error_set(err, CB_ERROR, "cannot start the thread that writes the stream");
    s->started = 1;
    return 0;
}

int cb__rstream_admit(cb_rstream *s, size_t i, cb_error *err)
{
    uint64_t first = s->plan->tasks[i].ranges[0].off;
    pthread_mutex_lock(&s->lock);
    while (!s->stop && first >= s->written + s->window)
        pthread_cond_wait(&s->cond, &s->lock);
    int rc = s->stop ? (s->failed ? s->failed : CB_ECANCELED) : 0;
    if (rc < 0)
        *err = s->failed ? s->err : (cb_error){ .code = CB_ECANCELED };
    pthread_mutex_unlock(&s->lock);
    if (rc == CB_ECANCELED && err->msg[0] == '\0')
        cb_error_set(err, CB_ECANCELED, "restore stopped");
    return rc;
}

int cb__rstream_put(cb_rstream *s, size_t i, cb_buf *obj, cb_error *err)
{
    pthread_mutex_lock(&s->lock);
    int stop = s->stop;
    if (!stop) {
        s->bufs[i] = *obj;
        s->ready[i] = 1;
        *obj = (cb_buf)CB_BUF_INIT;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return stop ? cb_error_set(err, CB_ECANCELED, "restore stopped") : 0;
}

uint64_t cb__rstream_zeros(cb_rstream *s)
{
    pthread_mutex_lock(&s->lock);
    uint64_t z = s->zeros;
    pthread_mutex_unlock(&s->lock);
    return z;
}

void cb__rstream_abort(cb_rstream *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

int cb__rstream_finish(cb_rstream *s, cb_error *err)
{
    if (s->started) {
        pthread_join(s->thread, NULL);
        s->started = 0;
    }
    if (s->failed) {
        *err = s->err;
        return s->failed;
    }
    return s->done ? 0 : cb_error_set(err, CB_ECANCELED, "restore stopped");
}

void cb__rstream_free(cb_rstream *s)
{
    if (s == NULL)
        return;
    if (s->started) {
        cb__rstream_abort(s);
        pthread_join(s->thread, NULL);
    }
    for (size_t i = 0; s->bufs != NULL && i < s->plan->n_tasks; i++)
        cb_buf_dispose(&s->bufs[i]);
    free(s->bufs);
    free(s->left);
    free(s->ready);
    free(s->pieces);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}
