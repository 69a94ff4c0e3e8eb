#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Safety by default: `init` makes a store and marks it; every other command refuses a
# posix store that does not exist (exit 10, nothing created); a store without the marker
# (Cinder's, or cinderblock's with the marker removed) is used as it is; restore onto an
# existing file needs --force; a restored file's mode follows the umask or the replaced
# file; an incremental of a moved image says how to continue its chain.
. "$(dirname "$0")/functions.sh"

S="$WORK/fresh/deeper/store"
mkvol "$WORK/vol" 4 21

# ---- a store that does not exist: refused, and nothing appears
for cmd in "backup $WORK/vol" "list" "check" "cleanup" "unlock" "verify --all"; do
    # shellcheck disable=SC2086
    expect_fail 10 "store '$S' does not exist" "$CB" --store "$S" $cmd
    grep -qF "cinderblock --store $S init" "$WORK/err" || fail "$cmd: no init hint: $(cat "$WORK/err")"
    [ ! -e "$WORK/fresh" ] || fail "$cmd on a missing store created $WORK/fresh"
done
# also through $CINDERBLOCK_STORE and a posix: URL
CINDERBLOCK_STORE="$S" expect_fail 10 "does not exist" "$CB" backup "$WORK/vol"
expect_fail 10 "does not exist" "$CB" --store "posix:$S" backup "$WORK/vol"
[ ! -e "$WORK/fresh" ] || fail "a backup to a missing store created it"

# ---- init: creates the directory with its parents, writes the marker, is idempotent
"$CB" --store "$S" init 2>"$WORK/err" || fail "init failed: $(cat "$WORK/err")"
grep -q "created cinderblock store $S" "$WORK/err" || fail "init said: $(cat "$WORK/err")"
[ -d "$S" ] || fail "init made no directory"
python3 - "$S/cinderblock/store.json" <<'PY' || fail "bad marker: $(cat "$S/cinderblock/store.json")"
import json, sys
m = json.load(open(sys.argv[1]))
assert m['format'] == 'cinderblock' and m['version'] == 1, m
assert m['cinder_chunked_format'] == '1.0.0' and m['created_at'].endswith('Z'), m
PY
cp "$S/cinderblock/store.json" "$WORK/marker1"
"$CB" --store "$S" init 2>"$WORK/err" || fail "a second init failed"
grep -q "already is a cinderblock store" "$WORK/err" || fail "second init said: $(cat "$WORK/err")"
cmp "$S/cinderblock/store.json" "$WORK/marker1" || fail "a second init rewrote the marker"
state=$("$CB" --json --store "$S" init | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
[ "$state" = existed ] || fail "init --json state '$state', expected existed"
# something else under the marker's name is not taken for the marker
echo '{"something": "else"}' >"$WORK/other.json"
mkdir -p "$WORK/s2/cinderblock" && cp "$WORK/other.json" "$WORK/s2/cinderblock/store.json"
expect_fail 13 "is not cinderblock's store marker" "$CB" --store "$WORK/s2" init

# ---- init then backup, restore
id=$("$CB" -q --store "$S" backup "$WORK/vol" --object-size 1M)
"$CB" -q --store "$S" restore "$id" "$WORK/out1"
cmp "$WORK/vol" "$WORK/out1" || fail "restore from the init'ed store differs"
# the marker is nobody's leftover: cleanup keeps it, verify accepts the store
"$CB" -q --store "$S" cleanup --older-than 0
[ -f "$S/cinderblock/store.json" ] || fail "cleanup removed the store marker"
"$CB" -q --store "$S" verify --all >/dev/null || fail "verify --all of an init'ed store failed"

# ---- a store without the marker (Cinder's layout; here cinderblock's, marker removed)
cp -a "$S" "$WORK/nomarker"
rm "$WORK/nomarker/cinderblock/store.json"
"$CB" --store "$WORK/nomarker" list >"$WORK/list" || fail "list of a store without marker failed"
grep -q "$id" "$WORK/list" || fail "the unmarked store does not list $id"
"$CB" -q --store "$WORK/nomarker" backup "$WORK/vol" --object-size 1M --incremental >/dev/null ||
    fail "incremental into an unmarked store failed"
[ ! -e "$WORK/nomarker/cinderblock/store.json" ] || fail "a backup wrote the marker"
# init on such a directory adds the marker and touches nothing else
find "$WORK/nomarker" -type f ! -path '*/cinderblock/*' -exec sha256sum {} + | sort >"$WORK/before"
state=$("$CB" --json --store "$WORK/nomarker" init | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
[ "$state" = marked ] || fail "init of an existing store: state '$state', expected marked"
find "$WORK/nomarker" -type f ! -path '*/cinderblock/*' -exec sha256sum {} + | sort >"$WORK/after"
cmp "$WORK/before" "$WORK/after" || fail "init changed the backups of an existing store"
[ -f "$WORK/nomarker/cinderblock/store.json" ] || fail "init wrote no marker"

# ---- restore onto an existing file: refused without --force, the file unchanged
export CINDERBLOCK_STORE="$S"
echo "precious data" >"$WORK/target"
cp "$WORK/target" "$WORK/target.orig"
expect_fail 1 "restore target '$WORK/target' exists; use --force to overwrite" \
    "$CB" restore "$id" "$WORK/target"
cmp "$WORK/target" "$WORK/target.orig" || fail "a refused restore changed the target"
ls "$WORK" | grep -q cinderblock-tmp && fail "a refused restore left a temporary file"
"$CB" -q restore "$id" "$WORK/target" --force
cmp "$WORK/vol" "$WORK/target" || fail "restore --force did not replace the target"

# ---- modes: a new file 0644 less the umask; a replaced file keeps its mode
(umask 022 && "$CB" -q restore "$id" "$WORK/m022")
[ "$(stat -c %a "$WORK/m022")" = 644 ] || fail "under umask 022: mode $(stat -c %a "$WORK/m022")"
(umask 077 && "$CB" -q restore "$id" "$WORK/m077")
[ "$(stat -c %a "$WORK/m077")" = 600 ] || fail "under umask 077: mode $(stat -c %a "$WORK/m077")"
(umask 027 && "$CB" -q restore "$id" "$WORK/m027")
[ "$(stat -c %a "$WORK/m027")" = 640 ] || fail "under umask 027: mode $(stat -c %a "$WORK/m027")"
echo old >"$WORK/m0640" && chmod 0640 "$WORK/m0640"
(umask 000 && "$CB" -q restore "$id" "$WORK/m0640" --force)
[ "$(stat -c %a "$WORK/m0640")" = 640 ] || fail "a replaced 0640 file became $(stat -c %a "$WORK/m0640")"
cmp "$WORK/vol" "$WORK/m0640" || fail "the replaced 0640 file holds other bytes"

# ---- a moved image: the incremental says how to continue
mkdir -p "$WORK/imgs" "$WORK/mv-store"
mkvol "$WORK/imgs/a.img" 3 22
old=$("$CB" -q --store "$WORK/mv-store" backup "$WORK/imgs/a.img" --object-size 1M)
mv "$WORK/imgs/a.img" "$WORK/imgs/b.img"
expect_fail 10 "no complete backup of volume" \
    "$CB" --store "$WORK/mv-store" backup "$WORK/imgs/b.img" --incremental --object-size 1M
for want in "--volume-id" "--parent $old" "backup $old" "named 'a.img'"; do
    grep -qF -- "$want" "$WORK/err" || fail "the moved-image message lacks '$want': $(cat "$WORK/err")"
done
# ... and what it says works
vid=$("$CB" --json --store "$WORK/mv-store" show "$old" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["backup"]["volume_id"])')
grep -qF -- "--volume-id $vid --incremental" "$WORK/err" || fail "the hint names another volume id"
"$CB" -q --store "$WORK/mv-store" backup "$WORK/imgs/b.img" --volume-id "$vid" --incremental \
    --object-size 1M >/dev/null || fail "the suggested --volume-id did not continue the chain"

# ---- a block device in use (mounted) is refused, naming it: root and loop devices only
if [ "$(id -u)" -eq 0 ] && command -v losetup >/dev/null 2>&1 && command -v mkfs.ext4 >/dev/null 2>&1; then
    truncate -s 16M "$WORK/fs.img"
    mkfs.ext4 -q -F "$WORK/fs.img" >/dev/null 2>&1 || skip "mkfs.ext4 failed"
    DEV=$(losetup -f --show "$WORK/fs.img" 2>/dev/null) || skip "cannot attach a loop device"
    mkdir -p "$WORK/mnt"
    unmount() {
        umount "$WORK/mnt" 2>/dev/null || true
        losetup -d "$DEV"
    }
    CLEANUPS="$CLEANUPS unmount"
    mount "$DEV" "$WORK/mnt" 2>/dev/null || skip "cannot mount a loop device here"
    expect_fail 1 "target device '$DEV' is in use" "$CB" restore "$id" "$DEV" --force
    ls "$WORK/mnt" | grep -q lost+found || fail "the mounted file system is gone"
    umount "$WORK/mnt"
    ! cmp -s -n "$(stat -c %s "$WORK/vol")" "$WORK/vol" "$DEV" ||
        fail "a refused device restore wrote the volume onto the device"
    # unmounted, the same device is written
    "$CB" -q restore "$id" "$DEV"
    cmp -n "$(stat -c %s "$WORK/vol")" "$WORK/vol" "$DEV" || fail "device restore differs"
else
    echo "note: not root or no loop devices: the mounted-device case was not run"
fi
echo ok
