/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_catalog.c: `list`, `show` and `delete`: the backups in a store. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"

static const char list_usage[] =
    "Usage: cinderblock [--store URL] list [--volume-id UUID] [--incomplete]\n"
    "List every backup in the store, oldest first.\n"
    "\n"
    "  --volume-id UUID  only the backups of this volume\n"
    "  --incomplete      instead: what belongs to no committed backup (interrupted or killed\n"
    "                    backups, half-finished deletes, stray objects); `cleanup` removes it\n";
static const char show_usage[] = "Usage: cinderblock [--store URL] show BACKUP_ID\n"
                                 "Show one backup in full.\n";
static const char delete_usage[] =
    "Usage: cinderblock [--store URL] delete BACKUP_ID [--cascade] [--dry-run]\n"
    "Delete a backup (its _metadata first, so a half-deleted backup never looks complete).\n"
    "A backup that incremental backups depend on is refused unless --cascade is given, which\n"
    "deletes those first, newest first.\n"
    "\n"
    "  --cascade   also delete the backups that depend on it\n"
    "  --dry-run   list what would be deleted (with --cascade: all of it), delete nothing\n";

enum { CAT_VOLUME_ID = 0x200, CAT_CASCADE, CAT_INCOMPLETE, CAT_DRY_RUN };

typedef struct list_args {
    const char *volume_id;
    int incomplete;
} list_args;

static int list_opt(cli *c, int opt, const char *arg, void *payload)
{
    list_args *a = payload;
    (void)c;
    if (opt == CAT_INCOMPLETE) {
        a->incomplete = 1;
        return 0;
    }
    if (opt != CAT_VOLUME_ID)
        return CLI_EXIT_USAGE;
    a->volume_id = arg;
    return 0;
}

static int list_incomplete(cli *c)
{
    cb_leftover *v = NULL;
    size_t n = 0;
    cb_error err = { 0 };
    if (cb_leftover_list(c->store, &v, &n, &err) < 0)
        return cli_fail(c, &err);
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "incomplete", out_leftovers_json(v, n));
        out_json(o);
    } else {
        out_leftovers_table(v, n);
    }
    cb_leftover_free_array(v, n);
    return CLI_EXIT_OK;
}

int cmd_list(cli *c, int argc, char **argv)
{
    static const struct option opts[] = { { "volume-id", required_argument, NULL, CAT_VOLUME_ID },
                                          { "incomplete", no_argument, NULL, CAT_INCOMPLETE },
                                          { NULL, 0, NULL, 0 } };
    list_args a = { 0 };
    cb_backup_info **v = NULL;
    size_t n = 0;
    cb_error err = { 0 };
    int first, done, rc;

    rc = cli_parse(c, argc, argv, opts, NULL, list_opt, &a, list_usage, &first, &done);
    if (rc != 0 || done)
        return rc;
    if (first != argc)
        return cli_usage_error(c, list_usage, "list: unexpected argument '%s'", argv[first]);
    if ((rc = cli_open_store(c)) != 0)
        return rc;
    if (a.incomplete)
        return list_incomplete(c);
    if (cb_backup_list(c->store, a.volume_id, &v, &n, &err) < 0)
        return cli_fail(c, &err);
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, out_info_object(v[i]));
        json_t *o = json_object();
        json_object_set_new(o, "backups", arr);
        out_json(o);
    } else {
        out_list_table(v, n);
    }
    cb_backup_info_free_array(v, n);
    return CLI_EXIT_OK;
}

/* Commands that take exactly one BACKUP_ID. */
static int cat_one_id(cli *c,
                      int argc,
                      char **argv,
                      const struct option *opts,
                      cli_opt_fn fn,
                      void *payload,
                      const char *usage,
                      const char **id)
{
    int first, done, rc;
    rc = cli_parse(c, argc, argv, opts, NULL, fn, payload, usage, &first, &done);
    if (rc != 0 || done)
        return rc ? rc : -1;
    if (argc - first != 1)
        return cli_usage_error(c, usage, "%s: give one BACKUP_ID", argv[0]);
    *id = argv[first];
    return cli_open_store(c);
}

int cmd_show(cli *c, int argc, char **argv)
{
    const char *id;
    cb_backup_info *b = NULL;
    cb_error err = { 0 };
    int rc = cat_one_id(c, argc, argv, NULL, NULL, NULL, show_usage, &id);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (cb_backup_show(c->store, id, &b, &err) < 0)
        return cli_fail(c, &err);
    if (c->json)
        out_info_json(b, "backup");
    else
        out_show_text(b);
    cb_backup_info_free(b);
    return CLI_EXIT_OK;
}

static int delete_opt(cli *c, int opt, const char *arg, void *payload)
{
    (void)c;
    (void)arg;
    if (opt != CAT_CASCADE && opt != CAT_DRY_RUN)
        return CLI_EXIT_USAGE;
    *(unsigned *)payload |= opt == CAT_CASCADE ? CB_DELETE_CASCADE : CB_DELETE_DRY_RUN;
    return 0;
}

/* delete --dry-run: what would go, in the order it would, and nothing else */
static int delete_dry_run(cli *c, const char *id, unsigned flags)
{
    cb_backup_info **v = NULL;
    size_t n = 0;
    cb_error err = { 0 };
    if (cb_backup_delete_list(c->store, id, flags, &v, &n, &err) < 0)
        return cli_fail(c, &err);
    if (c->json) {
        json_t *o = json_object(), *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, out_info_object(v[i]));
        json_object_set_new(o, "would_delete", a);
        json_object_set_new(o, "dry_run", json_true());
        out_json(o);
    } else {
        for (size_t i = 0; i < n; i++)
            printf("would delete backup %s (volume %s, container '%s')\n", v[i]->backup_id,
                   v[i]->volume_id, v[i]->container);
        cli_info(c, "dry run: %zu backup(s) would be deleted, nothing was\n", n);
    }
    cb_backup_info_free_array(v, n);
    return CLI_EXIT_OK;
}

int cmd_delete(cli *c, int argc, char **argv)
{
    static const struct option opts[] = { { "cascade", no_argument, NULL, CAT_CASCADE },
                                          { "dry-run", no_argument, NULL, CAT_DRY_RUN },
                                          { NULL, 0, NULL, 0 } };
    const char *id;
    unsigned flags = 0;
    cb_error err = { 0 };
    int rc = cat_one_id(c, argc, argv, opts, delete_opt, &flags, delete_usage, &id);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    cli_signals_install();
    if (flags & CB_DELETE_DRY_RUN)
        return delete_dry_run(c, id, flags);
    if (cb_backup_delete(c->store, id, flags, &err) < 0)
        return cli_fail(c, &err);
    if (c->json) {
        printf("{\"deleted\": ");
        cli_json_string(stdout, id);
        printf(", \"cascade\": %s}\n", flags & CB_DELETE_CASCADE ? "true" : "false");
    } else {
        cli_info(c, "deleted backup %s\n", id);
    }
    return CLI_EXIT_OK;
}
