#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `make soak`: the fault campaigns of make check, run far longer (make check keeps them
# bounded: CB_FAULT_RUNS 20 per case, CB_KILL_RUNS 10 per command). SOAK_FAULT_RUNS
# (default 200) and SOAK_KILL_RUNS (default 40) scale them; CB_FAULT_SEED replays one.
# Then the libFuzzer targets for SOAK_FUZZ_SECONDS (default 600) each (scripts/fuzz.sh).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CB_FAULT_RUNS=${SOAK_FAULT_RUNS:-200} CB_KILL_RUNS=${SOAK_KILL_RUNS:-40} \
    meson test -C "$BUILD" --suite fault --print-errorlogs --num-processes 2 \
    --timeout-multiplier 20
FUZZ_SECONDS=${SOAK_FUZZ_SECONDS:-600} scripts/fuzz.sh
