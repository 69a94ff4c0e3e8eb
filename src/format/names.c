/* SPDX-License-Identifier: Apache-2.0 */
/* names.c: object names and user-given ids. */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "format.h"
#include "../util/util.h"

char *cb__name_metadata(const char *prefix, cb_error *err)
{
    return cb__asprintf(err, "%s_metadata", prefix);
}

char *cb__name_sha256file(const char *prefix, cb_error *err)
{
    return cb__asprintf(err, "%s_sha256file", prefix);
}

char *cb__name_object(const char *prefix, uint64_t n, cb_error *err)
{
    /* Cinder: "%s-%05d"; past 99999 the number simply grows wider */
    return cb__asprintf(err, "%s-%05" PRIu64, prefix, n);
}

int cb__uuid_normalize(char out[CB_UUID_LEN + 1], const char *in, const char *what, cb_error *err)
{
    size_t n = strlen(in);
    if (n == CB_UUID_LEN) {
        for (size_t i = 0; i < n; i++)
            out[i] = (char)tolower((unsigned char)in[i]);
        out[n] = '\0';
        if (cb__uuid_valid(out))
            return 0;
    }
    return cb_error_set(err, CB_EINVAL,
                        "%s '%s' is not a UUID (like 0123abcd-0000-4000-8000-0123456789ab)", what,
                        in);
}
