#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make bench-objstore` (and the second half of `make bench`): cinderblock against restic
# 0.14's swift and s3 backends and Cinder 21.3.1's own cinder.backup.drivers.swift and .s3,
# on the project's own local Swift (tests/services/swift.sh: Swift 2.30, tempauth and s3api
# on one proxy, one replica, started here on free loopback ports and stopped at the end),
# with issue 19's targets computed and marked. Per store (Swift, then S3 through s3api):
#   - the raw capacity of that Swift: BENCH_RAW_OBJECTS PUTs of 50 MiB objects,
#     BENCH_RAW_PARALLEL at once (curl), then as many GETs to /dev/null: MB/s up and down;
#   - for each tool, on bench/run.sh's mix (cb-mkvolume; BENCH_SIZE, by default 1 GiB here)
#     and its next day (1 % changed): full backup, its restore, the incremental, its restore.
# cinderblock: zlib, every other setting its default (the object size it used is read back
# from the full's _metadata). restic: encrypted, --compression auto (zstd); its s3 backend
# goes through a TLS relay (socat), since over plain http it sends aws-chunked payloads,
# which Swift 2.30's s3api refuses. Cinder: the stock drivers through
# tests/compat/cinder_peer.py (one process per operation, its 2-4 s of start-up included;
# measured once more on a 1 MiB volume), zlib, Cinder's 50 MiB objects.
#
# Every measured operation is one process under /usr/bin/time -v (bench/lib.sh: wall,
# user+sys CPU of the client, peak RSS), timed until its output is on disk; around it the
# Swift's CPU (utime+stime, children included, of every process swift.sh started, from
# /proc) and the client requests the proxy logged. cinderblock and restic run
# BENCH_REPEAT times, each full into a fresh container (restic: repository), each
# incremental on the full of the same round, each restore of the first round's backup; the
# median's figures are reported. Cinder runs once (about 3 minutes per store). Every
# restore is compared with its source (cmp): a difference fails the bench.
#
# Run time on the 2-core dev machine (main of issue 19's start): about 5 minutes with
# BENCH_REPEAT=1, 10 with the default 3 (Cinder's 4 operations per store, once: 70 s each store).
#
#   bench/objstore.sh [BUILD]          BUILD: the meson build directory (default: build)
#
# Environment [defaults]: BENCH_DIR [BUILD/bench], BENCH_SIZE [1G], BENCH_SEED [1],
# BENCH_CHANGE_SEED [2], BENCH_REPEAT [3], BENCH_STORES ["swift s3"], BENCH_CINDER [1]
# (0: leave Cinder out), BENCH_RAW_OBJECTS [16], BENCH_RAW_PARALLEL [8], BENCH_DOC
# [docs/performance.md], BENCH_KEEP (set: keep the Swift's data and the logs), CINDERBLOCK,
# MKVOLUME, RESTIC_PASSWORD.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
work=${BENCH_DIR:-$build/bench}
size=${BENCH_SIZE:-1G}
seed=${BENCH_SEED:-1}
change_seed=${BENCH_CHANGE_SEED:-2}
repeat=${BENCH_REPEAT:-3}
stores=${BENCH_STORES:-swift s3}
with_cinder=${BENCH_CINDER:-1}
raw_objects=${BENCH_RAW_OBJECTS:-16}
raw_parallel=${BENCH_RAW_PARALLEL:-8}
doc=${BENCH_DOC:-docs/performance.md}
cb=${CINDERBLOCK:-$build/tools/cinderblock/cinderblock}
mkvolume=${MKVOLUME:-$build/bench/cb-mkvolume}
cinder_peer=$root/tests/compat/cinder_peer.py
services=$root/tests/services
export RESTIC_PASSWORD=${RESTIC_PASSWORD:-cinderblock-bench}
command_line="BENCH_SIZE=$size BENCH_SEED=$seed BENCH_CHANGE_SEED=$change_seed BENCH_REPEAT=$repeat"
[ "$stores" = "swift s3" ] || command_line="$command_line BENCH_STORES='$stores'"
[ "$with_cinder" = 1 ] || command_line="$command_line BENCH_CINDER=$with_cinder"
command_line="$command_line bench/objstore.sh $build"
BENCH_TAG=bench-objstore
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT must be a positive integer"
for t in restic socat openssl curl /usr/bin/time swift-proxy-server memcached; do
    command -v "$t" >/dev/null || die "$t is missing: scripts/deps.sh bench services"
done
/usr/bin/python3 -c 'import cinder, boto3, swiftclient' 2>/dev/null ||
    die "python3-cinder, python3-boto3 or python3-swiftclient is missing: scripts/deps.sh compat"
bench_paths
bench_start=$(date +%s.%N)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

bench_volumes objvol "$size" "$seed" "$change_seed"
vol_bytes=$(stat -c %s "$vol")
bench_runs objstore-runs
export RESTIC_CACHE_DIR=$runs/restic-cache

# ---- the Swift (and the TLS relay in front of its S3 API, for restic), on free ports
swift_dir=$runs/swift
relay_pid=""
bench_on_exit() {
    [ -z "$relay_pid" ] || { kill "$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; }
    "$services/swift.sh" stop "$swift_dir" >/dev/null 2>&1 || true
}
base=$(bench_free_ports 6)
relay_port=$((base + 5))
SWIFT_PROXY_PORT=$base SWIFT_OBJECT_PORT=$((base + 1)) SWIFT_CONTAINER_PORT=$((base + 2)) \
    SWIFT_ACCOUNT_PORT=$((base + 3)) SWIFT_MEMCACHED_PORT=$((base + 4)) \
    "$services/swift.sh" start "$swift_dir" >"$runs/log/swift-start.log" 2>&1 ||
    { cat "$runs/log/swift-start.log" >&2; die "the Swift did not start"; }
eval "$("$services/swift.sh" env "$swift_dir")"
export CINDERBLOCK_S3_ADDRESSING=path
swift_dir=$(cd "$swift_dir" && pwd -P) # as the daemons' CB_SVC_DIR marker has it
proxy_log=$swift_dir/log/proxy.log
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -keyout "$runs/relay-key.pem" -out "$runs/relay.pem" -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 2>/dev/null
cat "$runs/relay-key.pem" "$runs/relay.pem" >"$runs/relay-both.pem"
socat "openssl-listen:$relay_port,bind=127.0.0.1,reuseaddr,fork,cert=$runs/relay-both.pem,verify=0" \
    "tcp:127.0.0.1:$SWIFT_PROXY_PORT" 2>"$runs/log/relay.err" &
relay_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$relay_port") 2>/dev/null && break; sleep 0.05; done
token=$(curl -sf -D - -o /dev/null -H "X-Auth-User: $ST_USER" -H "X-Auth-Key: $ST_KEY" "$ST_AUTH" |
    awk -F': ' 'tolower($1) == "x-auth-token" { sub(/\r$/, "", $2); print $2 }')
[ -n "$token" ] || die "no tempauth token from $ST_AUTH"
printf 'machine 127.0.0.1 login %s password %s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" \
    >"$runs/netrc"
s3curl() { # S3 API request with SigV4 (curl 7.88: credentials from netrc, payload unsigned)
    curl -sf --netrc-file "$runs/netrc" --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
        -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}
# container_stat NAME: "BYTES OBJECTS" stored for a container (a bucket is one), with the
# segments of its S3 multipart uploads (kept in NAME+segments by s3api; NAME holds their
# manifests); exact here
container_stat() {
    local c
    for c in "$1" "$1+segments"; do
        curl -sfI -H "X-Auth-Token: $token" "$SWIFT_STORAGE_URL/$c" || true
    done | awk -F': ' '
        { sub(/\r$/, "", $2) } tolower($1) == "x-container-bytes-used" { b += $2 }
        tolower($1) == "x-container-object-count" { n += $2 } END { print b + 0, n + 0 }'
}

# ---- what the servers spend around each measured run (bench_before/after: bench/lib.sh)
declare -A SRV REQ RELAY
BENCH_EXTRA="SRV REQ RELAY"
hz=$(getconf CLK_TCK)
# ticks PID...: utime+stime+cutime+cstime (reaped workers and children count in their parent)
ticks() {
    local p
    for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null || true; done |
        awk '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { print t + 0 }'
}
swift_pids() { grep -lzx "CB_SVC_DIR=$swift_dir" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3; }
srv0=0 relay0=0 log0=0
bench_before() {
    # shellcheck disable=SC2046 # a list of pids
    srv0=$(ticks $(swift_pids))
    relay0=$(ticks "$relay_pid")
    log0=$(stat -c %s "$proxy_log")
}
bench_after() {
    local key=$1 srv1 relay1
    sleep 0.2 # the proxy logs a request once its response is closed
    # shellcheck disable=SC2046
    srv1=$(ticks $(swift_pids))
    relay1=$(ticks "$relay_pid")
    SRV[$key]=$(awk -v a="$srv0" -v b="$srv1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
    RELAY[$key]=$(awk -v a="$relay0" -v b="$relay1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
    # client requests only: the source field (17th after "proxy-server:") is "-"; the
    # middlewares' subrequests (versioned writes, SLO, s3api) name themselves there
    REQ[$key]=$(tail -c +$((log0 + 1)) "$proxy_log" | awk '
        { for (i = 1; i <= NF; i++) if ($i == "proxy-server:") break
          if (i > NF || $(i + 17) != "-") next
          n++; m[$(i + 4)]++ }
        END { printf "%d (%d PUT, %d GET)", n, m["PUT"], m["GET"] }')
}

stage=$runs/stage/disk.img
mkdir -p "$runs/stage"
use_volume() { ln -f "$1" "$stage"; }
use_volume "$vol"
BENCH_WARM=$stage
volume_id=6b3a52f0-0c9f-4c1e-9d8b-5e3a1d2c4b01
same() {
    cmp "$1" "$2" || die "RESTORE MISMATCH: $2 differs from $1"
    rm -f "$2"
}
# object_size CONTAINER PREFIX: the largest data object's length in a backup's _metadata
object_size() {
    curl -sf -H "X-Auth-Token: $token" "$SWIFT_STORAGE_URL/$1/$2_metadata" | /usr/bin/python3 -c '
import json, sys
print(max(o["length"] for e in json.load(sys.stdin)["objects"] for o in e.values()))'
}
declare -A OUT NOTE
# count_objects CONTAINER BACKUP_ID: the objects of one backup, its _metadata and
# _sha256file included (a listing holds 10,000 names)
count_objects() {
    curl -sf -H "X-Auth-Token: $token" "$SWIFT_STORAGE_URL/$1" | grep -c "_backup_$2[-_]" || true
}
# grown KEY CONTAINER BEFORE: OUT[KEY] = the bytes CONTAINER gained since BEFORE
grown() { OUT[$1]=$(($(container_stat "$2" | cut -d' ' -f1) - $3)); }

# ---- raw capacity: RAW_OBJECTS 50 MiB PUTs, RAW_PARALLEL in flight, then GETs
blob=$runs/blob-50M
head -c $((50 << 20)) /dev/urandom >"$blob"
seq 1 "$raw_objects" >"$runs/raw.list"
# raw.sh put|get swift|s3 CONTAINER: the objects of raw.list, raw_parallel at once
cat >"$runs/raw.sh" <<EOF
#!/bin/bash
set -euo pipefail
if [ "\$2" = swift ]; then
    url=$SWIFT_STORAGE_URL/\$3 auth=(-H "X-Auth-Token: $token")
else
    url=$AWS_ENDPOINT_URL_S3/\$3 auth=(--netrc-file "$runs/netrc" --aws-sigv4 "aws:amz:$AWS_REGION:s3"
        -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
fi
if [ "\$1" = put ]; then up=(-X PUT -T "$blob"); else up=(); fi
exec xargs -a "$runs/raw.list" -P "$raw_parallel" -I{} curl -sf -o /dev/null "\${auth[@]}" "\${up[@]}" "\$url/obj{}"
EOF
chmod +x "$runs/raw.sh"
raw_capacity() {
    local s=$1 i
    for ((i = 1; i <= repeat; i++)); do
        curl -sf -o /dev/null -X PUT -H "X-Auth-Token: $token" "$SWIFT_STORAGE_URL/raw-$s-$i"
        measure "$s.raw_put.$i" "$runs/raw.sh" put "$s" "raw-$s-$i"
    done
    bench_median "$s.raw_put"
    measure_median "$s.raw_get" : : "$runs/raw.sh" get "$s" "raw-$s-1"
    OUT[$s.raw_put]=$((raw_objects * (50 << 20)))
    OUT[$s.raw_get]=${OUT[$s.raw_put]}
}

# ---- cinderblock: zlib, its defaults otherwise; round i's full in container cb-S-i
declare -A CB_OBJECT_SIZE
cinderblock_runs() {
    local s=$1 i c before
    declare -ga cb_full_ids=() cb_incr_ids=()
    use_volume "$vol"
    for ((i = 1; i <= repeat; i++)); do
        measure "$s.cb_full.$i" "$cb" --json --store "$s://cb-$s-$i" backup "$stage" \
            --volume-id "$volume_id" --compression zlib
        cb_full_ids[i]=$(bench_summary "$runs/log/$s.cb_full.$i.out" backup.id)
    done
    bench_median "$s.cb_full"
    OUT[$s.cb_full]=$(container_stat "cb-$s-1" | cut -d' ' -f1)
    CB_OBJECT_SIZE[$s]=$(object_size "cb-$s-1" "$(bench_summary "$runs/log/$s.cb_full.1.out" backup.prefix)")
    measure_median "$s.cb_restore" : 'same "$vol" "$runs/restored.img"' \
        "$cb" -q --store "$s://cb-$s-1" restore --force "${cb_full_ids[1]}" "$runs/restored.img"
    use_volume "$vol2"
    before=${OUT[$s.cb_full]}
    # --parent, not --incremental: that takes the newest backup of the volume in the whole
    # account (all containers are one catalog), which would be another round's
    for ((i = 1; i <= repeat; i++)); do
        measure "$s.cb_incr.$i" "$cb" --json --store "$s://cb-$s-$i" backup "$stage" \
            --volume-id "$volume_id" --compression zlib --parent "${cb_full_ids[i]}"
        cb_incr_ids[i]=$(bench_summary "$runs/log/$s.cb_incr.$i.out" backup.id)
        # every round measures the same work: the same parent's change, as many objects
        [ "$(bench_summary "$runs/log/$s.cb_incr.$i.out" backup.parent_id)" = "${cb_full_ids[i]}" ] ||
            die "round $i's incremental is not on round $i's full"
        [ "$(bench_summary "$runs/log/$s.cb_incr.$i.out" backup.object_count)" = \
            "$(bench_summary "$runs/log/$s.cb_incr.1.out" backup.object_count)" ] ||
            die "round $i's incremental stored another number of objects than round 1's"
    done
    bench_median "$s.cb_incr"
    grown "$s.cb_incr" "cb-$s-1" "$before"
    NOTE[$s.cb_incr]="$(count_objects "cb-$s-1" "${cb_incr_ids[1]}") objects"
    measure_median "$s.cb_restore_incr" : 'same "$vol2" "$runs/restored.img"' \
        "$cb" -q --store "$s://cb-$s-1" restore --force "${cb_incr_ids[1]}" "$runs/restored.img"
}

# ---- restic: round i's full in repository (container) restic-S-i
restic_repo() { # STORE ROUND
    if [ "$1" = swift ]; then echo "swift:restic-$1-$2:/"; else echo "s3:https://127.0.0.1:$relay_port/restic-$1-$2"; fi
}
restic_runs() {
    local s=$1 i before
    local -a r=(restic -q --cacert "$runs/relay.pem")
    use_volume "$vol"
    for ((i = 1; i <= repeat; i++)); do
        "${r[@]}" -r "$(restic_repo "$s" $i)" init >/dev/null
        measure "$s.restic_full.$i" "${r[@]}" -r "$(restic_repo "$s" $i)" backup --tag full "$stage"
    done
    bench_median "$s.restic_full"
    OUT[$s.restic_full]=$(container_stat "restic-$s-1" | cut -d' ' -f1)
    measure_median "$s.restic_restore" 'rm -rf "$runs/restic-out"' \
        'same "$vol" "$runs/restic-out$stage"' \
        "${r[@]}" -r "$(restic_repo "$s" 1)" restore latest --tag full --target "$runs/restic-out"
    use_volume "$vol2"
    before=${OUT[$s.restic_full]}
    for ((i = 1; i <= repeat; i++)); do
        measure "$s.restic_incr.$i" "${r[@]}" -r "$(restic_repo "$s" $i)" backup --tag day2 "$stage"
    done
    bench_median "$s.restic_incr"
    grown "$s.restic_incr" "restic-$s-1" "$before"
    measure_median "$s.restic_restore_incr" 'rm -rf "$runs/restic-out"' \
        'same "$vol2" "$runs/restic-out$stage"' \
        "${r[@]}" -r "$(restic_repo "$s" 1)" restore latest --tag day2 --target "$runs/restic-out"
    rm -rf "$runs/restic-out"
}

# ---- Cinder's stock driver, once each, in container cinder-S
cinder_runs() {
    local s=$1 full=0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e41 incr=0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e42
    local peer=(/usr/bin/python3 "$cinder_peer")
    "$mkvolume" --size 1M --seed "$seed" "$runs/tiny.img" 2>/dev/null
    measure "$s.cinder_startup" "${peer[@]}" backup --store "$s" --container "cinder-$s-tiny" \
        --volume "$runs/tiny.img" --backup-id 0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e40 \
        --volume-id "$volume_id" --compression zlib
    use_volume "$vol"
    measure "$s.cinder_full" "${peer[@]}" backup --store "$s" --container "cinder-$s" \
        --volume "$stage" --backup-id "$full" --volume-id "$volume_id" --compression zlib
    OUT[$s.cinder_full]=$(container_stat "cinder-$s" | cut -d' ' -f1)
    measure "$s.cinder_restore" "${peer[@]}" restore --store "$s" --container "cinder-$s" \
        --backup-id "$full" --target "$runs/cinder-out.img"
    same "$vol" "$runs/cinder-out.img"
    use_volume "$vol2"
    measure "$s.cinder_incr" "${peer[@]}" backup --store "$s" --container "cinder-$s" \
        --volume "$stage" --backup-id "$incr" --volume-id "$volume_id" --compression zlib \
        --parent-id "$full"
    grown "$s.cinder_incr" "cinder-$s" "${OUT[$s.cinder_full]}"
    NOTE[$s.cinder_incr]="$(count_objects "cinder-$s" "$incr") objects"
    measure "$s.cinder_restore_incr" "${peer[@]}" restore --store "$s" --container "cinder-$s" \
        --backup-id "$incr" --target "$runs/cinder-out.img"
    same "$vol2" "$runs/cinder-out.img"
}

for s in $stores; do
    case $s in swift | s3) ;; *) die "BENCH_STORES: unknown store $s (swift, s3)" ;; esac
    raw_capacity "$s"
    cinderblock_runs "$s"
    restic_runs "$s"
    [ "$with_cinder" != 1 ] || cinder_runs "$s"
done

# ---- the tables
bench_secs=$(awk -v a="$bench_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
mbs() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.0f", b / 1e6 / t }'; }
row() { # STORE OPERATION TOOL KEY
    local k=$1.$4 out="—" srv
    [ -z "${OUT[$k]:-}" ] || out=$(mib "${OUT[$k]}")
    [ -z "${NOTE[$k]:-}" ] || out="$out (${NOTE[$k]})"
    srv=${SRV[$k]}
    [ "${RELAY[$k]:-0.00}" = 0.00 ] || srv="$srv + ${RELAY[$k]} relay"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$2" "$3" "${WALL[$k]}" \
        "${RANGE[$k]:-1 run}" "${CPU[$k]}" "${RSS[$k]}" "$srv" "${REQ[$k]}" "$out"
}
speedup() { awk -v p="${WALL[$1]}" -v c="${WALL[$2]}" 'BEGIN { printf "%.3f", p / c }'; }
section=$(
    echo "Command: \`$command_line\` (\`make bench-objstore\` runs it with the defaults; \`make bench\` after bench/run.sh)"
    echo
    echo "Machine: $(bench_machine) at the end, $load_start at the start"
    echo
    echo "Tools: $("$cb" --version | head -n1) (zlib, defaults otherwise); $(restic version | cut -d' ' -f1-2) (--compression auto, encrypted); Cinder $(dpkg-query -W -f='${Version}' python3-cinder) swift and s3 drivers (zlib, 52428800 B objects); Swift $(dpkg-query -W -f='${Version}' swift) (tempauth + s3api, one replica, 1 worker per server, loopback)"
    echo
    echo "Workload: $(mib "$vol_bytes") MiB volume of the bench mix (seed $seed, $gen_note), next day: seed $change_seed (1 % changed); the whole bench took $bench_secs s."
    for s in $stores; do
        up=$(mbs "${OUT[$s.raw_put]}" "${WALL[$s.raw_put]}")
        down=$(mbs "${OUT[$s.raw_get]}" "${WALL[$s.raw_get]}")
        echo
        echo "**${s/swift/Swift}** ($([ "$s" = swift ] && echo "Swift API, tempauth" || echo "S3 API of the same proxy, SigV4, path style; restic through a TLS relay"); cinderblock's objects: ${CB_OBJECT_SIZE[$s]} B). Raw capacity: $raw_objects objects of 50 MiB, $raw_parallel in flight (curl): up **$up MB/s**, down **$down MB/s**."
        echo
        echo "| operation | tool | wall s | wall range s | CPU s | peak RSS MiB | servers' CPU s | requests | stored MiB |"
        echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
        row "$s" "raw PUTs ($up MB/s)" curl raw_put
        row "$s" "raw GETs ($down MB/s)" curl raw_get
        for op in "full backup:full" "full restore:restore" "incremental, 1 %:incr" \
            "restore of the incremental:restore_incr"; do
            row "$s" "${op%%:*}" cinderblock "cb_${op#*:}"
            row "$s" "${op%%:*}" "restic" "restic_${op#*:}"
            [ "$with_cinder" != 1 ] || row "$s" "${op%%:*}" "Cinder" "cinder_${op#*:}"
        done
        [ "$with_cinder" != 1 ] || row "$s" "start-up only (1 MiB volume)" Cinder cinder_startup
        echo
        echo "| ${s/swift/Swift} target | figure | goal | mark |"
        echo "|---|---:|---|---|"
        bench_goal "full backup: restic / cinderblock" "$(speedup "$s.restic_full" "$s.cb_full")" ">=" 2.5
        [ "$with_cinder" != 1 ] || bench_goal "full backup: Cinder / cinderblock" "$(speedup "$s.cinder_full" "$s.cb_full")" ">=" 10
        bench_goal "full restore: restic / cinderblock" "$(speedup "$s.restic_restore" "$s.cb_restore")" ">=" 2
        [ "$with_cinder" != 1 ] || bench_goal "full restore: Cinder / cinderblock" "$(speedup "$s.cinder_restore" "$s.cb_restore")" ">=" 4
        bench_goal "incremental: restic / cinderblock" "$(speedup "$s.restic_incr" "$s.cb_incr")" ">=" 3
        [ "$with_cinder" != 1 ] || bench_goal "incremental: Cinder / cinderblock" "$(speedup "$s.cinder_incr" "$s.cb_incr")" ">=" 5
        bench_goal "restore of the incremental: restic / cinderblock" "$(speedup "$s.restic_restore_incr" "$s.cb_restore_incr")" ">=" 2
        bench_goal "full backup / raw upload of its $(mib "${OUT[$s.cb_full]}") MiB" "$(awk -v w="${WALL[$s.cb_full]}" -v b="${OUT[$s.cb_full]}" -v r="$up" 'BEGIN { printf "%.3f", w / (b / 1e6 / r) }')" "<=" 1.5
        bench_goal "full restore / raw download of those bytes" "$(awk -v w="${WALL[$s.cb_restore]}" -v b="${OUT[$s.cb_full]}" -v r="$down" 'BEGIN { printf "%.3f", w / (b / 1e6 / r) }')" "<=" 1.5
        bench_goal "cinderblock's largest peak RSS, MiB" "$(for k in cb_full cb_restore cb_incr cb_restore_incr; do echo "${RSS[$s.$k]}"; done | sort -n | tail -1)" "<=" 300
    done
    echo
    echo "Wall, CPU (user + system of the client process, its children included) and peak RSS: of the run"
    echo "with the median wall time out of $repeat (wall range: the fastest and slowest), or of one run (Cinder)."
    echo "Servers' CPU: what the Swift's processes (proxy, object, container, account servers, memcached) spent"
    echo "meanwhile, from /proc (\"relay\": the TLS relay in front of s3api, restic's S3 only). Requests: the"
    echo "client requests the proxy logged. Stored: bytes the container (repository) holds after a full, or"
    echo "gained by an incremental, as Swift counts them, with the incremental's objects. The raw rows move"
    echo "$(mib "${OUT[${stores%% *}.raw_put]}") MiB of random bytes. A target's figure is the peer's wall time over cinderblock's,"
    echo "or cinderblock's over the time the raw rate needs for the bytes its full stored."
)
printf '\n%s\n' "$section"
bench_write_doc "$doc" bench-objstore "$section"
