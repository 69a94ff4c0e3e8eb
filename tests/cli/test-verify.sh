#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# verify: 0 on a clean store, 13 naming a damaged object (text and --json), 2 for usage
# errors, --read-data-subset parts that together read every object exactly once, and
# restore --verify (0, and 13 naming the block whose hash no longer matches).
. "$(dirname "$0")/functions.sh"

# flip FILE OFFSET: one bit of FILE changed
flip() {
    python3 -c '
import sys
p, at = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[at % len(b)] ^= 1
open(p, "wb").write(b)' "$1" "$2"
}

# json EXPR < FILE: evaluate EXPR with v = the "verify" object
json() {
    python3 -c "import json, sys; v = json.loads(sys.stdin.read().splitlines()[-1])['verify']; print($1)"
}

mkvol "$WORK/vol" 4 7
full=$("$CB" -q backup "$WORK/vol" --object-size 1M --compression zlib)
flip "$WORK/vol" 100000
flip "$WORK/vol" 3000000
incr=$("$CB" -q backup "$WORK/vol" --incremental --compression none)

# clean: structure, then the data, one id (with its parent) and all
"$CB" verify --all >"$WORK/out" || fail "verify --all of a clean store: $(cat "$WORK/out")"
grep -q '^verified 2 backups, [0-9]* objects (0 read), 0 damaged$' "$WORK/out" ||
    fail "summary: $(cat "$WORK/out")"
"$CB" verify "$incr" --read-data --threads 2 >"$WORK/out" || fail "verify --read-data failed"
"$CB" --json verify --all --read-data >"$WORK/json" || fail "verify --json failed"
[ "$(json 'v["ok"] and v["objects"] == v["objects_read"] > 2 and v["problems"] == []' <"$WORK/json")" = True ] ||
    fail "verify --json: $(cat "$WORK/json")"
total=$(json 'v["objects"]' <"$WORK/json")

# usage errors exit 2
expect_fail 2 "give BACKUP_IDs, or --all" "$CB" verify
expect_fail 2 "not both" "$CB" verify "$full" --all
for bad in 0/3 4/3 3 1/ /3 a/b 1/3x -1/3 1/0; do
    expect_fail 2 "--read-data-subset: '$bad'" "$CB" verify --all --read-data-subset "$bad"
done
expect_fail 2 "--threads: 'many'" "$CB" verify --all --threads many
expect_fail 10 "backup 01234567-89ab-4def-8123-456789abcdef not found" \
    "$CB" verify 01234567-89ab-4def-8123-456789abcdef

# parts 1/3, 2/3, 3/3: every object exactly once (-v), and the counts add up (--json)
read=0
for n in 1 2 3; do
    "$CB" -v verify --all --read-data-subset "$n/3" >"$WORK/part$n" || fail "part $n/3 failed"
    k=$("$CB" --json verify --all --read-data-subset "$n/3" | json 'v["objects_read"]')
    [ "$k" -lt "$total" ] || fail "part $n/3 read $k of $total objects: not a part"
    read=$((read + k))
done
[ "$read" -eq "$total" ] || fail "the parts read $read objects, the store holds $total"
grep -h '^checked: .*: ok$' "$WORK/part1" "$WORK/part2" "$WORK/part3" | sort >"$WORK/parts"
[ "$(wc -l <"$WORK/parts")" -eq "$total" ] || fail "-v listed $(wc -l <"$WORK/parts") objects"
[ "$(sort -u "$WORK/parts" | wc -l)" -eq "$total" ] || fail "an object was read twice"

# restore --verify of a good backup
"$CB" restore "$incr" "$WORK/out.img" --verify 2>"$WORK/err" || fail "restore --verify failed"
grep -q "read it back" "$WORK/err" || fail "restore --verify said: $(cat "$WORK/err")"
cmp "$WORK/vol" "$WORK/out.img" || fail "restore --verify restored other bytes"

# one flipped byte in an object of the parent: found by reading, not by the structure
obj=$(find "$STORE" -type f -name "*_backup_${full}-00002")
[ -n "$obj" ] || fail "no second object in backup $full"
cp "$obj" "$WORK/obj.good"
flip "$obj" 777
"$CB" verify --all >"$WORK/out" || fail "the structure check read data"
expect_fail 13 "1 problem found; the first: backup $full, object $(basename "$obj")" \
    "$CB" verify "$incr" --read-data
grep -qF "damaged: backup $full, object $(basename "$obj"): " "$WORK/out" ||
    fail "no problem line: $(cat "$WORK/out")"
grep -q '^verified 2 backups, .*, 1 damaged$' "$WORK/out" || fail "summary: $(cat "$WORK/out")"
[ "$(grep -c '^damaged: ' "$WORK/out")" -eq 1 ] || fail "more than one problem: $(cat "$WORK/out")"
set +e
"$CB" --json verify --all --read-data >"$WORK/json" 2>/dev/null
rc=$?
set -e
[ "$rc" -eq 13 ] || fail "verify --json of damage exited $rc"
[ "$(json '[(p["backup_id"], p["object"], p["damaged"]) for p in v["problems"]] if not v["ok"] else 0' <"$WORK/json")" = \
    "[('$full', '$(basename "$obj")', True)]" ] || fail "verify --json: $(cat "$WORK/json")"
cp "$WORK/obj.good" "$obj"

# restore --verify: one entry of the list changed (the data intact, so the restore itself
# passes on the objects' MD5s); the read-back names the block, and the target stays
list=$(find "$STORE" -type f -name "*_backup_${incr}_sha256file")
python3 -c '
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["sha256s"][3] = ("0" if d["sha256s"][3][0] != "0" else "1") + d["sha256s"][3][1:]
open(p, "w").write(json.dumps(d, sort_keys=True, indent=2))' "$list"
rm -f "$WORK/out.img"
"$CB" restore "$incr" "$WORK/out.img" --force || fail "restore with a changed list entry failed"
expect_fail 13 "differs from backup $incr's _sha256file at byte offset 98304 (sha block 3)" \
    "$CB" restore "$incr" "$WORK/out.img" --force --verify
cmp "$WORK/vol" "$WORK/out.img" || fail "the target of a failed restore --verify changed"
echo ok
