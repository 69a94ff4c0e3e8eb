/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_backup.c: `cinderblock backup VOLUME`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "help_text.h"
#include "output.h"

#define backup_usage cli_help_backup /* docs/cinderblock.1.md, its ```help block */

enum {
    BK_VOLUME_ID = 0x200,
    BK_BACKUP_ID,
    BK_CONTAINER,
    BK_NAME,
    BK_DESCRIPTION,
    BK_COMPRESSION,
    BK_OBJECT_SIZE,
    BK_SHA_BLOCK,
    BK_METADATA,
    BK_INCREMENTAL,
    BK_PARENT,
    BK_THREADS,
    BK_RESUME,
    BK_SIZE,
    BK_DRY_RUN,
    BK_DIRTY_BITMAP,
    BK_VERIFY_UNCHANGED,
    BK_NBD_CONNECTIONS,
    BK_COALESCE,
};

static const struct option backup_opts[] = {
    { "volume-id", required_argument, NULL, BK_VOLUME_ID },
    { "backup-id", required_argument, NULL, BK_BACKUP_ID },
    { "container", required_argument, NULL, BK_CONTAINER },
    { "name", required_argument, NULL, BK_NAME },
    { "description", required_argument, NULL, BK_DESCRIPTION },
    { "compression", required_argument, NULL, BK_COMPRESSION },
    { "object-size", required_argument, NULL, BK_OBJECT_SIZE },
    { "sha-block", required_argument, NULL, BK_SHA_BLOCK },
    { "metadata", required_argument, NULL, BK_METADATA },
    { "incremental", no_argument, NULL, BK_INCREMENTAL },
    { "parent", required_argument, NULL, BK_PARENT },
    { "threads", required_argument, NULL, BK_THREADS },
    { "resume", required_argument, NULL, BK_RESUME },
    { "size", required_argument, NULL, BK_SIZE },
    { "dry-run", no_argument, NULL, BK_DRY_RUN },
    { "dirty-bitmap", required_argument, NULL, BK_DIRTY_BITMAP },
    { "verify-unchanged", required_argument, NULL, BK_VERIFY_UNCHANGED },
    { "nbd-connections", required_argument, NULL, BK_NBD_CONNECTIONS },
    { "coalesce", required_argument, NULL, BK_COALESCE },
    { NULL, 0, NULL, 0 },
};

typedef struct backup_args {
    cb_backup_opts o;
    const char **metadata;
    size_t n_metadata;
    const char *shaping; /* an option --resume does not go with, if one was given */
} backup_args;

static int backup_size_opt(
    cli *c, const char *name, const char *arg, unsigned long long max, unsigned long long *out)
{
    if (cli_parse_size(arg, out) < 0 || *out == 0 || *out > max)
        return cli_usage_error(c, backup_usage, "%s: '%s' is not a size (bytes, or with K, M, G)",
                               name, arg);
    return 0;
}

/* The options of an NBD volume (nbd://, nbd+unix://...). */
static int backup_nbd_opt(cli *c, int opt, const char *arg, backup_args *a)
{
    char *end = NULL;
    unsigned long long n;
    switch (opt) {
    case BK_DIRTY_BITMAP:
        a->o.dirty_bitmap = arg;
        return 0;
    case BK_VERIFY_UNCHANGED:
        a->o.verify_unchanged = strtod(arg, &end);
        if (end == arg || *end != '\0' || !(a->o.verify_unchanged >= 0.0) ||
            a->o.verify_unchanged > 100.0)
            return cli_usage_error(
                c, backup_usage, "--verify-unchanged: '%s' is not a percentage from 0 to 100", arg);
        return 0;
    case BK_NBD_CONNECTIONS:
        if (cli_parse_size(arg, &n) < 0 || n == 0 || n > 16)
            return cli_usage_error(c, backup_usage,
                                   "--nbd-connections: '%s' is not a number from 1 to 16", arg);
        a->o.nbd_connections = (int)n;
        return 0;
    }
    return CLI_EXIT_USAGE;
}

static int backup_opt(cli *c, int opt, const char *arg, void *payload)
{
    backup_args *a = payload;
    unsigned long long n;
    int rc;
    static const char *const shaping[] = { "--volume-id",   "--backup-id",   "--container",
                                           "--name",        "--description", "--compression",
                                           "--object-size", "--sha-block",   "--metadata",
                                           "--incremental", "--parent" };
    if (opt >= BK_VOLUME_ID && opt <= BK_PARENT)
        a->shaping = shaping[opt - BK_VOLUME_ID];
    switch (opt) {
    case BK_VOLUME_ID:
        a->o.volume_id = arg;
        return 0;
    case BK_BACKUP_ID:
        a->o.backup_id = arg;
        return 0;
    case BK_CONTAINER:
        a->o.container = arg;
        return 0;
    case BK_NAME:
        a->o.name = arg;
        return 0;
    case BK_DESCRIPTION:
        a->o.description = arg;
        return 0;
    case BK_COMPRESSION:
        a->o.compression = arg;
        return 0;
    case BK_OBJECT_SIZE:
        if ((rc = backup_size_opt(c, "--object-size", arg, 1ULL << 40, &n)) != 0)
            return rc;
        a->o.object_size = n;
        return 0;
    case BK_COALESCE: /* 0 is a size here: no coalescing */
        if (cli_parse_size(arg, &n) < 0 || n > (1ULL << 40))
            return cli_usage_error(c, backup_usage,
                                   "--coalesce: '%s' is not a size (bytes, or with K, M, G)", arg);
        a->o.coalesce = (int64_t)n;
        return 0;
    case BK_SHA_BLOCK:
        if ((rc = backup_size_opt(c, "--sha-block", arg, 1ULL << 30, &n)) != 0)
            return rc;
        a->o.sha_block = (uint32_t)n;
        return 0;
    case BK_METADATA: {
        const char **m = realloc(a->metadata, (a->n_metadata + 1) * sizeof(*m));
        if (m == NULL)
            return CLI_EXIT_FAIL;
        a->metadata = m;
        m[a->n_metadata++] = arg;
        return 0;
    }
    case BK_INCREMENTAL:
        a->o.incremental = 1;
        return 0;
    case BK_PARENT:
        a->o.parent_id = arg;
        return 0;
    case BK_THREADS:
        if (cli_parse_size(arg, &n) < 0 || n == 0 || n > 1024)
            return cli_usage_error(c, backup_usage,
                                   "--threads: '%s' is not a number from 1 to "
                                   "1024",
                                   arg);
        a->o.threads = (int)n;
        return 0;
    case BK_RESUME:
        a->o.resume_id = arg;
        return 0;
    case BK_SIZE:
        if ((rc = backup_size_opt(c, "--size", arg, 1ULL << 60, &n)) != 0)
            return rc;
        a->o.stream_size = n;
        return 0;
    case BK_DRY_RUN:
        a->o.dry_run = 1;
        return 0;
    default:
        return backup_nbd_opt(c, opt, arg, a);
    }
    return CLI_EXIT_USAGE;
}

/* --parent and --resume take an id prefix too. */
static int backup_resolve_ids(cli *c, cb_backup_opts *o)
{
    char *full;
    int rc = 0;
    if (o->parent_id != NULL && (rc = cli_resolve_id(c, o->parent_id, &full)) == 0)
        o->parent_id = full;
    if (rc == 0 && o->resume_id != NULL &&
        (rc = cli_resolve_resume_id(c, o->resume_id, &full)) == 0)
        o->resume_id = full;
    return rc;
}

/* VOLUME names standard input, or another open descriptor: a stream (cb_backup). */
static int backup_is_stream(const char *volume)
{
    return strcmp(volume, "-") == 0 || strcmp(volume, "/dev/stdin") == 0 ||
           strncmp(volume, "/dev/fd/", 8) == 0;
}

/* What a stream needs, and what only a stream takes. */
static int backup_check_stream(cli *c, const backup_args *a, const char *volume)
{
    int stream = backup_is_stream(volume);
    if (!stream && a->o.stream_size != 0)
        return cli_usage_error(c, backup_usage,
                               "backup: --size is for a volume read from standard input "
                               "(VOLUME -); '%s' has its own size",
                               volume);
    if (stream && a->o.resume_id != NULL)
        return cli_usage_error(c, backup_usage,
                               "backup: a backup from standard input cannot be resumed: run it "
                               "again");
    if (stream && a->o.volume_id == NULL && a->o.parent_id == NULL)
        return cli_usage_error(c, backup_usage,
                               "backup %s: standard input has no path to derive the volume id "
                               "from: give --volume-id UUID (or --parent BACKUP_ID)",
                               volume);
    return 0;
}

/* backup --dry-run: the backup that was not made, and what it would have stored */
static void backup_dry_report(cli *c, const cb_backup_info *info)
{
    char data[32], stored[32];
    printf("dry run: %s backup of volume %s would store %llu objects, %llu bytes (%s); "
           "%llu bytes (%s) of the volume %s\n",
           info->parent_id ? "incremental" : "full", info->volume_id,
           (unsigned long long)info->object_count, (unsigned long long)info->stored_bytes,
           cli_human(info->stored_bytes, stored), (unsigned long long)info->data_bytes,
           cli_human(info->data_bytes, data), info->parent_id ? "changed" : "in all");
    if (info->parent_id)
        cli_info(c, "parent: backup %s\n", info->parent_id);
    cli_info(c, "nothing was written\n");
}

int cmd_backup(cli *c, int argc, char **argv)
{
    backup_args a = { .o = CB_BACKUP_OPTS_INIT };
    cb_backup_info *info = NULL;
    cb_error err = { 0 };
    cli_progress prog;
    int first, done, rc;

    rc = cli_parse(c, argc, argv, backup_opts, NULL, backup_opt, &a, backup_usage, &first, &done);
    if (rc != 0 || done)
        goto out;
    if (argc - first != 1) {
        rc = cli_usage_error(c, backup_usage,
                             argc == first ? "backup: which VOLUME?" : "backup: one VOLUME only");
        goto out;
    }
    if (a.o.resume_id != NULL && a.shaping != NULL) {
        rc = cli_usage_error(c, backup_usage,
                             "backup: --resume continues a backup with its own settings: %s "
                             "cannot be given with it",
                             a.shaping);
        goto out;
    }
    if (a.o.resume_id != NULL && a.o.dry_run) {
        rc = cli_usage_error(c, backup_usage, "backup: --dry-run cannot be given with --resume");
        goto out;
    }
    if ((rc = backup_check_stream(c, &a, argv[first])) != 0)
        goto out;
    if ((rc = cli_open_store(c)) != 0 || (rc = backup_resolve_ids(c, &a.o)) != 0)
        goto out;
    a.o.keep_partial = !backup_is_stream(argv[first]); /* an interrupted backup can be resumed */
    /* the volume file's base name is the default name: `list` shows it, and an incremental
     * of a disk that was moved finds its old backups by it (backup_incr.c) */
    const char *slash = strrchr(argv[first], '/');
    if (cb_volume_is_nbd(argv[first])) /* an NBD export: its URI names it */
        slash = NULL;
    if (a.o.name == NULL && a.o.resume_id == NULL && !backup_is_stream(argv[first]))
        a.o.name = slash && slash[1] ? slash + 1 : argv[first];
    a.o.metadata = a.metadata;
    a.o.n_metadata = a.n_metadata;
    cli_progress_init(&prog, c);
    a.o.progress = cli_progress_fn;
    a.o.progress_payload = &prog;
    a.o.cancel = cli_cancel_hook;
    cli_signals_install();
    int brc = cb_backup(c->store, argv[first], &a.o, &info, &err);
    cli_progress_done(&prog);
    if (brc < 0) {
        rc = cli_fail(c, &err);
        goto out;
    }
    if (a.o.dry_run && !c->json) {
        backup_dry_report(c, info);
    } else if (c->json) { /* a dry run's summary is the same, marked "dry_run" */
        json_t *sum = json_object();
        if (a.o.dry_run)
            json_object_set_new(sum, "dry_run", json_true());
        json_object_set_new(sum, "backup", out_info_object(info));
        json_object_set_new(sum, "bytes_zero", json_integer((json_int_t)prog.cur.bytes_zero));
        json_object_set_new(sum, "bytes_unchanged",
                            json_integer((json_int_t)prog.cur.bytes_unchanged));
        json_object_set_new(sum, "bytes_read", json_integer((json_int_t)prog.cur.bytes_read));
        json_object_set_new(sum, "bytes_coalesced",
                            json_integer((json_int_t)prog.cur.bytes_coalesced));
        json_object_set_new(sum, "elapsed_seconds", out_seconds(cli_progress_elapsed(&prog)));
        out_summary(sum);
    } else {
        printf("%s\n", info->backup_id);
        out_backup_summary(c, info);
        out_skipped(c, &prog.cur);
    }
    rc = CLI_EXIT_OK;
out:
    cb_backup_info_free(info);
    free(a.metadata);
    return rc;
}
