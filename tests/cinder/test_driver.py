#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cinderblock.cinder's drivers inside real Cinder code (tests/cinder/cinder_env.py).

    test_driver.py WORKDIR STORE...      STORE: posix, swift (tempauth), keystone, peruser, s3

The Swift/S3/Keystone servers are the project's own (tests/services), started by
tests/store/servers/run.sh, whose environment files SWIFT_ENV and KS_ENV name them. Every
check looks at results: the bytes restored, the objects in the store, the rows' status and
fail_reason, the exceptions the manager raises, the notifications sent.
"""

import cinder_env  # noqa: I100 - first: it monkey-patches

import base64
import hashlib
import os
import random
import resource
import subprocess
import sys
import time
import traceback

import eventlet

CONF = cinder_env.CONF
MIB = 1 << 20
OBJ = 1 * MIB  # small objects: several per volume, as 50 MiB ones are for 50 GiB
FAILED = []


class Skip(Exception):
    pass


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def sha(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(MIB), b''):
            h.update(chunk)
    return h.hexdigest()


def same(a, b, what):
    check(sha(a) == sha(b), '%s: %s and %s differ' % (what, a, b))


def env_file(path):
    out = {}
    for line in open(path):
        line = line.strip()
        if line.startswith('export ') and '=' in line:
            k, v = line[7:].split('=', 1)
            out[k] = v.strip('"\'')
    return out


def make_volume(path, size, seed):
    """A mixed volume: random data, zeros (a hole and written ones), text."""
    rnd = random.Random(seed)
    with open(path, 'wb') as f:
        f.truncate(size)
        off = 0
        while off < size:
            kind = rnd.choice(['random', 'zero', 'text', 'random'])
            n = min(size - off, rnd.choice([64 * 1024, 300 * 1024, 1 * MIB]))
            f.seek(off)
            if kind == 'random':
                f.write(rnd.randbytes(n))
            elif kind == 'text':
                f.write((b'cinderblock %d ' % off * (n // 16 + 1))[:n])
            off += n


def modify(path, seed, count=5):
    rnd = random.Random(seed)
    size = os.path.getsize(path)
    with open(path, 'r+b') as f:
        for _ in range(count):
            f.seek(rnd.randrange(0, size - 4096))
            f.write(rnd.randbytes(4096))


def slow_volume(path, size):
    """Compressible but slow to compress (base64 text under bz2)."""
    rnd = random.Random(7)
    with open(path, 'wb') as f:
        left = size
        while left > 0:
            chunk = base64.b64encode(rnd.randbytes(3 * MIB // 4))[:min(left, MIB)]
            f.write(chunk)
            left -= len(chunk)


class FileLike(object):
    """A volume file without a descriptor, as RBD's wrapper (os_brick's RBDVolumeIOWrapper)
    is: read, write, seek (returning None), tell, flush, seekable; fileno() raises IOError.
    seekable=False: one that can only be read or written in order."""

    def __init__(self, path, mode, seekable=True):
        self._f = open(path, mode)
        self.reads = 0
        self.writes = 0
        if not seekable:
            self.seek = None
            self.seekable = lambda: False

    def seekable(self):
        return True

    def read(self, n=-1):
        self.reads += 1
        return self._f.read(n)

    def write(self, data):
        self.writes += 1
        return self._f.write(data)

    def seek(self, off, whence=0):
        self._f.seek(off, whence)

    def tell(self):
        return self._f.tell()

    def flush(self):
        self._f.flush()

    def fileno(self):
        raise IOError('this volume has no file descriptor (RBD)')

    def close(self):
        self._f.close()


# ---- the stores ----
class Store(object):
    """One kind of store: the options that configure both drivers, and a way to list and
    change objects that is not cinderblock's (swiftclient for Swift and S3's Swift)."""

    def __init__(self, kind, work):
        self.kind = kind
        self.work = work
        self.stock = cinder_env.STOCK['swift' if kind in ('keystone', 'peruser') else kind]
        self.ours = cinder_env.OURS['swift' if kind in ('keystone', 'peruser') else kind]
        self.container = None
        self.token = None
        self.catalog = None

    def configure(self):
        for opt in ('backup_file_size', 'backup_swift_object_size', 'backup_s3_object_size'):
            CONF.set_override(opt, OBJ)
        CONF.set_override('backup_compression_algorithm', 'zlib')
        CONF.set_override('cinderblock_threads', 2)
        if self.kind in ('swift', 's3'):
            sw = env_file(os.environ['SWIFT_ENV'])
            self.sw = sw
        if self.kind == 'swift':
            CONF.set_override('backup_swift_auth', 'single_user')
            CONF.set_override('backup_swift_auth_version', '1')
            CONF.set_override('backup_swift_auth_url', sw['ST_AUTH'])
            CONF.set_override('backup_swift_user', sw['ST_USER'])
            CONF.set_override('backup_swift_key', sw['ST_KEY'])
            CONF.set_override('backup_swift_container', 'cb-driver-tempauth')
        elif self.kind in ('keystone', 'peruser'):
            ks = env_file(os.environ['KS_ENV'])
            self.ks = ks
            if self.kind == 'keystone':
                CONF.set_override('backup_swift_auth', 'single_user')
                CONF.set_override('backup_swift_auth_version', '3')
                CONF.set_override('backup_swift_auth_url', ks['OS_AUTH_URL'])
                CONF.set_override('backup_swift_user', ks['OS_USERNAME'])
                CONF.set_override('backup_swift_key', ks['OS_PASSWORD'])
                CONF.set_override('backup_swift_project', ks['OS_PROJECT_NAME'])
                CONF.set_override('backup_swift_user_domain', 'Default')
                CONF.set_override('backup_swift_project_domain', 'Default')
                CONF.set_override('backup_swift_container', 'cb-driver-keystone')
            else:
                CONF.set_override('backup_swift_auth', 'per_user')
                CONF.set_override('backup_swift_url', None)
                CONF.set_override('backup_swift_container', 'cb-driver-peruser')
        elif self.kind == 's3':
            CONF.set_override('backup_s3_endpoint_url', sw['AWS_ENDPOINT_URL_S3'])
            CONF.set_override('backup_s3_store_access_key', sw['AWS_ACCESS_KEY_ID'])
            CONF.set_override('backup_s3_store_secret_key', sw['AWS_SECRET_ACCESS_KEY'])
            CONF.set_override('backup_s3_store_bucket', 'cb-driver-s3')

    def _conn(self):
        import swiftclient
        if self.kind in ('swift', 's3'):
            return swiftclient.Connection(authurl=self.sw['ST_AUTH'], user=self.sw['ST_USER'],
                                          key=self.sw['ST_KEY'])
        return swiftclient.Connection(
            authurl=self.ks['OS_AUTH_URL'], user=self.ks['OS_USERNAME'],
            key=self.ks['OS_PASSWORD'], auth_version='3',
            os_options={'project_name': self.ks['OS_PROJECT_NAME'],
                        'user_domain_name': 'Default', 'project_domain_name': 'Default',
                        'region_name': 'RegionOne'})

    def objects(self, container, prefix):
        """The names under `prefix` in `container`, as the store lists them."""
        if self.kind == 'posix':
            d = os.path.join(CONF.backup_posix_path, container)
            return sorted(n for n in os.listdir(d) if n.startswith(prefix)) \
                if os.path.isdir(d) else []
        try:
            _, objs = self._conn().get_container(container, prefix=prefix, full_listing=True)
        except Exception as e:  # noqa: B902 - a missing container lists nothing
            if getattr(e, 'http_status', None) == 404:
                return []
            raise
        return sorted(o['name'] for o in objs)

    def damage(self, container, name):
        """Flip one byte in the middle of an object."""
        if self.kind == 'posix':
            path = os.path.join(CONF.backup_posix_path, container, name)
            with open(path, 'r+b') as f:
                size = os.fstat(f.fileno()).st_size
                f.seek(size // 2)
                b = f.read(1)
                f.seek(size // 2)
                f.write(bytes([b[0] ^ 0x5a]))
            return
        conn = self._conn()
        _, body = conn.get_object(container, name)
        body = bytearray(body)
        body[len(body) // 2] ^= 0x5a
        conn.put_object(container, name, bytes(body))

    def context_for(self, svc):
        """per_user: the request's token and catalog, as Keystone gives them to the API."""
        if self.kind != 'peruser':
            return
        import json
        import urllib.request
        body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
            'name': self.ks['OS_USERNAME'], 'domain': {'name': 'Default'},
            'password': self.ks['OS_PASSWORD']}}},
            'scope': {'project': {'name': self.ks['OS_PROJECT_NAME'],
                                  'domain': {'name': 'Default'}}}}}
        req = urllib.request.Request(self.ks['OS_AUTH_URL'].rstrip('/') + '/auth/tokens',
                                     data=json.dumps(body).encode(),
                                     headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(req) as r:
            token = r.headers['X-Subject-Token']
            cat = json.loads(r.read())['token']['catalog']
        # Cinder's context carries the catalog in the v2 shape ({type, endpoints: [
        # {publicURL, ...}]}), filtered to the services it uses
        catalog = []
        for s in cat:
            eps = [e for e in s['endpoints'] if e.get('region') == 'RegionOne']
            entry = {}
            for e in eps:
                entry[e['interface'] + 'URL'] = e['url']
            catalog.append({'type': s['type'], 'name': s.get('name'), 'endpoints': [entry]})
        svc.ctxt.auth_token = token
        svc.ctxt.service_catalog = catalog


# ---- the tests ----
class Suite(object):
    def __init__(self, store, work):
        self.store = store
        self.work = work
        self.ours = cinder_env.Service(store.ours, {})
        self.stock = cinder_env.Service(store.stock, {})
        store.context_for(self.ours)
        store.context_for(self.stock)
        self.n = 0

    def path(self, name):
        self.n += 1
        return os.path.join(self.work, '%s-%d-%s' % (self.store.kind, self.n, name))

    def objects_of(self, b):
        return self.store.objects(b.container, b.service_metadata)

    def restore_new(self, svc, b, size, like=None):
        """Restore into a new file volume, as for `cinder backup-restore` without a volume."""
        out = self.path('restored')
        open(out, 'wb').close()
        v = svc.volume(size, display_name='restore_backup_%s' % b.id)
        res = svc.restore(b, v, out)
        check(res.status == 'available', 'restore of %s: volume status %s' % (b.id, res.status))
        if like:
            same(like, out, 'restore of %s' % b.id)
        return out, res

    # each test_* takes no arguments; `stores` says where it runs
    def test_full_and_restore(self):
        vol = self.path('vol')
        make_volume(vol, 9 * MIB + 12345, seed=1)
        v = self.ours.volume(os.path.getsize(vol))
        b = self.ours.backup(v, vol, name='full')
        check(b.status == 'available', 'backup status %s: %s' % (b.status, b.fail_reason))
        check(b.service == self.store.ours, 'service column %s' % b.service)
        names = self.objects_of(b)
        data = [n for n in names if not n.endswith(('_metadata', '_sha256file'))]
        check(b.object_count == len(data) and len(data) >= 9,
              'object_count %s, %d data objects %s' % (b.object_count, len(data), names))
        check(b.service_metadata + '_metadata' in names, 'no _metadata in %s' % names)
        self.restore_new(self.ours, b, os.path.getsize(vol), like=vol)
        # the stock driver restores it too (after the documented service update)
        self.restore_new(self.stock_view(b), b, os.path.getsize(vol), like=vol)
        notes = cinder_env.notifications('createprogress', b.id)
        pct = [n[2]['backup_percent'] for n in notes]
        check(pct and pct[-1] == 100 and pct == sorted(pct),
              'createprogress percentages %s' % pct)

    def stock_view(self, *backups):
        """Hand backups to the stock driver, as cinder-migrate --revert would."""
        for b in backups:
            b.refresh()
            b.service = self.store.stock
            b.save()
        return self.stock

    def ours_view(self, *backups):
        for b in backups:
            b.refresh()
            b.service = self.store.ours
            b.save()
        return self.ours

    def test_chain(self):
        vol = self.path('vol')
        make_volume(vol, 6 * MIB, seed=2)
        v = self.ours.volume(os.path.getsize(vol))
        copies = []
        b = None
        chain = []
        for i in range(3):
            if i:
                modify(vol, seed=10 + i)
            copy = self.path('copy%d' % i)
            subprocess.run(['cp', '--sparse=always', vol, copy], check=True)
            copies.append(copy)
            b = self.ours.backup(v, vol, parent=b)
            check(b.status == 'available', 'backup %d: %s %s' % (i, b.status, b.fail_reason))
            chain.append(b)
        incr = [n for n in self.objects_of(chain[2])
                if not n.endswith(('_metadata', '_sha256file'))]
        check(0 < len(incr) <= 5, 'the incremental stored %d objects' % len(incr))
        for b, copy in zip(chain, copies):
            self.restore_new(self.ours, b, os.path.getsize(vol), like=copy)
        # a grown volume: Cinder's rule, "do a full backup"
        big = self.ours.volume(2 * cinder_env.GIB + 1)
        with open(vol, 'r+b') as f:
            f.truncate(os.path.getsize(vol) + MIB)
        try:
            self.ours.backup(big, vol, parent=chain[2])
        except Exception as e:  # noqa: B902
            check('Do a full backup' in str(e), 'grown volume: %s' % e)
        else:
            raise AssertionError('an incremental of a grown volume was accepted')

    def test_restore_existing(self):
        """Onto an existing volume (a block device full of other data): every byte right."""
        if os.geteuid() != 0:
            raise Skip('needs root for a loop device')
        vol = self.path('vol')
        make_volume(vol, 8 * MIB, seed=3)
        v = self.ours.volume(os.path.getsize(vol))
        b = self.ours.backup(v, vol)
        img = self.path('dev')
        with open(img, 'wb') as f:
            f.write(b'\xff' * (8 * MIB))
        dev = subprocess.run(['losetup', '--find', '--show', img], check=True,
                             capture_output=True, text=True).stdout.strip()
        try:
            target = self.ours.volume(8 * MIB)
            res = self.ours.restore(b, target, dev)
            check(res.status == 'available', 'status %s' % res.status)
            subprocess.run(['blockdev', '--flushbufs', dev], check=True)
            same(vol, dev, 'restore onto a block device full of 0xff')
            # Cinder 23's volume_is_new=True on a zeroed device: zeros are skipped
            subprocess.run(['dd', 'if=/dev/zero', 'of=' + dev, 'bs=1M', 'count=8',
                            'status=none', 'oflag=direct'], check=True)
            d = self.ours.manager.service(self.ours.ctxt)
            b.refresh()
            b.status = 'restoring'
            b.save()
            with open(dev, 'wb') as f:
                d.restore(b, target.id, eventlet.tpool.Proxy(f), True)
            same(vol, dev, 'restore with volume_is_new onto a zeroed device')
        finally:
            subprocess.run(['losetup', '-d', dev])

    def test_cancel_backup(self):
        vol = self.path('slow')
        slow_volume(vol, 96 * MIB)
        CONF.set_override('backup_compression_algorithm', 'bz2')
        CONF.set_override('cinderblock_threads', 1)
        try:
            v = self.ours.volume(os.path.getsize(vol))
            box = {}
            g = eventlet.spawn(lambda: box.setdefault('b', self.ours.backup(v, vol)))
            from cinder import db
            b = None
            for _ in range(100):  # wait for the row and some objects
                eventlet.sleep(0.1)
                rows = [r for r in db.backup_get_all(self.ours.ctxt)
                        if r.volume_id == v.id]
                if rows and rows[0].service_metadata:
                    b = rows[0]
                    if len(self.store.objects(b.container, b.service_metadata)) >= 2:
                        break
            check(b is not None, 'the backup did not start')
            check(not g.dead, 'the backup ended before it could be cancelled')
            t0 = time.monotonic()
            db.backup_update(self.ours.ctxt, b.id, {'status': 'deleting'})
            g.wait()
            took = time.monotonic() - t0
            print('    the backup stopped %.2f s after the cancel' % took)
            check(took < 1.5, 'the backup stopped %.1f s after the cancel' % took)
            left = self.store.objects(b.container, b.service_metadata)
            check(left == [], 'a cancelled backup left %s' % left)
        finally:
            CONF.set_override('backup_compression_algorithm', 'zlib')
            CONF.set_override('cinderblock_threads', 2)

    def test_cancel_restore(self):
        vol = self.path('slow')
        slow_volume(vol, 48 * MIB)
        CONF.set_override('backup_compression_algorithm', 'bz2')
        try:
            v = self.ours.volume(os.path.getsize(vol))
            b = self.ours.backup(v, vol)
            check(b.status == 'available', 'backup: %s' % b.fail_reason)
            CONF.set_override('cinderblock_threads', 1)
            out = self.path('restored')
            open(out, 'wb').close()
            target = self.ours.volume(os.path.getsize(vol))
            g = eventlet.spawn(self.ours.restore, b, target, out)
            eventlet.sleep(1.0)
            check(not g.dead, 'the restore ended before it could be cancelled')
            from cinder import db
            t0 = time.monotonic()
            db.backup_update(self.ours.ctxt, b.id, {'status': 'available'})
            res = g.wait()
            took = time.monotonic() - t0
            print('    the restore stopped %.2f s after the cancel' % took)
            check(took < 1.5, 'the restore stopped %.1f s after the cancel' % took)
            check(res.status == 'error', 'a cancelled restore left the volume %s' % res.status)
        finally:
            CONF.set_override('backup_compression_algorithm', 'zlib')
            CONF.set_override('cinderblock_threads', 2)

    def test_corruption(self):
        vol = self.path('vol')
        make_volume(vol, 5 * MIB, seed=4)
        v = self.ours.volume(os.path.getsize(vol))
        b = self.ours.backup(v, vol)
        names = [n for n in self.objects_of(b) if n.endswith('-00003')]
        check(names, 'no object 3 in %s' % self.objects_of(b))
        self.store.damage(b.container, names[0])
        out = self.path('restored')
        open(out, 'wb').close()
        target = self.ours.volume(os.path.getsize(vol))
        try:
            self.ours.restore(b, target, out)
        except Exception as e:  # noqa: B902
            check(type(e).__name__ == 'InvalidBackup' and names[0] in str(e),
                  'a damaged object gave %s: %s' % (type(e).__name__, e))
        else:
            raise AssertionError('a damaged backup restored without an error')
        from cinder import objects
        t = objects.Volume.get_by_id(self.ours.ctxt, target.id)
        check(t.status in ('error', 'error_restoring'), 'volume status %s' % t.status)

    def test_delete(self):
        vol = self.path('vol')
        make_volume(vol, 3 * MIB, seed=5)
        v = self.ours.volume(os.path.getsize(vol))
        full = self.ours.backup(v, vol)
        modify(vol, 6)
        incr = self.ours.backup(v, vol, parent=full)
        before = self.objects_of(full)
        try:
            self.ours.delete(full)
        except Exception as e:  # noqa: B902
            check(incr.id in str(e), 'delete with a dependant: %s' % e)
        else:
            raise AssertionError('a backup with a dependant was deleted')
        check(self.objects_of(full) == before, 'the refused delete removed objects')
        self.ours.delete(incr)
        check(self.objects_of(incr) == [], 'objects left: %s' % self.objects_of(incr))
        full.refresh()
        self.ours.delete(full)
        check(self.objects_of(full) == [], 'objects left: %s' % self.objects_of(full))

    def test_export_import(self):
        vol = self.path('vol')
        make_volume(vol, 3 * MIB, seed=6)
        v = self.ours.volume(os.path.getsize(vol))
        b = self.ours.backup(v, vol)
        rec = self.ours.export(b)
        check(rec['backup_service'] == self.store.ours, 'record service %s' %
              rec['backup_service'])
        self.purge(b.id)
        imp = self.ours.import_(rec)
        check(imp.status == 'available', 'import: %s %s' % (imp.status, imp.fail_reason))
        self.restore_new(self.ours, imp, os.path.getsize(vol), like=vol)
        # a record of a backup that is not (completely) there is refused
        self.purge(b.id)
        meta = imp.service_metadata + '_metadata'
        self.remove(imp.container, meta)
        try:
            bad = self.ours.import_(rec)
        except Exception as e:  # noqa: B902
            check('cannot be imported' in str(e), 'import of a missing backup: %s' % e)
        else:
            raise AssertionError('imported a backup without _metadata: %s' % bad.status)

    def remove(self, container, name):
        if self.store.kind == 'posix':
            os.remove(os.path.join(CONF.backup_posix_path, container, name))
        else:
            self.store._conn().delete_object(container, name)

    def purge(self, backup_id):
        """The row gone for good, as on another Cinder where the record is imported."""
        import sqlalchemy
        engine = sqlalchemy.create_engine(CONF.database.connection)
        with engine.begin() as c:
            c.execute(sqlalchemy.text('DELETE FROM backups WHERE id = :id'), {'id': backup_id})

    def test_file_like(self):
        for seekable in (True, False):
            self.file_like(seekable)

    def file_like(self, seekable):
        """RBD's case: the manager hands the driver a file-like object (tpool.Proxy of it);
        read and written at offsets when it seeks, as a stream when it does not."""
        what = 'seekable' if seekable else 'in order'
        vol = self.path('vol')
        make_volume(vol, 4 * MIB + 777, seed=7)
        v = self.ours.volume(os.path.getsize(vol))
        src = FileLike(vol, 'rb', seekable)
        b = self.ours.backup(v, src)
        src.close()
        check(b.status == 'available', 'backup from a %s file-like volume: %s' %
              (what, b.fail_reason))
        check(src.reads > 1, 'the file-like volume was read %d times' % src.reads)
        out = self.path('restored')
        open(out, 'wb').close()
        dst = FileLike(out, 'r+b', seekable)
        target = self.ours.volume(os.path.getsize(vol))
        res = self.ours.restore(b, target, dst)
        dst.close()
        check(res.status == 'available', 'restore into a %s file-like volume: %s' %
              (what, res.status))
        check(dst.writes > 0, 'nothing was written through write()')
        same(vol, out, '%s file-like restore' % what)

    def test_mixed_chains(self):
        vol = self.path('vol')
        make_volume(vol, 5 * MIB, seed=8)
        size = os.path.getsize(vol)
        v = self.ours.volume(size)
        c0, c1 = self.path('c0'), self.path('c1')
        subprocess.run(['cp', vol, c0], check=True)
        full = self.ours.backup(v, vol)
        modify(vol, 20)
        subprocess.run(['cp', vol, c1], check=True)
        incr = self.stock.backup(v, vol, parent=full)
        check(incr.status == 'available', 'stock incremental on ours: %s' % incr.fail_reason)
        self.restore_new(self.stock_view(incr), incr, size, like=c1)
        self.restore_new(self.ours_view(incr), incr, size, like=c1)
        self.restore_new(self.stock_view(full), full, size, like=c0)
        # the reverse: ours on top of the stock driver's full
        subprocess.run(['cp', c0, vol], check=True)
        full2 = self.stock.backup(v, vol)
        check(full2.status == 'available', 'stock full: %s' % full2.fail_reason)
        modify(vol, 21)
        subprocess.run(['cp', vol, c1], check=True)
        incr2 = self.ours.backup(v, vol, parent=full2)
        check(incr2.status == 'available', 'our incremental on stock: %s' % incr2.fail_reason)
        self.restore_new(self.ours, incr2, size, like=c1)
        self.restore_new(self.stock_view(incr2), incr2, size, like=c1)
        self.restore_new(self.ours_view(full2), full2, size, like=c0)

    def cli(self, *args):
        """cinderblock's CLI on this store (Swift with tempauth: ST_AUTH, ST_USER, ST_KEY);
        returns its stdout."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(('OS_', 'ST_', 'AWS_', 'CINDERBLOCK_'))}
        env.update({k: self.store.sw[k] for k in ('ST_AUTH', 'ST_USER', 'ST_KEY')})
        p = subprocess.run([os.environ['CINDERBLOCK'], '--store',
                            'swift://' + CONF.backup_swift_container] + list(args),
                           capture_output=True, text=True, env=env)
        check(p.returncode == 0, 'cinderblock %s: exit %d: %s' % (' '.join(args), p.returncode,
                                                                  p.stderr))
        return p.stdout

    def swift_json(self, container, name):
        import json
        return json.loads(self.store._conn().get_object(container, name)[1])

    def test_consolidate(self):
        """The CLI writes a full and 6 incrementals to Swift and consolidates the 5th with
        --delete-chain; Cinder's stock driver, given the records `export-record` prints,
        restores the synthetic full and the 6th (now its incremental) bit-exact, and builds
        an incremental on the synthetic full that the CLI restores."""
        import json
        vol = self.path('vol')
        make_volume(vol, 6 * MIB + 777, seed=13)
        size = os.path.getsize(vol)
        ids, copies = [], []
        for i in range(7):
            if i:
                modify(vol, seed=40 + i, count=4 + i)
            copies.append(self.path('copy%d' % i))
            subprocess.run(['cp', vol, copies[-1]], check=True)
            args = ['backup', vol, '--object-size', '1M', '-q']
            ids.append(self.cli(*(args + (['--parent', ids[-1]] if ids else []))).strip())
        fifth = json.loads(self.cli('--json', 'show', ids[5]))['backup']
        sha5 = self.swift_json(fifth['container'], fifth['prefix'] + '_sha256file')
        out = self.cli('--json', 'consolidate', ids[5], '--object-size', '1M', '--delete-chain')
        summary = json.loads(out.splitlines()[-1])
        full = summary['backup']
        check(summary['deleted'] == ids[5::-1], 'deleted %s' % summary['deleted'])
        check(full['parent_id'] is None and full['object_count'] == 7,
              'synthetic full %s' % full)
        sha = self.swift_json(full['container'], full['prefix'] + '_sha256file')
        check(sha['sha256s'] == sha5['sha256s'], "the sha256s differ from the 5th's")
        sixth = self.swift_json(full['container'], json.loads(
            self.cli('--json', 'show', ids[6]))['backup']['prefix'] + '_metadata')
        check(sixth['parent_id'] == full['id'], "the 6th's parent_id: %s" % sixth['parent_id'])
        check(self.store.objects(full['container'], fifth['prefix']) == [],
              'the 5th left %s' % self.store.objects(full['container'], fifth['prefix']))
        out = self.path('restored')
        self.cli('restore', '--force', full['id'], out)
        same(copies[5], out, 'our restore of the synthetic full')
        # Cinder's stock driver, from records, as `cinder backup-import` makes its rows
        imported = []
        for bid in (full['id'], ids[6]):
            rec = json.loads(self.cli('--json', 'export-record', bid))
            check(rec['backup_service'] == self.store.stock, 'record for %s' %
                  rec['backup_service'])
            b = self.stock.import_(rec)
            check(b.status == 'available', 'import of %s: %s' % (bid, b.fail_reason))
            imported.append(b)
        check(imported[1].parent_id == full['id'], 'imported parent %s' % imported[1].parent_id)
        self.restore_new(self.stock, imported[0], size, like=copies[5])
        self.restore_new(self.stock, imported[1], size, like=copies[6])
        subprocess.run(['cp', copies[5], vol], check=True)
        modify(vol, seed=50)
        v = self.stock.volume(size, vid=full['volume_id'])
        inc = self.stock.backup(v, vol, parent=imported[0])
        check(inc.status == 'available', 'stock incremental: %s' % inc.fail_reason)
        check(0 < inc.object_count <= 5, 'stock incremental of %d objects' % inc.object_count)
        self.cli('restore', '--force', inc.id, out)
        same(vol, out, "our restore of the stock driver's incremental on the synthetic full")

    def test_empty_volume(self):
        vol = self.path('empty')
        open(vol, 'wb').close()
        v = self.ours.volume(0)
        b = self.ours.backup(v, vol)
        check(b.status == 'available' and b.object_count == 0,
              'empty volume: %s, %s objects, %s' % (b.status, b.object_count, b.fail_reason))
        out, _ = self.restore_new(self.ours, b, 0)
        check(os.path.getsize(out) == 0, 'restored %d bytes' % os.path.getsize(out))
        out, _ = self.restore_new(self.stock_view(b), b, 0)
        check(os.path.getsize(out) == 0, 'stock restored %d bytes' % os.path.getsize(out))

    def test_volume_metadata(self):
        """Name, bootable flag, image and volume metadata come back, through either driver."""
        from cinder import db
        for svc in (self.ours, self.stock):
            vol = self.path('vol')
            make_volume(vol, 2 * MIB, seed=9)
            v = svc.volume(os.path.getsize(vol), display_name='db-vol', bootable=True)
            db.volume_metadata_update(svc.ctxt, v.id, {'role': 'db'}, False)
            db.volume_glance_metadata_create(svc.ctxt, v.id, 'image_name', 'debian-12')
            b = svc.backup(v, vol)
            check(b.status == 'available', '%s: %s' % (svc.driver, b.fail_reason))
            for rsvc in (self.ours, self.stock):
                if rsvc is self.ours:
                    self.ours_view(b)
                else:
                    self.stock_view(b)
                _, t = self.restore_new(rsvc, b, os.path.getsize(vol), like=vol)
                what = 'made by %s, restored by %s' % (svc.driver, rsvc.driver)
                check(t.display_name == 'db-vol', '%s: name %s' % (what, t.display_name))
                check(t.bootable, '%s: not bootable' % what)
                meta = db.volume_metadata_get(rsvc.ctxt, t.id)
                check(meta.get('role') == 'db', '%s: metadata %s' % (what, meta))
                glance = db.volume_glance_metadata_get(rsvc.ctxt, t.id)
                check(any(g.key == 'image_name' and g.value == 'debian-12' for g in glance),
                      '%s: image metadata %s' % (what, [(g.key, g.value) for g in glance]))

    def test_migrate(self):
        """The documented switch: stock backups restore and delete with ours after
        `cinderblock cinder-migrate`, and go back with --revert."""
        vol = self.path('vol')
        make_volume(vol, 2 * MIB, seed=12)
        v = self.stock.volume(os.path.getsize(vol))
        b = self.stock.backup(v, vol)
        conf = self.path('cinder.conf')
        with open(conf, 'w') as f:
            f.write('[DEFAULT]\nbackup_driver = %s\n[database]\nconnection = %s\n' %
                    (self.store.stock, CONF.database.connection))
        cli = [os.environ['CINDERBLOCK'], 'cinder-migrate', '--config-file', conf]
        dry = subprocess.run(cli + ['--dry-run'], capture_output=True, text=True)
        check(dry.returncode == 0 and "SET service = '%s'" % self.store.ours in dry.stdout,
              'dry run: %d %s %s' % (dry.returncode, dry.stdout, dry.stderr))
        b.refresh()
        check(b.service == self.store.stock, 'the dry run changed the row: %s' % b.service)
        try:
            self.restore_new(self.ours, b, os.path.getsize(vol))
        except Exception as e:  # noqa: B902
            check('is not the backup service' in str(e), 'before the switch: %s' % e)
        else:
            raise AssertionError('our driver restored a stock backup before the switch')
        b.refresh()
        b.status = 'available'
        b.save()
        run = subprocess.run(cli, capture_output=True, text=True)
        check(run.returncode == 0 and 'now belong to %s' % self.store.ours in run.stdout,
              'migrate: %d %s %s' % (run.returncode, run.stdout, run.stderr))
        self.restore_new(self.ours, b, os.path.getsize(vol), like=vol)
        rev = subprocess.run(cli + ['--revert'], capture_output=True, text=True)
        check(rev.returncode == 0, 'revert: %s' % rev.stderr)
        self.restore_new(self.stock, b, os.path.getsize(vol), like=vol)
        self.stock.delete(b)
        check(self.objects_of(b) == [], 'left: %s' % self.objects_of(b))
        bad = subprocess.run(cli[:3] + [conf + '.missing', '--dry-run'], capture_output=True,
                             text=True)
        check(bad.returncode == 2 and 'cinder.conf.missing' in bad.stderr,
              'a missing cinder.conf: %d %s' % (bad.returncode, bad.stderr))

    def test_nfs_config(self):
        """The NFS driver (this machine's kernel has no NFS client, so no share is mounted
        here): without backup_share the manager's set-up check refuses it, naming it, as the
        stock driver's does."""
        from cinderblock.cinder import NFSBackupDriver
        from cinder import exception
        from cinder.backup.drivers import nfs  # noqa: F401 - registers backup_share
        CONF.set_override('backup_share', None)
        d = NFSBackupDriver(self.ours.ctxt)
        check(d.backup_path == CONF.backup_posix_path, 'no share: path %s' % d.backup_path)
        try:
            d.check_for_setup_error()
        except exception.InvalidConfigurationValue as e:
            check('backup_share' in str(e), 'the error: %s' % e)
        else:
            raise AssertionError('the NFS driver accepted a configuration without a share')

    def test_memory(self):
        """Peak RSS bounded whatever backup_file_size is (here Cinder's default, 1999994880:
        the stock driver holds about twice an object), for a volume given as a descriptor
        and as a seekable file-like object (RBD's), both ways."""
        if self.store.kind != 'posix':
            raise Skip('posix only')
        vol = self.path('big')
        make_volume(vol, 256 * MIB, seed=11)
        CONF.set_override('backup_file_size', 1999994880)
        try:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            v = self.ours.volume(os.path.getsize(vol))
            b = self.ours.backup(v, vol)
            self.restore_new(self.ours, b, os.path.getsize(vol), like=vol)
            check(b.object_count == 1, 'one object expected, %d' % b.object_count)
            src = FileLike(vol, 'rb')
            b2 = self.ours.backup(v, src)
            src.close()
            check(b2.status == 'available', 'file-like backup: %s' % b2.fail_reason)
            out = self.path('restored')
            open(out, 'wb').close()
            dst = FileLike(out, 'r+b')
            t = self.ours.volume(os.path.getsize(vol))
            res = self.ours.restore(b2, t, dst)
            dst.close()
            check(res.status == 'available', 'file-like restore: %s' % res.status)
            same(vol, out, 'file-like restore of one 256 MiB object')
            grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
            print('    peak RSS grew by %.0f MiB (256 MiB objects, descriptor and file-like)' %
                  grew)
            check(grew < 160, 'peak RSS grew by %.0f MiB for a 256 MiB object' % grew)
        finally:
            CONF.set_override('backup_file_size', OBJ)


# Every store gets the whole list; the migration and the memory figure are posix's (the
# rule and the pipeline are the same for all stores), volume metadata is the database's.
COMMON = ['full_and_restore', 'chain', 'restore_existing', 'cancel_backup', 'cancel_restore',
          'corruption', 'delete', 'export_import', 'file_like', 'mixed_chains', 'empty_volume']
STORE_TESTS = {
    'posix': ['memory'] + COMMON + ['volume_metadata', 'migrate', 'nfs_config'],
    'swift': COMMON + ['consolidate'],
    'keystone': COMMON,
    'peruser': ['full_and_restore', 'chain', 'delete', 'mixed_chains'],
    's3': COMMON,
}


def main():
    work = os.path.abspath(sys.argv[1])
    kinds = sys.argv[2:] or ['posix']
    os.makedirs(work, exist_ok=True)
    cinder_env.setup(work)
    passed = skipped = 0
    for kind in kinds:
        store = Store(kind, work)
        try:
            store.configure()
            suite = Suite(store, work)
        except Exception:  # noqa: B902 - the store's other tests still run
            FAILED.append('%s set-up' % kind)
            print('FAIL %s set-up' % kind)
            traceback.print_exc()
            continue
        only = os.environ.get('CB_DRIVER_TESTS')
        for name in STORE_TESTS[kind]:
            if only and name not in only.split(','):
                continue
            t0 = time.monotonic()
            try:
                getattr(suite, 'test_' + name)()
            except Skip as e:
                skipped += 1
                print('SKIP %s %s: %s' % (kind, name, e))
                continue
            except Exception:  # noqa: B902
                FAILED.append('%s %s' % (kind, name))
                print('FAIL %s %s (%.1f s)' % (kind, name, time.monotonic() - t0))
                traceback.print_exc()
                continue
            passed += 1
            print('ok   %s %s (%.1f s)' % (kind, name, time.monotonic() - t0))
    print('%d passed, %d skipped, %d failed%s' % (passed, skipped, len(FAILED),
                                                   ': ' + ', '.join(FAILED) if FAILED else ''))
    return 1 if FAILED else 0


if __name__ == '__main__':
    sys.exit(main())
