/* SPDX-License-Identifier: Apache-2.0 */
/* codec_none.c: "none" passes bytes through; the output points into the caller's input, so
 * nothing is copied. */
#include "codec.h"

static int none_new(void **out, int level, cb_error *err)
{
    (void)level; /* no level to speak of: every level means "store as is" */
    (void)err;
    *out = NULL;
    return 0;
}

static int none_dec_new(void **out, cb_error *err)
{
    return none_new(out, 0, err);
}

static int none_begin(void *st, const char *label, cb_error *err)
{
    (void)st;
    (void)label;
    (void)err;
    return 0;
}

static int none_enc_begin(void *st, uint64_t pledged, const char *label, cb_error *err)
{
    (void)pledged;
    return none_begin(st, label, err);
}

static void none_pass(cb_codec_io *io)
{
    size_t n = io->in_len < CB_CODEC_WINDOW ? io->in_len : CB_CODEC_WINDOW;
    io->out = io->in;
    io->out_len = n;
    io->in += n;
    io->in_len -= n;
}

static int
none_enc_step(void *st, cb_codec_io *io, int finish, int *done, const char *label, cb_error *err)
{
    (void)st;
    (void)label;
    (void)err;
    none_pass(io);
    *done = finish;
    return 0;
}

static int none_dec_step(void *st, cb_codec_io *io, const char *label, cb_error *err)
{
    (void)st;
    (void)label;
    (void)err;
    none_pass(io);
    return 0;
}

static void none_free(void *st)
{
    (void)st;
}

const cb_codec_ops cb_codec__none_ops = {
    .name = "none",
    .default_level = 0,
    .enc_new = none_new,
    .enc_begin = none_enc_begin,
    .enc_step = none_enc_step,
    .enc_free = none_free,
    .dec_new = none_dec_new,
    .dec_begin = none_begin,
    .dec_step = none_dec_step,
    .dec_end = none_begin,
    .dec_free = none_free,
};
