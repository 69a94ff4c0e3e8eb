#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make bench`: cinderblock against restic, borg and Cinder 21.3.1's own posix driver, on
# the same synthetic volume and its "next day" copy, in one go.
#
#   bench/run.sh [BUILD]          BUILD: the meson build directory (default: build)
#
# Environment (defaults in brackets):
#   BENCH_DIR     work directory; volumes are cached there [BUILD/bench]
#   BENCH_SIZE    volume size, K/M/G suffixes [2G]
#   BENCH_SEED    seed of the volume [1]; BENCH_CHANGE_SEED: seed of the 1 % change [2]
#   BENCH_KEEP    1: keep the repositories and stores of this run [0]
#   BENCH_REPEAT  runs of each operation a ratio is taken from; the median is kept [3]
#   BENCH_DOC     the page to update between its bench markers [docs/performance.md]
#   CINDERBLOCK, MKVOLUME   the binaries [BUILD/tools/cinderblock/cinderblock,
#                           BUILD/bench/cb-mkvolume]
#   RESTIC_PASSWORD         restic's repository password [cinderblock-bench]
#
# Every measured operation is one process under /usr/bin/time (wall, user+sys CPU, max
# RSS), with both volumes read into the page cache just before it, so that every tool
# reads from memory; nothing else is dropped. The operations that the goals compare run
# BENCH_REPEAT times, each from the same starting state (a fresh store, or a copy of the
# store as the full backup left it), and the run with the median wall time is reported:
# on a shared VM one run can be 20 % off. Cinder's (100 s a run) and the posix-default
# object size run (peak RSS only) run once. Every restore is compared with its source; a
# difference stops the bench.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
work=${BENCH_DIR:-$build/bench}
size=${BENCH_SIZE:-2G}
seed=${BENCH_SEED:-1}
change_seed=${BENCH_CHANGE_SEED:-2}
doc=${BENCH_DOC:-docs/performance.md}
cb=${CINDERBLOCK:-$build/tools/cinderblock/cinderblock}
mkvolume=${MKVOLUME:-$build/bench/cb-mkvolume}
cinder_peer=$root/tests/compat/cinder_peer.py
export RESTIC_PASSWORD=${RESTIC_PASSWORD:-cinderblock-bench}
repeat=${BENCH_REPEAT:-3}
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_REPEAT must be a positive integer" >&2; exit 2; }
object_size=50M          # cinderblock; Cinder gets the same in bytes
object_bytes=52428800
# The exact command, with every setting that changes what is measured.
command_line="BENCH_SIZE=$size BENCH_SEED=$seed BENCH_CHANGE_SEED=$change_seed BENCH_REPEAT=$repeat"
[ -z "${CINDERBLOCK:-}" ] || command_line="$command_line CINDERBLOCK=$CINDERBLOCK"
[ -z "${MKVOLUME:-}" ] || command_line="$command_line MKVOLUME=$MKVOLUME"
command_line="$command_line bench/run.sh $build"

# bench_volumes from the shared code; this script keeps its own measure (it also counts the
# host's steal and I/O waits) and die, defined after it
BENCH_TAG=bench
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
die() {
    echo "bench: $*" >&2
    exit 1
}

[ -x "$cb" ] || die "$cb is missing: build first (make bench builds it)"
for tool in restic borg /usr/bin/time /usr/bin/python3; do
    command -v "$tool" >/dev/null || die "$tool is missing: scripts/deps.sh build compat bench"
done
/usr/bin/python3 -c 'import cinder' 2>/dev/null ||
    die "Debian's python3-cinder is missing: scripts/deps.sh compat"

bench_start=$(date +%s.%N)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$work"
work=$(cd "$work" && pwd)
cb=$(cd "$(dirname "$cb")" && pwd)/$(basename "$cb")
if [ ! -x "$mkvolume" ] && [ -z "${MKVOLUME:-}" ]; then
    # Until the build includes bench/, build the generator here; it needs only libc and libm.
    echo "bench: $mkvolume not built; compiling bench/mkvolume.c with cc" >&2
    mkvolume=$work/cb-mkvolume-cc
    cc -std=c11 -O2 -D_GNU_SOURCE -o "$mkvolume" bench/mkvolume.c -lm
fi
[ -x "$mkvolume" ] || die "$mkvolume is missing"
mkvolume=$(cd "$(dirname "$mkvolume")" && pwd)/$(basename "$mkvolume")

# ---- the volumes, cached (bench/lib.sh; 4 GiB each, other keys' are removed)
bench_volumes vol "$size" "$seed" "$change_seed"
vol_bytes=$(stat -c %s "$vol")

# ---- per-run state: fresh stores and repositories, removed after a successful run
# unless BENCH_KEEP=1.
runs=$work/run
rm -rf "$runs"
mkdir -p "$runs/log"
export RESTIC_CACHE_DIR=$runs/restic-cache
export BORG_BASE_DIR=$runs/borg-home
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
# A failed run keeps its stores and logs (run/log/KEY.err) for a look.
cleanup() {
    local status=$?
    if [ "$status" -ne 0 ]; then
        echo "bench: FAILED; stores and logs kept in $runs" >&2
    elif [ "${BENCH_KEEP:-0}" != 1 ]; then
        rm -rf "$runs"
    fi
}
trap cleanup EXIT

# Every tool backs up the same path: a hard link switched from the volume to its next-day
# copy, as a disk image that changed overnight. restic and borg then find their previous
# snapshot of that path, as in daily use.
stage=$runs/stage/disk.img
mkdir -p "$runs/stage"
use_volume() { ln -f "$1" "$stage"; }
use_volume "$vol"
volume_id=6b3a52f0-0c9f-4c1e-9d8b-5e3a1d2c4b01

declare -A WALL CPU RSS OUT OTHERS RANGE HOSTIO
hz=$(getconf CLK_TCK)
others_cpu=0 machine_cpu=0
# Busy and total CPU time of the whole machine so far, in clock ticks (/proc/stat).
# Also the ticks stolen by the host and spent waiting for I/O.
machine_ticks() {
    awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6, $9, $6; exit }' /proc/stat
}
# measure KEY CMD...: one run of CMD, followed by sync, under /usr/bin/time. Outstanding
# writeback from the previous run is flushed first (sync) so that no tool pays for
# another's writes, and
# both volumes are read so that they are in the page cache. Other work on the machine
# skews the figures (a tool with more threads gets a larger share of contended CPUs), so
# the CPU time that other processes used meanwhile is recorded too.
measure() {
    local key=$1 wall user sys rss busy0 total0 busy1 total1 others steal0 steal1 iow0 iow1
    shift
    sync
    cat "$vol" "$vol2" >/dev/null
    echo "bench: $key: $*" >&2
    read -r busy0 total0 steal0 iow0 < <(machine_ticks)
    # timed until the output is on disk: cinderblock flushes before it reports success, and
    # so does Cinder's restore (per object); restic and borg would otherwise be timed
    # with their writes still in the page cache
    if ! /usr/bin/time -f '%e %U %S %M' -o "$runs/log/$key.time" \
        sh -c '"$@"; rc=$?; sync; exit $rc' sh "$@" \
        >"$runs/log/$key.out" 2>"$runs/log/$key.err"; then
        cat "$runs/log/$key.err" >&2
        die "$key failed: $*"
    fi
    read -r busy1 total1 steal1 iow1 < <(machine_ticks)
    read -r wall user sys rss <"$runs/log/$key.time"
    WALL[$key]=$wall
    CPU[$key]=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    RSS[$key]=$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')
    # others' share of the machine's CPU time during the run, in %
    read -r others others_cpu machine_cpu < <(awk -v b=$((busy1 - busy0)) \
        -v t=$((total1 - total0)) -v hz="$hz" -v own="${CPU[$key]}" -v oc="$others_cpu" \
        -v mc="$machine_cpu" 'BEGIN { o = b / hz - own; if (o < 0) o = 0
            printf "%.0f %.2f %.2f\n", t ? 100 * o / (t / hz) : 0, oc + o, mc + t / hz }')
    OTHERS[$key]=$others
    # the host's share (steal) and I/O waits, in % of the machine's time: a run slowed by
    # either shows a wall time its CPU time does not explain
    HOSTIO[$key]=$(awk -v s=$((steal1 - steal0)) -v w=$((iow1 - iow0)) -v t=$((total1 - total0)) \
        'BEGIN { printf "%.0f / %.0f", t ? 100 * s / t : 0, t ? 100 * w / t : 0 }')
}

# measure_median KEY PREP POST CMD...: BENCH_REPEAT runs of CMD, each after PREP and
# followed by POST (shell commands, untimed; ":" for none); the run with the median wall
# time gives KEY's figures, RANGE[KEY] the fastest and slowest wall times, and the last
# run's output stays in run/log/KEY.out.
measure_median() {
    local key=$1 prep=$2 post=$3 i mid
    shift 3
    for ((i = 1; i <= repeat; i++)); do
        eval "$prep"
        measure "$key.$i" "$@"
        eval "$post"
    done
    mid=$(for ((i = 1; i <= repeat; i++)); do echo "${WALL[$key.$i]} $i"; done |
        sort -n | awk -v m=$(((repeat + 1) / 2)) 'NR == m { print $2 }')
    WALL[$key]=${WALL[$key.$mid]}
    CPU[$key]=${CPU[$key.$mid]}
    RSS[$key]=${RSS[$key.$mid]}
    OTHERS[$key]=${OTHERS[$key.$mid]}
    HOSTIO[$key]=${HOSTIO[$key.$mid]}
    RANGE[$key]=$(for ((i = 1; i <= repeat; i++)); do echo "${WALL[$key.$i]}"; done |
        sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s–%s", lo, hi }')
    cp "$runs/log/$key.$repeat.out" "$runs/log/$key.out"
    rm -rf "$runs/trash"
}

# trash DIR...: move DIRs aside, to be deleted once the runs of an operation are over. A
# run that follows thousands of deletions finds ext4 slow to create files (it skips the
# recently freed inodes), which would weigh on the next run, not on the one that wrote them.
trash() {
    mkdir -p "$runs/trash"
    for d in "$@"; do
        [ ! -e "$d" ] || mv "$d" "$(mktemp -u "$runs/trash/XXXXXX")"
    done
}

# snapshot DIR...: keep a copy of each DIR as it is now; unsnap DIR...: put it back.
snapshot() { for d in "$@"; do rm -rf "$d.snap" && cp -a "$d" "$d.snap"; done; }
unsnap() { for d in "$@"; do trash "$d" && cp -a "$d.snap" "$d"; done; }

# Apparent bytes, as the object store would bill them.
bytes() { du -sb "$1" | cut -f1; }

# same SOURCE RESTORED: a restore that differs from its source fails the bench.
same() {
    cmp "$1" "$2" || die "RESTORE MISMATCH: $2 differs from $1"
    rm -f "$2"
}

tiny=$runs/tiny.img
"$mkvolume" --size 1M --seed "$seed" "$tiny" 2>/dev/null

# ---- cinderblock
measure_median cb_full_zstd 'trash "$runs/cb-zstd"; mkdir -p "$runs/cb-zstd"' : \
    "$cb" -q --store "$runs/cb-zstd" backup "$stage" --volume-id "$volume_id" \
    --compression zstd --object-size $object_size
cb_zstd_id=$(cat "$runs/log/cb_full_zstd.out")
OUT[cb_full_zstd]=$(bytes "$runs/cb-zstd")
measure_median cb_full_zlib 'trash "$runs/cb-zlib"; mkdir -p "$runs/cb-zlib"' : \
    "$cb" -q --store "$runs/cb-zlib" backup "$stage" --volume-id "$volume_id" \
    --compression zlib --object-size $object_size
cb_zlib_id=$(cat "$runs/log/cb_full_zlib.out")
OUT[cb_full_zlib]=$(bytes "$runs/cb-zlib")
measure_median cb_full_zstd_t1 'trash "$runs/cb-zstd-t1"; mkdir -p "$runs/cb-zstd-t1"' : \
    "$cb" -q --store "$runs/cb-zstd-t1" backup "$stage" \
    --volume-id "$volume_id" --compression zstd --object-size $object_size --threads 1
OUT[cb_full_zstd_t1]=$(bytes "$runs/cb-zstd-t1")
rm -rf "$runs/cb-zstd-t1"
mkdir -p "$runs/cb-zstd-posix"
measure cb_full_zstd_posix "$cb" -q --store "$runs/cb-zstd-posix" backup "$stage" \
    --volume-id "$volume_id" --compression zstd
OUT[cb_full_zstd_posix]=$(bytes "$runs/cb-zstd-posix")
rm -rf "$runs/cb-zstd-posix"
measure_median cb_restore_zstd : 'same "$vol" "$runs/restored.img"' \
    "$cb" -q --store "$runs/cb-zstd" restore --force "$cb_zstd_id" "$runs/restored.img"
measure_median cb_restore_zlib : 'same "$vol" "$runs/restored.img"' \
    "$cb" -q --store "$runs/cb-zlib" restore --force "$cb_zlib_id" "$runs/restored.img"
rm -rf "$runs/cb-zlib"

# ---- restic: zstd is its default (--compression auto); always encrypted.
restic_repo=$runs/restic
use_volume "$vol"
measure_median restic_full \
    'trash "$restic_repo" && restic -q -r "$restic_repo" init >/dev/null' : \
    restic -q -r "$restic_repo" backup --tag full "$stage"
OUT[restic_full]=$(bytes "$restic_repo")
measure_median restic_restore 'trash "$runs/restic-out"' 'same "$vol" "$runs/restic-out$stage"' \
    restic -q -r "$restic_repo" restore latest --tag full --target "$runs/restic-out"

# ---- borg 1.2, unencrypted, zstd,3; with the default (buzhash) and with fixed 32 KiB
# chunks, which finds changed blocks as cinderblock's sha blocks do.
measure_median borg_full 'trash "$runs/borg" && borg init -e none "$runs/borg"' : \
    borg create --compression zstd,3 "$runs/borg::full" "$stage"
OUT[borg_full]=$(bytes "$runs/borg")
measure_median borg_restore 'trash "$runs/borg-out" && mkdir -p "$runs/borg-out"' \
    'same "$vol" "$runs/borg-out/${stage#/}"' \
    env -C "$runs/borg-out" borg extract "$runs/borg::full"
measure_median borgfix_full 'trash "$runs/borg-fixed" && borg init -e none "$runs/borg-fixed"' : \
    borg create --compression zstd,3 --chunker-params fixed,32768 "$runs/borg-fixed::full" "$stage"
OUT[borgfix_full]=$(bytes "$runs/borg-fixed")

# ---- Cinder 21.3.1's posix driver, whole process as is; its start-up alone is measured
# on a 1 MiB volume.
mkdir -p "$runs/cinder-tiny" "$runs/cinder"
cinder_id=0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f
measure cinder_startup /usr/bin/python3 "$cinder_peer" backup --root "$runs/cinder-tiny" \
    --volume "$tiny" --backup-id "$cinder_id" --volume-id "$volume_id" --compression zlib \
    --object-size $object_bytes --sha-block 32768
OUT[cinder_startup]=$(bytes "$runs/cinder-tiny")
measure cinder_full /usr/bin/python3 "$cinder_peer" backup --root "$runs/cinder" \
    --volume "$stage" --backup-id "$cinder_id" --volume-id "$volume_id" --compression zlib \
    --object-size $object_bytes --sha-block 32768
OUT[cinder_full]=$(bytes "$runs/cinder")
measure cinder_restore /usr/bin/python3 "$cinder_peer" restore --root "$runs/cinder" \
    --backup-id "$cinder_id" --target "$runs/cinder-out.img"
same "$vol" "$runs/cinder-out.img"
rm -rf "$runs/cinder"

# ---- the next day: incrementals, each on top of its tool's own full.
use_volume "$vol2"
# Each run starts from the repository (and the tool's cache) as the full backup left it.
snapshot "$runs/cb-zstd" "$restic_repo" "$RESTIC_CACHE_DIR" "$runs/borg" "$runs/borg-fixed" \
    "$BORG_BASE_DIR"
incremental() { # KEY DIR "DIR..." CMD...: stored increment = growth of DIR
    local key=$1 dir=$2 state=$3 before
    shift 3
    before=$(bytes "$dir")
    measure_median "$key" "unsnap $state" : "$@"
    OUT[$key]=$(($(bytes "$dir") - before))
}
incremental cb_incr "$runs/cb-zstd" "$runs/cb-zstd" "$cb" -q --store "$runs/cb-zstd" backup "$stage" \
    --volume-id "$volume_id" --incremental --compression zstd --object-size $object_size
incremental restic_incr "$restic_repo" "$restic_repo $RESTIC_CACHE_DIR" \
    restic -q -r "$restic_repo" backup --tag day2 "$stage"
incremental borg_incr "$runs/borg" "$runs/borg $BORG_BASE_DIR" \
    borg create --compression zstd,3 "$runs/borg::day2" "$stage"
incremental borgfix_incr "$runs/borg-fixed" "$runs/borg-fixed $BORG_BASE_DIR" borg create --compression zstd,3 \
    --chunker-params fixed,32768 "$runs/borg-fixed::day2" "$stage"
# Cheap proof that the increment is right: the chain restores to the next-day volume.
"$cb" -q --store "$runs/cb-zstd" restore --force "$(cat "$runs/log/cb_incr.out")" "$runs/restored.img"
same "$vol2" "$runs/restored.img"

# ---- the table
bench_secs=$(awk -v a="$bench_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
# ratio PEER_KEY CB_KEY GOAL: how many times faster cinderblock was, against the goal
ratio() {
    awk -v p="${WALL[$1]}" -v c="${WALL[$2]}" -v g="$3" \
        'BEGIN { printf "%.2f× (goal ≥ %s×)", p / c, g }'
}
row() { # OPERATION TOOL KEY SPEEDUP
    local out="—"
    [ -z "${OUT[$3]:-}" ] || out=$(mib "${OUT[$3]}")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "${WALL[$3]}" \
        "${RANGE[$3]:-1 run}" "${CPU[$3]}" "${RSS[$3]}" "$out" "$4" "${OTHERS[$3]}" "${HOSTIO[$3]}"
}
cinder_net=$(awk -v p="${WALL[cinder_full]}" -v s="${WALL[cinder_startup]}" \
    -v c="${WALL[cb_full_zlib]}" 'BEGIN { if (p > s) printf "%.2f×", (p - s) / c; else printf "n/a" }')
cinder_size=$(awk -v a="${OUT[cb_full_zlib]}" -v b="${OUT[cinder_full]}" \
    'BEGIN { printf "%+.1f", 100 * (a - b) / b }')
cinder_rnet=$(awk -v p="${WALL[cinder_restore]}" -v s="${WALL[cinder_startup]}" \
    -v c="${WALL[cb_restore_zlib]}" 'BEGIN { if (p > s) printf "%.2f×", (p - s) / c; else printf "n/a" }')
scaling=$(awk -v a="${WALL[cb_full_zstd_t1]}" -v b="${WALL[cb_full_zstd]}" \
    'BEGIN { printf "%.2f", a / b }')
threads=$(nproc)
others_share=$(awk -v o="$others_cpu" -v m="$machine_cpu" 'BEGIN { printf "%.0f", m ? 100 * o / m : 0 }')
rss_goal() { awk -v r="${RSS[$1]}" 'BEGIN { printf "peak RSS %s MiB (goal ≤ 300)", r }'; }

table=$(
    echo "| operation | tool | wall s | wall range s | CPU s | peak RSS MiB | output MiB | cinderblock speed-up | others' CPU % | steal / iowait % |"
    echo "|---|---|---:|---:|---:|---:|---:|---|---:|---:|"
    row "full, zstd" "cinderblock (--object-size 50M)" cb_full_zstd "$(rss_goal cb_full_zstd)"
    row "full, zstd" "restic (auto = zstd, encrypted)" restic_full "$(ratio restic_full cb_full_zstd 2.5)"
    row "full, zstd" "borg (zstd,3)" borg_full "$(ratio borg_full cb_full_zstd 2.5)"
    row "full, zstd" "borg (zstd,3, fixed 32 KiB)" borgfix_full "$(ratio borgfix_full cb_full_zstd 2.5)"
    row "full, zstd, --threads 1" "cinderblock" cb_full_zstd_t1 \
        "scaling, --threads 1 → $threads: ${scaling}× (goal ≥ 1.8×)"
    row "full, zstd, posix default object size" "cinderblock (1999994880 B objects)" \
        cb_full_zstd_posix "$(rss_goal cb_full_zstd_posix)"
    row "full, zlib" "cinderblock (--object-size 50M)" cb_full_zlib "stored size ${cinder_size} % vs Cinder (goal within 3 %)"
    row "full, zlib" "Cinder 21.3.1 posix (50 MiB objects)" cinder_full \
        "$(ratio cinder_full cb_full_zlib 12); ${cinder_net} net of start-up"
    row "start-up only (1 MiB volume)" "Cinder 21.3.1 posix" cinder_startup "—"
    row "incremental, 1 % changed" "cinderblock (zstd)" cb_incr "—"
    row "incremental, 1 % changed" "restic" restic_incr "$(ratio restic_incr cb_incr 8)"
    row "incremental, 1 % changed" "borg (zstd,3)" borg_incr "$(ratio borg_incr cb_incr 2)"
    row "incremental, 1 % changed" "borg (zstd,3, fixed 32 KiB)" borgfix_incr "$(ratio borgfix_incr cb_incr 2)"
    row "restore zstd full" "cinderblock" cb_restore_zstd "—"
    row "restore zlib full" "cinderblock" cb_restore_zlib "—"
    row "restore" "restic" restic_restore "$(ratio restic_restore cb_restore_zstd 2)"
    row "restore" "borg (zstd,3)" borg_restore "$(ratio borg_restore cb_restore_zstd 2)"
    row "restore (zlib backup)" "Cinder 21.3.1 posix" cinder_restore \
        "$(ratio cinder_restore cb_restore_zlib 6); ${cinder_rnet} net of start-up"
)

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
ram=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
machine="$(nproc) CPUs, $cpu_model, $ram RAM, Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'), load average at the start $load_start, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
versions="$("$cb" --version | head -n1); $(restic version | cut -d' ' -f1-2); $(borg --version); Cinder $(dpkg-query -W -f='${Version}' python3-cinder 2>/dev/null || echo '?')"
volume_line="$(mib "$vol_bytes") MiB volume (seed $seed, $gen_note), next day: seed $change_seed; the whole bench took $bench_secs s"
section=$(
    echo "Command: \`$command_line\` (\`make bench\` runs \`bench/run.sh build\` with the defaults)"
    echo
    echo "Machine: $machine"
    echo
    echo "Tools: $versions"
    echo
    echo "Workload: $volume_line."
    echo
    echo "$table"
    echo
    echo "Wall and CPU (user + system) in seconds and peak RSS of the whole process: of the run"
    echo "with the median wall time out of $repeat (wall range: the fastest and slowest), or of one run;"
    echo "output: apparent bytes of the store or repository (incrementals: what they added)."
    echo "Speed-up: the peer's wall time over cinderblock's for the same operation. Others' CPU:"
    echo "the share of the machine's CPU time that other processes used during the operation"
    echo "(0 on a quiet machine); over all operations: ${others_share} %. Steal / iowait: the"
    echo "shares of the machine's time the host took from this VM, and that its CPUs idled"
    echo "waiting for I/O: a wall time that the CPU time does not explain shows up there."
)
printf '\n%s\n' "$section"

# ---- docs/performance.md: replace the marked section, keep the rest.
if [ ! -f "$doc" ]; then
    cat >"$doc" <<'EOF'
# Performance

`make bench` measures cinderblock against restic, borg and OpenStack Cinder 21.3.1's own
posix backup driver on the same synthetic disk image.
EOF
fi
if ! grep -q '^<!-- bench:begin -->' "$doc"; then
    printf '\n<!-- bench:begin -->\n<!-- bench:end -->\n' >>"$doc"
fi
# (ENVIRON, not awk -v, which would interpret backslashes)
tmp=$runs/performance.md
SECTION=$section awk '
    /^<!-- bench:begin -->/ { print; print ENVIRON["SECTION"]; skip = 1; next }
    /^<!-- bench:end -->/ { skip = 0 }
    !skip { print }
' "$doc" >"$tmp"
cat "$tmp" >"$doc"
echo "bench: results written to $doc" >&2
