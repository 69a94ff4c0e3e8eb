/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_restore.c: `cinderblock restore BACKUP_ID TARGET`. */
#include <stdlib.h>

#include "cli.h"
#include "output.h"

static const char restore_usage[] =
    "Usage: cinderblock [--store URL] restore BACKUP_ID TARGET [--force] [--sparse]\n"
    "                   [--verify] [--threads N]\n"
    "Restore a backup (with its chain of parents) into TARGET: a regular file (created, or\n"
    "replaced only once every object verified) or a block device (at least the volume's size;\n"
    "never truncated). Every object's length is checked, and every block written against\n"
    "the backup's SHA-256 list (or, where the list cannot decide, the object's MD5). A new\n"
    "file's space is reserved before anything is written: too little space fails at once.\n"
    "A new file gets mode 0644 less the umask; a replaced file keeps its mode. A block\n"
    "device that is mounted or in use is refused.\n"
    "\n"
    "  --force       replace TARGET when it is an existing regular file (else refused)\n"
    "  --sparse      leave all-zero ranges of a regular file as holes (no reservation)\n"
    "  --verify      then read TARGET back from the disk and compare every sha block with\n"
    "                the backup's _sha256file (a full backup without one: each object's MD5)\n"
    "  --threads N   worker threads (default: the number of CPUs)\n";

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
    if ((rc = cli_open_store(c)) != 0)
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
        printf("{\"restored\": ");
        cli_json_string(stdout, argv[first]);
        printf(", \"target\": ");
        cli_json_string(stdout, argv[first + 1]);
        printf(", \"verified\": %s}\n", o.verify ? "true" : "false");
    } else {
        cli_info(c, "restored backup %s into %s%s\n", argv[first], argv[first + 1],
                 o.verify ? ", read it back and found it as backed up" : "");
    }
    return CLI_EXIT_OK;
}
