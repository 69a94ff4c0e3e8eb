#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `make demo`: a real round trip through the local directory store, printed as it goes.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
cb="$BUILD/tools/cinderblock/cinderblock"
demo=$(pwd)/demo
rm -rf "$demo"
mkdir -p "$demo"

echo "cinderblock demo: $("$cb" --version)"
echo "store: $demo/store (a local directory, no server)"
"$cb" --store "$demo/store" check
echo "round trips of 0 B to 64 MiB objects, listings, 8 writers at once:"
CB_STORE_URL="posix:$demo/store" CB_STORE_CONTAINER=demo "$BUILD/tests/store/store-conformance"
echo "objects left in the store: $(find "$demo/store" -type f | wc -l) (each test removes its own)"
