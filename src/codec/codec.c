/* SPDX-License-Identifier: Apache-2.0 */
/* codec.c: Cinder's compression names, the codec table, and one-shot helpers. */
#include <strings.h>

#include "codec.h"

typedef struct codec_name {
    const char *name;
    cb_codec_id id;
} codec_name;

/* Every spelling Cinder accepts when configuring or reading (spec §3.4). */
static const codec_name codec_names[] = {
    { "none", CB_CODEC_NONE }, { "off", CB_CODEC_NONE },  { "no", CB_CODEC_NONE },
    { "zlib", CB_CODEC_ZLIB }, { "gzip", CB_CODEC_ZLIB }, { "bz2", CB_CODEC_BZ2 },
    { "bzip2", CB_CODEC_BZ2 }, { "zstd", CB_CODEC_ZSTD },
};

int cb_codec_lookup(const char *name, cb_codec_id *out, cb_error *err)
{
    for (size_t i = 0; name != NULL && i < sizeof(codec_names) / sizeof(codec_names[0]); i++) {
        if (strcasecmp(name, codec_names[i].name) == 0) {
            *out = codec_names[i].id;
            return 0;
        }
    }
    return cb_error_set(err, CB_EINVAL,
                        "unsupported compression algorithm '%s' (accepted: none, off, no, zlib, "
                        "gzip, bz2, bzip2, zstd)",
                        name != NULL ? name : "(null)");
}

const cb_codec_ops *cb_codec__ops(cb_codec_id id)
{
    switch (id) {
    case CB_CODEC_NONE:
        return &cb_codec__none_ops;
    case CB_CODEC_ZLIB:
        return &cb_codec__zlib_ops;
    case CB_CODEC_BZ2:
        return &cb_codec__bz2_ops;
    case CB_CODEC_ZSTD:
        return &cb_codec__zstd_ops;
    }
    return NULL;
}

const char *cb_codec_canonical_name(cb_codec_id id)
{
    const cb_codec_ops *ops = cb_codec__ops(id);
    return ops != NULL ? ops->name : "unknown";
}

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
