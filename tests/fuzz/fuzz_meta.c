/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_meta.c: a backup's _metadata document, as a store hands it over: parsed
 * (cb__meta_parse), checked as a restore checks it (cb__meta_check), and what parses is
 * written back (cb__meta_write) and parsed again, which must give the same text a second
 * time.
 */
#include <string.h>

#include "fuzz.h"
#include "format/format.h"

/* The prefix of the first object's name ("<prefix>-00001"), for the name checks. */
static char *meta_prefix(const cb_meta *m)
{
    const char *name = m->n_objects > 0 ? m->objects[0].name : "volume_x";
    const char *dash = strrchr(name, '-');
    size_t n = dash != NULL ? (size_t)(dash - name) : strlen(name);
    char *p = malloc(n + 1);
    FUZZ_CHECK(p != NULL);
    memcpy(p, name, n);
    p[n] = '\0';
    return p;
}

static void meta_round_trip(const cb_meta *m)
{
    char *t1 = NULL, *t2 = NULL;
    size_t n1 = 0, n2 = 0;
    cb_meta again;
    cb_error err = { 0 };
    if (cb__meta_write(m, &t1, &n1, &err) < 0)
        return; /* nothing it cannot write was made by it */
    FUZZ_CHECK(cb__meta_parse(&again, t1, n1, "written", &err) == 0);
    FUZZ_CHECK(cb__meta_write(&again, &t2, &n2, &err) == 0);
    FUZZ_CHECK(n1 == n2 && memcmp(t1, t2, n1) == 0);
    FUZZ_CHECK(again.n_objects == m->n_objects);
    cb__meta_dispose(&again);
    free(t1);
    free(t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cb_meta m;
    cb_error err = { 0 };
    if (size > CB_META_MAX)
        return 0;
    if (cb__meta_parse(&m, (const char *)data, size, "fuzz", &err) < 0) {
        FUZZ_CHECK(err.code < 0 && err.msg[0] != '\0');
        return 0;
    }
    meta_round_trip(&m);
    char *prefix = meta_prefix(&m);
    cb_error cerr = { 0 };
    if (cb__meta_check(&m, prefix, "fuzz", &cerr) == 0)
        for (size_t i = 1; i < m.n_objects; i++) /* sorted, apart */
            FUZZ_CHECK(m.objects[i - 1].offset < m.objects[i].offset);
    else
        FUZZ_CHECK(cerr.code < 0 && cerr.msg[0] != '\0');
    free(prefix);
    cb__meta_dispose(&m);
    return 0;
}
