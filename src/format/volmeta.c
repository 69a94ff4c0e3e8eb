/* SPDX-License-Identifier: Apache-2.0 */
/* volmeta.c: Cinder's volume_meta string from --metadata KEY=VALUE pairs. */
#include <stdlib.h>
#include <string.h>

#include "../json/json.h"
#include "format.h"
#include "../util/util.h"

/*
 * Cinder's BackupMetadataAPI writes compact JSON (oslo jsonutils: ", " and ": ") with the
 * keys in insertion order: {"version": 2, "volume-metadata": {...}}. Cinder's restore applies
 * "volume-metadata" to the restored volume; base metadata is optional there, and we have no
 * volume database to take it from, so it is left out.
 */
int cb__volmeta_build(const char *const *pairs, size_t n, char **out, cb_error *err)
{
    cb_pyjson j;
    size_t len;
    int rc = 0;

    *out = NULL;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(pairs[i], '=');
        if (eq == NULL || eq == pairs[i])
            return cb_error_set(err, CB_EINVAL, "metadata '%s' is not KEY=VALUE", pairs[i]);
        for (size_t k = 0; k < i; k++)
            if (strncmp(pairs[k], pairs[i], (size_t)(eq - pairs[i]) + 1) == 0)
                return cb_error_set(err, CB_EINVAL, "metadata key '%.*s' is given twice",
                                    (int)(eq - pairs[i]), pairs[i]);
    }
    cb_pyjson_init(&j, 0, NULL, NULL);
    cb_pyjson_begin_object(&j, err);
    cb_pyjson_key(&j, "version", err);
    cb_pyjson_int(&j, 2, err);
    cb_pyjson_key(&j, "volume-metadata", err);
    cb_pyjson_begin_object(&j, err);
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(pairs[i], '=');
        cb_pyjson_keyn(&j, pairs[i], (size_t)(eq - pairs[i]), err);
        cb_pyjson_string(&j, eq + 1, err);
    }
    cb_pyjson_end_object(&j, err);
    cb_pyjson_end_object(&j, err);
    if ((rc = cb_pyjson_finish(&j, err)) == 0 && (*out = cb_pyjson_detach(&j, &len)) == NULL)
        rc = cb_error_set(err, CB_ENOMEM, "out of memory");
    cb_pyjson_dispose(&j);
    return rc;
}
