#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Generate the command line's help texts, its man page and its shell completions from the
one source, the manual docs/cinderblock.1.md (run by meson at build time):

  gen-cli.py MANUAL VERSION OUTDIR [OUTPUT...]

writes into OUTDIR the OUTPUTs named (default: all):
  help_text.c, help_text.h   the `--help` text of the program and of each command (C strings)
  cinderblock.1              the man page (roff), the whole manual, help texts included
  cinderblock.bash           bash completion (installed as bash-completion's
                             completions/cinderblock; the OUTPUT `cinderblock` writes it so)
  _cinderblock               zsh completion (site-functions)
  cinderblock.fish           fish completion (vendor_completions.d)

The manual holds the help texts as fenced blocks whose info string is `help`: the one
outside the COMMANDS section is `cinderblock --help`; the one inside a `### NAME ...`
section is `cinderblock NAME --help`. Every command section must have exactly one.
Commands, their options and which options take a value are read from those blocks: an
option is a `--name` (or `-x`) on a line of a block that starts with spaces and a dash;
it takes a value when an upper-case word follows it (`--threads N`).
"""
import os
import re
import sys

HELP_FENCE = '```help'


class Manual:
    def __init__(self, text):
        self.lines = text.split('\n')
        self.main_help = None
        self.commands = []  # (name, help text), in the manual's order
        self._read_help()

    def _read_help(self):
        section = None  # the current "## X" title
        command = None  # the current "### NAME" in COMMANDS
        block = None
        for n, line in enumerate(self.lines, 1):
            if block is not None:
                if line.startswith('```'):
                    self._take(block, section, command, n)
                    block = None
                else:
                    block.append(line)
                continue
            if line.startswith('## '):
                section, command = line[3:].strip(), None
            elif line.startswith('### ') and section == 'COMMANDS':
                command = line[4:].split()[0]
                self.commands.append([command, None])
            elif line.strip() == HELP_FENCE:
                block = []
        if block is not None:
            fail('a ```help block is not closed')
        if self.main_help is None:
            fail('no ```help block for `cinderblock --help` (outside COMMANDS)')
        for name, text in self.commands:
            if text is None:
                fail('command %s has no ```help block in its section' % name)

    def _take(self, block, section, command, n):
        text = '\n'.join(block) + '\n'
        if section == 'COMMANDS':
            if command is None or self.commands[-1][1] is not None:
                fail('line %d: a ```help block outside a command, or a second one for %s'
                     % (n, command))
            self.commands[-1][1] = text
        else:
            if self.main_help is not None:
                fail('line %d: a second ```help block outside COMMANDS' % n)
            self.main_help = text


def fail(msg):
    sys.stderr.write('gen-cli.py: %s\n' % msg)
    sys.exit(1)


# ---- options, from help texts ----------------------------------------------------------

OPT_LINE = re.compile(r'^\s+-')
OPT = re.compile(r'(?<![\w-])(--?[a-zA-Z][a-zA-Z0-9-]*)( [A-Z][A-Z0-9_=/.]*)?')


def options(help_text, only_after=None):
    """[(name, value-or-None, description)] of the option lines of a help text: those of
    the first column ("  --opt ARG   description"), and those a description packs in after
    a semicolon ("say more; -q, --quiet: say less")."""
    out, seen = [], set()
    lines = help_text.split('\n')
    if only_after is not None:
        lines = lines[next((i for i, l in enumerate(lines) if l.startswith(only_after)), 0):]

    def add(head, desc):
        for mo in OPT.finditer(head):
            if mo.group(1) not in seen:
                seen.add(mo.group(1))
                out.append((mo.group(1), mo.group(2).strip() if mo.group(2) else None, desc))

    for line in lines:
        if not OPT_LINE.match(line):
            continue
        parts = re.split(r'\s{2,}', line.strip(), maxsplit=1)
        segs = (parts[1] if len(parts) > 1 else '').split(';')
        add(parts[0], segs[0].strip())
        for seg in segs[1:]:
            mo = re.match(r'\s*((?:--?[a-zA-Z][a-zA-Z0-9-]*(?: [A-Z][A-Z0-9_=/.]*)?,? ?)+):(.*)', seg)
            if mo:
                add(mo.group(1), mo.group(2).strip())
    # and the long options of the synopsis ("Usage: ..." and the lines continuing it),
    # which a short help may not list again
    usage = False
    for line in lines:
        usage = line.startswith('Usage:') or (usage and line.startswith(' ') and '[' in line)
        if usage:
            add(' '.join(re.findall(r'(?<![\w-])--[a-z][a-z0-9-]*(?: [A-Z][A-Z0-9_=/.]*)?', line)), '')
    return out


def command_summaries(main_help):
    """{command: one-line description} from the `Commands:` list of the main help."""
    out, inside = {}, False
    for line in main_help.split('\n'):
        if line.startswith('Commands:'):
            inside = True
            continue
        if inside:
            if not line.startswith('  '):
                break
            parts = re.split(r'\s{2,}', line.strip(), maxsplit=1)
            out[parts[0].split()[0]] = parts[1] if len(parts) > 1 else ''
    return out


FILE_VALUES = ('FILE', 'PATH', 'DIR')


# ---- C ---------------------------------------------------------------------------------

def c_ident(name):
    return 'cli_help_' + re.sub(r'[^a-z0-9]', '_', name)


def c_string(text):
    out = []
    for line in text.splitlines(True):
        s = (line.replace('\\', '\\\\').replace('"', '\\"').replace('?', '\\?')
             .replace('\n', '\\n'))
        out.append('    "%s"' % s)
    return '\n'.join(out) if out else '    ""'


def write_c(m, outdir):
    h = ['/* Generated by scripts/gen-cli.py from docs/cinderblock.1.md: do not edit. */',
         '#ifndef CB_CLI_HELP_TEXT_H', '#define CB_CLI_HELP_TEXT_H', '',
         '#include <stddef.h>', '',
         '/* `cinderblock --help` */', 'extern const char cli_help_main[];']
    c = ['/* Generated by scripts/gen-cli.py from docs/cinderblock.1.md: do not edit. */',
         '#include "help_text.h"',
         'const char cli_help_main[] =\n%s;' % c_string(m.main_help)]
    for name, text in m.commands:
        h.append('extern const char %s[]; /* %s --help */' % (c_ident(name), name))
        c.append('const char %s[] =\n%s;' % (c_ident(name), c_string(text)))
    h += ['', '/* Every command and its help, in the manual\'s order. */',
          'typedef struct cli_help_entry {', '    const char *name;', '    const char *text;',
          '} cli_help_entry;', 'extern const cli_help_entry cli_help_commands[];',
          'extern const size_t cli_help_n_commands;', '', '#endif', '']
    c.append('const cli_help_entry cli_help_commands[] = {')
    for name, _ in m.commands:
        c.append('    { "%s", %s },' % (name, c_ident(name)))
    c += ['};', 'const size_t cli_help_n_commands = %d;' % len(m.commands), '']
    write(outdir, 'help_text.h', '\n'.join(h))
    write(outdir, 'help_text.c', '\n'.join(c))


# ---- roff ------------------------------------------------------------------------------

ROFF_CHARS = {'\\': r'\e', '-': r'\-', "'": r'\(aq', '`': r'\(ga', '~': r'\(ti', '^': r'\(ha',
              '\u2014': r'\(em', '\u2013': r'\(en', '"': r'\(dq'}


def roff_escape(s):
    return ''.join(ROFF_CHARS.get(ch, ch) for ch in s)


def roff_inline(s):
    """Markdown inline text: `code` in bold, the rest escaped."""
    out = []
    for i, part in enumerate(s.split('`')):
        out.append(r'\fB%s\fR' % roff_escape(part) if i % 2 else roff_escape(part))
    return ''.join(out)


def roff_line(s):
    s = s.strip()
    return r'\&' + s if s[:1] in ('.', "'") else s


def write_man(m, version, outdir):
    out = ['.\\" Generated by scripts/gen-cli.py from docs/cinderblock.1.md: do not edit.',
           '.TH CINDERBLOCK 1 "" "cinderblock %s" "User Commands"' % version,
           '.nh', '.ad l']
    in_code = False
    para = []  # text lines of the current paragraph

    def flush():
        if para:
            out.extend(roff_line(roff_inline(x)) for x in para)
            del para[:]

    lines = m.lines
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if in_code:
            if line.startswith('```'):
                out.append('.fi')
                out.append('.RE')
                in_code = False
            else:
                out.append(r'\&' + roff_escape(line) if line else '')
            continue
        if line.startswith('# ') and len(out) == 4:
            continue  # the title: .TH says it
        if line.startswith('```'):
            flush()
            out += ['.PP', '.RS 2', '.nf']
            in_code = True
        elif line.startswith('## '):
            flush()
            out.append('.SH "%s"' % roff_escape(line[3:].strip()))
        elif line.startswith('### '):
            flush()
            out.append('.SS "%s"' % roff_escape(line[4:].strip()))
        elif line.startswith('|'):
            flush()
            cells = [c.strip() for c in line.strip().strip('|').split('|')]
            if all(re.fullmatch(r':?-+:?', c) for c in cells):
                continue
            if i < len(lines) and re.match(r'\|\s*:?-', lines[i]):
                continue  # the table's header row
            out += ['.TP', '.B %s' % roff_escape(cells[0]), roff_line(roff_inline(' '.join(cells[1:])))]
        elif line.startswith(': '):
            # a definition: the term is the paragraph line before, the text follows
            term = para.pop() if para else ''
            flush()
            out += ['.TP', roff_line(roff_inline(term))]
            para.append(line[2:])
            while i < len(lines) and lines[i].startswith('  ') and lines[i].strip():
                para.append(lines[i])
                i += 1
            flush()
        elif not line.strip():
            flush()
            if out[-1] not in ('.PP',) and not out[-1].startswith(('.SH', '.SS')):
                out.append('.PP')
        else:
            para.append(line)
    flush()
    text = '\n'.join(x for j, x in enumerate(out)
                     if not (x == '.PP' and j + 1 < len(out) and out[j + 1].startswith(('.SH', '.SS', '.TP', '.PP'))))
    write(outdir, 'cinderblock.1', text + '\n')


# ---- completions -----------------------------------------------------------------------

def completion_model(m):
    glob = options(m.main_help, only_after='Global options:')
    summaries = command_summaries(m.main_help)
    cmds = []
    for name, text in m.commands:
        gnames = {o[0] for o in glob}
        own = [o for o in options(text) if o[0] not in gnames]
        cmds.append((name, summaries.get(name, ''), own, text))
    return glob, cmds


def with_value(opts):
    return [o for o in opts if o[1]]


def write_bash(glob, cmds, outdir, filename='cinderblock.bash'):
    allopts = list(glob) + [o for c in cmds for o in c[2]]
    file_opts = sorted({o[0] for o in allopts if o[1] and o[1] in FILE_VALUES})
    value_opts = sorted({o[0] for o in allopts if o[1] and o[1] not in FILE_VALUES})
    names = ' '.join(c[0] for c in cmds)
    b = ['# bash completion for cinderblock',
         '# Generated by scripts/gen-cli.py from docs/cinderblock.1.md: do not edit.',
         '_cinderblock()', '{',
         '    local cur=${COMP_WORDS[COMP_CWORD]} prev= cmd= i w opts',
         '    [ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD-1]}',
         '    COMPREPLY=()',
         '    # the command is the first word that is neither an option nor its value',
         '    for ((i = 1; i < COMP_CWORD; i++)); do',
         '        w=${COMP_WORDS[i]}',
         '        case $w in',
         '        %s) i=$((i + 1)) ;;' % '|'.join(file_opts + value_opts),
         '        -*) ;;',
         '        *) cmd=$w; break ;;',
         '        esac',
         '    done',
         '    case $prev in',
         '    %s) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;' % ('|'.join(file_opts) or '--'),
         '    %s) return 0 ;;' % ('|'.join(value_opts) or '--'),
         '    esac',
         '    local global="%s"' % ' '.join(o[0] for o in glob),
         '    if [ -z "$cmd" ]; then',
         '        case $cur in',
         '        -*) COMPREPLY=($(compgen -W "$global" -- "$cur")) ;;',
         '        *) COMPREPLY=($(compgen -W "%s" -- "$cur")) ;;' % names,
         '        esac',
         '        return 0',
         '    fi',
         '    case $cmd in']
    for name, _, own, _ in cmds:
        b.append('    %s) opts="%s" ;;' % (name, ' '.join(o[0] for o in own)))
    b += ['    *) opts="" ;;',
          '    esac',
          '    case $cur in',
          '    -*) COMPREPLY=($(compgen -W "$opts $global" -- "$cur")) ;;',
          '    *)',
          '        if [ "$cmd" = help ]; then',
          '            COMPREPLY=($(compgen -W "%s" -- "$cur"))' % names,
          '        else',
          '            COMPREPLY=($(compgen -f -- "$cur"))',
          '        fi',
          '        ;;',
          '    esac',
          '    return 0',
          '}',
          'complete -F _cinderblock -o filenames cinderblock', '']
    write(outdir, filename, '\n'.join(b))


def zsh_quote(s):
    return s.replace('\\', '\\\\').replace("'", "'\\''").replace('[', '\\[').replace(']', '\\]').replace(':', '\\:')


def zsh_spec(o):
    name, value, desc = o
    spec = '%s[%s]' % (name, zsh_quote(desc))
    if value:
        spec += ':%s:%s' % (zsh_quote(value.lower()), '_files' if value in FILE_VALUES else ' ')
    return "'%s'" % spec


def write_zsh(glob, cmds, outdir):
    z = ['#compdef cinderblock',
         '# zsh completion for cinderblock',
         '# Generated by scripts/gen-cli.py from docs/cinderblock.1.md: do not edit.',
         '',
         '_cinderblock() {',
         '    local curcontext="$curcontext" state line ret=1',
         '    typeset -A opt_args',
         '    local -a global commands',
         '    global=(']
    z += ['        %s' % zsh_spec(o) for o in glob]
    z += ['    )', '    commands=(']
    z += ["        '%s:%s'" % (name, zsh_quote(summary)) for name, summary, _, _ in cmds]
    z += ['    )',
          "    _arguments -C $global '1: :->command' '*:: :->args' && ret=0",
          '    case $state in',
          '    command)',
          "        _describe -t commands 'cinderblock command' commands && ret=0",
          '        ;;',
          '    args)',
          '        case $words[1] in']
    for name, _, own, _ in cmds:
        rest = "'*: :_files'" if name != 'help' else "'1: :->command'"
        if name == 'help':
            z.append("        help) _describe -t commands 'cinderblock command' commands && ret=0 ;;")
            continue
        z.append('        %s) _arguments $global %s %s && ret=0 ;;'
                 % (name, ' '.join(zsh_spec(o) for o in own), rest))
    z += ['        esac',
          '        ;;',
          '    esac',
          '    return ret',
          '}',
          '',
          '_cinderblock "$@"', '']
    write(outdir, '_cinderblock', '\n'.join(z))


def fish_quote(s):
    return "'" + s.replace('\\', '\\\\').replace("'", "\\'") + "'"


def fish_opt(o, cond):
    name, value, desc = o
    parts = ['complete', '-c', 'cinderblock']
    if cond:
        parts += ['-n', fish_quote(cond)]
    parts += ['-l', name[2:]] if name.startswith('--') else ['-s', name[1:]]
    if value:
        parts += ['-r', '-F'] if value in FILE_VALUES else ['-x']
    if desc:
        parts += ['-d', fish_quote(desc)]
    return ' '.join(parts)


def write_fish(glob, cmds, outdir):
    names = ' '.join(c[0] for c in cmds)
    f = ['# fish completion for cinderblock',
         '# Generated by scripts/gen-cli.py from docs/cinderblock.1.md: do not edit.',
         'complete -c cinderblock -f']
    f += [fish_opt(o, None) for o in glob]
    for name, summary, _, _ in cmds:
        f.append('complete -c cinderblock -n %s -a %s -d %s'
                 % (fish_quote('__fish_use_subcommand'), name, fish_quote(summary)))
    for name, _, own, _ in cmds:
        cond = '__fish_seen_subcommand_from %s' % name
        f += [fish_opt(o, cond) for o in own]
        if name == 'help':
            f.append('complete -c cinderblock -n %s -a %s' % (fish_quote(cond), fish_quote(names)))
        elif name not in ('version', 'check', 'list', 'cleanup', 'unlock'):
            f.append('complete -c cinderblock -n %s -F' % fish_quote(cond))
    write(outdir, 'cinderblock.fish', '\n'.join(f) + '\n')


def write(outdir, name, text):
    path = os.path.join(outdir, name)
    tmp = path + '.tmp'
    with open(tmp, 'w') as fh:
        fh.write(text)
    os.replace(tmp, path)


def main():
    if len(sys.argv) < 4:
        fail('usage: gen-cli.py MANUAL VERSION OUTDIR [OUTPUT...]')
    with open(sys.argv[1]) as fh:
        m = Manual(fh.read())
    version, outdir = sys.argv[2], sys.argv[3]
    want = set(sys.argv[4:]) or {'help_text.c', 'cinderblock.1', 'cinderblock.bash',
                                 '_cinderblock', 'cinderblock.fish'}
    listed, sections = set(command_summaries(m.main_help)), {c[0] for c in m.commands}
    if listed != sections:
        fail('the main help lists the commands %s, the manual has sections for %s'
             % (sorted(listed - sections) or '-', sorted(sections - listed) or '-'))
    glob, cmds = completion_model(m)
    for name in sorted(os.path.basename(w) for w in want):
        if name in ('help_text.c', 'help_text.h'):
            write_c(m, outdir)
        elif name == 'cinderblock.1':
            write_man(m, version, outdir)
        elif name in ('cinderblock.bash', 'cinderblock'):  # bash-completion wants the bare name
            write_bash(glob, cmds, outdir, name)
        elif name == '_cinderblock':
            write_zsh(glob, cmds, outdir)
        elif name == 'cinderblock.fish':
            write_fish(glob, cmds, outdir)
        else:
            fail('unknown output %s' % name)


if __name__ == '__main__':
    main()
