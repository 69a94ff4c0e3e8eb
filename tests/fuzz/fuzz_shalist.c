/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_shalist.c: a backup's _sha256file through the streaming parser, in one piece and in
 * pieces cut where a hash of the input says: both must agree on the outcome, the entries
 * and the fields, since a store's reads may end anywhere.
 */
#include <string.h>

#include "fuzz.h"
#include "json/shalist.h"

typedef struct seen {
    uint64_t n;       /* entries handed to on_sha */
    uint64_t digests; /* a sum over their bytes and indexes: equal runs, equal sums */
    uint64_t chunk;   /* what on_chunk_size got */
    int chunk_calls;
} seen;

static int on_sha(uint64_t index, const unsigned char digest[32], void *payload, cb_error *err)
{
    seen *s = payload;
    (void)err;
    FUZZ_CHECK(index == s->n);
    s->n++;
    for (int i = 0; i < 32; i++)
        s->digests = s->digests * 31 + digest[i] + index;
    return 0;
}

static int on_chunk_size(uint64_t chunk_size, void *payload, cb_error *err)
{
    seen *s = payload;
    (void)err;
    FUZZ_CHECK(chunk_size > 0);
    s->chunk = chunk_size;
    s->chunk_calls++;
    return 0;
}

typedef struct outcome {
    int rc;
    seen s;
    uint64_t count, chunk;
    char fields[3][CB_SHALIST_MAX_ID + 2]; /* version, backup_id, volume_id ("-": NULL) */
} outcome;

static void copy_field(char *out, const char *v)
{
    FUZZ_CHECK(v == NULL || strlen(v) <= CB_SHALIST_MAX_ID);
    strcpy(out, v != NULL ? v : "-");
}

/* Parse in pieces of at most `step` bytes (0: all at once), their lengths from `h`. */
static void parse(const uint8_t *data, size_t size, size_t step, uint64_t h, outcome *o)
{
    static const cb_shalist_callbacks cbs = { on_sha, on_chunk_size };
    cb_shalist_parser *p;
    cb_error err = { 0 };
    memset(o, 0, sizeof(*o));
    FUZZ_CHECK(cb_shalist_parser_new(&p, &cbs, &o->s, &err) == 0);
    size_t at = 0;
    o->rc = 0;
    while (o->rc == 0 && at < size) {
        size_t n = size - at;
        if (step > 0) {
            h = h * 6364136223846793005u + 1442695040888963407u;
            size_t cut = 1 + (size_t)(h >> 33) % step;
            n = cut < n ? cut : n;
        }
        o->rc = cb_shalist_feed(p, data + at, n, &err);
        at += n;
    }
    if (o->rc == 0)
        o->rc = cb_shalist_finish(p, &err);
    FUZZ_CHECK(o->rc == 0 || (err.code == o->rc && err.msg[0] != '\0'));
    o->count = cb_shalist_count(p);
    o->chunk = cb_shalist_chunk_size(p);
    copy_field(o->fields[0], cb_shalist_version(p));
    copy_field(o->fields[1], cb_shalist_backup_id(p));
    copy_field(o->fields[2], cb_shalist_volume_id(p));
    cb_shalist_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static outcome whole, split;
    uint64_t h = fuzz_hash(data, size);
    parse(data, size, 0, h, &whole);
    parse(data, size, 1 + (size_t)(h % 97), h, &split);
    FUZZ_CHECK(whole.rc == split.rc);
    if (whole.rc != 0)
        return 0;
    FUZZ_CHECK(whole.count == whole.s.n && split.count == split.s.n);
    FUZZ_CHECK(whole.s.n == split.s.n && whole.s.digests == split.s.digests);
    FUZZ_CHECK(whole.chunk > 0 && whole.chunk == split.chunk && whole.s.chunk == whole.chunk);
    FUZZ_CHECK(whole.s.chunk_calls == 1 && split.s.chunk_calls == 1);
    for (int i = 0; i < 3; i++)
        FUZZ_CHECK(strcmp(whole.fields[i], split.fields[i]) == 0);
    return 0;
}
