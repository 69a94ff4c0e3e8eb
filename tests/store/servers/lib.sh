# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# tests/store/servers/lib.sh: sourced by the test-*.sh scripts beside it that run.sh starts.
# run.sh exports: CINDERBLOCK (the CLI), CB_CONFORMANCE (the conformance program), SWIFT_DIR
# (the tempauth+s3api Swift's state dir), SWIFT_ENV and KS_ENV (files of export lines from
# tests/services/{swift,keystone}.sh env), and CB_STORES_WORK (a scratch directory).
set -euo pipefail
# shellcheck disable=SC2034  # CB, RUN and services are for the sourcing test scripts

CB=${CINDERBLOCK:?run me through tests/store/servers/run.sh}
T=$(mktemp -d "${CB_STORES_WORK:?}/$(basename "$0" .sh).XXXXXX")
# a suffix for container names, so that a run against kept servers starts clean
# shellcheck disable=SC2034
RUN=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
# shellcheck disable=SC2034
services=$(cd "$(dirname "$0")/../../services" && pwd)

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# note TEXT: a result line, with the time since the previous note (kept in a file: notes are
# often written from subshells)
date +%s%N >"$T/.note"
note() {
    local now prev
    now=$(date +%s%N)
    prev=$(cat "$T/.note")
    printf '  %s (%d.%03d s)\n' "$*" $(((now - prev) / 1000000000)) $(((now - prev) / 1000000 % 1000))
    echo "$now" >"$T/.note"
}

# The credentials of one store kind, and nothing else: the OS_*, ST_* and AWS_* variables of
# one service do not leak into a test of the other.
clear_creds() {
    local v
    for v in $(env | sed -n 's/^\(OS_[A-Z_]*\|ST_[A-Z_]*\|AWS_[A-Z_0-9]*\|CINDERBLOCK_[A-Z_0-9]*\)=.*/\1/p'); do
        unset "$v"
    done
}

use_tempauth() {
    clear_creds
    # shellcheck disable=SC1090
    . "$SWIFT_ENV"
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL_S3
}

use_keystone() {
    clear_creds
    # shellcheck disable=SC1090
    . "$KS_ENV"
}

use_s3() {
    clear_creds
    # shellcheck disable=SC1090
    . "$SWIFT_ENV"
    unset ST_AUTH ST_USER ST_KEY
}

# expect_fail CODE TEXT CMD...: CMD exits CODE and says TEXT on stderr (in $T/err; stdout in
# $T/out)
expect_fail() {
    local want=$1 text=$2 got
    shift 2
    set +e
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    set -e
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; stderr: $(cat "$T/err")"
    grep -qF -- "$text" "$T/err" || fail "'$*' did not say '$text'; stderr: $(cat "$T/err")"
    [ "$(grep -c 'error' "$T/err")" -eq 1 ] || fail "'$*': not one error line: $(cat "$T/err")"
}

# mkvol PATH MIB SEED: random, zero and text regions of 256 KiB (tests/helpers/mkvol.py)
MKVOL=$(cd "$(dirname "$0")/../../helpers" && pwd)/mkvol.py
mkvol() {
    python3 "$MKVOL" "$1" "$2" "$3"
}

# mkrandom PATH MIB SEED: incompressible bytes (a backup of it takes a few seconds)
mkrandom() {
    python3 -c "import random,sys; open(sys.argv[1],'wb').write(random.Random(int(sys.argv[3])).randbytes(int(sys.argv[2]) << 20))" "$1" "$2" "$3"
}

# An independent look at the tempauth Swift (curl, not cinderblock): a fresh token and URL.
st_login() {
    local h left
    for _ in 1 2; do
        h=$(curl -sS -D - -o /dev/null -H "X-Auth-User: $ST_USER" -H "X-Auth-Key: $ST_KEY" "$ST_AUTH")
        h=$(printf '%s' "$h" | tr -d '\r')
        ST_TOKEN=$(printf '%s' "$h" | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p')
        ST_URL=$(printf '%s' "$h" | sed -n 's/^[Xx]-[Ss]torage-[Uu]rl: //p')
        left=$(printf '%s' "$h" | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken-[Ee]xpires: \([0-9]*\).*/\1/p')
        # tempauth hands out the user's current token until it expires (3 s tokens here):
        # one about to expire is waited out, and a new one taken
        [ "${left:-9}" -ge 1 ] && break
        sleep "$((left + 1))"
    done
    if [ -z "$ST_TOKEN" ] || [ -z "$ST_URL" ]; then
        fail "curl tempauth login failed"
    fi
}

# st_list CONTAINER: object names in a container of AUTH_test (also S3 buckets), via curl.
# With 3 s tokens a token can expire between login and request on a loaded machine: a 401
# is answered by logging in again (three tries).
st_list() {
    local c code try
    for try in 1 2 3; do
        c=$(cd / && use_tempauth && st_login && curl -sS -H "X-Auth-Token: $ST_TOKEN" "$ST_URL/$1?format=plain" -w '\n%{http_code}')
        code=$(printf '%s' "$c" | tail -1)
        [ "$code" = 401 ] || break
    done
    case $code in
    200 | 204) printf '%s\n' "$c" | sed '$d' | sed '/^$/d' ;;
    404) ;; # no such container: nothing in it
    *) fail "listing $1: $c" ;;
    esac
}

# st_put CONTAINER OBJECT FILE: replace an object behind cinderblock's back
st_put() {
    local try
    for try in 1 2 3; do
        (use_tempauth && st_login && curl -sS -f -o /dev/null -X PUT -H "X-Auth-Token: $ST_TOKEN" \
            -T "$3" "$ST_URL/$1/$2") && return 0
    done
    fail "curl PUT $1/$2"
}

# ks_token: a Keystone token for demo (OS_AUTH_TOKEN tests), on stdout
ks_token() {
    (use_keystone && python3 - <<'PY'
import json, os, urllib.request
body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
    "name": os.environ["OS_USERNAME"], "domain": {"name": os.environ["OS_USER_DOMAIN_NAME"]},
    "password": os.environ["OS_PASSWORD"]}}},
    "scope": {"project": {"name": os.environ["OS_PROJECT_NAME"],
                          "domain": {"name": os.environ["OS_PROJECT_DOMAIN_NAME"]}}}}}
req = urllib.request.Request(os.environ["OS_AUTH_URL"].rstrip("/") + "/auth/tokens",
                             data=json.dumps(body).encode(),
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req) as r:
    print(r.headers["X-Subject-Token"])
PY
    )
}

# metadata_count NAMES_FILE: how many *_metadata objects (complete-looking backups)
metadata_count() {
    grep -c '_metadata$' "$1" || true
}

# backup_id_of TEXT_FILE: the backup id cinderblock printed (its only line on stdout)
backup_id() {
    tail -1 "$1"
}
