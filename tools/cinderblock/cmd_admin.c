/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_admin.c: `unlock` and `cleanup`: what crashed or killed commands leave in a store. */
#include <stdlib.h>

#include "cli.h"
#include "help_text.h"
#include "output.h"

#define unlock_usage cli_help_unlock /* docs/cinderblock.1.md, its ```help block */

#define cleanup_usage cli_help_cleanup /* docs/cinderblock.1.md, its ```help block */

enum { ADM_FORCE = 0x200, ADM_OLDER, ADM_DRY };

typedef struct adm_args {
    unsigned flags;
    double older_than;
} adm_args;

static int adm_opt(cli *c, int opt, const char *arg, void *payload)
{
    adm_args *a = payload;
    switch (opt) {
    case ADM_FORCE:
        a->flags |= CB_UNLOCK_ALL;
        return 0;
    case ADM_DRY:
        a->flags |= CB_CLEANUP_DRY_RUN;
        return 0;
    case ADM_OLDER:
        if (cli_parse_duration(arg, &a->older_than) < 0)
            return cli_usage_error(c, cleanup_usage,
                                   "--older-than: '%s' is not a duration (like 90, 30s, 5m, 2h)",
                                   arg);
        return 0;
    }
    return CLI_EXIT_USAGE;
}

/* Parse a command without positional arguments and open the store. */
static int
adm_begin(cli *c, int argc, char **argv, const struct option *opts, adm_args *a, const char *usage)
{
    int first, done;
    int rc = cli_parse(c, argc, argv, opts, NULL, adm_opt, a, usage, &first, &done);
    if (rc != 0 || done)
        return rc ? rc : -1;
    if (first != argc)
        return cli_usage_error(c, usage, "%s: unexpected argument '%s'", argv[0], argv[first]);
    return cli_open_store(c);
}

int cmd_unlock(cli *c, int argc, char **argv)
{
    static const struct option opts[] = { { "force", no_argument, NULL, ADM_FORCE },
                                          { NULL, 0, NULL, 0 } };
    adm_args a = { 0 };
    cb_lock_info *v = NULL;
    size_t n = 0;
    cb_error err = { 0 };
    int rc = adm_begin(c, argc, argv, opts, &a, unlock_usage);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (cb_unlock(c->store, a.flags, &v, &n, &err) < 0)
        return cli_fail(c, &err);
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "removed", out_locks_json(v, n));
        out_json(o);
    } else {
        out_locks_text(c, "removed", v, n);
        cli_info(c, "%zu lock(s) removed\n", n);
    }
    cb_lock_info_free_array(v, n);
    return CLI_EXIT_OK;
}

int cmd_cleanup(cli *c, int argc, char **argv)
{
    static const struct option opts[] = { { "older-than", required_argument, NULL, ADM_OLDER },
                                          { "dry-run", no_argument, NULL, ADM_DRY },
                                          { NULL, 0, NULL, 0 } };
    adm_args a = { .older_than = 3600 };
    cb_leftover *v = NULL;
    size_t n = 0;
    cb_error err = { 0 };
    int rc = adm_begin(c, argc, argv, opts, &a, cleanup_usage);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    cli_signals_install();
    if (cb_cleanup(c->store, a.older_than, a.flags, &v, &n, &err) < 0)
        return cli_fail(c, &err);
    int dry = (a.flags & CB_CLEANUP_DRY_RUN) != 0;
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, dry ? "would_remove" : "removed", out_leftovers_json(v, n));
        json_object_set_new(o, "dry_run", json_boolean(dry));
        out_json(o);
    } else {
        if (n > 0)
            out_leftovers_table(v, n);
        cli_info(c, "%s %zu leftover(s)\n", dry ? "would remove" : "removed", n);
    }
    cb_leftover_free_array(v, n);
    return CLI_EXIT_OK;
}
