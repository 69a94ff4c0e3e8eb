#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""No two files of the library call each other in a circle (docs/architecture.md).

Reads the symbols of every object in a static library with nm: a file that uses a symbol
another file defines depends on it. Prints every circle (a strongly connected set of more
than one file) with the symbols that close it, and exits 1 if there is one.
usage: check-cycles.py LIBRARY.a"""
import collections
import subprocess
import sys


def symbols(lib):
    """member -> (defined, undefined) from `nm -A`."""
    out = subprocess.run(['nm', '-A', lib], capture_output=True, text=True, check=True).stdout
    table = collections.defaultdict(lambda: (set(), set()))
    for line in out.splitlines():
        fields = line.split(':', 2)  # LIBRARY:MEMBER:VALUE TYPE NAME (thin archives too)
        if len(fields) != 3:
            continue
        member = fields[1].rsplit('/', 1)[-1]
        parts = fields[2].split()
        if len(parts) == 3 and parts[1] in 'TDBR':
            table[member][0].add(parts[2])
        elif len(parts) == 2 and parts[0] == 'U':
            table[member][1].add(parts[1])
    return table


def circles(graph):
    """Tarjan's strongly connected components with more than one member."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main():
    table = symbols(sys.argv[1])
    owner = {s: m for m, (d, _) in table.items() for s in d}
    graph = collections.defaultdict(set)
    uses = collections.defaultdict(set)
    for m, (_, u) in table.items():
        graph[m]
        for s in u:
            if owner.get(s, m) != m:
                graph[m].add(owner[s])
                uses[(m, owner[s])].add(s)
    found = circles(graph)
    for comp in found:
        print('circle of %d files:' % len(comp))
        for a in comp:
            for b in sorted(graph[a] & set(comp)):
                print('  %s -> %s (%s)' % (a, b, ', '.join(sorted(uses[(a, b)])[:4])))
    print('check-cycles: %d circle(s) among %d files' % (len(found), len(table)))
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
