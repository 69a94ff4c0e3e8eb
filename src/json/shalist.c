/* SPDX-License-Identifier: Apache-2.0 */
/* shalist.c: streaming parser for Cinder's sha256file, on yajl's callback parser. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "shalist.h"
#include "../util/util.h"

/* The top-level keys we act on; each has a bit in `seen` to catch duplicates. */
typedef enum shalist_field {
    SHALIST_OTHER = 0,
    SHALIST_SHA256S,
    SHALIST_CHUNK_SIZE,
    SHALIST_VERSION,
    SHALIST_BACKUP_ID,
    SHALIST_VOLUME_ID,
} shalist_field;

static const char *const shalist_field_names[] = {
    "", "sha256s", "chunk_size", "version", "backup_id", "volume_id",
};

/* What kind of JSON value a yajl callback reported. */
typedef enum shalist_kind {
    SHALIST_NULL,
    SHALIST_BOOL,
    SHALIST_NUMBER,
    SHALIST_STRING,
    SHALIST_CONTAINER,
} shalist_kind;

struct cb_shalist_parser {
    yajl_handle yajl;
    cb_shalist_callbacks cbs;
    void *payload;
    int depth;                            /* open containers: 1 while inside the top-level object */
    shalist_field field;                  /* the top-level key whose value is being read */
    int in_sha256s;                       /* inside the sha256s array itself (depth 2) */
    unsigned seen;                        /* 1 << field for each known key read */
    int done;                             /* the top-level object has closed */
    int finished;                         /* cb_shalist_finish() ran */
    uint64_t chunk_size;                  /* 0 until read */
    uint64_t count;                       /* sha256s entries read */
    uint64_t offset;                      /* bytes fed before the piece being parsed */
    char *strings[SHALIST_VOLUME_ID + 1]; /* version, backup_id, volume_id (by field) */
    cb_error error;                       /* the first failure; sticky */
};

static int shalist_corrupt(cb_shalist_parser *p, const char *what)
{
    return cb_error_set(&p->error, CB_ECORRUPT, "sha256file: %s", what);
}

static int shalist_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* Cinder writes lowercase, but an uppercase digest still means the same */
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int shalist_entry(cb_shalist_parser *p, const unsigned char *s, size_t len)
{
    unsigned char digest[32];
    uint64_t index = p->count;
    for (size_t i = 0; len == 64 && i < 32; i++) {
        int hi = shalist_hexval(s[2 * i]), lo = shalist_hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            len = 0;
        else
            digest[i] = (unsigned char)(hi << 4 | lo);
    }
    if (len != 64)
        return cb_error_set(&p->error, CB_ECORRUPT,
                            "sha256file: sha256s entry %" PRIu64 " is not 64 hex digits", index);
    p->count++;
    if (p->cbs.on_sha == NULL)
        return 0;
    int rc = p->cbs.on_sha(index, digest, p->payload, &p->error);
    if (rc < 0)
        cb_error_set(&p->error, rc, "sha256file: callback failed at entry %" PRIu64, index);
    return rc < 0 ? rc : 0;
}

static int shalist_chunk_size(cb_shalist_parser *p, shalist_kind kind, const char *s, size_t len)
{
    char text[32];
    int ok = kind == SHALIST_NUMBER && len > 0 && len < sizeof(text);
    for (size_t i = 0; ok && i < len; i++)
        ok = s[i] >= '0' && s[i] <= '9';
    if (ok) {
        memcpy(text, s, len);
        text[len] = '\0';
        errno = 0;
        p->chunk_size = strtoull(text, NULL, 10);
        ok = errno == 0 && p->chunk_size > 0;
    }
    if (!ok) {
        p->chunk_size = 0;
        return shalist_corrupt(p, "chunk_size is not a positive integer");
    }
    if (p->cbs.on_chunk_size == NULL)
        return 0;
    int rc = p->cbs.on_chunk_size(p->chunk_size, p->payload, &p->error);
    if (rc < 0)
        cb_error_set(&p->error, rc, "sha256file: chunk_size callback failed");
    return rc < 0 ? rc : 0;
}

static int shalist_id(cb_shalist_parser *p, shalist_kind kind, const char *s, size_t len)
{
    if (kind == SHALIST_NULL)
        return 0;
    if (kind != SHALIST_STRING || len > CB_SHALIST_MAX_ID)
        return cb_error_set(&p->error, CB_ECORRUPT, "sha256file: %s is not a short string",
                            shalist_field_names[p->field]);
    p->strings[p->field] = cb__strndup(s, len, &p->error);
    return p->strings[p->field] == NULL ? CB_ENOMEM : 0;
}

/* A value (scalar, or the start of a container) at the current depth. */
static int shalist_value(cb_shalist_parser *p, shalist_kind kind, const char *s, size_t len)
{
    if (p->depth == 0)
        return shalist_corrupt(p, "the document is not a JSON object");
    if (p->in_sha256s && p->depth == 2) {
        if (kind != SHALIST_STRING)
            return cb_error_set(&p->error, CB_ECORRUPT,
                                "sha256file: sha256s entry %" PRIu64 " is not a string", p->count);
        return shalist_entry(p, (const unsigned char *)s, len);
    }
    if (p->depth != 1)
        return 0; /* inside the value of a key we skip */
    switch (p->field) {
    case SHALIST_SHA256S:
        return kind == SHALIST_CONTAINER ? 0 : shalist_corrupt(p, "sha256s is not a list");
    case SHALIST_CHUNK_SIZE:
        return shalist_chunk_size(p, kind, s, len);
    case SHALIST_VERSION:
    case SHALIST_BACKUP_ID:
    case SHALIST_VOLUME_ID:
        return shalist_id(p, kind, s, len);
    default:
        return 0;
    }
}

/* yajl callbacks: nonzero to go on, 0 to stop (the reason is in p->error). */

static int shalist_on_null(void *ctx)
{
    return shalist_value(ctx, SHALIST_NULL, NULL, 0) == 0;
}

static int shalist_on_bool(void *ctx, int v)
{
    (void)v;
    return shalist_value(ctx, SHALIST_BOOL, NULL, 0) == 0;
}

static int shalist_on_number(void *ctx, const char *s, size_t len)
{
    return shalist_value(ctx, SHALIST_NUMBER, s, len) == 0;
}

static int shalist_on_string(void *ctx, const unsigned char *s, size_t len)
{
    return shalist_value(ctx, SHALIST_STRING, (const char *)s, len) == 0;
}

static int shalist_on_start_map(void *ctx)
{
    cb_shalist_parser *p = ctx;
    if (p->depth > 0 && shalist_value(p, SHALIST_CONTAINER, NULL, 0) < 0)
        return 0;
    if (p->depth == 1 && p->field == SHALIST_SHA256S)
        return shalist_corrupt(p, "sha256s is not a list") == 0;
    p->depth++;
    return 1;
}

static int shalist_on_start_array(void *ctx)
{
    cb_shalist_parser *p = ctx;
    if (shalist_value(p, SHALIST_CONTAINER, NULL, 0) < 0)
        return 0;
    p->depth++;
    if (p->depth == 2 && p->field == SHALIST_SHA256S)
        p->in_sha256s = 1;
    return 1;
}

static int shalist_on_end(void *ctx)
{
    cb_shalist_parser *p = ctx;
    p->depth--;
    if (p->depth == 1)
        p->in_sha256s = 0;
    if (p->depth == 0)
        p->done = 1;
    return 1;
}

static int shalist_on_key(void *ctx, const unsigned char *key, size_t len)
{
    cb_shalist_parser *p = ctx;
    if (p->depth != 1)
        return 1;
    p->field = SHALIST_OTHER;
    for (int f = SHALIST_SHA256S; f <= SHALIST_VOLUME_ID; f++)
        if (strlen(shalist_field_names[f]) == len && memcmp(shalist_field_names[f], key, len) == 0)
            p->field = (shalist_field)f;
    if (p->field == SHALIST_OTHER)
        return 1;
    if (p->seen & (1u << p->field))
        return cb_error_set(&p->error, CB_ECORRUPT, "sha256file: duplicate key \"%s\"",
                            shalist_field_names[p->field]) == 0;
    p->seen |= 1u << p->field;
    return 1;
}

static const yajl_callbacks shalist_yajl_callbacks = {
    .yajl_null = shalist_on_null,
    .yajl_boolean = shalist_on_bool,
    .yajl_number = shalist_on_number, /* raw text: no int/double conversion, no overflow */
    .yajl_string = shalist_on_string,
    .yajl_start_map = shalist_on_start_map,
    .yajl_map_key = shalist_on_key,
    .yajl_end_map = shalist_on_end,
    .yajl_start_array = shalist_on_start_array,
    .yajl_end_array = shalist_on_end,
};

int cb_shalist_parser_new(cb_shalist_parser **out,
                          const cb_shalist_callbacks *cbs,
                          void *payload,
                          cb_error *err)
{
    cb_shalist_parser *p = cb__calloc(1, sizeof(*p), err);
    *out = NULL;
    if (p == NULL)
        return CB_ENOMEM;
    if (cbs != NULL)
        p->cbs = *cbs;
    p->payload = payload;
    p->yajl = yajl_alloc(&shalist_yajl_callbacks, NULL, p);
    if (p->yajl == NULL) {
        free(p);
        return cb_error_set(err, CB_ENOMEM, "sha256file: out of memory for the JSON parser");
    }
    *out = p;
    return 0;
}

void cb_shalist_parser_free(cb_shalist_parser *p)
{
    if (p == NULL)
        return;
    if (p->yajl != NULL)
        yajl_free(p->yajl);
    for (size_t i = 0; i < sizeof(p->strings) / sizeof(p->strings[0]); i++)
        free(p->strings[i]);
    free(p);
}

static int shalist_report(cb_shalist_parser *p, cb_error *err)
{
    if (p->error.code == 0)
        return 0;
    if (err != NULL && err->code == 0)
        *err = p->error;
    return p->error.code;
}

/* Turn a yajl status into our error: yajl's own one-line message plus the byte offset. */
static void shalist_check(cb_shalist_parser *p, yajl_status st, int at_end)
{
    if (st == yajl_status_ok)
        return;
    if (st == yajl_status_client_canceled) {
        shalist_corrupt(p, "parse stopped"); /* no-op: the callback recorded why */
        return;
    }
    /* at the end yajl has parsed a padding byte of its own: report the input's length */
    uint64_t at = p->offset + (at_end ? 0 : yajl_get_bytes_consumed(p->yajl));
    unsigned char *msg = yajl_get_error(p->yajl, 0, NULL, 0); /* verbose=0: no text dump */
    size_t len = msg != NULL ? strlen((char *)msg) : 0;
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        len--;
    cb_error_set(&p->error, CB_ECORRUPT, "sha256file: invalid JSON near byte %" PRIu64 ": %.*s", at,
                 (int)len, msg != NULL ? (char *)msg : "");
    if (msg != NULL)
        yajl_free_error(p->yajl, msg);
}

int cb_shalist_feed(cb_shalist_parser *p, const void *data, size_t len, cb_error *err)
{
    if (p->error.code == 0 && p->finished)
        cb_error_set(&p->error, CB_EINVAL, "sha256file: data fed after finish");
    if (p->error.code == 0 && len > 0) {
        shalist_check(p, yajl_parse(p->yajl, data, len), 0);
        p->offset += len;
    }
    return shalist_report(p, err);
}

int cb_shalist_finish(cb_shalist_parser *p, cb_error *err)
{
    if (p->error.code == 0 && !p->finished) {
        p->finished = 1;
        shalist_check(p, yajl_complete_parse(p->yajl), 1);
        if (p->error.code == 0 && !p->done)
            shalist_corrupt(p, "the document is incomplete");
        if (p->error.code == 0 && !(p->seen & (1u << SHALIST_CHUNK_SIZE)))
            shalist_corrupt(p, "no chunk_size");
        if (p->error.code == 0 && !(p->seen & (1u << SHALIST_SHA256S)))
            shalist_corrupt(p, "no sha256s");
    }
    return shalist_report(p, err);
}

uint64_t cb_shalist_chunk_size(const cb_shalist_parser *p)
{
    return p->chunk_size;
}

uint64_t cb_shalist_count(const cb_shalist_parser *p)
{
    return p->count;
}

const char *cb_shalist_version(const cb_shalist_parser *p)
{
    return p->strings[SHALIST_VERSION];
}

const char *cb_shalist_backup_id(const cb_shalist_parser *p)
{
    return p->strings[SHALIST_BACKUP_ID];
}

const char *cb_shalist_volume_id(const cb_shalist_parser *p)
{
    return p->strings[SHALIST_VOLUME_ID];
}
