#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Locks in a real Swift (and through its S3 API), two hosts' worth of commands (different
# --lock-host) on one container: a delete --cascade of a parent while its child's
# incremental runs never leaves a child that exited 0 and cannot be restored; another host's
# live lock stops a command with exit 11 naming it; leftovers of a killed backup are found
# and cleaned up in the object store too.
. "$(dirname "$0")/lib.sh"

RUNS=${CB_LOCK_RUNS:-10}
mkvol "$T/base" 12 4

race() { # KIND URL: the delete-during-incremental race, RUNS times
    local kind=$1 url=$2 run full child rc_inc rc_del locked=0 raced=0
    for run in $(seq 1 "$RUNS"); do
        cp "$T/base" "$T/vol"
        dd if=/dev/urandom of="$T/vol" bs=64k count=1 seek="$run" conv=notrunc status=none
        full=$("$CB" -q --store "$url" --lock-host alpha backup "$T/vol" --object-size 1M \
            --volume-id 00000000-0000-4000-8000-0000000010c4)
        for k in 3 9 27 81; do
            dd if=/dev/urandom of="$T/vol" bs=64k count=2 seek=$((k + run)) conv=notrunc status=none
        done
        "$CB" -q --store "$url" --lock-host alpha backup "$T/vol" --incremental \
            --object-size 1M --compression bz2 \
            --volume-id 00000000-0000-4000-8000-0000000010c4 >"$T/child" 2>"$T/child.err" &
        pid=$!
        sleep "0.$((RANDOM % 8))"
        set +e
        "$CB" -q --store "$url" --lock-host beta delete "$full" --cascade 2>"$T/del.err"
        rc_del=$?
        wait $pid
        rc_inc=$?
        set -e
        child=$(cat "$T/child")
        case $rc_del in
        11) locked=$((locked + 1))
            grep -q "host alpha" "$T/del.err" || fail "$kind: the refusal does not name the holder: $(cat "$T/del.err")"
            # the child ran, or both saw each other's lock and both backed off
            [ $rc_inc -eq 0 ] || [ $rc_inc -eq 11 ] ||
                fail "$kind: the child failed although the delete was refused: $(cat "$T/child.err")" ;;
        0) raced=$((raced + 1)) ;;
        *) fail "$kind: delete exited $rc_del: $(cat "$T/del.err")" ;;
        esac
        if [ $rc_inc -eq 0 ] && "$CB" --store "$url" show "$child" >/dev/null 2>&1; then
            "$CB" -q --store "$url" restore --force "$child" "$T/out"
            cmp "$T/vol" "$T/out" || fail "$kind: a child that exited 0 does not restore"
        fi
        "$CB" -q --store "$url" --lock-host beta delete "$full" --cascade 2>/dev/null || true
        "$CB" -q --store "$url" cleanup --older-than 0
    done
    note "$kind: $RUNS delete-during-incremental races ($locked refused with exit 11, $raced ran before or after): every child that exited 0 restores"
}

kill_and_clean() { # KIND URL CONTAINER: a killed backup's leftovers, found and removed
    local kind=$1 url=$2 cont=$3 n
    mkrandom "$T/big" 24 7
    "$CB" --store "$url" backup "$T/big" --object-size 1M --compression none >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        [ "$(st_list "$cont" | grep -c -- '-000')" -ge 2 ] && break
        sleep 0.1
    done
    kill -9 $pid
    wait $pid 2>/dev/null || true
    n=$("$CB" --json --store "$url" list --incomplete |
        python3 -c 'import json,sys; print(len(json.load(sys.stdin)["incomplete"]))')
    [ "$n" -eq 1 ] || fail "$kind: list --incomplete shows $n leftovers after a kill, expected 1"
    "$CB" -q --store "$url" cleanup --older-than 0
    [ -z "$(st_list "$cont" | grep -v '^cinderblock/locks/$')" ] ||
        fail "$kind: cleanup left $(st_list "$cont")"
    note "$kind: a killed backup's objects listed as incomplete, and removed by cleanup"
}

planted_lock() { # KIND URL CONTAINER: another host's live exclusive lock: exit 11
    local kind=$1 url=$2 cont=$3 now
    now=$(date +%s)
    printf '{"cinderblock_lock": 1, "id": "00000000000000ee", "exclusive": true, "host": "gamma", "pid": 4711, "command": "cleanup", "created": %d, "expires": %d}' \
        "$now" $((now + 600)) >"$T/lock"
    st_put "$cont" cinderblock/locks/x-00000000000000ee "$T/lock"
    set +e
    "$CB" --store "$url" backup "$T/base" >/dev/null 2>"$T/err"
    rc=$?
    set -e
    [ $rc -eq 11 ] || fail "$kind: a backup beside a live exclusive lock exited $rc: $(cat "$T/err")"
    grep -q "'cleanup' holds an exclusive lock (host gamma, pid 4711" "$T/err" ||
        fail "$kind: unclear: $(cat "$T/err")"
    "$CB" -q --store "$url" unlock --force
    [ -z "$(st_list "$cont" | grep x-00000000000000ee)" ] || fail "$kind: unlock --force left the lock"
    note "$kind: another host's live lock: exit 11 naming it; unlock --force removes it"
}

(use_tempauth && race swift swift://locks-$RUN && planted_lock swift swift://locks-$RUN locks-$RUN &&
    kill_and_clean swift swift://locks-$RUN locks-$RUN)
(use_s3 && race s3 s3://locks-s3-$RUN && kill_and_clean s3 s3://locks-s3-$RUN locks-s3-$RUN)
