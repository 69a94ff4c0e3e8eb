/* SPDX-License-Identifier: Apache-2.0 */
/* objread.c: see objread.h. */
#include <stdlib.h>
#include <string.h>

#include "readback.h"
#include "cinderblock/store.h"
#include "../util/util.h"
#include "../codec/codec.h"

int cb__objread_init(cb_objread *r, cb_error *err)
{
    memset(r, 0, sizeof(*r));
    r->io = cb__malloc(CB_OBJREAD_CHUNK, err);
    return r->io != NULL ? 0 : CB_ENOMEM;
}

void cb__objread_dispose(cb_objread *r)
{
    for (size_t i = 0; i < sizeof(r->dec) / sizeof(r->dec[0]); i++)
        cb_decoder_free(r->dec[i]);
    free(r->io);
    memset(r, 0, sizeof(*r));
}

static int objread_decoder(cb_objread *r, cb_codec_id id, cb_decoder **out, cb_error *err)
{
    int rc;
    if (r->dec[id] == NULL && (rc = cb_decoder_new(&r->dec[id], id, err)) < 0)
        return rc;
    *out = r->dec[id];
    r->codec = id;
    return 0;
}

/* The algorithm the first bytes of an object suggest (RFC 1950, bzip2, RFC 8878). */
static cb_codec_id objread_sniff(const unsigned char *p, size_t n)
{
    if (n >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 && ((p[0] << 8) | p[1]) % 31 == 0)
        return CB_CODEC_ZLIB;
    if (n >= 4 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h' && p[3] >= '1' && p[3] <= '9')
        return CB_CODEC_BZ2;
    if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
        return CB_CODEC_ZSTD;
    return CB_CODEC_NONE;
}

int cb__objread_run(cb_objread *r,
                    cb_store *store,
                    const char *container,
                    const cb_meta_object *o,
                    const char *extra_json,
                    uint64_t max_out,
                    cb_sink_fn sink,
                    void *payload,
                    cb_objread_tick_fn tick,
                    void *tick_arg,
                    uint64_t *got_out,
                    cb_error *err)
{
    cb_decoder *dec = NULL;
    cb_reader *rd = NULL;
    cb_codec_id id = CB_CODEC_NONE;
    int rc;

    if (o->compression != NULL && (rc = cb_codec_lookup(o->compression, &id, err)) < 0)
        return rc;
    if ((rc = cb_store_open_reader(store, container, o->name, extra_json, 0, &rd, err)) < 0) {
        if (rc == CB_ENOTFOUND) { /* the metadata names it: a missing object is damage */
            cb_error_clear(err);
            rc = cb_error_set(err, CB_ECORRUPT, "object '%s' is missing from container '%s'",
                              o->name, container);
        }
        goto done;
    }
    for (;;) {
        size_t n;
        if ((tick != NULL && (rc = tick(tick_arg, err)) < 0) ||
            (rc = cb_reader_read(rd, r->io, CB_OBJREAD_CHUNK, &n, err)) < 0)
            goto done;
        if (dec == NULL) {
            if (o->compression == NULL)
                id = objread_sniff((const unsigned char *)r->io, n);
            if ((rc = objread_decoder(r, id, &dec, err)) < 0 ||
                (rc = cb_decoder_begin(dec, max_out, o->name, err)) < 0)
                goto done;
        }
        if (n == 0)
            break;
        if ((rc = cb_decoder_feed(dec, r->io, n, sink, payload, err)) < 0)
            goto done;
    }
    if ((rc = cb_decoder_end(dec, err)) == 0)
        *got_out = cb_decoder_out_bytes(dec);
done:
    cb_reader_free(rd);
    return rc;
}
