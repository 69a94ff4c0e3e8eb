/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_unmap.c: `unmap URI|BACKUP_ID|SOCKET|DEVICE|--all`: stop what `map` started. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "help_text.h"
#include "output.h"

#define unmap_usage cli_help_unmap /* docs/cinderblock.1.md, its ```help block */

enum { UM_ALL = 0x400 };

static int um_opt(cli *c, int opt, const char *arg, void *payload)
{
    (void)c;
    (void)arg;
    if (opt != UM_ALL)
        return CLI_EXIT_USAGE;
    *(int *)payload = 1;
    return 0;
}

/* Does `what` name this map: its URI, socket, device, or backup id (or a prefix of 8+)? */
static int um_matches(const map_record *r, const char *what)
{
    size_t n = strlen(what);
    return strcmp(r->uri, what) == 0 || (r->socket != NULL && strcmp(r->socket, what) == 0) ||
           (r->device != NULL && strcmp(r->device, what) == 0) ||
           (n >= 8 && strncasecmp(r->backup_id, what, n) == 0);
}

/* SIGTERM, up to 10 s, then SIGKILL. Only an nbdkit is signalled (a PID may be reused). */
static void um_stop(const map_record *r)
{
    if (r->device != NULL && map_pid_is_nbdkit(r->pid)) {
        char cmd[4200];
        if (strchr(r->device, '\'') == NULL) {
            snprintf(cmd, sizeof(cmd), "nbd-client -d '%s' >/dev/null 2>&1", r->device);
            if (system(cmd) != 0)
                fprintf(stderr, "cinderblock: warning: nbd-client -d %s failed\n", r->device);
        }
    }
    for (int i = 0; i < 200 && map_pid_is_nbdkit(r->pid); i++) {
        if (i == 0)
            kill((pid_t)r->pid, SIGTERM);
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    if (map_pid_is_nbdkit(r->pid))
        kill((pid_t)r->pid, SIGKILL);
    map_forget(r);
}

int cmd_unmap(cli *c, int argc, char **argv)
{
    static const struct option opts[] = { { "all", no_argument, NULL, UM_ALL },
                                          { NULL, 0, NULL, 0 } };
    map_record *v = NULL;
    size_t n = 0, hit = 0;
    cb_error err = { 0 };
    int all = 0, first, done;
    int rc = cli_parse(c, argc, argv, opts, NULL, um_opt, &all, unmap_usage, &first, &done);
    if (rc != 0 || done)
        return rc;
    if (argc - first != (all ? 0 : 1))
        return cli_usage_error(c, unmap_usage,
                               all ? "unmap: --all or one map, not both"
                               : argc == first
                                   ? "unmap: which map (URI, BACKUP_ID, SOCKET or DEVICE)?"
                                   : "unmap: one map only");
    if (map_records(&v, &n, &err) < 0)
        return cli_fail(c, &err);
    json_t *gone = json_array();
    for (size_t i = 0; i < n; i++) {
        if (!all && !um_matches(&v[i], argv[first]))
            continue;
        int live = map_pid_is_nbdkit(v[i].pid);
        um_stop(&v[i]);
        if (!live) {
            cli_info(c, "%s was not running any more: forgotten\n", v[i].uri);
            continue;
        }
        hit++;
        json_array_append_new(gone, json_string(v[i].uri));
        if (!c->json)
            cli_info(c, "unmapped %s (backup %s)\n", v[i].uri, v[i].backup_id);
    }
    map_records_free(v, n);
    if (!all && hit == 0) {
        json_decref(gone);
        cb_error_set(&err, CB_ENOTFOUND, "no running map of '%s' (`cinderblock map` lists them)",
                     argv[first]);
        return cli_fail(c, &err);
    }
    if (c->json)
        out_json(json_pack("{s:o}", "unmapped", gone));
    else
        json_decref(gone);
    return CLI_EXIT_OK;
}
