/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_cinder.c: `cinder-migrate`, handing an existing Cinder deployment's backups to
 * cinderblock's driver (docs/cinder.md). The rule (which rows, which class) lives once, in
 * the Python package beside the driver (cinderblock.cinder.migrate), which also reaches
 * Cinder's database through SQLAlchemy as Cinder does: this command checks its arguments
 * and runs that module with Debian's python3.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "help_text.h"

#define migrate_usage cli_help_cinder_migrate /* docs/cinderblock.1.md, its ```help block */

#define CB_PYTHON "/usr/bin/python3" /* Debian's: the one that imports python3-cinder */

enum { MIG_CONFIG = 0x200, MIG_DRY, MIG_REVERT };

typedef struct mig_args {
    const char *config;
    int dry_run, revert;
} mig_args;

static int mig_opt(cli *c, int opt, const char *arg, void *payload)
{
    mig_args *a = payload;
    (void)c;
    switch (opt) {
    case MIG_CONFIG:
        a->config = arg;
        return 0;
    case MIG_DRY:
        a->dry_run = 1;
        return 0;
    case MIG_REVERT:
        a->revert = 1;
        return 0;
    }
    return CLI_EXIT_USAGE;
}

/* Where the package is: $CINDERBLOCK_PYTHONPATH (a build tree), else where it was installed. */
static void mig_pythonpath(void)
{
    const char *dir = getenv("CINDERBLOCK_PYTHONPATH");
    if (dir == NULL || dir[0] == '\0')
        dir = CB_PYTHONDIR;
    if (dir[0] == '\0')
        return;
    const char *old = getenv("PYTHONPATH");
    if (old == NULL || old[0] == '\0') {
        setenv("PYTHONPATH", dir, 1);
        return;
    }
    size_t n = strlen(dir) + strlen(old) + 2;
    char *both = malloc(n);
    if (both == NULL)
        return;
    snprintf(both, n, "%s:%s", dir, old);
    setenv("PYTHONPATH", both, 1);
    free(both);
}

int cmd_cinder_migrate(cli *c, int argc, char **argv)
{
    static const struct option opts[] = { { "config-file", required_argument, NULL, MIG_CONFIG },
                                          { "dry-run", no_argument, NULL, MIG_DRY },
                                          { "revert", no_argument, NULL, MIG_REVERT },
                                          { NULL, 0, NULL, 0 } };
    mig_args a = { .config = "/etc/cinder/cinder.conf" };
    int first, done;
    int rc = cli_parse(c, argc, argv, opts, NULL, mig_opt, &a, migrate_usage, &first, &done);
    if (rc != 0 || done)
        return rc;
    if (first != argc)
        return cli_usage_error(c, migrate_usage, "cinder-migrate: unexpected argument '%s'",
                               argv[first]);
    char *args[8];
    int n = 0;
    args[n++] = "python3";
    args[n++] = "-m";
    args[n++] = "cinderblock.cinder.migrate";
    args[n++] = "--config-file";
    args[n++] = (char *)a.config;
    if (a.dry_run)
        args[n++] = "--dry-run";
    if (a.revert)
        args[n++] = "--revert";
    args[n] = NULL;
    mig_pythonpath();
    fflush(NULL);
    execv(CB_PYTHON, args);
    cb_error err = { 0 };
    cb_error_set_sys(&err, CB_ERROR, errno,
                     "cinder-migrate needs Debian's %s with python3-cinder (apt-get install "
                     "python3-cinder)",
                     CB_PYTHON);
    return cli_fail(c, &err);
}
