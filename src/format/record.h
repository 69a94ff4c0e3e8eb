/* SPDX-License-Identifier: Apache-2.0 */
/*
 * record.h: Cinder's export record of a backup (spec §2.9), decoded with no store: the
 * base64 text `cinder backup-export` prints as backup_url, holding a JSON object of the
 * backup's row. What the record claims is checked against the store by the catalog
 * (cb_backup_import_record).
 */
#ifndef CB_FORMAT_RECORD_H
#define CB_FORMAT_RECORD_H

#include "ids.h"

typedef struct cb_record {
    char id[CB_UUID_LEN + 1]; /* the backup's id, lowercase */
    char *container;
    char *prefix;          /* service_metadata: the backup's object-name prefix */
    cb_prefix_parts parts; /* the prefix's parts; parts.backup_id is `id` */
    int has_object_count;  /* object_count is an integer (not null or text) */
    long long object_count;
} cb_record;

/*
 * Decode `url` (base64, whitespace ignored) and check the record: a JSON object with the
 * fields Cinder's import requires, text where text is needed, a UUID for id, and a
 * service_metadata that is the Cinder prefix of backup `id`. On failure everything is
 * CB_EINVAL (CB_ENOMEM when memory runs out) and `out` holds nothing to dispose.
 */
int cb__record_decode(cb_record *out, const char *url, cb_error *err);

void cb__record_dispose(cb_record *r);

#endif
