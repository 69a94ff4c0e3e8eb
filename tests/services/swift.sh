#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/services/swift.sh - a real OpenStack Swift (Debian 12: Swift 2.30) on
# loopback for the Swift and S3 store tests: one node, one replica, tempauth
# (/auth/v1.0) and the s3api middleware on one proxy port.
#
#   swift.sh start DIR        configure under DIR, start, wait until a
#                             tempauth login + HEAD of the account work
#   swift.sh stop DIR         stop what start started for DIR (nothing else)
#   swift.sh status DIR       exit 0 only if every daemon runs and is healthy
#   swift.sh env DIR          print export lines for clients (eval them)
#   swift.sh stop-proxy DIR   SIGKILL only the proxy (a crash: connections
#                             drop mid-request); the storage servers and
#                             memcached keep running, so tokens survive
#   swift.sh start-proxy DIR  start the proxy again, wait until it serves
#
# Everything lives under DIR: etc/ (configs, rings), data/d1 (objects),
# log/*.log, run/*.pid.  Nothing is read from or written to /etc/swift.
#
# Environment (start remembers it in DIR/etc/settings; later commands on the
# same DIR reuse it):
#   SWIFT_BIND_IP        127.0.0.1
#   SWIFT_PROXY_PORT     26080   Swift API, /auth/v1.0, S3 API
#   SWIFT_ACCOUNT_PORT   26012   } internal
#   SWIFT_CONTAINER_PORT 26011   }
#   SWIFT_OBJECT_PORT    26010   }
#   SWIFT_MEMCACHED_PORT 26211   } tempauth keeps its tokens in memcached
#   SWIFT_TOKEN_LIFE     86400   tempauth token lifetime, seconds (set e.g. 5
#                                to get 401 on an old token: re-auth tests)
#   SWIFT_MAX_FILE_SIZE  5368709122  largest single object (lower it to force
#                                segmented uploads; a bigger PUT gets 413)
#   SWIFT_S3_REGION      us-east-1   the SigV4 region s3api accepts
#   SWIFT_WORKERS        1       workers per server (0: one process each)
#   SWIFT_START_TIMEOUT  90      seconds start waits
#
# Users (tempauth; S3 access key = "account:user", secret = key):
#   test:tester / testing     .admin of AUTH_test: the normal test user
#   test:reader / r3ad0nly-K3y     no .admin; read-only on AUTH_test through the
#                             account ACL start sets: GET ok, PUT 403
#   other:tester / othering   .admin of AUTH_other; 403 on AUTH_test
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

usage() { echo "usage: $0 {start|stop|status|env|stop-proxy|start-proxy} DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
CMD=$1
svc_dir "$CMD" "$2"
SW_DIR=$SVC_DIR
SETTINGS=$SW_DIR/etc/settings
svc_load "$SETTINGS"

# environment > what "start" saved for this DIR > default
SW_IP=${SWIFT_BIND_IP:-${saved_SW_IP:-127.0.0.1}}
SW_PROXY_PORT=${SWIFT_PROXY_PORT:-${saved_SW_PROXY_PORT:-26080}}
SW_ACCOUNT_PORT=${SWIFT_ACCOUNT_PORT:-${saved_SW_ACCOUNT_PORT:-26012}}
SW_CONTAINER_PORT=${SWIFT_CONTAINER_PORT:-${saved_SW_CONTAINER_PORT:-26011}}
SW_OBJECT_PORT=${SWIFT_OBJECT_PORT:-${saved_SW_OBJECT_PORT:-26010}}
SW_MEMCACHED_PORT=${SWIFT_MEMCACHED_PORT:-${saved_SW_MEMCACHED_PORT:-26211}}
SW_TOKEN_LIFE=${SWIFT_TOKEN_LIFE:-${saved_SW_TOKEN_LIFE:-86400}}
SW_MAX_FILE_SIZE=${SWIFT_MAX_FILE_SIZE:-${saved_SW_MAX_FILE_SIZE:-5368709122}}
SW_S3_REGION=${SWIFT_S3_REGION:-${saved_SW_S3_REGION:-us-east-1}}
SW_WORKERS=${SWIFT_WORKERS:-${saved_SW_WORKERS:-1}}
SW_START_TIMEOUT=${SWIFT_START_TIMEOUT:-90}

PROXY=http://$SW_IP:$SW_PROXY_PORT
TA_USER=test:tester TA_KEY=testing
RO_USER=test:reader RO_KEY=r3ad0nly-K3y
OTHER_USER=other:tester OTHER_KEY=othering

# s3api must come right before the auth filter it hands requests to.
# tempauth: user_<account>_<user> = <key> [groups]; .admin = account owner.
SW_AUTH_FILTERS="s3api tempauth"
SW_AUTH_CONF="[filter:s3api]
use = egg:swift#s3api
location = $SW_S3_REGION
# virtual-host style as <bucket>.localhost:PORT (needs CURLOPT_CONNECT_TO);
# path style (http://IP:PORT/bucket/key) always works
storage_domain = localhost
allow_multipart_uploads = true

[filter:tempauth]
use = egg:swift#tempauth
reseller_prefix = AUTH
token_life = $SW_TOKEN_LIFE
user_test_tester = $TA_KEY .admin
user_test_reader = $RO_KEY
user_other_tester = $OTHER_KEY .admin"

# The account ACL that makes test:reader a reader of AUTH_test.
READ_ACL='{"read-only":["'$RO_USER'"]}'

wait_ready() {
    "$SVC_PY" "$SW_DIR/etc/svc.py" tempauth-ready "$PROXY" "$TA_USER" "$TA_KEY" "$SW_START_TIMEOUT" "$@"
}

do_start() {
    local t0 running busy
    t0=$(svc_now)
    running=$(swift_running)
    [ "$running" = 5 ] && { echo "swift already running ($SW_DIR)"; return 0; }
    [ "$running" = 0 ] || svc_die "partly running ($running/5 daemons): '$0 start-proxy $SW_DIR' or '$0 stop $SW_DIR'"
    busy=$(swift_busy)
    [ -z "$busy" ] || svc_die "port(s) in use:$busy (set SWIFT_*_PORT)"
    swift_configure
    svc_save "$SETTINGS" SW_IP SW_PROXY_PORT SW_ACCOUNT_PORT SW_CONTAINER_PORT \
        SW_OBJECT_PORT SW_MEMCACHED_PORT SW_TOKEN_LIFE SW_MAX_FILE_SIZE SW_S3_REGION SW_WORKERS
    if ! swift_launch || ! swift_wait_health "$SW_SERVERS" || ! wait_ready "$READ_ACL"; then
        svc_fail "$SW_DIR" "not ready"
        swift_stop >&2
        exit 1
    fi
    echo "swift up in $(svc_since "$t0"): $PROXY (auth $PROXY/auth/v1.0 $TA_USER/$TA_KEY; S3 region $SW_S3_REGION)"
}

do_start_proxy() {
    local t0
    t0=$(svc_now)
    svc_owned "$SW_DIR" proxy > /dev/null && { echo "proxy already running"; return 0; }
    [ -s "$SW_DIR/etc/proxy-server.conf" ] || svc_die "no swift configured in $SW_DIR (run start)"
    [ -z "$(svc_busy "$SW_IP:$SW_PROXY_PORT")" ] || svc_die "port $SW_PROXY_PORT in use"
    swift_launch_servers proxy || exit 1
    if ! swift_wait_health proxy || ! wait_ready; then
        svc_fail "$SW_DIR" "proxy not ready"
        exit 1
    fi
    echo "proxy up in $(svc_since "$t0"): $PROXY"
}

do_env() {
    cat <<EOF
export ST_AUTH=$PROXY/auth/v1.0
export ST_USER=$TA_USER
export ST_KEY=$TA_KEY
export AWS_ACCESS_KEY_ID=$TA_USER
export AWS_SECRET_ACCESS_KEY=$TA_KEY
export AWS_REGION=$SW_S3_REGION
export AWS_DEFAULT_REGION=$SW_S3_REGION
export AWS_ENDPOINT_URL_S3=$PROXY
export SWIFT_PROXY_PORT=$SW_PROXY_PORT
export SWIFT_STORAGE_URL=$PROXY/v1/AUTH_test
export SWIFT_RO_USER=$RO_USER
export SWIFT_RO_KEY=$RO_KEY
export SWIFT_OTHER_USER=$OTHER_USER
export SWIFT_OTHER_KEY=$OTHER_KEY
EOF
}

case $CMD in
start) do_start ;;
stop) swift_stop ;;
status) swift_status ;;
env) do_env ;;
stop-proxy) svc_kill "$SW_DIR" KILL proxy && svc_wait_free "$SW_IP:$SW_PROXY_PORT" ;;
start-proxy) do_start_proxy ;;
*) usage ;;
esac
