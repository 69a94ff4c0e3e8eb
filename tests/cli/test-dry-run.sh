#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# --dry-run writes nothing: `backup --dry-run` (full and incremental) leaves the store as it
# was, takes no lock and leaves no record, and reports the objects and bytes that the real
# run then stores; `delete --dry-run` deletes nothing and lists what would go (with
# --cascade all of it, dependents first); `cleanup --dry-run` removes nothing.
. "$(dirname "$0")/functions.sh"

# listing STORE: every file with its size and checksum, and every directory
listing() {
    (cd "$1" && find . -type d | sort && find . -type f -exec sha256sum {} + | sort)
}

# field JSON_FILE KEY: backup.KEY of a backup --json document
field() {
    python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(d["backup"][sys.argv[2]])' "$1" "$2"
}

mkvol "$WORK/vol" 12 31

# ---- a full backup: dry run, then the real one
listing "$STORE" >"$WORK/l0"
"$CB" --json backup "$WORK/vol" --object-size 1M --compression zstd --dry-run >"$WORK/dry1"
listing "$STORE" >"$WORK/l1"
cmp "$WORK/l0" "$WORK/l1" || fail "backup --dry-run changed the store: $(diff "$WORK/l0" "$WORK/l1")"
[ "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["dry_run"])' "$WORK/dry1")" = True ] ||
    fail "no dry_run: true in $(cat "$WORK/dry1")"
"$CB" --json backup "$WORK/vol" --object-size 1M --compression zstd >"$WORK/real1"
for k in object_count stored_bytes data_bytes size; do
    [ "$(field "$WORK/dry1" $k)" = "$(field "$WORK/real1" $k)" ] ||
        fail "full: dry run said $k $(field "$WORK/dry1" $k), the real run $(field "$WORK/real1" $k)"
done
[ "$(field "$WORK/real1" object_count)" -eq 12 ] || fail "expected 12 objects: $(cat "$WORK/real1")"
[ "$(find "$STORE" -type f -name '*_metadata' | wc -l)" -eq 1 ] || fail "expected one backup"
full=$(field "$WORK/real1" id)

# ---- an incremental: three changed regions
python3 - "$WORK/vol" <<'PY'
import os, sys
with open(sys.argv[1], 'r+b') as f:
    for off in (0, 5 << 20, (11 << 20) + 4096):
        f.seek(off)
        f.write(os.urandom(40000))
PY
listing "$STORE" >"$WORK/l2"
"$CB" backup "$WORK/vol" --object-size 1M --compression zstd --incremental --dry-run >"$WORK/drytext"
grep -q "dry run: incremental backup of volume .* would store 3 objects" "$WORK/drytext" ||
    fail "text dry run said: $(cat "$WORK/drytext")"
"$CB" --json backup "$WORK/vol" --object-size 1M --compression zstd --incremental --dry-run >"$WORK/dry2"
listing "$STORE" >"$WORK/l3"
cmp "$WORK/l2" "$WORK/l3" || fail "incremental --dry-run changed the store"
[ "$(field "$WORK/dry2" parent_id)" = "$full" ] || fail "dry run parent: $(cat "$WORK/dry2")"
"$CB" --json backup "$WORK/vol" --object-size 1M --compression zstd --incremental >"$WORK/real2"
for k in object_count stored_bytes data_bytes parent_id; do
    [ "$(field "$WORK/dry2" $k)" = "$(field "$WORK/real2" $k)" ] ||
        fail "incremental: dry run said $k $(field "$WORK/dry2" $k), the real run $(field "$WORK/real2" $k)"
done
[ "$(field "$WORK/real2" object_count)" -eq 3 ] || fail "expected 3 changed objects"
incr=$(field "$WORK/real2" id)

# a dry run takes no lock: it runs while another command holds the exclusive one
mkdir -p "$STORE/cinderblock/locks"
now=$(date +%s)
printf '{"id": "x-00000000000000ee", "exclusive": true, "host": "elsewhere", "pid": 1, "start": 1, "command": "delete", "created": %s, "refreshed": %s, "expires": %s}\n' \
    "$now" "$now" $((now + 3600)) >"$STORE/cinderblock/locks/x-00000000000000ee"
printf '{"host": "elsewhere", "pid": 1}\n' >"$STORE/cinderblock/locks/exclusive"
expect_fail 11 "" "$CB" backup "$WORK/vol" --object-size 1M --incremental
listing "$STORE" >"$WORK/l4"
"$CB" -q backup "$WORK/vol" --object-size 1M --incremental --dry-run >/dev/null ||
    fail "a dry run was stopped by a lock"
listing "$STORE" >"$WORK/l5"
cmp "$WORK/l4" "$WORK/l5" || fail "a dry run under a lock changed the store"
rm -r "$STORE/cinderblock/locks"
[ -z "$(find "$STORE" -path '*cinderblock/pending*' -type f)" ] || fail "a pending record was left"
expect_fail 2 "--dry-run cannot be given with --resume" "$CB" backup "$WORK/vol" --resume "$full" --dry-run

# ---- delete --dry-run
listing "$STORE" >"$WORK/l6"
expect_fail 1 "depending on it" "$CB" delete "$full" --dry-run
"$CB" delete "$full" --dry-run --cascade >"$WORK/del"
[ "$(sed -n 1p "$WORK/del")" = "would delete backup $incr (volume $(field "$WORK/real2" volume_id), container '$(field "$WORK/real2" container)')" ] ||
    fail "cascade dry run, first line: $(cat "$WORK/del")"
grep -q "^would delete backup $full " "$WORK/del" || fail "cascade dry run lacks $full: $(cat "$WORK/del")"
[ "$(wc -l <"$WORK/del")" -eq 2 ] || fail "cascade dry run: $(cat "$WORK/del")"
"$CB" --json delete "$full" --dry-run --cascade >"$WORK/delj"
python3 - "$WORK/delj" "$incr" "$full" <<'PY' || fail "delete --dry-run --json: $(cat "$WORK/delj")"
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert d['dry_run'] is True, d
assert [b['id'] for b in d['would_delete']] == sys.argv[2:], d
PY
"$CB" delete "$incr" --dry-run | grep -q "^would delete backup $incr" || fail "delete --dry-run of a leaf"
listing "$STORE" >"$WORK/l7"
cmp "$WORK/l6" "$WORK/l7" || fail "delete --dry-run changed the store"
[ "$("$CB" list -q | grep -c -e "$full" -e "$incr")" -eq 2 ] || fail "a dry run deleted a backup"

# ---- cleanup --dry-run: a leftover is listed, not removed
m=$(meta_of "$incr")
echo stray >"${m%_metadata}-00099" # under the prefix, listed by no metadata: a leftover
listing "$STORE" >"$WORK/l8"
"$CB" --json cleanup --older-than 0 --dry-run >"$WORK/cl"
python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); assert d["dry_run"] is True and d["would_remove"], d' "$WORK/cl" ||
    fail "cleanup --dry-run: $(cat "$WORK/cl")"
listing "$STORE" >"$WORK/l9"
cmp "$WORK/l8" "$WORK/l9" || fail "cleanup --dry-run changed the store"

# ---- the real delete then does what the dry run said
"$CB" -q delete "$full" --cascade
[ -z "$(find "$STORE" -type f -name '*_metadata')" ] || fail "the real delete left a backup"
echo ok
