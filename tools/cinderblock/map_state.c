/* SPDX-License-Identifier: Apache-2.0 */
/*
 * map_state.c: the running maps (`map`, `unmap`), one record each in the maps' directory:
 * PID.json, written by `map` once nbdkit serves, removed by `unmap`. A record whose nbdkit
 * is gone (it crashed, the host rebooted into a fresh /run) is stale and skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

int map_dir(char *out, size_t cap, cb_error *err)
{
    const char *env = getenv("CINDERBLOCK_RUNTIME_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    if (env != NULL && env[0] != '\0')
        snprintf(out, cap, "%s", env);
    else if (geteuid() == 0)
        snprintf(out, cap, "/run/cinderblock");
    else if (xdg != NULL && xdg[0] == '/')
        snprintf(out, cap, "%s/cinderblock", xdg);
    else
        snprintf(out, cap, "/tmp/cinderblock-%u", (unsigned)geteuid());
    if (mkdir(out, 0700) < 0 && errno != EEXIST)
        return cb_error_set_sys(err, CB_EIO, errno, "cannot make the maps' directory %s", out);
    /* in a shared /tmp, a directory someone else made there must not be trusted */
    if (lstat(out, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
        return cb_error_set(err, CB_EINVAL,
                            "the maps' directory %s is not a directory of "
                            "this user's",
                            out);
    return 0;
}

/* 1 if `pid` is a live nbdkit (so that a reused PID is never signalled). */
int map_pid_is_nbdkit(long pid)
{
    char path[64], cmd[4096];
    snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
    FILE *f = pid > 1 ? fopen(path, "r") : NULL;
    if (f == NULL)
        return 0;
    size_t n = fread(cmd, 1, sizeof(cmd) - 1, f);
    fclose(f);
    cmd[n] = '\0';
    const char *base = strrchr(cmd, '/');
    return strstr(base != NULL ? base + 1 : cmd, "nbdkit") != NULL;
}

static char *map_dup(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? strdup(s) : NULL;
}

void map_record_dispose(map_record *r)
{
    free(r->backup_id);
    free(r->uri);
    free(r->socket);
    free(r->device);
    free(r->log);
    free(r->path);
    memset(r, 0, sizeof(*r));
}

static int map_record_read(const char *path, map_record *r)
{
    json_t *o = json_load_file(path, 0, NULL);
    memset(r, 0, sizeof(*r));
    if (!json_is_object(o)) {
        json_decref(o);
        return -1;
    }
    r->backup_id = map_dup(o, "backup_id");
    r->uri = map_dup(o, "uri");
    r->socket = map_dup(o, "socket");
    r->device = map_dup(o, "device");
    r->log = map_dup(o, "log");
    r->path = strdup(path);
    r->pid = (long)json_integer_value(json_object_get(o, "pid"));
    r->port = (int)json_integer_value(json_object_get(o, "port"));
    json_decref(o);
    if (r->backup_id == NULL || r->uri == NULL || r->path == NULL || r->pid <= 0) {
        map_record_dispose(r);
        return -1;
    }
    return 0;
}

json_t *map_record_json(const map_record *r)
{
    json_t *o = json_pack("{s:s,s:s,s:I}", "backup_id", r->backup_id, "uri", r->uri, "pid",
                          (json_int_t)r->pid);
    json_object_set_new(o, "socket", r->socket ? json_string(r->socket) : json_null());
    json_object_set_new(o, "port", r->port > 0 ? json_integer(r->port) : json_null());
    json_object_set_new(o, "device", r->device ? json_string(r->device) : json_null());
    json_object_set_new(o, "log", r->log ? json_string(r->log) : json_null());
    return o;
}

int map_record_write(const map_record *r, cb_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", r->path);
    json_t *o = map_record_json(r);
    int rc = json_dump_file(o, tmp, JSON_COMPACT);
    json_decref(o);
    if (rc < 0 || rename(tmp, r->path) < 0) {
        unlink(tmp);
        return cb_error_set_sys(err, CB_EIO, errno, "cannot write the map's record %s", r->path);
    }
    return 0;
}

int map_records(map_record **out, size_t *n_out, cb_error *err)
{
    char dir[4096];
    int rc = map_dir(dir, sizeof(dir), err);
    *out = NULL;
    *n_out = 0;
    if (rc < 0)
        return rc;
    DIR *d = opendir(dir);
    if (d == NULL)
        return cb_error_set_sys(err, CB_EIO, errno, "cannot read the maps' directory %s", dir);
    map_record *v = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        char path[8192];
        map_record r;
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (map_record_read(path, &r) < 0)
            continue;
        map_record *nv = realloc(v, (n + 1) * sizeof(*v));
        if (nv == NULL) {
            map_record_dispose(&r);
            break;
        }
        v = nv;
        v[n++] = r;
    }
    closedir(d);
    *out = v;
    *n_out = n;
    return 0;
}

void map_records_free(map_record *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        map_record_dispose(&v[i]);
    free(v);
}

void map_forget(const map_record *r)
{
    unlink(r->path);
    if (r->log != NULL)
        unlink(r->log);
    if (r->socket != NULL && !map_pid_is_nbdkit(r->pid))
        unlink(r->socket); /* nbdkit removes its own; one killed leaves it */
}
