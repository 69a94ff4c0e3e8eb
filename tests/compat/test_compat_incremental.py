#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Incremental chains mixing Cinder 21.3.1 and cinderblock as writers, in one store.

Cinder incrementals on cinderblock backups and the reverse; every backup of the chain
restored by both tools equals the volume as it was then. The changes: scattered 4 KiB
writes, a 10 MiB contiguous change, a change in the last partial sha block, and
unchanged incrementals (whose metadata has "objects": []).
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compat_lib import (MIB, CinderTestCase, contiguous, find_files, last_block,  # noqa: E402
                        make_volume, read, run_cb, scattered, uuid_for)

SIZE = 24 * MIB + 777            # not a multiple of the sha block
OBJ, SHA = 4 * MIB, 32768


class IncrementalCompat(CinderTestCase):
    def write_volume(self, data):
        with open(self.work('vol'), 'wb') as f:
            f.write(data)

    def by_cinder(self, root, n, vid, parent=None):
        bid = uuid_for(0xc, n)
        args = ['--root', root, '--volume', self.work('vol'), '--backup-id', bid,
                '--volume-id', vid, '--object-size', str(OBJ), '--sha-block', str(SHA),
                '--compression', 'zlib']
        if parent:
            args += ['--parent-id', parent]
        got = self.cinder.call('backup', *args)
        self.assertTrue(got['ok'], got)
        return bid

    def by_us(self, root, n, vid, parent=None, incremental=False, extra=()):
        bid = uuid_for(0xd, n)
        args = ['backup', self.work('vol'), '--backup-id', bid, '--volume-id', vid,
                '--object-size', str(OBJ), '--compression', 'zstd', *extra]
        if parent:
            args += ['--parent', parent]
        if incremental:
            args += ['--incremental']
        run_cb(root, *args)
        return bid

    def objects_of(self, root, bid):
        d, prefix = find_files(root, bid)
        return json.loads(read(os.path.join(d, prefix + '_metadata')))['objects']

    def check_restores(self, root, chain):
        for n, (bid, data) in enumerate(chain):
            self.assert_restored_by_both(root, bid, data, n)

    def test_mixed_chain_from_a_cinder_full(self):
        root, vid = self.work('store-a'), uuid_for(0xa, 1)
        v0 = make_volume(self.work('vol'), SIZE, seed=11)
        chain = [(self.by_cinder(root, 10, vid), v0)]
        v1 = scattered(v0, 12)                    # ours on Cinder's full
        self.write_volume(v1)
        chain.append((self.by_us(root, 11, vid, parent=chain[-1][0]), v1))
        self.assertGreater(len(self.objects_of(root, chain[-1][0])), 5)
        v2 = contiguous(v1, 13)                   # Cinder's on ours
        self.write_volume(v2)
        chain.append((self.by_cinder(root, 12, vid, parent=chain[-1][0]), v2))
        v3 = last_block(v2)                       # ours, found with --incremental
        self.write_volume(v3)
        chain.append((self.by_us(root, 13, vid, incremental=True), v3))
        objs = self.objects_of(root, chain[-1][0])
        self.assertEqual(len(objs), 1)
        entry = list(objs[0].values())[0]
        self.assertEqual(entry['offset'] + entry['length'], SIZE)
        chain.append((self.by_cinder(root, 14, vid, parent=chain[-1][0]), v3))  # unchanged
        self.assertEqual(self.objects_of(root, chain[-1][0]), [])
        chain.append((self.by_us(root, 15, vid, parent=chain[-1][0]), v3))      # unchanged
        self.assertEqual(self.objects_of(root, chain[-1][0]), [])
        self.check_restores(root, chain)

    def test_cinder_incremental_on_our_full(self):
        root, vid = self.work('store-b'), uuid_for(0xa, 2)
        v0 = make_volume(self.work('vol'), SIZE, seed=21)
        chain = [(self.by_us(root, 20, vid), v0)]
        v1 = contiguous(scattered(v0, 22), 23)
        self.write_volume(v1)
        chain.append((self.by_cinder(root, 21, vid, parent=chain[-1][0]), v1))
        v2 = last_block(scattered(v1, 24))
        self.write_volume(v2)
        chain.append((self.by_us(root, 22, vid, parent=chain[-1][0]), v2))
        self.check_restores(root, chain)
        # list shows the chain through the parent column, across both writers
        _, out, _ = run_cb(root, '--json', 'list')
        by_id = {b['id']: b for b in json.loads(out)['backups']}
        self.assertEqual(by_id[chain[2][0]]['parent_id'], chain[1][0])
        self.assertEqual(by_id[chain[2][0]]['chain_length'], 3)
        self.assertEqual(by_id[chain[1][0]]['size'], SIZE)

    def test_coalesced_incremental(self):
        """Changed runs joined over their gaps (--coalesce): fewer, longer objects holding the
        parent's bytes in between, which Cinder restores as any other, and then continues
        the chain on."""
        root, vid = self.work('store-c'), uuid_for(0xa, 3)
        v0 = make_volume(self.work('vol'), SIZE, seed=31)
        chain = [(self.by_cinder(root, 30, vid), v0)]
        v1 = scattered(v0, 32)
        self.write_volume(v1)
        plain = self.by_us(root, 31, vid, parent=chain[0][0], extra=['--coalesce', '0'])
        joined = self.by_us(root, 32, vid, parent=chain[0][0], extra=['--coalesce', '1M'])
        n_plain, objs = len(self.objects_of(root, plain)), self.objects_of(root, joined)
        self.assertLess(len(objs), n_plain)
        stored = sum(list(o.values())[0]['length'] for o in objs)
        self.assertGreater(stored, SHA * n_plain)    # the gaps are in the objects too
        chain.append((joined, v1))
        v2 = contiguous(v1, 33)
        self.write_volume(v2)
        chain.append((self.by_cinder(root, 31, vid, parent=joined), v2))
        self.check_restores(root, chain)


if __name__ == '__main__':
    unittest.main(verbosity=2)
