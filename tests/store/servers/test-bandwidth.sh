#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# --limit-upload and --limit-download against the real Swift: one limit for all 8 threads and
# all their connections. 200 MiB of incompressible bytes at 20M take 10 s +- 15 %; restored at
# 20M too, 10 s +- 15 %, and bit-exact. What a command costs on this server whatever its size
# (login, lock, listing, _sha256file and _metadata) is measured on a 1 MiB volume and taken off:
# the limit is what is timed, not the server's fixed cost.
. "$(dirname "$0")/lib.sh"
# Keystone's Swift: its tokens live an hour, where run.sh's tempauth tokens expire every 3 s
# and a renewal may wait a second out (swift_auth.c), which is no part of the limit
use_keystone

ms() { echo $(($(date +%s%N) / 1000000)); }
within() {
    [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || fail "$4 took $1 ms, not within $2..$3 ms"
    note "$4: $1 ms (want $2..$3)"
}

head -c 200M /dev/urandom >"$T/vol"
head -c 1M /dev/urandom >"$T/small"
url=swift://bw-$RUN
"$CB" -q --store "$url" check >/dev/null 2>&1 || true
t0=$(ms)
"$CB" -q --store "$url" --limit-upload 20M backup "$T/small" --threads 8 --compression none >"$T/sid"
t1=$(ms)
"$CB" -q --store "$url" --limit-download 20M restore "$(backup_id "$T/sid")" "$T/sout" --threads 8
t2=$(ms)
up_fixed=$((t1 - t0 - 50)) down_fixed=$((t2 - t1 - 50)) # 1 MiB at 20M is 50 ms of limit
note "fixed cost of a command: backup $up_fixed ms, restore $down_fixed ms"
t0=$(ms)
"$CB" -q --store "$url" --limit-upload 20M backup "$T/vol" --threads 8 --compression none >"$T/id"
t1=$(ms)
within $((t1 - t0 - up_fixed)) 8500 11500 "swift: backup of 200 MiB at --limit-upload 20M, 8 threads"
id=$(backup_id "$T/id")
t0=$(ms)
"$CB" -q --store "$url" --limit-download 20M restore "$id" "$T/out" --threads 8 --force
t1=$(ms)
within $((t1 - t0 - down_fixed)) 8500 11500 "swift: restore of 200 MiB at --limit-download 20M, 8 threads"
cmp "$T/vol" "$T/out" || fail "the restore under a limit differs"
"$CB" -q --store "$url" delete "$id"
rm -f "$T/vol" "$T/out" "$T/small" "$T/sout"
