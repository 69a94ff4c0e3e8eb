/* SPDX-License-Identifier: Apache-2.0 */
/* record.c: decoding Cinder's export records (record.h). */
#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "../util/util.h"

/* base64 text (whitespace ignored) to bytes, in a new NUL-terminated `*out`; CB_EINVAL
 * when it is not base64. */
static int rec_unbase64(const char *url, char **out_text, size_t *len_out, cb_error *err)
{
    size_t n = strlen(url), k = 0;
    char *clean = cb__malloc(n + 1, err);
    *out_text = NULL;
    if (clean == NULL)
        return CB_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)url[i]))
            clean[k++] = url[i];
    clean[k] = '\0';
    char *out = k % 4 == 0 && k > 0 ? cb__malloc(k / 4 * 3 + 1, err) : NULL;
    int m = out ? EVP_DecodeBlock((unsigned char *)out, (unsigned char *)clean, (int)k) : -1;
    if (m < 0) {
        int oom = out == NULL && k % 4 == 0 && k > 0;
        free(out);
        free(clean);
        return oom ? CB_ENOMEM
                   : cb_error_set(err, CB_EINVAL, "the backup record is not base64 text");
    }
    /* EVP_DecodeBlock counts the padding as zero bytes */
    size_t pad = (k >= 1 && clean[k - 1] == '=') + (k >= 2 && clean[k - 2] == '=');
    *len_out = (size_t)m - pad;
    out[*len_out] = '\0';
    free(clean);
    *out_text = out;
    return 0;
}

static int rec_fields(json_t *rec, cb_error *err)
{
    static const char *const required[] = { "id",           "size",
                                            "container",    "service_metadata",
                                            "display_name", "display_description",
                                            "object_count" };
    char missing[256] = "";
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (json_object_get(rec, required[i]) == NULL) {
            strcat(missing, missing[0] ? ", " : "");
            strcat(missing, required[i]);
        }
    if (missing[0])
        return cb_error_set(err, CB_EINVAL, "the backup record is missing fields: %s", missing);
    if (!json_is_string(json_object_get(rec, "id")) ||
        !json_is_string(json_object_get(rec, "container")) ||
        !json_is_string(json_object_get(rec, "service_metadata")))
        return cb_error_set(err, CB_EINVAL,
                            "the backup record's id, container or service_metadata is not text");
    return 0;
}

/* The fields of a record whose fields are there and of the right types. */
static int rec_take(cb_record *r, json_t *rec, cb_error *err)
{
    int rc;
    if ((rc = cb__uuid_normalize(r->id, json_string_value(json_object_get(rec, "id")), "record id",
                                 err)) < 0)
        return rc;
    const char *prefix = json_string_value(json_object_get(rec, "service_metadata"));
    if (!cb__prefix_parse(prefix, &r->parts) || strcmp(r->parts.backup_id, r->id) != 0)
        return cb_error_set(err, CB_EINVAL,
                            "the record's object prefix '%s' is not a Cinder backup prefix for "
                            "backup %s",
                            prefix, r->id);
    json_t *count = json_object_get(rec, "object_count");
    r->has_object_count = json_is_integer(count);
    r->object_count = r->has_object_count ? (long long)json_integer_value(count) : 0;
    if ((r->container = cb__strdup(json_string_value(json_object_get(rec, "container")), err)) ==
            NULL ||
        (r->prefix = cb__strdup(prefix, err)) == NULL)
        return CB_ENOMEM;
    return 0;
}

int cb__record_decode(cb_record *out, const char *url, cb_error *err)
{
    json_error_t jerr;
    size_t len = 0;
    char *text = NULL;
    int rc;
    memset(out, 0, sizeof(*out));
    if ((rc = rec_unbase64(url, &text, &len, err)) < 0)
        return rc;
    json_t *rec = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!json_is_object(rec)) {
        rc = cb_error_set(err, CB_EINVAL, "the backup record is not a JSON object%s%s",
                          rec == NULL ? ": " : "", rec == NULL ? jerr.text : "");
        json_decref(rec);
        return rc;
    }
    if ((rc = rec_fields(rec, err)) == 0 && (rc = rec_take(out, rec, err)) < 0)
        cb__record_dispose(out);
    json_decref(rec);
    return rc;
}

void cb__record_dispose(cb_record *r)
{
    free(r->container);
    free(r->prefix);
    memset(r, 0, sizeof(*r));
}
