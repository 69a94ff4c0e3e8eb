#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# SIGINT or SIGTERM during a backup: exit 130, and nothing that looks like a backup (no
# object at all) remains. Progress goes to stderr only when it is a terminal.
. "$(dirname "$0")/functions.sh"

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
    # wait until it has written at least one object, then interrupt
    i=0
    while [ "$(objects_under "$STORE")" -lt 1 ] && [ $i -lt 300 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    [ "$(objects_under "$STORE")" -ge 1 ] || fail "the backup wrote nothing to interrupt"
    kill -s "$sig" "$pid"
    set +e
    wait "$pid"
    rc=$?
    set -e
    [ "$rc" -eq 130 ] || fail "SIG$sig: exit $rc, expected 130; $(cat "$WORK/err")"
    grep -q "cancelled" "$WORK/err" || fail "SIG$sig: no message: $(cat "$WORK/err")"
    [ "$(objects_under "$STORE")" -eq 0 ] || fail "SIG$sig left objects: $(find "$STORE" -type f)"
    [ ! -s "$WORK/out" ] || fail "SIG$sig: a backup id was printed"
    n=$("$CB" --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["backups"]))')
    [ "$n" -eq 0 ] || fail "SIG$sig: list shows $n backups"
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
