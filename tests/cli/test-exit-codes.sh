#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every documented exit status, each from a real cause (the manual's EXIT STATUS table).
# 12 (authentication) needs a server: tests/store/servers/test-failures.sh covers it.
. "$(dirname "$0")/functions.sh"

mkvol "$WORK/vol" 4 9
id=$("$CB" -q backup "$WORK/vol" --object-size 1M)

# 0: success
"$CB" -q restore "$id" "$WORK/out" || fail "a good restore did not exit 0"
cmp "$WORK/vol" "$WORK/out" || fail "restore differs"

# 1: a failure of another kind
expect_fail 1 "unsupported compression algorithm" "$CB" backup "$WORK/vol" --compression lzma

# 2: usage
expect_fail 2 "unknown option '--nope'" "$CB" list --nope
expect_fail 2 "--retry-lock: 'soon' is not a duration" "$CB" --retry-lock soon list

# 3: the volume could not be read. As root with device-mapper, a device whose second half
# fails every read; anywhere, a volume that shrinks while it is being read.
if [ "$(id -u)" -eq 0 ] && command -v dmsetup >/dev/null && dmsetup version >/dev/null 2>&1 &&
    [ -e /dev/loop-control ]; then
    truncate -s 8M "$WORK/disk.img"
    loop=$(losetup --show -f "$WORK/disk.img")
    dm="cb-exit-$$"
    undo() { dmsetup remove "$dm" 2>/dev/null; losetup -d "$loop"; }
    CLEANUPS="$CLEANUPS undo"
    printf '0 8192 linear %s 0\n8192 8192 error\n' "$loop" | dmsetup create "$dm"
    expect_fail 3 "reading volume '/dev/mapper/$dm'" "$CB" backup "/dev/mapper/$dm" \
        --object-size 1M --compression none
    grep -q "Input/output error" "$WORK/err" || fail "no errno in: $(cat "$WORK/err")"
else
    echo "note: no device-mapper here: exit 3 from a volume that shrinks during its backup"
fi
python3 -c "
with open('$WORK/shrinks', 'wb') as f:
    for i in range(96):
        f.write((b'line %d of a volume that will shrink\n' % i) * 30000)"
"$CB" backup "$WORK/shrinks" --compression bz2 --object-size 4M >"$WORK/out" 2>"$WORK/err" &
pid=$!
sleep 0.3
truncate -s 1M "$WORK/shrinks"
set +e
wait $pid
rc=$?
set -e
[ $rc -eq 3 ] || fail "a volume that shrank: exit $rc, expected 3: $(cat "$WORK/err")"
grep -q "shr" "$WORK/err" || grep -q "changed size" "$WORK/err" || fail "unclear: $(cat "$WORK/err")"
[ "$("$CB" --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["backups"]))')" -eq 1 ] ||
    fail "an unreadable volume left a backup"

# 10: no such backup, no such store
expect_fail 10 "not found" "$CB" restore 01234567-89ab-4def-8123-456789abcdef "$WORK/x"
expect_fail 10 "store '$WORK/nothing-here' does not exist" "$CB" --store "$WORK/nothing-here" list

# 11: a lock in the way: another host's live exclusive lock
mkdir -p "$STORE/cinderblock/locks"
now=$(date +%s)
printf '{"cinderblock_lock": 1, "id": "00000000000000ff", "exclusive": true, "host": "elsewhere", "pid": 1, "command": "delete x", "created": %d, "expires": %d}' \
    "$now" $((now + 3600)) >"$STORE/cinderblock/locks/x-00000000000000ff"
expect_fail 11 "'delete x' holds an exclusive lock (host elsewhere" "$CB" backup "$WORK/vol"
expect_fail 11 "--retry-lock" "$CB" restore "$id" "$WORK/out2"
t0=$(date +%s)
expect_fail 11 "is locked" "$CB" --retry-lock 2s delete "$id"
[ $(($(date +%s) - t0)) -ge 2 ] || fail "--retry-lock 2s did not wait"
"$CB" -q unlock
[ -e "$STORE/cinderblock/locks/x-00000000000000ff" ] || fail "unlock removed a live lock"
"$CB" -q unlock --force
[ ! -e "$STORE/cinderblock/locks/x-00000000000000ff" ] || fail "unlock --force left the lock"
"$CB" -q restore "$id" "$WORK/out2" || fail "restore after unlock --force"

# 13: damage found
obj="$(dirname "$(meta_of "$id")")/$(basename "$(meta_of "$id")" _metadata)-00002"
python3 -c "
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[100] ^= 1
open(sys.argv[1], 'wb').write(b)" "$obj"
expect_fail 13 "$(basename "$obj")" "$CB" restore "$id" "$WORK/out3"

# 130: interrupted (more in test-interrupt.sh)
python3 -c "
with open('$WORK/slow', 'wb') as f:
    for i in range(64):
        f.write((b'line %d of a slow volume\n' % i) * 40000)"
"$CB" backup "$WORK/slow" --compression bz2 >/dev/null 2>&1 &
pid=$!
sleep 0.5
kill -INT $pid
set +e
wait $pid
rc=$?
set -e
[ $rc -eq 130 ] || fail "SIGINT: exit $rc"
echo ok
