/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_docs.c: docs/errors.md and the cb_status enum list the same codes and values. The
 * enum is read from include/cinderblock/common.h itself (curl's test1477 way), so that a
 * code added to the header without a row in the table fails here, and so does a row for a
 * code the header does not have.
 */
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"

#define MAX_CODES 64

typedef struct code {
    char name[64];
    int value;
    int seen; /* found on the other side */
} code;

static FILE *open_env(const char *var, const char *fallback)
{
    const char *path = getenv(var);
    FILE *f = fopen(path ? path : fallback, "r");
    if (f == NULL)
        print_error("cannot open %s (set %s)\n", path ? path : fallback, var);
    assert_non_null(f);
    return f;
}

/* The members of `typedef enum cb_status { ... } cb_status;`, one "CB_X = -N," a line. */
static size_t read_enum(code *out, size_t cap)
{
    FILE *f = open_env("CB_COMMON_H", "include/cinderblock/common.h");
    char line[512];
    size_t n = 0;
    int inside = 0, closed = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (!inside) {
            inside = strstr(line, "typedef enum cb_status {") != NULL;
            continue;
        }
        if (strchr(line, '}') != NULL) {
            closed = 1;
            break;
        }
        code c = { 0 };
        if (sscanf(line, " %63[A-Z0-9_] = %d", c.name, &c.value) != 2)
            continue;
        assert_true(n < cap);
        out[n++] = c;
    }
    fclose(f);
    assert_true(inside && closed);
    return n;
}

/* The rows "| `CB_X` | -N | ... |" of the table. */
static size_t read_docs(code *out, size_t cap)
{
    FILE *f = open_env("CB_DOCS_ERRORS", "docs/errors.md");
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        code c = { 0 };
        if (sscanf(line, "| `%63[A-Z0-9_]` | %d |", c.name, &c.value) != 2)
            continue;
        assert_true(n < cap);
        out[n++] = c;
    }
    fclose(f);
    return n;
}

/* Mark in `a` and `b` the codes both have; report those that differ. Returns mismatches. */
static int match(code *a, size_t na, code *b, size_t nb)
{
    int bad = 0;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if (strcmp(a[i].name, b[j].name) == 0) {
                a[i].seen = b[j].seen = 1;
                if (a[i].value != b[j].value) {
                    print_error("%s is %d in common.h but %d in docs/errors.md\n", a[i].name,
                                a[i].value, b[j].value);
                    bad++;
                }
            }
    return bad;
}

static void test_docs__errors_table_matches_enum(void **state)
{
    code in_enum[MAX_CODES], in_docs[MAX_CODES];
    (void)state;
    size_t ne = read_enum(in_enum, MAX_CODES);
    size_t nd = read_docs(in_docs, MAX_CODES);
    assert_true(ne >= 2); /* the parse found the enum at all (CB_OK, CB_ERROR, ...) */
    int bad = match(in_enum, ne, in_docs, nd);
    for (size_t i = 0; i < ne; i++) {
        if (!in_enum[i].seen) {
            print_error("%s is in the cb_status enum but not in docs/errors.md\n", in_enum[i].name);
            bad++;
        }
        /* and the library names it, so that messages and the CLI show it */
        if (strcmp(cb_status_name(in_enum[i].value), in_enum[i].name) != 0) {
            print_error("cb_status_name(%d) is %s, not %s\n", in_enum[i].value,
                        cb_status_name(in_enum[i].value), in_enum[i].name);
            bad++;
        }
    }
    for (size_t j = 0; j < nd; j++)
        if (!in_docs[j].seen) {
            print_error("docs/errors.md lists %s, which the cb_status enum does not have\n",
                        in_docs[j].name);
            bad++;
        }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docs__errors_table_matches_enum),
    };
    return cmocka_run_group_tests_name("docs", tests, NULL, NULL);
}
