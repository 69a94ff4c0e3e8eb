/* SPDX-License-Identifier: Apache-2.0 */
/* cli.h: what the cinderblock subcommands share: options, the store, output and exit codes. */
#ifndef CB_CLI_H
#define CB_CLI_H

#include <getopt.h>
#include <stdio.h>

#include <cinderblock/cb.h>

#include "rate.h"

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
    int json;              /* --json: JSON on stdout (docs/json.md), errors as JSON on stderr */
    int verbose;           /* -v: +1, -q: -1 */
    int progress;          /* 1: --progress, -1: --no-progress, 0: when stderr is a terminal */
    cb_store_opts store_opts;
    cb_store *store;
    char **owned; /* strings kept until the command ends (resolved ids): cli_dispose() */
    size_t n_owned;
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

/* A bandwidth: a bare number is KiB/s; K, M, G (KiB, MiB, GiB per second; "20M", "20MiB",
 * "20MB/s"). Into bytes per second; -1 if it is none. */
int cli_parse_rate(const char *s, double *out);

/* Print the value as a JSON string literal to f. */
void cli_json_string(FILE *f, const char *s);

/* "cinderblock: warning: ..." on stderr, or a JSON warning line under --json. */
void cli_warn(const cli *c, const char *fmt, ...) CB_PRINTF(2, 3);

/* Informational message on stderr unless -q. */
void cli_info(const cli *c, const char *fmt, ...) CB_PRINTF(2, 3);

int cmd_check(cli *c, int argc, char **argv);

/* ---- shared by the data commands ---- */

/* SIGINT/SIGTERM set a flag the library polls (cancel hook); a second signal kills.
 * SIGUSR1 asks for one status line (cli_progress_fn prints it): cli_parse installs that
 * handler (cli_signals_usr1) for every command, so that none dies of it. */
void cli_signals_install(void);
void cli_signals_usr1(void);
int cli_cancel_hook(void *payload);

/* -v: "cinderblock: <what is done now>" on stderr (not under --json). */
void cli_step(const cli *c, const char *fmt, ...) CB_PRINTF(2, 3);

/*
 * Progress of a long command (backup, restore, verify): under --json, status lines on
 * stdout (docs/json.md), at most 4 a second; otherwise a line on stderr when it is a
 * terminal and not -q (--progress: always, one line per update when not a terminal;
 * --no-progress: never). SIGUSR1: one status line at once.
 */
typedef struct cli_progress {
    const cli *c;
    int human;   /* progress lines on stderr */
    int tty;     /* ... redrawn in place with \r */
    double last; /* seconds (monotonic) of the last line or status */
    double start;
    int shown;           /* a \r line is on the terminal */
    int statuses;        /* status lines printed (--json) */
    cb_progress cur;     /* the latest report */
    cb_progress printed; /* ... and the last one printed as a status (--json) */
    int have;
    const char *step; /* the last step said (-v) */
    cli_rate rate;    /* bytes_done over the last 10 s */
} cli_progress;
void cli_progress_init(cli_progress *p, const cli *c);
void cli_progress_fn(const cb_progress *pr, void *payload);
/* The end of the operation: a last status (--json), the terminal line ended. */
void cli_progress_done(cli_progress *p);
/* Seconds since cli_progress_init. */
double cli_progress_elapsed(const cli_progress *p);

/* "1.5 GiB" */
const char *cli_human(unsigned long long bytes, char buf[32]);

/* ---- ids.c: backup ids given whole or as a unique prefix (8 characters at least) ---- */

/*
 * `*full` is the whole id `arg` names, through cb_backup_resolve_id() (c->store open):
 * `arg` itself when it is whole or no id prefix at all (the command then names it), else a
 * string kept until cli_dispose(). Prints the error and returns an exit code on failure:
 * 2 for a prefix too short or ambiguous (the candidates named), 10 for one matching none.
 */
int cli_resolve_id(cli *c, const char *arg, char **full);
/* The same among interrupted backups (list --incomplete), for `backup --resume`. */
int cli_resolve_resume_id(cli *c, const char *arg, char **full);
/* Free what the command kept (main, after the command). */
void cli_dispose(cli *c);

int cmd_backup(cli *c, int argc, char **argv);
int cmd_restore(cli *c, int argc, char **argv);
int cmd_list(cli *c, int argc, char **argv);
int cmd_show(cli *c, int argc, char **argv);
int cmd_delete(cli *c, int argc, char **argv);
int cmd_export_record(cli *c, int argc, char **argv);
int cmd_import_record(cli *c, int argc, char **argv);
int cmd_cinder_migrate(cli *c, int argc, char **argv);
int cmd_unlock(cli *c, int argc, char **argv);
int cmd_cleanup(cli *c, int argc, char **argv);
int cmd_prune(cli *c, int argc, char **argv);
int cmd_consolidate(cli *c, int argc, char **argv);
int cmd_verify(cli *c, int argc, char **argv);
int cmd_init(cli *c, int argc, char **argv); /* the one command that may create a store */
int cmd_map(cli *c, int argc, char **argv);
int cmd_unmap(cli *c, int argc, char **argv);

/* ---- map_state.c: the running maps, one record each in the maps' directory ---- */

typedef struct map_record {
    char *backup_id;
    char *uri;    /* nbd+unix:///?socket=PATH or nbd://127.0.0.1:PORT */
    char *socket; /* or NULL */
    int port;     /* or 0 */
    char *device; /* /dev/nbdN attached, or NULL */
    char *log;    /* nbdkit's log */
    long pid;     /* nbdkit's */
    char *path;   /* the record: DIR/PID.json */
} map_record;

/* The maps' directory (docs/cinderblock.1.md, FILES), made (0700) if missing. */
int map_dir(char *out, size_t cap, cb_error *err);
/* 1 if `pid` is a live nbdkit. */
int map_pid_is_nbdkit(long pid);
/* Every readable record (stale ones too: map_pid_is_nbdkit tells). */
int map_records(map_record **out, size_t *n_out, cb_error *err);
void map_records_free(map_record *v, size_t n);
int map_record_write(const map_record *r, cb_error *err);
void map_record_dispose(map_record *r);
/* Remove the record, the log and a socket no nbdkit serves any more. */
void map_forget(const map_record *r);
/* The record as docs/json.md's map object (new reference). */
struct json_t;
struct json_t *map_record_json(const map_record *r);

#endif
