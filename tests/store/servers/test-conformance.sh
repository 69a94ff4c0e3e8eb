#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The store conformance suite (tests/store/conformance.c, unchanged) against the real servers:
# swift:// with tempauth, swift:// with Keystone v3, s3:// (SigV4, path-style). All three at
# once: each works in its own new container. (Virtual-host addressing passes it too, with
# CINDERBLOCK_S3_ADDRESSING=virtual AWS_ENDPOINT_URL_S3=http://localhost:PORT; here a CLI
# round trip covers it, in test-roundtrip.sh, to keep the run short.)
#
# CB_CONFORMANCE_EXCLUSIVE tells the suite what create-only writes (If-None-Match: *) do on
# this Swift 2.30, so that neither store can slip to a weaker answer unnoticed: Swift refuses
# an existing name with 412, but checks when a PUT starts, so two racing writers may both
# succeed ("racy"); its s3api answers 501 to any conditional PUT ("unsupported").
. "$(dirname "$0")/lib.sh"
CONF=${CB_CONFORMANCE:?}

# run NAME SETUP URL [VAR=VALUE...]: the suite in the background, its output in $T/NAME
run() {
    local name=$1 setup=$2 url=$3
    shift 3
    (
        $setup
        for kv in "$@"; do export "${kv?}"; done
        CB_STORE_URL=$url exec "$CONF"
    ) >"$T/$name" 2>&1 &
    eval "pid_$name=$!"
}

check() {
    local name=$1 pid
    eval "pid=\$pid_$name"
    if wait "$pid"; then
        note "$name: $(grep -E 'PASSED' "$T/$name"); $(grep -E '^create-only writes' "$T/$name")"
    else
        cat "$T/$name" >&2
        fail "conformance $name"
    fi
}

# listings of two names per request: the suite's listings (up to eight names) then need
# several pages (Swift's marker, S3's continuation token)
run swift_tempauth use_tempauth swift:// CINDERBLOCK_LIST_PAGE=2 CB_CONFORMANCE_EXCLUSIVE=racy
run swift_keystone use_keystone swift:// CB_CONFORMANCE_EXCLUSIVE=racy
run s3_path use_s3 s3:// CINDERBLOCK_LIST_PAGE=2 CB_CONFORMANCE_EXCLUSIVE=unsupported
check swift_tempauth
check swift_keystone
check s3_path
