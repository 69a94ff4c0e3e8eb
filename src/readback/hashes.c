/* SPDX-License-Identifier: Apache-2.0 */
/* parent.c: pulling the parent's digests, one at a time, out of a push parser. */
#include <stdlib.h>
#include <string.h>

#include "readback.h"
#include "../util/util.h"
#include "../json/json.h"
#include "../format/format.h"

#define PARENT_READ (64u << 10)

/* The parser pushes digests here; a feed of PARENT_READ bytes yields at most ~900. */
static int
parent_on_sha(uint64_t index, const unsigned char digest[32], void *payload, cb_error *err)
{
    cb_hashes *ps = payload;
    (void)index;
    if (ps->count == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 2048;
        unsigned char *q = cb__malloc(cap * 32, err);
        if (q == NULL)
            return CB_ENOMEM;
        for (size_t i = 0; i < ps->count; i++) /* unroll the ring into the new buffer */
            memcpy(q + i * 32, ps->queue + ((ps->head + i) % ps->cap) * 32, 32);
        free(ps->queue);
        ps->queue = q;
        ps->cap = cap;
        ps->head = 0;
    }
    memcpy(ps->queue + ((ps->head + ps->count) % ps->cap) * 32, digest, 32);
    ps->count++;
    return 0;
}

/* Read and parse one more piece of the file; sets eof at its end. */
static int parent_pump(cb_hashes *ps, cb_error *err)
{
    size_t n;
    int rc = cb_reader_read(ps->r, ps->io, PARENT_READ, &n, err);
    if (rc < 0)
        return rc;
    if (n == 0) {
        ps->eof = 1;
        return cb_shalist_finish(ps->p, err);
    }
    return cb_shalist_feed(ps->p, ps->io, n, err);
}

int cb__hashes_open(
    cb_hashes *ps, cb_store *store, const cb_found *parent, uint64_t *block_out, cb_error *err)
{
    cb_shalist_callbacks cbs = { .on_sha = parent_on_sha };
    int rc;
    memset(ps, 0, sizeof(*ps));
    if ((ps->name = cb__name_sha256file(parent->prefix, err)) == NULL ||
        (ps->io = cb__malloc(PARENT_READ, err)) == NULL)
        return CB_ENOMEM;
    if ((rc = cb_shalist_parser_new(&ps->p, &cbs, ps, err)) < 0)
        return rc;
    rc = cb_store_open_reader(store, parent->container, ps->name, NULL, 0, &ps->r, err);
    if (rc == CB_ENOTFOUND) {
        cb_error_clear(err);
        return cb_error_set(err, CB_ECORRUPT,
                            "parent backup %s has no '%s': it cannot be the base of an "
                            "incremental backup",
                            parent->parts.backup_id, ps->name);
    }
    while (rc == 0 && !ps->eof && cb_shalist_chunk_size(ps->p) == 0 && ps->count == 0)
        rc = parent_pump(ps, err);
    if (rc == 0 && cb_shalist_chunk_size(ps->p) == 0)
        rc = cb_error_set(err, CB_ECORRUPT, "'%s' gives no chunk_size before its hashes", ps->name);
    if (rc == 0)
        *block_out = cb_shalist_chunk_size(ps->p);
    return rc;
}

int cb__hashes_get(cb_hashes *ps, uint64_t index, unsigned char out[32], int *have, cb_error *err)
{
    int rc;
    /* drop what lies before `index` */
    while (ps->next_index < index) {
        if (ps->count == 0) {
            if (ps->eof)
                break;
            if ((rc = parent_pump(ps, err)) < 0)
                return rc;
            continue;
        }
        ps->head = (ps->head + 1) % ps->cap;
        ps->count--;
        ps->next_index++;
    }
    while (ps->count == 0 && !ps->eof)
        if ((rc = parent_pump(ps, err)) < 0)
            return rc;
    *have = ps->count > 0 && ps->next_index == index;
    if (*have)
        memcpy(out, ps->queue + ps->head * 32, 32);
    return 0;
}

void cb__hashes_close(cb_hashes *ps)
{
    cb_reader_free(ps->r);
    cb_shalist_parser_free(ps->p);
    free(ps->io);
    free(ps->queue);
    free(ps->name);
    memset(ps, 0, sizeof(*ps));
}
