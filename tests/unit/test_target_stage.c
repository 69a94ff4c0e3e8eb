/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_target_stage.c: staged writes to a restore target land exactly where they were
 * asked to, with O_DIRECT where the file system takes it and through the page cache where
 * it does not: runs that follow on and runs that do not, unaligned starts and ends, writes
 * larger than the stage, a file whose size is not a multiple of the block size, and later
 * writes over earlier ones.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"
#include "core/target_stage.h"

#define SIZE ((5u << 20) + 1234) /* not a multiple of 4096 */

static unsigned next_rand(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

/* Random writes through `nstages` stages (as several workers would), mirrored in memory;
 * then the file must equal the mirror. */
static void run_writes(int direct, unsigned seed)
{
    char *dir = tu_mkdtemp("stage");
    char path[4096];
    unsigned char *want = calloc(1, SIZE), *src = malloc(SIZE), *got = malloc(SIZE);
    cb_target t;
    cb_target_stage st[3];
    cb_error err = { 0 };
    snprintf(path, sizeof(path), "%s/target.img", dir);
    tu_fill_random(src, SIZE, seed);
    assert_cb_ok(cb__target_open(&t, path, SIZE, 0, &err), &err);
    if (!direct && t.dfd >= 0) { /* the page-cache-only path, as on tmpfs */
        close(t.dfd);
        t.dfd = -1;
    }
    for (int i = 0; i < 3; i++)
        assert_cb_ok(cb__stage_init(&st[i], &t, &err), &err);
    for (int i = 0; i < 400; i++) {
        /* stage 0 alone writes anywhere, its writes in order, so a write that does not
         * follow on flushes the earlier ones; stages 1 and 2 write the first and second
         * half of each MiB, side by side, as two workers with disjoint objects would */
        int which = i % 2 == 0 ? 0 : 1 + (int)(next_rand(&seed) % 2);
        cb_target_stage *s = &st[which];
        uint64_t off = next_rand(&seed) % SIZE;
        size_t len =
            next_rand(&seed) % 4 == 0 ? next_rand(&seed) % (3u << 20) : next_rand(&seed) % 70000;
        if (which > 0) {
            off = off / (1u << 20) * (1u << 20) + (which == 2 ? 1u << 19 : 0);
            off += next_rand(&seed) % 1000;
            len = len % ((1u << 19) - 1000);
        }
        if (off >= SIZE)
            continue;
        if (len > SIZE - off)
            len = (size_t)(SIZE - off);
        for (int run = 0; run < 3 && len > 0; run++) { /* a few that follow on */
            assert_cb_ok(cb__stage_write(s, &t, src + off, len, off, &err), &err);
            memcpy(want + off, src + off, len);
            off += len;
            len = len < SIZE - off ? len : (size_t)(SIZE - off);
        }
        if (which > 0) /* the next write to this half may come from the other stage */
            assert_cb_ok(cb__stage_flush(s, &t, &err), &err);
        else if (next_rand(&seed) % 8 == 0)
            assert_cb_ok(cb__stage_flush(s, &t, &err), &err);
    }
    for (int i = 0; i < 3; i++) {
        assert_cb_ok(cb__stage_flush(&st[i], &t, &err), &err);
        cb__stage_dispose(&st[i]);
    }
    assert_cb_ok(cb__target_commit(&t, &err), &err);
    cb__target_close(&t);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, got, SIZE, 0), SIZE);
    assert_int_equal(lseek(fd, 0, SEEK_END), SIZE);
    close(fd);
    assert_memory_equal(got, want, SIZE);
    free(want);
    free(src);
    free(got);
    tu_rmtree(dir);
    free(dir);
}

static void test_stage__direct_writes_land_in_place(void **state)
{
    (void)state;
    run_writes(1, 1);
    run_writes(1, 2);
}

static void test_stage__page_cache_writes_land_in_place(void **state)
{
    (void)state;
    run_writes(0, 3);
}

/* On a local file system (the tests run on one) the target takes O_DIRECT. */
static void test_stage__local_file_uses_direct_io(void **state)
{
    char *dir = tu_mkdtemp("stage");
    char path[4096];
    cb_target t;
    cb_error err = { 0 };
    (void)state;
    snprintf(path, sizeof(path), "%s/t.img", dir);
    assert_cb_ok(cb__target_open(&t, path, 1 << 20, 0, &err), &err);
    int fl = t.dfd >= 0 ? fcntl(t.dfd, F_GETFL) : 0;
    int tmpfs = t.dfd < 0; /* tmpfs refuses O_DIRECT: the other path is then the one used */
    cb__target_close(&t);
    tu_rmtree(dir);
    free(dir);
    if (tmpfs)
        skip();
    assert_true(fl & O_DIRECT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stage__direct_writes_land_in_place),
        cmocka_unit_test(test_stage__page_cache_writes_land_in_place),
        cmocka_unit_test(test_stage__local_file_uses_direct_io),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
