/* SPDX-License-Identifier: Apache-2.0 */
/* progress.c: signals that cancel cleanly, and the progress line on a terminal. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* The CLI is one operation per process; a signal handler can only reach a global. */
static volatile sig_atomic_t progress_interrupted;

static void progress_on_signal(int sig)
{
    (void)sig;
    progress_interrupted = 1;
}

void cli_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = progress_on_signal;
    sa.sa_flags = (int)SA_RESETHAND; /* a second signal takes the default action: exit now */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_cancel_hook(void *payload)
{
    (void)payload;
    return progress_interrupted != 0;
}

static double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *cli_human(unsigned long long bytes, char buf[32])
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, 32, "%llu B", bytes);
    else
        snprintf(buf, 32, "%.1f %s", v, units[u]);
    return buf;
}

void cli_progress_init(cli_progress *p, const cli *c)
{
    memset(p, 0, sizeof(*p));
    p->c = c;
    p->tty = isatty(STDERR_FILENO) && c->verbose >= 0;
    p->start = progress_now();
}

void cli_progress_fn(const cb_progress *pr, void *payload)
{
    cli_progress *p = payload;
    char done[32], total[32], rate[32];
    if (!p->tty)
        return;
    double now = progress_now();
    /* bytes_total 0: a stream of unknown size (backup - without --size) */
    if (now - p->last < 0.2 && (pr->bytes_total == 0 || pr->bytes_done < pr->bytes_total))
        return;
    if (pr->bytes_total == 0) {
        p->last = now;
        double s0 = now - p->start > 0.001 ? now - p->start : 0.001;
        fprintf(stderr, "\r%s  %s of standard input  %s/s  %llu objects\033[K", pr->phase,
                cli_human(pr->bytes_done, done),
                cli_human((unsigned long long)((double)pr->bytes_done / s0), rate),
                (unsigned long long)pr->objects_done);
        p->shown = 1;
        return;
    }
    p->last = now;
    double pct = pr->bytes_total ? 100.0 * (double)pr->bytes_done / (double)pr->bytes_total : 100;
    double secs = now - p->start > 0.001 ? now - p->start : 0.001;
    fprintf(stderr, "\r%s %5.1f%%  %s of %s  %s/s  %llu objects\033[K", pr->phase, pct,
            cli_human(pr->bytes_done, done), cli_human(pr->bytes_total, total),
            cli_human((unsigned long long)((double)pr->bytes_done / secs), rate),
            (unsigned long long)pr->objects_done);
    p->shown = 1;
}

void cli_progress_done(cli_progress *p)
{
    if (p->shown)
        fputc('\n', stderr);
    p->shown = 0;
}
