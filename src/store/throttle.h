/* SPDX-License-Identifier: Apache-2.0 */
/*
 * throttle.h: one bandwidth limit shared by every thread and connection of a store
 * (cb_store_opts.limit_upload, limit_download), applied in store.c where every writer and
 * reader of every store passes.
 *
 * The bucket is kept as the time at which the bytes granted so far may all have been sent
 * at the rate (a "theoretical arrival time", as in GCRA): each caller takes its bytes under
 * the lock, which moves that time on by bytes / rate, and then sleeps, without the lock,
 * until that time less the burst. Several threads so share the rate exactly, whatever
 * their number, and a caller never waits for another's sleep. Idle time is not saved up
 * beyond the burst. The clock and the sleep are injectable, so the arithmetic is tested
 * without the wall clock.
 */
#ifndef CB_STORE_THROTTLE_H
#define CB_STORE_THROTTLE_H

#include <pthread.h>
#include <stddef.h>

typedef double (*cb_throttle_clock_fn)(void *payload);               /* seconds, monotonic */
typedef void (*cb_throttle_sleep_fn)(double seconds, void *payload); /* may return early */

typedef struct cb_throttle {
    double rate;  /* bytes per second; 0: no limit */
    double burst; /* seconds of rate that may go at once */
    double tat;   /* when every byte granted so far is due */
    int started;
    pthread_mutex_t lock;
    cb_throttle_clock_fn clock;
    cb_throttle_sleep_fn sleep;
    void *payload;
} cb_throttle;

/* The largest piece store.c passes to a writer or asks of a reader under a limit: the rate
 * is then applied to pieces this small, not to a whole object given in one write. */
#define CB_THROTTLE_PIECE (64u << 10)

/* rate in bytes per second (0: no limit); clock and sleep NULL: CLOCK_MONOTONIC, nanosleep */
void cb__throttle_init(cb_throttle *t,
                       double rate,
                       cb_throttle_clock_fn clock,
                       cb_throttle_sleep_fn sleep,
                       void *payload);
void cb__throttle_dispose(cb_throttle *t);

/* Account for n bytes and wait until they are due. Returns the seconds it waited for (what
 * it asked the sleep function for). A no-op without a limit. */
double cb__throttle_take(cb_throttle *t, size_t n);

#endif
