#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make bench-cinder`: Cinder 21.3.1's stock chunked drivers against cinderblock's driver
# (cinderblock.cinder), both driven by Cinder's real BackupManager (bench/cinder_driver.py),
# on bench/run.sh's 2 GiB mixed volume, zlib, for posix (Cinder's default backup_file_size,
# 1999994880) and Swift (tempauth, Cinder's default 50 MiB objects, the project's own Swift on
# 127.0.0.1). One process per operation under /usr/bin/time: wall, user+sys CPU, peak RSS;
# and the operation's own time in the service (the manager's call, as a running cinder-backup
# spends it, without the 2-4 s of imports and database set-up a new process pays), which the
# speed-up is taken from. Restores end with a sync inside that time.
# Every restore is compared with the volume. Writes the table into docs/cinder.md between
# its bench markers.
#
#   bench/cinder-driver.sh [BUILD]     (BENCH_DIR [BUILD/bench], BENCH_SIZE [2G], BENCH_SEED [1])
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
work=${BENCH_DIR:-$build/bench}
size=${BENCH_SIZE:-2G}
seed=${BENCH_SEED:-1}
mkvolume=${MKVOLUME:-$build/bench/cb-mkvolume}
doc=${BENCH_DOC:-docs/cinder.md}
die() { echo "bench-cinder: $*" >&2; exit 1; }
[ -x "$mkvolume" ] || die "$mkvolume is missing: build first"
/usr/bin/python3 -c 'import cinder' 2>/dev/null || die "python3-cinder is missing: scripts/deps.sh compat"

key=$(sha256sum <bench/mkvolume.c | cut -c1-12)-$size-s$seed
voldir=$work/cinder-vol-$key
vol=$voldir/volume.img
if [ ! -f "$vol" ]; then
    mkdir -p "$voldir"
    "$mkvolume" --size "$size" --seed "$seed" "$vol.tmp"
    mv "$vol.tmp" "$vol"
fi
runs=$(mktemp -d "$work/cinder-runs.XXXXXX")
services=$root/tests/services
cleanup() {
    "$services/swift.sh" stop "$runs/swift" >/dev/null 2>&1 || true
    rm -rf "$runs"
}
trap cleanup EXIT
"$services/swift.sh" start "$runs/swift" >"$runs/swift.log" 2>&1 || { cat "$runs/swift.log"; die "swift did not start"; }
export SWIFT_ENV=$runs/swift.env
"$services/swift.sh" env "$runs/swift" >"$SWIFT_ENV"
export PYTHONPATH=$root/python:$root/tests/cinder
export CINDERBLOCK_LIBRARY=${CINDERBLOCK_LIBRARY:-$root/$build/src/libcinderblock.so}

rows=()
# run WHO STORE OP ARGS...: one timed process; sets $out (its stdout) and appends a row
run() {
    local who=$1 store=$2 op=$3
    shift 3
    cat "$vol" >/dev/null
    if ! /usr/bin/time -f '%e %U %S %M' -o "$runs/time" /usr/bin/python3 bench/cinder_driver.py \
        "$runs/w" "$who" "$store" "$op" "$@" >"$runs/out" 2>"$runs/err"; then
        tail -20 "$runs/err" >&2
        die "$who $store $op failed"
    fi
    sync
    local secs
    read -r out secs <<<"$(tail -1 "$runs/out")"
    read -r wall user sys rss <"$runs/time"
    local cpu
    cpu=$(echo "$user + $sys" | bc)
    rows+=("$store|$op|$who|$secs|$wall|$cpu|$((rss / 1024))")
    echo "$store $op $who: $secs s in the service, $wall s with start-up, $cpu s CPU, $((rss / 1024)) MiB peak RSS" >&2
}
for store in posix swift; do
    for who in stock ours; do
        run "$who" "$store" backup "$vol"
        id=$out
        run "$who" "$store" restore "$id" "$runs/restored"
        cmp "$vol" "$runs/restored" || die "$who $store: the restore differs from the volume"
        rm -f "$runs/restored"
    done
done

ratio() { echo "scale=1; $1 / $2" | bc; }
table="| store | operation | driver | in the service s | process s | CPU s | peak RSS MiB | ours vs stock |
| --- | --- | --- | --- | --- | --- | --- | --- |"
declare -A wall rss
for r in "${rows[@]}"; do
    IFS='|' read -r s o w t p c m <<<"$r"
    wall[$s.$o.$w]=$t
    rss[$s.$o.$w]=$m
done
for r in "${rows[@]}"; do
    IFS='|' read -r s o w t p c m <<<"$r"
    note="—"
    if [ "$w" = ours ]; then
        note="$(ratio "${wall[$s.$o.stock]}" "$t")× faster, $(ratio "${rss[$s.$o.stock]}" "$m")× less memory"
    fi
    table+="
| $s | $o | $w | $t | $p | $c | $m | $note |"
done
stamp="$(date -u +%Y-%m-%d), $(nproc) cores, cinderblock $("$build/tools/cinderblock/cinderblock" version | head -1 | awk '{print $NF}'), Cinder $(dpkg-query -W -f '${Version}' python3-cinder), volume $size seed $seed (bench/mkvolume.c), zlib"
echo "$table"
if [ -f "$doc" ] && grep -q '<!-- bench-cinder:begin -->' "$doc"; then
    /usr/bin/python3 - "$doc" "$stamp" "$table" <<'PY'
import sys
path, stamp, table = sys.argv[1:4]
s = open(path).read()
a = s.index('<!-- bench-cinder:begin -->') + len('<!-- bench-cinder:begin -->')
b = s.index('<!-- bench-cinder:end -->')
s = s[:a] + '\nMeasured ' + stamp + ' (`make bench-cinder`):\n\n' + table + '\n' + s[b:]
open(path, 'w').write(s)
PY
    echo "bench-cinder: $doc updated" >&2
fi
