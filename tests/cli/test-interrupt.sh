#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# SIGINT or SIGTERM during a backup: exit 130, nothing that looks like a backup, and what it
# stored kept for `backup --resume` (which completes it) or `cleanup` (which removes it).
# Progress goes to stderr only when it is a terminal.
. "$(dirname "$0")/functions.sh"

data_objects() { # the backups' objects in the store (not its locks and records)
    find "$STORE" -type f -name 'volume_*' 2>/dev/null | wc -l
}

# text compresses slowly with bzip2: seconds of work to interrupt
python3 -c "
import sys
with open(sys.argv[1], 'wb') as f:
    for i in range(64):
        f.write((b'line %d of a slow volume to compress\n' % i) * 28000)
" "$WORK/vol"

for sig in INT TERM; do
    "$CB" backup "$WORK/vol" --compression bz2 --object-size 4M >"$WORK/out" 2>"$WORK/err" &
    pid=$!
    # wait until it has written at least one object (a minute at most: a loaded machine), then
    # interrupt
    i=0
    while [ "$(data_objects)" -lt 1 ] && [ $i -lt 1200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    [ "$(data_objects)" -ge 1 ] || fail "the backup wrote nothing to interrupt"
    kill -s "$sig" "$pid"
    set +e
    wait "$pid"
    rc=$?
    set -e
    [ "$rc" -eq 130 ] || fail "SIG$sig: exit $rc, expected 130; $(cat "$WORK/err")"
    grep -q "cancelled; what it stored is kept" "$WORK/err" || fail "SIG$sig: no message: $(cat "$WORK/err")"
    [ ! -s "$WORK/out" ] || fail "SIG$sig: a backup id was printed"
    [ -z "$(find "$STORE" -name '*_metadata')" ] || fail "SIG$sig left a _metadata"
    n=$("$CB" --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["backups"]))')
    [ "$n" -eq 0 ] || fail "SIG$sig: list shows $n backups"
    # what it stored is an interrupted backup, resumable
    "$CB" --json list --incomplete >"$WORK/inc"
    id=$(python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["incomplete"]
assert len(v) == 1 and v[0]["resumable"] and not v[0]["active"] and v[0]["objects"] >= 1, v
print(v[0]["backup_id"])' "$WORK/inc") || fail "SIG$sig: list --incomplete: $(cat "$WORK/inc")"
    if [ "$sig" = INT ]; then
        # resumed: the objects already stored are kept, the backup restores bit-exact
        before=$(data_objects)
        "$CB" -q backup "$WORK/vol" --resume "$id" >"$WORK/out"
        [ "$(cat "$WORK/out")" = "$id" ] || fail "resume printed $(cat "$WORK/out")"
        "$CB" -q restore "$id" "$WORK/restored"
        cmp "$WORK/vol" "$WORK/restored" || fail "the resumed backup does not restore the volume"
        [ -z "$("$CB" --json list --incomplete | grep backup_id)" ] || fail "leftovers after resume"
        expect_fail 1 "is complete: there is nothing to resume" "$CB" backup "$WORK/vol" --resume "$id"
        "$CB" -q delete "$id"
        echo "resume after SIGINT: $before objects were there, the backup restores bit-exact"
    else
        # or removed by cleanup: nothing of it is left
        "$CB" -q cleanup --older-than 0
        [ "$(data_objects)" -eq 0 ] || fail "cleanup left objects: $(find "$STORE" -type f)"
        [ -z "$(find "$STORE/cinderblock" -type f 2>/dev/null)" ] ||
            fail "cleanup left records or locks: $(find "$STORE/cinderblock" -type f)"
    fi
done

# no progress line (carriage returns) when stderr is not a terminal
"$CB" backup "$WORK/vol" --compression zstd 2>"$WORK/err" >/dev/null
if grep -q "$(printf '\r')" "$WORK/err"; then fail "progress written to a non-terminal"; fi
# and one when it is (script(1) gives the command a terminal)
if command -v script >/dev/null 2>&1; then
    script -qec "$CB backup $WORK/vol --compression zstd" /dev/null >"$WORK/tty" 2>&1
    grep -q "backup .*%" "$WORK/tty" || fail "no progress on a terminal: $(cat "$WORK/tty")"
fi
echo ok
