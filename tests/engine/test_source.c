/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_source.c: a volume that changes under a backup. A backup that read a volume which
 * shrank, grew or was replaced meanwhile must fail (CB_ESOURCE: the CLI's exit 3) and
 * commit nothing, never exit 0 with zeros where the data vanished.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define SRC_VOL (8u << 20)

typedef enum { SRC_SHRINK, SRC_GROW, SRC_REPLACE } src_change;

typedef struct src {
    char *dir;
    char root[512], vol[600], other[600];
    cb_store *store;
    src_change change;
    int done; /* the change was made */
} src;

static void src_write(const char *path, size_t len, uint64_t seed)
{
    unsigned char *b = malloc(len);
    tu_fill_random(b, len, seed);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    fclose(f);
    free(b);
}

/* Called between pieces of the backup, on the caller's thread: change the volume once a
 * quarter of it has been read. */
static void src_progress(const cb_progress *p, void *payload)
{
    src *t = payload;
    if (t->done || p->bytes_done < SRC_VOL / 4)
        return;
    t->done = 1;
    if (t->change == SRC_SHRINK)
        assert_int_equal(truncate(t->vol, SRC_VOL / 2), 0);
    else if (t->change == SRC_GROW)
        assert_int_equal(truncate(t->vol, SRC_VOL * 2), 0);
    else
        assert_int_equal(rename(t->other, t->vol), 0);
}

static size_t src_objects(const char *dir)
{
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "find '%s' -type f -name 'volume_*' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    size_t n = 0;
    assert_non_null(p);
    assert_int_equal(fscanf(p, "%zu", &n), 1);
    pclose(p);
    return n;
}

static void src_run(src_change change, int threads, uint64_t object_size)
{
    src t = { .change = change };
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_backup_info *info = NULL;
    cb_error err = { 0 };
    t.dir = tu_mkdtemp("source");
    snprintf(t.root, sizeof(t.root), "%s/store", t.dir);
    snprintf(t.vol, sizeof(t.vol), "%s/volume.img", t.dir);
    snprintf(t.other, sizeof(t.other), "%s/other.img", t.dir);
    src_write(t.vol, SRC_VOL, 1);
    src_write(t.other, SRC_VOL, 2);
    assert_cb_ok(cb_store_open(&t.store, t.root, NULL, &err), &err);
    o.object_size = object_size;
    o.sha_block = 65536;
    o.threads = threads;
    o.compression = "zstd";
    o.progress = src_progress;
    o.progress_payload = &t;
    int rc = cb_backup(t.store, t.vol, &o, &info, &err);
    assert_true(t.done);
    if (rc != CB_ESOURCE)
        print_error("change %d, %d threads: got %s \"%s\"\n", change, threads, cb_status_name(rc),
                    err.msg);
    assert_int_equal(rc, CB_ESOURCE);
    assert_null(info);
    assert_non_null(strstr(err.msg, t.vol));
    /* nothing committed, nothing left */
    assert_int_equal(src_objects(t.root), 0);
    cb_store_free(t.store);
    tu_rmtree(t.dir);
    free(t.dir);
}

static void test_source__shrinks(void **state)
{
    (void)state;
    src_run(SRC_SHRINK, 1, 1u << 20); /* many objects: whole objects per worker */
    src_run(SRC_SHRINK, 2, 4u << 20); /* few: pieces */
}

static void test_source__grows(void **state)
{
    (void)state;
    src_run(SRC_GROW, 2, 1u << 20);
}

static void test_source__replaced(void **state)
{
    (void)state;
    src_run(SRC_REPLACE, 2, 1u << 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source__shrinks),
        cmocka_unit_test(test_source__grows),
        cmocka_unit_test(test_source__replaced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
