#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The plugin serves the volume at every point of a chain, with every compression: nbdcopy of
# the full, the middle and the last incremental equals that day's volume; nbdinfo --map
# shows exactly the all-zero sha blocks as holes; four nbdcopy processes at once on one
# server, and one nbdcopy over four connections, copy the right bytes.
. "$(dirname "$0")/functions.sh"

vol="$WORK/vol.img"
mkvol "$vol" 6 18
cp "$vol" "$WORK/day0"
# day 1 and 2: runs that start and end inside sha blocks, one over the other
python3 -c "import random; open('$WORK/r1','wb').write(random.Random(1).randbytes(300000))"
python3 -c "import random; open('$WORK/r2','wb').write(random.Random(2).randbytes(70001))"
dd if="$WORK/r1" of="$vol" bs=1 seek=1000003 conv=notrunc status=none
cp "$vol" "$WORK/day1"
dd if="$WORK/r2" of="$vol" bs=1 seek=1200007 conv=notrunc status=none
dd if="$WORK/r2" of="$vol" bs=1 seek=5000000 conv=notrunc status=none
cp "$vol" "$WORK/day2"

for comp in none zlib bz2 zstd; do
    cp "$WORK/day0" "$vol"
    full=$(backup_id "$vol" --compression "$comp" --object-size 1M --sha-block 64K)
    cp "$WORK/day1" "$vol"
    mid=$(backup_id "$vol" --compression "$comp" --object-size 1M --sha-block 64K --parent "$full")
    cp "$WORK/day2" "$vol"
    last=$(backup_id "$vol" --compression "$comp" --object-size 1M --sha-block 64K --parent "$mid")
    day=0
    for id in "$full" "$mid" "$last"; do
        rm -f "$WORK/out"
        serve "$id" 'nbdcopy "$uri" '"$WORK/out" ||
            fail "$comp day $day: nbdcopy failed: $(cat "$WORK/nbdkit.err")"
        cmp -s "$WORK/out" "$WORK/day$day" || fail "$comp day $day: nbdcopy copied other bytes"
        day=$((day + 1))
    done
done

# the holes: every all-zero sha block (64 KiB) of the last day, and nothing else
holes_of "$WORK/day2" 65536 >"$WORK/want-holes"
[ -s "$WORK/want-holes" ] || fail "the test volume has no zero blocks"
serve "$last" 'nbdinfo --map "$uri"' >"$WORK/map" || fail "nbdinfo --map: $(cat "$WORK/nbdkit.err")"
awk '$3 == 3 { print $1, $2 }' "$WORK/map" >"$WORK/got-holes"
cmp -s "$WORK/want-holes" "$WORK/got-holes" ||
    fail "nbdinfo --map holes differ: want $(cat "$WORK/want-holes"), map $(cat "$WORK/map")"
awk '$3 != 3 && $3 != 0 { bad = 1 } END { exit bad }' "$WORK/map" || fail "odd extents: $(cat "$WORK/map")"

# four nbdcopy at once against one server, and one over four connections (multi-conn)
sock="$WORK/nbd.sock"
nbdkit -U "$sock" -P "$WORK/nbdkit.pid" -r "$PLUGIN" store="$STORE" backup="$last" 2>"$WORK/nbdkit.err" ||
    fail "nbdkit did not start: $(cat "$WORK/nbdkit.err")"
stop_nbdkit() { kill "$(cat "$WORK/nbdkit.pid")" 2>/dev/null; }
CLEANUPS="$CLEANUPS stop_nbdkit"
uri="nbd+unix:///?socket=$sock"
nbdinfo --can multi-conn "$uri" || fail "the server does not offer multi-conn"
nbdinfo --is read-only "$uri" || fail "the server is not read-only"
for i in 1 2 3 4; do
    nbdcopy --connections=1 "$uri" "$WORK/par$i" &
done
wait
for i in 1 2 3 4; do
    cmp -s "$WORK/par$i" "$WORK/day2" || fail "parallel nbdcopy $i copied other bytes"
done
nbdcopy --connections=4 --requests=16 "$uri" "$WORK/multi" || fail "nbdcopy --connections=4"
cmp -s "$WORK/multi" "$WORK/day2" || fail "nbdcopy over 4 connections copied other bytes"
echo "ok"
