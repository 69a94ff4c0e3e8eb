#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Streams against Cinder 21.3.1: backups read from a pipe (`backup -`, with and without
--size, full and incremental on Cinder's own full) restored by Cinder's driver, and a
Cinder backup restored by `cinderblock restore ID -` into a pipe."""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compat_lib import (CinderTestCase, cinderblock, make_volume, read,  # noqa: E402
                        uuid_for)

MIB = 1 << 20
SIZE = 20 * MIB + 4321           # not a multiple of the sha block
OBJ, SHA = 4 * MIB, 32768


def cb_stdin(store, data, *args):
    """cinderblock with `data` on a pipe as its standard input."""
    os.makedirs(store, exist_ok=True)  # a store must exist (`cinderblock init`)
    p = subprocess.run([cinderblock(), '--store', store] + list(args), input=data,
                       capture_output=True)
    if p.returncode != 0:
        raise AssertionError('cinderblock %s failed (%d): %s' %
                             (' '.join(args), p.returncode, p.stderr.decode()))
    return p.stdout.decode().strip()


class PipeCompat(CinderTestCase):
    def cinder_restore(self, root, bid, data, n):
        out = self.work('cinder-%s' % n)
        got = self.cinder.call('restore', '--root', root, '--backup-id', bid, '--target', out)
        self.assertTrue(got['ok'], got)
        self.assertEqual(read(out), data, 'Cinder restore of %s' % bid)

    def test_stream_backups_restored_by_cinder(self):
        root, vid = self.work('store-p'), uuid_for(0xe, 1)
        v0 = make_volume(self.work('vol'), SIZE, seed=31, zero_from=8 * MIB, zero_to=16 * MIB)
        for n, extra in enumerate([['--size', str(SIZE)], []]):
            for k, comp in enumerate(('zlib', 'zstd', 'none')):
                bid = uuid_for(0xe1, 10 * n + k)
                cb_stdin(root, v0, 'backup', '-', '--volume-id', vid, '--backup-id', bid,
                         '--object-size', str(OBJ), '--compression', comp, '--threads', '2',
                         *extra)
                self.cinder_restore(root, bid, v0, '%d-%s' % (n, comp))

    def test_stream_incremental_on_cinder_full(self):
        root, vid = self.work('store-q'), uuid_for(0xe, 2)
        v0 = make_volume(self.work('vol'), SIZE, seed=41)
        full = uuid_for(0xe2, 1)
        got = self.cinder.call('backup', '--root', root, '--volume', self.work('vol'),
                               '--backup-id', full, '--volume-id', vid, '--object-size',
                               str(OBJ), '--sha-block', str(SHA), '--compression', 'zlib')
        self.assertTrue(got['ok'], got)
        v1 = bytearray(v0)
        for at in (4096, 5 * MIB + 100, 13 * MIB, SIZE - 200):
            v1[at:at + 100] = b'\xab' * 100
        v1 = bytes(v1)
        inc = uuid_for(0xe2, 2)
        cb_stdin(root, v1, 'backup', '-', '--parent', full, '--backup-id', inc, '--threads', '2')
        self.cinder_restore(root, inc, v1, 'inc')
        # and Cinder's full, from us, into a pipe
        p = subprocess.run([cinderblock(), '--store', root, 'restore', full, '-'],
                           capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, v0)
        p = subprocess.run([cinderblock(), '--store', root, 'restore', inc, '-'],
                           capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, v1)


if __name__ == '__main__':
    unittest.main(verbosity=2)
