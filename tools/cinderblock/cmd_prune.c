/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_prune.c: `prune`: restic's forget --keep-* policy and prune in one, per volume. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "help_text.h"
#include "output.h"

#define prune_usage cli_help_prune /* docs/cinderblock.1.md, its ```help block */

enum {
    PR_LAST = 0x300,
    PR_HOURLY,
    PR_DAILY,
    PR_WEEKLY,
    PR_MONTHLY,
    PR_YEARLY,
    PR_WITHIN,
    PR_NAME,
    PR_VOLUME,
    PR_DRY,
    PR_CONSOLIDATE,
    PR_THREADS,
    PR_GRACE
};

#define PR_MAX_NAMES 64

typedef struct pr_args {
    cb_prune_opts o;
    const char *names[PR_MAX_NAMES];
} pr_args;

static int pr_count(cli *c, const char *opt, const char *arg, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(arg, &end, 10);
    if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || v == 0 || v > INT_MAX)
        return cli_usage_error(c, prune_usage, "%s: '%s' is not a count (1 or more)", opt, arg);
    *out = (unsigned)v;
    return 0;
}

static int pr_opt(cli *c, int opt, const char *arg, void *payload)
{
    pr_args *a = payload;
    double d;
    switch (opt) {
    case PR_LAST:
        return pr_count(c, "--keep-last", arg, &a->o.keep_last);
    case PR_HOURLY:
        return pr_count(c, "--keep-hourly", arg, &a->o.keep_hourly);
    case PR_DAILY:
        return pr_count(c, "--keep-daily", arg, &a->o.keep_daily);
    case PR_WEEKLY:
        return pr_count(c, "--keep-weekly", arg, &a->o.keep_weekly);
    case PR_MONTHLY:
        return pr_count(c, "--keep-monthly", arg, &a->o.keep_monthly);
    case PR_YEARLY:
        return pr_count(c, "--keep-yearly", arg, &a->o.keep_yearly);
    case PR_WITHIN:
        if (cli_parse_duration(arg, &d) < 0 || d < 1)
            return cli_usage_error(
                c, prune_usage, "--keep-within: '%s' is not a duration (like 90, 5m, 2h, 7d)", arg);
        a->o.keep_within = (int64_t)d;
        return 0;
    case PR_NAME:
        if (arg[0] == '\0' || a->o.n_keep_names >= PR_MAX_NAMES)
            return cli_usage_error(c, prune_usage, "--keep-name: '%s': empty, or more than %d", arg,
                                   PR_MAX_NAMES);
        a->names[a->o.n_keep_names++] = arg;
        return 0;
    case PR_VOLUME:
        a->o.volume_id = arg;
        return 0;
    case PR_DRY:
        a->o.dry_run = 1;
        return 0;
    case PR_CONSOLIDATE:
        a->o.consolidate = 1;
        return 0;
    case PR_THREADS: {
        unsigned long long n;
        if (cli_parse_size(arg, &n) < 0 || n == 0 || n > 1024)
            return cli_usage_error(c, prune_usage, "--threads: '%s' is not a number from 1 to 1024",
                                   arg);
        a->o.threads = (int)n;
        return 0;
    }
    case PR_GRACE:
        if (cli_parse_duration(arg, &d) < 0)
            return cli_usage_error(c, prune_usage,
                                   "--leftover-grace: '%s' is not a duration (like 90, 5m, 2h, 1d)",
                                   arg);
        a->o.leftover_grace = d > 0 ? d : 1e-9; /* 0: every leftover, as cleanup's 0 */
        return 0;
    }
    return CLI_EXIT_USAGE;
}

static const char *pr_action(const cb_prune_item *it)
{
    return it->action == CB_PRUNE_CONSOLIDATE ? "consolidate"
           : it->action == CB_PRUNE_KEEP      ? "keep"
                                              : "delete";
}

static json_t *pr_str(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

int cmd_prune(cli *c, int argc, char **argv)
{
    static const struct option opts[] = { { "keep-last", required_argument, NULL, PR_LAST },
                                          { "keep-hourly", required_argument, NULL, PR_HOURLY },
                                          { "keep-daily", required_argument, NULL, PR_DAILY },
                                          { "keep-weekly", required_argument, NULL, PR_WEEKLY },
                                          { "keep-monthly", required_argument, NULL, PR_MONTHLY },
                                          { "keep-yearly", required_argument, NULL, PR_YEARLY },
                                          { "keep-within", required_argument, NULL, PR_WITHIN },
                                          { "keep-name", required_argument, NULL, PR_NAME },
                                          { "volume-id", required_argument, NULL, PR_VOLUME },
                                          { "dry-run", no_argument, NULL, PR_DRY },
                                          { "consolidate", no_argument, NULL, PR_CONSOLIDATE },
                                          { "threads", required_argument, NULL, PR_THREADS },
                                          { "leftover-grace", required_argument, NULL, PR_GRACE },
                                          { NULL, 0, NULL, 0 } };
    pr_args a = { .o = CB_PRUNE_OPTS_INIT };
    cb_prune_plan *p = NULL;
    cb_error err = { 0 };
    int first, done, rc;
    a.o.keep_names = a.names;
    rc = cli_parse(c, argc, argv, opts, NULL, pr_opt, &a, prune_usage, &first, &done);
    if (rc != 0 || done)
        return rc;
    if (first != argc)
        return cli_usage_error(c, prune_usage, "prune: unexpected argument '%s'", argv[first]);
    if (a.o.keep_last == 0 && a.o.keep_hourly == 0 && a.o.keep_daily == 0 && a.o.keep_weekly == 0 &&
        a.o.keep_monthly == 0 && a.o.keep_yearly == 0 && a.o.keep_within == 0 &&
        a.o.n_keep_names == 0)
        return cli_usage_error(c, prune_usage,
                               "prune: no --keep-* rule given: that would delete every backup");
    if ((rc = cli_open_store(c)) != 0)
        return rc;
    cli_progress prog;
    cli_progress_init(&prog, c);
    a.o.progress = c->json ? NULL : cli_progress_fn; /* --json: one document, no status */
    a.o.progress_payload = &prog;
    a.o.cancel = cli_cancel_hook;
    cli_signals_install();
    rc = cb_prune(c->store, &a.o, &p, &err);
    cli_progress_done(&prog);
    if (rc < 0 && p == NULL)
        return cli_fail(c, &err);
    if (c->json) {
        json_t *o = json_object(), *arr = json_array();
        for (size_t i = 0; i < p->n; i++) {
            const cb_prune_item *it = &p->items[i];
            json_t *e = json_object();
            json_object_set_new(e, "id", json_string(it->backup_id));
            json_object_set_new(e, "volume_id", pr_str(it->volume_id));
            json_object_set_new(e, "parent_id", pr_str(it->parent_id));
            json_object_set_new(e, "created_at", out_time(it->created_at));
            json_object_set_new(e, "action", json_string(pr_action(it)));
            json_object_set_new(e, "new_full", pr_str(it->new_full));
            json_object_set_new(e, "deleted", json_boolean(it->deleted));
            json_object_set_new(e, "reason", json_string(it->reason));
            json_array_append_new(arr, e);
        }
        json_object_set_new(o, "plan", arr);
        json_object_set_new(o, "dry_run", json_boolean(p->dry_run));
        json_object_set_new(o, "kept", json_integer((json_int_t)p->n_keep));
        json_object_set_new(o, "deleted", json_integer((json_int_t)p->n_deleted));
        json_object_set_new(o, "consolidated", json_integer((json_int_t)p->n_consolidated));
        json_object_set_new(o, "leftovers_removed", json_integer((json_int_t)p->n_leftovers));
        out_json(o);
    } else {
        printf("%-36s  %-36s  %-25s  %-11s  %s\n", "ID", "VOLUME", "CREATED", "ACTION", "REASON");
        for (size_t i = 0; i < p->n; i++) {
            const cb_prune_item *it = &p->items[i];
            char created[32];
            printf("%-36s  %-36s  %-25s  %-11s  %s\n", it->backup_id,
                   it->volume_id ? it->volume_id : "-", out_time_text(it->created_at, created),
                   pr_action(it), it->reason);
        }
        for (size_t i = 0; i < p->n; i++)
            if (p->items[i].new_full != NULL)
                cli_info(c, "consolidated backup %s into new full backup %s\n",
                         p->items[i].backup_id, p->items[i].new_full);
        if (p->dry_run)
            cli_info(c,
                     "would keep %zu (consolidating %zu), would delete %zu backup(s); %zu "
                     "leftover(s) of %llu objects would be removed\n",
                     p->n_keep, p->n_consolidate, p->n_delete, p->n_leftovers,
                     (unsigned long long)p->leftover_objects);
        else
            cli_info(c,
                     "kept %zu (consolidated %zu), deleted %zu backup(s); removed %zu "
                     "leftover(s) of %llu objects\n",
                     p->n_keep, p->n_consolidated, p->n_deleted, p->n_leftovers,
                     (unsigned long long)p->leftover_objects);
    }
    cb_prune_plan_free(p);
    return rc < 0 ? cli_fail(c, &err) : CLI_EXIT_OK;
}
