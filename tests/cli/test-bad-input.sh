#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Bad input: a clear error naming the thing that is wrong, the right exit status, and
# nothing lost or left behind.
. "$(dirname "$0")/functions.sh"

mkvol "$WORK/vol" 3 2

# usage errors exit 2
expect_fail 2 "unknown command 'bakup'" "$CB" bakup
expect_fail 2 "unknown option '--frobnicate'" "$CB" backup "$WORK/vol" --frobnicate
expect_fail 2 "--object-size: 'lots'" "$CB" backup "$WORK/vol" --object-size lots
expect_fail 2 "which VOLUME" "$CB" backup
expect_fail 2 "give BACKUP_ID and TARGET" "$CB" restore only-one

# the volume: missing, a directory
expect_fail 1 "cannot open volume '$WORK/missing': No such file or directory" \
    "$CB" backup "$WORK/missing"
expect_fail 1 "volume '$WORK' is a directory: back up a regular file or a block device" \
    "$CB" backup "$WORK"
# a named pipe with no writer: refused at once, never waited on
mkfifo "$WORK/fifo"
expect_fail 1 "volume '$WORK/fifo' is a named pipe" timeout 10 "$CB" backup "$WORK/fifo"
[ -c /dev/null ] && expect_fail 1 "volume '/dev/null' is a character device" "$CB" backup /dev/null
# options
expect_fail 1 "unsupported compression algorithm 'winzip' (accepted: none, off, no, zlib" "$CB" backup "$WORK/vol" --compression winzip
expect_fail 1 "object size 1000000 is not a multiple of the sha block size 32768" \
    "$CB" backup "$WORK/vol" --object-size 1000000
expect_fail 1 "volume id 'nope' is not a UUID" "$CB" backup "$WORK/vol" --volume-id nope
expect_fail 1 "metadata 'novalue' is not KEY=VALUE" "$CB" backup "$WORK/vol" --metadata novalue
# objects so small that the metadata would outgrow what a restore reads (64 MiB): refused
# before anything is stored, with an object size that fits
truncate -s 8G "$WORK/huge"
expect_fail 1 "use --object-size 65536 or more" "$CB" backup "$WORK/huge" --object-size 32K
rm -f "$WORK/huge"
[ "$(objects_under "$STORE")" -eq 0 ] || fail "a refused backup left objects behind"

# a container that escapes the store root creates nothing outside it
for c in ../outside /etc a//b a/../../b; do
    expect_fail 1 "container '$c'" "$CB" backup "$WORK/vol" --container "$c"
done
[ ! -e "$WORK/outside" ] || fail "../outside was created"
[ "$(objects_under "$WORK/store")" -eq 0 ] || fail "objects left after refused containers"

# a store that is not there, a store URL of an unknown kind
expect_fail 10 "store '$WORK/nostore' does not exist" "$CB" --store "$WORK/nostore" list
expect_fail 1 "unknown store type 'ftp'" "$CB" --store ftp:x list
# the tests' in-memory store is not in the shipped library
expect_fail 1 "unknown store type 'mem'" "$CB" --store mem:x list

# unknown backups
expect_fail 10 "backup 01234567-89ab-4def-8123-456789abcdef not found" \
    "$CB" restore 01234567-89ab-4def-8123-456789abcdef "$WORK/t"
expect_fail 10 "backup 01234567-89ab-4def-8123-456789abcdef not found" \
    "$CB" delete 01234567-89ab-4def-8123-456789abcdef
expect_fail 1 "backup id 'xyz' is not a UUID" "$CB" show xyz
[ ! -e "$WORK/t" ] || fail "a failed restore created its target"

# a good backup to damage, and a target that holds precious data
id=$("$CB" -q backup "$WORK/vol" --object-size 1M --compression zlib)
meta=$(meta_of "$id")
dir=$(dirname "$meta")
prefix=$(basename "$meta" _metadata)
cp "$meta" "$WORK/meta.good"
echo precious >"$WORK/target"

restore_must_fail() { # TEXT: the restore fails (damage: 13) saying TEXT; the target is untouched
    expect_fail 13 "$1" "$CB" restore "$id" "$WORK/target" --force
    [ "$(cat "$WORK/target")" = precious ] || fail "a failed restore changed the target"
    cp "$WORK/meta.good" "$meta"
}

printf '{"version": "1.0.0", "objects": [' >"$meta"
restore_must_fail "is not valid JSON"
sed -i 's/"version": "1.0.0"/"version": "1.0.1"/' "$meta"
restore_must_fail "metadata version '1.0.1' is not supported"
sed -i '0,/"offset": 1048576/s//"offset": -1048576/' "$meta"
restore_must_fail "offset that is not a non-negative integer"
sed -i '0,/"offset": 1048576/s//"offset": 1000000/' "$meta"
restore_must_fail "overlap"
sed -i "0,/\"$prefix-00002\"/s//\"volume_other-00002\"/" "$meta"
restore_must_fail "'volume_other-00002' is outside the backup's prefix"

obj="$dir/$prefix-00002"
cp "$obj" "$WORK/obj.good"
# a bit flipped in the middle of a compressed object
python3 -c "
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) // 2] ^= 0x10
open(p, 'wb').write(b)
" "$obj"
expect_fail 13 "$prefix-00002" "$CB" restore "$id" "$WORK/target" --force
cp "$WORK/obj.good" "$obj"
# a truncated object
head -c 1000 "$WORK/obj.good" >"$obj"
expect_fail 13 "$prefix-00002" "$CB" restore "$id" "$WORK/target" --force
# a missing object
rm "$obj"
expect_fail 13 "object '$prefix-00002' is in its metadata but not in container" \
    "$CB" restore "$id" "$WORK/target" --force
# an extra object under the prefix (Cinder refuses it too)
cp "$WORK/obj.good" "$obj"
cp "$WORK/obj.good" "$dir/$prefix-00099"
expect_fail 13 "holds object '$prefix-00099' under the backup's prefix" \
    "$CB" restore "$id" "$WORK/target" --force
rm "$dir/$prefix-00099"
[ "$(cat "$WORK/target")" = precious ] || fail "a failed restore changed the target"

# undamaged again: the restore works and replaces the target
"$CB" -q restore "$id" "$WORK/target" --force
cmp "$WORK/vol" "$WORK/target" || fail "restore after repair differs"
ls "$WORK" | grep -q cinderblock-tmp && fail "a temporary restore file was left behind"

# hostile metadata: parents that loop (A's parent is B, B's parent is A) neither crash nor
# hang list, restore or delete --cascade
a=$("$CB" -q backup "$WORK/vol" --object-size 1M --volume-id 00000000-0000-4000-8000-00000000c1c1)
b=$("$CB" -q backup "$WORK/vol" --incremental --volume-id 00000000-0000-4000-8000-00000000c1c1)
python3 -c "
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d['parent_id'] = sys.argv[2]
json.dump(d, open(p, 'w'), indent=2, sort_keys=True)" "$(meta_of "$a")" "$b"
"$CB" list >"$WORK/list" 2>&1 || fail "list with a parent loop failed: $(cat "$WORK/list")"
grep -q "loops" "$WORK/list" || fail "list does not flag the loop: $(cat "$WORK/list")"
expect_fail 13 "loops" "$CB" restore "$b" "$WORK/loop-target"
expect_fail 1 "depending on it" "$CB" delete "$a"
"$CB" -q delete "$a" --cascade || fail "delete --cascade of a loop failed"
[ -z "$(meta_of "$a")" ] && [ -z "$(meta_of "$b")" ] || fail "the loop's backups were not deleted"

# a block device smaller than the backup (loop devices need root)
if [ "$(id -u)" -eq 0 ] && [ -e /dev/loop-control ] && truncate -s 1M "$WORK/small.img" &&
    loop=$(losetup --show -f "$WORK/small.img" 2>/dev/null); then
    detach() { losetup -d "$loop"; }
    CLEANUPS="$CLEANUPS detach"
    expect_fail 1 "target device '$loop' holds 1048576 bytes; the backup needs" \
        "$CB" restore "$id" "$loop"
    # and one large enough is written in place, bit for bit
    truncate -s 8M "$WORK/big.img"
    loop2=$(losetup --show -f "$WORK/big.img")
    detach2() { losetup -d "$loop2"; }
    CLEANUPS="$CLEANUPS detach2"
    python3 -c "open('$WORK/big.img', 'r+b').write(b'\xaa' * (8 << 20))"
    "$CB" -q restore "$id" "$loop2"
    cmp -n "$(stat -c %s "$WORK/vol")" "$WORK/vol" "$loop2" || fail "device restore differs"
    [ "$(stat -c %s "$WORK/big.img")" -eq $((8 << 20)) ] || fail "the device was truncated"
    # objects larger than a worker's share of the verify buffer (256 MiB / 32 threads =
    # 8 MiB): each is verified in a first pass and written in a second. A damaged one
    # fails in the first pass, so the device keeps every byte it had.
    mkvol "$WORK/vol20" 20 5
    truncate -s 24M "$WORK/dev20.img"
    loop3=$(losetup --show -f "$WORK/dev20.img")
    detach3() { losetup -d "$loop3"; }
    CLEANUPS="$CLEANUPS detach3"
    id20=$("$CB" -q backup "$WORK/vol20" --object-size 10M --compression zstd)
    python3 -c "open('$WORK/dev20.img', 'r+b').write(b'\x5a' * (24 << 20))"
    obj20="$(dirname "$(meta_of "$id20")")/$(basename "$(meta_of "$id20")" _metadata)-00002"
    cp "$obj20" "$WORK/obj20.good"
    python3 -c "
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) // 2] ^= 0x01
open(p, 'wb').write(b)" "$obj20"
    expect_fail 13 "is damaged" "$CB" restore "$id20" "$loop3" --threads 32
    python3 -c "
import sys
d = open(sys.argv[1], 'rb').read()
sys.exit(0 if d[10 << 20:20 << 20] == b'\x5a' * (10 << 20) else 1)" "$loop3" ||
        fail "a damaged object's bytes reached the device"
    cp "$WORK/obj20.good" "$obj20"
    "$CB" -q restore "$id20" "$loop3" --threads 32
    cmp -n "$(stat -c %s "$WORK/vol20")" "$WORK/vol20" "$loop3" || fail "two-pass device restore differs"
else
    echo "note: no loop devices here; block-device targets not tested"
fi
echo ok
