#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The man page made from docs/cinderblock.1.md renders without a warning, has the sections
# of a man page, and holds every --help text as the program prints it: one source.
. "$(dirname "$0")/functions.sh"
page=${CB_MAN_PAGE:?set CB_MAN_PAGE to the generated cinderblock.1}
command -v man >/dev/null || skip "man (man-db) is not installed"

MANWIDTH=80 LC_ALL=C.UTF-8 man -l --warnings "$page" >"$WORK/page" 2>"$WORK/warn" ||
    fail "man -l failed: $(cat "$WORK/warn")"
[ ! -s "$WORK/warn" ] || fail "man -l warned: $(cat "$WORK/warn")"
# no Markdown leaks into the page: headings, fences, table rules
if grep -nE '^ *(#{1,3} |```|\|[-|: ]+\|$)' "$WORK/page" >"$WORK/leak"; then
    fail "Markdown in the rendered page: $(head -3 "$WORK/leak")"
fi
head -1 "$WORK/page" | grep -q 'CINDERBLOCK(1)' || fail "no CINDERBLOCK(1) title"
for s in NAME SYNOPSIS DESCRIPTION "GLOBAL OPTIONS" COMMANDS ENVIRONMENT "EXIT STATUS" FILES \
    "SEE ALSO"; do
    grep -q "^$s\$" "$WORK/page" || fail "the page has no section $s"
done

# every --help text, line by line in order, in the rendered page (each line as printed,
# leading spaces aside: the page indents its blocks)
MANWIDTH=200 LC_ALL=C.UTF-8 man -l "$page" 2>/dev/null | sed 's/^ *//' >"$WORK/flat"
# every command the main help lists (a new command is covered once it is listed there)
cmds=$("$CB" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
[ "$(echo "$cmds" | wc -l)" -ge 13 ] || fail "the main help lists too few commands: $cmds"
for cmd in "" $cmds; do
    # shellcheck disable=SC2086
    "$CB" $cmd --help >"$WORK/help" || fail "$cmd --help failed"
    python3 - "$WORK/help" "$WORK/flat" "${cmd:-main}" <<'PY' || fail "'$cmd --help' is not in the page"
import sys
help_lines = [l.strip() for l in open(sys.argv[1])]
page = [l.rstrip('\n').strip() for l in open(sys.argv[2])]
# the help text must appear as one run of consecutive page lines
n = len(help_lines)
for i in range(len(page) - n + 1):
    if page[i:i + n] == help_lines:
        sys.exit(0)
first = help_lines[0]
print('%s --help: not found as a block; its first line %s in the page'
      % (sys.argv[3], 'is' if first in page else 'is not'), file=sys.stderr)
sys.exit(1)
PY
done
echo ok
