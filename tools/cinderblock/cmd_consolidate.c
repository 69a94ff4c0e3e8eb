/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_consolidate.c: `consolidate BACKUP_ID`: a synthetic full backup, from the store alone. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "help_text.h"
#include "output.h"

#define consolidate_usage cli_help_consolidate /* docs/cinderblock.1.md, its ```help block */

enum { CO_NAME = 0x400, CO_DESCRIPTION, CO_COMPRESSION, CO_OBJECT_SIZE, CO_THREADS, CO_DELETE };

static int co_opt(cli *c, int opt, const char *arg, void *payload)
{
    cb_consolidate_opts *o = payload;
    unsigned long long n;
    switch (opt) {
    case CO_NAME:
        o->name = arg;
        return 0;
    case CO_DESCRIPTION:
        o->description = arg;
        return 0;
    case CO_COMPRESSION:
        o->compression = arg;
        return 0;
    case CO_OBJECT_SIZE:
        if (cli_parse_size(arg, &n) < 0 || n == 0 || n > 1ULL << 40)
            return cli_usage_error(c, consolidate_usage,
                                   "--object-size: '%s' is not a size (bytes, or with K, M, G)",
                                   arg);
        o->object_size = n;
        return 0;
    case CO_THREADS:
        if (cli_parse_size(arg, &n) < 0 || n == 0 || n > 1024)
            return cli_usage_error(c, consolidate_usage,
                                   "--threads: '%s' is not a number from 1 to 1024", arg);
        o->threads = (int)n;
        return 0;
    case CO_DELETE:
        o->delete_chain = 1;
        return 0;
    }
    return CLI_EXIT_USAGE;
}

/* What was made and what went: the new id on stdout (as backup prints it), or one summary. */
static void co_report(cli *c, const cb_backup_info *info, char **gone, size_t n_gone, double secs)
{
    if (c->json) {
        json_t *sum = json_object(), *arr = json_array();
        for (size_t k = 0; k < n_gone; k++)
            json_array_append_new(arr, json_string(gone[k]));
        json_object_set_new(sum, "backup", out_info_object(info));
        json_object_set_new(sum, "deleted", arr);
        json_object_set_new(sum, "elapsed_seconds", out_seconds(secs));
        out_summary(sum);
        return;
    }
    printf("%s\n", info->backup_id);
    out_backup_summary(c, info);
    for (size_t k = 0; k < n_gone; k++)
        cli_info(c, "deleted backup %s\n", gone[k]);
}

int cmd_consolidate(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "name", required_argument, NULL, CO_NAME },
        { "description", required_argument, NULL, CO_DESCRIPTION },
        { "compression", required_argument, NULL, CO_COMPRESSION },
        { "object-size", required_argument, NULL, CO_OBJECT_SIZE },
        { "threads", required_argument, NULL, CO_THREADS },
        { "delete-chain", no_argument, NULL, CO_DELETE },
        { NULL, 0, NULL, 0 }
    };
    cb_consolidate_opts o = CB_CONSOLIDATE_OPTS_INIT;
    cb_backup_info *info = NULL;
    cb_error err = { 0 };
    char *id = NULL, **gone = NULL;
    size_t n_gone = 0;
    cli_progress prog;
    int first, done;
    int rc = cli_parse(c, argc, argv, opts, NULL, co_opt, &o, consolidate_usage, &first, &done);
    if (rc != 0 || done)
        return rc;
    if (argc - first != 1)
        return cli_usage_error(c, consolidate_usage,
                               argc == first ? "consolidate: which BACKUP_ID?"
                                             : "consolidate: one BACKUP_ID only");
    if ((rc = cli_open_store(c)) != 0 || (rc = cli_resolve_id(c, argv[first], &id)) != 0)
        return rc;
    cli_progress_init(&prog, c);
    o.progress = cli_progress_fn;
    o.progress_payload = &prog;
    o.cancel = cli_cancel_hook;
    cli_signals_install();
    int crc = cb_consolidate(c->store, id, &o, &info, &gone, &n_gone, &err);
    cli_progress_done(&prog);
    if (info != NULL) /* committed, even when deleting the old chain then failed */
        co_report(c, info, gone, n_gone, cli_progress_elapsed(&prog));
    cb_backup_ids_free(gone, n_gone);
    cb_backup_info_free(info);
    return crc < 0 ? cli_fail(c, &err) : CLI_EXIT_OK;
}
