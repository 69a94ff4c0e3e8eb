#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# NBD as a backup source: qcow2 images made with qemu-img, written with qemu-io, their dirty
# bitmaps added, disabled and cleared with `qemu-img bitmap`, exported by a real qemu-nbd on
# a unix socket in the test's directory. Every backup is restored and compared with the
# image (qemu-img convert to raw); --json's bytes_read says what the backup read.
. "$(dirname "$0")/../cli/functions.sh"

for t in qemu-img qemu-io qemu-nbd; do
    command -v $t >/dev/null || skip "$t is missing (scripts/deps.sh nbd: qemu-utils)"
done
IMG=$WORK/disk.qcow2
SOCK=$WORK/nbd.sock
URI="nbd+unix:///?socket=$SOCK"
VID=5e1f0c3a-7d2b-4c8e-9a61-0b3d2f4e6a17
NBD_PID=""

stop_nbd() {
    [ -z "$NBD_PID" ] || { kill "$NBD_PID" 2>/dev/null || true; wait "$NBD_PID" 2>/dev/null || true; }
    NBD_PID=""
    rm -f "$SOCK"
}
CLEANUPS="stop_nbd"

# serve [QEMU-NBD OPTIONS]: export $IMG read-only (the image is written only between exports)
serve() {
    stop_nbd
    qemu-nbd -r -t -f qcow2 -k "$SOCK" "$@" "$IMG" &
    NBD_PID=$!
    for _ in $(seq 100); do [ -S "$SOCK" ] && return 0; sleep 0.05; done
    fail "qemu-nbd did not start"
}

# qio CMD...: qemu-io commands on the image (not exported meanwhile)
qio() {
    stop_nbd
    args=""
    for c in "$@"; do args="$args -c '$c'"; done
    eval qemu-io -f qcow2 $args "'$IMG'" >/dev/null
}

# json_of FILE KEY: a field of the summary (the last line of --json)
json_of() {
    tail -1 "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); k=sys.argv[1].split("."); v=d
for p in k: v=v[p]
print(v)' "$2"
}

# restores_as ID: the backup restores to exactly what the image holds now
restores_as() {
    rm -f "$WORK/out.raw" "$WORK/ref.raw"
    "$CB" restore "$1" "$WORK/out.raw" >/dev/null
    qemu-img convert -f qcow2 -O raw "$IMG" "$WORK/ref.raw"
    cmp "$WORK/out.raw" "$WORK/ref.raw" || fail "backup $1 does not restore as the image"
}

count_backups() {
    find "$STORE" -name '*_metadata' | wc -l
}

# nothing_left WHAT: a failed backup left no object and no record of a run in progress
nothing_left() {
    "$CB" --json list --incomplete >"$WORK/inc.json"
    python3 -c 'import json,sys; sys.exit(len(json.load(open(sys.argv[1]))["incomplete"]))' \
        "$WORK/inc.json" || fail "$1 left something behind: $(cat "$WORK/inc.json")"
}

K=1024
M=$((1024 * 1024))
# a 64 MiB disk holding 12 MiB: 8 MiB at 0, 4 MiB at 40 MiB; the rest was never written
qemu-img create -q -f qcow2 "$IMG" 64M
qio "write -P 0x11 0 8M" "write -P 0x5a 40M 4M"
# a bitmap of the sha block's granularity: what it marks is what the backup reads
qemu-img bitmap --add -g 32768 "$IMG" nightly

# ---- a full backup: the holes (base:allocation) are not read
serve -e 4 -B nightly
"$CB" --json backup --volume-id "$VID" "$URI" >"$WORK/full.json"
FULL=$(json_of "$WORK/full.json" backup.id)
read_full=$(json_of "$WORK/full.json" bytes_read)
[ "$read_full" -ge $((12 * M)) ] && [ "$read_full" -le $((13 * M)) ] ||
    fail "the full backup read $read_full bytes of a volume holding 12 MiB (holes read?)"
[ "$(json_of "$WORK/full.json" backup.size)" -eq $((64 * M)) ] || fail "wrong size"
restores_as "$FULL"

# ---- a bitmap asked of a server that does not export it: refused, nothing committed
before=$(count_backups)
expect_fail 3 "does not offer dirty bitmap 'weekly'" \
    "$CB" backup --incremental --dirty-bitmap weekly --volume-id "$VID" "$URI"
[ "$(count_backups)" -eq "$before" ] || fail "a refused backup committed something"
nothing_left "a backup refused for its bitmap"
serve -e 4 # no -B: the export has no bitmap at all
expect_fail 3 "qemu-nbd -B nightly" \
    "$CB" backup --incremental --dirty-bitmap nightly --volume-id "$VID" "$URI"

# ---- an incremental with the bitmap: only the dirty blocks are read
# 3 whole sha blocks at 1 MiB, 4 KiB in the middle of one at 20 MiB (a block never written
# before: a hole), and a rewrite at 40 MiB of the bytes it held already (dirty, unchanged)
qio "write -P 0x22 1M 96k" "write -P 0x33 $((20 * M + 8 * K)) 4k" "write -P 0x5a 40M 32k"
serve -e 4 -B nightly
"$CB" --json backup --incremental --dirty-bitmap nightly --volume-id "$VID" "$URI" \
    >"$WORK/inc1.json"
INC1=$(json_of "$WORK/inc1.json" backup.id)
[ "$(json_of "$WORK/inc1.json" backup.parent_id)" = "$FULL" ] || fail "inc1's parent"
read1=$(json_of "$WORK/inc1.json" bytes_read)
[ "$read1" -eq $((5 * 32 * K)) ] ||
    fail "the incremental read $read1 bytes; the bitmap marks 5 sha blocks (163840 bytes)"
[ "$(json_of "$WORK/inc1.json" backup.data_bytes)" -eq $((4 * 32 * K)) ] ||
    fail "the incremental stored $(json_of "$WORK/inc1.json" backup.data_bytes) bytes, not the 4 changed blocks"
restores_as "$INC1"

# the same incremental without the bitmap reads all the data, and stores the same
"$CB" --json backup --incremental --volume-id "$VID" "$URI" >"$WORK/nobm.json"
read_all=$(json_of "$WORK/nobm.json" bytes_read)
[ "$read_all" -gt $((12 * M)) ] || fail "without the bitmap only $read_all bytes were read"
[ "$(json_of "$WORK/nobm.json" backup.data_bytes)" -eq 0 ] || fail "nothing changed since inc1"
"$CB" delete "$(json_of "$WORK/nobm.json" backup.id)" >/dev/null

# ---- the bitmap cleared when the parent was taken (the recipe): the next night reads only
# what changed since
stop_nbd
qemu-img bitmap --clear "$IMG" nightly
qio "write -P 0x44 30M 64k"
serve -e 4 -B nightly
"$CB" --json backup --parent "$INC1" --dirty-bitmap nightly --volume-id "$VID" "$URI" \
    >"$WORK/inc2.json"
INC2=$(json_of "$WORK/inc2.json" backup.id)
[ "$(json_of "$WORK/inc2.json" bytes_read)" -eq $((64 * K)) ] ||
    fail "inc2 read $(json_of "$WORK/inc2.json" bytes_read) bytes, not the 64 KiB marked"
restores_as "$INC2"

# ---- a wrong bitmap: it missed a write (disabled meanwhile). Without a check the backup
# would not hold the write; --verify-unchanged 100 reads every clean block and refuses
stop_nbd
qemu-img bitmap --clear "$IMG" nightly
qemu-img bitmap --disable "$IMG" nightly
qio "write -P 0x66 $((50 * M)) 32k"
serve -e 4 -B nightly
before=$(count_backups)
expect_fail 3 "says the block at offset $((50 * M)) is unchanged since backup $INC2" \
    "$CB" backup --parent "$INC2" --dirty-bitmap nightly --verify-unchanged 100 \
    --volume-id "$VID" "$URI"
grep -qF "Nothing was committed" "$WORK/err" || fail "the refusal does not say nothing was committed"
[ "$(count_backups)" -eq "$before" ] || fail "the refused backup committed something"
nothing_left "a backup refused for a wrong bitmap"
# a sample reads about that share of the clean blocks: here ~390 blocks hold data (the
# holes are zeros, known without reading), so 20 % is ~2.5 MiB
"$CB" --json backup --parent "$INC2" --dirty-bitmap nightly --verify-unchanged 20 \
    --volume-id "$VID" "$URI" >"$WORK/s.json" 2>"$WORK/s.err" || true
# (it may catch the wrong block or not: the share it read is what is checked)
if [ -s "$WORK/s.json" ] && grep -q '"summary"' "$WORK/s.json"; then
    sread=$(json_of "$WORK/s.json" bytes_read)
    "$CB" delete "$(json_of "$WORK/s.json" backup.id)" >/dev/null
else
    grep -qF "is unchanged since backup" "$WORK/s.err" || fail "sample run: $(cat "$WORK/s.err")"
    sread=-1
fi
[ "$sread" -eq -1 ] || { [ "$sread" -ge $((1 * M)) ] && [ "$sread" -le $((45 * M / 10)) ]; } ||
    fail "--verify-unchanged 20 read $sread bytes of ~12.2 MiB of clean data blocks"
# without the bitmap the same incremental sees the write
"$CB" --json backup --parent "$INC2" --volume-id "$VID" "$URI" >"$WORK/inc3.json"
restores_as "$(json_of "$WORK/inc3.json" backup.id)"

# ---- a server that takes one client (qemu-nbd's default --shared 1): one connection
serve
start=$(date +%s)
"$CB" --json backup --volume-id "$VID" --nbd-connections 4 "$URI" >"$WORK/one.json"
[ $(($(date +%s) - start)) -le 20 ] || fail "a one-client server made the backup wait"
restores_as "$(json_of "$WORK/one.json" backup.id)"

# ---- nbdkit (another server) serving a raw file: parallel connections, logged by its log
# filter, and the file's holes (the file plugin's extents) not read
if command -v nbdkit >/dev/null; then
    KSOCK=$WORK/nbdkit.sock
    truncate -s 96M "$WORK/raw.img"
    python3 -c 'import os,sys
with open(sys.argv[1], "r+b") as f:
    for at in (0, 40, 80):
        f.seek(at << 20); f.write(os.urandom(8 << 20))' "$WORK/raw.img"
    nbdkit -f -U "$KSOCK" --filter=log file "$WORK/raw.img" logfile="$WORK/nbdkit.log" &
    KPID=$!
    for _ in $(seq 100); do [ -S "$KSOCK" ] && break; sleep 0.05; done
    "$CB" --json backup --volume-id "$VID" --threads 4 --nbd-connections 4 --object-size 8M \
        "nbd+unix:///?socket=$KSOCK" >"$WORK/k.json"
    kill "$KPID"
    wait "$KPID" 2>/dev/null || true
    kread=$(json_of "$WORK/k.json" bytes_read) # (the compressibility samples read a little)
    [ "$kread" -ge $((24 * M)) ] && [ "$kread" -lt $((25 * M)) ] ||
        fail "from nbdkit: $kread bytes read of a file holding 24 MiB"
    [ "$(grep -c ' Connect ' "$WORK/nbdkit.log")" -eq 4 ] ||
        fail "$(grep -c ' Connect ' "$WORK/nbdkit.log") connections to nbdkit, not 4"
    readers=$(grep ' Read ' "$WORK/nbdkit.log" | sed 's/.*connection=\([0-9]*\) .*/\1/' | sort -u | wc -l)
    [ "$readers" -ge 2 ] || fail "only $readers of nbdkit's connections were read from"
    "$CB" restore "$(json_of "$WORK/k.json" backup.id)" "$WORK/k.out" >/dev/null
    cmp "$WORK/k.out" "$WORK/raw.img" || fail "the backup from nbdkit does not restore as the file"
    # a server whose reads fail (nbdkit's error filter): exit 3 naming the export and the
    # offset, nothing committed, nothing left behind
    rm -f "$KSOCK"
    nbdkit -f -U "$KSOCK" --filter=error file "$WORK/raw.img" error=EIO error-pread-rate=1 &
    KPID=$!
    for _ in $(seq 100); do [ -S "$KSOCK" ] && break; sleep 0.05; done
    before=$(count_backups)
    expect_fail 3 "reading NBD volume 'nbd+unix:///?socket=$KSOCK' at offset" \
        "$CB" backup --volume-id "$VID" --object-size 8M "nbd+unix:///?socket=$KSOCK"
    kill "$KPID"
    wait "$KPID" 2>/dev/null || true
    [ "$(count_backups)" -eq "$before" ] || fail "a backup whose reads failed committed"
    nothing_left "a backup whose reads failed"
fi

# ---- the options' errors
expect_fail 1 "--dirty-bitmap nightly needs --incremental or --parent" \
    "$CB" backup --dirty-bitmap nightly --volume-id "$VID" "$URI"
"$CB" restore "$FULL" "$WORK/plain.img" >/dev/null
expect_fail 1 "--dirty-bitmap needs an NBD volume" \
    "$CB" backup --incremental --dirty-bitmap nightly "$WORK/plain.img"
expect_fail 1 "--verify-unchanged checks what a dirty bitmap says" \
    "$CB" backup --incremental --verify-unchanged 5 --volume-id "$VID" "$URI"
expect_fail 2 "--verify-unchanged: '101' is not a percentage" \
    "$CB" backup --incremental --dirty-bitmap x --verify-unchanged 101 "$URI"
expect_fail 2 "--nbd-connections: '0' is not a number from 1 to 16" \
    "$CB" backup --nbd-connections 0 "$URI"
stop_nbd
expect_fail 3 "cannot connect to NBD volume 'nbd+unix:///?socket=$SOCK'" \
    "$CB" backup --volume-id "$VID" "$URI"
echo "PASS"
