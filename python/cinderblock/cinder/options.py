# SPDX-License-Identifier: Apache-2.0
"""cinderblock's own cinder.conf options ([DEFAULT], all optional).

Everything else is read from the options of the Cinder driver each class replaces
(backup_posix_path, backup_swift_*, backup_s3_*, ...): those are registered by importing
Cinder's own driver module, so their names, defaults and types are Cinder's.
"""

from oslo_config import cfg

cinderblock_opts = [
    cfg.IntOpt('cinderblock_threads', default=0, min=0,
               help='Worker threads per backup or restore: reading, hashing, '
                    'compressing and the transfers to the store run on these. '
                    '0: one per online CPU.'),
    cfg.FloatOpt('cinderblock_lock_wait', default=300.0, min=0.0,
                 help='Seconds a backup or restore waits for an exclusive lock that '
                      'a cinderblock command (delete, cleanup) holds on the store.'),
    cfg.BoolOpt('cinderblock_verify_restore', default=False,
                help='After a restore, read the volume back from the disk and compare '
                     'every block with the backup\'s SHA-256 list (every object is '
                     'checked against its MD5 in any case).'),
    cfg.FloatOpt('cinderblock_timeout', default=120.0, min=1.0,
                 help='Seconds a transfer to or from an object store may stall '
                      'before it fails (and is retried).'),
    cfg.StrOpt('cinderblock_library', default=None,
               help='The libcinderblock shared library to load (default: the one '
                    'installed with this package).'),
]

CONF = cfg.CONF
CONF.register_opts(cinderblock_opts)


def list_opts():
    """For oslo-config-generator."""
    return [('DEFAULT', cinderblock_opts)]
