/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_restore.c: `cinderblock restore BACKUP_ID TARGET`. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "help_text.h"
#include "output.h"

#define restore_usage cli_help_restore /* docs/cinderblock.1.md, its ```help block */

enum { RS_SPARSE = 0x200, RS_THREADS, RS_VERIFY, RS_FORCE };

static const struct option restore_opts[] = {
    { "sparse", no_argument, NULL, RS_SPARSE },
    { "threads", required_argument, NULL, RS_THREADS },
    { "verify", no_argument, NULL, RS_VERIFY },
    { "force", no_argument, NULL, RS_FORCE },
    { NULL, 0, NULL, 0 },
};

static int restore_opt(cli *c, int opt, const char *arg, void *payload)
{
    cb_restore_opts *o = payload;
    unsigned long long n;
    if (opt == RS_SPARSE || opt == RS_VERIFY) {
        *(opt == RS_SPARSE ? &o->sparse : &o->verify) = 1;
        return 0;
    }
    if (opt == RS_FORCE) {
        o->overwrite = 1;
        return 0;
    }
    if (opt == RS_THREADS) {
        if (cli_parse_size(arg, &n) < 0 || n == 0 || n > 1024)
            return cli_usage_error(c, restore_usage,
                                   "--threads: '%s' is not a number from 1 to "
                                   "1024",
                                   arg);
        o->threads = (int)n;
        return 0;
    }
    return CLI_EXIT_USAGE;
}

/* TARGET names standard output (or another open descriptor): a stream (cb_restore). */
static int restore_is_stream(const char *target)
{
    return strcmp(target, "-") == 0 || strcmp(target, "/dev/stdout") == 0 ||
           strncmp(target, "/dev/fd/", 8) == 0;
}

/* A stream is written once, in order: what cannot apply to it is refused up front. */
static int restore_check_stream(cli *c, const cb_restore_opts *o, const char *target)
{
    if (!restore_is_stream(target))
        return 0;
    int fd = strcmp(target, "-") == 0 || strcmp(target, "/dev/stdout") == 0 ? 1 : atoi(target + 8);
    if (isatty(fd))
        return cli_usage_error(c, restore_usage,
                               "restore %s: standard output is a terminal: redirect it to a file "
                               "or a pipe (or give a TARGET file)",
                               target);
    if (o->sparse || o->verify)
        return cli_usage_error(c, restore_usage,
                               "restore %s: %s does not apply to a stream: it is written once, "
                               "in order, and cannot be read back",
                               target, o->verify ? "--verify" : "--sparse");
    if (c->json)
        return cli_usage_error(c, restore_usage,
                               "restore %s: --json cannot be given: standard output carries the "
                               "volume",
                               target);
    return 0;
}

int cmd_restore(cli *c, int argc, char **argv)
{
    cb_restore_opts o = CB_RESTORE_OPTS_INIT;
    cb_error err = { 0 };
    cli_progress prog;
    int first, done, rc;

    rc =
        cli_parse(c, argc, argv, restore_opts, NULL, restore_opt, &o, restore_usage, &first, &done);
    if (rc != 0 || done)
        return rc;
    if (argc - first != 2)
        return cli_usage_error(c, restore_usage, "restore: give BACKUP_ID and TARGET");
    if ((rc = restore_check_stream(c, &o, argv[first + 1])) != 0)
        return rc;
    if ((rc = cli_open_store(c)) != 0 || (rc = cli_resolve_id(c, argv[first], &argv[first])) != 0)
        return rc;
    cli_progress_init(&prog, c);
    o.progress = cli_progress_fn;
    o.progress_payload = &prog;
    o.cancel = cli_cancel_hook;
    cli_signals_install();
    int rrc = cb_restore(c->store, argv[first], argv[first + 1], &o, &err);
    cli_progress_done(&prog);
    if (rrc < 0)
        return cli_fail(c, &err);
    if (c->json) {
        json_t *sum = json_object();
        json_object_set_new(sum, "restored", json_string(argv[first]));
        json_object_set_new(sum, "target", json_string(argv[first + 1]));
        json_object_set_new(sum, "verified", json_boolean(o.verify));
        json_object_set_new(sum, "elapsed_seconds", out_seconds(cli_progress_elapsed(&prog)));
        out_summary(sum);
    } else {
        cli_info(c, "restored backup %s into %s%s\n", argv[first],
                 restore_is_stream(argv[first + 1]) ? "standard output" : argv[first + 1],
                 o.verify ? ", read it back and found it as backed up" : "");
    }
    return CLI_EXIT_OK;
}
