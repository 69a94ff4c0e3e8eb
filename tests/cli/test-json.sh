#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The scripting contract (docs/json.md): every command under --json, on a posix store, in
# success and in failure; every line it prints is validated against docs/schema with
# python3-jsonschema. Success: JSON on stdout only, nothing on stderr. Failure: nothing on
# stdout, one error object on stderr whose code is the exit status.
. "$(dirname "$0")/functions.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
SCHEMA="$SRC/docs/schema/cinderblock.schema.json"
VALIDATE="$SRC/tests/json/validate.py"
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || fail "python3-jsonschema is missing (scripts/deps.sh build)"
mkdir -p "$STORE"
n_checked=0

# ok KIND [--lines] -- CMD...: exit 0, stderr empty, stdout valid; stdout kept in $WORK/out
ok() {
    kind=$1
    shift
    lines=""
    if [ "$1" = --lines ]; then
        lines=--lines
        shift
    fi
    [ "$1" = -- ] && shift
    set +e
    "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    set -e
    [ "$rc" -eq 0 ] || fail "'$*' exited $rc: $(cat "$WORK/err")"
    [ ! -s "$WORK/err" ] || fail "'$*' wrote to stderr under --json: $(cat "$WORK/err")"
    /usr/bin/python3 "$VALIDATE" "$SCHEMA" "$kind" "$WORK/out" $lines >/dev/null ||
        fail "'$*': output is not a valid $kind"
    n_checked=$((n_checked + 1))
}

# err CODE -- CMD...: exit CODE, nothing on stdout, one valid error object with that code
err() {
    code=$1
    shift
    [ "$1" = -- ] && shift
    set +e
    "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    set -e
    [ "$rc" -eq "$code" ] || fail "'$*' exited $rc, expected $code: $(cat "$WORK/err")"
    [ ! -s "$WORK/out" ] || fail "'$*' failed but wrote to stdout: $(cat "$WORK/out")"
    /usr/bin/python3 "$VALIDATE" "$SCHEMA" error "$WORK/err" >/dev/null ||
        fail "'$*': stderr is not one error object: $(cat "$WORK/err")"
    got=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["code"])' "$WORK/err")
    [ "$got" -eq "$code" ] || fail "'$*': error code $got, exit status $code"
    n_checked=$((n_checked + 1))
}

# field EXPR: evaluate EXPR with v = the last line of $WORK/out
field() {
    /usr/bin/python3 -c "import json,sys; v = json.loads(open(sys.argv[1]).read().splitlines()[-1]); print($1)" "$WORK/out"
}

mkvol "$WORK/vol" 6 1

# ---- backup: status lines, then the summary ----
ok backup_summary --lines -- "$CB" --json backup "$WORK/vol" --object-size 1M --name json-full
full=$(field 'v["backup"]["id"]')
[ "$(field 'v["backup"]["chain_length"]')" = 1 ] || fail "full backup: chain_length $(field 'v["backup"]["chain_length"]')"
[ "$(field 'v["backup"]["stored_bytes"] > 0')" = True ] || fail "backup: stored_bytes $(cat "$WORK/out")"
grep -q '"message_type":"status"' "$WORK/out" || fail "backup --json printed no status line"
printf 'changed' | dd of="$WORK/vol" bs=1 seek=4096 conv=notrunc 2>/dev/null
ok backup_summary --lines -- "$CB" --json backup "$WORK/vol" --incremental --object-size 1M
incr=$(field 'v["backup"]["id"]')
chain_b=$(field 'v["backup"]["chain_length"]')
[ "$(field 'v["bytes_unchanged"] > 0 and v["backup"]["incremental"]')" = True ] ||
    fail "incremental: $(cat "$WORK/out")"
ok backup_summary --lines -- "$CB" --json backup "$WORK/vol" --incremental --object-size 1M
incr2=$(field 'v["backup"]["id"]')
err 2 -- "$CB" --json backup
err 2 -- "$CB" backup "$WORK/vol" --bogus-option --json
err 2 -- "$CB" --json backup "$WORK/vol" --threads 0
err 1 -- "$CB" --json backup "$WORK/no-such-volume"

# ---- show: the same backup object; chain_length as backup said ----
ok show -- "$CB" --json show "$incr"
[ "$(field 'v["backup"]["chain_length"]')" = "$chain_b" ] ||
    fail "show says chain_length $(field 'v["backup"]["chain_length"]'), backup said $chain_b"
[ "$chain_b" = 2 ] || fail "the first incremental has chain_length $chain_b"
err 10 -- "$CB" --json show 00000000-0000-4000-8000-000000000000
err 2 -- "$CB" --json show

# ---- list ----
ok list -- "$CB" --json list
[ "$(field 'len(v["backups"])')" = 3 ] || fail "list: $(cat "$WORK/out")"
[ "$(field 'all(b["stored_bytes"] > 0 for b in v["backups"])')" = True ] ||
    fail "list: stored_bytes must be what the store lists: $(cat "$WORK/out")"
ok list -- "$CB" --json list --volume-id "$(field 'v["backups"][0]["volume_id"]')"
ok list_incomplete -- "$CB" --json list --incomplete
err 2 -- "$CB" --json list extra-argument

# ---- restore: status lines, then the summary ----
ok restore_summary --lines -- "$CB" --json restore "$incr2" "$WORK/restored" --verify
cmp "$WORK/vol" "$WORK/restored" || fail "restore --json: the restored volume differs"
err 10 -- "$CB" --json restore 00000000-0000-4000-8000-000000000000 "$WORK/r2"
err 2 -- "$CB" --json restore "$incr2"

# ---- verify ----
ok verify_summary --lines -- "$CB" --json verify --all --read-data
[ "$(field 'v["verify"]["ok"]')" = True ] || fail "verify: $(cat "$WORK/out")"
err 2 -- "$CB" --json verify

# ---- records ----
ok export_record -- "$CB" --json export-record "$full"
service=$(field 'v["backup_service"]')
url=$(field 'v["backup_url"]')
ok import_record -- "$CB" --json import-record "$service" "$url"
err 1 -- "$CB" --json import-record "$service" not-base64
err 2 -- "$CB" --json export-record

# ---- check, unlock, cleanup ----
ok check -- "$CB" --json check
err 1 -- env -u CINDERBLOCK_STORE "$CB" --json check
ok unlock -- "$CB" --json unlock
ok cleanup -- "$CB" --json cleanup --dry-run
[ "$(field 'v["dry_run"]')" = True ] || fail "cleanup --dry-run: $(cat "$WORK/out")"
ok cleanup -- "$CB" --json cleanup --older-than 0
err 2 -- "$CB" --json cleanup --older-than soon
ok prune -- "$CB" --json prune --keep-last 1 --dry-run
[ "$(field 'v["dry_run"]')" = True ] || fail "prune --dry-run: $(cat "$WORK/out")"
[ "$(field 'len(v["plan"])')" -ge 1 ] || fail "prune --dry-run: an empty plan: $(cat "$WORK/out")"
err 2 -- "$CB" --json prune
ok prune -- "$CB" --json prune --keep-last 1 --consolidate --dry-run
[ "$(field 'v["plan"][0]["action"]')" = consolidate ] ||
    fail "prune --consolidate --dry-run: the newest is not to be consolidated: $(cat "$WORK/out")"

# ---- consolidate ----
ok consolidate_summary --lines -- "$CB" --json consolidate "$incr2"
[ "$(field 'v["backup"]["parent_id"]')" = None ] || fail "consolidate: not a full: $(cat "$WORK/out")"
[ "$(field 'v["deleted"]')" = "[]" ] || fail "consolidate: deleted something: $(cat "$WORK/out")"
"$CB" -q delete "$(field 'v["backup"]["id"]')" || fail "the synthetic full could not be deleted"
err 2 -- "$CB" --json consolidate
err 10 -- "$CB" --json consolidate 00000000-0000-4000-8000-000000000000

# ---- version and help ----
ok version -- "$CB" --json version
ok version -- "$CB" --json --version
ok help -- "$CB" --json help
ok help -- "$CB" --json help backup
[ "$(field 'v["command"]')" = backup ] || fail "help backup: $(cat "$WORK/out")"
err 2 -- "$CB" --json help no-such-command

# ---- init, and the dry runs: the same documents, marked ----
ok init -- "$CB" --json --store "$WORK/new-store" init
[ "$(field 'v["state"]')" = created ] || fail "init of a new store: $(cat "$WORK/out")"
ok init -- "$CB" --json --store "$WORK/new-store" init
[ "$(field 'v["state"]')" = existed ] || fail "init again: $(cat "$WORK/out")"
ok backup_summary --lines -- "$CB" --json backup "$WORK/vol" --incremental --object-size 1M --dry-run
[ "$(field 'v["dry_run"]')" = True ] || fail "backup --dry-run: not marked: $(cat "$WORK/out")"
ok delete -- "$CB" --json delete "$full" --cascade --dry-run
[ "$(field 'len(v["would_delete"])')" = 3 ] || fail "delete --dry-run: $(cat "$WORK/out")"

# ---- delete: what was deleted, as backup objects; --cascade lists every one ----
err 1 -- "$CB" --json delete "$full"
grep -q 'depending on it' "$WORK/err" || fail "delete of a parent: $(cat "$WORK/err")"
ok delete -- "$CB" --json delete "$full" --cascade
[ "$(field '[b["id"] for b in v["deleted"]]')" = "['$incr2', '$incr', '$full']" ] ||
    fail "delete --cascade did not list what it deleted, children first: $(cat "$WORK/out")"
[ "$(field 'v["deleted"][2]["name"]')" = json-full ] || fail "delete: not the backup object: $(cat "$WORK/out")"
err 10 -- "$CB" --json delete "$full"
ok list -- "$CB" --json list
[ "$(field 'len(v["backups"])')" = 0 ] || fail "backups left after delete --cascade"

# ---- map, unmap (serving: tests/nbd/test-nbd-map.sh validates the map object too) ----
export CINDERBLOCK_RUNTIME_DIR="$WORK/run"
ok map_list -- "$CB" --json map
[ "$(field 'v["maps"]')" = "[]" ] || fail "map: maps listed: $(cat "$WORK/out")"
ok unmap -- "$CB" --json unmap --all
err 10 -- "$CB" --json map 00000000-0000-4000-8000-000000000000
err 10 -- "$CB" --json unmap 00000000-0000-4000-8000-000000000000
err 2 -- "$CB" --json map "$full" --port 99999

# the text form says what --cascade deleted too
id1=$("$CB" -q backup "$WORK/vol" --object-size 1M)
id2=$("$CB" -q backup "$WORK/vol" --incremental --object-size 1M)
"$CB" delete "$id1" --cascade 2>"$WORK/err"
grep -q "deleted backup $id2" "$WORK/err" && grep -q "deleted backup $id1" "$WORK/err" ||
    fail "delete --cascade (text) did not name both: $(cat "$WORK/err")"

# ---- a warning under --json is a warning object on stderr, before the error ----
set +e
env -u ST_AUTH -u ST_USER -u ST_KEY -u OS_AUTH_URL -u OS_CLOUD "$CB" --json \
    --store 'swift://demo:s3cr3t@c' list >"$WORK/out" 2>"$WORK/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "swift without credentials exited $rc: $(cat "$WORK/err")"
[ ! -s "$WORK/out" ] || fail "a failed command wrote to stdout: $(cat "$WORK/out")"
head -n 1 "$WORK/err" >"$WORK/warn"
tail -n +2 "$WORK/err" >"$WORK/err2"
/usr/bin/python3 "$VALIDATE" "$SCHEMA" warning "$WORK/warn" >/dev/null ||
    fail "the URL-password warning is not a warning object: $(cat "$WORK/err")"
grep -q 'password' "$WORK/warn" || fail "the warning does not say what: $(cat "$WORK/warn")"
/usr/bin/python3 "$VALIDATE" "$SCHEMA" error "$WORK/err2" >/dev/null ||
    fail "after the warning, stderr is not one error object: $(cat "$WORK/err")"
n_checked=$((n_checked + 2))

# ---- without --json, errors stay text on stderr and stdout stays empty ----
expect_fail 10 "error: backup 00000000-0000-4000-8000-000000000000 not found" \
    "$CB" show 00000000-0000-4000-8000-000000000000
[ ! -s "$WORK/out" ] || fail "a text error wrote to stdout: $(cat "$WORK/out")"
echo "json: $n_checked outputs validated against docs/schema/cinderblock.schema.json"
