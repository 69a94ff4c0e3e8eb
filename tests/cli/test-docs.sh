#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every option that `--help` shows is documented in docs/cinderblock.1.md, and every
# option the manual documents is accepted (--help of each command), so they cannot drift.
. "$(dirname "$0")/functions.sh"
man="$(dirname "$0")/../../docs/cinderblock.1.md"
[ -f "$man" ] || fail "no manual at $man"

for cmd in "" init backup restore verify list show delete export-record import-record check cleanup unlock \
    help version; do
    # shellcheck disable=SC2086
    "$CB" $cmd --help >"$WORK/help" || fail "$cmd --help failed"
    grep -oE -- '--[a-z][a-z-]+' "$WORK/help" | sort -u >"$WORK/opts"
    while read -r opt; do
        grep -qF -- "\`$opt" "$man" || fail "'$opt' (from '$cmd --help') is not in the manual"
    done <"$WORK/opts"
    [ -n "$cmd" ] && { grep -q "^### $cmd" "$man" || fail "the manual has no section for $cmd"; }
done
# the reverse: options in the manual's backup section appear in `backup --help`
sed -n '/^### backup/,/^### restore/p' "$man" | grep -oE -- '^`--[a-z-]+' | tr -d '`' |
    while read -r opt; do
        "$CB" backup --help | grep -qF -- "$opt" || fail "manual option $opt unknown to backup"
    done
"$CB" --version | grep -qE '^cinderblock [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"
echo ok
