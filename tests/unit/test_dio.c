/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_dio.c: staged writes land exactly where they were asked to, with O_DIRECT where the
 * file system takes it and through the page cache where it does not, written by the caller
 * or by a pool's thread: runs that follow on and runs that do not, unaligned starts and
 * ends, writes larger than a buffer, a file whose size is not a multiple of the block
 * size, later writes over earlier ones; and a failed write is reported.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"
#include "restore/target.h"
#include "util/dio.h"

#define SIZE ((5u << 20) + 1234) /* not a multiple of 4096 */

static unsigned next_rand(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

/* Random writes through three files' stagings (as several workers would), mirrored in
 * memory; then the file must equal the mirror. */
static void run_writes(int direct, int pooled, unsigned seed)
{
    char *dir = tu_mkdtemp("dio");
    char path[4096];
    unsigned char *want = calloc(1, SIZE), *src = malloc(SIZE), *got = malloc(SIZE);
    cb_target t;
    cb_dio st[3];
    cb_dio_pool *pool = NULL;
    cb_error err = { 0 };
    snprintf(path, sizeof(path), "%s/target.img", dir);
    tu_fill_random(src, SIZE, seed);
    assert_cb_ok(cb__target_open(&t, path, SIZE, 0, 1, &err), &err);
    if (!direct && t.dfd >= 0) { /* the page-cache-only path, as on tmpfs */
        close(t.dfd);
        t.dfd = -1;
    }
    if (pooled)
        assert_cb_ok(cb_dio_pool_new(&pool, &err), &err);
    for (int i = 0; i < 3; i++)
        cb_dio_init(&st[i], t.fd, t.dfd, path, pool);
    for (int i = 0; i < 400; i++) {
        /* stage 0 alone writes anywhere, its writes in order, so a write that does not
         * follow on flushes the earlier ones; stages 1 and 2 write the first and second
         * half of each MiB, side by side, as two workers with disjoint objects would */
        int which = i % 2 == 0 ? 0 : 1 + (int)(next_rand(&seed) % 2);
        cb_dio *s = &st[which];
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
            assert_cb_ok(cb_dio_write(s, src + off, len, off, &err), &err);
            memcpy(want + off, src + off, len);
            off += len;
            len = len < SIZE - off ? len : (size_t)(SIZE - off);
        }
        if (which > 0) /* the next write to this half may come from the other stage */
            assert_cb_ok(cb_dio_flush(s, &err), &err);
        else if (next_rand(&seed) % 8 == 0)
            assert_cb_ok(cb_dio_flush(s, &err), &err);
    }
    for (int i = 0; i < 3; i++) {
        assert_cb_ok(cb_dio_flush(&st[i], &err), &err);
        cb_dio_dispose(&st[i]);
    }
    cb_dio_pool_free(pool);
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

static void test_dio__direct_writes_land_in_place(void **state)
{
    (void)state;
    run_writes(1, 0, 1);
    run_writes(1, 0, 2);
}

static void test_dio__pooled_writes_land_in_place(void **state)
{
    (void)state;
    run_writes(1, 1, 4);
    run_writes(1, 1, 5);
}

static void test_dio__page_cache_writes_land_in_place(void **state)
{
    (void)state;
    run_writes(0, 0, 3);
    run_writes(0, 1, 6);
}

/* Three files written at once from three threads through one pool (what the workers of
 * a backup do with the posix store's pool), each compared with what was written. */
typedef struct {
    cb_dio_pool *pool;
    char path[4096];
    unsigned seed;
    int ok;
} dio_job;

static void *dio_job_main(void *arg)
{
    dio_job *j = arg;
    unsigned char *src = malloc(SIZE), *back = malloc(SIZE);
    cb_error err = { 0 };
    cb_dio d;
    int fd = open(j->path, O_CREAT | O_RDWR, 0600);
    tu_fill_random(src, SIZE, j->seed);
    cb_dio_init(&d, fd, CB_DIO_LAZY, j->path, j->pool);
    j->ok = fd >= 0;
    for (size_t at = 0; j->ok && at < SIZE;) { /* sequential, in uneven pieces */
        size_t n = 1 + next_rand(&j->seed) % 300000;
        n = n < SIZE - at ? n : SIZE - at;
        j->ok = cb_dio_write(&d, src + at, n, at, &err) == 0;
        at += n;
    }
    j->ok = j->ok && cb_dio_flush(&d, &err) == 0;
    cb_dio_dispose(&d);
    j->ok = j->ok && pread(fd, back, SIZE, 0) == SIZE && memcmp(back, src, SIZE) == 0;
    close(fd);
    free(src);
    free(back);
    return NULL;
}

static void test_dio__threads_share_a_pool(void **state)
{
    char *dir = tu_mkdtemp("dio");
    dio_job jobs[3];
    pthread_t th[3];
    cb_dio_pool *pool;
    cb_error err = { 0 };
    (void)state;
    assert_cb_ok(cb_dio_pool_new(&pool, &err), &err);
    for (int i = 0; i < 3; i++) {
        jobs[i].pool = pool;
        jobs[i].seed = 20u + (unsigned)i;
        snprintf(jobs[i].path, sizeof(jobs[i].path), "%s/f%d", dir, i);
        assert_int_equal(pthread_create(&th[i], NULL, dio_job_main, &jobs[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_true(jobs[i].ok);
    }
    cb_dio_pool_free(pool);
    tu_rmtree(dir);
    free(dir);
}

/* Writes past 2 MiB fail (RLIMIT_FSIZE: EFBIG, through either descriptor), so the first
 * MiB and the first staged buffer land and the second buffer fails: written by the pool's
 * thread, it must still be reported by the next call, with the file's name and the
 * offset; written by the caller, at once. */
static void test_dio__failed_write_is_reported(void **state)
{
    char *dir = tu_mkdtemp("dio");
    char path[4096];
    static unsigned char data[3u << 20];
    struct rlimit old, lim = { 2u << 20, 2u << 20 };
    cb_dio_pool *pool;
    cb_error err = { 0 };
    (void)state;
    snprintf(path, sizeof(path), "%s/big.img", dir);
    int fd = open(path, O_CREAT | O_RDWR, 0600);
    assert_true(fd >= 0);
    int dfd = cb_dio_open(path, -1);
    assert_cb_ok(cb_dio_pool_new(&pool, &err), &err);
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim.rlim_max = old.rlim_max;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    for (int pooled = 0; pooled < 2; pooled++) {
        cb_dio d;
        cb_error e = { 0 };
        cb_dio_init(&d, fd, dfd, path, pooled ? pool : NULL);
        int rc = cb_dio_write(&d, data, sizeof(data), 100, &e);
        if (rc == 0)
            rc = cb_dio_flush(&d, &e);
        assert_cb_error(&e, CB_EIO, "big.img' at offset 2097152");
        assert_int_equal(rc, CB_EIO);
        cb_dio_dispose(&d);
    }
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    cb_dio_pool_free(pool);
    close(fd);
    if (dfd >= 0)
        close(dfd);
    tu_rmtree(dir);
    free(dir);
}

/* On a local file system (the tests run on one) a restore target takes O_DIRECT, and a
 * file given CB_DIO_LAZY opens it once past the first CB_DIO_LEN bytes, not before. */
static void test_dio__local_file_uses_direct_io(void **state)
{
    char *dir = tu_mkdtemp("dio");
    char path[4096];
    static unsigned char data[3u << 20], back[3u << 20];
    cb_target t;
    cb_dio d;
    cb_error err = { 0 };
    (void)state;
    snprintf(path, sizeof(path), "%s/t.img", dir);
    assert_cb_ok(cb__target_open(&t, path, 1 << 20, 0, 1, &err), &err);
    int fl = t.dfd >= 0 ? fcntl(t.dfd, F_GETFL) : 0;
    int tmpfs = t.dfd < 0; /* tmpfs refuses O_DIRECT: the other path is then the one used */
    cb__target_close(&t);
    if (!tmpfs)
        assert_true(fl & O_DIRECT);
    snprintf(path, sizeof(path), "%s/lazy.img", dir);
    int fd = open(path, O_CREAT | O_RDWR, 0600);
    tu_fill_random(data, sizeof(data), 8);
    cb_dio_init(&d, fd, CB_DIO_LAZY, path, NULL);
    assert_cb_ok(cb_dio_write(&d, data, CB_DIO_LEN, 0, &err), &err);
    assert_int_equal(d.dfd, CB_DIO_LAZY); /* a small file never waits for the disk */
    assert_cb_ok(cb_dio_write(&d, data + CB_DIO_LEN, sizeof(data) - CB_DIO_LEN, CB_DIO_LEN, &err),
                 &err);
    assert_int_equal(d.dfd >= 0, !tmpfs);
    if (!tmpfs)
        assert_true(fcntl(d.dfd, F_GETFL) & O_DIRECT);
    assert_cb_ok(cb_dio_flush(&d, &err), &err);
    cb_dio_dispose(&d);
    assert_int_equal(pread(fd, back, sizeof(back), 0), sizeof(back));
    assert_memory_equal(back, data, sizeof(data));
    close(fd);
    tu_rmtree(dir);
    free(dir);
}

/* Network and FUSE file systems get the page cache; local ones and block devices O_DIRECT. */
static void test_dio__network_file_systems_get_the_page_cache(void **state)
{
    static const unsigned long page_cache[] = { 0x6969,     0x517b,     0xff534d42,
                                                0xfe534d42, 0x65735546, 0x00c36400 };
    static const unsigned long direct[] = { 0xef53 /* ext4 */, 0x58465342 /* xfs */,
                                            0x9123683e /* btrfs */ };
    (void)state;
    for (size_t i = 0; i < sizeof(page_cache) / sizeof(page_cache[0]); i++)
        assert_int_equal(cb__dio_fs_suits(page_cache[i]), 0);
    for (size_t i = 0; i < sizeof(direct) / sizeof(direct[0]); i++)
        assert_int_equal(cb__dio_fs_suits(direct[i]), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dio__direct_writes_land_in_place),
        cmocka_unit_test(test_dio__pooled_writes_land_in_place),
        cmocka_unit_test(test_dio__page_cache_writes_land_in_place),
        cmocka_unit_test(test_dio__threads_share_a_pool),
        cmocka_unit_test(test_dio__failed_write_is_reported),
        cmocka_unit_test(test_dio__local_file_uses_direct_io),
        cmocka_unit_test(test_dio__network_file_systems_get_the_page_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
