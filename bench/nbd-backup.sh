#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make bench-nbd-backup`: what an incremental from NBD costs with a dirty bitmap, against
# the same incremental without one (issue 18's goal: at most 1.2x the changed bytes read,
# at most 1/10 of the time). The disk: a 16 GiB qcow2 holding 4 GiB of bench/run.sh's mix
# (four 1 GiB slices at 0, 4, 8 and 12 GiB; written without sparse detection, so the
# mix's zero regions are allocated data too), with a dirty bitmap of the sha block's
# granularity (qemu-img bitmap --add -g 32768) added at the full backup. Then the mix's
# "next day" (cb-mkvolume --change: 1 % of the 4 GiB, one contiguous region and scattered
# 4 KiB writes) is written into the image through a writable qemu-nbd (python3-libnbd), so
# that qemu's bitmap records it as a guest's writes would be. Exported read-only
# (qemu-nbd -r -e 4 -B cb) on a unix socket, on the posix store (defaults: zlib, the
# posix object size), the full backup once, then each incremental BENCH_REPEAT times
# (on the same parent), the median's figures. The last incremental with
# the bitmap is restored and compared with the image (qemu-img compare). Writes the table
# into docs/performance.md between its bench-nbd-backup markers.
#
#   bench/nbd-backup.sh [BUILD]   BUILD: the meson build directory (default: build)
#
# Environment [defaults]: BENCH_DIR [BUILD/bench], BENCH_SEED [1], BENCH_REPEAT [3],
# BENCH_SLICE [1G] (4 slices: the data held), BENCH_DISK [16G], BENCH_DOC
# [docs/performance.md], BENCH_KEEP (set: keep the image and the store), CINDERBLOCK,
# MKVOLUME.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
work=${BENCH_DIR:-$build/bench}
seed=${BENCH_SEED:-1}
repeat=${BENCH_REPEAT:-3}
slice=${BENCH_SLICE:-1G}
disk=${BENCH_DISK:-16G}
doc=${BENCH_DOC:-docs/performance.md}
cb=${CINDERBLOCK:-$build/tools/cinderblock/cinderblock}
mkvolume=${MKVOLUME:-$build/bench/cb-mkvolume}
command_line="BENCH_SEED=$seed BENCH_REPEAT=$repeat BENCH_SLICE=$slice BENCH_DISK=$disk bench/nbd-backup.sh $build"
BENCH_TAG=bench-nbd-backup
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT must be a positive integer"
[ -x "$cb" ] || die "$cb is missing: build first (make bench-nbd-backup builds it)"
[ -x "$mkvolume" ] || die "$mkvolume is missing: build first"
for t in qemu-img qemu-nbd /usr/bin/time; do
    command -v $t >/dev/null || die "$t is missing: scripts/deps.sh nbd bench"
done
/usr/bin/python3 -c 'import nbd' 2>/dev/null || die "python3-libnbd is missing: scripts/deps.sh bench"
mkdir -p "$work"
work=$(cd "$work" && pwd)
cb=$(cd "$(dirname "$cb")" && pwd)/$(basename "$cb")
bench_start=$(date +%s.%N)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

bench_runs nbd-runs
nbd_pid=""
stop_nbd() {
    [ -z "$nbd_pid" ] || { kill "$nbd_pid" 2>/dev/null || true; wait "$nbd_pid" 2>/dev/null || true; }
    nbd_pid=""
    rm -f "$runs/nbd.sock"
}
bench_on_exit() { stop_nbd; }
img=$runs/disk.qcow2
sock=$runs/nbd.sock
uri="nbd+unix:///?socket=$sock"
volume_id=0d6c4f0e-3b7a-4d52-8e19-6a0c2b9f7e31
# serve [QEMU-NBD OPTIONS]: export the image (writable unless -r is given)
serve() {
    stop_nbd
    qemu-nbd -t -f qcow2 -k "$sock" "$@" "$img" &
    nbd_pid=$!
    for _ in $(seq 200); do [ -S "$sock" ] && return 0; sleep 0.05; done
    die "qemu-nbd did not start"
}

# ---- the data: the mix (cached) and its next day, as a 4-slice disk
key=$(sha256sum <bench/mkvolume.c | cut -c1-12)-$slice-s$seed
data=$work/nbd-data-$key.img
for old in "$work"/nbd-data-*.img; do [ "$old" = "$data" ] || [ ! -f "$old" ] || rm -f "$old"; done
slice_bytes=$(numfmt --from=iec "$slice")
if [ ! -f "$data" ]; then
    "$mkvolume" --size "$((4 * slice_bytes))" --seed "$seed" "$data.tmp"
    mv "$data.tmp" "$data"
fi
disk_bytes=$(numfmt --from=iec "$disk")
stride=$((disk_bytes / 4))
[ "$stride" -ge "$slice_bytes" ] || die "BENCH_DISK must hold 4 slices of BENCH_SLICE"
echo "$BENCH_TAG: the disk ($disk, 4 slices of $slice)" >&2
qemu-img create -q -f qcow2 "$img" "$disk"
serve # writable, to fill it (qemu-img convert would skip the zeros)
/usr/bin/python3 - "$uri" "$data" "$slice_bytes" "$stride" <<'EOF'
import nbd, sys
uri, data, slice_bytes, stride = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
h = nbd.NBD()
h.connect_uri(uri)
step = 16 << 20
with open(data, "rb") as f:
    for k in range(4):
        for at in range(0, slice_bytes, step):
            f.seek(k * slice_bytes + at)
            h.pwrite(f.read(min(step, slice_bytes - at)), k * stride + at)
h.flush()
h.shutdown()
EOF
stop_nbd
qemu-img bitmap --add -g 32768 "$img" cb

# ---- the full backup, the parent (the bitmap was added with it)
store=$runs/store
mkdir -p "$store"
serve -r -e 4 -B cb
measure full "$cb" --json --store "$store" backup --volume-id "$volume_id" "$uri"
full_id=$(tail -1 "$runs/log/full.out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["backup"]["id"])')
stop_nbd

# ---- the next day: the mix's change, written through qemu (so the bitmap sees it)
cp --sparse=always "$data" "$runs/day2.img"
"$mkvolume" --change --seed 2 --map "$runs/change.map" "$runs/day2.img" 2>/dev/null
serve
written=$(/usr/bin/python3 - "$uri" "$runs/day2.img" "$runs/change.map" "$slice_bytes" "$stride" <<'EOF'
import nbd, sys
uri, day2, mapf, slice_bytes, stride = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
h = nbd.NBD()
h.connect_uri(uri)
total = 0
with open(day2, "rb") as f, open(mapf) as m:
    for line in m:
        off, ln = (int(x) for x in line.split()[:2])
        while ln > 0:  # split where a region crosses from one slice to the next
            k, within = divmod(off, slice_bytes)
            n = min(ln, slice_bytes - within)
            f.seek(off)
            h.pwrite(f.read(n), k * stride + within)
            total += n
            off += n
            ln -= n
h.flush()
h.shutdown()
print(total)
EOF
)
stop_nbd
rm -f "$runs/day2.img"

# ---- the incrementals, with and without the bitmap (each new backup deleted after)
serve -r -e 4 -B cb
field() { tail -1 "$runs/log/$1.out" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); v=d
for k in sys.argv[1].split("."): v=v[k]
print(v)' "$2"; }
# (the new backups are kept: each is of the same parent, in a container of its own, and
# deleting thousands of objects between runs would make ext4's next inode allocations pay
# for the recently deleted ones, a cost a nightly backup does not meet)
measure_median bitmap : : \
    "$cb" --json --store "$store" backup --volume-id "$volume_id" --parent "$full_id" --dirty-bitmap cb "$uri"
measure_median nobitmap : : \
    "$cb" --json --store "$store" backup --volume-id "$volume_id" --parent "$full_id" "$uri"
measure check "$cb" --json --store "$store" backup --volume-id "$volume_id" --parent "$full_id" --dirty-bitmap cb "$uri"
stop_nbd
"$cb" -q --store "$store" restore --sparse "$(field check backup.id)" "$runs/restored.raw"
qemu-img compare -q -f raw -F qcow2 "$runs/restored.raw" "$img" ||
    die "RESTORE MISMATCH: the incremental with the bitmap does not restore as the image"
rm -f "$runs/restored.raw"

read_bm=$(field bitmap bytes_read)
read_no=$(field nobitmap bytes_read)
changed=$(field bitmap backup.data_bytes)
changed_no=$(field nobitmap backup.data_bytes)
[ "$changed" = "$changed_no" ] || die "the two incrementals stored $changed and $changed_no bytes"
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
ratio_read=$(awk -v r="$read_bm" -v w="$changed" 'BEGIN { printf "%.2f", r / w }')
ratio_written=$(awk -v r="$read_bm" -v w="$written" 'BEGIN { printf "%.2f", r / w }')
ratio_time=$(awk -v a="${WALL[bitmap]}" -v b="${WALL[nobitmap]}" 'BEGIN { printf "%.3f", a / b }')
bench_secs=$(awk -v a="$bench_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
section=$(
    echo "Command: \`$command_line\` (\`make bench-nbd-backup\` runs it with the defaults)"
    echo
    echo "Machine: $(bench_machine) at the end, $load_start at the start"
    echo
    echo "Workload: a $disk qcow2 holding 4 × $slice of the bench mix (seed $seed), exported by qemu-nbd -r -e 4 -B cb on a unix socket; its next day (cb-mkvolume --change --seed 2: $(mib "$written") MiB written through qemu-nbd, 1 % of the data) changed $(mib "$changed") MiB of sha blocks (32 KiB: what an incremental stores); posix store, zlib. The whole bench took $bench_secs s."
    echo
    echo "| operation | wall s | wall range s | CPU s | peak RSS MiB | read from the server MiB |"
    echo "|---|---:|---:|---:|---:|---:|"
    printf '| full backup (the parent) | %s | - | %s | %s | %s |\n' "${WALL[full]}" "${CPU[full]}" \
        "${RSS[full]}" "$(mib "$(field full bytes_read)")"
    printf '| incremental, --dirty-bitmap | %s | %s | %s | %s | %s |\n' "${WALL[bitmap]}" \
        "${RANGE[bitmap]}" "${CPU[bitmap]}" "${RSS[bitmap]}" "$(mib "$read_bm")"
    printf '| incremental, no bitmap | %s | %s | %s | %s | %s |\n' "${WALL[nobitmap]}" \
        "${RANGE[nobitmap]}" "${CPU[nobitmap]}" "${RSS[nobitmap]}" "$(mib "$read_no")"
    echo
    echo "- read with the bitmap / changed bytes: $(mib "$read_bm") / $(mib "$changed") MiB = **$ratio_read** (goal ≤ 1.2); / bytes written: $ratio_written (a 4 KiB write costs its 32 KiB sha block)"
    echo "- time with the bitmap / without: ${WALL[bitmap]} / ${WALL[nobitmap]} s = **$ratio_time** (goal ≤ 0.1)"
    echo
    echo "Median of $repeat runs (wall range: the fastest and slowest), each one process under"
    echo "\`/usr/bin/time -v\`, timed until its output is on disk. The incremental with the"
    echo "bitmap restores as the image (qemu-img compare)."
)
printf '\n%s\n' "$section"
bench_write_doc "$doc" bench-nbd-backup "$section"
