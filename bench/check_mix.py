#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Check cb-mkvolume's mix: share of bytes per class and zlib-6 ratio per class.

Usage: bench/check_mix.py VOLUME MAP [MiB-per-region]
MAP is what `cb-mkvolume --map MAP` wrote ("offset length class" lines). The ratio is
measured with Python's zlib at level 6 (Cinder's) on 1 MiB pieces of up to N MiB
(default 4) from the start of every region, as a chunking backup tool would see them.
"""
import collections
import sys
import zlib

PIECE = 1 << 20


def main(volume, mapfile, per_region=4):
    share = collections.Counter()
    raw = collections.Counter()
    packed = collections.Counter()
    with open(volume, 'rb') as f, open(mapfile) as m:
        for line in m:
            off, length, cls = line.split()
            off, length = int(off), int(length)
            share[cls] += length
            f.seek(off)
            data = f.read(min(length, per_region * PIECE))
            for i in range(0, len(data), PIECE):
                piece = data[i:i + PIECE]
                raw[cls] += len(piece)
                packed[cls] += len(zlib.compress(piece, 6))
    total = sum(share.values())
    for cls in ('zero', 'random', 'text', 'binary'):
        ratio = raw[cls] / packed[cls] if packed[cls] else float('nan')
        print('%-7s %5.1f %% of %d MiB   zlib-6 %.2f:1 on %d MiB'
              % (cls, 100 * share[cls] / total, total >> 20, ratio, raw[cls] >> 20))


if __name__ == '__main__':
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:]))
