#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `make fuzz`: build the libFuzzer targets with clang, ASan and UBSan (build-fuzz,
# -Dfuzz=true) and run each for FUZZ_SECONDS (default 60) on its seed corpus
# (tests/fuzz/corpus/TARGET, never written) plus what earlier runs found
# (build-fuzz/corpus/TARGET). Fails on any crash, leak, sanitizer report or broken
# property; the input is left in build-fuzz/artifacts/. FUZZ_TARGETS picks targets,
# FUZZ_JOBS how many run at once.
set -eu
cd "$(dirname "$0")/.."
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_TARGETS=${FUZZ_TARGETS:-"meta shalist record s3xml deflate"}

if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
    CC=clang-14 meson setup "$FUZZ_BUILD" -Dfuzz=true -Db_sanitize=address,undefined \
        -Db_lundef=false -Dswift=enabled -Ds3=enabled
fi
targets=""
for t in $FUZZ_TARGETS; do targets="$targets tests/fuzz/fuzz_$t"; done
# shellcheck disable=SC2086
ninja -C "$FUZZ_BUILD" $targets

mkdir -p "$FUZZ_BUILD/artifacts"
# run_one TARGET: one target for FUZZ_SECONDS; its status into artifacts/TARGET.status
run_one() {
    t=$1
    mkdir -p "$FUZZ_BUILD/corpus/$t"
    rm -f "$FUZZ_BUILD/artifacts/$t-"*
    log="$FUZZ_BUILD/artifacts/$t.log"
    # UBSan's reports only count if they stop the run; leaks are libFuzzer's default
    if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$FUZZ_BUILD/tests/fuzz/fuzz_$t" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
        -artifact_prefix="$FUZZ_BUILD/artifacts/$t-" \
        "$FUZZ_BUILD/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
        echo ok >"$FUZZ_BUILD/artifacts/$t.status"
    else
        echo FAILED >"$FUZZ_BUILD/artifacts/$t.status"
    fi
}
# FUZZ_JOBS targets at a time (default: one per CPU): each still gets FUZZ_SECONDS of its
# own, and make check's fuzzing takes a third of the time on 2 CPUs
jobs=${FUZZ_JOBS:-$(nproc)}
failed=""
start=$(date +%s)
running=0
for t in $FUZZ_TARGETS; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait
        running=0
    fi
done
wait
for t in $FUZZ_TARGETS; do
    status=$(cat "$FUZZ_BUILD/artifacts/$t.status" 2>/dev/null || echo FAILED)
    [ "$status" = ok ] || failed="$failed $t"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$FUZZ_BUILD/artifacts/$t.log")
    printf 'fuzz %-8s %s: %s executions in %s s, corpus %s files\n' "$t" "$status" \
        "${execs:-?}" "$FUZZ_SECONDS" "$(find "$FUZZ_BUILD/corpus/$t" -type f | wc -l)"
done
echo "fuzzing took $(($(date +%s) - start)) s"
if [ -n "$failed" ]; then
    for t in $failed; do
        echo "=== fuzz_$t failed ($FUZZ_BUILD/artifacts/$t.log):" >&2
        grep -E -A12 'ERROR|property failed|runtime error' "$FUZZ_BUILD/artifacts/$t.log" |
            head -40 >&2
        ls "$FUZZ_BUILD/artifacts/$t-"* 2>/dev/null >&2 || true
    done
    echo "Reproduce: $FUZZ_BUILD/tests/fuzz/fuzz_TARGET FILE; once fixed, add FILE as" >&2
    echo "tests/fuzz/corpus/TARGET/regress-WHAT, so that every build replays it." >&2
    exit 1
fi
