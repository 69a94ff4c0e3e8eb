#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The layer rule of docs/architecture.md, checked: every #include "..." in src/ and tools/
goes down the layers (or stays in its folder), and into another folder only through that
folder's interface header; file names are unique across src/; tools/ use the public API
only. Prints each violation and exits 1 if there is one."""
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

# folder -> the folders it may use (besides itself and the public include/cinderblock)
LAYERS = {
    'util': [],
    'hash': ['util'],
    'json': ['util'],
    'codec': ['util'],
    'piece': ['util', 'codec'],
    'format': ['util', 'hash', 'json', 'codec'],
    'store/posix': ['util'],
    'store/http': ['util'],
    'store/swift': ['util', 'store/http'],
    'store/s3': ['util', 'store/http'],
    'store': ['util', 'store/posix', 'store/http', 'store/swift', 'store/s3'],
    'readback': ['util', 'hash', 'json', 'codec', 'format'],
    'catalog': ['util', 'hash', 'json', 'codec', 'format', 'readback'],
    'lock': ['util', 'hash', 'format'],
    'image': ['util', 'hash', 'codec', 'format', 'readback', 'catalog', 'lock'],
    'pipeline': ['util', 'hash', 'codec', 'piece', 'format'],
    'backup': ['util', 'hash', 'json', 'codec', 'piece', 'format', 'readback', 'catalog',
               'lock', 'pipeline'],
    'restore': ['util', 'hash', 'codec', 'format', 'readback', 'catalog', 'lock'],
    'verify': ['util', 'hash', 'codec', 'format', 'readback', 'catalog', 'lock'],
    'consolidate': ['util', 'codec', 'format', 'readback', 'catalog', 'lock', 'image', 'backup'],
    'maintain': ['util', 'format', 'catalog', 'lock', 'consolidate'],
}

# the one header another folder may include
INTERFACE = {
    'util': 'util.h', 'hash': 'hash.h', 'json': 'json.h', 'codec': 'codec.h', 'piece': 'piece.h',
    'format': 'format.h', 'readback': 'readback.h', 'catalog': 'catalog.h', 'lock': 'lock.h',
    'image': 'chainread.h', 'pipeline': 'pipeline.h', 'backup': 'backup.h', 'consolidate': 'consolidate.h', 'store/http': 'http.h', 'store/posix': 'posix.h',
    'store/swift': 'swift.h', 'store/s3': 's3.h',
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def folder_of(path):
    """The layer folder of a file under src/ ('store/s3', 'catalog', ...)."""
    rel = os.path.relpath(path, os.path.join(ROOT, 'src'))
    parts = rel.split(os.sep)[:-1]
    if len(parts) >= 2 and parts[0] == 'store':
        return 'store/' + parts[1]
    return parts[0] if parts else ''


def check_src(path, problems):
    me = folder_of(path)
    if me not in LAYERS:
        problems.append('%s: folder %r is not a known layer (scripts/check-layers.py)'
                        % (os.path.relpath(path, ROOT), me))
        return
    for n, line in enumerate(open(path, errors='replace'), 1):
        m = INCLUDE.match(line)
        if not m:
            continue
        target = os.path.normpath(os.path.join(os.path.dirname(path), m.group(1)))
        if not target.startswith(os.path.join(ROOT, 'src') + os.sep) or not os.path.exists(target):
            continue  # public API, generated or system headers
        there = folder_of(target)
        where = '%s:%d' % (os.path.relpath(path, ROOT), n)
        if there == me:
            continue
        if there not in LAYERS[me]:
            problems.append('%s: %s includes %s: layer %r may not use %r'
                            % (where, me, os.path.relpath(target, ROOT), me, there))
        elif os.path.basename(target) != INTERFACE.get(there):
            problems.append('%s: includes %s: outside %s/ include only its interface, %s'
                            % (where, os.path.relpath(target, ROOT), there,
                               INTERFACE.get(there)))


def check_tool(path, problems):
    for n, line in enumerate(open(path, errors='replace'), 1):
        m = INCLUDE.match(line)
        if m and ('src/' in m.group(1) or m.group(1).startswith('..')):
            problems.append('%s:%d: tools use the public API only, not %s'
                            % (os.path.relpath(path, ROOT), n, m.group(1)))


def main():
    problems = []
    names = {}
    for top, check in (('src', check_src), ('tools', check_tool)):
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if not f.endswith(('.c', '.h')):
                    continue
                path = os.path.join(d, f)
                check(path, problems)
                if top == 'src':
                    names.setdefault(f, []).append(os.path.relpath(path, ROOT))
    for f, where in sorted(names.items()):
        if len(where) > 1:
            problems.append('%s: one file name in %d places: %s' % (f, len(where),
                                                                  ', '.join(where)))
    for p in problems:
        print(p)
    print('check-layers: %d problem(s)' % len(problems))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
