#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# backup -> list -> show -> restore -> cmp, for every codec, plus --json and records.
. "$(dirname "$0")/functions.sh"

mkvol "$WORK/vol" 6 1
printf 'tail' >>"$WORK/vol" # not a multiple of the sha block
size=$(stat -c %s "$WORK/vol")
nobj=$(( (size + 2097151) / 2097152 ))
for alg in none zlib bz2 zstd GZIP; do
    id=$("$CB" -q backup "$WORK/vol" --compression "$alg" --object-size 2M --name "n-$alg")
    "$CB" restore "$id" "$WORK/out-$alg"
    cmp "$WORK/vol" "$WORK/out-$alg" || fail "$alg: restored bytes differ"
done
n=$("$CB" --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["backups"]))')
[ "$n" -eq 5 ] || fail "list shows $n backups, expected 5"

# show: full, size, objects
"$CB" show "$id" >"$WORK/show"
grep -q "kind: *full (chain of 1)" "$WORK/show" || fail "show: $(cat "$WORK/show")"
grep -q "size: *$size bytes" "$WORK/show" || fail "show size: $(cat "$WORK/show")"
grep -q "objects: *$nobj\$" "$WORK/show" || fail "show objects: $(cat "$WORK/show")"
"$CB" --json show "$id" | python3 -c "
import json, sys
b = json.load(sys.stdin)['backup']
assert b['size'] == $size and b['object_count'] == $nobj and b['name'] == 'n-GZIP', b
assert b['compression'] == 'gzip', b
"

# --metadata ends up in volume_meta and in show
id=$("$CB" -q backup "$WORK/vol" --metadata owner=ops --metadata tier=gold --object-size 4M)
"$CB" show "$id" | grep -q 'volume meta: *{"version": 2, "volume-metadata": {"owner": "ops", "tier": "gold"}}' ||
    fail "show lacks volume meta: $("$CB" show "$id")"
grep -q '"volume_meta": "{\\"version\\": 2' "$(meta_of "$id")" || fail "volume_meta not a JSON string"

# the same disk keeps its volume id
v1=$("$CB" --json show "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["backup"]["volume_id"])')
id2=$("$CB" -q backup "$WORK/vol" --object-size 4M)
v2=$("$CB" --json show "$id2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["backup"]["volume_id"])')
[ "$v1" = "$v2" ] || fail "volume id changed: $v1 $v2"

# export-record prints Cinder's table; the URL decodes to the record
"$CB" export-record "$id" >"$WORK/rec"
grep -q '| backup_service | cinder.backup.drivers.posix.PosixBackupDriver' "$WORK/rec" || fail "export: $(cat "$WORK/rec")"
url=$(awk -F'|' '/backup_url/ {gsub(/ /, "", $3); print $3}' "$WORK/rec")
echo "$url" | base64 -d | python3 -c "
import json, sys
r = json.load(sys.stdin)
assert r['id'] == '$id' and r['status'] == 'available' and r['size'] == 1, r
assert r['service'] == 'cinder.backup.drivers.posix.PosixBackupDriver', r
"
"$CB" import-record cinder.backup.drivers.posix.PosixBackupDriver "$url" 2>&1 | grep -q "imported backup $id" ||
    fail "import-record of our own record"
# --service: a record for a Cinder that runs the NFS driver, or cinderblock's own driver
for svc in cinder.backup.drivers.nfs.NFSBackupDriver cinderblock.cinder.PosixBackupDriver; do
    "$CB" --json export-record --service "$svc" "$id" >"$WORK/rec.json" || fail "export --service $svc"
    python3 -c "
import base64, json, sys
r = json.load(open(sys.argv[1]))
assert r['backup_service'] == sys.argv[2], r
assert json.loads(base64.b64decode(r['backup_url']))['service'] == sys.argv[2], r
" "$WORK/rec.json" "$svc" || fail "export --service $svc: $(cat "$WORK/rec.json")"
    url=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["backup_url"])' "$WORK/rec.json")
    "$CB" import-record "$svc" "$url" 2>&1 | grep -q "imported backup $id" || fail "import-record $svc"
done
# a class that does not write a posix store's format is refused, naming those that do
"$CB" export-record --service cinder.backup.drivers.swift.SwiftBackupDriver "$id" 2>"$WORK/err" &&
    fail "export --service of the Swift driver for a posix store"
grep -q "cinder.backup.drivers.nfs.NFSBackupDriver" "$WORK/err" || fail "export --service: $(cat "$WORK/err")"

# delete removes every object of the backup
before=$(objects_under "$STORE")
"$CB" delete "$id2"
after=$(objects_under "$STORE")
want=$(( (size + 4194303) / 4194304 + 2 )) # data objects, _sha256file, _metadata
[ $((before - after)) -eq "$want" ] || fail "delete removed $((before - after)) objects, expected $want"
expect_fail 10 "not found" "$CB" show "$id2"
echo "ok"
