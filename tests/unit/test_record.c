/* SPDX-License-Identifier: Apache-2.0 */
/* test_record.c: decoding Cinder's export records with no store (src/format/record.h). */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "format/format.h"

#define ID "0a1b2c3d-0000-4000-8000-00000000000a"
#define PREFIX "volume_11111111-2222-4333-8444-555555555555_20240102030405_backup_" ID

/* base64 of `json`, as `cinder backup-export` prints it */
static char *b64(const char *json)
{
    size_t n = strlen(json);
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)json, (int)n);
    return out;
}

/* A record with this id, service_metadata and object_count (JSON values). */
static char *record(const char *id, const char *prefix, const char *count)
{
    static char json[2048];
    snprintf(json, sizeof(json),
             "{\"driver_info\": {}, \"id\": %s, \"size\": 1, \"container\": \"11/11/c\", "
             "\"service_metadata\": %s, \"display_name\": null, \"display_description\": "
             "null, \"object_count\": %s, \"status\": \"available\"}",
             id, prefix, count);
    return b64(json);
}

static void test_record__decodes_cinders_record(void **state)
{
    cb_record r;
    cb_error err = { 0 };
    (void)state;
    char *url = record("\"0A1B2C3D-0000-4000-8000-00000000000A\"", "\"" PREFIX "\"", "3");
    assert_cb_ok(cb__record_decode(&r, url, &err), &err);
    assert_string_equal(r.id, ID);
    assert_string_equal(r.container, "11/11/c");
    assert_string_equal(r.prefix, PREFIX);
    assert_string_equal(r.parts.backup_id, ID);
    assert_string_equal(r.parts.volume_id, "11111111-2222-4333-8444-555555555555");
    assert_true(r.has_object_count);
    assert_int_equal(r.object_count, 3);
    cb__record_dispose(&r);
    /* whitespace anywhere in the base64 text is ignored; a null count is no count */
    free(url);
    url = record("\"" ID "\"", "\"" PREFIX "\"", "null");
    size_t n = strlen(url);
    char *spaced = malloc(2 * n + 1), *p = spaced;
    for (size_t i = 0; i < n; i++) {
        *p++ = url[i];
        if (i % 7 == 3)
            *p++ = i % 2 ? '\n' : ' ';
    }
    *p = '\0';
    assert_cb_ok(cb__record_decode(&r, spaced, &err), &err);
    assert_false(r.has_object_count);
    cb__record_dispose(&r);
    free(spaced);
    free(url);
}

static void expect(const char *url, const char *msg)
{
    cb_record r;
    cb_error err = { 0 };
    assert_int_equal(cb__record_decode(&r, url, &err), CB_EINVAL);
    assert_cb_error(&err, CB_EINVAL, msg);
    assert_null(r.container);
    assert_null(r.prefix);
}

static void test_record__refuses_what_is_not_a_record(void **state)
{
    (void)state;
    expect("", "not base64 text");
    expect("abc", "not base64 text");
    expect("ab!d", "not base64 text");
    char *u = b64("[1, 2]");
    expect(u, "not a JSON object");
    free(u);
    u = b64("{\"id\": ");
    expect(u, "not a JSON object: ");
    free(u);
    u = b64("{\"id\": \"x\", \"size\": 1}");
    expect(u, "missing fields: container, service_metadata, display_name, "
              "display_description, object_count");
    free(u);
    u = record("7", "\"" PREFIX "\"", "1");
    expect(u, "id, container or service_metadata is not text");
    free(u);
    u = record("\"not-a-uuid\"", "\"" PREFIX "\"", "1");
    expect(u, "record id 'not-a-uuid' is not a UUID");
    free(u);
    u = record("\"" ID "\"", "\"volume_x\"", "1");
    expect(u, "object prefix 'volume_x' is not a Cinder backup prefix for backup " ID);
    free(u);
    u = record("\"0a1b2c3d-0000-4000-8000-00000000000b\"", "\"" PREFIX "\"", "1");
    expect(u, "is not a Cinder backup prefix for backup 0a1b2c3d-0000-4000-8000-00000000000b");
    free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record__decodes_cinders_record),
        cmocka_unit_test(test_record__refuses_what_is_not_a_record),
    };
    return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
