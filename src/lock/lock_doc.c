/* SPDX-License-Identifier: Apache-2.0 */
/* lock_doc.c: lock objects as JSON documents, their staleness, and listing them. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../hash/hash.h"
#include "lock_doc.h"
#include "cinderblock/sys/store.h"
#include "../util/util.h"

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. With the
 * PID it names one process: a PID reused by a later process has another start time. */
static uint64_t lock_pid_start(int64_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%lld/stat", (long long)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    unsigned long long start = 0;
    if (p == NULL || sscanf(p + 2,
                            "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
                            "%*d %*d %*d %*d %llu",
                            &start) != 1)
        return 0;
    return start;
}

static void lock_copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

void cb__lock_host(cb_store *store, char out[256])
{
    const cb_store_opts *o = cb_store_get_opts(store);
    const char *h = o->lock_host;
    if (h == NULL || h[0] == '\0')
        h = cb_store_getenv(o, "CINDERBLOCK_LOCK_HOST");
    if (h == NULL || h[0] == '\0')
        h = cb_store_getenv(o, "HOSTNAME");
    if (h != NULL && h[0] != '\0') {
        lock_copy(out, 256, h);
        return;
    }
    if (gethostname(out, 255) < 0)
        lock_copy(out, 256, "localhost");
    out[255] = '\0';
}

static int64_t lock_ttl(cb_store *store)
{
    /* for tests and very slow links; documented in the manual's ENVIRONMENT */
    const char *t = cb_store_getenv(cb_store_get_opts(store), "CINDERBLOCK_LOCK_TTL");
    long v = t != NULL ? strtol(t, NULL, 10) : 0;
    return v > 0 ? v : CB_LOCK_TTL;
}

int cb__lock_doc_new(cb_lock_doc *d,
                     cb_store *store,
                     int exclusive,
                     const char *command,
                     const char *what,
                     cb_error *err)
{
    unsigned char rnd[8];
    memset(d, 0, sizeof(*d));
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return cb_error_set(err, CB_ERROR, "no random bytes for a lock id");
    cb__hex(d->id, rnd, sizeof(rnd));
    d->exclusive = exclusive;
    cb__lock_host(store, d->host);
    d->pid = (int64_t)getpid();
    d->pid_start = lock_pid_start(d->pid);
    snprintf(d->command, sizeof(d->command), "%s%s%s", command, what ? " " : "", what ? what : "");
    d->created = d->refreshed = (int64_t)time(NULL);
    d->expires = d->created + lock_ttl(store);
    return 0;
}

void cb__lock_doc_name(const cb_lock_doc *d, char out[64])
{
    snprintf(out, 64, "%s%c-%s", CB_LOCK_PREFIX, d->exclusive ? 'x' : 's', d->id);
}

static char *lock_doc_text(const cb_lock_doc *d, cb_error *err)
{
    char when[32];
    time_t t = (time_t)d->created;
    struct tm tm;
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    json_t *o =
        json_pack("{s:i, s:s, s:b, s:s, s:I, s:I, s:s, s:I, s:s, s:I, s:I}", "cinderblock_lock", 1,
                  "id", d->id, "exclusive", d->exclusive, "host", d->host, "pid",
                  (json_int_t)d->pid, "pid_start", (json_int_t)d->pid_start, "command", d->command,
                  "created", (json_int_t)d->created, "created_at", when, "refreshed",
                  (json_int_t)d->refreshed, "expires", (json_int_t)d->expires);
    char *text = o ? json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
    json_decref(o);
    if (text == NULL)
        cb_error_set(err, CB_ENOMEM, "out of memory");
    return text;
}

int cb__lock_doc_put(cb_store *store,
                     const char *home,
                     const char *name,
                     const cb_lock_doc *d,
                     int exclusive,
                     cb_error *err)
{
    char *text = lock_doc_text(d, err);
    if (text == NULL)
        return CB_ENOMEM;
    int rc = cb_store_write_all_flags(store, home, name, text, strlen(text),
                                      exclusive ? CB_WRITE_EXCLUSIVE : 0, err);
    free(text);
    return rc;
}

static int lock_get_int(json_t *o, const char *key, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return -1;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

static int lock_doc_parse(cb_lock_doc *d, const char *text, size_t len)
{
    json_t *o = json_loadb(text, len, 0, NULL);
    json_t *id = json_object_get(o, "id"), *ex = json_object_get(o, "exclusive");
    int64_t start = 0;
    int rc = -1;
    memset(d, 0, sizeof(*d));
    if (!json_is_object(o) || !json_is_string(id) || !json_is_boolean(ex) ||
        lock_get_int(o, "pid", &d->pid) < 0 || lock_get_int(o, "created", &d->created) < 0 ||
        lock_get_int(o, "expires", &d->expires) < 0)
        goto done;
    lock_get_int(o, "refreshed", &d->refreshed);
    lock_get_int(o, "pid_start", &start);
    d->pid_start = (uint64_t)start;
    lock_copy(d->id, sizeof(d->id), json_string_value(id));
    lock_copy(d->host, sizeof(d->host), json_string_value(json_object_get(o, "host")));
    lock_copy(d->command, sizeof(d->command), json_string_value(json_object_get(o, "command")));
    d->exclusive = json_is_true(ex);
    rc = 0;
done:
    json_decref(o);
    return rc;
}

int cb__lock_doc_get(
    cb_store *store, const char *home, const char *name, cb_lock_doc *d, cb_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = cb_store_read_all(store, home, name, CB_LOCK_MAX_DOC, &text, &len, err);
    if (rc == 0 && lock_doc_parse(d, text, len) < 0)
        rc = cb_error_set(err, CB_ECORRUPT, "lock object '%s' is not a cinderblock lock", name);
    free(text);
    return rc;
}

int cb__lock_doc_stale(const cb_lock_doc *d, const char *my_host, int64_t now)
{
    if (now > d->expires)
        return 1;
    if (strcmp(d->host, my_host) != 0 || d->pid <= 0)
        return 0; /* another host's process: only its expiry can tell */
    if (kill((pid_t)d->pid, 0) < 0 && errno == ESRCH)
        return 1;
    uint64_t start = lock_pid_start(d->pid);
    return d->pid_start != 0 && start != 0 && start != d->pid_start;
}

int cb__lock_names(cb_store *store, const char *home, cb_strv *out, cb_error *err)
{
    int rc = cb_store_list(store, home, CB_LOCK_PREFIX, 0, cb__strv_collect, out, err);
    if (rc == CB_ENOTFOUND) { /* no home container: no locks */
        cb_error_clear(err);
        rc = 0;
    }
    if (rc < 0)
        cb__strv_dispose(out);
    return rc;
}
