# SPDX-License-Identifier: Apache-2.0
# bench/lib.sh: what the bench scripts share (sourced by bash scripts; bench/run.sh keeps its
# own measure, which also counts the host's I/O). Before sourcing, set:
#   BENCH_TAG     the script's name in messages (bench-nbd, ...)
#   runs          a directory for the logs ($runs/log is made)
#   repeat        runs per median
# and optionally BENCH_WARM (a file read into the page cache before each run). Results:
# WALL[KEY] (s), CPU[KEY] (user + sys s), RSS[KEY] (peak MiB), RANGE[KEY] ("lo–hi" s), and
# the command's stdout in $runs/log/KEY.out.

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
    if ! /usr/bin/time -v -o "$runs/log/$key.time" sh -c '"$@"; rc=$?; sync; exit $rc' sh "$@" \
        >"$runs/log/$key.out" 2>"$runs/log/$key.err"; then
        cat "$runs/log/$key.err" >&2
        die "$key failed: $*"
    fi
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
    RANGE[$key]=$(for ((i = 1; i <= repeat; i++)); do echo "${WALL[$key.$i]}"; done |
        sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s–%s", lo, hi }')
    cp "$runs/log/$key.$mid.out" "$runs/log/$key.out"
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
