#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The completions made from docs/cinderblock.1.md: bash's completion function completes
# commands, options and files; the zsh and fish files parse.
. "$(dirname "$0")/functions.sh"
bash_file=${CB_BASH_COMPLETION:?set CB_BASH_COMPLETION}
zsh_file=${CB_ZSH_COMPLETION:?set CB_ZSH_COMPLETION}
fish_file=${CB_FISH_COMPLETION:?set CB_FISH_COMPLETION}
command -v bash >/dev/null || skip "no bash"

# complete WORD...: what bash's function offers for the last WORD of "cinderblock WORD..."
complete_words() {
    bash -c '
        . "$1"; shift
        COMP_WORDS=(cinderblock "$@"); COMP_CWORD=$#
        COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
        _cinderblock cinderblock "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"' sh "$bash_file" "$@"
}
# expect WANT WORD...: WANT is among the completions
expect() {
    want=$1
    shift
    complete_words "$@" >"$WORK/got"
    grep -qxF -- "$want" "$WORK/got" || fail "'cinderblock $*<TAB>' offers no '$want': $(tr '\n' ' ' <"$WORK/got")"
}
# expect_not NOTWANT WORD...
expect_not() {
    nowant=$1
    shift
    complete_words "$@" >"$WORK/got"
    if grep -qxF -- "$nowant" "$WORK/got"; then fail "'cinderblock $*<TAB>' offers '$nowant'"; fi
}

expect backup ba
[ "$(complete_words ba)" = backup ] || fail "'ba' completes to more than backup"
expect --incremental backup --inc
expect --volume-id backup --vol
expect --volume-id list --vol
expect --cascade delete --cas
expect_not --cascade backup --cas
expect --store --st                          # global options before the command
expect --json backup --js                    # and after it
expect restore --store /tmp/s re             # an option's value is not the command
expect export-record help exp
expect version vers
# every command the main help lists (a new command is covered once it is listed there)
cmds=$("$CB" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
[ "$(echo "$cmds" | wc -l)" -ge 13 ] || fail "the main help lists too few commands: $cmds"
for c in $cmds; do
    expect "$c" "$(echo "$c" | cut -c1-2)"
done
# files: a volume, and --ca-file's value
mkdir "$WORK/dir" && : >"$WORK/dir/disk.img"
expect "$WORK/dir/disk.img" backup "$WORK/dir/di"
expect "$WORK/dir/disk.img" --ca-file "$WORK/dir/di"
complete_words backup --threads "" >"$WORK/got"
[ ! -s "$WORK/got" ] || fail "--threads N completed to words: $(cat "$WORK/got")"

# every option of every command's --help is offered for that command
for c in backup restore verify list cleanup unlock prune; do
    "$CB" "$c" --help | grep -E '^ +-' | grep -oE -- '--[a-z][a-z-]+' | sort -u | while read -r o; do
        expect "$o" "$c" "$(echo "$o" | cut -c1-4)"
    done
done

if command -v zsh >/dev/null; then
    zsh -n "$zsh_file" || fail "zsh -n $zsh_file"
    head -1 "$zsh_file" | grep -q '^#compdef cinderblock' || fail "the zsh file has no #compdef"
else
    echo "note: zsh is not installed: its completion is not parsed"
fi
if command -v fish >/dev/null; then
    fish -n "$fish_file" || fail "fish -n $fish_file"
    # fish itself completes from the file
    out=$(HOME="$WORK" fish -c "source '$fish_file'; complete -C 'cinderblock backup --inc'")
    echo "$out" | grep -q -- '^--incremental' || fail "fish does not complete --incremental: $out"
else
    echo "note: fish is not installed: its completion is not parsed"
fi
echo ok
