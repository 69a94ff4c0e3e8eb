#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# backup --coalesce: an incremental's changed runs a few unchanged blocks apart become one
# object covering the gap, the gap's bytes reported as bytes_coalesced; posix's default
# joins runs one sha block apart; every variant restores. --connections: its range, and an
# incremental and a restore with more requests in flight than threads.
. "$(dirname "$0")/functions.sh"

# sum JSON_FILE EXPR: EXPR of the summary d (d["backup"] is the backup)
sum() {
    python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(eval(sys.argv[2]))' "$1" "$2"
}
# patch OFFSET: 4 KiB of 0xee at OFFSET (inside one 32 KiB sha block)
patch() {
    python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(int(sys.argv[2])); f.write(b"\xee"*4096)' "$WORK/vol" "$1"
}

K=1024
mkvol "$WORK/vol" 4 5
full=$("$CB" backup -q "$WORK/vol" --object-size 1M --compression zlib)
cp "$WORK/vol" "$WORK/v0"
# changed sha blocks (32 KiB) 2 and 4: one block between; 7: two blocks after 4; 40: in
# the second object
for b in 2 4 7 40; do patch $((b * 32 * K + 100)); done

# no gap taken, one block, three blocks, and the default (posix: one block)
for co in 0 32K 64K default; do
    opt="--coalesce $co"
    [ "$co" != default ] || opt=""
    # shellcheck disable=SC2086
    "$CB" --json backup "$WORK/vol" --parent "$full" $opt >"$WORK/j.$co"
    id=$(sum "$WORK/j.$co" 'd["backup"]["id"]')
    "$CB" restore -q "$id" "$WORK/r.$co"
    cmp "$WORK/vol" "$WORK/r.$co" || fail "the incremental with --coalesce $co does not restore"
done
check() { # CO OBJECTS COALESCED
    got=$(sum "$WORK/j.$1" '"%d %d" % (d["backup"]["object_count"], d["bytes_coalesced"])')
    [ "$got" = "$2 $3" ] || fail "--coalesce $1: objects and bytes_coalesced are '$got', not '$2 $3'"
}
check 0 4 0
check 32K 3 $((32 * K))
check 64K 2 $((96 * K))
check default 3 $((32 * K))
# a dry run coalesces as the real one does (the store's default reaches it)
"$CB" --json backup "$WORK/vol" --parent "$full" --dry-run >"$WORK/j.dry"
check dry 3 $((32 * K))
# the stored data: the gaps are in the objects (2 blocks more with 64K than without)
d0=$(sum "$WORK/j.0" 'd["backup"]["data_bytes"]')
d64=$(sum "$WORK/j.64K" 'd["backup"]["data_bytes"]')
[ "$d64" -eq $((d0 + 96 * K)) ] || fail "data_bytes $d64 with --coalesce 64K, not $d0 + 96 KiB"

expect_fail 2 "--coalesce: 'lots' is not a size" "$CB" backup "$WORK/vol" --coalesce lots
expect_fail 2 "--coalesce: '-1' is not a size" "$CB" backup "$WORK/vol" --coalesce -1
expect_fail 2 "--connections: '0' is not a number from 1 to 64" "$CB" --connections 0 list
expect_fail 2 "--connections: '65' is not a number from 1 to 64" "$CB" --connections 65 list

# more in flight than threads: every run stored in order, and a restore with as many
"$CB" --connections 16 --json backup "$WORK/vol" --parent "$full" --coalesce 0 --threads 1 \
    >"$WORK/j.c16"
id=$(sum "$WORK/j.c16" 'd["backup"]["id"]')
[ "$(sum "$WORK/j.c16" 'd["backup"]["object_count"]')" -eq 4 ] || fail "--connections 16: not 4 objects"
"$CB" --connections 16 restore -q "$id" "$WORK/r.c16"
cmp "$WORK/vol" "$WORK/r.c16" || fail "--connections 16: the restore differs"
echo "ok"
