/* SPDX-License-Identifier: Apache-2.0 */
/* test_docs.c: docs/errors.md and the cb_status enum list the same codes and values. */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

static const int docs_codes[] = {
    CB_OK,     CB_ERROR,    CB_ENOTFOUND, CB_EEXISTS,  CB_EIO,      CB_ENET,
    CB_EHTTP,  CB_ECORRUPT, CB_ECANCELED, CB_ENOTSUPP, CB_EINVAL,   CB_EAUTH,
    CB_ENOMEM, CB_EINUSE,   CB_ELOCKED,   CB_ESOURCE,  CB_ITEROVER,
};

static void test_docs__errors_table_matches_enum(void **state)
{
    (void)state;
    const char *path = getenv("CB_DOCS_ERRORS");
    FILE *f = fopen(path ? path : "docs/errors.md", "r");
    char line[512];
    size_t rows = 0;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        char name[64];
        int value;
        if (sscanf(line, "| `%63[A-Z_]` | %d |", name, &value) != 2)
            continue;
        rows++;
        int found = 0;
        for (size_t i = 0; i < sizeof(docs_codes) / sizeof(docs_codes[0]); i++)
            if (strcmp(cb_status_name(docs_codes[i]), name) == 0) {
                assert_int_equal(docs_codes[i], value);
                found = 1;
            }
        if (!found)
            print_error("docs/errors.md lists %s, which the enum does not have\n", name);
        assert_true(found);
    }
    fclose(f);
    assert_int_equal(rows, sizeof(docs_codes) / sizeof(docs_codes[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docs__errors_table_matches_enum),
    };
    return cmocka_run_group_tests_name("docs", tests, NULL, NULL);
}
