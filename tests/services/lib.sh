# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# tests/services/lib.sh - shared by swift.sh and keystone.sh (sourced, not run).
#
# Process model, and why:
#  * Every daemon starts in its own session (setsid), through svc.py (a
#    Python helper written into DIR/etc).  Swift's master answers SIGTERM with
#    killpg(0, SIGTERM); in the caller's process group that would also kill
#    the shell or make that started it.
#  * The four Swift servers fork from one Python process that has imported
#    Swift once; with two start-up fixes (see svc.py) this cut swift.sh start
#    from ~6 s to ~2 s on a 2-core machine.
#  * Every daemon carries CB_SVC_DIR=<its state dir> in its environment.  A
#    pid from a pid file counts as ours only while /proc/PID/environ still
#    shows that marker (pids get reused).  Nothing is ever killed by name.
#  * Daemons read /dev/null and write DIR/log/*.log, so a caller that
#    captures our output ($(...), a pipe) is never kept waiting by them.
#  * Debian's /usr/bin/python3 is used on purpose: a pyenv python3 on PATH
#    cannot see the swift/keystone packages in /usr/lib/python3/dist-packages.

SVC_PY=${SVC_PYTHON:-/usr/bin/python3}
SVC_ME=${SVC_ME:-$(basename "$0")}

svc_die() { echo "$SVC_ME: $*" >&2; exit 1; }

# milliseconds since the epoch, and "N.NNN s" since such a stamp
svc_now() { date +%s%3N; }
svc_since() { local ms=$(( $(svc_now) - $1 )); printf '%d.%03ds' $((ms / 1000)) $((ms % 1000)); }

# svc_dir CMD DIR: set SVC_DIR to the absolute state dir (start creates it;
# a missing DIR means "nothing running" for stop, an error otherwise)
svc_dir() {
    local cmd=$1 dir=$2
    case $cmd in start) mkdir -p "$dir" ;; esac
    if [ ! -d "$dir" ]; then
        [ "$cmd" = stop ] && { echo "nothing to stop: no $dir"; exit 0; }
        svc_die "no such state dir: $dir"
    fi
    # shellcheck disable=SC2034  # read by the sourcing script
    SVC_DIR=$(cd "$dir" && pwd -P)
}

# svc_load FILE / svc_save FILE VAR...: settings that "start" used, so that
# stop/status/env/start-proxy need no environment.  Saved as saved_VAR=...
# shellcheck disable=SC1090  # (a per-DIR file)
svc_load() { if [ -s "$1" ]; then . "$1"; fi; }
svc_save() {
    local file=$1 v; shift
    for v in "$@"; do printf 'saved_%s=%q\n' "$v" "${!v}"; done > "$file"
}

# --- processes ---------------------------------------------------------------

# svc_ours DIR PID: true if PID is alive (not a zombie: those have an empty
# environ) and carries our marker
svc_ours() {
    { tr '\0' '\n' < "/proc/$2/environ"; } 2> /dev/null | grep -qxF "CB_SVC_DIR=$1"
}

# svc_owned DIR NAME: print the pid of daemon NAME if it is alive and ours
svc_owned() {
    local pid
    pid=$(cat "$1/run/$2.pid" 2> /dev/null) || return 1
    case $pid in '' | *[!0-9]*) return 1 ;; esac
    svc_ours "$1" "$pid" || return 1
    echo "$pid"
}

# svc_spawn DIR NAME PROG ARGS...: start a daemon in its own session (via
# svc.py exec), logging to DIR/log/NAME.log; its pid goes to DIR/run/NAME.pid
svc_spawn() {
    local dir=$1 name=$2; shift 2
    echo "==== start $(date '+%F %T') ====" >> "$dir/log/$name.log"
    CB_SVC_DIR=$dir "$SVC_PY" "$dir/etc/svc.py" exec "$@" \
        >> "$dir/log/$name.log" 2>&1 < /dev/null &
    echo $! > "$dir/run/$name.pid"
}

# svc_groups_alive DIR PGID...: print those of the process groups that still
# hold a live process carrying our marker (a master's workers may outlive it
# by a moment).  One pass over /proc, no subshell per process.
svc_groups_alive() {
    local dir=$1 p stat pgrp found=" " want
    shift
    want=" $* "
    for p in /proc/[0-9]*; do
        { read -r stat < "$p/stat"; } 2> /dev/null || continue
        stat=${stat##*) }             # after "(comm)": state ppid pgrp ...
        stat=${stat#* }
        stat=${stat#* }
        pgrp=${stat%% *}
        case $want in *" $pgrp "*) ;; *) continue ;; esac
        case $found in *" $pgrp "*) continue ;; esac
        if svc_ours "$dir" "${p#/proc/}"; then found="$found$pgrp "; fi
    done
    found=${found# }
    echo "${found% }"
}

# svc_kill DIR SIG NAME...: send SIG (TERM; KILL to simulate a crash) to the
# process group of each daemon.  Every daemon leads its own group (svc.py
# makes it a session leader), so its pid from run/NAME.pid is the group id; a
# group is signalled only while it holds a process carrying our marker, which
# also catches workers that outlive their master.  Waits up to 10 s, then
# KILLs what is left.  Prints what it stopped.
svc_kill() {
    local dir=$1 sig=$2 n pid pids="" groups left i stopped=""; shift 2
    for n in "$@"; do
        pid=$(cat "$dir/run/$n.pid" 2> /dev/null) || continue
        case $pid in '' | *[!0-9]*) continue ;; esac
        pids="$pids $pid"
    done
    # shellcheck disable=SC2086  # lists
    groups=$(svc_groups_alive "$dir" $pids)
    for n in "$@"; do
        pid=$(cat "$dir/run/$n.pid" 2> /dev/null) || continue
        case " $groups " in *" $pid "*) stopped="$stopped $n" ;; esac
    done
    for pid in $groups; do kill -"$sig" -- "-$pid" 2> /dev/null || true; done
    left=$groups
    for i in $(seq 1 100); do
        # shellcheck disable=SC2086
        [ -n "$left" ] && left=$(svc_groups_alive "$dir" $left)
        [ -z "$left" ] && break
        [ "$i" = 100 ] || sleep 0.1
    done
    for pid in $left; do
        kill -KILL -- "-$pid" 2> /dev/null || true
        stopped="$stopped (KILLed group $pid)"
    done
    for n in "$@"; do rm -f "$dir/run/$n.pid"; done
    echo "stopped:${stopped:- nothing was running} ($dir)"
}

# svc_watch DIR NAME...: add the daemons to SVC_WATCH_PIDS, which the Python
# wait helpers keep an eye on: a start-up wait ends at once when one exits
SVC_WATCH_PIDS=""
svc_watch() {
    local dir=$1 n; shift
    for n in "$@"; do SVC_WATCH_PIDS="$SVC_WATCH_PIDS $(cat "$dir/run/$n.pid" 2>/dev/null)"; done
    export SVC_WATCH_PIDS
}

# svc_busy HOST:PORT...: print the ones something already listens on
svc_busy() {
    local hp
    for hp in "$@"; do
        if (exec 3<> "/dev/tcp/${hp%:*}/${hp##*:}") 2> /dev/null; then printf ' %s' "$hp"; fi
    done
}

# svc_wait_free HOST:PORT...: after a stop, wait (up to 3 s) until nothing
# answers on the ports any more, so that an immediate restart can bind them
# (an exiting process may still hold its sockets for a moment)
svc_wait_free() {
    local i busy
    for i in $(seq 1 30); do
        busy=$(svc_busy "$@")
        [ -z "$busy" ] && return 0
        sleep 0.1
    done
    echo "$SVC_ME: warning: still in use after stop:$busy" >&2
}

# --- the Python launcher/helper, written into DIR/etc on every start ---------

svc_write_helper() {
    cat > "$1/etc/svc.py" <<'PYEOF'
# Written by tests/services/lib.sh; regenerated on every start.
#   svc.py exec PROG ARGS...     new session, then exec PROG
#   svc.py swift-servers SWIFT_CONF STATE_DIR NAME...
#                                import Swift once, (re)build the rings if
#                                $SVC_RINGS says so ("IP account=PORT ..."),
#                                then fork one stock Swift server per NAME
#                                (account, container, object, proxy), each in
#                                its own session, logging to log/NAME.log, its
#                                pid in run/NAME.pid; then exit
#   svc.py wait TIMEOUT URL...   until every URL answers 2xx
#   svc.py tempauth-ready PROXY USER KEY TIMEOUT [ACL_JSON]
#                                until auth + HEAD account work; then set the
#                                account ACL (the read-only user)
# The waits give up early when a daemon in $SVC_WATCH_PIDS exits.
import os
import sys
import time

mode = sys.argv[1]

if mode == 'exec':
    try:
        os.setsid()
    except OSError:
        pass  # already a process group leader: killpg(0) still hits only us
    os.execvp(sys.argv[2], sys.argv[2:])

if mode == 'swift-servers':
    import gc
    import logging
    import traceback
    swift_conf, state, names = sys.argv[2], sys.argv[3], sys.argv[4:]
    # Start-up speed: skip eventlet's green DNS resolver (importing dnspython
    # costs ~0.5 CPU-s).  Every address here is numeric.
    os.environ['EVENTLET_NO_GREENDNS'] = 'yes'
    import swift.common.utils as utils
    # Swift 2.30 hard-codes /etc/swift/swift.conf and reads it when the
    # storage policies / constraints are imported: point it at ours first.
    utils.SWIFT_CONF_FILE = swift_conf
    # What the stock swift-*-server scripts import before run_wsgi(); the
    # servers fork from here, so these ~0.7 CPU-s are paid once, not 4 times.
    from swift.common.utils import parse_options
    from swift.common.wsgi import run_wsgi

    # Start-up speed: eventlet 0.33's monkey_patch() (in run_wsgi) swaps each
    # existing RLock for a green one and runs a full gc.collect() per lock:
    # ~18 collections over the import heap, 1.3 CPU-s per server.  Collect
    # once, then skip the repeats; the lock swapping itself is unchanged.
    import eventlet.patcher
    green_locks = eventlet.patcher._green_existing_locks

    def green_locks_collect_once():
        collect = gc.collect
        collect()
        gc.collect = lambda *args, **kwargs: 0
        try:
            green_locks()
        finally:
            gc.collect = collect
    eventlet.patcher._green_existing_locks = green_locks_collect_once

    if os.environ.get('SVC_RINGS'):
        # One device, one replica per ring: every partition lives on d1, so
        # a rebuild (new ports) never moves data.
        from swift.common.ring import RingBuilder
        ip, specs = os.environ['SVC_RINGS'].split(' ', 1)
        for spec in specs.split():
            ring, port = spec.split('=')
            b = RingBuilder(6, 1, 1)
            b.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': ip, 'port': int(port),
                       'replication_ip': ip, 'replication_port': int(port),
                       'device': 'd1', 'weight': 1.0, 'meta': ''})
            b.rebalance()
            b.save(os.path.join(state, 'etc', ring + '.builder'))
            b.get_ring().save(os.path.join(state, 'etc', ring + '.ring.gz'))

    def serve(name):
        """Child: become a stock swift-NAME-server."""
        os.setsid()  # Swift's master killpg()s its group on SIGTERM
        fd = os.open(os.path.join(state, 'log', name + '.log'),
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        print('==== start %s ====' % time.strftime('%Y-%m-%d %H:%M:%S'), flush=True)
        # Swift always logs to syslog (UDP to localhost:514 without
        # /dev/log).  Use a handler writing to this log file instead; keep a
        # dup, since capture_stdio() later points fd 2 at /dev/null.
        stream = os.fdopen(os.dup(2), 'w', buffering=1)

        class ToLogFile(logging.StreamHandler):
            def __init__(self, *args, **kwargs):
                logging.StreamHandler.__init__(self, stream)

            def format(self, record):
                return time.strftime('%Y-%m-%d %H:%M:%S ', time.localtime(
                    record.created)) + logging.StreamHandler.format(self, record)
        utils.ThreadSafeSysLogHandler = ToLogFile
        conf, options = parse_options(test_args=[
            os.path.join(state, 'etc', name + '-server.conf')])
        if name == 'object':  # as swift-object-server does
            from swift.obj import server
            options['global_conf_callback'] = server.global_conf_callback
        return run_wsgi(conf, name + '-server', **options)

    for name in names:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = serve(name) or 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        pidfile = os.path.join(state, 'run', name + '.pid')
        with open(pidfile + '.tmp', 'w') as f:
            f.write('%d\n' % pid)
        os.rename(pidfile + '.tmp', pidfile)
    # skip interpreter teardown: ~0.9 s of module/heap finalization here
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)

import json  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402


def http(url, method='GET', headers=None, timeout=5):
    req = urllib.request.Request(url, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        r.read()
        return r.status, r.headers


def dead_daemon():
    """A pid of SVC_WATCH_PIDS that is gone (or a zombie), else None."""
    for pid in os.environ.get('SVC_WATCH_PIDS', '').split():
        try:
            with open('/proc/%s/stat' % pid) as f:
                if f.read().rsplit(')', 1)[1].split()[0] != 'Z':
                    continue
        except OSError:
            pass
        return pid
    return None


def poll(timeout, step):
    """Retry step() until it returns without raising; exit 1 on timeout or
    when a watched daemon died (no point in waiting for it)."""
    t0 = time.time()
    last = None
    while time.time() < t0 + timeout:
        try:
            return step()
        except Exception as e:  # not up yet
            last = e
        dead = dead_daemon()
        if dead:
            sys.exit('daemon %s exited during start-up (last error: %s)' % (dead, last))
        time.sleep(0.1)
    sys.exit('not ready after %.0fs: %s' % (timeout, last))


if mode == 'wait':
    timeout, pending = float(sys.argv[2]), list(sys.argv[3:])

    def step():
        while pending:
            http(pending[0])
            pending.pop(0)
    poll(timeout, step)
    sys.exit(0)

if mode == 'tempauth-ready':
    proxy, user, key, timeout = sys.argv[2:6]
    acl = sys.argv[6] if len(sys.argv) > 6 else ''

    def step():
        _, h = http(proxy + '/auth/v1.0', headers={'X-Auth-User': user,
                                                   'X-Auth-Key': key})
        tok, url = h['X-Auth-Token'], h['X-Storage-Url']
        http(url, 'HEAD', {'X-Auth-Token': tok})
        if acl:
            http(url, 'POST', {'X-Auth-Token': tok,
                               'X-Account-Access-Control': acl})
    poll(float(timeout), step)
    sys.exit(0)

sys.exit('svc.py: unknown mode %r' % mode)
PYEOF
}

# --- a single-node, single-replica Swift ("SAIO") ----------------------------
#
# The caller sets these, then calls swift_configure / swift_launch /
# swift_wait_health / swift_stop:
#   SW_DIR                state dir (etc/ run/ log/ data/)
#   SW_IP                 bind address
#   SW_PROXY_PORT SW_ACCOUNT_PORT SW_CONTAINER_PORT SW_OBJECT_PORT
#   SW_MEMCACHED_PORT
#   SW_WORKERS            workers per server (0: no fork, one process each)
#   SW_MAX_FILE_SIZE      swift.conf max_file_size (largest single object)
#   SW_AUTH_FILTERS       the auth part of the proxy pipeline, e.g.
#                         "s3api tempauth" or "authtoken keystoneauth"
#   SW_AUTH_CONF          ini text for those filters
SW_SERVERS="account container object proxy"
SW_DAEMONS="memcached $SW_SERVERS"

swift_configure() {
    local etc=$SW_DIR/etc secret common
    mkdir -p "$etc" "$SW_DIR/run/recon" "$SW_DIR/log" "$SW_DIR/data/d1"
    svc_write_helper "$SW_DIR"
    # The hash prefix/suffix decide where objects live: made once per DIR and
    # never changed while it holds data.
    [ -s "$etc/hash.secret" ] || od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$etc/hash.secret"
    secret=$(cat "$etc/hash.secret")
    cat > "$etc/swift.conf" <<EOF
[swift-hash]
swift_hash_path_prefix = cb-$secret
swift_hash_path_suffix = cb-$secret

[storage-policy:0]
name = Policy-0
default = yes

[swift-constraints]
max_file_size = $SW_MAX_FILE_SIZE
EOF

    # fallocate_reserve = 0: the default 1 % free-space reserve turns every
    # PUT into 507 on a nearly full CI disk.  mount_check = false: d1 is a
    # plain directory (it needs user xattrs; ext4 and tmpfs have them).
    common="swift_dir = $etc
devices = $SW_DIR/data
mount_check = false
bind_ip = $SW_IP
workers = $SW_WORKERS
user = $(id -un)
log_level = INFO
recon_cache_path = $SW_DIR/run/recon
fallocate_reserve = 0"
    local n port extra
    for n in account container object; do
        port=SW_${n^^}_PORT
        extra=""
        # Wait for the container listing update instead of queueing it as an
        # "async pending" after the default 1 s: no updater daemon runs here,
        # so a queued update would leave the object out of listings.
        [ $n = object ] && extra="container_update_timeout = 30"
        cat > "$etc/$n-server.conf" <<EOF
[DEFAULT]
$common
bind_port = ${!port}
log_name = $n-server

[pipeline:main]
pipeline = healthcheck $n-server

[app:$n-server]
use = egg:swift#$n
$extra

[filter:healthcheck]
use = egg:swift#healthcheck
EOF
    done
    swift_write_proxy_conf
    swift_ring_check
}

swift_write_proxy_conf() {
    cat > "$SW_DIR/etc/proxy-server.conf" <<EOF
[DEFAULT]
swift_dir = $SW_DIR/etc
bind_ip = $SW_IP
bind_port = $SW_PROXY_PORT
workers = $SW_WORKERS
user = $(id -un)
log_name = proxy-server
log_level = INFO
recon_cache_path = $SW_DIR/run/recon

[pipeline:main]
# The auth filters sit after tempurl; slo/dlo after them (s3api multipart
# uploads become SLOs).
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl $SW_AUTH_FILTERS copy slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
allow_account_management = true
account_autocreate = true
conn_timeout = 5
node_timeout = 60

$SW_AUTH_CONF

[filter:cache]
use = egg:swift#memcache
memcache_servers = $SW_IP:$SW_MEMCACHED_PORT

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_versioned_writes = true
[filter:symlink]
use = egg:swift#symlink
EOF
}

# Rings are (re)built by the server launcher, only when the ports changed
# (one device: no data moves).  Sets SVC_RINGS for swift_launch_servers.
swift_ring_check() {
    local params="$SW_IP account=$SW_ACCOUNT_PORT container=$SW_CONTAINER_PORT object=$SW_OBJECT_PORT"
    SVC_RINGS=""
    if [ "$(cat "$SW_DIR/etc/ring.params" 2>/dev/null)" != "$params" ] || [ ! -s "$SW_DIR/etc/object.ring.gz" ]; then
        SVC_RINGS=$params
    fi
}

# swift_running: how many of the daemons run ("0" .. "5")
swift_running() {
    local n c=0
    for n in $SW_DAEMONS; do svc_owned "$SW_DIR" "$n" > /dev/null && c=$((c + 1)); done
    echo $c
}

# the swift ports something already listens on
swift_busy() {
    svc_busy "$SW_IP:$SW_MEMCACHED_PORT" "$SW_IP:$SW_ACCOUNT_PORT" \
        "$SW_IP:$SW_CONTAINER_PORT" "$SW_IP:$SW_OBJECT_PORT" "$SW_IP:$SW_PROXY_PORT"
}

# swift_launch_servers NAME...: fork the servers from one Python process
# (see svc.py swift-servers); returns once their pid files exist
swift_launch_servers() {
    echo "==== launch $* $(date '+%F %T') ====" >> "$SW_DIR/log/launch.log"
    if ! CB_SVC_DIR=$SW_DIR SVC_RINGS=${SVC_RINGS:-} "$SVC_PY" "$SW_DIR/etc/svc.py" swift-servers \
        "$SW_DIR/etc/swift.conf" "$SW_DIR" "$@" >> "$SW_DIR/log/launch.log" 2>&1 < /dev/null; then
        tail -n 20 "$SW_DIR/log/launch.log" >&2
        return 1
    fi
    if [ -n "${SVC_RINGS:-}" ]; then echo "$SVC_RINGS" > "$SW_DIR/etc/ring.params"; SVC_RINGS=""; fi
    svc_watch "$SW_DIR" "$@"
}

# Start memcached and the four servers; does not wait for them.
swift_launch() {
    local memcached as_user=()
    memcached=$(command -v memcached) || svc_die "memcached not found (scripts/deps.sh services)"
    command -v swift-proxy-server > /dev/null || svc_die "swift not installed (scripts/deps.sh services)"
    # memcached refuses to run as root without -u
    [ "$(id -u)" = 0 ] && as_user=(-u root)
    svc_spawn "$SW_DIR" memcached "$memcached" -l "$SW_IP" -p "$SW_MEMCACHED_PORT" \
        -U 0 -m 64 -t 1 "${as_user[@]}"
    # shellcheck disable=SC2086  # a list
    swift_launch_servers $SW_SERVERS || return 1
    svc_watch "$SW_DIR" memcached
}

# Wait until the listed servers (default: all four) answer /healthcheck.
swift_wait_health() {
    local n urls=() port
    for n in ${1:-$SW_SERVERS}; do
        port=SW_${n^^}_PORT
        urls+=("http://$SW_IP:${!port}/healthcheck")
    done
    "$SVC_PY" "$SW_DIR/etc/svc.py" wait "${SW_START_TIMEOUT:-90}" "${urls[@]}"
}

swift_stop() {
    svc_kill "$SW_DIR" TERM proxy object container account memcached
    svc_wait_free "$SW_IP:$SW_MEMCACHED_PORT" "$SW_IP:$SW_ACCOUNT_PORT" \
        "$SW_IP:$SW_CONTAINER_PORT" "$SW_IP:$SW_OBJECT_PORT" "$SW_IP:$SW_PROXY_PORT"
}

# swift_status: one line per daemon; exit 1 unless all run and the proxy is
# healthy
swift_status() {
    local n pid port rc=0
    for n in $SW_DAEMONS; do
        port=SW_${n^^}_PORT
        if pid=$(svc_owned "$SW_DIR" "$n"); then
            printf '  %-10s running  pid %-7s %s:%s\n' "$n" "$pid" "$SW_IP" "${!port}"
        else
            printf '  %-10s stopped             %s:%s\n' "$n" "$SW_IP" "${!port}"; rc=1
        fi
    done
    if [ $rc = 0 ]; then
        "$SVC_PY" "$SW_DIR/etc/svc.py" wait 5 "http://$SW_IP:$SW_PROXY_PORT/healthcheck" || rc=1
    fi
    return $rc
}

# On a failed start: show the tail of each log, then stop what did start.
svc_fail() {
    local dir=$1 f; shift
    echo "$SVC_ME: start failed ($*); last log lines:" >&2
    for f in "$dir"/log/*.log; do
        [ -s "$f" ] || continue
        echo "--- $f" >&2; tail -n 8 "$f" >&2
    done
}
