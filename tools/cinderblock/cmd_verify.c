/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_verify.c: `cinderblock verify [BACKUP_ID...] [--all] [--read-data]`. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"

static const char verify_usage[] =
    "Usage: cinderblock [--store URL] verify (BACKUP_ID... | --all) [--read-data]\n"
    "                   [--read-data-subset N/T] [--threads N]\n"
    "Check backups, each with its chain of parents, or with --all every backup in the store.\n"
    "The structure is always checked: metadata, the object list, the parents, the\n"
    "_sha256file, and that every byte of the volume is in some object; no data object is\n"
    "read for it. A read that fails is tried once more: only what fails twice alike is\n"
    "damage. Prints one line per problem, then a summary. Exit status 0: no problem; 13:\n"
    "damage found; 1: objects could not be read (nothing damaged), or another failure.\n"
    "\n"
    "  --all                    every backup in the store\n"
    "  --read-data              also read every data object: its length, its MD5 and the\n"
    "                           SHA-256 of each sha block against its backup's _sha256file\n"
    "  --read-data-subset N/T   read only part N of T (1 <= N <= T): the parts 1/T .. T/T\n"
    "                           of T runs read every object exactly once\n"
    "  --threads N              objects read at once (default: the number of CPUs)\n"
    "  -v                       also print every object read\n";

enum { VF_ALL = 0x200, VF_READ_DATA, VF_SUBSET, VF_THREADS };

static const struct option verify_opts[] = {
    { "all", no_argument, NULL, VF_ALL },
    { "read-data", no_argument, NULL, VF_READ_DATA },
    { "read-data-subset", required_argument, NULL, VF_SUBSET },
    { "threads", required_argument, NULL, VF_THREADS },
    { NULL, 0, NULL, 0 },
};

typedef struct vf_args {
    cb_verify_opts o;
    int all;
    const cli *c;
} vf_args;

/* "N/T" with 1 <= N <= T: plain decimal numbers, nothing else. */
static int verify_parse_subset(const char *s, unsigned *n, unsigned *t)
{
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    unsigned long a = strtoul(s, &end, 10);
    if (errno != 0 || *end != '/' || end[1] < '0' || end[1] > '9')
        return -1;
    unsigned long b = strtoul(end + 1, &end, 10);
    if (errno != 0 || *end != '\0' || a < 1 || b < a || b > 1000000)
        return -1;
    *n = (unsigned)a;
    *t = (unsigned)b;
    return 0;
}

static int verify_opt(cli *c, int opt, const char *arg, void *payload)
{
    vf_args *a = payload;
    unsigned long long n;
    switch (opt) {
    case VF_ALL:
        a->all = 1;
        return 0;
    case VF_READ_DATA:
        a->o.read_data = 1;
        return 0;
    case VF_SUBSET:
        if (verify_parse_subset(arg, &a->o.subset_n, &a->o.subset_t) < 0)
            return cli_usage_error(c, verify_usage,
                                   "--read-data-subset: '%s' is not N/T with 1 <= N <= T", arg);
        a->o.read_data = 1; /* a part of the data is still the data */
        return 0;
    case VF_THREADS:
        if (cli_parse_size(arg, &n) < 0 || n == 0 || n > 1024)
            return cli_usage_error(c, verify_usage,
                                   "--threads: '%s' is not a number from 1 to 1024", arg);
        a->o.threads = (int)n;
        return 0;
    }
    return CLI_EXIT_USAGE;
}

static const char *verify_kind(int code)
{
    return code == CB_ECORRUPT ? "damaged" : "unreadable";
}

/* -v: every object as it is checked (the library serialises the calls). */
static void verify_on_object(const char *backup_id, const char *object, int status, void *payload)
{
    (void)payload;
    printf("checked: backup %s, object %s: %s\n", backup_id, object,
           status == 0 ? "ok" : verify_kind(status));
    fflush(stdout);
}

static size_t verify_damaged(const cb_verify_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_problems; i++)
        n += r->problems[i].code == CB_ECORRUPT;
    return n;
}

static void verify_text(const cb_verify_report *r)
{
    size_t damaged = verify_damaged(r);
    for (size_t i = 0; i < r->n_problems; i++) {
        const cb_verify_problem *p = &r->problems[i];
        printf("%s: backup %s%s%s: %s\n", verify_kind(p->code), p->backup_id,
               p->object ? ", object " : "", p->object ? p->object : "", p->message);
    }
    printf("verified %zu backup%s, %llu objects (%llu read), %zu damaged", r->backups,
           r->backups == 1 ? "" : "s", (unsigned long long)r->objects,
           (unsigned long long)r->objects_read, damaged);
    if (r->n_problems > damaged)
        printf(", %zu unreadable", r->n_problems - damaged);
    if (r->retried > 0)
        printf(" (%llu read again)", (unsigned long long)r->retried);
    printf("\n");
}

static void verify_json(const cb_verify_report *r)
{
    json_t *problems = json_array();
    for (size_t i = 0; i < r->n_problems; i++) {
        const cb_verify_problem *p = &r->problems[i];
        json_t *o = json_object();
        json_object_set_new(o, "backup_id", json_string(p->backup_id));
        json_object_set_new(o, "container", json_string(p->container));
        json_object_set_new(o, "object", p->object ? json_string(p->object) : json_null());
        json_object_set_new(o, "message", json_string(p->message));
        json_object_set_new(o, "damaged", json_boolean(p->code == CB_ECORRUPT));
        json_array_append_new(problems, o);
    }
    json_t *v = json_object();
    json_object_set_new(v, "backups", json_integer((json_int_t)r->backups));
    json_object_set_new(v, "objects", json_integer((json_int_t)r->objects));
    json_object_set_new(v, "objects_read", json_integer((json_int_t)r->objects_read));
    json_object_set_new(v, "bytes", json_integer((json_int_t)r->bytes));
    json_object_set_new(v, "retried", json_integer((json_int_t)r->retried));
    json_object_set_new(v, "ok", json_boolean(r->n_problems == 0));
    json_object_set_new(v, "problems", problems);
    json_t *doc = json_object();
    json_object_set_new(doc, "verify", v);
    out_summary(doc);
}

int cmd_verify(cli *c, int argc, char **argv)
{
    vf_args a = { .o = CB_VERIFY_OPTS_INIT, .c = c };
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    cli_progress prog;
    int first, done, rc;

    rc = cli_parse(c, argc, argv, verify_opts, NULL, verify_opt, &a, verify_usage, &first, &done);
    if (rc != 0 || done)
        return rc;
    if (argc - first == 0 && !a.all)
        return cli_usage_error(c, verify_usage, "verify: give BACKUP_IDs, or --all");
    if (argc - first > 0 && a.all)
        return cli_usage_error(c, verify_usage, "verify: give BACKUP_IDs or --all, not both");
    if ((rc = cli_open_store(c)) != 0)
        return rc;
    cli_progress_init(&prog, c);
    a.o.progress = cli_progress_fn;
    a.o.progress_payload = &prog;
    a.o.cancel = cli_cancel_hook;
    if (c->verbose > 0 && !c->json)
        a.o.on_object = verify_on_object;
    cli_signals_install();
    int vrc = cb_verify(c->store, (const char *const *)argv + first, (size_t)(argc - first), &a.o,
                        &r, &err);
    cli_progress_done(&prog);
    if (r == NULL || !r->complete) { /* stopped before the end: no verdict to print */
        cb_verify_report_free(r);
        return cli_fail(c, &err);
    }
    if (c->json)
        verify_json(r);
    else
        verify_text(r);
    /* damage: 13; objects that could not be read, nothing damaged: 1 */
    rc = vrc == 0 ? CLI_EXIT_OK : verify_damaged(r) > 0 ? CLI_EXIT_DAMAGE : CLI_EXIT_FAIL;
    if (vrc < 0)
        cli_fail(c, &err); /* the verdict's exit status stands */
    cb_verify_report_free(r);
    return rc;
}
