#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Progress: under a terminal (script(1)) a backup shows percent, rate and an ETA;
# --progress forces lines on a pipe (no \r), --no-progress none; SIGUSR1 during a backup
# prints one status line (text on stderr, or a JSON status on stdout) and the backup still
# completes and restores equal; SIGUSR1 to a short command does not kill it.
. "$(dirname "$0")/functions.sh"
command -v script >/dev/null || skip "script(1) from util-linux is not installed"
mkdir -p "$STORE"

# text compresses slowly with bzip2 on one thread: seconds of work
python3 -c "
import sys
with open(sys.argv[1], 'wb') as f:
    for i in range(16):
        f.write((b'line %d of a slow volume to compress\n' % i) * 28000)
" "$WORK/vol"
slow="--compression bz2 --object-size 4M --threads 1"

# ---- a terminal: redrawn in place, with an ETA ----
script -qfc "'$CB' backup '$WORK/vol' $slow" /dev/null >"$WORK/tty" </dev/null ||
    fail "backup under script failed: $(cat "$WORK/tty")"
grep -q 'ETA [0-9]*:[0-9][0-9]' "$WORK/tty" || fail "no ETA on the terminal: $(cat -v "$WORK/tty" | tail -c 600)"
grep -q '%.* of .*/s' "$WORK/tty" || fail "no percent and rate: $(cat -v "$WORK/tty" | tail -c 600)"
tr -cd '\r' <"$WORK/tty" | wc -c | { read -r n; [ "$n" -ge 2 ] || fail "the line was not redrawn"; }
# --no-progress: nothing but the result
script -qfc "'$CB' backup '$WORK/vol' --no-progress --object-size 4M" /dev/null >"$WORK/tty2" </dev/null
! grep -q 'ETA' "$WORK/tty2" || fail "--no-progress showed progress: $(cat -v "$WORK/tty2")"

# ---- not a terminal: nothing, unless --progress (then whole lines, no \r) ----
"$CB" backup "$WORK/vol" --object-size 4M >/dev/null 2>"$WORK/err"
! grep -q 'ETA' "$WORK/err" || fail "progress on a pipe without --progress: $(cat "$WORK/err")"
"$CB" --progress backup "$WORK/vol" $slow >/dev/null 2>"$WORK/err"
grep -q '^backup .*ETA' "$WORK/err" || fail "--progress on a pipe printed no line: $(cat "$WORK/err")"
! grep -q "$(printf '\r')" "$WORK/err" || fail "--progress on a pipe used \\r"

# ---- skipped bytes: an incremental says what was unchanged ----
"$CB" --progress backup "$WORK/vol" --incremental --object-size 4M >/dev/null 2>"$WORK/err"
grep -q 'unchanged' "$WORK/err" || fail "the incremental's progress does not say what it skipped: $(cat "$WORK/err")"

# ---- SIGUSR1: a status line, and the backup goes on ----
usr1() { # usr1 OUT ERR ARGS...: a backup sent SIGUSR1 once it runs; its exit status
    out=$1 err=$2
    shift 2
    # the files of the run before are gone first: the child truncates them only once it
    # runs, and their old 'reading the volume' would send SIGUSR1 before it can take it
    rm -f "$out" "$err"
    "$CB" "$@" >"$out" 2>"$err" &
    pid=$!
    i=0
    # once it reads the volume (-v says so on stderr; --json in its status lines)
    while ! grep -q 'reading the volume' "$out" "$err" 2>/dev/null && [ $i -lt 1200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    kill -USR1 "$pid" 2>/dev/null || fail "the backup ended before SIGUSR1 could be sent"
    set +e
    wait "$pid"
    rc=$?
    set -e
    return $rc
}
rm -rf "$STORE" && mkdir -p "$STORE"
usr1 "$WORK/out" "$WORK/err" -v backup "$WORK/vol" $slow || fail "SIGUSR1: the backup exited $?: $(cat "$WORK/err")"
grep -q '^backup .*%.*ETA' "$WORK/err" || fail "SIGUSR1 printed no status line: $(cat "$WORK/err")"
id=$(cat "$WORK/out")
"$CB" -q restore "$id" "$WORK/restored"
cmp "$WORK/vol" "$WORK/restored" || fail "the backup that got SIGUSR1 does not restore equal"
rm -f "$WORK/restored"
# under --json: the status is a JSON line on stdout, stderr stays empty
rm -rf "$STORE" && mkdir -p "$STORE"
usr1 "$WORK/out" "$WORK/err" --json backup "$WORK/vol" $slow || fail "SIGUSR1 --json: exit $?: $(cat "$WORK/err")"
[ ! -s "$WORK/err" ] || fail "SIGUSR1 --json wrote to stderr: $(cat "$WORK/err")"
python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[-1]["message_type"] == "summary", lines[-1]
st = [l for l in lines[:-1] if l["message_type"] == "status"]
assert st and len(st) == len(lines) - 1, lines
last = st[-1]
assert last["objects_done"] == lines[-1]["backup"]["object_count"], (last, lines[-1])
assert last["bytes_done"] == last["bytes_total"] and last["percent_done"] == 100, last
# at most ~4 a second
el = lines[-1]["elapsed_seconds"]
assert len(st) <= 4 * el + 3, (len(st), el)
' "$WORK/out" || fail "backup --json lines: $(cat "$WORK/out")"

# ---- SIGUSR1 to a short command: not killed ----
# `delete` waiting for another host's lock (--retry-lock) gets SIGUSR1: it still ends with
# 11 (locked) when the wait is over, not killed by the signal (138)
id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["backup"]["id"])' "$WORK/out")
mkdir -p "$STORE/cinderblock/locks"
now=$(date +%s)
printf '{"cinderblock_lock": 1, "id": "00000000000000ff", "exclusive": true, "host": "elsewhere", "pid": 1, "command": "delete x", "created": %d, "expires": %d}' \
    "$now" $((now + 3600)) >"$STORE/cinderblock/locks/x-00000000000000ff"
"$CB" --retry-lock 3s delete "$id" >/dev/null 2>"$WORK/err" &
pid=$!
sleep 1
kill -USR1 "$pid"
set +e
wait "$pid"
rc=$?
set -e
[ "$rc" -eq 11 ] || fail "delete sent SIGUSR1 while waiting for a lock exited $rc, expected 11"
# `check` installs no signal handler of its own (only cli_parse's): it waits on a login to a
# loopback server that accepts and never answers, gets SIGUSR1, and still ends with its own
# failure (1) when --timeout gives up, not 138
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
print(s.getsockname()[1], flush=True)
held, end = [], time.time() + 15
while time.time() < end:
    s.settimeout(0.5)
    try:
        held.append(s.accept())
    except OSError:
        pass
' >"$WORK/port" &
silent=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$WORK/port" ] && break; sleep 0.2; done
port=$(cat "$WORK/port")
ST_AUTH="http://127.0.0.1:$port/auth/v1.0" ST_USER=a:b ST_KEY=k \
    "$CB" --timeout 3 --retries 1 --store swift://usr1 check >/dev/null 2>"$WORK/err" &
pid=$!
sleep 1
kill -USR1 "$pid"
set +e
wait "$pid"
rc=$?
set -e
kill "$silent" 2>/dev/null || true
[ "$rc" -eq 1 ] || fail "check sent SIGUSR1 while waiting for a server exited $rc, expected 1: $(cat "$WORK/err")"
grep -Eq 'too slow|no data moved for 3 s' "$WORK/err" || fail "check did not end by its timeout: $(cat "$WORK/err")"
echo "progress: ETA on a terminal, lines with --progress, SIGUSR1 status (text and JSON)"
