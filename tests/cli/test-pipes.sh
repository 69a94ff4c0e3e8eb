#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Pipes: `backup -` from standard input (with and without --size, full and incremental)
# and `restore ID -` to standard output, compared byte for byte; the refusals; a damaged
# object; memory bounded for a 1 GiB stream.
. "$(dirname "$0")/functions.sh"

U=6f0c3e52-7a1b-4c55-9d1e-2b8f3a9c0d11
mkdir -p "$STORE"
# data, random and zero regions (mkvol), then 3 MiB of zeros (whole zero objects), then a
# tail that is not a multiple of the sha block
mkvol "$WORK/disk.img" 12 7
truncate -s +3M "$WORK/disk.img" # a hole: the file path stores zero objects there
printf 'tail of the disk' >>"$WORK/disk.img"
size=$(stat -c %s "$WORK/disk.img")
nobj=$(( (size + 1048575) / 1048576 ))

count_backups() {
    "$CB" --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["backups"]))'
}
# data_bytes ID: the bytes of a backup's data objects in the posix store
data_bytes() {
    find "$STORE" -type f -name "*_backup_$1-0*" -printf '%s\n' | awk '{s+=$1} END {print s+0}'
}

# 1. dd | backup - --size N, then restore - | cmp; several objects, 2 threads
id1=$(dd if="$WORK/disk.img" bs=1M status=none |
    "$CB" -q backup - --size "$size" --volume-id "$U" --object-size 1M --threads 2)
"$CB" show "$id1" | grep -q "objects: *$nobj\$" || fail "backup -: $(cat "$WORK/err" 2>/dev/null)"
"$CB" restore "$id1" - --threads 2 >"$WORK/out1"
cmp "$WORK/out1" "$WORK/disk.img" || fail "restore - of a --size stream differs"
"$CB" restore "$id1" - --threads 3 | cmp - "$WORK/disk.img" || fail "restore - | cmp"

# the same volume as a file: the same objects, the same stored bytes (zeros as zero objects)
idf=$("$CB" -q backup "$WORK/disk.img" --volume-id "$U" --object-size 1M --threads 2)
[ "$(data_bytes "$id1")" -eq "$(data_bytes "$idf")" ] ||
    fail "stream stored $(data_bytes "$id1") bytes, the file $(data_bytes "$idf")"
# ... object for object, the same bytes
for f in $(find "$STORE" -type f -name "*_backup_$idf-0*"); do
    g=$(find "$STORE" -type f -name "*_backup_$id1-${f##*-}")
    cmp "$f" "$g" || fail "object ${f##*-} of the stream backup differs from the file's"
done

# 2. without --size: the size is what came before EOF; /dev/stdin is the same as -
id2=$(cat "$WORK/disk.img" | "$CB" -q backup - --volume-id "$U" --object-size 1M --threads 2)
"$CB" show "$id2" | grep -q "size: *$size bytes" || fail "size of a stream without --size"
"$CB" restore "$id2" /dev/stdout | cmp - "$WORK/disk.img" || fail "no --size: restored differs"
id2b=$("$CB" -q backup /dev/stdin --volume-id "$U" --object-size 1M <"$WORK/disk.img")
"$CB" restore "$id2b" - | cmp - "$WORK/disk.img" || fail "/dev/stdin: restored differs"

# 3. --size larger than the data: exit 3 saying how many bytes came, no backup after
before=$(count_backups)
big=$((size + 1048576))
cat "$WORK/disk.img" >"$WORK/pipe-in"
expect_fail 3 "ended after $size bytes, but --size says $big" \
    sh -c "cat '$WORK/pipe-in' | '$CB' backup - --size $big --volume-id $U --object-size 1M"
[ "$(count_backups)" -eq "$before" ] || fail "a short stream left a backup"
# smaller: more data than --size is an error too
expect_fail 3 "holds more than 4194304 bytes" \
    sh -c "cat '$WORK/pipe-in' | '$CB' backup - --size 4M --volume-id $U --object-size 1M"
[ "$(count_backups)" -eq "$before" ] || fail "a long stream left a backup"
[ "$("$CB" list --incomplete | grep -vc "^BACKUP ID")" -eq 0 ] || fail "a failed stream left leftovers"

# 4. usage: a stream needs --volume-id (or --parent); --size needs a stream
expect_fail 2 "give --volume-id" sh -c "'$CB' backup - <'$WORK/disk.img'"
expect_fail 2 "--size is for a volume read from standard input" \
    "$CB" backup "$WORK/disk.img" --size 1M

# 5. incremental from a pipe after changing a few blocks; --parent gives the volume id
cp "$WORK/disk.img" "$WORK/disk2.img"
python3 - "$WORK/disk2.img" <<'EOF'
import sys
with open(sys.argv[1], 'r+b') as f:
    for off in (5000, 3 * 1048576 + 77, 9 * 1048576 + 40000, 13 * 1048576):
        f.seek(off)
        f.write(b'CHANGED BLOCK %d' % off)
EOF
id3=$(cat "$WORK/disk2.img" | "$CB" -q backup - --parent "$id1" --threads 2)
"$CB" show "$id3" | grep -q "chain of 2" || fail "incremental from a pipe: $("$CB" show "$id3")"
n3=$("$CB" --json show "$id3" | python3 -c 'import json,sys; print(json.load(sys.stdin)["backup"]["object_count"])')
[ "$n3" -ge 4 ] && [ "$n3" -le 8 ] || fail "incremental stored $n3 objects for 4 changed blocks"
"$CB" restore "$id3" - --threads 2 | cmp - "$WORK/disk2.img" || fail "incremental: restored differs"
id4=$(cat "$WORK/disk2.img" | "$CB" -q backup - --incremental --volume-id "$U" --size "$size")
"$CB" restore "$id4" - | cmp - "$WORK/disk2.img" || fail "--incremental --size: restored differs"
# a stream shorter than its parent: found at EOF, nothing kept
before=$(count_backups)
expect_fail 3 "an incremental must be of the same size" \
    sh -c "head -c 5000000 '$WORK/disk2.img' | '$CB' backup - --parent $id1"
[ "$(count_backups)" -eq "$before" ] || fail "a short incremental stream left a backup"

# 6. restore - to a terminal is refused; --verify, --sparse, --json with - too
if command -v script >/dev/null 2>&1; then
    set +e
    script -qec "'$CB' restore $id1 -" /dev/null >"$WORK/tty" 2>&1
    rc=$?
    set -e
    [ "$rc" -eq 2 ] || fail "restore - on a terminal exited $rc: $(cat "$WORK/tty")"
    grep -q "standard output is a terminal" "$WORK/tty" || fail "tty: $(cat "$WORK/tty")"
fi
expect_fail 2 "--verify does not apply to a stream" sh -c "'$CB' restore $id1 - --verify >/dev/null"
expect_fail 2 "--sparse does not apply to a stream" sh -c "'$CB' restore $id1 - --sparse >/dev/null"
expect_fail 2 "--json cannot be given" sh -c "'$CB' --json restore $id1 - >/dev/null"

# 7. a damaged data object: restore - exits 13 naming it
obj=$(find "$STORE" -type f -name "*_backup_$id1-00002" | head -1)
[ -n "$obj" ] || fail "no object 2 of $id1"
python3 - "$obj" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) // 2] ^= 0x40
open(p, 'wb').write(b)
EOF
expect_fail 13 "_backup_$id1-00002" sh -c "'$CB' restore $id1 - --threads 2 >'$WORK/out-bad'"

# 8. a FIFO whose writer stalls: SIGINT still stops the backup at once (exit 130), and a
# stream keeps nothing (it cannot be resumed)
mkfifo "$WORK/fifo"
(head -c 3145728 /dev/urandom; sleep 8) >"$WORK/fifo" 2>/dev/null &
writer=$!
before=$(count_backups)
start=$(date +%s)
set +e
"$CB" backup /dev/fd/3 --volume-id "$U" --object-size 1M 3<"$WORK/fifo" 2>"$WORK/int-err" &
cbpid=$!
sleep 2
kill -INT "$cbpid"
wait "$cbpid"
rc=$?
set -e
took=$(( $(date +%s) - start ))
[ "$rc" -eq 130 ] || fail "SIGINT on a stalled stream: exit $rc: $(cat "$WORK/int-err")"
[ "$took" -lt 7 ] || fail "SIGINT on a stalled stream took $took s"
[ "$(count_backups)" -eq "$before" ] || fail "a cancelled stream left a backup"
[ "$("$CB" list --incomplete | grep -vc "^BACKUP ID")" -eq 0 ] || fail "a cancelled stream kept its objects"
kill "$writer" 2>/dev/null || true

# 9. memory: a 1 GiB stream stays well below 1 GiB of RSS; with no --object-size its objects
#    are 64 MiB (the posix default, 1.86 GiB, would hold gigabytes in memory)
if [ -x /usr/bin/time ] && [ "${CB_SKIP_BIG:-0}" != 1 ]; then
    big=$((1024 * 1048576))
    (for i in 0 1 2 3 4 5 6 7; do
        head -c 67108864 /dev/urandom
        head -c 67108864 /dev/zero
    done) | /usr/bin/time -v -o "$WORK/time" "$CB" -q backup - --volume-id "$U" \
        --compression zstd --threads 2 >"$WORK/bigid"
    rss=$(awk -F: '/Maximum resident set size/ {print $2 + 0}' "$WORK/time")
    echo "1 GiB stream backup: peak RSS $rss KiB"
    [ "$rss" -lt 524288 ] || fail "1 GiB stream backup peaked at $rss KiB (bound: 512 MiB)"
    "$CB" show "$(cat "$WORK/bigid")" | grep -q "size: *$big bytes" || fail "1 GiB stream size"
    "$CB" show "$(cat "$WORK/bigid")" | grep -q "objects: *16\$" ||
        fail "a 1 GiB stream with no --object-size: not 16 objects of 64 MiB: $("$CB" show "$(cat "$WORK/bigid")")"
    n=$(/usr/bin/time -v -o "$WORK/time2" "$CB" restore "$(cat "$WORK/bigid")" - --threads 2 |
        wc -c)
    [ "$n" -eq "$big" ] || fail "restore - of the 1 GiB stream wrote $n bytes"
    rss=$(awk -F: '/Maximum resident set size/ {print $2 + 0}' "$WORK/time2")
    echo "1 GiB restore to a pipe: peak RSS $rss KiB"
    [ "$rss" -lt 524288 ] || fail "1 GiB restore - peaked at $rss KiB (bound: 512 MiB)"
fi
echo ok
