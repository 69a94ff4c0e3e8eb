/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_catalog.c: `list`, `show` and `delete`: the backups in a store. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "help_text.h"
#include "output.h"

#define list_usage cli_help_list     /* docs/cinderblock.1.md, its ```help block */
#define show_usage cli_help_show     /* docs/cinderblock.1.md, its ```help block */
#define delete_usage cli_help_delete /* docs/cinderblock.1.md, its ```help block */

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
    } else if (c->verbose < 0) { /* -q: the ids alone, one a line, for scripts */
        for (size_t i = 0; i < n; i++)
            printf("%s\n", v[i]->backup_id);
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
    char *full;
    if ((rc = cli_open_store(c)) != 0 || (rc = cli_resolve_id(c, argv[first], &full)) != 0)
        return rc;
    *id = full;
    return 0;
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

/*
 * What the backups a delete removes were, to describe them as list and show do: the same
 * walk as a dry run, then each one shown (a handful of reads, not the whole store's). One
 * that cannot be shown is described by its id alone.
 */
static int delete_describe(cli *c,
                           const char *id,
                           unsigned flags,
                           char ***ids_out,
                           cb_backup_info ***out,
                           size_t *n_out,
                           cb_error *err)
{
    char **ids = NULL;
    size_t n = 0;
    *ids_out = NULL;
    *out = NULL;
    *n_out = 0;
    if (cb_backup_delete_ex(c->store, id, flags | CB_DELETE_DRY_RUN, &ids, &n, err) < 0) {
        cb_backup_ids_free(ids, n);
        return -1;
    }
    cb_backup_info **v = calloc(n + 1, sizeof(*v));
    for (size_t i = 0; v != NULL && i < n; i++) {
        cb_error ignored = { 0 };
        if (cb_backup_show(c->store, ids[i], &v[i], &ignored) < 0)
            v[i] = NULL;
    }
    if (v == NULL) {
        cb_backup_ids_free(ids, n);
        return cb_error_set(err, CB_ENOMEM, "out of memory"), -1;
    }
    *ids_out = ids;
    *out = v;
    *n_out = n;
    return 0;
}

static const cb_backup_info *delete_info(cb_backup_info *const *v, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] != NULL && strcmp(v[i]->backup_id, id) == 0)
            return v[i];
    return NULL;
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
    int dry = (flags & CB_DELETE_DRY_RUN) != 0; /* the same walk, nothing deleted, no lock */
    cb_backup_info **infos = NULL;
    char **gone = NULL, **would = NULL;
    size_t n_infos = 0, n_gone = 0;
    int drc = 0;
    if (c->json || dry) {
        cli_step(c, "finding what deleting backup %s%s would remove", id,
                 flags & CB_DELETE_CASCADE ? " and its dependants" : "");
        if (delete_describe(c, id, flags, &would, &infos, &n_infos, &err) < 0)
            return cli_fail(c, &err);
    }
    if (dry) { /* what the walk found is the answer */
        gone = would;
        n_gone = n_infos;
    } else {
        cb_backup_ids_free(would, n_infos);
        cli_step(c, "deleting backup %s%s", id,
                 flags & CB_DELETE_CASCADE ? " and its dependants" : "");
        drc = cb_backup_delete_ex(c->store, id, flags, &gone, &n_gone, &err);
    }
    json_t *arr = json_array();
    for (size_t k = 0; k < n_gone; k++) {
        const cb_backup_info *b = delete_info(infos, n_infos, gone[k]);
        cb_backup_info bare = { .backup_id = gone[k] }; /* what we know of one not shown */
        if (c->json)
            json_array_append_new(arr, out_info_object(b != NULL ? b : &bare));
        else if (dry) /* the result of a dry run: on stdout */
            printf("would delete backup %s (volume %s, container '%s')\n", gone[k],
                   b != NULL ? b->volume_id : "?", b != NULL ? b->container : "?");
        else
            cli_info(c, "deleted backup %s\n", gone[k]);
    }
    if (c->json && (drc == 0 || n_gone > 0)) {
        json_t *o = json_object();
        json_object_set_new(o, dry ? "would_delete" : "deleted", arr);
        json_object_set_new(o, "cascade", json_boolean(flags & CB_DELETE_CASCADE));
        if (dry)
            json_object_set_new(o, "dry_run", json_true());
        out_json(o);
    } else {
        json_decref(arr);
    }
    if (dry && !c->json && drc == 0)
        cli_info(c, "dry run: %zu backup(s) would be deleted, nothing was\n", n_gone);
    cb_backup_ids_free(gone, n_gone);
    cb_backup_info_free_array(infos, n_infos);
    if (drc < 0)
        return cli_fail(c, &err);
    return CLI_EXIT_OK;
}
