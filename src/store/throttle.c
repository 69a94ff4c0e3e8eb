/* SPDX-License-Identifier: Apache-2.0 */
/* throttle.c: the bandwidth limit of a store; throttle.h says how it works. */
#include <errno.h>
#include <time.h>

#include "throttle.h"

#define THROTTLE_BURST 0.05 /* seconds: a piece or two at the rates people set */

static double throttle_clock(void *payload)
{
    struct timespec ts;
    (void)payload;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void throttle_sleep(double seconds, void *payload)
{
    struct timespec ts;
    (void)payload;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void cb__throttle_init(cb_throttle *t,
                       double rate,
                       cb_throttle_clock_fn clock,
                       cb_throttle_sleep_fn sleep,
                       void *payload)
{
    t->rate = rate > 0 ? rate : 0;
    t->burst = THROTTLE_BURST;
    t->tat = 0;
    t->started = 0;
    t->clock = clock ? clock : throttle_clock;
    t->sleep = sleep ? sleep : throttle_sleep;
    t->payload = payload;
    pthread_mutex_init(&t->lock, NULL);
}

void cb__throttle_dispose(cb_throttle *t)
{
    pthread_mutex_destroy(&t->lock);
}

double cb__throttle_take(cb_throttle *t, size_t n)
{
    if (t->rate <= 0 || n == 0)
        return 0;
    pthread_mutex_lock(&t->lock);
    double now = t->clock(t->payload);
    /* time left idle is not saved up: the bucket holds at most `burst` seconds */
    if (!t->started || t->tat < now)
        t->tat = now;
    t->started = 1;
    t->tat += (double)n / t->rate;
    double wait = t->tat - t->burst - now;
    pthread_mutex_unlock(&t->lock);
    if (wait <= 0)
        return 0;
    t->sleep(wait, t->payload);
    return wait;
}
