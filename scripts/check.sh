#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `make check`: install what is missing, build with -Werror, check formatting, run every
# test suite, then the unit tests again under ASan+UBSan and the pipeline under TSan, and
# last every fuzz target for CHECK_FUZZ_SECONDS (15) seconds.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}

step() { printf '\n=== %s\n' "$*"; }

step "dependencies"
scripts/deps.sh build compat services fuzz nbd

step "build ($BUILD, -Werror, every store)"
# the object stores, NBD volumes and the nbdkit plugin are 'auto' features: make check
# insists on them, so a missing library fails the build instead of silently dropping tests
if [ -f "$BUILD/build.ninja" ]; then
    meson configure "$BUILD" -Dwerror=true -Dswift=enabled -Ds3=enabled -Dnbd=enabled \
        -Dnbdkit=enabled
else
    meson setup "$BUILD" -Dwerror=true -Dswift=enabled -Ds3=enabled -Dnbd=enabled \
        -Dnbdkit=enabled
fi
ninja -C "$BUILD"

step "format"
scripts/format-check.sh

step "tests"
meson test -C "$BUILD" --print-errorlogs --num-processes 2

step "unit tests under ASan+UBSan"
[ -f build-asan/build.ninja ] ||
    meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debug
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-asan --suite unit --print-errorlogs --num-processes 2

step "pipeline tests under TSan"
[ -f build-tsan/build.ninja ] ||
    meson setup build-tsan -Dwerror=true -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug
ninja -C build-tsan
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    meson test -C build-tsan --suite pipeline --print-errorlogs --num-processes 2

step "fuzz targets, ${CHECK_FUZZ_SECONDS:-15} s each (clang, libFuzzer, ASan+UBSan)"
FUZZ_SECONDS=${CHECK_FUZZ_SECONDS:-15} scripts/fuzz.sh

step "all checks passed"
