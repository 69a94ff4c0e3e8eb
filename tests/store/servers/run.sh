#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/store/servers/run.sh: the Swift and S3 store tests against real servers on 127.0.0.1.
#
# Starts a Swift (tempauth + s3api, 3 s tokens) and a Keystone with its own Swift, with
# tests/services/*.sh in a new temporary directory, on free ports; runs every
# tests/store/servers/test-*.sh (or those named as arguments); stops exactly what it started (trap),
# removes the directory, and exits non-zero if any test failed.
#
# Environment: CINDERBLOCK (the CLI) and CB_CONFORMANCE (tests/store's conformance program),
# both set by meson; CB_STORES_KEEP=1 keeps the directory and servers for a look afterwards,
# and CB_STORES_REUSE=DIR runs the tests against servers kept that way (and leaves them).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
services=$(cd "$here/../../services" && pwd)
export CINDERBLOCK=${CINDERBLOCK:?set CINDERBLOCK to the cinderblock binary}
export CB_CONFORMANCE=${CB_CONFORMANCE:?set CB_CONFORMANCE to the store-conformance binary}
t0=$(date +%s%N)

elapsed() {
    local ms=$((($(date +%s%N) - $1) / 1000000))
    printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

for prog in /usr/bin/swift-proxy-server /usr/bin/memcached /usr/bin/keystone-manage curl; do
    command -v "$prog" >/dev/null || {
        echo "run.sh: $prog is missing: install the test servers with scripts/deps.sh services" >&2
        exit 1
    }
done

if [ -n "${CB_STORES_REUSE:-}" ]; then
    WORK=$CB_STORES_REUSE
    CB_STORES_KEEP=1
else
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/cb-stores.XXXXXX")
fi
started=""
cleanup() {
    local s
    if [ "${CB_STORES_KEEP:-0}" = 1 ]; then
        echo "run.sh: kept $WORK (stop with tests/services/{swift,keystone}.sh stop DIR)"
        return
    fi
    for s in $started; do "$services/$s.sh" stop "$WORK/$s" >/dev/null 2>&1 || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ten free ports in a row from a random base, so that two runs (or a developer's own
# servers on the scripts' default ports) never collide.
free_base() {
    local base p busy
    for _ in $(seq 1 50); do
        base=$((20000 + (RANDOM % 600) * 20))
        busy=0
        for p in $(seq "$base" $((base + 15))); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
                busy=1
                break
            fi
        done
        [ $busy = 0 ] && { echo "$base"; return; }
    done
    echo "run.sh: no free ports" >&2
    exit 1
}
start() {
    local name=$1
    shift
    if env "$@" "$services/$name.sh" start "$WORK/$name" >"$WORK/$name.start.log" 2>&1; then
        return 0
    fi
    echo "run.sh: $name did not start:" >&2
    cat "$WORK/$name.start.log" >&2
    return 1
}

# Both at once (Keystone's start is the longer one), on ports B..B+15.
start_servers() {
    local B swift_pid ks_pid ok=1
    B=$(free_base)
    started="swift keystone"
    start swift SWIFT_PROXY_PORT="$B" SWIFT_OBJECT_PORT=$((B + 1)) SWIFT_CONTAINER_PORT=$((B + 2)) \
        SWIFT_ACCOUNT_PORT=$((B + 3)) SWIFT_MEMCACHED_PORT=$((B + 4)) \
        SWIFT_TOKEN_LIFE=$CB_STORES_TOKEN_LIFE &
    swift_pid=$!
    start keystone KEYSTONE_PORT=$((B + 10)) KEYSTONE_SWIFT_PROXY_PORT=$((B + 11)) \
        KEYSTONE_SWIFT_OBJECT_PORT=$((B + 12)) KEYSTONE_SWIFT_CONTAINER_PORT=$((B + 13)) \
        KEYSTONE_SWIFT_ACCOUNT_PORT=$((B + 14)) KEYSTONE_SWIFT_MEMCACHED_PORT=$((B + 15)) &
    ks_pid=$!
    wait $swift_pid || ok=0
    wait $ks_pid || ok=0
    [ $ok = 1 ] || exit 1
    echo "servers up in $(elapsed "$t0") s (ports $B-$((B + 15)))"
}

export CB_STORES_TOKEN_LIFE=3 # tempauth tokens expire during a backup: re-authentication
[ -n "${CB_STORES_REUSE:-}" ] || start_servers

export SWIFT_DIR=$WORK/swift SWIFT_ENV=$WORK/swift.env KS_ENV=$WORK/keystone.env
export CB_STORES_WORK=$WORK
"$services/swift.sh" env "$SWIFT_DIR" >"$SWIFT_ENV" || exit 1
"$services/keystone.sh" env "$WORK/keystone" >"$KS_ENV" || exit 1

tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(conformance roundtrip failures locks secrets creds bandwidth hosts)
# CB_STORES_TESTS_DIR: where the test-NAME.sh scripts are (tests/cinder runs its own here)
tests_dir=${CB_STORES_TESTS_DIR:-$here}
passed=0
failed=0
for t in "${tests[@]}"; do
    t=${t#test-}
    t=${t%.sh}
    t1=$(date +%s%N)
    echo "--- $t"
    if bash "$tests_dir/test-$t.sh"; then
        passed=$((passed + 1))
        echo "--- $t: ok ($(elapsed "$t1") s)"
    else
        failed=$((failed + 1))
        echo "--- $t: FAILED ($(elapsed "$t1") s)"
        for s in swift keystone; do
            "$services/$s.sh" status "$WORK/$s" >/dev/null 2>&1 ||
                echo "run.sh: $s is not healthy after $t" >&2
        done
    fi
done
echo "stores: wall time $(elapsed "$t0") s"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
