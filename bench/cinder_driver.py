#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""One backup or restore through Cinder's BackupManager with the stock driver or ours, for
bench/cinder-driver.sh (which times this process: wall, CPU, peak RSS).

    cinder_driver.py WORK stock|ours posix|swift backup VOLUME      -> "ID SECONDS"
    cinder_driver.py WORK stock|ours posix|swift restore BACKUP_ID TARGET -> "- SECONDS"

SECONDS is the operation's own wall time, as cinder-backup (a long-running service) spends
it: the manager's call, without the process's start-up (imports, database, driver set-up).

WORK holds the Cinder database (shared by the runs) and the posix store. Swift: the
tempauth settings from $SWIFT_ENV (tests/services/swift.sh env).
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests',
                                'cinder'))
import cinder_env  # noqa: E402 - first: it monkey-patches

CONF = cinder_env.CONF


def main():
    work, who, store, op = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    cinder_env.setup(work)
    CONF.set_override('backup_compression_algorithm', 'zlib')
    if store == 'swift':
        env = {}
        for line in open(os.environ['SWIFT_ENV']):
            if line.startswith('export ') and '=' in line:
                k, v = line[7:].strip().split('=', 1)
                env[k] = v
        CONF.set_override('backup_swift_auth', 'single_user')
        CONF.set_override('backup_swift_auth_version', '1')
        CONF.set_override('backup_swift_auth_url', env['ST_AUTH'])
        CONF.set_override('backup_swift_user', env['ST_USER'])
        CONF.set_override('backup_swift_key', env['ST_KEY'])
    table = cinder_env.OURS if who == 'ours' else cinder_env.STOCK
    svc = cinder_env.Service(table[store], {})
    from cinder import objects
    if op == 'backup':
        path = sys.argv[5]
        v = svc.volume(os.path.getsize(path))
        t0 = time.monotonic()
        b = svc.backup(v, path)
        took = time.monotonic() - t0
        if b.status != 'available':
            sys.exit('backup failed: %s' % b.fail_reason)
        print(b.id, '%.2f' % took)
        return
    b = objects.Backup.get_by_id(svc.ctxt, sys.argv[5])
    target = sys.argv[6]
    open(target, 'wb').close()
    v = svc.volume(b.size * cinder_env.GIB, display_name='restore_backup_' + b.id)
    t0 = time.monotonic()
    res = svc.restore(b, v, target)
    os.sync()  # the stock driver fsyncs every object; ours fdatasyncs at the end
    took = time.monotonic() - t0
    print('-', '%.2f' % took)
    if res.status != 'available':
        sys.exit('restore failed: volume %s' % res.status)


if __name__ == '__main__':
    main()
