/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_map.c: `map BACKUP_ID`: the backup served read-only over NBD by nbdkit and the
 * cinderblock plugin, in the background; `map` alone lists the running maps. nbdkit runs in
 * the foreground (-f) of a detached process whose PID we know (mp_spawn), so that we see it
 * die; it is ready once it writes its pidfile, which nbdkit does when it accepts connections.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "help_text.h"
#include "output.h"

#define map_usage cli_help_map /* docs/cinderblock.1.md, its ```help block */
#define MAP_WAIT_SECONDS 60    /* for nbdkit to serve (a slow store's first listing) */

enum { MP_SOCKET = 0x400, MP_PORT, MP_CACHE, MP_DEVICE };

typedef struct map_opts {
    const char *socket, *device;
    int port;
    unsigned long long cache;
} map_opts;

static int mp_opt(cli *c, int opt, const char *arg, void *payload)
{
    map_opts *o = payload;
    unsigned long long n;
    switch (opt) {
    case MP_SOCKET:
        o->socket = arg;
        return 0;
    case MP_PORT:
        if (cli_parse_size(arg, &n) < 0 || n == 0 || n > 65535)
            return cli_usage_error(c, map_usage, "--port: '%s' is not a port (1 to 65535)", arg);
        o->port = (int)n;
        return 0;
    case MP_CACHE:
        if (cli_parse_size(arg, &n) < 0 || n == 0)
            return cli_usage_error(c, map_usage, "--cache: '%s' is not a size (K, M, G)", arg);
        o->cache = n;
        return 0;
    case MP_DEVICE:
        o->device = arg;
        return 0;
    }
    return CLI_EXIT_USAGE;
}

/* The running maps: a table, or {"maps": [...]}. Stale records are skipped. */
static int mp_list(cli *c)
{
    map_record *v = NULL;
    size_t n = 0;
    cb_error err = { 0 };
    if (map_records(&v, &n, &err) < 0)
        return cli_fail(c, &err);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (!map_pid_is_nbdkit(v[i].pid))
            continue;
        if (c->json)
            json_array_append_new(arr, map_record_json(&v[i]));
        else
            printf("%s  %s  pid %ld%s%s\n", v[i].backup_id, v[i].uri, v[i].pid,
                   v[i].device ? "  " : "", v[i].device ? v[i].device : "");
    }
    if (c->json)
        out_json(json_pack("{s:o}", "maps", arr));
    else
        json_decref(arr);
    map_records_free(v, n);
    return CLI_EXIT_OK;
}

/* --device: root, and a block device (the nbd module loaded), checked before anything runs. */
static int mp_check_device(cli *c, const char *dev)
{
    struct stat st;
    cb_error err = { 0 };
    if (geteuid() != 0)
        cb_error_set(&err, CB_EINVAL, "--device %s: attaching an NBD device needs root", dev);
    else if (stat(dev, &st) < 0 || !S_ISBLK(st.st_mode))
        cb_error_set(&err, CB_EINVAL,
                     "--device %s: no such block device (is the kernel's nbd module loaded? "
                     "modprobe nbd)",
                     dev);
    return err.code < 0 ? cli_fail(c, &err) : 0;
}

/* A socket already served by a live map: refused, naming its URI. */
static int mp_check_socket(cli *c, const char *sock)
{
    map_record *v = NULL;
    size_t n = 0;
    cb_error err = { 0 };
    char dir[8192];
    snprintf(dir, sizeof(dir), "%s", sock);
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        *(slash == dir ? slash + 1 : slash) = '\0';
    struct stat st;
    if (slash != NULL && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
        cb_error_set(&err, CB_EINVAL, "--socket %s: directory %s does not exist", sock, dir);
        return cli_fail(c, &err);
    }
    if (map_records(&v, &n, &err) < 0)
        return cli_fail(c, &err);
    for (size_t i = 0; i < n && err.code == 0; i++)
        if (v[i].socket != NULL && strcmp(v[i].socket, sock) == 0 && map_pid_is_nbdkit(v[i].pid))
            cb_error_set(&err, CB_EEXISTS, "%s is served already: backup %s at %s (unmap it first)",
                         sock, v[i].backup_id, v[i].uri);
    map_records_free(v, n);
    if (err.code < 0)
        return cli_fail(c, &err);
    if (lstat(sock, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            cb_error_set(&err, CB_EEXISTS, "--socket %s: exists and is not a socket", sock);
            return cli_fail(c, &err);
        }
        unlink(sock); /* a stale socket of a map that died */
    }
    return 0;
}

/* The child: nbdkit in the foreground, in its own session, its output into the log, the
 * store URL in its environment (never on a command line others can read). */
static void mp_exec(cli *c, const map_opts *o, const char *id, const char *pidfile, const char *log)
{
    const char *nbdkit = getenv("CINDERBLOCK_NBDKIT"),
               *plugin = getenv("CINDERBLOCK_NBDKIT_PLUGIN");
    char backup[100], cache[64], port[16];
    const char *argv[24];
    int k = 0;
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600),
        null = open("/dev/null", O_RDWR);
    if (fd < 0 || null < 0)
        _exit(127);
    dup2(null, 0);
    dup2(null, 1);
    dup2(fd, 2);
    setenv("CINDERBLOCK_STORE", c->store_url, 1);
    if (c->store_opts.lock_host != NULL)
        setenv("CINDERBLOCK_LOCK_HOST", c->store_opts.lock_host, 1);
    snprintf(backup, sizeof(backup), "backup=%s", id);
    snprintf(cache, sizeof(cache), "cache=%llu", o->cache);
    snprintf(port, sizeof(port), "%d", o->port);
    argv[k++] = nbdkit != NULL && nbdkit[0] ? nbdkit : "nbdkit";
    argv[k++] = "-f";
    argv[k++] = "-r";
    argv[k++] = "--log=stderr";
    argv[k++] = "--pidfile";
    argv[k++] = pidfile;
    if (o->port > 0) {
        argv[k++] = "-i";
        argv[k++] = "127.0.0.1";
        argv[k++] = "-p";
        argv[k++] = port;
    } else {
        argv[k++] = "-U";
        argv[k++] = o->socket;
    }
    argv[k++] = plugin != NULL && plugin[0] ? plugin : "cinderblock";
    argv[k++] = backup;
    if (o->cache > 0)
        argv[k++] = cache;
    if (c->store_opts.no_lock)
        argv[k++] = "lock=false";
    argv[k] = NULL;
    execvp(argv[0], (char *const *)argv);
    fprintf(stderr, "cinderblock map: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* The log's last line, for an error (nbdkit's own "nbdkit: error: ..."). */
static void mp_log_tail(const char *log, char *out, size_t cap)
{
    FILE *f = fopen(log, "r");
    char line[1024];
    out[0] = '\0';
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (line[0] != '\n')
            snprintf(out, cap, "%s", line);
    if (f != NULL)
        fclose(f);
    size_t n = strlen(out);
    if (n > 0 && out[n - 1] == '\n')
        out[n - 1] = '\0';
}

/* 1 while `pid` runs (a zombie, which an init that does not reap leaves, is gone). */
static int mp_alive(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *end = strrchr(buf, ')'); /* "PID (COMM) STATE ..." */
    return end != NULL && end[1] == ' ' && end[2] != 'Z' && end[2] != 'X';
}

/* Wait until nbdkit writes its pidfile (it serves), or dies. */
static int mp_wait(pid_t pid, const char *pidfile, const char *log, cb_error *err)
{
    for (int i = 0; i < MAP_WAIT_SECONDS * 20; i++) {
        struct stat st;
        if (stat(pidfile, &st) == 0 && st.st_size > 0)
            return 0;
        if (!mp_alive(pid)) {
            char tail[1024];
            mp_log_tail(log, tail, sizeof(tail));
            return cb_error_set(err, CB_ERROR, "nbdkit stopped: %s (its log: %s)",
                                tail[0] ? tail : "no message", log);
        }
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGTERM);
    return cb_error_set(err, CB_ERROR, "nbdkit did not serve within %d s (log: %s)",
                        MAP_WAIT_SECONDS, log);
}

/*
 * nbdkit, detached: nbdkit asks for SIGTERM when its parent dies (PR_SET_PDEATHSIG, seen with
 * -f), so its parent is a short-lived middle process, and nbdkit starts only once it has been
 * handed to another parent (getppid changes: the kernel sends the death signal when it
 * reparents, after the middle process's descriptors are closed, so a pipe's end is too early).
 * Its PID, or -1.
 */
static pid_t
mp_spawn(cli *c, const map_opts *o, const char *id, const char *pidfile, const char *log)
{
    int q[2];
    pid_t pid = -1;
    if (pipe(q) < 0)
        return -1;
    pid_t mid = fork();
    if (mid == 0) {
        close(q[0]);
        setsid();
        pid_t parent = getpid(); /* not getppid() in the child: we may be gone already */
        pid_t nbd = fork();
        if (nbd == 0) {
            close(q[1]);
            for (int i = 0; i < 10000 && getppid() == parent; i++) {
                struct timespec ts = { 0, 1000 * 1000 };
                nanosleep(&ts, NULL);
            }
            mp_exec(c, o, id, pidfile, log);
        }
        ssize_t w = write(q[1], &nbd, sizeof(nbd));
        _exit(w == (ssize_t)sizeof(nbd) && nbd > 0 ? 0 : 1);
    }
    close(q[1]);
    if (mid > 0 && (read(q[0], &pid, sizeof(pid)) != (ssize_t)sizeof(pid) || pid <= 0))
        pid = -1;
    close(q[0]);
    if (mid > 0)
        waitpid(mid, NULL, 0);
    return pid;
}

/* --device: nbd-client attaches the export, read-only. */
static int mp_attach(const map_record *r, cb_error *err)
{
    char port[16], cmd[8192];
    snprintf(port, sizeof(port), "%d", r->port);
    if (r->socket != NULL)
        snprintf(cmd, sizeof(cmd), "nbd-client -u '%s' '%s' -readonly -b 4096 >/dev/null 2>&1",
                 r->socket, r->device);
    else
        snprintf(cmd, sizeof(cmd), "nbd-client 127.0.0.1 %s '%s' -readonly -b 4096 >/dev/null 2>&1",
                 port, r->device);
    if (strchr(r->device, '\'') != NULL || (r->socket != NULL && strchr(r->socket, '\'')) ||
        system(cmd) != 0)
        return cb_error_set(err, CB_ERROR, "nbd-client could not attach %s", r->device);
    return 0;
}

/* Start nbdkit for `id`, wait until it serves, record it; fills r. */
static int mp_start(cli *c, const map_opts *o, const char *id, map_record *r, cb_error *err)
{
    char dir[4096], pidfile[4200], log[4200], uri[4300];
    int rc = map_dir(dir, sizeof(dir), err);
    if (rc < 0)
        return rc;
    snprintf(pidfile, sizeof(pidfile), "%s/.%s.%ld.pid", dir, id, (long)getpid());
    snprintf(log, sizeof(log), "%s/.%s.%ld.log", dir, id, (long)getpid());
    unlink(pidfile);
    fflush(NULL);
    pid_t child = mp_spawn(c, o, id, pidfile, log);
    if (child < 0)
        return cb_error_set_sys(err, CB_ERROR, errno, "cannot start nbdkit (fork)");
    rc = mp_wait(child, pidfile, log, err);
    unlink(pidfile);
    if (rc < 0)
        return rc; /* the log is kept: the message names it */
    if (o->port > 0)
        snprintf(uri, sizeof(uri), "nbd://127.0.0.1:%d", o->port);
    else
        snprintf(uri, sizeof(uri), "nbd+unix:///?socket=%s", o->socket);
    char path[4200], final_log[4200];
    snprintf(path, sizeof(path), "%s/%ld.json", dir, (long)child);
    snprintf(final_log, sizeof(final_log), "%s/%ld.log", dir, (long)child);
    rename(log, final_log);
    r->backup_id = strdup(id);
    r->uri = strdup(uri);
    r->socket = o->socket ? strdup(o->socket) : NULL;
    r->port = o->port;
    r->device = o->device ? strdup(o->device) : NULL;
    r->log = strdup(final_log);
    r->path = strdup(path);
    r->pid = (long)child;
    if ((rc = map_record_write(r, err)) == 0 && r->device != NULL)
        rc = mp_attach(r, err);
    if (rc < 0) {
        kill(child, SIGTERM);
        map_forget(r);
    }
    return rc;
}

int cmd_map(cli *c, int argc, char **argv)
{
    static const struct option opts[] = { { "socket", required_argument, NULL, MP_SOCKET },
                                          { "port", required_argument, NULL, MP_PORT },
                                          { "cache", required_argument, NULL, MP_CACHE },
                                          { "device", required_argument, NULL, MP_DEVICE },
                                          { NULL, 0, NULL, 0 } };
    map_opts o = { 0 };
    map_record r = { 0 };
    cb_backup_info *info = NULL;
    cb_error err = { 0 };
    char *id = NULL;
    int first, done;
    int rc = cli_parse(c, argc, argv, opts, NULL, mp_opt, &o, map_usage, &first, &done);
    if (rc != 0 || done)
        return rc;
    if (argc - first > 1)
        return cli_usage_error(c, map_usage, "map: one BACKUP_ID only");
    if (o.socket != NULL && o.port > 0)
        return cli_usage_error(c, map_usage, "map: --socket or --port, not both");
    if (argc == first) {
        if (o.socket || o.port || o.cache || o.device)
            return cli_usage_error(c, map_usage, "map: which BACKUP_ID?");
        return mp_list(c);
    }
    if (o.device != NULL && (rc = mp_check_device(c, o.device)) != 0)
        return rc;
    if ((rc = cli_open_store(c)) != 0 || (rc = cli_resolve_id(c, argv[first], &id)) != 0)
        return rc;
    /* an unknown backup is exit 10 here, as for every command, not nbdkit's failure */
    if (cb_backup_show(c->store, id, &info, &err) < 0)
        return cli_fail(c, &err);
    cb_backup_info_free(info);
    char dir[4096], sock[4200 + 40];
    if (o.port == 0 && o.socket == NULL) {
        if (map_dir(dir, sizeof(dir), &err) < 0)
            return cli_fail(c, &err);
        snprintf(sock, sizeof(sock), "%s/%s.sock", dir, id);
        o.socket = sock;
    }
    if (o.socket != NULL && (rc = mp_check_socket(c, o.socket)) != 0)
        return rc;
    cli_step(c, "starting nbdkit for backup %s", id);
    if (mp_start(c, &o, id, &r, &err) < 0)
        return cli_fail(c, &err);
    if (c->json)
        out_json(map_record_json(&r));
    else
        printf("%s\n", r.uri);
    map_record_dispose(&r);
    return CLI_EXIT_OK;
}
