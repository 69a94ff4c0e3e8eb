/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_s3xml.c: an S3 answer as the S3 store parses it (src/store/s3/s3_xml.c): the
 * (path, text) pairs of a ListObjectsV2 page, with the Key, Size, LastModified,
 * IsTruncated and NextContinuationToken a listing reads from them (the store's own page
 * logic is static in s3.c: it is mirrored here); the Code and Message of an error; one
 * element found by path; and a parse its callback stops half-way.
 */
#include <string.h>

#include "fuzz.h"
#include "store/s3/s3.h"

typedef struct page {
    size_t items, keys, stop_at;
    int64_t size, mtime;
    int truncated;
} page;

static int page_item(const char *path, const char *text, size_t len, void *payload)
{
    page *p = payload;
    size_t plen = strlen(path);
    FUZZ_CHECK(plen < 512);
    FUZZ_CHECK(text != NULL && path[plen] == '\0');
    if (++p->items == p->stop_at)
        return 7; /* stops the parse, and comes back as its result */
    static const char contents[] = "ListBucketResult/Contents/";
    if (strncmp(path, contents, sizeof(contents) - 1) == 0) {
        const char *leaf = path + sizeof(contents) - 1;
        if (strcmp(leaf, "Key") == 0)
            p->keys++;
        else if (strcmp(leaf, "LastModified") == 0)
            p->mtime = cb__http_parse_time(text, len);
        else if (strcmp(leaf, "Size") == 0)
            p->size = (int64_t)len;
    } else if (strcmp(path, "ListBucketResult/IsTruncated") == 0)
        p->truncated = len == 4 && strncmp(text, "true", 4) == 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *doc = (const char *)data;
    page p = { 0 };
    cb_error err = { 0 };
    int rc = cb__s3_xml_parse(doc, size, page_item, &p, &err);
    FUZZ_CHECK(rc == 0 || (rc < 0 && err.code == rc && err.msg[0] != '\0'));
    if (p.items > 1) { /* again, stopped at the middle item */
        page q = { .stop_at = (p.items + 1) / 2 };
        cb_error qerr = { 0 };
        FUZZ_CHECK(cb__s3_xml_parse(doc, size, page_item, &q, &qerr) == 7);
        FUZZ_CHECK(q.items == q.stop_at);
    }
    char code[64], msg[256], token[1024];
    cb__s3_xml_error(doc, size, code, sizeof(code), msg, sizeof(msg));
    FUZZ_CHECK(strlen(code) < sizeof(code) && strlen(msg) < sizeof(msg));
    cb__s3_xml_find(doc, size, "ListBucketResult/NextContinuationToken", token, sizeof(token));
    FUZZ_CHECK(strlen(token) < sizeof(token));
    return 0;
}
