#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Peak RSS and time of cinderblock backups of sparse volumes of several sizes.

For each size: a sparse file with 1 % of its bytes as data (4 MiB random runs at
regular intervals, the rest holes), a full backup, then 200 scattered 4 KiB writes
into the data and an incremental backup. Peak RSS is the child's
ru_maxrss. Usage: bench/sparse_rss.py CINDERBLOCK WORKDIR [GIB ...]
"""

import os
import random
import resource
import shutil
import subprocess
import sys
import time

MIB = 1 << 20
OBJECT_SIZE = os.environ.get('OBJECT_SIZE')  # default: the store's (posix: 1.86 GiB)


def make_sparse(path, gib, seed):
    size = gib << 30
    rnd = random.Random(seed)
    runs = max(1, round(size / 100 / (4 * MIB)))  # 1 % of the bytes, in 4 MiB runs
    step = size // runs
    with open(path, 'wb') as f:
        f.truncate(size)
        for i in range(runs):
            f.seek(i * step)
            f.write(rnd.randbytes(4 * MIB))
    return runs, step


def change(path, runs, step, seed, writes=200):
    """The same change whatever the size: `writes` scattered 4 KiB writes into the data,
    so that what grows with the volume is the volume, not the change."""
    rnd = random.Random(seed)
    with open(path, 'r+b') as f:
        for _ in range(writes):
            f.seek(rnd.randrange(runs) * step + rnd.randrange(0, 1024) * 4096)
            f.write(rnd.randbytes(4096))


def measure(cmd):
    """(seconds, peak RSS in MiB) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t
    if p.returncode != 0:
        raise SystemExit('%s failed: %s' % (' '.join(cmd), p.stderr))
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the maximum over all of them: run the biggest last
    return wall, max(rss, before) / 1024.0


def main():
    cb, work = sys.argv[1], sys.argv[2]
    sizes = [int(x) for x in sys.argv[3:]] or [1, 64]
    print('| volume | data | full backup | incremental backup | incremental peak RSS |')
    print('|---|---|---|---|---|')
    for gib in sizes:
        d = os.path.join(work, 'sparse-%d' % gib)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        vol, store = os.path.join(d, 'vol'), os.path.join(d, 'store')
        os.makedirs(store)  # a store must exist (`cinderblock init` makes one)
        runs, step = make_sparse(vol, gib, gib)
        base = [cb, '--store', store, '-q', 'backup', vol, '--compression', 'zstd'] + \
            (['--object-size', OBJECT_SIZE] if OBJECT_SIZE else [])
        full_t, _ = measure(base)
        change(vol, runs, step, gib + 1)
        # a fresh interpreter per size would be cleaner; the incremental runs last, and
        # ru_maxrss only grows, so measure it in a child of its own
        probe = [sys.executable, '-c',
                 'import resource,subprocess,sys,time;t=time.monotonic();'
                 'subprocess.run(sys.argv[1:],check=True,capture_output=True);'
                 'print(time.monotonic()-t,'
                 'resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)'] + base + \
            ['--incremental']
        out = subprocess.run(probe, capture_output=True, text=True, check=True).stdout.split()
        inc_t, inc_rss = float(out[0]), int(out[1]) / 1024.0
        print('| %d GiB | %d MiB | %.1f s | %.2f s | %.1f MiB |' %
              (gib, runs * 4, full_t, inc_t, inc_rss), flush=True)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    main()
