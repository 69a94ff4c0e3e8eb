#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# --limit-upload and --limit-download on a posix store: one limit for the whole process,
# whatever the number of threads (200 MiB of incompressible bytes at 20M with 8 threads take
# 10 s +- 15 %), a bare number is KiB/s, and a rate that is none is a usage error.
. "$(dirname "$0")/functions.sh"
mkdir -p "$STORE"

now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

# within MS LOW HIGH WHAT: LOW <= MS <= HIGH (milliseconds)
within() {
    [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] ||
        fail "$4 took $1 ms, not within $2..$3 ms"
    echo "  $4: $1 ms (want $2..$3)"
}

for bad in abc 0 -5 20X 1.5.5 ''; do
    expect_fail 2 "is not a rate" "$CB" --limit-upload "$bad" list
    expect_fail 2 "is not a rate" "$CB" --limit-download "$bad" list
done

head -c 200M /dev/urandom >"$WORK/vol"
t0=$(now_ms)
"$CB" --limit-upload 20M backup "$WORK/vol" --threads 8 --compression none >"$WORK/id"
t1=$(now_ms)
within $((t1 - t0)) 8500 11500 "backup of 200 MiB at --limit-upload 20M, 8 threads"
id=$(tail -1 "$WORK/id")

t0=$(now_ms)
"$CB" --limit-download 40M restore "$id" "$WORK/out" --threads 8 --force
t1=$(now_ms)
within $((t1 - t0)) 4250 5750 "restore of 200 MiB at --limit-download 40M, 8 threads"
cmp "$WORK/vol" "$WORK/out" || fail "the restore under a limit differs"

# a bare number is KiB/s: 10240 is 10 MiB/s, 30 MiB in 3 s (a looser upper bound: a small
# backup's own time - start, hashing, fsync - is a larger part of it)
head -c 30M /dev/urandom >"$WORK/small"
t0=$(now_ms)
"$CB" --limit-upload 10240 backup "$WORK/small" --threads 4 --compression none >/dev/null
t1=$(now_ms)
within $((t1 - t0)) 2550 6000 "backup of 30 MiB at --limit-upload 10240 (KiB/s)"
# the download limit does not hold back an upload, nor the upload limit a download
t0=$(now_ms)
"$CB" --limit-download 1K --limit-upload 1G backup "$WORK/small" --compression none >/dev/null
t1=$(now_ms)
[ $((t1 - t0)) -lt 2500 ] || fail "a backup under --limit-download 1K took $((t1 - t0)) ms"
echo "ok"
