# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the compatibility tests: volumes, our CLI, Cinder's harness."""

import json
import os
import random
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
FROZEN = '2024-01-02T03:04:05'
MIB = 1 << 20


def cinderblock():
    """The CLI under test (meson passes its path)."""
    return os.environ.get('CINDERBLOCK', 'cinderblock')


def make_volume(path, size, seed, zero_from=None, zero_to=None, run=(5000, 40000)):
    """Random, text and zero regions of run[0] to run[1] bytes, none of them borderline
    for compression: the "none" decision must not depend on which zlib or zstd build
    ran."""
    rnd = random.Random(seed)
    out = bytearray()
    kinds = ['random', 'text', 'zero', 'text', 'random', 'zero']
    words = [b'cinder', b'block', b'volume', b'backup', b'chunk', b'restore']
    i = 0
    while len(out) < size:
        n = rnd.randint(*run)
        kind = kinds[i % len(kinds)]
        if kind == 'random':
            out += rnd.randbytes(n)
        elif kind == 'zero':
            out += bytes(n)
        else:
            while n > 0:
                w = rnd.choice(words) + b' '
                out += w
                n -= len(w)
        i += 1
    del out[size:]
    if zero_from is not None:
        out[zero_from:zero_to] = bytes(zero_to - zero_from)
    with open(path, 'wb') as f:
        f.write(out)
    return bytes(out)


def scattered(data, seed, count=40):
    """COUNT random 4 KiB writes at 4 KiB-aligned offsets."""
    rnd = random.Random(seed)
    out = bytearray(data)
    for _ in range(count):
        at = rnd.randrange(0, len(out) // 4096 - 1) * 4096
        out[at:at + 4096] = rnd.randbytes(4096)
    return bytes(out)


def contiguous(data, seed, at=5 * MIB + 12345, length=10 * MIB):
    """LENGTH random bytes written at AT (by default 10 MiB, not on a sha block boundary)."""
    rnd = random.Random(seed)
    out = bytearray(data)
    out[at:at + length] = rnd.randbytes(length)
    return bytes(out)


def last_block(data):
    """A change in the last 300 bytes: the last, partial sha block of most volumes."""
    out = bytearray(data)
    out[-300:] = b'\xee' * 300
    return bytes(out)


def uuid_for(tag, n):
    return '%08x-0000-4000-8000-%012d' % (tag, n)


class Cinder:
    """One long-lived harness process: Cinder's start-up is paid once."""

    def __init__(self):
        self.proc = subprocess.Popen(
            ['/usr/bin/python3', os.path.join(HERE, 'cinder_peer.py'), 'batch'],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def call(self, *args):
        self.proc.stdin.write(json.dumps(list(args)) + '\n')
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError('the Cinder harness died')
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def run_cb(store, *args, env=None, check=True):
    """Run our CLI; return (exit status, stdout, stderr)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    if '://' not in store and ':' not in store.split('/')[0]:
        os.makedirs(store, exist_ok=True)  # a store must exist (`cinderblock init`)
    p = subprocess.run([cinderblock(), '--store', store] + list(args),
                       capture_output=True, text=True, env=full_env)
    if check and p.returncode != 0:
        raise AssertionError('cinderblock %s failed (%d): %s' %
                             (' '.join(args), p.returncode, p.stderr))
    return p.returncode, p.stdout, p.stderr


def find_files(root, backup_id):
    """(container dir, prefix) of a backup, from its metadata file's name."""
    suffix = 'backup_%s_metadata' % backup_id
    for dirpath, _, names in os.walk(root):
        for name in names:
            if name.endswith(suffix):
                return dirpath, name[:-len('_metadata')]
    raise AssertionError('no backup %s under %s' % (backup_id, root))


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def backup_json(root, backup_id, suffix='_metadata'):
    """A backup's _metadata (or, with suffix='_sha256file', its _sha256file), parsed."""
    d, prefix = find_files(root, backup_id)
    return json.loads(read(os.path.join(d, prefix + suffix)))


class Workdir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix='cb-compat-')

    def __call__(self, *parts):
        return os.path.join(self.path, *parts)

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)


class CinderTestCase(unittest.TestCase):
    """A test class with one Cinder harness process and one work directory for all its
    tests (Cinder's start-up costs seconds)."""

    @classmethod
    def setUpClass(cls):
        cls.cinder = Cinder()
        cls.work = Workdir()

    @classmethod
    def tearDownClass(cls):
        cls.cinder.close()
        cls.work.remove()

    def assert_restored_by_both(self, root, backup_id, data, tag):
        """cinderblock and Cinder's driver each restore BACKUP_ID from ROOT as DATA."""
        ours = self.work('ours-%s' % tag)
        run_cb(root, 'restore', '--force', backup_id, ours)
        self.assertTrue(read(ours) == data, 'cinderblock restore of %s differs' % backup_id)
        theirs = self.work('cinder-%s' % tag)
        got = self.cinder.call('restore', '--root', root, '--backup-id', backup_id,
                               '--target', theirs)
        self.assertTrue(got['ok'], got)
        self.assertTrue(read(theirs) == data, 'Cinder restore of %s differs' % backup_id)
        os.remove(ours)
        os.remove(theirs)
