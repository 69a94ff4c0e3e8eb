# SPDX-License-Identifier: Apache-2.0
"""Switch an existing deployment's backups between Cinder's drivers and cinderblock's.

Cinder's backup manager restores, deletes and exports only the backups whose `service`
column its configured driver's class path starts with. Backups the stock driver made are
in the same format and place that cinderblock's driver uses, so switching is one UPDATE
of that column; this prints it (--dry-run) or runs it on cinder.conf's database.

    python3 -m cinderblock.cinder.migrate [--config-file FILE] [--dry-run] [--revert]
    cinderblock cinder-migrate ...          (the same)

The driver pair comes from cinder.conf's backup_driver: a stock driver or one of ours.
"""

import argparse
import configparser
import sys

# stock driver -> ours; the stock driver's old module path is what very old rows hold
PAIRS = [
    ('cinder.backup.drivers.posix.PosixBackupDriver', 'cinderblock.cinder.PosixBackupDriver'),
    ('cinder.backup.drivers.nfs.NFSBackupDriver', 'cinderblock.cinder.NFSBackupDriver'),
    ('cinder.backup.drivers.swift.SwiftBackupDriver', 'cinderblock.cinder.SwiftBackupDriver'),
    ('cinder.backup.drivers.s3.S3BackupDriver', 'cinderblock.cinder.S3BackupDriver'),
]


class MigrateError(Exception):
    pass


def pair_for(configured):
    """(stock, ours) for the configured backup_driver, or MigrateError."""
    for stock, ours in PAIRS:
        if configured in (stock, ours, stock.rsplit('.', 1)[0]):
            return stock, ours
    raise MigrateError("backup_driver = %s: neither one of Cinder's chunked drivers (posix, "
                       "nfs, swift, s3) nor cinderblock's" % configured)


def statement(configured, revert=False):
    """The SQL (text, parameters) that hands the stock driver's backups to ours (or back)."""
    stock, ours = pair_for(configured)
    if revert:
        return ("UPDATE backups SET service = '%s' WHERE service = '%s';" % (stock, ours),
                stock, [ours])
    old = [stock, stock.rsplit('.', 1)[0]]
    return ("UPDATE backups SET service = '%s' WHERE service IN ('%s', '%s');" %
            (ours, old[0], old[1]), ours, old)


def read_config(path):
    cp = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        with open(path) as f:
            cp.read_file(f)
    except OSError as e:
        raise MigrateError('%s: %s' % (path, e.strerror or e))
    except configparser.Error as e:
        raise MigrateError('%s: %s' % (path, e))
    driver = cp.get('DEFAULT', 'backup_driver',
                    fallback='cinder.backup.drivers.swift.SwiftBackupDriver')
    connection = cp.get('database', 'connection', fallback=None)
    return driver.strip(), connection


def apply(connection, new, old):
    """Run the UPDATE; returns the number of rows changed."""
    if not connection:
        raise MigrateError('cinder.conf has no [database] connection to apply it to')
    import sqlalchemy
    engine = sqlalchemy.create_engine(connection)
    with engine.begin() as conn:
        q = sqlalchemy.text('UPDATE backups SET service = :new WHERE service IN :old')
        q = q.bindparams(sqlalchemy.bindparam('old', expanding=True))
        return conn.execute(q, {'new': new, 'old': old}).rowcount


def main(argv=None):
    ap = argparse.ArgumentParser(prog='cinderblock cinder-migrate',
                                 description='hand the backups of Cinder\'s stock chunked '
                                 'driver to cinderblock\'s driver (or back, --revert)')
    ap.add_argument('--config-file', default='/etc/cinder/cinder.conf',
                    help='cinder.conf (default: /etc/cinder/cinder.conf)')
    ap.add_argument('--dry-run', action='store_true',
                    help='print the SQL and change nothing')
    ap.add_argument('--revert', action='store_true',
                    help='hand cinderblock\'s backups back to the stock driver')
    args = ap.parse_args(argv)
    try:
        driver, connection = read_config(args.config_file)
        sql, new, old = statement(driver, args.revert)
        if args.dry_run:
            print(sql)
            return 0
        n = apply(connection, new, old)
    except MigrateError as e:
        print('cinderblock cinder-migrate: %s' % e, file=sys.stderr)
        return 2
    except Exception as e:  # noqa: B902 - the database's own error, named
        print('cinderblock cinder-migrate: the database: %s' % e, file=sys.stderr)
        return 1
    print('%d backup(s) now belong to %s' % (n, new))
    return 0


if __name__ == '__main__':
    sys.exit(main())
