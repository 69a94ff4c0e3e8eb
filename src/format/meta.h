/* SPDX-License-Identifier: Apache-2.0 */
/* meta.h: Cinder's <prefix>_metadata document (format 1.0.0), in memory. */
#ifndef CB_CORE_META_H
#define CB_CORE_META_H

#include <stdint.h>

#include "cinderblock/common.h"
#include "../util/util.h"

#define CB_META_VERSION "1.0.0"

/* The largest _metadata document cinderblock reads, and so the largest it writes: a backup
 * whose document would not fit is refused before it stores anything. 64 MiB holds some
 * 230,000 objects (a 2 TiB volume in Cinder's 50 MiB Swift objects needs 41,943). */
#define CB_META_MAX ((size_t)64 << 20)

typedef struct cb_meta_object {
    char *name;
    uint64_t offset;
    uint64_t length;       /* uncompressed bytes */
    int has_length;        /* Cinder always writes it; foreign tools may not */
    char *compression;     /* as recorded ("zlib", "GZIP", "none", ...) */
    unsigned char md5[16]; /* of the uncompressed bytes */
    int has_md5;
} cb_meta_object;

typedef struct cb_meta {
    char *version;
    char *backup_id;
    char *volume_id;
    char *name;        /* backup_name, NULL for null */
    char *description; /* backup_description, NULL for null */
    char *created_at;
    char *parent_id;   /* NULL for null */
    char *volume_meta; /* the JSON text inside the string, NULL for null */
    char *extra_json;  /* extra_metadata re-serialised compactly, NULL when absent */
    cb_meta_object *objects;
    size_t n_objects;
    size_t cap_objects;
} cb_meta;

void cb__meta_init(cb_meta *m);
void cb__meta_dispose(cb_meta *m);

/* Append an object entry; the strings are copied. */
int cb__meta_add_object(cb_meta *m,
                        const char *name,
                        uint64_t offset,
                        uint64_t length,
                        const char *compression,
                        const unsigned char md5[16],
                        cb_error *err);

/*
 * Parse a metadata document. `label` names it in messages. Structural problems (not JSON,
 * missing fields, wrong types, an object entry without exactly one key, a negative offset)
 * are CB_ECORRUPT. The version is NOT checked here (see cb__meta_check).
 */
int cb__meta_parse(cb_meta *m, const char *json, size_t len, const char *label, cb_error *err);

/*
 * What a restore needs on top of parsing: version "1.0.0"; every object name under
 * `prefix` and not one of its two JSON objects; known compression names; no two objects
 * overlapping (sorted by offset on return).
 */
int cb__meta_check(cb_meta *m, const char *prefix, const char *label, cb_error *err);

/* Upper bounds of the bytes the document takes (as cb__meta_write writes it): one object
 * entry, and everything but the entries. */
size_t cb__meta_entry_bound(size_t name_len, size_t comp_len);
size_t cb__meta_head_bound(const cb_meta *m);

/* Serialise as Cinder does: sorted keys, 2-space indent, ASCII only, no trailing newline.
 * `*text_out` is malloc'ed. */
int cb__meta_write(const cb_meta *m, char **text_out, size_t *len_out, cb_error *err);

#endif
