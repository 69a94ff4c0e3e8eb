#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Block devices (loop devices) as source and target. A backup reads a device; a restore
# writes a device through O_DIRECT and overwrites every byte of the volume, zero regions
# included (a device is not a fresh file whose unwritten blocks read as zeros), and leaves
# the rest of a larger device alone (restore --verify reads back only the volume); a
# device too small is refused before anything is written. Needs root and loop devices:
# skipped elsewhere.
. "$(dirname "$0")/functions.sh"

[ "$(id -u)" -eq 0 ] || skip "loop devices need root"
command -v losetup >/dev/null 2>&1 || skip "no losetup"

LOOPS=""
detach_loops() {
    for d in $LOOPS; do losetup -d "$d"; done
}
CLEANUPS="$CLEANUPS detach_loops"

# attach FILE: a loop device over FILE, in $DEV
attach() {
    DEV=$(losetup -f --show "$1" 2>/dev/null) || skip "cannot attach a loop device"
    LOOPS="$LOOPS $DEV"
}

# ff PATH MIB: MIB MiB of 0xff bytes
ff() {
    python3 -c "import sys; open(sys.argv[1], 'wb').write(b'\xff' * (int(sys.argv[2]) << 20))" "$1" "$2"
}

mkvol "$WORK/vol" 24 5
size=$(stat -c %s "$WORK/vol")
cp "$WORK/vol" "$WORK/src.img"
attach "$WORK/src.img"
src=$DEV

# 6 objects for 2 threads: each worker takes whole objects (the zstd ring, the MD5 lanes)
id=$("$CB" -q backup "$src" --compression zstd --object-size 4M --threads 2)
"$CB" show "$id" | grep -q "size: *$size bytes" || fail "show: $("$CB" show "$id")"

ff "$WORK/big.img" 32
attach "$WORK/big.img"
big=$DEV
"$CB" restore "$id" "$big"
cmp -n "$size" "$big" "$WORK/vol" || fail "restored device differs from the volume"
ff "$WORK/ff8" 8
cmp -i "$size:0" -n $((8 << 20)) "$big" "$WORK/ff8" || fail "bytes past the volume were touched"

# an incremental restores onto the same device, again byte for byte
python3 -c "
import sys
with open(sys.argv[1], 'r+b') as f:
    for off in (4096, 5 << 20, (17 << 20) + 12345):
        f.seek(off)
        f.write(b'changed block ' * 300)
" "$src"
cp "$src" "$WORK/vol2"
inc=$("$CB" -q backup "$src" --incremental --compression zstd --object-size 4M --threads 2)
"$CB" restore "$inc" "$big" --verify
cmp -n "$size" "$big" "$WORK/vol2" || fail "restored incremental differs from the volume"
# --verify reads the device back: only the volume's bytes, not the rest of the device
"$CB" restore "$id" "$big" --verify || fail "restore --verify into a larger device failed"
cmp -n "$size" "$big" "$WORK/vol" || fail "restored device differs from the volume"

# too small: refused with both sizes, and the device keeps its bytes
ff "$WORK/small.img" 16
attach "$WORK/small.img"
expect_fail 1 "target device '$DEV' holds 16777216 bytes; the backup needs $size" \
    "$CB" restore "$id" "$DEV"
ff "$WORK/ff16" 16
cmp "$DEV" "$WORK/ff16" || fail "a refused restore wrote to the device"
echo "ok: block devices as source and target"
