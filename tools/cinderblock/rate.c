/* SPDX-License-Identifier: Apache-2.0 */
/* rate.c: a moving-window rate, so that a slow start or a stall is forgotten in seconds. */
#include <string.h>

#include "rate.h"

void cli_rate_init(cli_rate *r, double window, double spacing)
{
    memset(r, 0, sizeof(*r));
    r->window = window;
    r->spacing = spacing;
}

static size_t rate_at(const cli_rate *r, size_t k)
{
    return (r->head + k) % CLI_RATE_SAMPLES;
}

void cli_rate_add(cli_rate *r, double t, uint64_t bytes)
{
    if (r->n > 1) {
        size_t newest = rate_at(r, r->n - 1), prev = rate_at(r, r->n - 2);
        if (t - r->t[prev] < r->spacing) { /* too close: the newest sample moves */
            r->t[newest] = t;
            r->bytes[newest] = bytes;
            goto trim;
        }
    }
    if (r->n == CLI_RATE_SAMPLES) { /* full: the oldest goes */
        r->head = rate_at(r, 1);
        r->n--;
    }
    r->t[rate_at(r, r->n)] = t;
    r->bytes[rate_at(r, r->n)] = bytes;
    r->n++;
trim:
    /* keep one sample at or before the window's start: the base of the difference */
    while (r->n > 2 && r->t[rate_at(r, 1)] <= t - r->window) {
        r->head = rate_at(r, 1);
        r->n--;
    }
}

double cli_rate_value(const cli_rate *r)
{
    if (r->n < 2)
        return -1;
    size_t a = r->head, b = rate_at(r, r->n - 1);
    double dt = r->t[b] - r->t[a];
    if (dt <= 0 || r->bytes[b] < r->bytes[a])
        return -1;
    return (double)(r->bytes[b] - r->bytes[a]) / dt;
}

long long cli_rate_eta(const cli_rate *r, uint64_t done, uint64_t total)
{
    double v = cli_rate_value(r);
    if (total == 0) /* not known yet */
        return -1;
    if (done >= total)
        return 0;
    if (v <= 0)
        return -1;
    double secs = (double)(total - done) / v;
    long long whole = (long long)secs;
    return whole + (secs > (double)whole);
}
