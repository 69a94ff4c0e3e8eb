/* SPDX-License-Identifier: Apache-2.0 */
/* cli.c: option parsing shared by every subcommand, the store, messages and exit codes. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
    OPT_STORE = 0x100,
    OPT_JSON,
    OPT_NO_CREATE,
    OPT_AZ,
    OPT_CA_FILE,
    OPT_INSECURE,
    OPT_RETRIES,
    OPT_RETRY_BACKOFF,
    OPT_TIMEOUT,
    OPT_POLICY,
    OPT_RETRY_LOCK,
    OPT_LOCK_HOST,
    OPT_NO_LOCK,
    OPT_LIMIT_UPLOAD,
    OPT_LIMIT_DOWNLOAD,
    OPT_CONNECTIONS,
    OPT_HELP,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
};

static const struct option cli_global_opts[] = {
    { "store", required_argument, NULL, OPT_STORE },
    { "json", no_argument, NULL, OPT_JSON },
    { "verbose", no_argument, NULL, 'v' },
    { "quiet", no_argument, NULL, 'q' },
    { "no-create-container", no_argument, NULL, OPT_NO_CREATE },
    { "availability-zone", required_argument, NULL, OPT_AZ },
    { "ca-file", required_argument, NULL, OPT_CA_FILE },
    { "insecure", no_argument, NULL, OPT_INSECURE },
    { "retries", required_argument, NULL, OPT_RETRIES },
    { "retry-backoff", required_argument, NULL, OPT_RETRY_BACKOFF },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "storage-policy", required_argument, NULL, OPT_POLICY },
    { "retry-lock", required_argument, NULL, OPT_RETRY_LOCK },
    { "lock-host", required_argument, NULL, OPT_LOCK_HOST },
    { "no-lock", no_argument, NULL, OPT_NO_LOCK },
    { "limit-upload", required_argument, NULL, OPT_LIMIT_UPLOAD },
    { "limit-download", required_argument, NULL, OPT_LIMIT_DOWNLOAD },
    { "connections", required_argument, NULL, OPT_CONNECTIONS },
    { "help", no_argument, NULL, OPT_HELP },
    { "progress", no_argument, NULL, OPT_PROGRESS },
    { "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
};
#define CLI_N_GLOBAL (sizeof(cli_global_opts) / sizeof(cli_global_opts[0]))

static int cli_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || v < 0)
        return -1;
    *out = v;
    return 0;
}

/* A non-negative number with an optional unit: s, m, h, d. */
static int cli_parse_double_prefix(const char *s, double *out, double *mult)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || v < 0 || s[0] == '-' || s[0] == '+')
        return -1;
    switch (*end) {
    case '\0':
    case 's':
        *mult = 1;
        break;
    case 'm':
        *mult = 60;
        break;
    case 'h':
        *mult = 3600;
        break;
    case 'd':
        *mult = 86400;
        break;
    default:
        return -1;
    }
    if (*end != '\0' && end[1] != '\0')
        return -1;
    *out = v;
    return 0;
}

int cli_parse_rate(const char *s, double *out)
{
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    double unit = 1024; /* a bare number is KiB/s, as restic's --limit-upload */
    if (errno != 0 || end == s || v <= 0)
        return -1;
    switch (*end) {
    case '\0':
        break;
    case 'k':
    case 'K':
        unit = 1024;
        break;
    case 'm':
    case 'M':
        unit = 1024.0 * 1024;
        break;
    case 'g':
    case 'G':
        unit = 1024.0 * 1024 * 1024;
        break;
    default:
        return -1;
    }
    if (*end != '\0') {
        end++;
        if (*end == 'i') /* 20MiB */
            end++;
        if (*end == 'B' || *end == 'b')
            end++;
        if (strcmp(end, "/s") == 0)
            end += 2;
        if (*end != '\0')
            return -1;
    }
    *out = v * unit;
    return *out >= 1 ? 0 : -1;
}

static int cli_global(cli *c, int opt, const char *arg, const char *usage)
{
    unsigned long long n;
    switch (opt) {
    case OPT_STORE:
        c->store_url = arg;
        return 0;
    case OPT_JSON:
        c->json = 1;
        return 0;
    case OPT_PROGRESS:
        c->progress = 1;
        return 0;
    case OPT_NO_PROGRESS:
        c->progress = -1;
        return 0;
    case 'v':
        c->verbose++;
        return 0;
    case 'q':
        c->verbose--;
        return 0;
    case OPT_NO_CREATE:
        c->store_opts.create_containers = 0;
        return 0;
    case OPT_AZ:
        c->store_opts.availability_zone = arg;
        return 0;
    case OPT_CA_FILE:
        c->store_opts.ca_file = arg;
        return 0;
    case OPT_INSECURE:
        c->store_opts.insecure = 1;
        return 0;
    case OPT_RETRIES:
        if (cli_parse_size(arg, &n) < 0 || n < 1 || n > 100)
            return cli_usage_error(c, usage, "--retries: '%s' is not a number from 1 to 100", arg);
        c->store_opts.retries = (int)n;
        return 0;
    case OPT_CONNECTIONS:
        if (cli_parse_size(arg, &n) < 0 || n < 1 || n > 64)
            return cli_usage_error(c, usage, "--connections: '%s' is not a number from 1 to 64",
                                   arg);
        c->store_opts.connections = (int)n;
        return 0;
    case OPT_RETRY_BACKOFF:
        if (cli_parse_double(arg, &c->store_opts.retry_backoff) < 0)
            return cli_usage_error(c, usage, "--retry-backoff: '%s' is not a number of seconds",
                                   arg);
        return 0;
    case OPT_TIMEOUT:
        if (cli_parse_double(arg, &c->store_opts.timeout) < 0 || c->store_opts.timeout == 0)
            return cli_usage_error(c, usage, "--timeout: '%s' is not a positive number of seconds",
                                   arg);
        return 0;
    case OPT_POLICY:
        c->store_opts.storage_policy = arg;
        return 0;
    case OPT_RETRY_LOCK:
        if (cli_parse_duration(arg, &c->store_opts.lock_wait) < 0)
            return cli_usage_error(
                c, usage, "--retry-lock: '%s' is not a duration (like 90, 30s, 5m, 2h)", arg);
        return 0;
    case OPT_LOCK_HOST:
        c->store_opts.lock_host = arg;
        return 0;
    case OPT_NO_LOCK:
        c->store_opts.no_lock = 1;
        return 0;
    case OPT_LIMIT_UPLOAD:
    case OPT_LIMIT_DOWNLOAD:
        if (cli_parse_rate(arg, opt == OPT_LIMIT_UPLOAD ? &c->store_opts.limit_upload
                                                        : &c->store_opts.limit_download) < 0)
            return cli_usage_error(c, usage,
                                   "%s: '%s' is not a rate (KiB/s like 500, or 500K, 20M, 1G "
                                   "per second)",
                                   opt == OPT_LIMIT_UPLOAD ? "--limit-upload" : "--limit-download",
                                   arg);
        return 0;
    }
    return -1;
}

int cli_parse(cli *c,
              int argc,
              char **argv,
              const struct option *cmd_opts,
              const char *shortopts,
              cli_opt_fn fn,
              void *payload,
              const char *usage,
              int *first_pos,
              int *done)
{
    struct option all[64];
    size_t n = 0;
    char shorts[64];
    int rc;

    *done = 0;
    cli_signals_usr1(); /* SIGUSR1 never kills a command, long or short */
    /* --json anywhere makes even an error before it JSON */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--json") == 0)
            c->json = 1;
    for (size_t i = 0; cmd_opts != NULL && cmd_opts[i].name != NULL && n < 40; i++)
        all[n++] = cmd_opts[i];
    for (size_t i = 0; i < CLI_N_GLOBAL; i++)
        all[n++] = cli_global_opts[i];
    memset(&all[n], 0, sizeof(all[n]));
    /* before the command, stop at the command's name; after it, options may follow the
     * positional arguments (GNU getopt permutes them) */
    snprintf(shorts, sizeof(shorts), "%s:vqh%s", c->command == NULL ? "+" : "",
             shortopts ? shortopts : "");

    optind = 0; /* 0, not 1: glibc then re-reads the ordering mode ("+") */
    opterr = 0;
    for (;;) {
        int opt = getopt_long(argc, argv, shorts, all, NULL);
        if (opt == -1)
            break;
        if (opt == OPT_HELP || opt == 'h') {
            fputs(usage, stdout);
            *done = 1;
            return 0;
        }
        if (opt == '?')
            return cli_usage_error(c, usage, "unknown option '%s'", argv[optind - 1]);
        if (opt == ':')
            return cli_usage_error(c, usage, "option '%s' needs a value", argv[optind - 1]);
        if ((rc = cli_global(c, opt, optarg, usage)) >= 0) {
            if (rc > 0)
                return rc;
            continue;
        }
        if (fn == NULL || (rc = fn(c, opt, optarg, payload)) != 0)
            return rc ? rc : CLI_EXIT_USAGE;
    }
    *first_pos = optind;
    return 0;
}

/* A password in the URL's user part ("swift://user:secret@..."): other users see command lines
 * (ps, /proc) and shells keep them. Say where a secret belongs instead. */
static void cli_warn_url_secret(const cli *c, const char *url)
{
    const char *p = strstr(url, "://");
    if (p == NULL)
        return;
    p += 3;
    size_t host = strcspn(p, "/?#");
    const char *at = memchr(p, '@', host);
    if (at == NULL || memchr(p, ':', (size_t)(at - p)) == NULL)
        return;
    cli_warn(c, "--store: the URL holds a password (user:password@): other users can "
                "read a command line; give the secret in a variable or a file instead: "
                "ST_KEY_FILE, OS_PASSWORD_FILE, AWS_SECRET_ACCESS_KEY_FILE (or ST_KEY, "
                "OS_PASSWORD, AWS_SECRET_ACCESS_KEY), OS_CLOUD with clouds.yaml, AWS_PROFILE");
}

int cli_open_store(cli *c)
{
    cb_error err = { 0 };
    if (c->store_url != NULL)
        cli_warn_url_secret(c, c->store_url);
    if (c->store_url == NULL)
        c->store_url = getenv("CINDERBLOCK_STORE");
    if (c->store_url == NULL || c->store_url[0] == '\0') {
        cb_error_set(&err, CB_EINVAL, "no store given: use --store URL or set CINDERBLOCK_STORE");
        return cli_fail(c, &err);
    }
    cli_step(c, "opening the store %s", c->store_url);
    if (cb_store_open(&c->store, c->store_url, &c->store_opts, &err) < 0)
        return cli_fail(c, &err);
    /* a mistyped path must not become a new store (and a full backup): only init makes one */
    int is_init = c->command != NULL && strcmp(c->command, "init") == 0;
    if (!is_init && cb_store_exists(c->store, &err) < 0) {
        if (err.code == CB_ENOTFOUND) {
            size_t n = strlen(err.msg);
            snprintf(err.msg + n, sizeof(err.msg) - n,
                     " (create it with `cinderblock --store %s init`)", c->store_url);
        }
        return cli_fail(c, &err);
    }
    return 0;
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

int cli_exit_code(int status)
{
    switch (status) {
    case CB_OK:
        return CLI_EXIT_OK;
    case CB_ESOURCE:
        return CLI_EXIT_SOURCE;
    case CB_ENOTFOUND:
        return CLI_EXIT_NOTFOUND;
    case CB_ELOCKED:
        return CLI_EXIT_LOCKED;
    case CB_EAUTH:
        return CLI_EXIT_AUTH;
    case CB_ECORRUPT:
        return CLI_EXIT_DAMAGE;
    case CB_ECANCELED:
        return CLI_EXIT_INTERRUPTED;
    default:
        return CLI_EXIT_FAIL;
    }
}

/* Under --json: {"message_type":"error","code":N,"message":...} on stderr, one line. */
static void cli_json_error(int code, const char *status, const char *msg, long http_status)
{
    fprintf(stderr, "{\"message_type\":\"error\",\"code\":%d,\"message\":", code);
    cli_json_string(stderr, msg);
    if (status != NULL) {
        fprintf(stderr, ",\"status\":");
        cli_json_string(stderr, status);
    }
    if (http_status != 0) /* the answer of the server that failed */
        fprintf(stderr, ",\"http_status\":%ld", http_status);
    fprintf(stderr, "}\n");
}

/* A warning goes to stderr also under -q (it is about safety); under --json as
 * {"message_type":"warning","message":...}, so that stderr stays machine-readable. */
void cli_warn(const cli *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->json) {
        fprintf(stderr, "{\"message_type\":\"warning\",\"message\":");
        cli_json_string(stderr, msg);
        fprintf(stderr, "}\n");
    } else {
        fprintf(stderr, "%s: warning: %s\n", c->prog ? c->prog : "cinderblock", msg);
    }
}

int cli_fail(cli *c, const cb_error *err)
{
    int code = cli_exit_code(err->code ? err->code : CB_ERROR);
    const char *msg = err->msg[0] ? err->msg : "unknown failure";
    if (c->json)
        cli_json_error(code, cb_status_name(err->code ? err->code : CB_ERROR), msg,
                       err->http_status);
    else
        fprintf(stderr, "%s: error: %s\n", c->prog, msg);
    return code;
}

int cli_usage_error(cli *c, const char *usage, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->json) {
        cli_json_error(CLI_EXIT_USAGE, "usage", msg, 0);
        return CLI_EXIT_USAGE;
    }
    fprintf(stderr, "%s: %s\n", c->prog, msg);
    if (usage != NULL)
        fputs(usage, stderr);
    return CLI_EXIT_USAGE;
}

int cli_parse_duration(const char *s, double *out)
{
    double mult = 1;
    if (cli_parse_double_prefix(s, out, &mult) < 0)
        return -1;
    *out *= mult;
    return 0;
}

int cli_parse_size(const char *s, unsigned long long *out)
{
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case '\0':
        break;
    case 'k':
    case 'K':
        shift = 10;
        break;
    case 'm':
    case 'M':
        shift = 20;
        break;
    case 'g':
    case 'G':
        shift = 30;
        break;
    case 't':
    case 'T':
        shift = 40;
        break;
    default:
        return -1;
    }
    if (*end != '\0' && end[1] != '\0' && !(end[1] == 'i' && end[2] == 'B' && end[3] == '\0') &&
        !(end[1] == 'B' && end[2] == '\0'))
        return -1;
    if (shift && v > (~0ULL >> shift))
        return -1;
    *out = v << shift;
    return 0;
}

void cli_info(const cli *c, const char *fmt, ...)
{
    va_list ap;
    if (c->verbose < 0 || c->json) /* under --json stderr carries errors only */
        return;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}
