#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Compatibility with OpenStack Cinder's real chunked backup code (21.3.1).

(a) Cinder restores what cinderblock wrote; (b) cinderblock restores what Cinder
wrote; (c) with a frozen clock and equal inputs, the _metadata and _sha256file
objects of both are byte-identical. For every compression name, volumes that are
not a multiple of the sha block, several objects per backup, and a volume smaller
than one sha block. Plus export/import records both ways and Cinder's refusal of
a stray object under the prefix.
"""

import base64
import json
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compat_lib import (FROZEN, CinderTestCase, find_files, make_volume,  # noqa: E402
                        read, run_cb, uuid_for)

NAMES = ['none', 'off', 'no', 'zlib', 'gzip', 'GZip', 'bz2', 'bzip2', 'zstd']
# (volume size, object size, sha block): several objects with a partial last
# sha block; and a volume smaller than one sha block.
SHAPES = [(300 * 1024 + 1234, 65536, 4096), (1000, 65536, 4096)]


class CompatTest(CinderTestCase):
    def pair(self, n, comp, shape, container='c', name='caf\u00e9 \U0001F600 n\u00b01',
             extra=(), run=(5000, 40000)):
        """Back the same volume up with Cinder and with cinderblock, same ids, same
        clock. Returns (volume bytes, cinder root, our root, backup id)."""
        size, obj, sha = shape
        vol = self.work('vol-%d' % n)
        data = make_volume(vol, size, seed=n, run=run)
        bid, vid = uuid_for(0xb, n), uuid_for(0xa, n)
        croot, oroot = self.work('cinder-%d' % n), self.work('ours-%d' % n)
        desc = 'said "hi"\tand left'
        args = ['--root', croot, '--volume', vol, '--backup-id', bid, '--volume-id', vid,
                '--compression', comp, '--object-size', str(obj), '--sha-block', str(sha),
                '--time', FROZEN, '--name', name, '--description', desc]
        if container is not None:
            args += ['--container', container]
        got = self.cinder.call('backup', *args)
        self.assertTrue(got['ok'], got)
        ours = ['backup', vol, '--backup-id', bid, '--volume-id', vid, '--compression', comp,
                '--object-size', str(obj), '--sha-block', str(sha), '--name', name,
                '--description', desc]
        if container is not None:
            ours += ['--container', container]
        ours += list(extra)
        _, out, _ = run_cb(oroot, *ours, env={'CINDERBLOCK_NOW': FROZEN})
        self.assertEqual(out.strip(), bid)
        return data, croot, oroot, bid

    def assert_same_json(self, croot, oroot, bid):
        cdir, cprefix = find_files(croot, bid)
        odir, oprefix = find_files(oroot, bid)
        self.assertEqual(os.path.relpath(cdir, croot), os.path.relpath(odir, oroot))
        self.assertEqual(cprefix, oprefix)
        for suffix in ('_metadata', '_sha256file'):
            c = read(os.path.join(cdir, cprefix + suffix))
            o = read(os.path.join(odir, oprefix + suffix))
            self.assertEqual(c, o, '%s differs:\ncinder: %r\nours:   %r' % (suffix, c[:3000],
                                                                          o[:3000]))

    def restore_both_ways(self, data, croot, oroot, bid, n):
        # (b) we restore Cinder's backup
        target = self.work('ours-from-cinder-%d' % n)
        run_cb(croot, 'restore', '--force', bid, target)
        self.assertEqual(read(target), data)
        # (a) Cinder restores ours
        target = self.work('cinder-from-ours-%d' % n)
        got = self.cinder.call('restore', '--root', oroot, '--backup-id', bid,
                               '--target', target)
        self.assertTrue(got['ok'], got)
        self.assertEqual(read(target), data)

    def test_every_compression_name(self):
        for i, comp in enumerate(NAMES):
            with self.subTest(compression=comp):
                data, croot, oroot, bid = self.pair(i, comp, SHAPES[0])
                self.assert_same_json(croot, oroot, bid)
                meta = json.loads(read(os.path.join(*find_files(oroot, bid)) + '_metadata'))
                self.assertEqual(len(meta['objects']), 5)
                recorded = {list(o.values())[0]['compression'] for o in meta['objects']}
                want = 'none' if comp.lower() in ('none', 'off', 'no') else comp.lower()
                self.assertIn(want, recorded)  # a compressed object, named as configured
                self.restore_both_ways(data, croot, oroot, bid, i)

    def test_whole_objects_of_several_chunks(self):
        """Enough objects for each worker to take whole ones (3 per worker), each longer
        than the 1 MiB a worker reads at a time: zstd frames compressed chunk by chunk in
        place (codec/zstd_ring.c), zlib streams of joined pieces, MD5s from the lanes.
        Regions of 100-700 KB: random ones span whole zstd blocks, which go raw, unseen by
        the compressor, between compressed ones."""
        shape = (14 * 1024 * 1024 + 777, 2621440, 4096)  # 6 objects of 2.5 MiB
        for j, comp in enumerate(['zstd', 'zlib']):
            with self.subTest(compression=comp):
                n = 700 + j
                data, croot, oroot, bid = self.pair(n, comp, shape, extra=('--threads', '2'),
                                                    run=(100000, 700000))
                self.assert_same_json(croot, oroot, bid)
                meta = json.loads(read(os.path.join(*find_files(oroot, bid)) + '_metadata'))
                recorded = [list(o.values())[0]['compression'] for o in meta['objects']]
                self.assertEqual(recorded, [comp] * 6)
                self.restore_both_ways(data, croot, oroot, bid, n)

    def test_volume_smaller_than_a_sha_block(self):
        for j, comp in enumerate(['zlib', 'none']):
            n = 100 + j
            data, croot, oroot, bid = self.pair(n, comp, SHAPES[1])
            self.assert_same_json(croot, oroot, bid)
            self.restore_both_ways(data, croot, oroot, bid, n)

    def test_default_container_and_ascii_name(self):
        data, croot, oroot, bid = self.pair(200, 'zstd', SHAPES[0], container=None,
                                            name='plain')
        self.assert_same_json(croot, oroot, bid)
        cdir, _ = find_files(croot, bid)
        self.assertEqual(os.path.relpath(cdir, croot), '%s/%s/%s' % (bid[:2], bid[2:4], bid))
        self.restore_both_ways(data, croot, oroot, bid, 200)

    def test_empty_objects_list(self):
        """An unchanged incremental on the same parent: "objects": [] from both."""
        data, croot, oroot, bid = self.pair(500, 'zlib', SHAPES[0])
        shutil.rmtree(oroot)
        shutil.copytree(croot, oroot)  # both incrementals start from Cinder's full
        inc, vid, vol = uuid_for(0xe, 500), uuid_for(0xa, 500), self.work('vol-500')
        common = ['--backup-id', inc, '--volume-id', vid, '--object-size', '65536',
                  '--sha-block', '4096', '--container', 'c', '--name', 'inc']
        got = self.cinder.call('backup', '--root', croot, '--volume', vol, '--parent-id', bid,
                               '--time', FROZEN, *common)
        self.assertTrue(got['ok'], got)
        run_cb(oroot, 'backup', vol, '--parent', bid, *common,
               env={'CINDERBLOCK_NOW': FROZEN})
        self.assert_same_json(croot, oroot, inc)
        meta = json.loads(read(os.path.join(*find_files(oroot, inc)) + '_metadata'))
        self.assertEqual(meta['objects'], [])
        self.assertEqual(meta['parent_id'], bid)
        self.restore_both_ways(data, croot, oroot, inc, 500)

    def test_empty_volume(self):
        """A 0-byte volume, as Cinder backs one up: 0 objects, "objects": [] and
        "sha256s": [] from both, byte-identical; each restores the other's (an empty
        file)."""
        data, croot, oroot, bid = self.pair(800, 'zlib', (0, 65536, 4096))
        self.assertEqual(data, b'')
        self.assert_same_json(croot, oroot, bid)
        odir, oprefix = find_files(oroot, bid)
        self.assertEqual(json.loads(read(os.path.join(odir, oprefix + '_metadata')))['objects'],
                         [])
        self.assertEqual(
            json.loads(read(os.path.join(odir, oprefix + '_sha256file')))['sha256s'], [])
        self.assertEqual(sorted(os.listdir(odir)),
                         [oprefix + '_metadata', oprefix + '_sha256file'])
        self.restore_both_ways(data, croot, oroot, bid, 800)

    def test_volume_metadata_applied_by_cinder(self):
        vol = self.work('vol-600')
        data = make_volume(vol, 100000, seed=600)
        root = self.work('meta-600')
        _, out, _ = run_cb(root, 'backup', vol, '--metadata', 'owner=ops',
                           '--metadata', 'note=caf\u00e9 "x"', '--object-size', '65536')
        bid = out.strip()
        target = self.work('meta-600-restored')
        got = self.cinder.call('restore', '--root', root, '--backup-id', bid, '--target', target)
        self.assertTrue(got['ok'], got)
        self.assertEqual(read(target), data)
        self.assertEqual(got['volume_metadata'], {'owner': 'ops', 'note': 'caf\u00e9 "x"'})

    def test_stray_object_refused_by_both(self):
        data, croot, oroot, bid = self.pair(300, 'zlib', SHAPES[0])
        odir, prefix = find_files(oroot, bid)
        with open(os.path.join(odir, prefix + '-99999'), 'wb') as f:
            f.write(b'stray')
        got = self.cinder.call('restore', '--root', oroot, '--backup-id', bid,
                               '--target', self.work('stray-cinder'))
        self.assertFalse(got['ok'])
        self.assertIn('does not match', got['error'])
        rc, _, err = run_cb(oroot, 'restore', bid, self.work('stray-ours'), check=False)
        self.assertEqual(rc, 13)  # damage found
        self.assertIn(prefix + '-99999', err)
        self.assertFalse(os.path.exists(self.work('stray-ours')))

    def test_records_both_ways(self):
        data, croot, oroot, bid = self.pair(400, 'zlib', SHAPES[0])
        # ours -> Cinder: Cinder decodes our record and restores through it
        _, out, _ = run_cb(oroot, '--json', 'export-record', bid)
        rec = json.loads(out)
        self.assertEqual(rec['backup_service'], 'cinder.backup.drivers.posix.PosixBackupDriver')
        fields = json.loads(base64.b64decode(rec['backup_url']))
        self.assertEqual(list(fields)[:2], ['driver_info', 'id'])
        self.assertEqual(fields['id'], bid)
        self.assertEqual(fields['object_count'], 5)
        target = self.work('cinder-import')
        got = self.cinder.call('import', '--root', oroot, '--service', rec['backup_service'],
                               '--url', rec['backup_url'], '--target', target)
        self.assertTrue(got['ok'], got)
        self.assertEqual(read(target), data)
        # Cinder -> ours: we accept Cinder's own record and restore it
        got = self.cinder.call('export', '--root', croot, '--backup-id', bid)
        self.assertTrue(got['ok'], got)
        _, out, _ = run_cb(croot, '--json', 'import-record', got['service'], got['url'])
        self.assertEqual(json.loads(out)['imported']['id'], bid)
        target = self.work('ours-import')
        run_cb(croot, 'restore', '--force', bid, target)
        self.assertEqual(read(target), data)
        # a record for another kind of store is refused, naming it
        rc, _, err = run_cb(croot, 'import-record', 'cinder.backup.drivers.s3.S3BackupDriver',
                            got['url'], check=False)
        self.assertEqual(rc, 1)
        self.assertIn('S3BackupDriver', err)


if __name__ == '__main__':
    unittest.main(verbosity=2)
