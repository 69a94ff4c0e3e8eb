/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meta_write.c: Cinder's _metadata document, byte for byte as Python's
 * json.dumps(obj, sort_keys=True, indent=2) writes it. The keys below are emitted in that
 * sorted order by hand.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../hash/hash.h"
#include "meta.h"
#include "../json/json.h"
#include "../util/util.h"

static int meta_opt_str(cb_pyjson *j, const char *key, const char *value, cb_error *err)
{
    int rc = cb_pyjson_key(j, key, err);
    if (rc == 0)
        rc = value ? cb_pyjson_string(j, value, err) : cb_pyjson_null(j, err);
    return rc;
}

static int meta_write_object(cb_pyjson *j, const cb_meta_object *o, cb_error *err)
{
    char md5[33];
    cb__hex(md5, o->md5, 16);
    cb_pyjson_begin_object(j, err);
    cb_pyjson_key(j, o->name, err);
    cb_pyjson_begin_object(j, err);
    cb_pyjson_key(j, "compression", err);
    cb_pyjson_string(j, o->compression, err);
    cb_pyjson_key(j, "length", err);
    cb_pyjson_uint(j, o->length, err);
    cb_pyjson_key(j, "md5", err);
    cb_pyjson_string(j, md5, err);
    cb_pyjson_key(j, "offset", err);
    cb_pyjson_uint(j, o->offset, err);
    cb_pyjson_end_object(j, err);
    return cb_pyjson_end_object(j, err); /* errors are sticky: the last call reports them */
}

static int meta_write_extra(cb_pyjson *j, const char *extra_json, cb_error *err)
{
    json_error_t jerr;
    json_t *v = json_loads(extra_json, JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        return cb_error_set(err, CB_EINVAL, "the store's extra_metadata is not JSON: %s",
                            jerr.text);
    cb_pyjson_key(j, "extra_metadata", err);
    int rc = cb_pyjson_value(j, v, err);
    json_decref(v);
    return rc;
}

size_t cb__meta_entry_bound(size_t name_len, size_t comp_len)
{
    /* indent 2, sorted keys: 144 bytes of punctuation, keys and the MD5, two numbers of up
     * to 20 digits; names and algorithms are ASCII (Cinder's grammar) */
    return name_len + comp_len + 144 + 2 * 20;
}

size_t cb__meta_head_bound(const cb_meta *m)
{
    /* free text may be escaped as \uXXXX\uXXXX (12 bytes) per UTF-8 byte, at worst */
    size_t text = 0;
    const char *fields[] = { m->description, m->name, m->volume_meta, m->created_at };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        text += fields[i] ? strlen(fields[i]) : 0;
    return 1024 + 12 * text + 2 * (m->extra_json ? strlen(m->extra_json) : 0);
}

int cb__meta_write(const cb_meta *m, char **text_out, size_t *len_out, cb_error *err)
{
    cb_pyjson j;
    int rc;
    cb_pyjson_init(&j, 2, NULL, NULL);
    cb_pyjson_begin_object(&j, err);
    meta_opt_str(&j, "backup_description", m->description, err);
    meta_opt_str(&j, "backup_id", m->backup_id, err);
    meta_opt_str(&j, "backup_name", m->name, err);
    meta_opt_str(&j, "created_at", m->created_at, err);
    /* Cinder writes extra_metadata only when the driver returned something */
    if (m->extra_json != NULL && (rc = meta_write_extra(&j, m->extra_json, err)) < 0)
        goto done;
    cb_pyjson_key(&j, "objects", err);
    cb_pyjson_begin_array(&j, err);
    for (size_t i = 0; i < m->n_objects; i++)
        meta_write_object(&j, &m->objects[i], err);
    cb_pyjson_end_array(&j, err);
    meta_opt_str(&j, "parent_id", m->parent_id, err);
    meta_opt_str(&j, "version", CB_META_VERSION, err);
    meta_opt_str(&j, "volume_id", m->volume_id, err);
    meta_opt_str(&j, "volume_meta", m->volume_meta, err);
    cb_pyjson_end_object(&j, err);
    if ((rc = cb_pyjson_finish(&j, err)) < 0)
        goto done;
    if ((*text_out = cb_pyjson_detach(&j, len_out)) == NULL)
        rc = cb_error_set(err, CB_ENOMEM, "out of memory");
done:
    cb_pyjson_dispose(&j);
    return rc;
}
