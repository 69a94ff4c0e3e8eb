#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Backup ids by a unique prefix of 8 characters or more wherever an id is taken (restore,
# show, delete, verify, export-record, backup --parent, --resume): 7 refused (exit 2), an
# ambiguous one refused naming the candidates (exit 2), none exit 10. And `list`: its NAME
# and STORED columns, and `-q list` (ids only).
. "$(dirname "$0")/functions.sh"
mkdir -p "$STORE"
mkvol "$WORK/vol" 2 7

a=1234abcd-0000-4000-8000-00000000000a
b=1234abcd-1111-4000-8000-00000000000b
c=5678ef01-2222-4000-8000-00000000000c
"$CB" -q backup "$WORK/vol" --backup-id "$a" --name "first disk" >/dev/null
"$CB" -q backup "$WORK/vol" --backup-id "$b" --parent 1234abcd-000 >/dev/null ||
    fail "backup --parent with a prefix"
grep -q "\"parent_id\": \"$a\"" "$(meta_of "$b")" || fail "--parent prefix: wrong parent"
"$CB" -q backup "$WORK/vol" --backup-id "$c" --incremental >/dev/null

# a unique prefix of 8 resolves
"$CB" show 5678ef01 >"$WORK/show" || fail "show with an 8-character prefix"
grep -q "^id: *$c\$" "$WORK/show" || fail "show 5678ef01 showed another backup"
"$CB" show 5678EF01 | grep -q "^id: *$c\$" || fail "an upper-case prefix"
"$CB" -q restore 5678ef01-2 "$WORK/out.img" || fail "restore with a prefix"
cmp "$WORK/vol" "$WORK/out.img" || fail "restore by prefix differs"
"$CB" --json restore 5678ef01 "$WORK/out2.img" | grep -qE "\"restored\": ?\"$c\"" ||
    fail "restore --json does not name the whole id"
"$CB" verify 1234abcd-0 5678ef01 >"$WORK/verify" || fail "verify with prefixes"
grep -qE "^verified [23] backups, .* 0 damaged" "$WORK/verify" || fail "verify by prefix: $(cat "$WORK/verify")"
"$CB" export-record 1234abcd-1 >"$WORK/rec" || fail "export-record with a prefix"
"$CB" export-record "$b" | cmp -s - "$WORK/rec" || fail "export-record by prefix differs"

# 7 characters: refused, exit 2, whatever the store holds
expect_fail 2 "backup id prefix '5678ef0' is too short: give at least 8 characters" \
    "$CB" show 5678ef0
expect_fail 2 "too short" "$CB" restore 5678ef0 "$WORK/x.img"
[ ! -e "$WORK/x.img" ] || fail "a refused restore created its target"
expect_fail 2 "too short" "$CB" backup "$WORK/vol" --parent 1234abc
expect_fail 2 "too short" "$CB" backup "$WORK/vol" --resume 1234abc

# ambiguous: exit 2, both candidates named, nothing done
for cmd in show delete export-record verify; do
    expect_fail 2 "backup id prefix '1234abcd' is ambiguous: 2 backups start with it" \
        "$CB" $cmd 1234abcd
    grep -qF "$a" "$WORK/err" && grep -qF "$b" "$WORK/err" ||
        fail "$cmd 1234abcd: the candidates are not both named: $(cat "$WORK/err")"
done
expect_fail 2 "ambiguous" "$CB" restore 1234abcd "$WORK/x.img"
expect_fail 2 "ambiguous" "$CB" backup "$WORK/vol" --parent 1234abcd
[ "$("$CB" -q list | wc -l)" -eq 3 ] || fail "an ambiguous delete deleted something"

# none: exit 10
expect_fail 10 "no backup id in the store starts with '99999999'" "$CB" show 99999999
expect_fail 10 "no backup id" "$CB" delete 99999999-
expect_fail 10 "no interrupted backup" "$CB" backup "$WORK/vol" --resume 1234abcd
# a whole id that is not there is as before; text that is no id is named as before
expect_fail 10 "not found" "$CB" show 99999999-0000-4000-8000-000000000000
expect_fail 1 "backup id 'xyz' is not a UUID" "$CB" show xyz

# list: NAME and STORED columns
"$CB" list >"$WORK/list"
head -1 "$WORK/list" | grep -qE '^ID +NAME +VOLUME ID +CREATED +PARENT +SIZE +STORED +OBJECTS +CONTAINER$' ||
    fail "list header: $(head -1 "$WORK/list")"
grep "^$a " "$WORK/list" | grep -q "  first disk  " || fail "list: no name for $a"
grep "^$b " "$WORK/list" | grep -qE "^$b +vol " || fail "list: a backup without --name shows its volume's file name"
# STORED is what the store's files take: the sum of the sizes of the backup's objects
want=$(find "$STORE" -type f -name "*_backup_${a}*" -printf '%s\n' | awk '{s += $1} END {print s}')
"$CB" --json list >/dev/null || fail "list --json"
python3 - "$want" "$(grep "^$a " "$WORK/list")" <<'PY' || fail "list: STORED of $a is not $want bytes"
import re, sys
want = int(sys.argv[1])
# the row ends: SIZE, STORED (each "N UNIT"), OBJECTS, CONTAINER
u = r'(\d+(?:\.\d+)?) (B|KiB|MiB|GiB)'
m = re.search(u + r' +' + u + r' +\d+ +\S+$', sys.argv[2])
assert m, sys.argv[2]
mult = {'B': 1, 'KiB': 1 << 10, 'MiB': 1 << 20, 'GiB': 1 << 30}
stored = float(m.group(3)) * mult[m.group(4)]
assert abs(stored - want) <= 0.05 * want + 1, (sys.argv[2], want)
PY
# an incremental stores far less than its full parent
grep "^$c " "$WORK/list" | grep -qE ' (KiB|B) +0 ' || fail "list: STORED of an unchanged incremental"

# -q list: the ids alone, oldest first, no header
"$CB" -q list >"$WORK/ids"
printf '%s\n%s\n%s\n' "$a" "$b" "$c" | cmp -s - "$WORK/ids" || fail "-q list printed: $(cat "$WORK/ids")"
"$CB" list -q | cmp -s - "$WORK/ids" || fail "list -q differs from -q list"

# delete by prefix, then the prefix is unique
"$CB" -q delete 5678ef01 || fail "delete with a prefix"
"$CB" -q list | grep -q "$c" && fail "delete by prefix did not delete $c"
echo ok
