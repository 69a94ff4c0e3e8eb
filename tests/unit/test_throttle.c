/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_throttle.c: the bandwidth limit's bucket (src/store/throttle.c) on a clock the test
 * moves: the waits it asks for, what idle time is worth, and that threads taking at once
 * share one rate (no grant lost), without depending on the wall clock.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "testutil.h"
#include "store/throttle.h"

typedef struct fake_clock {
    double now;
    atomic_int sleeps; /* atomic: the threads test sleeps from eight threads at once */
    int advance;       /* 1: a sleep moves the clock on; 0: time stands still */
} fake_clock;

static double fake_now(void *payload)
{
    return ((fake_clock *)payload)->now;
}

static void fake_sleep(double seconds, void *payload)
{
    fake_clock *c = payload;
    c->sleeps++;
    if (c->advance)
        c->now += seconds;
}

static void test_throttle__rate_over_time(void **state)
{
    (void)state;
    fake_clock c = { .now = 100.0, .advance = 1 };
    cb_throttle t;
    cb__throttle_init(&t, 1000.0, fake_now, fake_sleep, &c);
    /* 1000 bytes at 1000 B/s: done one second after the start, less the 0.05 s burst */
    for (int i = 0; i < 10; i++)
        cb__throttle_take(&t, 100);
    assert_true(c.now > 100.0 + 0.95 - 1e-9 && c.now < 100.0 + 0.95 + 1e-9);
    /* one large take waits for all of it */
    double w = cb__throttle_take(&t, 2000);
    assert_true(w > 2.0 - 1e-9 && w < 2.0 + 1e-9);
    cb__throttle_dispose(&t);
}

static void test_throttle__idle_time_not_saved(void **state)
{
    (void)state;
    fake_clock c = { .now = 0.0, .advance = 1 };
    cb_throttle t;
    cb__throttle_init(&t, 1000.0, fake_now, fake_sleep, &c);
    cb__throttle_take(&t, 1000);
    c.now += 60; /* a minute idle is not a minute of credit */
    double w = cb__throttle_take(&t, 1000);
    assert_true(w > 0.95 - 1e-9 && w < 0.95 + 1e-9);
    /* within the burst nothing waits */
    cb_throttle u;
    fake_clock d = { .now = 5.0, .advance = 1 };
    cb__throttle_init(&u, 1000.0, fake_now, fake_sleep, &d);
    assert_true(cb__throttle_take(&u, 40) == 0);
    assert_int_equal(d.sleeps, 0);
    cb__throttle_dispose(&t);
    cb__throttle_dispose(&u);
}

static void test_throttle__no_limit(void **state)
{
    (void)state;
    fake_clock c = { .now = 0.0, .advance = 1 };
    cb_throttle t;
    cb__throttle_init(&t, 0, fake_now, fake_sleep, &c);
    for (int i = 0; i < 100; i++)
        assert_true(cb__throttle_take(&t, 1u << 30) == 0);
    assert_int_equal(c.sleeps, 0);
    cb__throttle_dispose(&t);
}

#define SHARE_THREADS 8
#define SHARE_TAKES 500
#define SHARE_BYTES 1024

/* A clock that stands still and notices two threads in the bucket's critical section at
 * once: it lingers there, so an unlocked bucket is caught every time. */
static atomic_int share_inside, share_overlaps;

static double share_now(void *payload)
{
    struct timespec ts = { 0, 20000 };
    (void)payload;
    if (atomic_fetch_add(&share_inside, 1) > 0)
        atomic_fetch_add(&share_overlaps, 1);
    nanosleep(&ts, NULL);
    atomic_fetch_sub(&share_inside, 1);
    return 0.0;
}

static void *share_worker(void *arg)
{
    cb_throttle *t = arg;
    for (int i = 0; i < SHARE_TAKES; i++)
        cb__throttle_take(t, SHARE_BYTES);
    return NULL;
}

/* Eight threads at once on a clock that stands still: every byte granted is accounted, so
 * the bucket ends exactly total / rate ahead - one rate for all of them, not one each. */
static void test_throttle__threads_share_one_rate(void **state)
{
    (void)state;
    fake_clock c = { .now = 0.0, .advance = 0 };
    cb_throttle t;
    pthread_t th[SHARE_THREADS];
    cb__throttle_init(&t, 1024.0 * 1024, share_now, fake_sleep, &c);
    for (int i = 0; i < SHARE_THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, share_worker, &t), 0);
    for (int i = 0; i < SHARE_THREADS; i++)
        pthread_join(th[i], NULL);
    double total = (double)SHARE_THREADS * SHARE_TAKES * SHARE_BYTES;
    assert_int_equal(atomic_load(&share_overlaps), 0);
    assert_true(t.tat == total / t.rate); /* exact: powers of two */
    /* and the last grant waits for all the others' bytes */
    double w = cb__throttle_take(&t, SHARE_BYTES);
    assert_true(w > (total + SHARE_BYTES) / t.rate - 0.05 - 1e-9);
    cb__throttle_dispose(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_throttle__rate_over_time),
        cmocka_unit_test(test_throttle__idle_time_not_saved),
        cmocka_unit_test(test_throttle__no_limit),
        cmocka_unit_test(test_throttle__threads_share_one_rate),
    };
    return cmocka_run_group_tests_name("throttle", tests, NULL, NULL);
}
