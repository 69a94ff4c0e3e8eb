#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make bench-consolidate`: what `cinderblock consolidate` costs against what it replaces.
# On bench/run.sh's mixed volume and five "next days" of it (1 % changed each), a chain of a
# full backup and 5 incrementals on posix, with the default compression (zlib); then
#   B  a full backup of the volume as it is at the 5th incremental (a fresh store),
#   R  a restore of the 5th incremental (the whole chain) into a file,
#   C  consolidate of the 5th incremental (a new full of the same data, from the store),
# each BENCH_REPEAT times (the median's figures), one process under /usr/bin/time -v (wall,
# CPU, peak RSS), timed until what it wrote is on disk. Issue 17's goal: C <= 1.3 (R + B),
# and C's peak RSS within the backup's bound (<= 300 MiB). Done with --object-size 50M
# (bench/run.sh's) and with the posix default object size (1999994880 B: chain and new full),
# which must not grow the RSS. The synthetic full is restored and compared with the volume,
# as is every restore. Writes the table into docs/performance.md between its
# bench-consolidate markers.
#
#   bench/consolidate.sh [BUILD]   BUILD: the meson build directory (default: build)
#
# Environment [defaults]: BENCH_DIR [BUILD/bench], BENCH_SIZE [2G], BENCH_SEED [1],
# BENCH_REPEAT [3], BENCH_DOC [docs/performance.md], CINDERBLOCK, MKVOLUME (the binaries).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
work=${BENCH_DIR:-$build/bench}
size=${BENCH_SIZE:-2G}
seed=${BENCH_SEED:-1}
repeat=${BENCH_REPEAT:-3}
doc=${BENCH_DOC:-docs/performance.md}
cb=${CINDERBLOCK:-$build/tools/cinderblock/cinderblock}
mkvolume=${MKVOLUME:-$build/bench/cb-mkvolume}
command_line="BENCH_SIZE=$size BENCH_SEED=$seed BENCH_REPEAT=$repeat bench/consolidate.sh $build"

BENCH_TAG=bench-consolidate
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT must be a positive integer"
[ -x "$cb" ] || die "$cb is missing: build first (make bench-consolidate builds it)"
[ -x "$mkvolume" ] || die "$mkvolume is missing: build first"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing: scripts/deps.sh bench"
mkdir -p "$work"
work=$(cd "$work" && pwd)
cb=$(cd "$(dirname "$cb")" && pwd)/$(basename "$cb")
bench_start=$(date +%s.%N)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the volumes, cached (key: the generator's source, size, seed): the first day and
# the 5th next day (days 2..6, change seeds 2..6, each on the previous one).
key=$(sha256sum <bench/mkvolume.c | cut -c1-12)-$size-s$seed
voldir=$work/cons-vol-$key
for old in "$work"/cons-vol-*; do
    [ "$old" = "$voldir" ] || [ ! -d "$old" ] || rm -rf "$old"
done
if [ ! -f "$voldir/day6.img" ]; then
    mkdir -p "$voldir"
    "$mkvolume" --size "$size" --seed "$seed" "$voldir/day1.img"
    for d in 2 3 4 5 6; do
        cp "$voldir/day$((d - 1)).img" "$voldir/day$d.tmp"
        "$mkvolume" --change --seed "$d" "$voldir/day$d.tmp"
        mv "$voldir/day$d.tmp" "$voldir/day$d.img"
    done
    rm -f "$voldir"/day[2345].img
    # day 1 is kept as the start of each chain; the others are made again from it below
fi
last=$voldir/day6.img
vol_bytes=$(stat -c %s "$last")

bench_runs cons-runs
volume_id=6b3a52f0-0c9f-4c1e-9d8b-5e3a1d2c4b02

BENCH_WARM=$last
same() {
    cmp "$1" "$2" || die "RESTORE MISMATCH: $2 differs from $1"
    rm -f "$2"
}

# chain TAG OBJSIZE...: a store with a full backup of day 1 and incrementals of days 2..6
# (the volume file changed in place, as a disk is); prints the 5th incremental's id.
chain() {
    local tag=$1 store=$runs/$1 vol=$runs/$1-vol.img id d
    shift
    mkdir -p "$store"
    cp "$voldir/day1.img" "$vol"
    id=$("$cb" -q --store "$store" backup "$vol" --volume-id "$volume_id" "$@") ||
        die "$tag: the full backup failed"
    for d in 2 3 4 5 6; do
        "$mkvolume" --change --seed "$d" "$vol" 2>/dev/null || die "cb-mkvolume --change failed"
        id=$("$cb" -q --store "$store" backup "$vol" --volume-id "$volume_id" --parent "$id" \
            "$@") || die "$tag: incremental $((d - 1)) failed"
    done
    cmp "$vol" "$last" || die "the chain's volume is not day 6"
    rm -f "$vol"
    echo "$id"
}

# one configuration: LABEL TAG OBJECT-SIZE-OPTIONS...
rows=()
run_config() {
    local label=$1 tag=$2 fifth new
    shift 2
    echo "bench-consolidate: $label: the chain" >&2
    fifth=$(chain "$tag" "$@") || exit 1
    measure_median "$tag.B" 'rm -rf "$runs/$tag-full"; mkdir -p "$runs/$tag-full"' \
        'rm -rf "$runs/$tag-full"' \
        "$cb" -q --store "$runs/$tag-full" backup "$last" --volume-id "$volume_id" "$@"
    measure_median "$tag.R" : 'same "$last" "$runs/restored.img"' \
        "$cb" -q --store "$runs/$tag" restore --force "$fifth" "$runs/restored.img"
    # each consolidate's new full is deleted after it (untimed): every run starts from the
    # same chain
    measure_median "$tag.C" : \
        'new=$(cat "$runs/log/$tag.C.$i.out"); "$cb" -q --store "$runs/$tag" delete "$new"' \
        "$cb" -q --store "$runs/$tag" consolidate "$fifth" "$@"
    new=$("$cb" -q --store "$runs/$tag" consolidate "$fifth" "$@") || die "$tag: consolidate failed"
    "$cb" -q --store "$runs/$tag" restore --force "$new" "$runs/restored.img"
    same "$last" "$runs/restored.img"
    rm -rf "${runs:?}/$tag"
    local ratio rss cpu
    ratio=$(awk -v c="${WALL[$tag.C]}" -v r="${WALL[$tag.R]}" -v b="${WALL[$tag.B]}" \
        'BEGIN { printf "%.2f", c / (r + b) }')
    for op in B R C; do
        case $op in
        B) what="full backup of day 6 (B)" ;;
        R) what="restore of the 5th incremental (R)" ;;
        C) what="consolidate of the 5th incremental (C)" ;;
        esac
        rows+=("$(printf '| %s | %s | %s | %s | %s | %s |' "$label" "$what" "${WALL[$tag.$op]}" \
            "${RANGE[$tag.$op]}" "${CPU[$tag.$op]}" "${RSS[$tag.$op]}")")
    done
    rss=$(awk -v c="${RSS[$tag.C]}" -v b="${RSS[$tag.B]}" 'BEGIN { printf "%.2f", c / b }')
    cpu=$(awk -v c="${CPU[$tag.C]}" -v r="${CPU[$tag.R]}" -v b="${CPU[$tag.B]}" \
        'BEGIN { printf "%.2f", c / (r + b) }')
    SUMMARY[$tag]="wall C / (R + B) = ${WALL[$tag.C]} / (${WALL[$tag.R]} + ${WALL[$tag.B]}) = **$ratio** (goal ≤ 1.3); CPU time $cpu×; peak RSS C ${RSS[$tag.C]} MiB, B ${RSS[$tag.B]} MiB ($rss×; goal ≤ 300 MiB)"
}
declare -A SUMMARY
run_config "--object-size 50M" m50 --object-size 50M
run_config "posix default (1999994880 B)" pdef

bench_secs=$(awk -v a="$bench_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
machine="$(bench_machine) at the end, $load_start at the start"
section=$(
    echo "Command: \`$command_line\` (\`make bench-consolidate\` runs it with the defaults)"
    echo
    echo "Machine: $machine"
    echo
    echo "Workload: $(awk -v b="$vol_bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB volume (seed $seed) and 5 next days (change seeds 2-6, 1 % each): a full backup and 5 incrementals, zlib (the default); the whole bench took $bench_secs s."
    echo
    echo "| object size | operation | wall s | wall range s | CPU s | peak RSS MiB |"
    echo "|---|---|---:|---:|---:|---:|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "- --object-size 50M: ${SUMMARY[m50]}"
    echo "- posix default: ${SUMMARY[pdef]}"
    echo
    echo "Median of $repeat runs (wall range: the fastest and slowest), each one process under"
    echo "\`/usr/bin/time -v\`, timed until its output is on disk."
)
printf '\n%s\n' "$section"

bench_write_doc "$doc" bench-consolidate "$section"
