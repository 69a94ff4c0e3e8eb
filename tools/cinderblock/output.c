/* SPDX-License-Identifier: Apache-2.0 */
/* output.c: printing backups as text tables or JSON documents. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "output.h"

static json_t *out_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *out_info_object(const cb_backup_info *b)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(b->backup_id));
    json_object_set_new(o, "volume_id", out_str(b->volume_id));
    json_object_set_new(o, "created_at", out_str(b->created_at));
    json_object_set_new(o, "parent_id", out_str(b->parent_id));
    json_object_set_new(o, "incremental", json_boolean(b->parent_id != NULL));
    json_object_set_new(o, "chain_length", json_integer(b->chain_length));
    json_object_set_new(o, "size", json_integer((json_int_t)b->size));
    json_object_set_new(o, "object_count", json_integer((json_int_t)b->object_count));
    json_object_set_new(o, "data_bytes", json_integer((json_int_t)b->data_bytes));
    if (b->stored_bytes)
        json_object_set_new(o, "stored_bytes", json_integer((json_int_t)b->stored_bytes));
    if (b->reused_objects)
        json_object_set_new(o, "reused_objects", json_integer((json_int_t)b->reused_objects));
    json_object_set_new(o, "container", out_str(b->container));
    json_object_set_new(o, "prefix", out_str(b->prefix));
    json_object_set_new(o, "name", out_str(b->name));
    json_object_set_new(o, "description", out_str(b->description));
    json_object_set_new(o, "compression", out_str(b->compression));
    if (b->sha_block)
        json_object_set_new(o, "sha_block", json_integer(b->sha_block));
    json_object_set_new(o, "volume_meta", out_str(b->volume_meta));
    if (b->problem)
        json_object_set_new(o, "problem", json_string(b->problem));
    return o;
}

void out_json(json_t *v)
{
    json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(v);
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

#define OUT_NAME_MAX 24 /* the NAME column's widest */

/* How many bytes of `s` make its first `max` characters (UTF-8: a character is a byte
 * that does not continue another); `*chars` is how many characters that is. */
static int out_fit(const char *s, int max, int *chars)
{
    int b = 0, n = 0;
    while (s[b] != '\0') {
        if (((unsigned char)s[b] & 0xc0) != 0x80 && n++ == max) {
            n--;
            break;
        }
        b++;
    }
    *chars = n;
    return b;
}

void out_list_table(cb_backup_info *const *v, size_t n)
{
    char size[32], stored[32];
    int w = 4, chars; /* "NAME" */
    for (size_t i = 0; i < n; i++)
        if (v[i]->name != NULL && (out_fit(v[i]->name, OUT_NAME_MAX, &chars), chars) > w)
            w = chars;
    printf("%-36s  %-*s  %-36s  %-19s  %-36s  %10s  %10s  %7s  %s\n", "ID", w, "NAME", "VOLUME ID",
           "CREATED", "PARENT", "SIZE", "STORED", "OBJECTS", "CONTAINER");
    for (size_t i = 0; i < n; i++) {
        const cb_backup_info *b = v[i];
        const char *name = b->name && b->name[0] ? b->name : "-";
        char created[26];
        int fit = out_fit(name, w, &chars);
        snprintf(created, sizeof(created), "%.19s", b->created_at ? b->created_at : "-");
        printf("%-36s  %.*s%*s  %-36s  %-19s  %-36s  %10s  %10s  %7llu  %s%s%s\n", b->backup_id,
               fit, name, w - chars, "", b->volume_id ? b->volume_id : "-", created,
               b->parent_id ? b->parent_id : "-", cli_human(b->size, size),
               cli_human(b->stored_bytes, stored), (unsigned long long)b->object_count,
               b->container, b->problem ? "  !! " : "", b->problem ? b->problem : "");
    }
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
    out_kv("created:", b->created_at);
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
        json_object_set_new(o, "newest",
                            v[i].newest >= 0 ? json_integer(v[i].newest) : json_null());
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
        json_object_set_new(o, "created", json_integer((json_int_t)v[i].created));
        json_object_set_new(o, "expires", json_integer((json_int_t)v[i].expires));
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
