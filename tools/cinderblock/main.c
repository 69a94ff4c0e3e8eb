/* SPDX-License-Identifier: Apache-2.0 */
/* main.c: cinderblock's entry point: global options, then one subcommand. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "help_text.h"
#include "output.h"

#define main_usage cli_help_main /* docs/cinderblock.1.md, its ```help block */

/* `version` and `--version`: the text, or {"version": ...} under --json. */
static int main_version(const cli *c)
{
    if (c->json)
        out_json(json_pack("{s:s}", "version", cb_version_string()));
    else
        printf("cinderblock %s\n", cb_version_string());
    return CLI_EXIT_OK;
}

static int cmd_version(cli *c, int argc, char **argv)
{
    int first, done, rc;
    rc = cli_parse(c, argc, argv, NULL, NULL, NULL, NULL, cli_help_version, &first, &done);
    if (rc != 0 || done)
        return rc;
    if (first != argc)
        return cli_usage_error(c, cli_help_version, "version: unexpected argument '%s'",
                               argv[first]);
    return main_version(c);
}

/* `help [COMMAND]`: the same texts as --help. */
/* A help text, or under --json {"command": NAME or null, "text": ...}. */
static int help_print(const cli *c, const char *command, const char *text)
{
    if (c->json)
        out_json(json_pack("{s:s?,s:s}", "command", command, "text", text));
    else
        fputs(text, stdout);
    return CLI_EXIT_OK;
}

static int cmd_help(cli *c, int argc, char **argv)
{
    int first, done, rc;
    rc = cli_parse(c, argc, argv, NULL, NULL, NULL, NULL, cli_help_help, &first, &done);
    if (rc != 0 || done)
        return rc;
    if (argc - first > 1)
        return cli_usage_error(c, cli_help_help, "help: give at most one COMMAND");
    if (first == argc)
        return help_print(c, NULL, cli_help_main);
    for (size_t i = 0; i < cli_help_n_commands; i++) {
        if (strcmp(cli_help_commands[i].name, argv[first]) == 0) {
            return help_print(c, argv[first], cli_help_commands[i].text);
        }
    }
    return cli_usage_error(c, NULL, "help: unknown command '%s' (`cinderblock help` lists them)",
                           argv[first]);
}

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
    { "cinder-migrate", cmd_cinder_migrate },
    { "check", cmd_check },
    { "unlock", cmd_unlock },
    { "cleanup", cmd_cleanup },
    { "prune", cmd_prune },
    { "consolidate", cmd_consolidate },
    { "map", cmd_map },
    { "unmap", cmd_unmap },
    { "init", cmd_init },
    { "help", cmd_help },
    { "version", cmd_version },
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
    if (want_version)
        return main_version(&c);
    if (first >= argc)
        return cli_usage_error(&c, main_usage, "no command given");
    const char *name = argv[first];
    for (size_t i = 0; i < sizeof(main_commands) / sizeof(main_commands[0]); i++) {
        if (strcmp(main_commands[i].name, name) != 0)
            continue;
        c.command = name;
        rc = main_commands[i].run(&c, argc - first, argv + first);
        cb_store_free(c.store);
        cli_dispose(&c);
        return rc;
    }
    return cli_usage_error(&c, main_usage, "unknown command '%s'", name);
}
