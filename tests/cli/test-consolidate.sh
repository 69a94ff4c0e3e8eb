#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# consolidate: a synthetic full prints its id and restores as the backup it was made of; bad
# input and a damaged chain get their exit codes (2, 10, 13) with nothing committed;
# --delete-chain names what it deleted. prune --consolidate: the plan's "consolidate", the
# old full deleted, every kept backup restorable; leftovers past --leftover-grace removed.
. "$(dirname "$0")/functions.sh"

VID=22222222-3333-4444-8555-666666666666
mkvol "$WORK/vol" 3 11
ids=""
p=""
for k in 0 1 2 3 4 5; do
    [ $k = 0 ] || printf "day $k" | dd of="$WORK/vol" bs=1 seek=$((k * 300001)) conv=notrunc 2>/dev/null
    id=$("$CB" -q backup "$WORK/vol" --volume-id $VID ${p:+--parent "$p"} --object-size 512K) ||
        fail "backup $k"
    cp "$WORK/vol" "$WORK/vol.$k"
    eval "b$k=$id"
    p=$id
done
count() { "$CB" --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["backups"]))'; }

# usage and lookup errors: nothing made
expect_fail 2 "which BACKUP_ID" "$CB" consolidate
expect_fail 2 "--object-size" "$CB" consolidate "$b5" --object-size lots
expect_fail 10 "00000000-0000-4000-8000-000000000000" "$CB" consolidate 00000000-0000-4000-8000-000000000000
[ "$(count)" = 6 ] || fail "a failed consolidate left a backup"

# the 5th incremental, by an id prefix: a full of its bytes, its hashes
s=$("$CB" consolidate "$(echo "$b5" | cut -c1-8)" --compression zstd --name syn 2>"$WORK/err") ||
    fail "consolidate: $(cat "$WORK/err")"
"$CB" --json show "$s" >"$WORK/show"
python3 - "$WORK/show" "$VID" <<'PY' || fail "the synthetic full: $(cat "$WORK/show")"
import json, sys
b = json.load(open(sys.argv[1]))["backup"]
assert b["parent_id"] is None and b["chain_length"] == 1 and b["volume_id"] == sys.argv[2], b
assert b["name"] == "syn" and b["compression"] == "zstd", b
PY
"$CB" restore "$s" "$WORK/out" --force || fail "restore the synthetic full"
cmp "$WORK/out" "$WORK/vol.5" || fail "the synthetic full restores other bytes"
python3 - "$(find "$STORE" -name "*_backup_${s}_sha256file")" "$(find "$STORE" -name "*_backup_${b5}_sha256file")" <<'PY' ||
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["sha256s"] == b["sha256s"] and a["chunk_size"] == b["chunk_size"]
PY
    fail "the synthetic full's _sha256file lists other hashes"
"$CB" -q delete "$s" || fail "delete the synthetic full"

# a damaged object of incremental 3: exit 13, nothing committed, nothing left
obj=$(find "$STORE" -name "*_backup_${b3}-00001")
cp "$obj" "$WORK/saved"
python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(20); b=f.read(1); f.seek(20); f.write(bytes([b[0]^1]))' "$obj"
before=$(objects_under "$STORE")
expect_fail 13 "$b3" "$CB" consolidate "$b5"
[ "$(objects_under "$STORE")" = "$before" ] || fail "a damaged consolidate left objects"
cp "$WORK/saved" "$obj"

# --delete-chain of incremental 4: 5 moves onto the new full, 0..4 go
s=$("$CB" consolidate "$b4" --delete-chain 2>"$WORK/err") || fail "--delete-chain: $(cat "$WORK/err")"
for x in "$b4" "$b3" "$b2" "$b1" "$b0"; do
    grep -q "deleted backup $x" "$WORK/err" || fail "--delete-chain did not say it deleted $x: $(cat "$WORK/err")"
done
[ "$(count)" = 2 ] || fail "after --delete-chain: $(count) backups, expected 2"
"$CB" --json show "$b5" | python3 -c 'import json,sys; assert json.load(sys.stdin)["backup"]["parent_id"] == sys.argv[1]' "$s" ||
    fail "incremental 5 is not on the new full"
"$CB" restore "$b5" "$WORK/out" --force || fail "restore 5"
cmp "$WORK/out" "$WORK/vol.5" || fail "5 restores other bytes through the new full"

# prune --consolidate: a new chain of 5 on a full; keep the last 2: the 4th is consolidated
VID2=33333333-4444-4555-8666-777777777777
p=""
for k in 0 1 2 3 4; do
    printf "again $k" | dd of="$WORK/vol" bs=1 seek=$((k * 200003 + 7)) conv=notrunc 2>/dev/null
    id=$("$CB" -q backup "$WORK/vol" --volume-id $VID2 ${p:+--parent "$p"} --object-size 512K) ||
        fail "backup again $k"
    cp "$WORK/vol" "$WORK/again.$k"
    eval "c$k=$id"
    p=$id
done
mkdir -p "$STORE/zz/leftover" && echo x >"$STORE/zz/leftover/volume_${VID2}_20200101000000_backup_44444444-5555-4666-8777-888888888888-00001"
touch -d '2 hours ago' "$STORE/zz/leftover/"*
"$CB" prune --volume-id $VID2 --keep-last 2 --consolidate --dry-run >"$WORK/table" || fail "dry run"
grep -Eq "^$c3 .* consolidate +last, consolidated into a new full" "$WORK/table" ||
    fail "the plan does not consolidate c3: $(cat "$WORK/table")"
grep -Eq "^$c0 .* delete +not kept by the policy$" "$WORK/table" || fail "the full is not to go: $(cat "$WORK/table")"
"$CB" --json prune --volume-id $VID2 --keep-last 2 --consolidate >"$WORK/json" || fail "prune --consolidate"
python3 - "$WORK/json" "$c3" <<'PY' || fail "prune --consolidate: $(cat "$WORK/json")"
import json, sys
d = json.load(open(sys.argv[1]))
plan = {e["id"]: e for e in d["plan"]}
assert d["consolidated"] == 1 and d["deleted"] == 3 and d["leftovers_removed"] == 1, d
assert plan[sys.argv[2]]["action"] == "consolidate" and plan[sys.argv[2]]["new_full"], d
PY
[ ! -e "$STORE/zz/leftover/volume_${VID2}_20200101000000_backup_44444444-5555-4666-8777-888888888888-00001" ] ||
    fail "the leftover past the grace period is still there"
for k in 3 4; do
    eval "id=\$c$k"
    "$CB" restore "$id" "$WORK/out" --force || fail "restore again $k"
    cmp "$WORK/out" "$WORK/again.$k" || fail "again $k restores other bytes"
done
expect_fail 10 "" "$CB" restore "$c0" "$WORK/out" --force
echo ok
