/* SPDX-License-Identifier: Apache-2.0 */
/* piece_deflate.c: joinable raw DEFLATE pieces from igzip or libdeflate (piece_deflate.h). */
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

#include "deflate_walk.h"
#include "piece.h"
#include "piece_deflate.h"
#include "../util/util.h"

#define PD_STORED_MAX 65535u /* a DEFLATE stored block holds at most this many bytes */
/* igzip level 2: on the bench mix 0.8 % smaller than level 1 and no slower (level 3: 1 %
 * more for 1.5x the time). libdeflate level 2: 5-10 % smaller than igzip, about 6 % larger
 * than zlib's level 6 at 6x its speed; level 1 is 4 % larger again (docs/performance.md). */
#define PD_IGZIP_LEVEL 2
#define PD_LIBDEFLATE_LEVEL 2
#define PD_TRIAL_LEN (64u << 10)         /* the slice both encoders try */
#define PD_GAIN_MIN (PD_TRIAL_LEN / 256) /* bytes libdeflate must save on it, at least */

struct cb_deflater {
    cb_deflate_choice choice;
    struct libdeflate_compressor *ld;
    unsigned char *level_buf; /* igzip's working memory for its level */
    unsigned char *trial;     /* output of the trials */
};

cb_deflater *cb_deflater_new(cb_deflate_choice choice, cb_error *err)
{
    cb_deflater *d = cb__calloc(1, sizeof(*d), err);
    if (d == NULL)
        return NULL;
    d->choice = choice;
    d->ld = libdeflate_alloc_compressor(PD_LIBDEFLATE_LEVEL);
    d->level_buf = cb__malloc(ISAL_DEF_LVL2_DEFAULT, NULL);
    d->trial = cb__malloc(PD_TRIAL_LEN, NULL);
    if (d->ld == NULL || d->level_buf == NULL || d->trial == NULL) {
        cb_deflater_free(d);
        cb_error_set(err, CB_ENOMEM, "out of memory");
        return NULL;
    }
    return d;
}

void cb_deflater_free(cb_deflater *d)
{
    if (d == NULL)
        return;
    libdeflate_free_compressor(d->ld);
    free(d->level_buf);
    free(d->trial);
    free(d);
}

/* Stored blocks: a byte-aligned header byte (BFINAL 0, BTYPE 00), LEN, NLEN, the bytes. */
static int pd_stored(const unsigned char *in, size_t len, cb_buf *out, cb_error *err)
{
    if (cb_buf_reserve(out, len + (len / PD_STORED_MAX + 1) * 5, err) < 0)
        return CB_ENOMEM;
    for (size_t pos = 0; pos < len;) {
        size_t n = len - pos < PD_STORED_MAX ? len - pos : PD_STORED_MAX;
        unsigned char h[5] = { 0x00, (unsigned char)(n & 0xff), (unsigned char)(n >> 8),
                               (unsigned char)(~n & 0xff), (unsigned char)((~n >> 8) & 0xff) };
        cb_buf_put(out, h, 5, err);
        cb_buf_put(out, in + pos, n, err);
        pos += n;
    }
    return 0;
}

/* igzip, one shot, no final block, FULL_FLUSH: ends byte-aligned. 0 if it does not fit in
 * `cap` bytes. */
static size_t
pd_igzip(cb_deflater *d, const unsigned char *in, size_t len, unsigned char *p, size_t cap)
{
    struct isal_zstream z;
    isal_deflate_stateless_init(&z);
    z.level = PD_IGZIP_LEVEL;
    z.level_buf = d->level_buf;
    z.level_buf_size = ISAL_DEF_LVL2_DEFAULT;
    z.gzip_flag = IGZIP_DEFLATE;
    z.flush = FULL_FLUSH;
    z.end_of_stream = 0;
    z.next_in = (uint8_t *)in;
    z.avail_in = (uint32_t)len;
    z.next_out = p;
    z.avail_out = (uint32_t)cap;
    return isal_deflate_stateless(&z) == COMP_OK ? cap - z.avail_out : 0;
}

/* Turn a one-shot stream into one that the next piece can follow: its last block no
 * longer final, then an empty stored block, which ends on a byte boundary (what zlib's
 * Z_SYNC_FLUSH writes). The 3 header bits of that block are zeros: they go in the last
 * byte's padding when 3 bits of it are free, else in one more byte. `p` has room for 5. */
static size_t pd_unfinal(unsigned char *p, size_t n, const cb_deflate_shape *sh)
{
    static const unsigned char len_nlen[4] = { 0x00, 0x00, 0xff, 0xff };
    unsigned used = (unsigned)(sh->end_bit & 7);
    p[sh->last_block_bit >> 3] &= (unsigned char)~(1u << (sh->last_block_bit & 7));
    if (used != 0)
        p[n - 1] &= (unsigned char)((1u << used) - 1);
    if (used == 0 || used > 5)
        p[n++] = 0;
    memcpy(p + n, len_nlen, 4);
    return n + 4;
}

/* libdeflate, made joinable; 0 if it does not fit in `len` bytes, or (defensively) if the
 * stream does not walk back to exactly `len` bytes. `p` has room for len + 5. */
static size_t pd_libdeflate(cb_deflater *d, const unsigned char *in, size_t len, unsigned char *p)
{
    cb_deflate_shape sh;
    size_t n = libdeflate_deflate_compress(d->ld, in, len, p, len);
    if (n == 0 || cb_deflate_walk(p, n, &sh) < 0 || sh.out_len != len || (sh.end_bit + 7) / 8 != n)
        return 0;
    return pd_unfinal(p, n, &sh);
}

/* Whether libdeflate saves CB_DEFLATE_GAIN_PCT on a slice from the middle of the piece,
 * and at least PD_GAIN_MIN of its input: on all-zero or nearly empty data both encoders
 * shrink a piece to almost nothing, and libdeflate's few bytes less cost 40 times the time
 * (2 MiB of zeros: 3.6 ms against 0.08 ms; a quarter of the bench volume is zeros). */
static int pd_prefer_libdeflate(cb_deflater *d, const unsigned char *in, size_t len)
{
    if (d->choice != CB_DEFLATE_TRIAL)
        return d->choice == CB_DEFLATE_LIBDEFLATE;
    if (len <= PD_TRIAL_LEN * 2)
        return 1; /* a small piece: the trial would cost about as much */
    const unsigned char *s = in + (len - PD_TRIAL_LEN) / 2;
    size_t a = pd_igzip(d, s, PD_TRIAL_LEN, d->trial, PD_TRIAL_LEN);
    size_t b = libdeflate_deflate_compress(d->ld, s, PD_TRIAL_LEN, d->trial, PD_TRIAL_LEN);
    if (b == 0)
        return 0; /* the slice does not shrink: the cheap encoder will do */
    return a == 0 || (b * 100 <= a * (100 - CB_DEFLATE_GAIN_PCT) && a - b >= PD_GAIN_MIN);
}

/* A piece; `final` NULL: joinable, else the object's only piece, which libdeflate may end
 * with its final block (*final = 1: no walk of its codes, no empty block after it). */
static int pd_piece(
    cb_deflater *d, const unsigned char *in, size_t len, cb_buf *out, int *final, cb_error *err)
{
    if (cb_looks_incompressible(in, len))
        return pd_stored(in, len, out, err);
    if (cb_buf_reserve(out, len + 5, err) < 0)
        return CB_ENOMEM;
    unsigned char *p = (unsigned char *)out->data + out->len;
    size_t n;
    if (!pd_prefer_libdeflate(d, in, len))
        n = pd_igzip(d, in, len, p, len);
    else if (final == NULL)
        n = pd_libdeflate(d, in, len, p);
    else if ((n = libdeflate_deflate_compress(d->ld, in, len, p, len)) != 0)
        *final = 1;
    if (n == 0) /* bigger than the input: stored blocks are smaller */
        return pd_stored(in, len, out, err);
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}

int cb_deflater_piece(
    cb_deflater *d, const unsigned char *in, size_t len, cb_buf *out, cb_error *err)
{
    return pd_piece(d, in, len, out, NULL, err);
}

int cb_deflater_only(
    cb_deflater *d, const unsigned char *in, size_t len, cb_buf *out, int *final, cb_error *err)
{
    *final = 0;
    return pd_piece(d, in, len, out, final, err);
}
