#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Failures against the real servers (issue 6): the Swift proxy killed mid-backup, tokens that
# expire mid-backup, refused credentials, a missing container with creation disabled, a
# read-only user, and an object altered in the store. Each refusal must be one clear error
# and must leave nothing that looks like a complete backup (no _metadata object).
. "$(dirname "$0")/lib.sh"

mkvol "$T/vol" 4 2
mkrandom "$T/big" 24 3

# the process's bytes read so far (the volume dominates), for "mid-backup" without guessing
rchar() {
    sed -n 's/^rchar: //p' "/proc/$1/io" 2>/dev/null || echo 0
}

# freeze_at PID BYTES: once the process has read that much, stop it (SIGSTOP), so that what
# happens next happens mid-backup however fast the machine is; fails if it ended first
freeze_at() {
    local i
    for _ in $(seq 1 2000); do
        kill -0 "$1" 2>/dev/null || fail "the backup ended before it could be interrupted"
        if [ "$(rchar "$1")" -ge "$2" ]; then
            kill -STOP "$1"
            return 0
        fi
        sleep 0.01
    done
    fail "pid $1 read too little in 20 s"
}

proxy() {
    "$services/swift.sh" "$1" "$SWIFT_DIR" >"$T/proxy-$1.log" 2>&1 ||
        fail "swift.sh $1: $(cat "$T/proxy-$1.log")"
}

# ---- 1. the proxy dies mid-backup and comes back: retries carry the backup through ----
(
    use_tempauth
    CB_DEBUG=1 "$CB" --store swift://fail-restart-$RUN --retries 8 --retry-backoff 0.5 backup \
        "$T/big" --object-size 1M --compression none >"$T/id" 2>"$T/trace" &
    pid=$!
    freeze_at $pid $((8 << 20))
    proxy stop-proxy
    kill -CONT $pid
    sleep 1
    proxy start-proxy
    wait $pid || fail "backup across a proxy restart failed: $(tail -3 "$T/trace")"
    grep -q 'retrying in' "$T/trace" || fail "no retry was needed: the outage was missed"
    "$CB" -q --store swift://fail-restart-$RUN restore "$(backup_id "$T/id")" "$T/big-out"
    cmp "$T/big" "$T/big-out" || fail "restore after a proxy restart differs"
    note "proxy killed and restarted mid-backup: completed through $(grep -c 'retrying in' "$T/trace") retries, restore bit-exact"
)

# ---- 2. the proxy dies during a streamed upload (50 MiB objects): a clean failure ----
(
    use_tempauth
    "$CB" --store swift://fail-stream-$RUN --retries 2 --retry-backoff 0.2 backup "$T/big" \
        --compression none >"$T/id" 2>"$T/err" &
    pid=$!
    freeze_at $pid $((16 << 20)) # well past the 8 MiB held in memory: streaming
    proxy stop-proxy
    kill -CONT $pid
    set +e
    wait $pid
    rc=$?
    set -e
    proxy start-proxy
    [ $rc -eq 1 ] || fail "backup with the proxy gone exited $rc: $(cat "$T/err")"
    grep -q 'cinderblock: error: swift store: upload of' "$T/err" || fail "unclear error: $(cat "$T/err")"
    [ "$(st_list fail-stream-$RUN | metadata_count /dev/stdin)" -eq 0 ] ||
        fail "a failed backup left a _metadata object: $(st_list fail-stream-$RUN)"
    "$CB" -q --store swift://fail-stream-$RUN backup "$T/big" --compression none >"$T/id"
    "$CB" -q --store swift://fail-stream-$RUN restore "$(backup_id "$T/id")" "$T/big-out2"
    cmp "$T/big" "$T/big-out2" || fail "restore of the retried backup differs"
    note "proxy killed during a streamed upload: clean failure (no _metadata), the retry succeeded"
)

# ---- 3. tokens that expire mid-backup (run.sh gives tempauth tokens a life of 3 s) ----
# The backup is frozen (SIGSTOP) mid-way for longer than a token lives, so its next request
# carries an expired token whatever the speed of the machine.
(
    use_tempauth
    life=${CB_STORES_TOKEN_LIFE:?run.sh sets the tempauth token life}
    head -c $((16 << 20)) "$T/big" >"$T/mid"
    CB_DEBUG=1 "$CB" --store swift://fail-token-$RUN backup "$T/mid" --object-size 1M \
        --compression none >"$T/id" 2>"$T/trace" &
    pid=$!
    freeze_at $pid $((4 << 20))
    sleep "$life.5"
    kill -CONT $pid
    wait $pid || fail "backup with an expired token: $(tail -3 "$T/trace")"
    n=$(grep -c 'HTTP 401, authenticating again' "$T/trace" || true)
    [ "$n" -ge 1 ] || fail "no re-authentication after the token expired mid-backup"
    "$CB" -q --store swift://fail-token-$RUN restore "$(backup_id "$T/id")" "$T/mid-out"
    cmp "$T/mid" "$T/mid-out" || fail "restore after re-authentication differs"
    note "token expired mid-backup: re-authenticated ($n time(s)), restore bit-exact"
)

# ---- 4. wrong credentials: one clear error, nothing written ----
(use_tempauth && ST_KEY=Wr0ngKey-4711 expect_fail 12 \
    "swift store: authentication refused (HTTP 401) for tempauth user 'test:tester'" \
    "$CB" --store swift://fail-auth-$RUN backup "$T/vol")
(use_keystone && OS_PASSWORD=Wr0ngPass-4711 expect_fail 12 \
    "swift store: authentication refused (HTTP 401) for Keystone user 'demo'" \
    "$CB" --store swift://fail-auth-$RUN backup "$T/vol")
(use_s3 && AWS_SECRET_ACCESS_KEY=Wr0ngSecret-4711 expect_fail 12 \
    "HTTP 403 (permission denied): check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY" \
    "$CB" --store s3://fail-auth-$RUN backup "$T/vol")
[ -z "$(st_list fail-auth-$RUN)" ] || fail "refused credentials still wrote: $(st_list fail-auth-$RUN)"
# --json: the error object carries the server's answer
(use_tempauth && ST_KEY=Wr0ngKey-4711 expect_fail 12 "authentication refused (HTTP 401)" \
    "$CB" --json --store swift://fail-auth-$RUN list)
python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))
assert e["message_type"] == "error" and e["code"] == 12 and e["status"] == "CB_EAUTH" and e["http_status"] == 401, e' "$T/err" ||
    fail "--json error without http_status 401: $(cat "$T/err")"
(use_s3 && expect_fail 10 "does not exist" \
    "$CB" --json --store s3://fail-none-$RUN --no-create-container check)
python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))
assert e["message_type"] == "error" and e["code"] == 10 and e["status"] == "CB_ENOTFOUND" and e["http_status"] == 404, e' "$T/err" ||
    fail "--json error without http_status 404: $(cat "$T/err")"
note "wrong password/key (tempauth, Keystone, S3): one clear error each, nothing written; --json has http_status"

# ---- 5. a missing container with creation disabled ----
(use_tempauth && expect_fail 10 \
    "swift store: container 'fail-nocreate-$RUN' does not exist and creating containers is disabled" \
    "$CB" --store swift://fail-nocreate-$RUN --no-create-container backup "$T/vol")
(use_keystone && expect_fail 10 \
    "swift store: container 'fail-nocreate-$RUN' does not exist and creating containers is disabled" \
    "$CB" --store swift://fail-nocreate-$RUN --no-create-container backup "$T/vol")
(use_s3 && expect_fail 10 \
    "s3 store: bucket 'fail-nocreate-$RUN' does not exist and creating containers is disabled" \
    "$CB" --store s3://fail-nocreate-$RUN --no-create-container backup "$T/vol")
[ -z "$(st_list fail-nocreate-$RUN)" ] || fail "the container was created after all"
note "unknown container, --no-create-container (swift x2, S3): one clear error each, none created"

# ---- 6. a read-only user: 403 on the first upload, no backup that looks complete ----
(use_tempauth && "$CB" --store swift://fail-ro-$RUN check >/dev/null &&
    "$CB" -q --store swift://fail-ro-$RUN backup "$T/vol" --object-size 1M >/dev/null)
# (the container exists, with one good backup)
(use_tempauth && ST_USER=$SWIFT_RO_USER ST_KEY=$SWIFT_RO_KEY expect_fail 12 \
    "HTTP 403 (permission denied)" \
    "$CB" --store swift://fail-ro-$RUN backup "$T/vol" --object-size 1M)
(use_s3 && AWS_ACCESS_KEY_ID=$SWIFT_RO_USER AWS_SECRET_ACCESS_KEY=$SWIFT_RO_KEY expect_fail 12 \
    "HTTP 403 (permission denied): AccessDenied" \
    "$CB" --store s3://fail-ro-$RUN backup "$T/vol" --object-size 1M)
[ "$(st_list fail-ro-$RUN | metadata_count /dev/stdin)" -eq 1 ] ||
    fail "a refused backup looks complete: $(st_list fail-ro-$RUN)"
(
    use_keystone
    "$CB" -q --store swift://fail-ro-$RUN backup "$T/vol" --object-size 1M >/dev/null
    OS_USERNAME=$KEYSTONE_READER_USERNAME OS_PASSWORD=$KEYSTONE_READER_PASSWORD expect_fail 12 \
        "HTTP 403 (permission denied)" "$CB" --store swift://fail-ro-$RUN backup "$T/vol" --object-size 1M
    # the reader can still list and restore
    OS_USERNAME=$KEYSTONE_READER_USERNAME OS_PASSWORD=$KEYSTONE_READER_PASSWORD \
        "$CB" --json --store swift://fail-ro-$RUN list >"$T/ro.json"
    n=$(python3 -c 'import json,sys; print(sum(b["container"] == sys.argv[2]
        for b in json.load(open(sys.argv[1]))["backups"]))' "$T/ro.json" "fail-ro-$RUN")
    [ "$n" -eq 1 ] || fail "keystone: $n backups listed after a refused one, expected 1"
)
note "read-only user (tempauth, S3, Keystone): HTTP 403, one clear error, no _metadata"

# ---- 7. an object altered in the store after the backup: restore refuses ----
for kind in swift s3; do
    (
        [ $kind = swift ] && use_tempauth || use_s3
        "$CB" -q --store $kind://fail-alter-$kind-$RUN backup "$T/vol" --object-size 1M >"$T/id"
        id=$(backup_id "$T/id")
        victim=$(st_list fail-alter-$kind-$RUN | grep -- '-00002$')
        [ -n "$victim" ] || fail "$kind: no object -00002 in $(st_list fail-alter-$kind-$RUN)"
        head -c 1000 /dev/urandom >"$T/junk"
        st_put fail-alter-$kind-$RUN "$victim" "$T/junk"
        expect_fail 13 "${victim##*/}" "$CB" --store $kind://fail-alter-$kind-$RUN restore "$id" "$T/alt-$kind"
        [ ! -e "$T/alt-$kind" ] || fail "$kind: a failed restore left its target"
        expect_fail 13 "1 problem found; the first: backup $id, object $victim" \
            "$CB" --store $kind://fail-alter-$kind-$RUN verify "$id" --read-data
    )
done
note "object replaced after upload (swift, S3): restore and verify --read-data fail naming it, no target left"
