/* SPDX-License-Identifier: Apache-2.0 */
/* main.c: cinderblock's entry point: global options, then one subcommand. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char main_usage[] =
    "Usage: cinderblock [--store URL] [--json] [-v|-q] COMMAND [ARGS...]\n"
    "\n"
    "Chunked, incremental backups of block volumes into object stores, in OpenStack\n"
    "Cinder's chunked-backup format 1.0.0.\n"
    "\n"
    "Commands:\n"
    "  init                       create a store (every other command needs one that exists)\n"
    "  backup VOLUME              back up a disk image or block device; prints the backup id\n"
    "  restore BACKUP_ID TARGET   restore a backup (and its chain) into a file or device\n"
    "  verify BACKUP_ID...|--all  check backups (--read-data: their data objects too)\n"
    "  list [--volume-id UUID]    every backup in the store\n"
    "  show BACKUP_ID             one backup in full\n"
    "  delete BACKUP_ID           delete a backup (--cascade: and what depends on it)\n"
    "  export-record BACKUP_ID    the record `cinder backup-import` takes\n"
    "  import-record SERVICE URL  accept a record from `cinder backup-export`\n"
    "  check                      check the store's configuration and reachability\n"
    "  cleanup                    remove what belongs to no committed backup\n"
    "  unlock [--force]           remove stale locks (--force: all)\n"
    "\n"
    "Global options:\n"
    "  --store URL                the store: PATH, posix:PATH, file://PATH, swift://CONTAINER,\n"
    "                             s3://BUCKET (default: $CINDERBLOCK_STORE)\n"
    "  --json                     print one JSON document on stdout\n"
    "  -v, --verbose              say more; -q, --quiet: say less\n"
    "  --no-create-container      fail instead of creating a missing container or bucket\n"
    "  --availability-zone AZ     zone in object-store prefixes (default: nova)\n"
    "  --ca-file FILE             CA bundle for TLS; --insecure: do not verify servers\n"
    "  --retries N                attempts per request (default: 3)\n"
    "  --retry-backoff SECONDS    first retry delay, doubled each time (default: 2)\n"
    "  --timeout SECONDS          a stalled transfer fails after this long (default: 120)\n"
    "  --storage-policy NAME      Swift storage policy for new containers\n"
    "  --retry-lock DURATION      wait this long for a lock another command holds\n"
    "                             (like 90, 30s, 5m, 2h; default: fail at once)\n"
    "  --lock-host NAME           the host name in this command's locks\n"
    "  --no-lock                  take no locks (a store that nothing writes meanwhile)\n"
    "  --help                     this text; COMMAND --help: the command's own\n"
    "  --version                  print the version\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error, 3 the volume could not be read,\n"
    "10 no such store or backup, 11 locked, 12 authentication failed, 13 damage found,\n"
    "130 interrupted; any other status is a failure too.\n";

typedef struct command {
    const char *name;
    int (*run)(cli *c, int argc, char **argv);
} command;

static const command main_commands[] = {
    { "backup", cmd_backup },
    { "restore", cmd_restore },
    { "verify", cmd_verify },
    { "list", cmd_list },
    { "show", cmd_show },
    { "delete", cmd_delete },
    { "export-record", cmd_export_record },
    { "import-record", cmd_import_record },
    { "check", cmd_check },
    { "unlock", cmd_unlock },
    { "cleanup", cmd_cleanup },
    { "init", cmd_init },
};

static int main_opt(cli *c, int opt, const char *arg, void *payload)
{
    (void)c;
    (void)arg;
    if (opt != 'V')
        return CLI_EXIT_USAGE;
    *(int *)payload = 1;
    return 0;
}

int main(int argc, char **argv)
{
    cli c = { .prog = "cinderblock", .store_opts = CB_STORE_OPTS_INIT };
    static const struct option version_opt[] = { { "version", no_argument, NULL, 'V' },
                                                 { NULL, 0, NULL, 0 } };
    int first, done, rc, want_version = 0;

    rc = cli_parse(&c, argc, argv, version_opt, "V", main_opt, &want_version, main_usage, &first,
                   &done);
    if (rc != 0 || done)
        return rc;
    if (want_version) {
        printf("cinderblock %s\n", cb_version_string());
        return CLI_EXIT_OK;
    }
    if (first >= argc)
        return cli_usage_error(&c, main_usage, "no command given");
    const char *name = argv[first];
    for (size_t i = 0; i < sizeof(main_commands) / sizeof(main_commands[0]); i++) {
        if (strcmp(main_commands[i].name, name) != 0)
            continue;
        c.command = name;
        rc = main_commands[i].run(&c, argc - first, argv + first);
        cb_store_free(c.store);
        return rc;
    }
    return cli_usage_error(&c, main_usage, "unknown command '%s'", name);
}
