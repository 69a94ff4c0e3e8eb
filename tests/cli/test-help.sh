#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# help [COMMAND], -h wherever --help works, version and --version (JSON under --json), and
# unknown commands: usage errors (exit 2) that name them.
. "$(dirname "$0")/functions.sh"

# every command the main help lists (a new command is covered once it is listed there)
cmds=$("$CB" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
[ "$(echo "$cmds" | wc -l)" -ge 13 ] || fail "the main help lists too few commands: $cmds"

"$CB" --help >"$WORK/main" || fail "--help failed"
grep -q '^Usage: cinderblock ' "$WORK/main" || fail "--help has no Usage line"
for how in "help" "-h"; do
    # shellcheck disable=SC2086
    "$CB" $how >"$WORK/out" || fail "'$how' failed"
    cmp -s "$WORK/main" "$WORK/out" || fail "'cinderblock $how' differs from --help"
done
for cmd in $cmds; do
    grep -qE "^  $cmd( |\$)" "$WORK/main" || fail "--help does not list the command $cmd"
    "$CB" "$cmd" --help >"$WORK/want" || fail "$cmd --help failed"
    grep -q "^Usage: cinderblock .*$cmd" "$WORK/want" || fail "$cmd --help: no Usage line"
    "$CB" "$cmd" -h >"$WORK/out" || fail "$cmd -h failed"
    cmp -s "$WORK/want" "$WORK/out" || fail "'$cmd -h' differs from '$cmd --help'"
    "$CB" help "$cmd" >"$WORK/out" || fail "help $cmd failed"
    cmp -s "$WORK/want" "$WORK/out" || fail "'help $cmd' differs from '$cmd --help'"
    cmp -s "$WORK/main" "$WORK/want" && fail "'$cmd --help' is the main help, not its own"
done
# -h after the command's arguments and before the command, as --help
"$CB" restore some-id some-target -h | grep -q '^Usage: cinderblock .*restore' ||
    fail "-h after a command's arguments"

# unknown commands: exit 2, named, nothing on stdout
expect_fail 2 "help: unknown command 'bogus'" "$CB" help bogus
[ ! -s "$WORK/out" ] || fail "help bogus printed on stdout"
expect_fail 2 "unknown command 'bogus'" "$CB" bogus
expect_fail 2 "give at most one COMMAND" "$CB" help list show
expect_fail 2 "unknown option '-x'" "$CB" list -x

# version: the same as --version; a JSON document under --json
v=$("$CB" --version)
echo "$v" | grep -qE '^cinderblock [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version printed '$v'"
[ "$("$CB" version)" = "$v" ] || fail "version differs from --version"
expect_fail 2 "version: unexpected argument 'x'" "$CB" version x
for args in "--json version" "version --json" "--json --version"; do
    # shellcheck disable=SC2086
    "$CB" $args >"$WORK/v.json" || fail "$args failed"
    python3 - "$WORK/v.json" "${v#cinderblock }" <<'PY' || fail "'$args': not {\"version\": ...}"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc == {"version": sys.argv[2]}, doc
PY
done
echo ok
