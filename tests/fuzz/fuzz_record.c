/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_record.c: an export record as `cinderblock import-record` receives it: the input
 * itself as the base64 text, and the input base64-encoded (so that mutations reach the
 * JSON inside, which random text seldom is).
 */
#include <openssl/evp.h>
#include <string.h>

#include "fuzz.h"
#include "format/format.h"

static void decode(const char *url)
{
    cb_record r;
    cb_error err = { 0 };
    if (cb__record_decode(&r, url, &err) < 0) {
        FUZZ_CHECK(err.code < 0 && err.msg[0] != '\0');
        FUZZ_CHECK(r.container == NULL && r.prefix == NULL);
        return;
    }
    FUZZ_CHECK(cb__uuid_valid(r.id));
    FUZZ_CHECK(strcmp(r.parts.backup_id, r.id) == 0);
    FUZZ_CHECK(r.container != NULL && r.prefix != NULL);
    cb__record_dispose(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    char *text = malloc(size + 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    decode(text);
    free(text);
    char *b64 = malloc(4 * ((size + 2) / 3) + 1);
    FUZZ_CHECK(b64 != NULL);
    EVP_EncodeBlock((unsigned char *)b64, data, (int)size);
    decode(b64);
    free(b64);
    return 0;
}
