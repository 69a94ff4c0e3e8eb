/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_record.c: `export-record` and `import-record`, Cinder's backup-export/-import. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "help_text.h"
#include "output.h"

#define export_usage cli_help_export_record /* docs/cinderblock.1.md, its ```help block */
#define import_usage cli_help_import_record /* docs/cinderblock.1.md, its ```help block */

/* cinderclient prints a two-column prettytable; so do we. */
static void record_table(const char *service, const char *url)
{
    size_t w = strlen(service) > strlen(url) ? strlen(service) : strlen(url);
    if (w < 5)
        w = 5;
    char *dash = malloc(w + 3);
    memset(dash, '-', w + 2);
    dash[w + 2] = '\0';
    printf("+----------------+%s+\n", dash);
    printf("| %-14s | %-*s |\n", "Property", (int)w, "Value");
    printf("+----------------+%s+\n", dash);
    printf("| %-14s | %-*s |\n", "backup_service", (int)w, service);
    printf("| %-14s | %-*s |\n", "backup_url", (int)w, url);
    printf("+----------------+%s+\n", dash);
    free(dash);
}

enum { REC_SERVICE = 0x200 };

static int export_opt(cli *c, int opt, const char *arg, void *payload)
{
    (void)c;
    if (opt != REC_SERVICE)
        return CLI_EXIT_USAGE;
    *(const char **)payload = arg;
    return 0;
}

int cmd_export_record(cli *c, int argc, char **argv)
{
    static const struct option opts[] = { { "service", required_argument, NULL, REC_SERVICE },
                                          { NULL, 0, NULL, 0 } };
    const char *as = NULL; /* --service: the driver the record names */
    char *service = NULL, *url = NULL;
    cb_error err = { 0 };
    int first, done, rc;
    rc = cli_parse(c, argc, argv, opts, NULL, export_opt, &as, export_usage, &first, &done);
    if (rc != 0 || done)
        return rc;
    if (argc - first != 1)
        return cli_usage_error(c, export_usage, "export-record: give one BACKUP_ID");
    if ((rc = cli_open_store(c)) != 0 || (rc = cli_resolve_id(c, argv[first], &argv[first])) != 0)
        return rc;
    if (cb_backup_export_record_as(c->store, argv[first], as, &service, &url, &err) < 0)
        return cli_fail(c, &err);
    if (c->json) {
        json_t *o = json_object();
        json_object_set_new(o, "backup_service", json_string(service));
        json_object_set_new(o, "backup_url", json_string(url));
        out_json(o);
    } else {
        record_table(service, url);
    }
    free(service);
    free(url);
    return CLI_EXIT_OK;
}

int cmd_import_record(cli *c, int argc, char **argv)
{
    cb_backup_info *b = NULL;
    cb_error err = { 0 };
    int first, done, rc;
    rc = cli_parse(c, argc, argv, NULL, NULL, NULL, NULL, import_usage, &first, &done);
    if (rc != 0 || done)
        return rc;
    if (argc - first != 2)
        return cli_usage_error(c, import_usage, "import-record: give SERVICE and URL");
    if ((rc = cli_open_store(c)) != 0)
        return rc;
    if (cb_backup_import_record(c->store, argv[first], argv[first + 1], &b, &err) < 0)
        return cli_fail(c, &err);
    if (c->json)
        out_info_json(b, "imported");
    else
        cli_info(c,
                 "imported backup %s: %llu objects in container '%s', usable by show and "
                 "restore\n",
                 b->backup_id, (unsigned long long)b->object_count, b->container);
    cb_backup_info_free(b);
    return CLI_EXIT_OK;
}
