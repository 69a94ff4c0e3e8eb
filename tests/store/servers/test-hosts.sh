#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Many hosts, one store: 8 processes, each a host of its own (--lock-host) backing up its
# own volume, all at once into one Swift container, then into one S3 bucket: every full
# backup and every incremental after it succeeds, with no --retry-lock (a lock that
# serialised independent volumes would be exit 11), and every backup restores to its
# volume. The aggregate rate is printed (a figure, not a timed assertion).
. "$(dirname "$0")/lib.sh"

N=${CB_HOSTS:-8}
MIB=${CB_HOSTS_MIB:-12}
for i in $(seq 1 "$N"); do
    mkvol "$T/vol$i" "$MIB" $((40 + i))
done

# round KIND URL WHAT: every host's backup at once (WHAT: full or incr); all must exit 0
round() {
    local kind=$1 url=$2 what=$3 i pids=() t0 ms bytes=0
    t0=$(date +%s%N)
    for i in $(seq 1 "$N"); do
        local extra=()
        [ "$what" = full ] || extra=(--incremental)
        "$CB" --json --store "$url" --lock-host "host$i" backup "$T/vol$i" --object-size 4M \
            --volume-id "00000000-0000-4000-8000-0000000100$(printf %02d "$i")" "${extra[@]}" \
            >"$T/$what$i.json" 2>"$T/$what$i.err" &
        pids+=($!)
    done
    for i in $(seq 1 "$N"); do
        wait "${pids[$((i - 1))]}" || fail "$kind: host$i's $what backup failed: $(cat "$T/$what$i.err")"
        bytes=$((bytes + $(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["backup"]["stored_bytes"])' "$T/$what$i.json")))
    done
    ms=$((($(date +%s%N) - t0) / 1000000))
    note "$kind: $N ${what} backups of $MIB MiB at once in $((ms / 1000)).$((ms % 1000 / 100)) s: $((N * MIB * 1000 / (ms + 1))) MiB/s of volumes, $((bytes * 1000 / (ms + 1) / 1024)) KiB/s stored, all together"
}

# check KIND URL WHAT: each host's backup restores to its volume
check() {
    local kind=$1 url=$2 what=$3 i id
    for i in $(seq 1 "$N"); do
        id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["backup"]["id"])' "$T/$what$i.json")
        "$CB" -q --store "$url" restore --force "$id" "$T/out"
        cmp "$T/vol$i" "$T/out" || fail "$kind: host$i's $what backup does not restore to its volume"
    done
}

hosts() { # KIND URL
    local kind=$1 url=$2 i
    round "$kind" "$url" full
    for i in $(seq 1 "$N"); do # each host's volume changes a little
        dd if=/dev/urandom of="$T/vol$i" bs=4k count=8 seek=$((i * 37)) conv=notrunc status=none
    done
    round "$kind" "$url" incr
    check "$kind" "$url" incr
    # (list shows every container of the account: a bucket is one of them)
    n=$("$CB" --json --store "$url" list | python3 -c 'import json,sys; print(len([b for b in json.load(sys.stdin)["backups"] if b["container"] == sys.argv[1]]))' "${url#*://}")
    [ "$n" -eq $((2 * N)) ] || fail "$kind: list shows $n backups in ${url#*://}, not $((2 * N))"
    n=$("$CB" --json --store "$url" list --incomplete | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["incomplete"]))')
    [ "$n" -eq 0 ] || fail "$kind: $n leftovers in list --incomplete after the rounds"
}

(use_tempauth && hosts swift "swift://hosts-$RUN")
(use_s3 && hosts s3 "s3://hosts-s3-$RUN") # (a bucket is a container of the same account)
echo "ok"
