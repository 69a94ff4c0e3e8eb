/* SPDX-License-Identifier: Apache-2.0 */
/* target_stage.c: staged O_DIRECT writes to a restore target (target_stage.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target_stage.h"

int cb__stage_init(cb_target_stage *s, const cb_target *t, cb_error *err)
{
    void *p = NULL;
    memset(s, 0, sizeof(*s));
    if (t->dfd < 0)
        return 0;
    if (posix_memalign(&p, CB_STAGE_ALIGN, CB_STAGE_LEN) != 0)
        return cb_error_set(err, CB_ENOMEM, "out of memory");
    s->buf = p;
    return 0;
}

void cb__stage_dispose(cb_target_stage *s)
{
    free(s->buf);
    s->buf = NULL;
}

/* The aligned middle straight to the disk; 0, or -1 if the kernel refused it (then the
 * caller writes it through the page cache instead). */
static int stage_direct(const cb_target *t, const unsigned char *p, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(t->dfd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (size_t)n % CB_STAGE_ALIGN != 0)
            return -1; /* a partial block written is written again, whole, below */
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int cb__stage_flush(cb_target_stage *s, const cb_target *t, cb_error *err)
{
    if (s->len == 0)
        return 0;
    uint64_t start = s->base + s->head, end = start + s->len;
    uint64_t a = (start + CB_STAGE_ALIGN - 1) / CB_STAGE_ALIGN * CB_STAGE_ALIGN;
    uint64_t b = end / CB_STAGE_ALIGN * CB_STAGE_ALIGN;
    const unsigned char *p = s->buf + s->head;
    int rc = 0;
    s->len = 0;
    if (b <= a || stage_direct(t, s->buf + (a - s->base), (size_t)(b - a), a) < 0)
        return cb__target_pwrite(t, p, (size_t)(end - start), start, err);
    if (a > start)
        rc = cb__target_pwrite(t, p, (size_t)(a - start), start, err);
    if (rc == 0 && end > b)
        rc = cb__target_pwrite(t, p + (b - start), (size_t)(end - b), b, err);
    return rc;
}

int cb__stage_write(cb_target_stage *s,
                    const cb_target *t,
                    const void *data,
                    size_t len,
                    uint64_t off,
                    cb_error *err)
{
    const unsigned char *p = data;
    int rc;
    if (s->buf == NULL)
        return cb__target_pwrite(t, data, len, off, err);
    if (s->len > 0 && off != s->base + s->head + s->len && (rc = cb__stage_flush(s, t, err)) < 0)
        return rc;
    while (len > 0) {
        if (s->len == 0) {
            s->base = off / CB_STAGE_ALIGN * CB_STAGE_ALIGN;
            s->head = (size_t)(off - s->base);
        }
        size_t room = CB_STAGE_LEN - s->head - s->len;
        size_t n = len < room ? len : room;
        memcpy(s->buf + s->head + s->len, p, n);
        s->len += n;
        p += n;
        off += n;
        len -= n;
        if (s->head + s->len == CB_STAGE_LEN && (rc = cb__stage_flush(s, t, err)) < 0)
            return rc;
    }
    return 0;
}
