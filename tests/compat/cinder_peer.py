#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Drive OpenStack Cinder's real posix, Swift and S3 backup drivers outside its service.

The compatibility tests use this as the "other implementation" of the chunked
backup format 1.0.0: Cinder (Debian 12 python3-cinder, 21.3.1) writes backups
that cinderblock restores, restores backups that cinderblock wrote, and builds
incrementals on top of them.  Each call builds a throwaway sqlite database, so
the DB rows Cinder needs (volume, backup and every parent) are created here;
for existing backups they are rebuilt from the stored objects, as
`backup-import` would.

  cinder_peer.py backup  (--root DIR | --store swift|s3) --volume FILE
                         --backup-id ID --volume-id ID
                         [--container C] [--compression ALG] [--object-size N]
                         [--sha-block N] [--parent-id ID] [--time ISO]
                         [--name TEXT] [--description TEXT]
  cinder_peer.py restore (--root DIR | --store swift|s3) [--container C]
                         --backup-id ID --target FILE
  cinder_peer.py batch   < lines    each line a JSON list: the arguments of one
                                    backup or restore call; answers one JSON line
                                    each ({"ok": true, ...} or {"ok": false,
                                    "error": "..."}), paying Cinder's start-up once

--store swift drives cinder.backup.drivers.swift with tempauth (single_user,
auth version 1) from ST_AUTH, ST_USER, ST_KEY; --store s3 drives
cinder.backup.drivers.s3 (boto3) from AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY: the variables tests/services/swift.sh env prints, so no
secret is on a command line.  Their container (bucket) defaults to Cinder's,
volumebackups, and their object size to Cinder's, 52428800; an incremental's
parents are looked for in its own container.

Run it with Debian's /usr/bin/python3: Cinder lives in its dist-packages.
"""

# Cinder's backup service runs under eventlet, and the chunked driver hands
# reads, writes and (de)compression to eventlet's native thread pool (tpool).
# Patching must happen before anything else imports socket/threading.
import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import traceback  # noqa: E402
import uuid  # noqa: E402

from eventlet import tpool  # noqa: E402

GIB = 1 << 30
# The stock driver of each store, as the service column names it; the posix one also
# answers export/import.
DRIVERS = {
    'posix': 'cinder.backup.drivers.posix.PosixBackupDriver',
    'swift': 'cinder.backup.drivers.swift.SwiftBackupDriver',
    's3': 'cinder.backup.drivers.s3.S3BackupDriver',
}
DRIVER = DRIVERS['posix']
# Cinder's default object size (backup_file_size, backup_swift_object_size,
# backup_s3_object_size) and the option each store's driver reads it from.
OBJECT_SIZE = {'posix': 1999994880, 'swift': 52428800, 's3': 52428800}
SIZE_OPTS = {
    'posix': ('backup_file_size', 'backup_sha_block_size_bytes'),
    'swift': ('backup_swift_object_size', 'backup_swift_block_size'),
    's3': ('backup_s3_object_size', 'backup_s3_block_size'),
}
# Owner of every row we create; Cinder only stores these.
USER_ID = 'cinderblock-user'
PROJECT_ID = 'cinderblock-project'
# backup_native_threads_pool_size's default.  Importing cinder.backup.manager
# to read the option would pull in most of the service for one integer.
NATIVE_THREADS = 60


def size_gib(nbytes):
    """Cinder sizes volumes and backups in whole GiB, never below 1."""
    return max(1, math.ceil(nbytes / GIB))


def setup_cinder(dbdir, root, compression='zlib', object_size=1999994880,
                 sha_block=32768):
    """Configure oslo.config, the fake RPC layer and a fresh sqlite DB.

    Returns an admin request context.  No config file is read: every option
    the driver consults is set by override, so /etc/cinder is irrelevant.
    """
    from oslo_config import cfg
    # Importing these modules registers the options we override below
    # (backup_posix_path etc. belong to the posix driver module).
    from cinder.common import config  # noqa: F401
    from cinder.backup.drivers import posix  # noqa: F401
    from cinder import objects
    from cinder import rpc
    from cinder import context
    from cinder.db import migration

    # Must precede importing other cinder modules that annotate with
    # objects.* at class level (cinder.manager fails otherwise).
    objects.register_all()
    conf = cfg.CONF
    conf([], project='cinder', default_config_files=[],
         default_config_dirs=[])
    conf.set_override('connection',
                      'sqlite:///' + os.path.join(dbdir, 'cinder.sqlite'),
                      group='database')
    conf.set_override('state_path', dbdir)
    conf.set_override('backup_posix_path', os.path.abspath(root))
    conf.set_override('backup_compression_algorithm', compression)
    conf.set_override('backup_file_size', object_size)
    conf.set_override('backup_sha_block_size_bytes', sha_block)
    # The driver sends progress notifications through cinder.rpc, which
    # must be initialised; a fake transport plus the default (empty)
    # notification driver list makes them no-ops.  transport_url is only
    # registered when oslo.messaging builds a transport, too late to
    # override, so register it first from oslo.messaging's public list.
    from oslo_messaging import opts as messaging_opts
    for group, opts in messaging_opts.list_opts():
        if group in (None, 'DEFAULT'):
            conf.register_opts(opts)
    conf.set_override('transport_url', 'fake:/')
    rpc.init(conf)
    migration.db_sync()
    # The backup manager sizes the pool before any driver call; tpool fixes
    # its size at first use, so this must come before the first Proxy call.
    tpool.set_num_threads(NATIVE_THREADS)
    return context.get_admin_context()


class PosixFiles:
    """The backups under a posix driver's root, found by their file names."""

    def __init__(self, root):
        self.root = root

    def find(self, backup_id):
        """Locate a backup written by anyone under the root.

        Returns (container, prefix, metadata dict).  The container is the
        directory relative to the root ('' for the root itself); the prefix is
        the metadata file's name without '_metadata'.
        """
        suffix = 'backup_%s_metadata' % backup_id
        hits = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(suffix):
                    hits.append((dirpath, name))
        if not hits:
            raise LookupError('no *%s file under %s' % (suffix, self.root))
        if len(hits) > 1:
            raise LookupError('backup %s is ambiguous: %s' % (
                backup_id, [os.path.join(d, n) for d, n in hits]))
        dirpath, name = hits[0]
        container = os.path.relpath(dirpath, self.root)
        if container == '.':
            container = ''
        return container, name[:-len('_metadata')], self.read_json(container, name)

    def read_json(self, container, name):
        """The parsed object, or None if there is none."""
        try:
            with open(os.path.join(self.root, container, name), 'rb') as f:
                return json.loads(f.read().decode('utf-8'))
        except FileNotFoundError:
            return None


class StoreObjects:
    """The backups in one container of an object store, found by listing it
    through the stock driver itself (its listing and reader are what its
    restore uses)."""

    def __init__(self, driver, container):
        self.driver = driver
        self.container = container
        self.names = None

    def find(self, backup_id):
        if self.names is None:
            self.names = set(self.driver.get_container_entries(self.container, ''))
        suffix = 'backup_%s_metadata' % backup_id
        hits = sorted(n for n in self.names if n.endswith(suffix))
        if len(hits) != 1:
            raise LookupError('%d objects *%s in container %s' % (
                len(hits), suffix, self.container))
        return self.container, hits[0][:-len('_metadata')], \
            self.read_json(self.container, hits[0])

    def read_json(self, container, name):
        if name not in self.names:
            return None
        with self.driver.get_object_reader(container, name) as reader:
            return json.loads(reader.read().decode('utf-8'))


def backup_size_gib(store, container, prefix, metadata):
    """Size (GiB) of an existing backup, for its DB row.

    Cinder refuses an incremental when the new backup is larger than its
    parent, so the parent's size comes from the extent its sha256file covers
    (the list covers the whole volume).  Without a sha256file (restore-only
    backups), use the end of the furthest object.
    """
    sha = store.read_json(container, prefix + '_sha256file')
    if sha is not None:
        return size_gib(len(sha['sha256s']) * sha['chunk_size'])
    end = 0
    for entry in metadata.get('objects') or []:
        for obj in entry.values():
            end = max(end, obj.get('offset', 0) + obj.get('length', 0))
    return size_gib(end)


def create_chain_rows(ctxt, store, backup_id, status, service=DRIVER, seen=None):
    """Create DB rows for BACKUP_ID and, through parent_id, its ancestors.

    Restore walks the chain through the DB (not the metadata), and reads
    each link's container and service_metadata (= object name prefix).
    Returns the Backup object for BACKUP_ID.
    """
    seen = seen if seen is not None else set()
    if backup_id in seen:
        raise ValueError('parent_id cycle at backup %s' % backup_id)
    seen.add(backup_id)
    container, prefix, meta = store.find(backup_id)
    parent_id = meta.get('parent_id')
    if parent_id:
        create_chain_rows(ctxt, store, parent_id, 'available', service, seen)
    return create_backup_row(
        ctxt, service=service, id=backup_id,
        volume_id=meta.get('volume_id') or str(uuid.UUID(int=0)),
        status=status, container=container, service_metadata=prefix,
        parent_id=parent_id,
        size=backup_size_gib(store, container, prefix, meta),
        display_name=meta.get('backup_name'),
        display_description=meta.get('backup_description'),
        object_count=len(meta.get('objects') or []))


def create_backup_row(ctxt, service=DRIVER, **values):
    """Insert (or, in a batch, refresh) a Backup row with a chosen id.

    cinder.objects refuse create() once an id is set, so go through the DB
    API, which keeps a given id, and load the object back from the row.
    """
    from cinder import db
    from cinder import exception
    from cinder import objects
    values.update(user_id=USER_ID, project_id=PROJECT_ID, service=service)
    try:
        db.backup_get(ctxt, values['id'])
        db.backup_update(ctxt, values['id'], values)
    except exception.BackupNotFound:
        db.backup_create(ctxt, values)
    return objects.Backup.get_by_id(ctxt, values['id'])


def create_volume_row(ctxt, volume_id, gib):
    """A volume row: the driver reads its size; restore may put metadata.

    volume_type_id is NOT NULL in this schema; db_sync creates the default
    type.
    """
    from cinder import db
    from cinder import exception
    from cinder.volume import volume_types
    try:
        db.volume_get(ctxt, volume_id)
        db.volume_update(ctxt, volume_id, {'size': gib})
        return
    except exception.VolumeNotFound:
        pass
    db.volume_create(ctxt, {
        'id': volume_id, 'user_id': USER_ID, 'project_id': PROJECT_ID,
        'size': gib, 'status': 'available', 'attach_status': 'detached',
        'volume_type_id': volume_types.get_default_volume_type()['id']})


def make_driver(args, ctxt):
    """The stock driver of args.store, and where its backups are found.

    Swift's driver connects only for a request context with a user (the
    service's own start-up context has none), as a cinder-backup request's
    would; the posix and S3 drivers do not look.
    """
    import importlib
    module, cls = DRIVERS[args.store].rsplit('.', 1)
    ctxt.user_id = USER_ID
    ctxt.project_id = PROJECT_ID
    driver = getattr(importlib.import_module(module), cls)(ctxt)
    if args.store == 'posix':
        return driver, PosixFiles(args.root)
    return driver, StoreObjects(driver, args.container or driver.backup_default_container)


def cmd_backup(args, ctxt):
    vol_bytes = os.path.getsize(args.volume)
    gib = size_gib(vol_bytes)
    create_volume_row(ctxt, args.volume_id, gib)
    driver, store = make_driver(args, ctxt)
    service = DRIVERS[args.store]
    if args.parent_id:
        create_chain_rows(ctxt, store, args.parent_id, 'available', service)
    # The API gives a new backup the volume's size; the incremental check
    # compares it with the parent's.  created_at comes from the (possibly
    # frozen) clock via the DB model default, as in the service.
    backup = create_backup_row(
        ctxt, service=service, id=args.backup_id, volume_id=args.volume_id,
        status='creating', container=args.container, parent_id=args.parent_id,
        size=gib, display_name=args.name, display_description=args.description)
    with open(args.volume, 'rb') as f:
        # backup_metadata=False: "volume_meta": null, reproducible output.
        driver.backup(backup, tpool.Proxy(f), False)
    backup.status = 'available'
    backup.save()
    return {'container': backup.container, 'prefix': backup.service_metadata,
            'backup_id': backup.id}


def cmd_restore(args, ctxt):
    driver, store = make_driver(args, ctxt)
    backup = create_chain_rows(ctxt, store, args.backup_id, 'restoring',
                               DRIVERS[args.store])
    # A target volume row, in case the backup carries volume_meta that
    # Cinder applies to it after the data.
    target_id = str(uuid.uuid4())
    create_volume_row(ctxt, target_id, backup.size)
    with open(args.target, 'wb') as f:
        driver.restore(backup, target_id, tpool.Proxy(f))
    # what Cinder applied from the backup's volume_meta (empty without one)
    from cinder import db
    return {'restored': args.backup_id,
            'volume_metadata': db.volume_metadata_get(ctxt, target_id)}


def cmd_export(args, ctxt):
    """What `cinder backup-export` prints, from Cinder's own encode_record."""
    backup = create_chain_rows(ctxt, PosixFiles(args.root), args.backup_id, 'available')
    return {'service': backup.service, 'url': backup.encode_record()}


# The keys Cinder's backup manager requires of an imported record.
IMPORT_REQUIRED = ('display_name', 'display_description', 'container', 'size',
                   'service_metadata', 'object_count', 'id')


def cmd_import(args, ctxt):
    """Decode a record with Cinder's own decode_record, check what its import
    requires, make the row from the record (as backup-import does) and restore
    through it: proof that Cinder can use a record another tool exported."""
    from cinder import objects
    if args.service != DRIVER:
        raise ValueError('service %s is not %s' % (args.service, DRIVER))
    record = objects.Backup.decode_record(args.url)
    missing = [k for k in IMPORT_REQUIRED if k not in record]
    if missing:
        raise ValueError('record lacks %s' % missing)
    parent_id = record.get('parent_id')
    if parent_id:
        create_chain_rows(ctxt, PosixFiles(args.root), parent_id, 'available')
    backup = create_backup_row(
        ctxt, id=record['id'], volume_id=str(uuid.UUID(int=0)),
        status='restoring', container=record['container'],
        service_metadata=record['service_metadata'], parent_id=parent_id,
        size=record['size'], object_count=record['object_count'],
        display_name=record['display_name'],
        display_description=record['display_description'])
    target_id = str(uuid.uuid4())
    create_volume_row(ctxt, target_id, backup.size)
    from cinder.backup.drivers.posix import PosixBackupDriver
    with open(args.target, 'wb') as f:
        PosixBackupDriver(ctxt).restore(backup, target_id, tpool.Proxy(f))
    return {'imported': record['id'], 'size': record['size']}


def parse_time(text):
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%S')


def where(parser):
    """--root for posix, or --store for Swift and S3; --container for all."""
    parser.add_argument('--root', help='backup_posix_path (posix)')
    parser.add_argument('--store', choices=sorted(DRIVERS), default='posix')
    parser.add_argument('--container',
                        help='default: posix id[0:2]/id[2:4]/id, else volumebackups')


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    b = sub.add_parser('backup', help='back FILE up with Cinder')
    where(b)
    b.add_argument('--volume', required=True, help='file to back up')
    b.add_argument('--backup-id', required=True)
    b.add_argument('--volume-id', required=True)
    b.add_argument('--compression', default='zlib')
    b.add_argument('--object-size', type=int,
                   help="Cinder's option for the store (default: its default)")
    b.add_argument('--sha-block', type=int, default=32768,
                   help='backup_sha_block_size_bytes (posix), the block size option')
    b.add_argument('--parent-id', help='make an incremental on this backup')
    b.add_argument('--time', type=parse_time,
                   help='freeze the clock (UTC), YYYY-mm-ddTHH:MM:SS')
    b.add_argument('--name')
    b.add_argument('--description')
    r = sub.add_parser('restore', help='restore a backup with Cinder')
    where(r)
    r.add_argument('--backup-id', required=True)
    r.add_argument('--target', required=True, help='file to write')
    e = sub.add_parser('export', help="Cinder's export record of a backup")
    e.add_argument('--root', required=True, help='backup_posix_path')
    e.add_argument('--backup-id', required=True)
    i = sub.add_parser('import', help='decode a record with Cinder, restore it')
    i.add_argument('--root', required=True, help='backup_posix_path')
    i.add_argument('--service', required=True)
    i.add_argument('--url', required=True)
    i.add_argument('--target', required=True, help='file to write')
    sub.add_parser('batch', help='JSON lines of backup/restore arguments')
    args = p.parse_args(argv)
    args.store = getattr(args, 'store', 'posix')
    if args.cmd != 'batch' and args.store == 'posix' and not args.root:
        p.error('--root is required with the posix store')
    return args


def env(name):
    value = os.environ.get(name)
    if not value:
        raise LookupError('%s is not set (tests/services/swift.sh env)' % name)
    return value


def configure_store(conf, store):
    """Swift's tempauth or S3's keys, from the environment.  Importing the
    driver's module registers its options."""
    if store == 'swift':
        from cinder.backup.drivers import swift  # noqa: F401
        conf.set_override('backup_swift_auth', 'single_user')
        conf.set_override('backup_swift_auth_version', '1')
        conf.set_override('backup_swift_auth_url', env('ST_AUTH'))
        conf.set_override('backup_swift_user', env('ST_USER'))
        conf.set_override('backup_swift_key', env('ST_KEY'))
    else:
        from cinder.backup.drivers import s3  # noqa: F401
        conf.set_override('backup_s3_endpoint_url', env('AWS_ENDPOINT_URL_S3'))
        conf.set_override('backup_s3_store_access_key', env('AWS_ACCESS_KEY_ID'))
        conf.set_override('backup_s3_store_secret_key', env('AWS_SECRET_ACCESS_KEY'))


def configure(args):
    """Point the (already initialised) options at this call's settings."""
    from oslo_config import cfg
    from oslo_utils import timeutils
    conf = cfg.CONF
    if args.store == 'posix':
        conf.set_override('backup_posix_path', os.path.abspath(args.root))
    else:
        configure_store(conf, args.store)
    if args.cmd == 'backup':
        size_opt, block_opt = SIZE_OPTS[args.store]
        conf.set_override('backup_compression_algorithm', args.compression)
        conf.set_override(size_opt, args.object_size or OBJECT_SIZE[args.store])
        conf.set_override(block_opt, args.sha_block)
    # Freeze after db_sync: it is the prefix timestamp and the row's
    # created_at that must be reproducible.
    if getattr(args, 'time', None):
        timeutils.set_time_override(args.time)
    else:
        timeutils.clear_time_override()


COMMANDS = {'backup': cmd_backup, 'restore': cmd_restore,
            'export': cmd_export, 'import': cmd_import}


def run_one(args, ctxt):
    configure(args)
    return COMMANDS[args.cmd](args, ctxt)


def run_batch(ctxt):
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            result = dict(ok=True, **run_one(parse_args(json.loads(line)), ctxt))
        except (Exception, SystemExit) as e:
            if os.environ.get('CINDER_PEER_TRACE'):
                traceback.print_exc()
            result = {'ok': False, 'error': '%s: %s' % (type(e).__name__, e)}
        print(json.dumps(result), flush=True)


def main(argv):
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix='cinder_peer.') as dbdir:
            ctxt = setup_cinder(dbdir, getattr(args, 'root', None) or dbdir)
            if args.cmd == 'batch':
                run_batch(ctxt)
                return 0
            result = run_one(args, ctxt)
            if args.cmd != 'restore':
                print(json.dumps(result))
    except Exception as e:  # Cinder's exceptions are the test's oracle
        if os.environ.get('CINDER_PEER_TRACE'):
            traceback.print_exc()
        print('%s: %s' % (type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
