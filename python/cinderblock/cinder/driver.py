# SPDX-License-Identifier: Apache-2.0
"""The part every cinderblock backup driver shares.

Cinder's bookkeeping stays here, in Python, as Cinder's chunked driver does it: the
container and the object prefix (service_metadata), the parent from the database, the
volume's metadata (BackupMetadataAPI), object_count, the cancel check and the progress
notifications. The data goes through libcinderblock (cinderblock._lib): reading the volume,
hashing, the diff against the parent, compression, the objects, _sha256file and _metadata;
restores with every object verified; deletes.

Threads: the manager calls us in a green thread. The library call runs in one of
eventlet's native threads (tpool.execute), and this green thread meanwhile polls the
backup's status (cancel) and sends the notifications. The library's callbacks run in its
own threads: they only copy numbers and flip flags (cinderblock._lib), never log.
"""

import io
import os

import eventlet
from eventlet import tpool
from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import timeutils

from cinder.backup import chunkeddriver  # noqa: F401 - registers backup_timer_interval, ...
from cinder.backup import driver
from cinder import exception
from cinder import objects
from cinder.objects import fields
from cinder.volume import volume_utils

from cinderblock import _lib
from cinderblock.cinder import options  # noqa: F401 - registers cinderblock_*

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

# How often the green thread looks at the backup's status while the library works: a
# cancel is seen within this, and the library stops within a piece of work after it.
POLL_SECONDS = 0.25
GIB = 1 << 30


def _raw(f):
    """The object inside eventlet's tpool.Proxy: the library's threads call it directly
    (a Proxy would hand the call back to the tpool from a thread eventlet does not know)."""
    return getattr(f, '_obj', f)


def _fileno(f):
    """The descriptor of the manager's volume file, or None for a file-like object without
    one (RBD's wrapper raises IOError)."""
    try:
        fd = f.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation, ValueError):
        return None
    return fd if isinstance(fd, int) and fd >= 0 else None


class CinderblockDriver(driver.BackupDriver):
    """Common code; the classes in cinderblock.cinder say which store and which options."""

    # Set by each subclass.
    STOCK_DRIVER = None  # the Cinder driver class this one replaces
    FLAT_PREFIX = False  # posix-style prefixes (volume_<vid>_<ts>_backup_<bid>)

    def __init__(self, context):
        super().__init__(context)
        self.az = CONF.storage_availability_zone
        self.compression = CONF.backup_compression_algorithm
        self.support_force_delete = True
        if CONF.cinderblock_library:
            os.environ.setdefault('CINDERBLOCK_LIBRARY', CONF.cinderblock_library)

    # ---- what each store says ----
    def _object_size(self):
        raise NotImplementedError

    def _sha_block(self):
        raise NotImplementedError

    def _default_container(self):
        raise NotImplementedError

    def _progress_timer(self):
        raise NotImplementedError

    def _store_url(self):
        raise NotImplementedError

    def _store_settings(self):
        """The store's settings (credentials), as libcinderblock names them."""
        return {}

    def _store_kwargs(self):
        return {}

    def update_container_name(self, backup, container):
        return container

    # ---- helpers ----
    def _check_sizes(self):
        if self._object_size() <= 0 or self._sha_block() <= 0:
            raise exception.InvalidBackup(reason='the object size (%d) and the sha block '
                                          'size (%d) must be positive' %
                                          (self._object_size(), self._sha_block()))
        if self._object_size() % self._sha_block():
            raise exception.InvalidBackup(reason='Chunk size is not multiple of block size '
                                          'for creating hash.')

    def _store(self, locks=True):
        kw = dict(availability_zone=self.az, timeout=CONF.cinderblock_timeout,
                  lock_wait=CONF.cinderblock_lock_wait, no_lock=not locks)
        kw.update(self._store_kwargs())
        try:
            return _lib.Store(self._store_url(), settings=self._store_settings(), **kw)
        except _lib.Error as e:
            raise exception.BackupDriverException(reason=str(e))

    def _prefix(self, backup):
        ts = timeutils.utcnow().strftime('%Y%m%d%H%M%S')
        if self.FLAT_PREFIX:
            return 'volume_%s_%s_backup_%s' % (backup.volume_id, ts, backup.id)
        return 'volume_%s/%s/az_%s_backup_%s' % (backup.volume_id, ts, self.az, backup.id)

    def _chain(self, backup):
        """The backup and its parents from the database, newest first."""
        chain = [backup]
        seen = {backup.id}
        while chain[-1].parent_id:
            parent = objects.Backup.get_by_id(self.context, chain[-1].parent_id)
            if parent.id in seen:
                raise exception.InvalidBackup(reason='backup %s: its chain of parents '
                                              'loops' % backup.id)
            seen.add(parent.id)
            chain.append(parent)
        return chain

    @staticmethod
    def _hint(store, chain):
        for b in chain:
            if b.container is not None and b.service_metadata:
                store.hint(b.id, b.container, b.service_metadata)

    def _run(self, fn, poll):
        """fn() in a native thread; poll() every POLL_SECONDS in this green thread."""
        state = {'done': False}

        def poller():
            while not state['done']:
                eventlet.sleep(POLL_SECONDS)
                if not state['done']:
                    poll()
        g = eventlet.spawn(poller)
        try:
            return tpool.execute(fn)
        finally:
            state['done'] = True
            g.kill()

    def _notify(self, backup, percent, prefix):
        volume_utils.notify_about_backup_usage(
            self.context, backup, 'createprogress',
            extra_usage_info={'backup_percent': percent, 'prefix': prefix})

    # ---- Cinder's driver interface ----
    def check_for_setup_error(self):
        self._check_sizes()
        self._store(locks=False).close()

    def backup(self, backup, volume_file, backup_metadata=True):
        self._check_sizes()
        volume = self.db.volume_get(self.context, backup.volume_id)
        if volume['size'] <= 0:
            raise exception.InvalidVolume(reason='volume size %d is invalid.' %
                                          volume['size'])
        chain = []
        if backup.parent_id:
            chain = self._chain(objects.Backup.get_by_id(self.context, backup.parent_id))
            if backup.size > chain[0].size:
                raise exception.InvalidBackup(reason='Volume size increased since the '
                                              'last backup. Do a full backup.')
        container = self.update_container_name(backup, backup.container)
        if container:
            if container != backup.container:
                backup.container = container
        elif backup.container is None:
            backup.container = self._default_container()
        backup.service_metadata = self._prefix(backup)
        backup.save()
        volume_meta = self.get_metadata(backup.volume_id) if backup_metadata else None

        raw = _raw(volume_file)
        fd = _fileno(raw)
        store = self._store()
        try:
            self._hint(store, chain)
            return self._backup_with(store, backup, raw if fd is None else fd, volume_meta)
        finally:
            store.close()

    def _backup_with(self, store, backup, source, volume_meta):
        control = _lib.Control()
        prefix = backup.service_metadata
        note = {'at': timeutils.utcnow(), 'objects': 0}
        every = max(1, CONF.backup_object_number_per_notification)

        def poll():
            with backup.as_read_deleted():
                backup.refresh()
            if backup.status in (fields.BackupStatus.DELETING, fields.BackupStatus.DELETED):
                control.cancel()
                return
            p = control.progress
            timer = (self._progress_timer() and timeutils.is_older_than(
                note['at'], CONF.backup_timer_interval))
            if timer or p.objects_done >= note['objects'] + every:
                note['at'] = timeutils.utcnow()
                note['objects'] = p.objects_done
                self._notify(backup, p.percent(), prefix)

        def work():
            return store.backup(source, volume_id=backup.volume_id, backup_id=backup.id,
                                container=backup.container, prefix=prefix,
                                created_at=str(backup.created_at),
                                parent_id=backup.parent_id, name=backup.display_name,
                                description=backup.display_description,
                                volume_meta=volume_meta or None,
                                compression=self.compression,
                                object_size=self._object_size(),
                                sha_block=self._sha_block(),
                                threads=CONF.cinderblock_threads, control=control)
        try:
            info = self._run(work, poll)
        except _lib.Error as e:
            if e.code == _lib.ECANCELED or control.cancelled:
                # What the library wrote is gone; Cinder's delete may have run meanwhile,
                # and runs again here as the stock driver does, for anything in between.
                LOG.info('Backup %s cancelled: removing what it wrote.', backup.id)
                self.delete_backup(backup)
                return None
            LOG.error('Backup %s failed: %s', backup.id, e)
            if e.code in (_lib.ECORRUPT, _lib.EINVAL):
                raise exception.InvalidBackup(reason=str(e))
            raise exception.BackupDriverException(reason=str(e))
        self._notify(backup, 100, prefix)
        backup.object_count = info['object_count']
        backup.save()
        LOG.info('Backup %(id)s: %(n)d objects, %(stored)d bytes stored for %(size)d bytes '
                 'of volume.', {'id': backup.id, 'n': info['object_count'],
                                'stored': info['stored_bytes'], 'size': info['size']})
        return None

    def restore(self, backup, volume_id, volume_file, volume_is_new=None):
        """Restore `backup` (with its chain) into the volume.

        volume_is_new (Cinder 23 on) says the volume reads as zeros, so zeros need not be
        written. Cinder 21 does not pass it and restores onto existing volumes through the
        same call: without it every byte is written (a regular file the manager opened
        for writing, truncated by that open, is known to read as zeros)."""
        chain = self._chain(backup)
        for b in chain:
            if b.container is None or not b.service_metadata:
                raise exception.InvalidBackup(reason='backup %s has no container or object '
                                              'prefix: it was never written' % b.id)
        raw = _raw(volume_file)
        fd = _fileno(raw)
        store = self._store()
        try:
            self._hint(store, chain)
            self._restore_with(store, backup, volume_id, raw if fd is None else fd,
                               bool(volume_is_new))
            if fd is None and hasattr(raw, 'flush'):
                raw.flush()
            metas = [store.show(b.id).get('volume_meta') for b in reversed(chain)]
        except _lib.Error as e:
            raise exception.InvalidBackup(reason=str(e))
        finally:
            store.close()
        for meta in metas:
            if not meta:
                continue
            try:
                self.put_metadata(volume_id, meta)
            except exception.BackupMetadataUnsupportedVersion:
                raise exception.BackupOperationError(
                    'Metadata restore failed due to incompatible version.')

    def _restore_with(self, store, backup, volume_id, target, zeroed):
        control = _lib.Control()

        def poll():
            with backup.as_read_deleted():
                backup.refresh()
            if backup.status != fields.BackupStatus.RESTORING:
                control.cancel()

        def work():
            store.restore(backup.id, target, target_zeroed=zeroed,
                          verify=CONF.cinderblock_verify_restore and isinstance(target, int),
                          threads=CONF.cinderblock_threads, control=control)
        try:
            self._run(work, poll)
        except _lib.Error as e:
            if e.code == _lib.ECANCELED or control.cancelled:
                raise exception.BackupRestoreCancel(back_id=backup.id, vol_id=volume_id)
            LOG.error('Restore of backup %s failed: %s', backup.id, e)
            if e.code in (_lib.ECORRUPT, _lib.ENOTFOUND, _lib.EINVAL):
                raise exception.InvalidBackup(reason=str(e))
            raise exception.BackupDriverException(reason=str(e))

    def delete_backup(self, backup):
        if backup.container is None or not backup.service_metadata:
            return  # nothing was ever written
        children = objects.BackupList.get_all(self.context, filters={'parent_id': backup.id})
        if len(children):
            raise exception.InvalidBackup(
                reason='backup %s has %d dependent incremental backup(s) (%s): delete '
                'them first' % (backup.id, len(children),
                                ', '.join(c.id for c in children)))
        # Cinder's database orders deletes against backups; the store's exclusive lock
        # would make a delete wait for every backup running in the store.
        store = self._store(locks=False)
        try:
            n = tpool.execute(store.delete_at, backup.container, backup.service_metadata)
        except _lib.Error as e:
            raise exception.BackupDriverException(reason=str(e))
        finally:
            store.close()
        LOG.info('Backup %s deleted: %d objects removed.', backup.id, n)

    def export_record(self, backup):
        """Where the backup is, so that an import can check that it is there."""
        return {'cinderblock': {'container': backup.container,
                                'prefix': backup.service_metadata}}

    def import_record(self, backup, driver_info):
        where = (driver_info or {}).get('cinderblock')
        if not where:
            return  # a record of Cinder's own driver carries nothing to check
        store = self._store(locks=False)
        try:
            store.hint(backup.id, where['container'], where['prefix'])
            info = store.show(backup.id)
        except _lib.Error as e:
            raise exception.InvalidBackup(reason='backup %s cannot be imported: %s' %
                                          (backup.id, e))
        finally:
            store.close()
        if info.get('problem'):
            raise exception.InvalidBackup(reason='backup %s cannot be imported: %s' %
                                          (backup.id, info['problem']))

