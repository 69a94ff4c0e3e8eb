#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A damaged object (bytes flipped in its file on the posix store) is EIO for the reads of
# its range only, logged with its name; the rest of the volume still copies, right. Stored
# raw ("none"), only the hashes can see the damage: a plugin that skips them fails here.
. "$(dirname "$0")/functions.sh"

vol="$WORK/vol.img"
python3 -c "import random; open('$vol','wb').write(random.Random(5).randbytes(4 << 20))"
M=1048576
for comp in none zstd; do
    id=$(backup_id "$vol" --compression "$comp" --object-size 1M --sha-block 64K)
    obj=$(find "$STORE" -type f -name "*_backup_${id}-00003")
    [ -f "$obj" ] || fail "no object 3 of $id in the store"
    python3 - "$obj" <<'PY'
import sys
p = sys.argv[1]
d = bytearray(open(p, 'rb').read())
d[len(d) // 2] ^= 0x5a
d[len(d) // 2 + 1] ^= 0x5a
open(p, 'wb').write(d)
PY
    name=$(basename "$obj")
    # the damaged object's range (volume bytes 2 MiB to 3 MiB): EIO, and nbdkit names it
    set +e
    nbdkit -U - --filter=offset "$PLUGIN" offset=$((2 * M)) range=$M store="$STORE" \
        backup="$id" --run 'nbdcopy "$uri" '"$WORK/bad" 2>"$WORK/nbdkit.err"
    rc=$?
    set -e
    [ "$rc" -ne 0 ] || fail "$comp: nbdcopy of the damaged object's range succeeded"
    grep -q "Input/output error" "$WORK/nbdkit.err" || fail "$comp: no EIO: $(cat "$WORK/nbdkit.err")"
    grep -qF "$name" "$WORK/nbdkit.err" || fail "$comp: the error does not name $name: $(cat "$WORK/nbdkit.err")"
    grep -qF "$id" "$WORK/nbdkit.err" || fail "$comp: the error does not name backup $id"
    # the objects before and after it: right
    for o in 0 1 3; do
        nbdkit -U - --filter=offset "$PLUGIN" offset=$((o * M)) range=$M store="$STORE" \
            backup="$id" --run 'nbdcopy "$uri" '"$WORK/good" 2>"$WORK/nbdkit.err" ||
            fail "$comp: nbdcopy of object $((o + 1))'s range failed: $(cat "$WORK/nbdkit.err")"
        dd if="$vol" of="$WORK/want" bs=$M skip=$o count=1 status=none
        cmp -s "$WORK/good" "$WORK/want" || fail "$comp: object $((o + 1))'s range copied other bytes"
    done
    # the whole volume: fails (never wrong bytes)
    set +e
    serve "$id" 'nbdcopy "$uri" '"$WORK/whole"
    rc=$?
    set -e
    [ "$rc" -ne 0 ] || fail "$comp: nbdcopy of the damaged volume succeeded"
done
echo "ok"
