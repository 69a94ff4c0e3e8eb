#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/store/test-plugin.sh: a store written outside the tree, as its author would build it.
#
# Installs this build into a scratch DESTDIR, builds examples/store-plugin with nothing but
# pkg-config and the installed files, then with CINDERBLOCK_PLUGIN_PATH pointing at the result:
# runs the store conformance suite against example://DIR, and the CLI through backup,
# incremental backup, restore (bit-exact), list and delete. Builds the example once more for
# another store ABI version and checks that it is refused naming both versions.
#
# Environment (set by meson): CINDERBLOCK (the CLI), CB_CONFORMANCE (the conformance program),
# CB_BUILD_ROOT (this build), CB_SOURCE_ROOT (the source tree).
set -eu
CB=${CINDERBLOCK:?}
CONF=${CB_CONFORMANCE:?}
BUILD=${CB_BUILD_ROOT:?}
SRC=${CB_SOURCE_ROOT:?}
T=$(mktemp -d "${TMPDIR:-/tmp}/cb-plugin.XXXXXX")
trap 'rm -rf "$T"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
step() {
    echo "--- $*"
}

# ---- the installed library, as a distribution package would have it ----
step "meson install --destdir"
meson install -C "$BUILD" --destdir "$T/dest" --no-rebuild --quiet >"$T/install.log" 2>&1 ||
    fail "meson install: $(cat "$T/install.log")"
pc=$(find "$T/dest" -name cinderblock.pc | head -1)
[ -n "$pc" ] || fail "no cinderblock.pc installed"
# the .pc names paths under the prefix; the sysroot puts them under the DESTDIR (pkgconf)
PKG_CONFIG_PATH=$(dirname "$pc")
PKG_CONFIG_SYSROOT_DIR=$T/dest
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
cflags=$(pkg-config --cflags cinderblock)
libs=$(pkg-config --libs cinderblock)
incdir=$(printf '%s\n' $cflags | sed -n 's/^-I//p' | while read -r d; do
    [ -f "$d/cinderblock/sys/store.h" ] && echo "$d"
done | head -1)
[ -n "$incdir" ] || fail "pkg-config --cflags ($cflags) names no directory with cinderblock/sys/store.h"
case "$incdir" in "$T/dest"/*) ;; *) fail "the headers found ($incdir) are not the installed ones" ;; esac
for h in cb.h common.h store.h backup.h version.h sys/store.h; do
    [ -f "$incdir/cinderblock/$h" ] || fail "cinderblock/$h is not installed"
done
printf '%s\n' $libs | grep -qx -- -lcinderblock || fail "pkg-config --libs ($libs) has no -lcinderblock"
printf '%s\n' $libs | sed -n 's/^-L//p' | while read -r d; do
    [ -e "$d/libcinderblock.so" ] && echo ok
done | grep -q ok || fail "pkg-config --libs ($libs) names no directory with libcinderblock.so"
plugindir=$(PKG_CONFIG_SYSROOT_DIR='' pkg-config --variable=plugindir cinderblock)
[ -n "$plugindir" ] || fail "cinderblock.pc has no plugindir"
echo "  cflags: $cflags; libs: $libs; plugindir: $plugindir"

# ---- the example, built out of the tree ----
build_example() { # DIR [CFLAGS]
    CFLAGS=${2:-} meson setup "$1" "$SRC/examples/store-plugin" >"$1.log" 2>&1 ||
        fail "meson setup of the example: $(cat "$1.log")"
    ninja -C "$1" >>"$1.log" 2>&1 || fail "building the example: $(cat "$1.log")"
    [ -f "$1/cinderblock-store-example.so" ] || fail "no cinderblock-store-example.so in $1"
}
step "build examples/store-plugin against the installed headers"
build_example "$T/ex"
grep -q -- "-I$incdir" "$T/ex/build.ninja" || fail "the example was not compiled against $incdir"
nm -D --defined-only "$T/ex/cinderblock-store-example.so" | grep -qw cb_store_plugin_init ||
    fail "the plugin does not export cb_store_plugin_init"
[ "$(nm -D --defined-only "$T/ex/cinderblock-store-example.so" | grep -c ' T ')" -eq 1 ] ||
    fail "the plugin exports more than its entry point"

export CINDERBLOCK_PLUGIN_PATH="$T/none:$T/ex"
unset CINDERBLOCK_STORE

# ---- the conformance suite, as for the built-in stores ----
step "conformance suite against example://"
CB_STORE_URL="example://$T/conf" "$CONF" >"$T/conf.log" 2>&1 ||
    fail "conformance of the example store: $(cat "$T/conf.log")"
grep -E 'PASSED' "$T/conf.log"

# ---- the CLI ----
step "CLI: backup, incremental backup, restore, list, delete"
S="example://$T/data"
python3 "$SRC/tests/helpers/mkvol.py" "$T/vol" 6 5
printf 'tail' >>"$T/vol"
"$CB" -q --store "$S" backup "$T/vol" --object-size 1M --name full >"$T/id1"
id1=$(tail -1 "$T/id1")
dd if=/dev/urandom of="$T/vol" bs=64k count=2 seek=21 conv=notrunc status=none
"$CB" -q --store "$S" backup "$T/vol" --object-size 1M --incremental >"$T/id2"
id2=$(tail -1 "$T/id2")
"$CB" -q --store "$S" restore "$id2" "$T/out"
cmp "$T/vol" "$T/out" || fail "the restore of the incremental backup differs"
inc=$("$CB" --json --store "$S" show "$id2" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["backup"]["incremental"])')
[ "$inc" = True ] || fail "--incremental made a full backup"
"$CB" --store "$S" list >"$T/list"
[ "$(grep -c -e "$id1" -e "$id2" "$T/list")" -eq 2 ] || fail "list: $(cat "$T/list")"
# the example's own layout: every object a file of its container's one directory
[ -d "$T/data/c_backups" ] || fail "no container directory c_backups: $(ls -R "$T/data")"
n=$(find "$T/data/c_backups" -type f -name "o_volume_*_backup_${id1}*" | wc -l)
[ "$n" -ge 3 ] || fail "the full backup's objects are not files o_...: $(ls "$T/data/c_backups")"
[ -z "$(find "$T/data/c_backups" -mindepth 1 -type d)" ] || fail "the example store nested directories"
"$CB" -q --store "$S" delete "$id2"
"$CB" -q --store "$S" delete "$id1"
"$CB" --store "$S" list >"$T/list"
grep -q -e "$id1" -e "$id2" "$T/list" && fail "list after delete: $(cat "$T/list")"
[ -z "$(find "$T/data/c_backups" -type f -name 'o_volume_*')" ] ||
    fail "objects left after delete: $(ls "$T/data/c_backups")"
echo "  full $id1 + incremental $id2: restore bit-exact, listed, deleted"

# ---- a plugin built for another store ABI version ----
step "a plugin of another ABI version is refused"
build_example "$T/ex-abi2" "-DEXAMPLE_STORE_ABI=2"
set +e
CINDERBLOCK_PLUGIN_PATH="$T/ex-abi2" "$CB" --store "example://$T/data" list >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "the ABI 2 plugin: exit $rc, expected 1; $(cat "$T/err")"
abi=$(sed -n 's/^#define CB_STORE_ABI_VERSION \([0-9]*\)$/\1/p' "$incdir/cinderblock/sys/store.h")
grep -qF "store plugin '$T/ex-abi2/cinderblock-store-example.so' was built for store ABI version 2; this cinderblock" "$T/err" &&
    grep -qF "has store ABI version $abi" "$T/err" ||
    fail "the refusal does not name both versions: $(cat "$T/err")"
cat "$T/err"
echo "plugin: all checks passed"
