/* SPDX-License-Identifier: Apache-2.0 */
/* output.c: printing backups as text tables or JSON documents. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"

static json_t *out_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian): no timegm, no TZ. */
static long long out_days(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

int out_time_parse(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (s == NULL ||
        sscanf(s, "%4d-%2d-%2d%*1[ T]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n == 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    const char *p = s + n;
    if (*p == '.') /* fractions of a second: dropped */
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    long off = 0;
    if (*p == '+' || *p == '-') {
        int oh, om, k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || p[1 + k] != '\0')
            return -1;
        off = (*p == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
    } else if (!(*p == 'Z' && p[1] == '\0') && *p != '\0') {
        return -1; /* no offset: Cinder's times are UTC */
    }
    *out =
        (int64_t)(out_days(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - off);
    return 0;
}

json_t *out_time_epoch(int64_t t)
{
    char buf[32];
    struct tm tm;
    time_t tt = (time_t)t;
    if (t < 0 || gmtime_r(&tt, &tm) == NULL)
        return json_null();
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

json_t *out_time(const char *recorded)
{
    int64_t t;
    return out_time_parse(recorded, &t) == 0 ? out_time_epoch(t) : json_null();
}

json_t *out_seconds(double secs)
{
    return json_real((double)(long long)(secs * 1000 + 0.5) / 1000);
}

json_t *out_info_object(const cb_backup_info *b)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(b->backup_id));
    json_object_set_new(o, "volume_id", out_str(b->volume_id));
    json_object_set_new(o, "created_at", out_time(b->created_at));
    json_object_set_new(o, "parent_id", out_str(b->parent_id));
    json_object_set_new(o, "incremental", json_boolean(b->parent_id != NULL));
    json_object_set_new(o, "chain_length", json_integer(b->chain_length));
    json_object_set_new(o, "size", json_integer((json_int_t)b->size));
    json_object_set_new(o, "object_count", json_integer((json_int_t)b->object_count));
    json_object_set_new(o, "data_bytes", json_integer((json_int_t)b->data_bytes));
    /* only a backup just made knows what it stored: Cinder's metadata does not record it */
    json_object_set_new(o, "stored_bytes",
                        b->stored_bytes ? json_integer((json_int_t)b->stored_bytes) : json_null());
    json_object_set_new(o, "reused_objects", json_integer((json_int_t)b->reused_objects));
    json_object_set_new(o, "container", out_str(b->container));
    json_object_set_new(o, "prefix", out_str(b->prefix));
    json_object_set_new(o, "name", out_str(b->name));
    json_object_set_new(o, "description", out_str(b->description));
    json_object_set_new(o, "compression", out_str(b->compression));
    json_object_set_new(o, "sha_block", b->sha_block ? json_integer(b->sha_block) : json_null());
    json_object_set_new(o, "volume_meta", out_str(b->volume_meta));
    json_object_set_new(o, "problem", out_str(b->problem));
    return o;
}

void out_json(json_t *v)
{
    json_dumpf(v, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    fputc('\n', stdout);
    json_decref(v);
}

void out_summary(json_t *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "message_type", json_string("summary"));
    json_object_update(o, v);
    json_decref(v);
    out_json(o);
}

void out_info_json(const cb_backup_info *b, const char *key)
{
    json_t *o = json_object();
    json_object_set_new(o, key, out_info_object(b));
    out_json(o);
}

void out_backup_summary(const cli *c, const cb_backup_info *b)
{
    char size[32], data[32], stored[32];
    cli_info(c,
             "backup %s of volume %s: %s volume, %llu objects holding %s, stored as %s in "
             "container '%s'\n",
             b->backup_id, b->volume_id, cli_human(b->size, size),
             (unsigned long long)b->object_count, cli_human(b->data_bytes, data),
             cli_human(b->stored_bytes, stored), b->container);
    if (b->reused_objects)
        cli_info(c, "resumed: %llu objects of the interrupted run kept\n",
                 (unsigned long long)b->reused_objects);
}

void out_skipped(const cli *c, const cb_progress *pr)
{
    char zero[32], same[32];
    if (pr->bytes_zero == 0 && pr->bytes_unchanged == 0)
        return;
    cli_info(c, "skipped: %s all zero, %s unchanged since the parent\n",
             cli_human(pr->bytes_zero, zero), cli_human(pr->bytes_unchanged, same));
}

void out_list_table(cb_backup_info *const *v, size_t n)
{
    char size[32];
    printf("%-36s  %-36s  %-20s  %-36s  %10s  %7s  %s\n", "ID", "VOLUME ID", "CREATED", "PARENT",
           "SIZE", "OBJECTS", "CONTAINER");
    for (size_t i = 0; i < n; i++) {
        const cb_backup_info *b = v[i];
        char created[32];
        out_time_text(b->created_at, created);
        printf("%-36s  %-36s  %-20s  %-36s  %10s  %7llu  %s%s%s\n", b->backup_id,
               b->volume_id ? b->volume_id : "-", created, b->parent_id ? b->parent_id : "-",
               cli_human(b->size, size), (unsigned long long)b->object_count, b->container,
               b->problem ? "  !! " : "", b->problem ? b->problem : "");
    }
}

const char *out_time_text(const char *recorded, char buf[32])
{
    int64_t t;
    struct tm tm;
    time_t tt;
    if (out_time_parse(recorded, &t) < 0) { /* not a time we know: as recorded */
        snprintf(buf, 32, "%s", recorded ? recorded : "-");
        return buf;
    }
    tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static void out_kv(const char *k, const char *v)
{
    printf("%-14s %s\n", k, v ? v : "-");
}

void out_show_text(const cb_backup_info *b)
{
    char buf[64], human[32];
    out_kv("id:", b->backup_id);
    out_kv("volume id:", b->volume_id);
    out_kv("name:", b->name);
    out_kv("description:", b->description);
    char created[32];
    out_kv("created:", out_time_text(b->created_at, created));
    snprintf(buf, sizeof(buf), "%s (chain of %u)", b->parent_id ? "incremental" : "full",
             b->chain_length);
    out_kv("kind:", buf);
    out_kv("parent:", b->parent_id);
    snprintf(buf, sizeof(buf), "%llu bytes (%s)", (unsigned long long)b->size,
             cli_human(b->size, human));
    out_kv("size:", buf);
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)b->object_count);
    out_kv("objects:", buf);
    snprintf(buf, sizeof(buf), "%llu bytes (%s)", (unsigned long long)b->data_bytes,
             cli_human(b->data_bytes, human));
    out_kv("data:", buf);
    out_kv("compression:", b->compression);
    if (b->sha_block) {
        snprintf(buf, sizeof(buf), "%u", b->sha_block);
        out_kv("sha block:", buf);
    }
    out_kv("container:", b->container);
    out_kv("prefix:", b->prefix);
    out_kv("volume meta:", b->volume_meta);
    if (b->problem)
        out_kv("problem:", b->problem);
}

const char *out_age(int64_t when, char buf[32])
{
    int64_t d = (int64_t)time(NULL) - when;
    if (when < 0)
        snprintf(buf, 32, "?");
    else if (d < 120)
        snprintf(buf, 32, "%lld s", (long long)(d < 0 ? 0 : d));
    else if (d < 7200)
        snprintf(buf, 32, "%lld min", (long long)(d / 60));
    else if (d < 172800)
        snprintf(buf, 32, "%lld h", (long long)(d / 3600));
    else
        snprintf(buf, 32, "%lld d", (long long)(d / 86400));
    return buf;
}

json_t *out_leftovers_json(const cb_leftover *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object(), *names = json_array();
        for (size_t k = 0; k < v[i].n_names; k++)
            json_array_append_new(names, json_string(v[i].names[k]));
        json_object_set_new(o, "backup_id", json_string(v[i].backup_id));
        json_object_set_new(o, "container", json_string(v[i].container));
        json_object_set_new(o, "prefix", json_string(v[i].prefix));
        json_object_set_new(o, "reason", json_string(v[i].reason));
        json_object_set_new(o, "objects", json_integer((json_int_t)v[i].objects));
        json_object_set_new(o, "bytes", json_integer((json_int_t)v[i].bytes));
        json_object_set_new(o, "newest", out_time_epoch(v[i].newest));
        json_object_set_new(o, "resumable", json_boolean(v[i].resumable));
        json_object_set_new(o, "active", json_boolean(v[i].active));
        json_object_set_new(o, "names", names);
        json_array_append_new(arr, o);
    }
    return arr;
}

void out_leftovers_table(const cb_leftover *v, size_t n)
{
    char size[32], age[32];
    printf("%-36s  %7s  %10s  %8s  %s\n", "BACKUP ID", "OBJECTS", "SIZE", "AGE", "WHAT");
    for (size_t i = 0; i < n; i++)
        printf("%-36s  %7llu  %10s  %8s  %s: %s in container '%s'\n", v[i].backup_id,
               (unsigned long long)v[i].objects, cli_human(v[i].bytes, size),
               out_age(v[i].newest, age), v[i].reason, v[i].prefix, v[i].container);
}

json_t *out_locks_json(const cb_lock_info *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(v[i].name));
        json_object_set_new(o, "host", out_str(v[i].host));
        json_object_set_new(o, "pid", json_integer((json_int_t)v[i].pid));
        json_object_set_new(o, "command", out_str(v[i].command));
        json_object_set_new(o, "exclusive", json_boolean(v[i].exclusive));
        json_object_set_new(o, "created", out_time_epoch(v[i].created));
        json_object_set_new(o, "expires", out_time_epoch(v[i].expires));
        json_object_set_new(o, "stale", json_boolean(v[i].stale));
        json_array_append_new(arr, o);
    }
    return arr;
}

void out_locks_text(const cli *c, const char *verb, const cb_lock_info *v, size_t n)
{
    char age[32];
    for (size_t i = 0; i < n; i++) {
        if (v[i].unreadable)
            cli_info(c, "%s unreadable lock object %s\n", verb, v[i].name);
        else
            cli_info(c, "%s %s lock of '%s' (host %s, pid %lld, %s old%s)\n", verb,
                     v[i].exclusive ? "an exclusive" : "a shared", v[i].command, v[i].host,
                     (long long)v[i].pid, out_age(v[i].created, age), v[i].stale ? ", stale" : "");
    }
}
