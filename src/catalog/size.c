/* SPDX-License-Identifier: Apache-2.0 */
/*
 * size.c: the volume size of a backup. Cinder's metadata does not record it. A full backup
 * covers every byte, so its size is the end of its last object. An incremental covers the
 * same number of sha blocks as its _sha256file has entries; the last block is either in one
 * of its own objects (which then ends the volume) or unchanged from the parent, whose block
 * at that index has the same content and so the same length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "../json/json.h"
#include "../util/util.h"
#include "../format/format.h"

#define SIZE_READ (256u << 10)

int cb__shafile_stream(cb_store *store,
                       const cb_found *f,
                       const struct cb_shalist_callbacks *cbs,
                       void *payload,
                       uint64_t *count_out,
                       uint64_t *block_out,
                       cb_error *err)
{
    cb_shalist_parser *p = NULL;
    cb_reader *r = NULL;
    char *name = cb__name_sha256file(f->prefix, err);
    char *buf = cb__malloc(SIZE_READ, err);
    int rc = CB_ENOMEM;
    if (name == NULL || buf == NULL)
        goto done;
    if ((rc = cb_shalist_parser_new(&p, cbs, payload, err)) < 0 ||
        (rc = cb_store_open_reader(store, f->container, name, NULL, 0, &r, err)) < 0)
        goto done;
    for (;;) {
        size_t n;
        if ((rc = cb_reader_read(r, buf, SIZE_READ, &n, err)) < 0 || n == 0)
            break;
        if ((rc = cb_shalist_feed(p, buf, n, err)) < 0)
            break;
    }
    if (rc == 0)
        rc = cb_shalist_finish(p, err);
    if (rc == 0) {
        *count_out = cb_shalist_count(p);
        *block_out = cb_shalist_chunk_size(p);
    }
done:
    if (rc == CB_ECORRUPT && name != NULL && strstr(err->msg, name) == NULL) {
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof(err->msg) - len, " (in '%s')", name);
    }
    cb_reader_free(r);
    cb_shalist_parser_free(p);
    free(buf);
    free(name);
    return rc;
}

static uint64_t size_max_end(const cb_meta *m)
{
    uint64_t end = 0;
    for (size_t i = 0; i < m->n_objects; i++) {
        const cb_meta_object *o = &m->objects[i];
        if (o->offset + o->length > end)
            end = o->offset + o->length;
    }
    return end;
}

int cb__size_compute(cb_store *store,
                     const cb_found *f,
                     const cb_meta *m,
                     cb_parent_size_fn parent_size,
                     void *payload,
                     uint64_t *size_out,
                     cb_error *err)
{
    uint64_t count, blk;
    int rc;
    if (m->parent_id == NULL) { /* a full backup covers every byte */
        *size_out = size_max_end(m);
        return 0;
    }
    if ((rc = cb__shafile_stream(store, f, NULL, NULL, &count, &blk, err)) < 0)
        return rc;
    return cb__size_from_shas(f, m, count, blk, parent_size, payload, size_out, err);
}

int cb__size_from_shas(const cb_found *f,
                       const cb_meta *m,
                       uint64_t count,
                       uint64_t blk,
                       cb_parent_size_fn parent_size,
                       void *payload,
                       uint64_t *size_out,
                       cb_error *err)
{
    uint64_t end = size_max_end(m), parent;
    int rc;
    if (m->parent_id == NULL) {
        *size_out = end;
        return 0;
    }
    if (count == 0) {
        *size_out = 0;
        return 0;
    }
    uint64_t last = (count - 1) * blk; /* where the last sha block starts */
    if (end > last) {                  /* the last block is in this backup's own objects */
        *size_out = end;
        return 0;
    }
    if ((rc = parent_size(m->parent_id, &parent, payload, err)) < 0)
        return rc;
    if (parent <= last)
        return cb_error_set(err, CB_ECORRUPT,
                            "backup %s has %llu sha blocks, more than its parent %s covers",
                            f->parts.backup_id, (unsigned long long)count, m->parent_id);
    *size_out = last + (parent - last < blk ? parent - last : blk);
    return 0;
}
