# SPDX-License-Identifier: Apache-2.0
"""The four drivers: which store, and how Cinder's options for it become the store's.

Importing Cinder's own driver module registers its options (names, defaults, types are
Cinder's); nothing of its code runs, except the NFS mount, which is Cinder's own.
"""

import os

from oslo_config import cfg
from oslo_log import log as logging

from cinder import exception

from cinderblock.cinder import driver

LOG = logging.getLogger(__name__)
CONF = cfg.CONF


class PosixBackupDriver(driver.CinderblockDriver):
    """Backups in a directory: cinder.backup.drivers.posix.PosixBackupDriver's options
    (backup_posix_path, backup_file_size, backup_sha_block_size_bytes, backup_container,
    backup_enable_progress_timer)."""

    STOCK_DRIVER = 'cinder.backup.drivers.posix.PosixBackupDriver'
    FLAT_PREFIX = True

    def __init__(self, context, backup_path=None):
        from cinder.backup.drivers import posix  # noqa: F401 - registers its options
        super().__init__(context)
        self.backup_path = backup_path or CONF.backup_posix_path
        if not self.backup_path:
            raise exception.ConfigNotFound(path='backup_path')

    def _object_size(self):
        return CONF.backup_file_size

    def _sha_block(self):
        return CONF.backup_sha_block_size_bytes

    def _default_container(self):
        return CONF.backup_container

    def _progress_timer(self):
        return CONF.backup_enable_progress_timer

    def _store_url(self):
        # Cinder creates the directory with its first container; so do we.
        os.makedirs(self.backup_path, exist_ok=True)
        return 'posix:' + os.path.abspath(self.backup_path)

    def update_container_name(self, backup, container):
        if container is not None:
            return container
        return os.path.join(backup.id[0:2], backup.id[2:4], backup.id)


class NFSBackupDriver(PosixBackupDriver):
    """Backups on an NFS share: cinder.backup.drivers.nfs.NFSBackupDriver's options
    (backup_share, backup_mount_point_base, backup_mount_options, backup_mount_attempts)
    and the posix ones. The share is mounted by Cinder's own code (os-brick)."""

    STOCK_DRIVER = 'cinder.backup.drivers.nfs.NFSBackupDriver'

    def __init__(self, context):
        from cinder.backup.drivers import nfs
        from oslo_concurrency import processutils
        from cinder import utils
        self.backup_mount_point_base = CONF.backup_mount_point_base
        self.backup_share = CONF.backup_share
        self.mount_options = CONF.backup_mount_options
        self._execute = processutils.execute
        self._root_helper = utils.get_root_helper()
        path = nfs.NFSBackupDriver._init_backup_repo_path(self)
        super().__init__(context, backup_path=path)

    def check_for_setup_error(self):
        if not CONF.backup_share:
            raise exception.InvalidConfigurationValue(option='backup_share',
                                                      value=CONF.backup_share)
        super().check_for_setup_error()


class SwiftBackupDriver(driver.CinderblockDriver):
    """Backups in OpenStack Swift: cinder.backup.drivers.swift.SwiftBackupDriver's options
    (backup_swift_auth per_user or single_user, backup_swift_url, backup_swift_auth_url,
    backup_swift_user/key/project/..., backup_swift_container, backup_swift_object_size,
    backup_swift_block_size, retries, CA file, storage policy)."""

    STOCK_DRIVER = 'cinder.backup.drivers.swift.SwiftBackupDriver'

    def __init__(self, context):
        from cinder.backup.drivers import swift  # noqa: F401 - registers its options
        super().__init__(context)

    def _object_size(self):
        return CONF.backup_swift_object_size

    def _sha_block(self):
        return CONF.backup_swift_block_size

    def _default_container(self):
        return CONF.backup_swift_container

    def _progress_timer(self):
        return CONF.backup_swift_enable_progress_timer

    def _store_url(self):
        return 'swift://' + CONF.backup_swift_container

    def _store_kwargs(self):
        return dict(ca_file=CONF.backup_swift_ca_cert_file,
                    insecure=CONF.backup_swift_auth_insecure,
                    retries=CONF.backup_swift_retry_attempts,
                    retry_backoff=CONF.backup_swift_retry_backoff,
                    storage_policy=CONF.backup_swift_create_storage_policy)

    @staticmethod
    def _from_catalog(catalog, info, option):
        try:
            service_type, _name, endpoint_type = info.split(':')
        except ValueError:
            raise exception.BackupDriverException(
                reason="Failed to parse the configuration option '%s', must be in the form "
                "<service_type>:<service_name>:<endpoint_type>" % option)
        for entry in catalog or []:
            if entry.get('type') == service_type:
                endpoints = entry.get('endpoints') or [{}]
                return endpoints[0].get(endpoint_type)
        return None

    def _store_settings(self):
        if CONF.backup_swift_service_auth:
            raise exception.BackupDriverException(
                reason='backup_swift_service_auth is not supported by cinderblock')
        if CONF.backup_swift_auth == 'single_user':
            return self._single_user()
        return self._per_user()

    def _per_user(self):
        if CONF.backup_swift_url:
            url = '%s%s' % (CONF.backup_swift_url, self.context.project_id)
        else:
            url = self._from_catalog(getattr(self.context, 'service_catalog', None),
                                     CONF.swift_catalog_info, 'swift_catalog_info')
        if not url:
            raise exception.BackupDriverException(
                reason="Could not determine which Swift endpoint to use. This can either be "
                "set in the service catalog or with the cinder.conf config option "
                "'backup_swift_url'.")
        if not self.context.auth_token:
            raise exception.BackupDriverException(
                reason='backup_swift_auth = per_user needs the request\'s token, and this '
                'context has none')
        return {'CINDERBLOCK_SWIFT_AUTH': 'token', 'OS_AUTH_TOKEN': self.context.auth_token,
                'OS_STORAGE_URL': url}

    def _single_user(self):
        if CONF.backup_swift_user is None:
            raise exception.ParameterNotFound(param='backup_swift_user')
        auth_url = CONF.backup_swift_auth_url or self._from_catalog(
            getattr(self.context, 'service_catalog', None), CONF.keystone_catalog_info,
            'keystone_catalog_info')
        if not auth_url:
            raise exception.BackupDriverException(
                reason="Could not determine which Keystone endpoint to use. This can either "
                "be set in the service catalog or with the cinder.conf config option "
                "'backup_swift_auth_url'.")
        version = str(CONF.backup_swift_auth_version)
        if version == '1':
            return {'CINDERBLOCK_SWIFT_AUTH': 'tempauth', 'ST_AUTH': auth_url,
                    'ST_USER': CONF.backup_swift_user, 'ST_KEY': CONF.backup_swift_key}
        if version != '3':
            raise exception.InvalidConfigurationValue(option='backup_swift_auth_version',
                                                      value=version)
        s = {'CINDERBLOCK_SWIFT_AUTH': 'keystone', 'OS_AUTH_URL': auth_url,
             'OS_USERNAME': CONF.backup_swift_user, 'OS_PASSWORD': CONF.backup_swift_key,
             'OS_PROJECT_NAME': CONF.backup_swift_project or CONF.backup_swift_tenant}
        if CONF.backup_swift_user_domain:
            s['OS_USER_DOMAIN_NAME'] = CONF.backup_swift_user_domain
        if CONF.backup_swift_project_domain:
            s['OS_PROJECT_DOMAIN_NAME'] = CONF.backup_swift_project_domain
        return s

    def check_for_setup_error(self):
        self._check_sizes()
        if CONF.backup_swift_auth == 'per_user':
            return  # no request, no token yet: the first backup authenticates
        super().check_for_setup_error()


class S3BackupDriver(driver.CinderblockDriver):
    """Backups in an S3 bucket: cinder.backup.drivers.s3.S3BackupDriver's options
    (backup_s3_endpoint_url, backup_s3_store_access_key/secret_key, backup_s3_store_bucket,
    backup_s3_object_size, backup_s3_block_size, timeout, retries, TLS, SSE-C)."""

    STOCK_DRIVER = 'cinder.backup.drivers.s3.S3BackupDriver'

    def __init__(self, context):
        from cinder.backup.drivers import s3  # noqa: F401 - registers its options
        super().__init__(context)

    def _object_size(self):
        return CONF.backup_s3_object_size

    def _sha_block(self):
        return CONF.backup_s3_block_size

    def _default_container(self):
        return CONF.backup_s3_store_bucket

    def _progress_timer(self):
        return CONF.backup_s3_enable_progress_timer

    def _store_url(self):
        return 's3://' + CONF.backup_s3_store_bucket

    def _store_kwargs(self):
        return dict(ca_file=CONF.backup_s3_ca_cert_file if CONF.backup_s3_verify_ssl else None,
                    insecure=not CONF.backup_s3_verify_ssl,
                    retries=CONF.backup_s3_retry_max_attempts,
                    timeout=CONF.backup_s3_timeout)

    def _store_settings(self):
        for opt in ('backup_s3_http_proxy', 'backup_s3_https_proxy'):
            if getattr(CONF, opt):
                raise exception.BackupDriverException(
                    reason='%s is not supported by cinderblock: set the proxy in the '
                    'environment of cinder-backup (https_proxy, as libcurl reads it)' % opt)
        s = {'AWS_ACCESS_KEY_ID': CONF.backup_s3_store_access_key,
             'AWS_SECRET_ACCESS_KEY': CONF.backup_s3_store_secret_key,
             'AWS_ENDPOINT_URL': CONF.backup_s3_endpoint_url}
        key, alg = CONF.backup_s3_sse_customer_key, CONF.backup_s3_sse_customer_algorithm
        if bool(key) != bool(alg):
            raise exception.InvalidConfigurationValue(
                option='backup_s3_sse_customer_key/algorithm', value='only one of them set')
        if key:
            s['CINDERBLOCK_S3_SSE_C_KEY'] = key
            s['CINDERBLOCK_S3_SSE_C_ALGORITHM'] = alg
        return s
