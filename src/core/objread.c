/* SPDX-License-Identifier: Apache-2.0 */
/* objread.c: see objread.h. */
#include <stdlib.h>
#include <string.h>

#include "objread.h"
#include "cinderblock/store.h"
#include "../util/alloc.h"

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

static int objread_decoder(cb_objread *r, const char *compression, cb_decoder **out, cb_error *err)
{
    cb_codec_id id;
    int rc = cb_codec_lookup(compression, &id, err);
    if (rc < 0)
        return rc;
    if (r->dec[id] == NULL && (rc = cb_decoder_new(&r->dec[id], id, err)) < 0)
        return rc;
    *out = r->dec[id];
    return 0;
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
    cb_decoder *dec;
    cb_reader *rd = NULL;
    int rc;

    if ((rc = objread_decoder(r, o->compression, &dec, err)) < 0 ||
        (rc = cb_decoder_begin(dec, max_out, o->name, err)) < 0 ||
        (rc = cb_store_open_reader(store, container, o->name, extra_json, 0, &rd, err)) < 0) {
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
