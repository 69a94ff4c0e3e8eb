# SPDX-License-Identifier: Apache-2.0
"""Cinder's own Swift and S3 drivers, through cinder_peer.py, against the project's local Swift
(tests/services/swift.sh, started here on free loopback ports): cinderblock restores a chain that
Cinder's Swift driver wrote, and Cinder's S3 driver restores a chain that cinderblock wrote
through s3api. This is the harness bench/objstore.sh times Cinder with; a wrong container,
object size or chain lookup in it fails here, in seconds, not in a 15-minute bench."""

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

from compat_lib import (MIB, CinderTestCase, contiguous, make_volume, read, run_cb,
                        scattered, uuid_for)

SWIFT_SH = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'services', 'swift.sh')
VOLUME_ID = uuid_for(0x0b57, 0)
# small objects, so that a 6 MiB volume makes a chain of several objects per backup
OBJECT_SIZE = 1 * MIB


def free_base(count=5):
    """The first of COUNT consecutive loopback ports that nothing listens on."""
    for _ in range(50):
        base = random.randrange(30000, 50000)
        for port in range(base, base + count):
            with socket.socket() as s:
                if s.connect_ex(('127.0.0.1', port)) == 0:
                    break
        else:
            return base
    raise RuntimeError('no free ports')


class ObjectStores(CinderTestCase):
    @classmethod
    def setUpClass(cls):
        # the Swift first: the Cinder harness reads its credentials from the environment
        cls.swift_dir = tempfile.mkdtemp(prefix='cb-compat-swift-')
        base = free_base()
        env = dict(os.environ, SWIFT_PROXY_PORT=str(base), SWIFT_OBJECT_PORT=str(base + 1),
                   SWIFT_CONTAINER_PORT=str(base + 2), SWIFT_ACCOUNT_PORT=str(base + 3),
                   SWIFT_MEMCACHED_PORT=str(base + 4))
        started = subprocess.run([SWIFT_SH, 'start', cls.swift_dir], env=env,
                                 capture_output=True, text=True)
        if started.returncode != 0:
            cls.stop_swift()
            raise RuntimeError('swift.sh start failed: %s%s' % (started.stdout, started.stderr))
        out = subprocess.run([SWIFT_SH, 'env', cls.swift_dir], check=True,
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            key, value = line[len('export '):].split('=', 1)
            os.environ[key] = value
        os.environ['CINDERBLOCK_S3_ADDRESSING'] = 'path'
        super().setUpClass()
        cls.day1 = make_volume(cls.work('day1.img'), 6 * MIB + 12288, seed=19)
        cls.day2 = contiguous(scattered(cls.day1, seed=20), seed=21, at=2 * MIB + 4096,
                              length=MIB)
        with open(cls.work('day2.img'), 'wb') as f:
            f.write(cls.day2)

    @classmethod
    def stop_swift(cls):
        subprocess.run([SWIFT_SH, 'stop', cls.swift_dir], capture_output=True)
        shutil.rmtree(cls.swift_dir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.stop_swift()

    def cinder_ok(self, *args):
        got = self.cinder.call(*args)
        self.assertTrue(got['ok'], got)
        return got

    def test_cinderblock_restores_cinders_swift_chain(self):
        full, incr = uuid_for(0x0b57, 1), uuid_for(0x0b57, 2)
        common = ('--store', 'swift', '--container', 'compat-swift', '--volume-id', VOLUME_ID,
                  '--object-size', str(OBJECT_SIZE))
        got = self.cinder_ok('backup', *common, '--volume', self.work('day1.img'),
                             '--backup-id', full)
        self.assertEqual(got['container'], 'compat-swift')
        self.cinder_ok('backup', *common, '--volume', self.work('day2.img'), '--backup-id', incr,
                       '--parent-id', full)
        for backup_id, data in ((full, self.day1), (incr, self.day2)):
            out = self.work('restored-%s' % backup_id)
            run_cb('swift://compat-swift', 'restore', '--force', backup_id, out)
            self.assertTrue(read(out) == data, 'cinderblock restore of %s differs' % backup_id)
            os.remove(out)

    def test_cinders_s3_driver_restores_cinderblocks_chain(self):
        store = 's3://compat-s3'
        _, full, _ = run_cb(store, '-q', 'backup', self.work('day1.img'), '--volume-id',
                            VOLUME_ID, '--object-size', str(OBJECT_SIZE))
        _, incr, _ = run_cb(store, '-q', 'backup', self.work('day2.img'), '--volume-id',
                            VOLUME_ID, '--incremental')
        out = self.work('cinder-s3.img')
        self.cinder_ok('restore', '--store', 's3', '--container', 'compat-s3', '--backup-id',
                       incr.strip(), '--target', out)
        self.assertTrue(read(out) == self.day2, "Cinder's S3 restore of the chain differs")
        # a backup that is not in the bucket is named, not restored
        got = self.cinder.call('restore', '--store', 's3', '--container', 'compat-s3',
                               '--backup-id', uuid_for(0x0b57, 9), '--target', out)
        self.assertFalse(got['ok'])
        self.assertIn('0 objects *backup_%s_metadata' % uuid_for(0x0b57, 9), got['error'])
        self.assertNotEqual(full.strip(), incr.strip())


if __name__ == '__main__':
    if not os.path.exists('/usr/bin/swift-proxy-server'):
        print('swift is not installed (scripts/deps.sh services): skipped')
        sys.exit(77)
    unittest.main()
