# SPDX-License-Identifier: Apache-2.0
# functions.sh: shared by the CLI tests. Each test sources it, gets a fresh $WORK that is
# removed on exit, and the cinderblock under test as $CB.
set -eu

CB=${CINDERBLOCK:?set CINDERBLOCK to the cinderblock binary}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cb-cli.XXXXXX")
CLEANUPS=""
trap 'for f in $CLEANUPS; do $f || true; done; rm -rf "$WORK"' EXIT
STORE="$WORK/store"
mkdir -p "$STORE" # a store must exist (cinderblock init); an empty directory is one
export CINDERBLOCK_STORE="$STORE"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# skip WHY: the test cannot run here (meson shows SKIP)
skip() {
    echo "SKIP: $*"
    exit 77
}

# expect_fail CODE TEXT CMD...: CMD exits with CODE and says TEXT on stderr
expect_fail() {
    want=$1
    text=$2
    shift 2
    set +e
    "$@" >"$WORK/out" 2>"$WORK/err"
    got=$?
    set -e
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; stderr: $(cat "$WORK/err")"
    grep -qF -- "$text" "$WORK/err" || fail "'$*' did not say '$text'; stderr: $(cat "$WORK/err")"
}

# mkvol PATH MIB SEED: random, zero and text regions of 256 KiB (tests/helpers/mkvol.py)
MKVOL=$(cd "$(dirname "$0")/../helpers" && pwd)/mkvol.py
mkvol() {
    python3 "$MKVOL" "$1" "$2" "$3"
}

# objects_under DIR: how many files (objects) a store directory holds
objects_under() {
    find "$1" -type f 2>/dev/null | wc -l
}

# meta_of ID: the path of a backup's _metadata in $STORE
meta_of() {
    find "$STORE" -type f -name "*_backup_$1_metadata" | head -1
}
