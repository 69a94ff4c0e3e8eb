/* SPDX-License-Identifier: Apache-2.0 */
/* progress.c: signals that cancel cleanly, and the progress line on a terminal. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "output.h"

/* The CLI is one operation per process; a signal handler can only reach a global. */
static volatile sig_atomic_t progress_interrupted;
static volatile sig_atomic_t progress_usr1;

static void progress_on_signal(int sig)
{
    (void)sig;
    progress_interrupted = 1;
}

static void progress_on_usr1(int sig)
{
    (void)sig;
    progress_usr1 = 1;
}

void cli_signals_usr1(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = progress_on_usr1;
    sa.sa_flags = SA_RESTART; /* a status request must not fail a read or a write */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
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
    /* SIGUSR1: cli_parse installed it for every command */
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

void cli_step(const cli *c, const char *fmt, ...)
{
    va_list ap;
    if (c->verbose <= 0 || c->json)
        return;
    fprintf(stderr, "%s: ", c->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cli_progress_init(cli_progress *p, const cli *c)
{
    memset(p, 0, sizeof(*p));
    p->c = c;
    p->tty = isatty(STDERR_FILENO);
    if (c->json || c->progress < 0)
        p->human = 0; /* under --json, stderr carries nothing but an error */
    else if (c->progress > 0)
        p->human = 1;
    else
        p->human = p->tty && c->verbose >= 0;
    p->start = progress_now();
    cli_rate_init(&p->rate, 10.0, 0.25);
}

double cli_progress_elapsed(const cli_progress *p)
{
    return progress_now() - p->start;
}

/* "1:02:03" or "2:03" */
static const char *progress_clock(long long secs, char buf[32])
{
    if (secs < 0)
        snprintf(buf, 32, "--:--");
    else if (secs >= 3600)
        snprintf(buf, 32, "%lld:%02lld:%02lld", secs / 3600, secs / 60 % 60, secs % 60);
    else
        snprintf(buf, 32, "%lld:%02lld", secs / 60, secs % 60);
    return buf;
}

static double progress_percent(const cb_progress *pr)
{
    if (pr->bytes_total == 0)
        return 0;
    double v = 100.0 * (double)pr->bytes_done / (double)pr->bytes_total;
    return v > 100 ? 100 : v;
}

/* The human line, without its ending. */
static void progress_line(cli_progress *p, FILE *f)
{
    const cb_progress *pr = &p->cur;
    char done[32], total[32], rate[32], eta[32], zero[32], same[32];
    double r = cli_rate_value(&p->rate);
    fprintf(f, "%s %5.1f%%  %s of %s  %s/s  ETA %s  %llu objects",
            pr->phase ? pr->phase : "progress", progress_percent(pr),
            cli_human(pr->bytes_done, done), cli_human(pr->bytes_total, total),
            r < 0 ? "-" : cli_human((unsigned long long)r, rate),
            progress_clock(cli_rate_eta(&p->rate, pr->bytes_done, pr->bytes_total), eta),
            (unsigned long long)pr->objects_done);
    if (pr->bytes_zero || pr->bytes_unchanged) {
        fprintf(f, "  skipped");
        if (pr->bytes_zero)
            fprintf(f, " %s zero", cli_human(pr->bytes_zero, zero));
        if (pr->bytes_unchanged)
            fprintf(f, "%s %s unchanged", pr->bytes_zero ? "," : "",
                    cli_human(pr->bytes_unchanged, same));
    }
}

static void progress_status_json(cli_progress *p)
{
    const cb_progress *pr = &p->cur;
    double r = cli_rate_value(&p->rate);
    long long eta = cli_rate_eta(&p->rate, pr->bytes_done, pr->bytes_total);
    json_t *o = json_object();
    json_object_set_new(o, "message_type", json_string("status"));
    json_object_set_new(o, "phase", json_string(pr->phase ? pr->phase : "progress"));
    json_object_set_new(o, "step", pr->step ? json_string(pr->step) : json_null());
    json_object_set_new(o, "bytes_done", json_integer((json_int_t)pr->bytes_done));
    json_object_set_new(o, "bytes_total", json_integer((json_int_t)pr->bytes_total));
    json_object_set_new(o, "bytes_stored", json_integer((json_int_t)pr->bytes_stored));
    json_object_set_new(o, "objects_done", json_integer((json_int_t)pr->objects_done));
    json_object_set_new(o, "bytes_zero", json_integer((json_int_t)pr->bytes_zero));
    json_object_set_new(o, "bytes_unchanged", json_integer((json_int_t)pr->bytes_unchanged));
    json_object_set_new(o, "percent_done", json_real(progress_percent(pr)));
    json_object_set_new(o, "rate", json_integer(r < 0 ? 0 : (json_int_t)r));
    json_object_set_new(o, "eta_seconds", eta < 0 ? json_null() : json_integer(eta));
    json_object_set_new(o, "elapsed_seconds", out_seconds(cli_progress_elapsed(p)));
    out_json(o);
    fflush(stdout);
    p->statuses++;
    p->printed = p->cur;
}

/* SIGUSR1: one status, whatever the throttle and the terminal. */
static void progress_usr1_status(cli_progress *p)
{
    if (p->c->json) {
        progress_status_json(p);
        return;
    }
    if (p->shown) {
        fputs("\r\033[K", stderr);
        p->shown = 0;
    }
    progress_line(p, stderr);
    fputc('\n', stderr);
}

void cli_progress_fn(const cb_progress *pr, void *payload)
{
    cli_progress *p = payload;
    double now = progress_now();
    p->cur = *pr;
    p->have = 1;
    cli_rate_add(&p->rate, now - p->start, pr->bytes_done);
    if (pr->step != NULL && (p->step == NULL || strcmp(pr->step, p->step) != 0)) {
        p->step = pr->step; /* the library's strings are static */
        if (p->c->verbose > 0 && !p->c->json) {
            if (p->shown)
                fputs("\r\033[K", stderr);
            p->shown = 0;
            cli_step(p->c, "%s", pr->step);
        }
    }
    if (progress_usr1) {
        progress_usr1 = 0;
        progress_usr1_status(p);
    }
    if (p->c->json) { /* the first after 0.25 s: a quick failure prints its error only */
        if (now - (p->last > 0 ? p->last : p->start) >= 0.25) {
            p->last = now;
            progress_status_json(p);
        }
        return;
    }
    if (!p->human)
        return;
    /* a terminal is redrawn 5 times a second; a file or a pipe gets a line a second */
    if (now - p->last < (p->tty ? 0.2 : 1.0) && p->shown)
        return;
    if (!p->tty && now - p->last < 1.0 && p->last > 0)
        return;
    p->last = now;
    if (p->tty)
        fputc('\r', stderr);
    progress_line(p, stderr);
    if (p->tty) {
        fputs("\033[K", stderr);
        p->shown = 1;
    } else {
        fputc('\n', stderr);
    }
}

void cli_progress_done(cli_progress *p)
{
    /* the last status, when the operation got to its end (a failure has its error) */
    int end = p->have && p->cur.bytes_total > 0 && p->cur.bytes_done >= p->cur.bytes_total;
    if (p->c->json && end &&
        (p->statuses == 0 || p->printed.bytes_done != p->cur.bytes_done ||
         p->printed.objects_done != p->cur.objects_done ||
         p->printed.bytes_stored != p->cur.bytes_stored)) {
        cli_rate_add(&p->rate, progress_now() - p->start, p->cur.bytes_done);
        progress_status_json(p);
    }
    if (p->shown)
        fputc('\n', stderr);
    p->shown = 0;
}
