/* SPDX-License-Identifier: Apache-2.0 */
/* cli.h: what the cinderblock subcommands share: options, the store, output and exit codes. */
#ifndef CB_CLI_H
#define CB_CLI_H

#include <getopt.h>
#include <stdio.h>

#include <cinderblock/cb.h>

/* Exit codes (docs/cinderblock.1.md, EXIT STATUS; restic's where they overlap). Scripts
 * must treat any code not listed as a failure. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_SOURCE = 3,    /* the volume could not be read (or changed) during a backup */
    CLI_EXIT_NOTFOUND = 10, /* the store, a container or a backup does not exist */
    CLI_EXIT_LOCKED = 11,   /* a lock could not be taken */
    CLI_EXIT_AUTH = 12,     /* authentication failed */
    CLI_EXIT_DAMAGE = 13,   /* verification found damage */
    CLI_EXIT_INTERRUPTED = 130,
};

/* The exit code for a library status. */
int cli_exit_code(int status);

typedef struct cli {
    const char *prog;
    const char *command;
    const char *store_url; /* --store, or $CINDERBLOCK_STORE */
    int json;              /* --json: one JSON document on stdout */
    int verbose;           /* -v: +1, -q: -1 */
    cb_store_opts store_opts;
    cb_store *store;
} cli;

/* A command's own option: return 0 if handled, CLI_EXIT_USAGE on a bad value. */
typedef int (*cli_opt_fn)(cli *c, int opt, const char *arg, void *payload);

/*
 * Parse argv (argv[0] is the command name) with the command's options plus the global
 * ones. Positional arguments are left in argv[*first_pos .. argc-1].
 * @return 0, or an exit code (usage error, or 0-exit for --help which sets *done).
 */
int cli_parse(cli *c,
              int argc,
              char **argv,
              const struct option *cmd_opts,
              const char *shortopts,
              cli_opt_fn fn,
              void *payload,
              const char *usage,
              int *first_pos,
              int *done);

/* Open c->store from c->store_url; prints the error and returns an exit code on failure. */
int cli_open_store(cli *c);

/* Print "cinderblock: error: ..." (or a JSON error under --json) and return the exit code. */
int cli_fail(cli *c, const cb_error *err);
int cli_usage_error(cli *c, const char *usage, const char *fmt, ...) CB_PRINTF(3, 4);

/* Parse a duration in seconds: "90", "30s", "5m", "2h", "1d". */
int cli_parse_duration(const char *s, double *out);

/* Parse "123", "4K", "50M", "2G" (powers of 1024). */
int cli_parse_size(const char *s, unsigned long long *out);

/* Print the value as a JSON string literal to f. */
void cli_json_string(FILE *f, const char *s);

/* Informational message on stderr unless -q. */
void cli_info(const cli *c, const char *fmt, ...) CB_PRINTF(2, 3);

int cmd_check(cli *c, int argc, char **argv);

/* ---- shared by the data commands ---- */

/* SIGINT/SIGTERM set a flag the library polls (cancel hook); a second signal kills. */
void cli_signals_install(void);
int cli_cancel_hook(void *payload);

/* A progress line on stderr, only when stderr is a terminal and not -q. */
typedef struct cli_progress {
    const cli *c;
    int tty;
    double last; /* seconds (monotonic) of the last line */
    double start;
    int shown;
} cli_progress;
void cli_progress_init(cli_progress *p, const cli *c);
void cli_progress_fn(const cb_progress *pr, void *payload);
void cli_progress_done(cli_progress *p);

/* "1.5 GiB" */
const char *cli_human(unsigned long long bytes, char buf[32]);

int cmd_backup(cli *c, int argc, char **argv);
int cmd_restore(cli *c, int argc, char **argv);
int cmd_list(cli *c, int argc, char **argv);
int cmd_show(cli *c, int argc, char **argv);
int cmd_delete(cli *c, int argc, char **argv);
int cmd_export_record(cli *c, int argc, char **argv);
int cmd_import_record(cli *c, int argc, char **argv);
int cmd_unlock(cli *c, int argc, char **argv);
int cmd_cleanup(cli *c, int argc, char **argv);
int cmd_verify(cli *c, int argc, char **argv);
int cmd_init(cli *c, int argc, char **argv); /* the one command that may create a store */

#endif
