#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make bench-sparse`: what a huge, mostly empty volume costs (issue 19's target: a 256 GiB
# sparse file holding 2 GiB, default options, posix store: full backup ≤ 3× `cp
# --sparse=always` of the file, an incremental after a 20 MiB change ≤ 3 s, peak RSS ≤
# 300 MiB). The file: BENCH_SPARSE_SLICES slices of bench/run.sh's mix (cb-mkvolume, 2 GiB
# by default, cached), spread evenly over BENCH_SPARSE_SIZE (slice k at k × SIZE/SLICES),
# written with dd conv=notrunc seek= (the mix's zero regions are written data, as a guest
# leaves them; the rest of the file is holes). The change: the mix's next day (1 % of the
# 2 GiB, 20 MiB: one contiguous region and scattered 4 KiB writes), each slice written
# again from it. Measured, each one process under /usr/bin/time -v with the slices read
# into the page cache just before (bench/lib.sh): `cp --sparse=always` of the file
# (BENCH_REPEAT runs, median), cinderblock's full backup with no option but the volume id
# (BENCH_REPEAT runs, each into a fresh store; once if the first took over 60 s), its
# incremental (BENCH_REPEAT runs on the first full, each kept) and one restore --sparse of
# that incremental, compared with the file (every data extent of either file byte for
# byte, the rest holes in both). Reports the object size used and the _sha256file sizes.
#
# Run time on the 2-core dev machine: 5-8 minutes on main as of issue 19's start, 3.5-6.5 of
# them the restore of the incremental (it costs the 256 GiB, not the 2 GiB); the 2 GiB mix is
# generated once (about 10 s) and cached.
#
#   bench/sparse.sh [BUILD]          BUILD: the meson build directory (default: build)
#
# Environment [defaults]: BENCH_DIR [BUILD/bench], BENCH_SEED [1], BENCH_CHANGE_SEED [2],
# BENCH_REPEAT [3], BENCH_SPARSE_SIZE [256G], BENCH_SPARSE_DATA [2G], BENCH_SPARSE_SLICES [8],
# BENCH_DOC [docs/performance.md], BENCH_KEEP (set: keep the file and the store),
# CINDERBLOCK, MKVOLUME.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
work=${BENCH_DIR:-$build/bench}
seed=${BENCH_SEED:-1}
change_seed=${BENCH_CHANGE_SEED:-2}
repeat=${BENCH_REPEAT:-3}
sparse_size=${BENCH_SPARSE_SIZE:-256G}
data_size=${BENCH_SPARSE_DATA:-2G}
slices=${BENCH_SPARSE_SLICES:-8}
doc=${BENCH_DOC:-docs/performance.md}
cb=${CINDERBLOCK:-$build/tools/cinderblock/cinderblock}
mkvolume=${MKVOLUME:-$build/bench/cb-mkvolume}
command_line="BENCH_SEED=$seed BENCH_CHANGE_SEED=$change_seed BENCH_REPEAT=$repeat BENCH_SPARSE_SIZE=$sparse_size BENCH_SPARSE_DATA=$data_size BENCH_SPARSE_SLICES=$slices bench/sparse.sh $build"
BENCH_TAG=bench-sparse
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT must be a positive integer"
command -v /usr/bin/time >/dev/null || die "/usr/bin/time is missing: scripts/deps.sh bench"
bench_paths
bench_start=$(date +%s.%N)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

total=$(numfmt --from=iec "$sparse_size")
data_bytes=$(numfmt --from=iec "$data_size")
slice=$((data_bytes / slices))
stride=$((total / slices))
block=$((1 << 20))
[ $((slice % block)) = 0 ] && [ $((stride % block)) = 0 ] ||
    die "the slices (BENCH_SPARSE_DATA / SLICES) and their spacing must be whole MiB"
[ "$stride" -ge "$slice" ] || die "BENCH_SPARSE_SIZE must hold the slices"
bench_volumes sparsevol "$data_size" "$seed" "$change_seed"
bench_runs sparse-runs
img=$runs/sparse.img

# fill SOURCE: each slice of SOURCE into the file, at its place
fill() {
    local k
    for ((k = 0; k < slices; k++)); do
        dd if="$1" of="$img" bs=$block skip=$((k * slice / block)) seek=$((k * stride / block)) \
            count=$((slice / block)) conv=notrunc status=none
    done
}
truncate -s "$total" "$img"
fill "$vol"
# the slices (only they hold data) into the page cache before each measured run
bench_before() {
    local k
    for ((k = 0; k < slices; k++)); do
        dd if="$img" of=/dev/null bs=$block skip=$((k * stride / block)) count=$((slice / block)) status=none
    done
}
# sparse_same A B: A and B hold the same bytes: every data extent of either is compared
# (SEEK_DATA/SEEK_HOLE); elsewhere both are holes, so zeros
sparse_same() {
    /usr/bin/python3 - "$1" "$2" <<'EOF' || die "RESTORE MISMATCH: $2 differs from $1"
import os, sys

def extents(fd, size):
    at = 0
    while at < size:
        try:
            start = os.lseek(fd, at, os.SEEK_DATA)
        except OSError:  # ENXIO: no data after at
            return
        end = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, end
        at = end

a, b = (os.open(p, os.O_RDONLY) for p in sys.argv[1:3])
size = os.fstat(a).st_size
if os.fstat(b).st_size != size:
    sys.exit('sizes differ')
ranges = sorted(list(extents(a, size)) + list(extents(b, size)))
step = 16 << 20
done = 0
for start, end in ranges:
    start = max(start, done)
    while start < end:
        n = min(step, end - start)
        if os.pread(a, n, start) != os.pread(b, n, start):
            sys.exit('bytes differ in [%d, %d)' % (start, start + n))
        start += n
    done = max(done, end)
EOF
}

store=$runs/store
volume_id=3f0c1b2a-5d6e-4f70-8a9b-0c1d2e3f4a5b
measure_median cp 'rm -f "$runs/cp.img"' 'rm -f "$runs/cp.img"' cp --sparse=always "$img" "$runs/cp.img"
# the full: default options; the first run's store is the incrementals' parent
mkdir -p "$store.1"
measure full.1 "$cb" --json --store "$store.1" backup "$img" --volume-id "$volume_id"
if awk -v w="${WALL[full.1]}" 'BEGIN { exit !(w > 60) }'; then
    full_runs=1
else
    full_runs=$repeat
fi
for ((i = 2; i <= full_runs; i++)); do
    mkdir -p "$store.$i"
    measure "full.$i" "$cb" --json --store "$store.$i" backup "$img" --volume-id "$volume_id"
    rm -rf "$store.$i"
done
repeat_all=$repeat
repeat=$full_runs bench_median full
repeat=$repeat_all
field() { bench_summary "$runs/log/$1.out" "$2"; } # KEY FIELD: of KEY's --json summary
full_id=$(field full.1 backup.id)
# sha_file ID: the _sha256file's bytes; object_size ID: the largest data object's length
sha_file() { stat -c %s "$(find "$store.1" -name "*_backup_$1_sha256file")"; }
object_size() {
    /usr/bin/python3 -c '
import json, sys
print(max(o["length"] for e in json.load(open(sys.argv[1]))["objects"] for o in e.values()))' \
        "$(find "$store.1" -name "*_backup_$1_metadata")"
}

fill "$vol2"
measure_median incr : : "$cb" --json --store "$store.1" backup "$img" --volume-id "$volume_id" \
    --parent "$full_id"
incr_id=$(field incr backup.id)
measure restore "$cb" -q --store "$store.1" restore --sparse "$incr_id" "$runs/restored.img"
sparse_same "$img" "$runs/restored.img"
rm -f "$runs/restored.img"

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
row() { # OPERATION KEY RUNS NOTE
    printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "${WALL[$2]}" "${RANGE[$2]:-1 run}" \
        "${CPU[$2]}" "${RSS[$2]}" "$3"
}
bench_secs=$(awk -v a="$bench_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
section=$(
    echo "Command: \`$command_line\` (\`make bench-sparse\` runs it with the defaults)"
    echo
    echo "Machine: $(bench_machine) at the end, $load_start at the start"
    echo
    echo "Workload: a $sparse_size sparse file holding $slices slices of $(mib "$slice") MiB of the bench mix (seed $seed, $gen_note), one every $(mib "$stride") MiB; the change: the mix's next day (seed $change_seed, 1 %), written into every slice again. Posix store, $("$cb" --version | head -n1) with default options: objects of $(object_size "$full_id") B, $(field full.1 backup.object_count) in the full. The whole bench took $bench_secs s."
    echo
    echo "| operation | wall s | wall range s | CPU s | peak RSS MiB | |"
    echo "|---|---:|---:|---:|---:|---|"
    row "cp --sparse=always of the file" cp "—"
    row "full backup" full "stored $(mib "$(field full.1 backup.stored_bytes)") MiB, _sha256file $(mib "$(sha_file "$full_id")") MiB"
    row "incremental (the next day)" incr "$(mib "$(field incr backup.data_bytes)") MiB of changed sha blocks in $(field incr backup.object_count) objects, _sha256file $(mib "$(sha_file "$incr_id")") MiB"
    row "restore --sparse of the incremental" restore "compared with the file: same bytes"
    echo
    echo "| target | figure | goal | mark |"
    echo "|---|---:|---|---|"
    bench_goal "full backup / cp --sparse=always" "$(awk -v a="${WALL[full]}" -v b="${WALL[cp]}" 'BEGIN { printf "%.3f", a / b }')" "<=" 3
    bench_goal "incremental after the 20 MiB change, s" "${WALL[incr]}" "<=" 3
    bench_goal "peak RSS of the full, MiB" "${RSS[full]}" "<=" 300
    bench_goal "peak RSS of the incremental, MiB" "${RSS[incr]}" "<=" 300
    echo
    echo "Median of the runs (wall range: fastest and slowest; the full ran $full_runs time(s), the rest $repeat),"
    echo "each one process under \`/usr/bin/time -v\`, timed until its output is on disk, with the"
    echo "file's slices in the page cache (its holes cost no I/O)."
)
printf '\n%s\n' "$section"
bench_write_doc "$doc" bench-sparse "$section"
