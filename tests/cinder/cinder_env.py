# SPDX-License-Identifier: Apache-2.0
"""A real Cinder backup service in one process, for the driver tests.

Cinder's own code throughout: oslo.config, its database (sqlite, built by its migrations),
cinder.objects, and BackupManager itself, whose create/continue/restore/delete/export/import
paths call the driver exactly as cinder-backup does (tpool.Proxy around the volume file,
eventlet monkey-patching as cinder/cmd/backup.py does it). Only what needs a volume service
and a host's storage is replaced: the volume manager's RPC answers (`get_backup_device`,
`secure_file_operations_enabled`) and os-brick's attach/detach, which here hand the manager
a file, a block device, or a file-like object standing for RBD's, as a real attach does.

Import this module before anything else: it monkey-patches.
"""

import eventlet

eventlet.monkey_patch()
import __original_module_threading as orig_threading  # noqa: E402
import threading  # noqa: E402

orig_threading.current_thread.__globals__['_active'] = threading._active

import os  # noqa: E402
import types  # noqa: E402
import uuid  # noqa: E402

from eventlet import tpool  # noqa: E402
from oslo_config import cfg  # noqa: E402

GIB = 1 << 30
STOCK = {
    'posix': 'cinder.backup.drivers.posix.PosixBackupDriver',
    'swift': 'cinder.backup.drivers.swift.SwiftBackupDriver',
    's3': 'cinder.backup.drivers.s3.S3BackupDriver',
}
OURS = {
    'posix': 'cinderblock.cinder.PosixBackupDriver',
    'swift': 'cinderblock.cinder.SwiftBackupDriver',
    's3': 'cinderblock.cinder.S3BackupDriver',
}
CONF = cfg.CONF


def setup(workdir):
    """Configure Cinder (no config file), build its database, start the fake RPC layer.
    Backup notifications are recorded on their way to Cinder's notifier (whose drivers
    are the default none)."""
    from cinder.common import config  # noqa: F401
    from cinder import objects
    objects.register_all()
    CONF([], project='cinder', default_config_files=[], default_config_dirs=[])
    from cinder.backup import manager  # noqa: F401 - registers the backup options
    from cinder.backup.drivers import posix, swift, s3  # noqa: F401
    import cinderblock.cinder  # noqa: F401 - registers cinderblock_*, as backup_driver would
    from cinder import rpc
    from cinder.db import migration
    from oslo_messaging import opts as messaging_opts
    for group, opts in messaging_opts.list_opts():
        if group in (None, 'DEFAULT'):
            CONF.register_opts(opts)
        elif group == 'oslo_messaging_notifications':
            CONF.register_opts(opts, group=group)
    CONF.set_override('connection', 'sqlite:///' + os.path.join(workdir, 'cinder.sqlite'),
                      group='database')
    CONF.set_override('state_path', workdir)
    CONF.set_override('transport_url', 'fake:/')
    CONF.set_override('backup_posix_path', os.path.join(workdir, 'backups'))
    rpc.init(CONF)
    migration.db_sync()
    tpool.set_num_threads(CONF.backup_native_threads_pool_size)
    _record_notifications()


_NOTES = []


def _record_notifications():
    from cinder.volume import volume_utils
    real = volume_utils.notify_about_backup_usage

    def spy(context, backup, event_suffix, extra_usage_info=None, host=None):
        _NOTES.append((event_suffix, backup.id, dict(extra_usage_info or {})))
        return real(context, backup, event_suffix, extra_usage_info=extra_usage_info,
                    host=host)
    volume_utils.notify_about_backup_usage = spy


def notifications(event_suffix=None, backup_id=None):
    """[(event_suffix, backup id, extra_usage_info)] sent so far."""
    return [n for n in _NOTES if (event_suffix is None or n[0] == event_suffix) and
            (backup_id is None or n[1] == backup_id)]


class FakeVolumeRPC(object):
    """The volume manager's answers the backup manager asks for."""

    def secure_file_operations_enabled(self, ctxt, volume):
        return True

    def get_backup_device(self, ctxt, backup, volume):
        pass


class Service(object):
    """One BackupManager configured with `driver` (a class path)."""

    def __init__(self, driver, devices):
        from cinder.backup import manager
        from cinder.volume import volume_utils
        from cinder import context
        CONF.set_override('backup_driver', driver)
        self.manager = manager.BackupManager(host='cb-test-host')
        self.manager.volume_rpcapi = FakeVolumeRPC()
        self.devices = devices  # volume id -> path, or a file-like object
        self.manager._attach_device = self._attach
        self.manager._detach_device = lambda *a, **k: None
        volume_utils.brick_get_connector_properties = lambda *a, **k: {}
        self.ctxt = context.get_admin_context()
        # a request's owner: the manager's user messages need a project
        self.ctxt.project_id = 'p'
        self.ctxt.user_id = 'u'
        self.driver = driver
        # as init_host does: check_for_setup_error until it passes
        # (a looping call in a green thread: let it run), with init_host's context: an admin
        # one without a user (Swift's stock driver then skips its per-user set-up)
        self.manager.setup_backup_backend(context.get_admin_context())
        for _ in range(100):
            if self.manager.is_working():
                break
            eventlet.sleep(0.05)
        assert self.manager.is_working(), 'the driver did not initialise (check_for_setup_error)'

    def _attach(self, ctxt, device, properties, is_snapshot=False):
        return {'device': {'path': self.devices[device.id]}}

    # ---- rows ----
    def volume(self, size_bytes, vid=None, **fields):
        """A volume row (through the DB API, which keeps a chosen id)."""
        from cinder import db
        from cinder import objects
        from cinder.volume import volume_types
        values = dict(id=vid or str(uuid.uuid4()), size=max(1, -(-size_bytes // GIB)),
                      status='available', attach_status='detached', host='cb-test-host',
                      user_id='u', project_id='p', display_name='vol',
                      volume_type_id=volume_types.get_default_volume_type()['id'])
        values.update(fields)
        db.volume_create(self.ctxt, values)
        return objects.Volume.get_by_id(self.ctxt, values['id'])

    def new_backup(self, volume, parent=None, container=None, name=None, **fields):
        from cinder import db
        from cinder import objects
        values = dict(id=str(uuid.uuid4()), volume_id=volume.id, status='creating',
                      size=volume.size, user_id='u', project_id='p', host='cb-test-host',
                      container=container, parent_id=parent.id if parent else None,
                      display_name=name, display_description='test backup')
        values.update(fields)
        db.backup_create(self.ctxt, values)
        return objects.Backup.get_by_id(self.ctxt, values['id'])

    # ---- the manager's operations ----
    def backup(self, volume, path, parent=None, container=None, name=None):
        """create_backup's path through continue_backup (the volume service's callback)."""
        from cinder import objects
        self.devices[volume.id] = path
        volume.status = 'backing-up'
        volume.save()
        b = self.new_backup(volume, parent=parent, container=container, name=name)
        b.service = self.driver
        b.save()
        device = types.SimpleNamespace(device_obj=volume, is_snapshot=False,
                                       secure_enabled=True)
        # what create_backup sets before the volume service calls back
        from cinder.message import message_field
        self.ctxt.message_resource_id = b.id
        self.ctxt.message_resource_type = message_field.Resource.VOLUME_BACKUP
        self.ctxt.message_action = message_field.Action.BACKUP_CREATE
        try:
            self.manager.continue_backup(self.ctxt, b, device)
        finally:
            v = objects.Volume.get_by_id(self.ctxt, volume.id)
            v.status = 'available'
            v.save()
        b.refresh()
        return b

    def restore(self, backup, volume, path):
        from cinder import objects
        self.devices[volume.id] = path
        backup.refresh()
        backup.status = 'restoring'
        backup.save()
        v = objects.Volume.get_by_id(self.ctxt, volume.id)
        v.status = 'restoring-backup'
        v.save()
        self.manager.restore_backup(self.ctxt, backup, volume.id)
        backup.refresh()
        return objects.Volume.get_by_id(self.ctxt, volume.id)

    def delete(self, backup):
        backup.refresh()
        backup.status = 'deleting'
        backup.save()
        self.manager.delete_backup(self.ctxt, backup)

    def export(self, backup):
        backup.refresh()
        return self.manager.export_record(self.ctxt, backup)

    def import_(self, record):
        """cinder backup-import: the API makes a row from the record's id, the manager
        fills it from the record."""
        from cinder import objects
        from cinder import db
        fields = objects.Backup.decode_record(record['backup_url'])
        db.backup_create(self.ctxt, dict(id=fields['id'], status='creating', user_id='u',
                                         project_id='p', volume_id=fields['volume_id'],
                                         host='cb-test-host'))
        b = objects.Backup.get_by_id(self.ctxt, fields['id'])
        self.manager.import_record(self.ctxt, b, record['backup_service'],
                                   record['backup_url'], [])
        b.refresh()
        return b
