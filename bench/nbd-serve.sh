#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make bench-nbd-serve`: a backup served by the nbdkit plugin against a restore of it.
# On bench/run.sh's mixed volume (BENCH_SIZE, 2 GiB), one full backup with zstd on a posix
# store at the posix default object size (1999994880 B: the volume is two objects), then
#   R  `cinderblock restore` of it into a file,
#   N  `nbdkit -U - cinderblock ... --run 'nbdcopy "$uri" FILE'`: the same bytes over NBD,
# each BENCH_REPEAT times (the median's figures), under /usr/bin/time -v, timed until the
# file is on disk, and compared with the volume. Issue 18's goal: N's speed >= half of R's.
# Then BENCH_PROBES reads of one 4 KiB block at random offsets, each from a fresh nbdkit
# (nbdkit's offset filter, nbdcopy of 4096 bytes): the objects each one fetched, from the
# plugin's counters (-D cinderblock.stats=1); goal <= 1. Writes the table into
# docs/performance.md between its bench-nbd-serve markers.
#
#   bench/nbd-serve.sh [BUILD]   BUILD: the meson build directory (default: build)
#
# Environment [defaults]: BENCH_DIR [BUILD/bench], BENCH_SIZE [2G], BENCH_SEED [1],
# BENCH_REPEAT [3], BENCH_PROBES [5], BENCH_DOC [docs/performance.md], CINDERBLOCK,
# MKVOLUME, NBDKIT_PLUGIN (the binaries).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
work=${BENCH_DIR:-$build/bench}
size=${BENCH_SIZE:-2G}
seed=${BENCH_SEED:-1}
repeat=${BENCH_REPEAT:-3}
probes=${BENCH_PROBES:-5}
doc=${BENCH_DOC:-docs/performance.md}
cb=${CINDERBLOCK:-$build/tools/cinderblock/cinderblock}
mkvolume=${MKVOLUME:-$build/bench/cb-mkvolume}
plugin=${NBDKIT_PLUGIN:-$build/tools/nbdkit-plugin/nbdkit-cinderblock-plugin.so}
command_line="BENCH_SIZE=$size BENCH_SEED=$seed BENCH_REPEAT=$repeat BENCH_PROBES=$probes bench/nbd-serve.sh $build"

BENCH_TAG=bench-nbd-serve
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT must be a positive integer"
for f in "$cb" "$mkvolume" /usr/bin/time; do
    [ -x "$f" ] || die "$f is missing: build first (make bench-nbd-serve builds it)"
done
[ -f "$plugin" ] || die "$plugin is missing: build with -Dnbdkit=enabled"
command -v nbdkit >/dev/null && command -v nbdcopy >/dev/null || die "nbdkit, nbdcopy: scripts/deps.sh nbd"
mkdir -p "$work"
work=$(cd "$work" && pwd)
cb=$(cd "$(dirname "$cb")" && pwd)/$(basename "$cb")
plugin=$(cd "$(dirname "$plugin")" && pwd)/$(basename "$plugin")
bench_start=$(date +%s.%N)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the volume, cached (key: the generator's source, size, seed)
key=$(sha256sum <bench/mkvolume.c | cut -c1-12)-$size-s$seed
vol=$work/nbd-vol-$key.img
for old in "$work"/nbd-vol-*.img; do
    [ "$old" = "$vol" ] || [ ! -f "$old" ] || rm -f "$old"
done
[ -f "$vol" ] || "$mkvolume" --size "$size" --seed "$seed" "$vol"
vol_bytes=$(stat -c %s "$vol")

bench_runs nbd-serve-runs
mkdir -p "$runs/log" "$runs/store"
store=$runs/store
echo "bench-nbd-serve: the backup (zstd, posix default object size)" >&2
id=$("$cb" -q --store "$store" backup "$vol" --compression zstd) || die "the backup failed"
objects=$("$cb" --json --store "$store" show "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["backup"]["object_count"])')

# (measure and measure_median: bench/lib.sh; the page cache holds the store's objects,
# which both read the same way)
same() {
    cmp "$vol" "$1" || die "MISMATCH: $1 differs from the volume"
    rm -f "$1"
}
cat "$store"/*/*/*/* >/dev/null 2>&1 || true
measure_median R : 'same "$runs/out.img"' "$cb" -q --store "$store" restore --force "$id" "$runs/out.img"
measure_median N : 'same "$runs/out.img"' nbdkit -U - "$plugin" store="$store" backup="$id" \
    --run "nbdcopy \"\$uri\" $runs/out.img"

# ---- one 4 KiB block at random offsets, each from a fresh nbdkit: objects fetched
probe_rows=()
max_fetch=0
for ((p = 1; p <= probes; p++)); do
    off=$(python3 -c "import random; r = random.Random($p); print(r.randrange($vol_bytes // 4096) * 4096)")
    t0=$(date +%s.%N)
    nbdkit -v -D cinderblock.stats=1 -U - --filter=offset "$plugin" offset="$off" range=4096 \
        store="$store" backup="$id" --run "nbdcopy \"\$uri\" $runs/block" 2>"$runs/log/probe$p.err" ||
        die "probe at $off failed: $(tail -3 "$runs/log/probe$p.err")"
    t1=$(date +%s.%N)
    dd if="$vol" of="$runs/want" bs=4096 skip=$((off / 4096)) count=1 status=none
    cmp -s "$runs/block" "$runs/want" || die "probe at $off: other bytes"
    stats=$(grep -o 'objects_opened=[0-9]* segments_filled=[0-9]*' "$runs/log/probe$p.err" | tail -1)
    n=${stats#objects_opened=}
    n=${n%% *}
    [ -n "$n" ] || die "probe at $off: no stats line in nbdkit's log"
    [ "$n" -gt "$max_fetch" ] && max_fetch=$n
    probe_rows+=("$(printf '| %s | %s | %s | %s |' "$off" "$n" "${stats#* }" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')")")
done

mibs() { awk -v b="$vol_bytes" -v s="$1" 'BEGIN { printf "%.0f", b / 1048576 / s }'; }
ratio=$(awk -v n="${WALL[N]}" -v r="${WALL[R]}" 'BEGIN { printf "%.2f", r / n }')
bench_secs=$(awk -v a="$bench_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
machine="$(nproc) CPUs, $cpu_model, Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'), load average at the start $load_start, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
section=$(
    echo "Command: \`$command_line\` (\`make bench-nbd-serve\` runs it with the defaults)"
    echo
    echo "Machine: $machine"
    echo
    echo "Workload: $(awk -v b="$vol_bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB volume (seed $seed), one full backup, zstd, posix store, default object size ($objects objects); the whole bench took $bench_secs s."
    echo
    echo "| operation | wall s | wall range s | MiB/s | CPU s | peak RSS MiB |"
    echo "|---|---:|---:|---:|---:|---:|"
    printf '| restore (R) | %s | %s | %s | %s | %s |\n' "${WALL[R]}" "${RANGE[R]}" "$(mibs "${WALL[R]}")" "${CPU[R]}" "${RSS[R]}"
    printf '| nbdcopy from the plugin (N) | %s | %s | %s | %s | %s |\n' "${WALL[N]}" "${RANGE[N]}" "$(mibs "${WALL[N]}")" "${CPU[N]}" "${RSS[N]}"
    echo
    echo "- N's speed / R's = R / N = ${WALL[R]} / ${WALL[N]} = **$ratio** (goal ≥ 0.5)"
    echo
    echo "One 4 KiB block at a random offset, each from a fresh nbdkit (goal: ≤ 1 object fetched; most: **$max_fetch**):"
    echo
    echo "| offset | objects fetched | cache segments | wall s (nbdkit start to exit) |"
    echo "|---:|---:|---|---:|"
    printf '%s\n' "${probe_rows[@]}"
    echo
    echo "Median of $repeat runs (wall range: the fastest and slowest), each under"
    echo "\`/usr/bin/time -v\` (N: nbdkit and nbdcopy together), timed until the file is on disk."
)
printf '\n%s\n' "$section"

bench_write_doc "$doc" bench-nbd-serve "$section"
