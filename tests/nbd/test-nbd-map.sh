#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cinderblock map` and `unmap`: map serves a backup in the background and prints a URI that
# nbdcopy reads right; map alone (and --json) lists it; the map holds the store's shared
# lock (delete exits 11 while it runs); unmap by id prefix, URI or socket stops it, and the
# lock goes with it. Errors: an unknown id (exit 10), an id prefix too short (2), a socket in
# a missing directory, a socket already served, --device on a machine without /dev/nbdN,
# unmap of nothing (10). No root needed (the maps' directory is the test's).
. "$(dirname "$0")/functions.sh"
export CINDERBLOCK_RUNTIME_DIR="$WORK/run"
stop_all() { "$CB" unmap --all >/dev/null 2>&1; }
CLEANUPS="$CLEANUPS stop_all"

vol="$WORK/vol.img"
mkvol "$vol" 3 7
id=$(backup_id "$vol" --compression zstd --object-size 1M)
short=$(echo "$id" | cut -c1-8)

uri=$("$CB" map "$short" 2>"$WORK/err") || fail "map failed: $(cat "$WORK/err")"
case $uri in "nbd+unix:///?socket=$WORK/run/$id.sock") ;; *) fail "map printed '$uri'" ;; esac
nbdcopy "$uri" "$WORK/out" || fail "nbdcopy $uri failed"
cmp -s "$WORK/out" "$vol" || fail "nbdcopy of the map copied other bytes"
"$CB" map | grep -qF "$id  $uri" || fail "map does not list it: $("$CB" map)"
"$CB" --json map | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert len(d["maps"]) == 1, d
m = d["maps"][0]
assert m["backup_id"] == sys.argv[1] and m["uri"] == sys.argv[2] and m["port"] is None, m
assert m["socket"].endswith(".sock") and m["device"] is None and m["pid"] > 1, m
' "$id" "$uri" || fail "map --json lists something else"

# the map holds the shared lock: delete waits or fails, the backup stays
expect_fail 11 "map $id" "$CB" delete "$id"
"$CB" show "$id" >/dev/null || fail "the mapped backup is gone"
expect_fail 1 "served already" "$CB" map "$id"

# a second map on a socket of our choosing, and one on a port, --json
sock2="$WORK/two.sock"
j=$("$CB" --json map "$id" --socket "$sock2" --cache 4M 2>"$WORK/err") || fail "map --socket failed: $(cat "$WORK/err")"
echo "$j" | python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["uri"] == "nbd+unix:///?socket=" + sys.argv[1] and m["socket"] == sys.argv[1], m
assert m["backup_id"] == sys.argv[2] and m["device"] is None, m
' "$sock2" "$id" || fail "map --json printed $j"
echo "$j" >"$WORK/map.json"
/usr/bin/python3 "$(dirname "$0")/../json/validate.py" "$(dirname "$0")/../../docs/schema/cinderblock.schema.json" \
    map "$WORK/map.json" >/dev/null || fail "map --json is not a valid map object: $j"
"$CB" --json map >"$WORK/maps.json"
/usr/bin/python3 "$(dirname "$0")/../json/validate.py" "$(dirname "$0")/../../docs/schema/cinderblock.schema.json" \
    map_list "$WORK/maps.json" >/dev/null || fail "map --json (list) is not a valid map_list"
nbdinfo --size "nbd+unix:///?socket=$sock2" | grep -qx "$(stat -c %s "$vol")" || fail "nbdinfo --size"
"$CB" unmap "$sock2" 2>"$WORK/err" || fail "unmap by socket failed"
[ ! -e "$sock2" ] || fail "unmap left $sock2"
"$CB" unmap "$uri" 2>"$WORK/err" || fail "unmap by URI failed"
grep -qF "unmapped $uri" "$WORK/err" || fail "unmap said $(cat "$WORK/err")"
"$CB" map | grep -q . && fail "maps remain: $("$CB" map)"
nbdinfo "$uri" >/dev/null 2>&1 && fail "the URI still serves after unmap"
# the lock went with it
"$CB" --json map "$short" --port 0 >/dev/null 2>&1 && fail "--port 0 was taken"
uri=$("$CB" map "$id" 2>"$WORK/err") || fail "map again failed: $(cat "$WORK/err")"
"$CB" unmap "$short" 2>/dev/null || fail "unmap by id prefix failed"

# errors
expect_fail 10 "not found" "$CB" map 00000000-0000-4000-8000-00000000dead
expect_fail 10 "00000000" "$CB" map 00000000
expect_fail 2 "" "$CB" map 1234
expect_fail 1 "does not exist" "$CB" map "$id" --socket "$WORK/nodir/x.sock"
expect_fail 1 "/dev/nbd15" "$CB" map "$id" --device /dev/nbd15
expect_fail 2 "not both" "$CB" map "$id" --socket "$sock2" --port 10809
expect_fail 10 "no running map" "$CB" unmap "$id"
expect_fail 2 "which map" "$CB" unmap
# the plugin that is not there: nbdkit's own message, and nothing left behind
CINDERBLOCK_NBDKIT_PLUGIN="$WORK/none.so" expect_fail 1 "nbdkit" "$CB" map "$id"
"$CB" map | grep -q . && fail "a failed map was recorded"
"$CB" delete "$id" 2>/dev/null || fail "delete after unmap failed (a lock left behind?)"
echo "ok"
