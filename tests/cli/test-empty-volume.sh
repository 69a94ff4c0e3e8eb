#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# An empty (0-byte) volume is backed up, as Cinder backs one up: 0 data objects,
# "objects": [] and "sha256s": []; restored (an empty file, compared), verified, an
# incremental on top of it, and deleted. From a file and from standard input.
. "$(dirname "$0")/functions.sh"

: >"$WORK/empty"
ID=$("$CB" backup "$WORK/empty" --volume-id 6c0e3a4b-1d2f-4e5a-8b7c-9d0e1f2a3b4c) ||
    fail "backup of an empty file failed"
META=$(meta_of "$ID")
[ -n "$META" ] || fail "no _metadata for $ID"
grep -q '"objects": \[\],' "$META" || fail "metadata lists objects: $(cat "$META")"
grep -q '"sha256s": \[\],' "${META%_metadata}_sha256file" || fail "sha256file lists hashes"
[ "$(objects_under "$STORE")" -eq 2 ] || fail "an empty backup is 2 objects, not $(objects_under "$STORE")"

echo "not empty" >"$WORK/out"
"$CB" restore --force "$ID" "$WORK/out" || fail "restore of the empty backup failed"
cmp "$WORK/empty" "$WORK/out" || fail "restored empty volume differs"
"$CB" restore --verify --force "$ID" "$WORK/out" || fail "restore --verify failed"
"$CB" verify --read-data "$ID" >"$WORK/verify" || fail "verify --read-data exited $?"
grep -q "0 damaged" "$WORK/verify" || fail "verify said: $(cat "$WORK/verify")"
"$CB" --json show "$ID" | python3 -c '
import json, sys
d = json.load(sys.stdin)["backup"]
assert d["size"] == 0 and d["object_count"] == 0, d' || fail "show --json of the empty backup"

# an empty stream, incremental on the empty parent
INC=$("$CB" backup - --parent "$ID" </dev/null) || fail "empty incremental from stdin failed"
"$CB" restore --force "$INC" "$WORK/out" || fail "restore of the empty incremental failed"
cmp "$WORK/empty" "$WORK/out" || fail "restored empty incremental differs"
"$CB" verify --read-data --all >/dev/null || fail "verify --all of empty backups exited $?"

"$CB" delete --cascade "$ID" >/dev/null || fail "delete of the empty chain failed"
[ "$(objects_under "$STORE")" -eq 0 ] || fail "delete left $(objects_under "$STORE") objects"
