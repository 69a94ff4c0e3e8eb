# SPDX-License-Identifier: Apache-2.0
# bench/lib.sh: what the bench scripts share (sourced by bash scripts; bench/run.sh keeps its
# own measure, which also counts the host's I/O). Before sourcing, set:
#   BENCH_TAG     the script's name in messages (bench-nbd, ...)
#   runs          a directory for the logs ($runs/log is made)
#   repeat        runs per median
# and optionally BENCH_WARM (a file read into the page cache before each run). Results:
# WALL[KEY] (s), CPU[KEY] (user + sys s), RSS[KEY] (peak MiB), RANGE[KEY] ("lo–hi" s), and
# the command's stdout in $runs/log/KEY.out. A script that measures more around each run
# (a server's CPU) defines bench_before KEY and bench_after KEY, which run just outside
# the timed command, and names its own associative arrays in BENCH_EXTRA, whose KEY the
# median run's value is copied to as for WALL.

declare -A WALL CPU RSS RANGE

die() {
    echo "$BENCH_TAG: $*" >&2
    exit 1
}

# measure KEY CMD...: one run under /usr/bin/time -v, followed by sync inside the timing;
# pending writeback flushed (and BENCH_WARM read into the page cache) first.
measure() {
    local key=$1
    shift
    mkdir -p "$runs/log"
    sync
    [ -z "${BENCH_WARM:-}" ] || cat "$BENCH_WARM" >/dev/null
    echo "$BENCH_TAG: $key: $*" >&2
    if declare -F bench_before >/dev/null; then bench_before "$key"; fi
    if ! /usr/bin/time -v -o "$runs/log/$key.time" sh -c '"$@"; rc=$?; sync; exit $rc' sh "$@" \
        >"$runs/log/$key.out" 2>"$runs/log/$key.err"; then
        cat "$runs/log/$key.err" >&2
        die "$key failed: $*"
    fi
    if declare -F bench_after >/dev/null; then bench_after "$key"; fi
    local wall cpu rss
    read -r wall cpu rss < <(awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, t, ":"); w = 0
            for (i = 1; i <= n; i++) w = w * 60 + t[i] }
        /User time/ { u = $2 } /System time/ { s = $2 }
        /Maximum resident set size/ { r = $2 }
        END { printf "%.2f %.2f %.0f\n", w, u + s, r / 1024 }' "$runs/log/$key.time")
    WALL[$key]=$wall
    CPU[$key]=$cpu
    RSS[$key]=$rss
}

# measure_median KEY PREP POST CMD...: $repeat runs, PREP before and POST after each
# (untimed, eval'ed with $i the run's number); KEY gets the figures of the median run.
measure_median() {
    local key=$1 prep=$2 post=$3 i
    shift 3
    for ((i = 1; i <= repeat; i++)); do
        eval "$prep"
        measure "$key.$i" "$@"
        eval "$post"
    done
    bench_median "$key"
}

# bench_median KEY: after runs measured as KEY.1 .. KEY.$repeat (by measure_median, or by
# a script's own loop when each run's command differs), KEY gets the figures of the run
# with the median wall time and RANGE[KEY] the fastest and slowest.
bench_median() {
    local key=$1 i mid name
    mid=$(for ((i = 1; i <= repeat; i++)); do echo "${WALL[$key.$i]} $i"; done |
        sort -n | awk -v m=$(((repeat + 1) / 2)) 'NR == m { print $2 }')
    WALL[$key]=${WALL[$key.$mid]}
    CPU[$key]=${CPU[$key.$mid]}
    RSS[$key]=${RSS[$key.$mid]}
    RANGE[$key]=$(for ((i = 1; i <= repeat; i++)); do echo "${WALL[$key.$i]}"; done |
        sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s–%s", lo, hi }')
    for name in ${BENCH_EXTRA:-}; do
        local -n extra=$name
        extra[$key]=${extra[$key.$mid]:-}
        unset -n extra
    done
    cp "$runs/log/$key.$mid.out" "$runs/log/$key.out"
}

# bench_volumes TAG SIZE SEED CHANGE_SEED: the bench mix (cb-mkvolume at $mkvolume) and
# its next day, cached in $work/TAG-KEY/ (the key covers the generator's source, size and
# seeds, so a changed generator never reuses stale files; other keys' TAG-* are removed).
# Sets vol, vol2 and gen_note ("cached" or how long generating took).
bench_volumes() {
    local tag=$1 size=$2 seed=$3 change_seed=$4 key dir old t0
    key=$(sha256sum <"$root/bench/mkvolume.c" | cut -c1-12)-$size-s$seed-c$change_seed
    dir=$work/$tag-$key
    vol=$dir/volume.img
    vol2=$dir/volume-day2.img
    for old in "$work/$tag"-*; do
        [ "$old" = "$dir" ] || [ ! -d "$old" ] || rm -rf "$old"
    done
    gen_note=cached
    [ ! -f "$vol2" ] || return 0
    mkdir -p "$dir"
    t0=$(date +%s.%N)
    "$mkvolume" --size "$size" --seed "$seed" --map "$dir/volume.map" "$vol"
    cp "$vol" "$vol2.tmp"
    "$mkvolume" --change --seed "$change_seed" --map "$dir/change.map" "$vol2.tmp"
    mv "$vol2.tmp" "$vol2"
    gen_note=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "generated in %.1f s", b - a }')
}

# bench_free_ports N: the first of N consecutive loopback ports nothing listens on, from a
# random start (other engineers' and the tests' servers run on the same machine).
bench_free_ports() {
    local n=$1 base p try
    for try in $(seq 1 50); do
        base=$((30000 + RANDOM % 20000))
        for ((p = base; p < base + n; p++)); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then continue 2; fi
        done
        echo "$base"
        return 0
    done
    die "no $n free ports in a row (tried $try times)"
}

# bench_paths: $cb and $mkvolume must be built; they and $work (made) become absolute
bench_paths() {
    [ -x "$cb" ] || die "$cb is missing: build first (make $BENCH_TAG builds it)"
    [ -x "$mkvolume" ] || die "$mkvolume is missing: build first"
    mkdir -p "$work"
    work=$(cd "$work" && pwd)
    cb=$(cd "$(dirname "$cb")" && pwd)/$(basename "$cb")
    mkvolume=$(cd "$(dirname "$mkvolume")" && pwd)/$(basename "$mkvolume")
}

# bench_summary FILE FIELD: FIELD (dots for nesting: backup.id) of the summary line of
# cinderblock --json output kept in FILE
bench_summary() {
    /usr/bin/python3 - "$@" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get('message_type') == 'summary':
        for k in sys.argv[2].split('.'):
            d = d[k]
        print(d)
EOF
}

# bench_goal LABEL VALUE OP LIMIT: a target's table row (| label | value | goal | mark |),
# OP ">=" or "<=", marked PASS or short
bench_goal() {
    awk -v l="$1" -v v="$2" -v op="$3" -v g="$4" 'BEGIN {
        ok = (op == ">=") ? v >= g : v <= g
        printf "| %s | %.2f | %s %s | %s |\n", l, v, (op == ">=") ? "≥" : "≤", g, ok ? "PASS" : "short" }'
}

# bench_machine: one line describing this machine and its load now
bench_machine() {
    local cpu_model
    cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
    echo "$(nproc) CPUs, $cpu_model, Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# bench_write_doc DOC MARKER SECTION: SECTION replaces what lies between DOC's
# <!-- MARKER:begin --> and <!-- MARKER:end --> lines (added at its end when missing).
bench_write_doc() {
    local doc=$1 marker=$2 section=$3 tmp
    if ! grep -q "^<!-- $marker:begin -->" "$doc"; then
        printf '\n<!-- %s:begin -->\n<!-- %s:end -->\n' "$marker" "$marker" >>"$doc"
    fi
    tmp=$(mktemp)
    SECTION=$section MARKER=$marker awk '
        $0 == "<!-- " ENVIRON["MARKER"] ":begin -->" { print; print ENVIRON["SECTION"]; skip = 1; next }
        $0 == "<!-- " ENVIRON["MARKER"] ":end -->" { skip = 0 }
        !skip { print }
    ' "$doc" >"$tmp"
    cat "$tmp" >"$doc"
    rm -f "$tmp"
    echo "$BENCH_TAG: results written to $doc" >&2
}

# bench_runs PREFIX: a fresh directory $runs under $work for this run's files, removed at
# exit unless the run failed or BENCH_KEEP is set (then it is named); bench_on_exit, if the
# script defines it, runs first (servers to stop).
bench_runs() {
    runs=$(mktemp -d "$work/$1.XXXXXX")
    mkdir -p "$runs/log"
    trap bench_exit EXIT
}
bench_exit() {
    local status=$?
    if declare -F bench_on_exit >/dev/null; then bench_on_exit || true; fi
    if [ "$status" -ne 0 ]; then
        echo "$BENCH_TAG: FAILED; kept $runs" >&2
    elif [ -n "${BENCH_KEEP:-}" ]; then
        echo "$BENCH_TAG: kept $runs (BENCH_KEEP)" >&2
    else
        rm -rf "$runs"
    fi
}
