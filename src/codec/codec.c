/* SPDX-License-Identifier: Apache-2.0 */
/* codec.c: Cinder's compression names and the codec table. */
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
