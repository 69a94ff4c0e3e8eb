#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# prune: no --keep-* rule is a usage error (exit 2) that deletes nothing; --dry-run prints the
# plan (table and JSON: keep / delete, with the reason, a kept backup's parent kept) and
# deletes nothing; the real run deletes the plan's deletes and what stays restores.
. "$(dirname "$0")/functions.sh"

VID=11111111-2222-4333-8444-555555555555
mkvol "$WORK/vol" 2 7
a=$("$CB" -q backup "$WORK/vol" --volume-id $VID --object-size 256K) || fail "backup a"
sleep 1
printf 'changed' | dd of="$WORK/vol" bs=1 seek=1000 conv=notrunc 2>/dev/null
b=$("$CB" -q backup "$WORK/vol" --volume-id $VID --parent "$a" --object-size 256K) || fail "backup b"
cp "$WORK/vol" "$WORK/vol.b"
sleep 1
c=$("$CB" -q backup "$WORK/vol" --volume-id $VID --object-size 256K) || fail "backup c"
sleep 1
d=$("$CB" -q backup "$WORK/vol" --volume-id $VID --parent "$c" --object-size 256K) || fail "backup d"

# no rule: refused, exit 2, nothing deleted
rc=0; "$CB" prune >"$WORK/out" 2>"$WORK/err" || rc=$?
[ $rc = 2 ] || fail "prune without a rule: exit $rc, expected 2"
grep -q "no --keep-\* rule" "$WORK/err" || fail "prune without a rule: $(cat "$WORK/err")"
[ "$("$CB" --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["backups"]))')" = 4 ] ||
    fail "prune without a rule deleted something"
rc=0; "$CB" prune --keep-daily 0 2>"$WORK/err" || rc=$?
[ $rc = 2 ] || fail "--keep-daily 0: exit $rc, expected 2"

# --keep-last 3 --dry-run: d, c, b kept by the rule, a as b's parent
"$CB" prune --keep-last 3 --dry-run >"$WORK/table" 2>"$WORK/err" || fail "dry run: $(cat "$WORK/err")"
head -1 "$WORK/table" | grep -Eq '^ID +VOLUME +CREATED +ACTION +REASON$' || fail "header: $(head -1 "$WORK/table")"
grep -Eq "^$d +$VID .* keep +last$" "$WORK/table" || fail "d not kept as last: $(cat "$WORK/table")"
grep -Eq "^$b .* keep +last$" "$WORK/table" || fail "b not kept as last: $(cat "$WORK/table")"
grep -Eq "^$a .* keep +parent of kept $b$" "$WORK/table" || fail "a not kept as b's parent: $(cat "$WORK/table")"
"$CB" --json prune --keep-last 1 --dry-run >"$WORK/json" || fail "json dry run"
python3 - "$WORK/json" "$a" "$b" "$c" "$d" <<'PY' || fail "JSON plan: $(cat "$WORK/json")"
import json, sys
doc = json.load(open(sys.argv[1]))
a, b, c, d = sys.argv[2:]
plan = {e["id"]: e for e in doc["plan"]}
assert doc["dry_run"] is True and doc["deleted"] == 0 and doc["kept"] == 2, doc
assert [e["id"] for e in doc["plan"]] == [d, c, b, a], doc["plan"]
assert plan[d]["action"] == "keep" and plan[d]["reason"] == "last"
assert plan[c]["action"] == "keep" and plan[c]["reason"] == "parent of kept " + d
for x in (a, b):
    assert plan[x]["action"] == "delete" and plan[x]["reason"] == "not kept by the policy"
    assert plan[x]["deleted"] is False
PY
[ "$("$CB" --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["backups"]))')" = 4 ] ||
    fail "prune --dry-run deleted something"

# for real: b's chain goes (b first), d's stays and restores
"$CB" --json prune --keep-last 1 >"$WORK/json" || fail "prune"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["deleted"] == 2 and not d["dry_run"], d' "$WORK/json" ||
    fail "prune: $(cat "$WORK/json")"
"$CB" --json list | python3 -c 'import json,sys; print(" ".join(sorted(b["id"] for b in json.load(sys.stdin)["backups"])))' >"$WORK/ids"
[ "$(cat "$WORK/ids")" = "$(printf '%s\n%s\n' "$c" "$d" | sort | tr '\n' ' ' | sed 's/ $//')" ] ||
    fail "left after prune: $(cat "$WORK/ids")"
"$CB" restore "$d" "$WORK/out.img" --force || fail "restore d"
cmp "$WORK/vol" "$WORK/out.img" || fail "d restores other bytes"
rc=0; "$CB" restore "$b" "$WORK/out2.img" 2>/dev/null || rc=$?
[ $rc = 10 ] || fail "restore of pruned b: exit $rc, expected 10"
echo ok
