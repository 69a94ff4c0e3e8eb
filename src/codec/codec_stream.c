/* SPDX-License-Identifier: Apache-2.0 */
/* codec_stream.c: the encoder and decoder drivers shared by every codec, and the
 * one-shot helpers for a whole buffer. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "codec.h"
#include "../util/util.h"

/* Long enough for any object name Cinder makes; a longer label is cut in messages only. */
#define CODEC_LABEL_MAX 512

struct cb_encoder {
    const cb_codec_ops *ops;
    void *st;           /* the codec's own state */
    unsigned char *buf; /* output window, CB_CODEC_WINDOW bytes */
    uint64_t pledged;   /* input bytes announced by begin() */
    uint64_t fed;       /* input bytes received since begin() */
    uint64_t out_bytes; /* output bytes handed to sinks since begin() */
    int active;         /* an object is open: begun, not ended, not failed */
    char label[CODEC_LABEL_MAX];
};

struct cb_decoder {
    const cb_codec_ops *ops;
    void *st;
    unsigned char *buf;
    uint64_t max_out;
    uint64_t out_bytes;
    int active;
    char label[CODEC_LABEL_MAX];
};

static void codec_set_label(char *dst, const char *label)
{
    snprintf(dst, CODEC_LABEL_MAX, "%s", label != NULL && label[0] != '\0' ? label : "(unnamed)");
}

/* A step that neither consumes nor produces would loop forever: that is a codec bug. */
static int codec_stalled(const char *label, const char *name, cb_error *err)
{
    return cb_error_set(err, CB_ERROR, "object '%s': %s codec made no progress (internal error)",
                        label, name);
}

int cb_encoder_set_workers(cb_encoder *e, int n, cb_error *err)
{
    if (e->ops->enc_workers == NULL)
        return 0;
    return e->ops->enc_workers(e->st, n, err);
}

void cb_encoder_free(cb_encoder *e)
{
    if (e == NULL)
        return;
    e->ops->enc_free(e->st);
    free(e->buf);
    free(e);
}

int cb_encoder_new(cb_encoder **out, cb_codec_id id, int level, cb_error *err)
{
    *out = NULL;
    const cb_codec_ops *ops = cb_codec__ops(id);
    if (ops == NULL)
        return cb_error_set(err, CB_EINVAL, "unknown codec id %d", (int)id);
    int error = CB_ENOMEM;
    cb_encoder *e = cb__calloc(1, sizeof(*e), err);
    if (e == NULL)
        goto done;
    e->ops = ops;
    codec_set_label(e->label, NULL);
    if ((e->buf = cb__malloc(CB_CODEC_WINDOW, err)) == NULL)
        goto done;
    if ((error = ops->enc_new(&e->st, level != 0 ? level : ops->default_level, err)) < 0)
        goto done;
    *out = e;
    e = NULL;
done:
    cb_encoder_free(e);
    return error;
}

int cb_encoder_begin(cb_encoder *e, uint64_t pledged, const char *label, cb_error *err)
{
    codec_set_label(e->label, label);
    e->pledged = pledged;
    e->fed = 0;
    e->out_bytes = 0;
    e->active = 0;
    int error = e->ops->enc_begin(e->st, pledged, e->label, err);
    e->active = error == 0;
    return error;
}

/* Run the codec over `len` input bytes (or, with `finish`, until the stream has ended),
 * handing each window of output to the sink. */
static int encoder_pump(cb_encoder *e,
                        const void *in,
                        size_t len,
                        int finish,
                        cb_sink_fn sink,
                        void *payload,
                        cb_error *err)
{
    cb_codec_io io = { .in = in, .in_len = len, .buf = e->buf };
    int done = 0;
    while (finish ? !done : io.in_len > 0) {
        size_t before = io.in_len;
        io.out = e->buf;
        io.out_len = 0;
        int error = e->ops->enc_step(e->st, &io, finish, &done, e->label, err);
        if (error < 0)
            return error;
        if (io.out_len > 0) {
            e->out_bytes += io.out_len;
            if ((error = sink(io.out, io.out_len, payload, err)) != 0)
                return error;
        } else if (io.in_len == before && !done) {
            return codec_stalled(e->label, e->ops->name, err);
        }
    }
    return 0;
}

int cb_encoder_feed(
    cb_encoder *e, const void *in, size_t len, cb_sink_fn sink, void *payload, cb_error *err)
{
    if (!e->active)
        return cb_error_set(err, CB_EINVAL,
                            "object '%s': %s encoder is not started (internal error)", e->label,
                            e->ops->name);
    if (len > e->pledged - e->fed) {
        e->active = 0;
        return cb_error_set(err, CB_EINVAL,
                            "object '%s': %s encoder fed more than the %" PRIu64
                            " bytes pledged (internal error)",
                            e->label, e->ops->name, e->pledged);
    }
    e->fed += len;
    int error = encoder_pump(e, in, len, 0, sink, payload, err);
    if (error != 0)
        e->active = 0;
    return error;
}

int cb_encoder_end(cb_encoder *e, cb_sink_fn sink, void *payload, cb_error *err)
{
    if (!e->active)
        return cb_error_set(err, CB_EINVAL,
                            "object '%s': %s encoder is not started (internal error)", e->label,
                            e->ops->name);
    e->active = 0;
    if (e->fed != e->pledged)
        return cb_error_set(err, CB_EINVAL,
                            "object '%s': %s encoder fed %" PRIu64 " bytes but %" PRIu64
                            " were pledged (internal error)",
                            e->label, e->ops->name, e->fed, e->pledged);
    return encoder_pump(e, NULL, 0, 1, sink, payload, err);
}

uint64_t cb_encoder_out_bytes(const cb_encoder *e)
{
    return e->out_bytes;
}

void cb_decoder_free(cb_decoder *d)
{
    if (d == NULL)
        return;
    d->ops->dec_free(d->st);
    free(d->buf);
    free(d);
}

int cb_decoder_new(cb_decoder **out, cb_codec_id id, cb_error *err)
{
    *out = NULL;
    const cb_codec_ops *ops = cb_codec__ops(id);
    if (ops == NULL)
        return cb_error_set(err, CB_EINVAL, "unknown codec id %d", (int)id);
    int error = CB_ENOMEM;
    cb_decoder *d = cb__calloc(1, sizeof(*d), err);
    if (d == NULL)
        goto done;
    d->ops = ops;
    codec_set_label(d->label, NULL);
    if ((d->buf = cb__malloc(CB_CODEC_WINDOW, err)) == NULL)
        goto done;
    if ((error = ops->dec_new(&d->st, err)) < 0)
        goto done;
    *out = d;
    d = NULL;
done:
    cb_decoder_free(d);
    return error;
}

int cb_decoder_begin(cb_decoder *d, uint64_t max_out, const char *label, cb_error *err)
{
    codec_set_label(d->label, label);
    d->max_out = max_out;
    d->out_bytes = 0;
    d->active = 0;
    int error = d->ops->dec_begin(d->st, d->label, err);
    d->active = error == 0;
    return error;
}

int cb_decoder_step(cb_decoder *d,
                    const void **in,
                    size_t *in_len,
                    const void **out,
                    size_t *out_len,
                    cb_error *err)
{
    if (!d->active)
        return cb_error_set(err, CB_EINVAL,
                            "object '%s': %s decoder is not started (internal error)", d->label,
                            d->ops->name);
    cb_codec_io io = { .in = *in, .in_len = *in_len, .buf = d->buf, .out = d->buf };
    int error = d->ops->dec_step(d->st, &io, d->label, err);
    if (error == 0 && io.out_len == 0 && io.in_len > 0 && io.in_len == *in_len)
        error = codec_stalled(d->label, d->ops->name, err);
    if (error == 0 && io.out_len > d->max_out - d->out_bytes)
        error = cb_error_set(err, CB_ECORRUPT,
                             "object '%s': %s data decompresses to more than %" PRIu64 " bytes",
                             d->label, d->ops->name, d->max_out);
    if (error < 0) {
        d->active = 0;
        return error;
    }
    d->out_bytes += io.out_len;
    *in = io.in;
    *in_len = io.in_len;
    *out = io.out;
    *out_len = io.out_len;
    return 0;
}

/* Keep stepping while input is left or the window came back full: a decoder may hold back
 * output (a bzip2 block, a zstd window) that only a further call releases. */
int cb_decoder_feed(
    cb_decoder *d, const void *in, size_t len, cb_sink_fn sink, void *payload, cb_error *err)
{
    const void *out;
    size_t out_len = 0;
    if (len == 0 && d->active)
        return 0;
    do {
        int error = cb_decoder_step(d, &in, &len, &out, &out_len, err);
        if (error == 0 && out_len > 0)
            error = sink(out, out_len, payload, err);
        if (error != 0) {
            d->active = 0;
            return error;
        }
    } while (len > 0 || out_len == CB_CODEC_WINDOW);
    return 0;
}

int cb_decoder_end(cb_decoder *d, cb_error *err)
{
    if (!d->active)
        return cb_error_set(err, CB_EINVAL,
                            "object '%s': %s decoder is not started (internal error)", d->label,
                            d->ops->name);
    d->active = 0;
    return d->ops->dec_end(d->st, d->label, err);
}

uint64_t cb_decoder_out_bytes(const cb_decoder *d)
{
    return d->out_bytes;
}

/* ---- a whole buffer at once ---- */

static int codec_sink_buf(const void *data, size_t len, void *payload, cb_error *err)
{
    return cb_buf_put(payload, data, len, err);
}

int cb_codec_compress_buf(
    cb_codec_id id, int level, const void *in, size_t len, cb_buf *out, cb_error *err)
{
    cb_encoder *e = NULL;
    int error = cb_encoder_new(&e, id, level, err);
    if (error < 0)
        goto done;
    if ((error = cb_encoder_begin(e, len, "(buffer)", err)) < 0 ||
        (error = cb_encoder_feed(e, in, len, codec_sink_buf, out, err)) < 0)
        goto done;
    error = cb_encoder_end(e, codec_sink_buf, out, err);
done:
    cb_encoder_free(e);
    return error;
}

int cb_codec_decompress_buf(
    cb_codec_id id, const void *in, size_t len, uint64_t max_out, cb_buf *out, cb_error *err)
{
    cb_decoder *d = NULL;
    int error = cb_decoder_new(&d, id, err);
    if (error < 0)
        goto done;
    if ((error = cb_decoder_begin(d, max_out, "(buffer)", err)) < 0 ||
        (error = cb_decoder_feed(d, in, len, codec_sink_buf, out, err)) < 0)
        goto done;
    error = cb_decoder_end(d, err);
done:
    cb_decoder_free(d);
    return error;
}
