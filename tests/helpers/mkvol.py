#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""mkvol.py PATH MIB SEED: a test volume of MIB MiB, in 256 KiB regions that are random,
zero or text, chosen by SEED. Shared by the CLI and store tests."""
import random
import sys

REGION = 256 * 1024

path, mib, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
with open(path, 'wb') as f:
    for i in range(mib * 4):
        kind = rnd.choice(['random', 'zero', 'text'])
        if kind == 'random':
            f.write(rnd.randbytes(REGION))
        elif kind == 'zero':
            f.write(bytes(REGION))
        else:
            line = b'the quick brown fox %d ' % i
            f.write((line * (REGION // len(line) + 1))[:REGION])
