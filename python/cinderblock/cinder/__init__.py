# SPDX-License-Identifier: Apache-2.0
"""cinderblock as cinder-backup's driver: one line of cinder.conf switches to it.

    backup_driver = cinderblock.cinder.PosixBackupDriver   (or NFS..., Swift..., S3...)

Each class reads the options of the Cinder driver it replaces and writes the same objects,
so the stock driver and this one restore each other's backups (docs/cinder.md).
"""

from cinderblock.cinder.stores import NFSBackupDriver  # noqa: F401
from cinderblock.cinder.stores import PosixBackupDriver  # noqa: F401
from cinderblock.cinder.stores import S3BackupDriver  # noqa: F401
from cinderblock.cinder.stores import SwiftBackupDriver  # noqa: F401
