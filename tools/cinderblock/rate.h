/* SPDX-License-Identifier: Apache-2.0 */
/* rate.h: the current transfer rate, over a moving window of the last seconds. */
#ifndef CB_CLI_RATE_H
#define CB_CLI_RATE_H

#include <stddef.h>
#include <stdint.h>

#define CLI_RATE_SAMPLES 64

/* Samples (time, bytes done so far) of the last `window` seconds, in a ring. */
typedef struct cli_rate {
    double window;  /* seconds */
    double spacing; /* samples closer than this to the newest one replace it */
    double t[CLI_RATE_SAMPLES];
    uint64_t bytes[CLI_RATE_SAMPLES];
    size_t head, n; /* t[head] is the oldest sample */
} cli_rate;

/* An empty window of `window` seconds; samples are kept at least `spacing` apart. */
void cli_rate_init(cli_rate *r, double window, double spacing);

/* Bytes done at time `t` (seconds, not decreasing). */
void cli_rate_add(cli_rate *r, double t, uint64_t bytes);

/* Bytes per second over the window, from the oldest sample still in it (or the last one
 * before it) to the newest; -1 while fewer than two samples lie that far apart. */
double cli_rate_value(const cli_rate *r);

/* Seconds until `total` at the current rate, rounded up; -1 when unknown. */
long long cli_rate_eta(const cli_rate *r, uint64_t done, uint64_t total);

#endif
