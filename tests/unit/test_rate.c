/* SPDX-License-Identifier: Apache-2.0 */
/* test_rate.c: the CLI's moving-window rate (tools/cinderblock/rate.c), fed by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rate.h"

/* 100 B/s for 20 s, then 1000 B/s: after 10 s more the window sees only the new rate,
 * where the average since the start would still say 400. */
static void test_window_forgets_the_start(void **state)
{
    cli_rate r;
    uint64_t bytes = 0;
    (void)state;
    cli_rate_init(&r, 10.0, 0.25);
    assert_true(cli_rate_value(&r) < 0); /* nothing yet: unknown */
    for (int t = 0; t <= 20; t++) {
        cli_rate_add(&r, t, bytes);
        bytes += 100;
    }
    assert_int_equal((long long)(cli_rate_value(&r) + 0.5), 100);
    bytes -= 100;
    for (int t = 21; t <= 30; t++) {
        bytes += 1000;
        cli_rate_add(&r, t, bytes);
    }
    assert_int_equal((long long)(cli_rate_value(&r) + 0.5), 1000);
    /* halfway: 5 s old and 5 s new in the window */
    cli_rate_init(&r, 10.0, 0.25);
    bytes = 0;
    for (int t = 0; t <= 20; t++) {
        cli_rate_add(&r, t, bytes);
        bytes += t < 15 ? 100 : 1000;
    }
    /* base at t=10 (1000 B), newest t=20: 5 s of 100 and 5 of 1000 = 5500 B over 10 s */
    assert_int_equal((long long)(cli_rate_value(&r) + 0.5), 550);
}

static void test_eta(void **state)
{
    cli_rate r;
    (void)state;
    cli_rate_init(&r, 10.0, 0.25);
    assert_int_equal(cli_rate_eta(&r, 0, 1000), -1); /* no rate yet */
    cli_rate_add(&r, 0, 0);
    cli_rate_add(&r, 2, 200); /* 100 B/s */
    assert_int_equal(cli_rate_eta(&r, 200, 1000), 8);
    assert_int_equal(cli_rate_eta(&r, 200, 1050), 9); /* 8.5 s: rounded up */
    assert_int_equal(cli_rate_eta(&r, 1000, 1000), 0);
    assert_int_equal(cli_rate_eta(&r, 0, 0), -1); /* the size is not known yet */
    /* a stall: the window's rate falls to 0 and the ETA is unknown */
    cli_rate_add(&r, 13, 200);
    cli_rate_add(&r, 14, 200);
    assert_int_equal(cli_rate_eta(&r, 200, 1000), -1);
}

/* Samples closer than the spacing replace the newest: a burst of callbacks cannot push
 * the window's base out of the ring. */
static void test_spacing(void **state)
{
    cli_rate r;
    (void)state;
    cli_rate_init(&r, 10.0, 0.25);
    for (int i = 0; i <= 10000; i++) /* 10 s, a sample every ms at 1 MB/s */
        cli_rate_add(&r, i / 1000.0, (uint64_t)i * 1000);
    assert_true(r.n <= CLI_RATE_SAMPLES);
    assert_int_equal((long long)(cli_rate_value(&r) + 0.5), 1000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_forgets_the_start),
        cmocka_unit_test(test_eta),
        cmocka_unit_test(test_spacing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
