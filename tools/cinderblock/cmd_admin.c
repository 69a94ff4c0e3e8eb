/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_admin.c: `unlock` and `cleanup`: what crashed or killed commands leave in a store. */
#include <stdlib.h>

#include "cli.h"
#include "output.h"

static const char unlock_usage[] =
    "Usage: cinderblock [--store URL] unlock [--force]\n"
    "Remove stale locks: expired ones, and those of processes of this host that are gone.\n"
    "\n"
    "  --force   remove every lock, also those that look alive: only when you know that\n"
    "            their commands are gone (a command whose lock is removed stops)\n";

static const char cleanup_usage[] =
    "Usage: cinderblock [--store URL] cleanup [--older-than DURATION] [--dry-run]\n"
    "Remove what belongs to no committed backup (see `list --incomplete`): the objects of\n"
    "killed or interrupted backups and of half-finished deletes, objects a committed\n"
    "backup's metadata does not list, and records of backups in progress that are gone.\n"
    "Takes the store's exclusive lock; never touches a committed backup's objects.\n"
    "\n"
    "  --older-than DURATION  only leftovers whose newest object is older (default 1h;\n"
    "                         like 90, 30s, 5m, 2h, 1d; 0 for all)\n"
    "  --dry-run              list what would be removed, remove nothing (and take no\n"
    "                         lock)\n";

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
