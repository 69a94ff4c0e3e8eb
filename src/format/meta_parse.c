/* SPDX-License-Identifier: Apache-2.0 */
/* meta_parse.c: reading and checking Cinder's _metadata documents (with jansson). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "meta.h"
#include "../hash/hash.h"
#include "../codec/codec.h"
#include "../util/util.h"

void cb__meta_init(cb_meta *m)
{
    memset(m, 0, sizeof(*m));
}

void cb__meta_dispose(cb_meta *m)
{
    for (size_t i = 0; i < m->n_objects; i++) {
        free(m->objects[i].name);
        free(m->objects[i].compression);
    }
    free(m->objects);
    free(m->version);
    free(m->backup_id);
    free(m->volume_id);
    free(m->name);
    free(m->description);
    free(m->created_at);
    free(m->parent_id);
    free(m->volume_meta);
    free(m->extra_json);
    cb__meta_init(m);
}

int cb__meta_add_object(cb_meta *m,
                        const char *name,
                        uint64_t offset,
                        uint64_t length,
                        const char *compression,
                        const unsigned char md5[16],
                        cb_error *err)
{
    if (m->n_objects == m->cap_objects) {
        size_t cap = m->cap_objects ? m->cap_objects * 2 : 16;
        cb_meta_object *o = cb__realloc(m->objects, cap * sizeof(*o), err);
        if (o == NULL)
            return CB_ENOMEM;
        m->objects = o;
        m->cap_objects = cap;
    }
    cb_meta_object *o = &m->objects[m->n_objects];
    memset(o, 0, sizeof(*o));
    o->name = cb__strdup(name, err);
    o->compression = cb__strdup(compression, err);
    if (o->name == NULL || o->compression == NULL) {
        free(o->name);
        free(o->compression);
        return CB_ENOMEM;
    }
    o->offset = offset;
    o->length = length;
    o->has_length = 1;
    if (md5 != NULL) {
        memcpy(o->md5, md5, 16);
        o->has_md5 = 1;
    }
    m->n_objects++;
    return 0;
}

/* A string field that may be null or absent (NULL), else a copy. */
static int
meta_opt_string(json_t *doc, const char *key, char **out, const char *label, cb_error *err)
{
    json_t *v = json_object_get(doc, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return cb_error_set(err, CB_ECORRUPT, "%s: '%s' is not a string", label, key);
    *out = cb__strndup(json_string_value(v), json_string_length(v), err);
    return *out ? 0 : CB_ENOMEM;
}

static int meta_uint(
    json_t *v, const char *what, const char *obj, uint64_t *out, const char *label, cb_error *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return cb_error_set(err, CB_ECORRUPT,
                            "%s: object '%s' has a %s that is not a "
                            "non-negative integer",
                            label, obj, what);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int
meta_parse_object(cb_meta *m, json_t *elem, size_t index, const char *label, cb_error *err)
{
    const char *name;
    json_t *v = NULL;
    uint64_t offset = 0, length = 0;
    unsigned char md5[16];
    int rc;

    if (!json_is_object(elem) || json_object_size(elem) != 1)
        return cb_error_set(err, CB_ECORRUPT,
                            "%s: objects[%zu] is not an object with exactly one key", label, index);
    json_object_foreach(elem, name, v) break;
    if (!json_is_object(v))
        return cb_error_set(err, CB_ECORRUPT, "%s: object '%s' has no fields", label, name);
    json_t *off = json_object_get(v, "offset"), *len = json_object_get(v, "length");
    json_t *comp = json_object_get(v, "compression"), *sum = json_object_get(v, "md5");
    if (off == NULL)
        return cb_error_set(err, CB_ECORRUPT, "%s: object '%s' has no offset", label, name);
    if ((rc = meta_uint(off, "offset", name, &offset, label, err)) < 0)
        return rc;
    if (len != NULL && !json_is_null(len) &&
        (rc = meta_uint(len, "length", name, &length, label, err)) < 0)
        return rc;
    if (comp == NULL || !json_is_string(comp))
        return cb_error_set(err, CB_ECORRUPT, "%s: object '%s' has no compression name", label,
                            name);
    int has_md5 = sum != NULL && !json_is_null(sum);
    if (has_md5 && (!json_is_string(sum) || json_string_length(sum) != 32 ||
                    cb__unhex(md5, json_string_value(sum), 16) < 0))
        return cb_error_set(err, CB_ECORRUPT, "%s: object '%s' has a malformed md5", label, name);
    if ((rc = cb__meta_add_object(m, name, offset, length, json_string_value(comp),
                                  has_md5 ? md5 : NULL, err)) < 0)
        return rc;
    m->objects[m->n_objects - 1].has_length = len != NULL && !json_is_null(len);
    return 0;
}

static int meta_parse_doc(cb_meta *m, json_t *doc, const char *label, cb_error *err)
{
    int rc;
    if (!json_is_object(doc))
        return cb_error_set(err, CB_ECORRUPT, "%s is not a JSON object", label);
    if ((rc = meta_opt_string(doc, "version", &m->version, label, err)) < 0 ||
        (rc = meta_opt_string(doc, "backup_id", &m->backup_id, label, err)) < 0 ||
        (rc = meta_opt_string(doc, "volume_id", &m->volume_id, label, err)) < 0 ||
        (rc = meta_opt_string(doc, "backup_name", &m->name, label, err)) < 0 ||
        (rc = meta_opt_string(doc, "backup_description", &m->description, label, err)) < 0 ||
        (rc = meta_opt_string(doc, "created_at", &m->created_at, label, err)) < 0 ||
        (rc = meta_opt_string(doc, "parent_id", &m->parent_id, label, err)) < 0 ||
        (rc = meta_opt_string(doc, "volume_meta", &m->volume_meta, label, err)) < 0)
        return rc;
    json_t *extra = json_object_get(doc, "extra_metadata");
    if (extra != NULL && !json_is_null(extra)) {
        m->extra_json = json_dumps(extra, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        if (m->extra_json == NULL)
            return cb_error_set(err, CB_ENOMEM, "out of memory");
    }
    json_t *objects = json_object_get(doc, "objects");
    if (!json_is_array(objects))
        return cb_error_set(err, CB_ECORRUPT, "%s has no 'objects' list", label);
    for (size_t i = 0; i < json_array_size(objects); i++)
        if ((rc = meta_parse_object(m, json_array_get(objects, i), i, label, err)) < 0)
            return rc;
    return 0;
}

int cb__meta_parse(cb_meta *m, const char *json, size_t len, const char *label, cb_error *err)
{
    json_error_t jerr;
    cb__meta_init(m);
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (doc == NULL)
        return cb_error_set(err, CB_ECORRUPT, "%s is not valid JSON: %s (line %d)", label,
                            jerr.text, jerr.line);
    int rc = meta_parse_doc(m, doc, label, err);
    json_decref(doc);
    if (rc < 0)
        cb__meta_dispose(m);
    return rc;
}

static int meta_cmp_offset(const void *a, const void *b)
{
    const cb_meta_object *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int
meta_check_name(const cb_meta_object *o, const char *prefix, const char *label, cb_error *err)
{
    size_t plen = strlen(prefix);
    if (strncmp(o->name, prefix, plen) != 0)
        return cb_error_set(err, CB_ECORRUPT, "%s: object '%s' is outside the backup's prefix '%s'",
                            label, o->name, prefix);
    const char *rest = o->name + plen;
    if (strcmp(rest, "_metadata") == 0 || strcmp(rest, "_sha256file") == 0 || rest[0] == '\0')
        return cb_error_set(err, CB_ECORRUPT, "%s: object '%s' is not a data object name", label,
                            o->name);
    return 0;
}

int cb__meta_check(cb_meta *m, const char *prefix, const char *label, cb_error *err)
{
    int rc;
    if (m->version == NULL || strcmp(m->version, CB_META_VERSION) != 0)
        return cb_error_set(err, CB_ECORRUPT,
                            "%s: metadata version '%s' is not supported (only \"" CB_META_VERSION
                            "\" is)",
                            label, m->version ? m->version : "(none)");
    for (size_t i = 0; i < m->n_objects; i++) {
        cb_codec_id id;
        cb_meta_object *o = &m->objects[i];
        cb_error cerr = { 0 };
        if ((rc = meta_check_name(o, prefix, label, err)) < 0)
            return rc;
        if (cb_codec_lookup(o->compression, &id, &cerr) < 0)
            return cb_error_set(err, CB_ECORRUPT, "%s: object '%s': %s", label, o->name, cerr.msg);
        if (o->has_length && o->offset + o->length < o->offset)
            return cb_error_set(err, CB_ECORRUPT, "%s: object '%s' ends beyond 2^64", label,
                                o->name);
    }
    if (m->n_objects > 1)
        qsort(m->objects, m->n_objects, sizeof(m->objects[0]), meta_cmp_offset);
    for (size_t i = 1; i < m->n_objects; i++) {
        cb_meta_object *a = &m->objects[i - 1], *b = &m->objects[i];
        if (a->offset == b->offset || (a->has_length && a->offset + a->length > b->offset))
            return cb_error_set(err, CB_ECORRUPT, "%s: objects '%s' and '%s' overlap", label,
                                a->name, b->name);
    }
    return 0;
}
