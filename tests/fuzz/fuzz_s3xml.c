/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_s3xml.c: an S3 answer as the S3 store parses it: a ListObjectsV2 page through the
 * store's own page logic (s3_list.c over s3_xml.c), for names and for entries (Key, Size,
 * LastModified), whole and stopped half-way by its callback; the Code and Message of an
 * error; one element found by path.
 */
#include <string.h>

#include "fuzz.h"
#include "store/s3/s3_internal.h"

/* Every name and entry a page hands on: a NUL-terminated string of the page's text. */
typedef struct seen {
    size_t items, stop_at;
} seen;

static int on_name(const char *name, void *payload)
{
    seen *v = payload;
    FUZZ_CHECK(name != NULL && strlen(name) < (1u << 24));
    return ++v->items == v->stop_at ? 7 : 0; /* 7: stops the parse, and is its result */
}

static int on_entry(const cb_entry *e, void *payload)
{
    seen *v = payload;
    FUZZ_CHECK(e->name != NULL && e->name[0] != '\0');
    FUZZ_CHECK(e->size >= -1 && e->mtime >= -1);
    return ++v->items == v->stop_at ? 7 : 0;
}

/* One page, parsed by the store's own page logic (s3_list.c), for names or for entries;
 * stop_at > 0 stops it at that callback. Returns the parse's result and the count. */
static int page_once(const char *doc, size_t size, int entries, size_t stop_at, size_t *items)
{
    seen v = { .stop_at = stop_at };
    s3_page p = { .fn = on_name, .payload = &v, .name_path = "ListBucketResult/Contents/Key" };
    if (entries)
        p.entry_fn = on_entry;
    p.size = p.mtime = -1;
    cb_error err = { 0 };
    int rc = cb__s3_page_parse(&p, doc, size, &err);
    FUZZ_CHECK(rc == 0 || rc == 7 || (rc < 0 && err.code == rc && err.msg[0] != '\0'));
    FUZZ_CHECK(p.token.len <= size && p.key.len <= size); /* text of the page, no more */
    cb_buf_dispose(&p.token);
    cb_buf_dispose(&p.key);
    *items = v.items;
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *doc = (const char *)data;
    for (int entries = 0; entries < 2; entries++) {
        size_t n = 0, m = 0;
        int rc = page_once(doc, size, entries, 0, &n);
        if (rc == 0 && n > 1) /* again, stopped at the middle one */
            FUZZ_CHECK(page_once(doc, size, entries, (n + 1) / 2, &m) == 7 && m == (n + 1) / 2);
    }
    char code[64], msg[256], token[1024];
    cb__s3_xml_error(doc, size, code, sizeof(code), msg, sizeof(msg));
    FUZZ_CHECK(strlen(code) < sizeof(code) && strlen(msg) < sizeof(msg));
    cb__s3_xml_find(doc, size, "ListBucketResult/NextContinuationToken", token, sizeof(token));
    FUZZ_CHECK(strlen(token) < sizeof(token));
    return 0;
}
