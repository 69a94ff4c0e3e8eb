# SPDX-License-Identifier: Apache-2.0
"""ctypes bindings to libcinderblock's public API (include/cinderblock/*.h).

Only what the Cinder driver needs is bound: opening a store, backup, restore, show and
delete. The structs below mirror the public headers field for field; each options struct
carries its version, so a library newer than these bindings reads them as the version they
say (the headers' rule: structs only grow at the end).

Every call here blocks: the driver runs them in eventlet's native threads (tpool). The
callbacks the library makes (progress, cancel, the volume's read or write) run in library
threads: they touch only plain Python objects, never eventlet, logging or the database.
"""

import ctypes
import errno
import os

try:
    from cinderblock import _paths  # written by meson at install
    _LIBRARY = _paths.LIBRARY
except ImportError:  # the source tree: $CINDERBLOCK_LIBRARY, else the loader's search
    _LIBRARY = 'libcinderblock.so.0'

# cb_status (include/cinderblock/common.h)
OK = 0
ENOTFOUND = -2
EEXISTS = -3
EIO = -4
ENET = -5
EHTTP = -6
ECORRUPT = -7
ECANCELED = -8
ENOTSUPP = -9
EINVAL = -10
EAUTH = -11
ENOMEM = -12
EINUSE = -13
ELOCKED = -14
ESOURCE = -15

BACKUP_OPTS_VERSION = 4
RESTORE_OPTS_VERSION = 4
STORE_OPTS_VERSION = 2

c_u64 = ctypes.c_uint64
c_str = ctypes.c_char_p


class _Error(ctypes.Structure):
    _fields_ = [('code', ctypes.c_int), ('sys_errno', ctypes.c_int),
                ('http_status', ctypes.c_long), ('msg', ctypes.c_char * 1024)]


class _Progress(ctypes.Structure):
    _fields_ = [('phase', c_str), ('bytes_done', c_u64), ('bytes_total', c_u64),
                ('objects_done', c_u64), ('bytes_stored', c_u64), ('bytes_zero', c_u64),
                ('bytes_unchanged', c_u64), ('step', c_str)]


PROGRESS_FN = ctypes.CFUNCTYPE(None, ctypes.POINTER(_Progress), ctypes.c_void_p)
CANCEL_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
GETENV_FN = ctypes.CFUNCTYPE(ctypes.c_void_p, c_str, ctypes.c_void_p)
READ_FN = ctypes.CFUNCTYPE(ctypes.c_longlong, ctypes.c_void_p, ctypes.c_void_p,
                           ctypes.c_size_t)
WRITE_FN = ctypes.CFUNCTYPE(ctypes.c_longlong, ctypes.c_void_p, ctypes.c_void_p,
                            ctypes.c_size_t, c_u64)
PREAD_FN = ctypes.CFUNCTYPE(ctypes.c_longlong, ctypes.c_void_p, ctypes.c_void_p,
                            ctypes.c_size_t, c_u64)
FLUSH_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class _BackupInfo(ctypes.Structure):
    _fields_ = [('backup_id', c_str), ('volume_id', c_str), ('container', c_str),
                ('prefix', c_str), ('parent_id', c_str), ('name', c_str),
                ('description', c_str), ('created_at', c_str), ('volume_meta', c_str),
                ('compression', c_str), ('size', c_u64), ('object_count', c_u64),
                ('data_bytes', c_u64), ('stored_bytes', c_u64), ('reused_objects', c_u64),
                ('sha_block', ctypes.c_uint32), ('chain_length', ctypes.c_uint),
                ('problem', c_str)]


class _StoreOpts(ctypes.Structure):
    _fields_ = [('version', ctypes.c_uint), ('create_containers', ctypes.c_int),
                ('availability_zone', c_str), ('ca_file', c_str), ('insecure', ctypes.c_int),
                ('retries', ctypes.c_int), ('retry_backoff', ctypes.c_double),
                ('timeout', ctypes.c_double), ('storage_policy', c_str),
                ('getenv', GETENV_FN), ('getenv_payload', ctypes.c_void_p),
                ('lock_host', c_str), ('lock_wait', ctypes.c_double),
                ('no_lock', ctypes.c_int), ('limit_upload', ctypes.c_double),
                ('limit_download', ctypes.c_double)]


class _BackupOpts(ctypes.Structure):
    _fields_ = [('version', ctypes.c_uint), ('volume_id', c_str), ('backup_id', c_str),
                ('container', c_str), ('name', c_str), ('description', c_str),
                ('compression', c_str), ('object_size', c_u64),
                ('sha_block', ctypes.c_uint32), ('metadata', ctypes.POINTER(c_str)),
                ('n_metadata', ctypes.c_size_t), ('now', ctypes.c_int64),
                ('now_usec', ctypes.c_long), ('incremental', ctypes.c_int),
                ('parent_id', c_str), ('threads', ctypes.c_int),
                ('progress', PROGRESS_FN), ('progress_payload', ctypes.c_void_p),
                ('cancel', CANCEL_FN), ('cancel_payload', ctypes.c_void_p),
                ('keep_partial', ctypes.c_int), ('resume_id', c_str),
                ('stream_size', c_u64), ('stream_fd', ctypes.c_int),
                ('dry_run', ctypes.c_int),
                # version 3
                ('volume_fd', ctypes.c_int), ('volume_read', READ_FN),
                ('volume_read_payload', ctypes.c_void_p), ('prefix', c_str),
                ('created_at', c_str), ('volume_meta', c_str),
                # version 4
                ('volume_pread', PREAD_FN), ('volume_pread_payload', ctypes.c_void_p),
                ('volume_size', c_u64)]


class _RestoreOpts(ctypes.Structure):
    _fields_ = [('version', ctypes.c_uint), ('sparse', ctypes.c_int),
                ('threads', ctypes.c_int), ('progress', PROGRESS_FN),
                ('progress_payload', ctypes.c_void_p), ('cancel', CANCEL_FN),
                ('cancel_payload', ctypes.c_void_p), ('verify', ctypes.c_int),
                ('overwrite', ctypes.c_int),
                # version 3
                ('target_fd', ctypes.c_int), ('target_write', WRITE_FN),
                ('target_write_payload', ctypes.c_void_p),
                ('target_zeroed', ctypes.c_int),
                # version 4
                ('target_pwrite', WRITE_FN), ('target_pwrite_payload', ctypes.c_void_p),
                ('target_flush', FLUSH_FN)]


class Error(Exception):
    """A libcinderblock failure: `code` is its cb_status, `name` its constant's name."""

    def __init__(self, code, message, sys_errno=0, http_status=0):
        super().__init__(message)
        self.code = code
        self.message = message
        self.sys_errno = sys_errno
        self.http_status = http_status
        self.name = _status_name(code)

    def __str__(self):
        return self.message


_lib = None


def library():
    """The loaded libcinderblock: $CINDERBLOCK_LIBRARY, else the one installed with us."""
    global _lib
    if _lib is None:
        path = os.environ.get('CINDERBLOCK_LIBRARY') or _LIBRARY
        lib = ctypes.CDLL(path)
        _declare(lib)
        _lib = lib
    return _lib


def _declare(lib):
    P = ctypes.POINTER
    vp = ctypes.c_void_p
    err = P(_Error)
    sigs = {
        'cb_version_string': (c_str, []),
        'cb_status_name': (c_str, [ctypes.c_int]),
        'cb_store_open': (ctypes.c_int, [P(vp), c_str, P(_StoreOpts), err]),
        'cb_store_free': (None, [vp]),
        'cb_backup': (ctypes.c_int, [vp, c_str, P(_BackupOpts), P(P(_BackupInfo)), err]),
        'cb_restore': (ctypes.c_int, [vp, c_str, c_str, P(_RestoreOpts), err]),
        'cb_backup_show': (ctypes.c_int, [vp, c_str, P(P(_BackupInfo)), err]),
        'cb_backup_info_free': (None, [P(_BackupInfo)]),
        'cb_backup_hint': (ctypes.c_int, [vp, c_str, c_str, c_str, err]),
        'cb_backup_delete_at': (ctypes.c_int, [vp, c_str, c_str, P(c_u64), err]),
        'cb_store_put_container': (ctypes.c_int, [vp, c_str, ctypes.c_uint, err]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args


def _status_name(code):
    return library().cb_status_name(code).decode()


def version():
    return library().cb_version_string().decode()


def _b(s):
    return None if s is None else s.encode('utf-8')


def _u(b):
    return None if b is None else b.decode('utf-8', 'replace')


def _check(rc, e):
    if rc < 0:
        raise Error(rc, _u(e.msg) or _status_name(rc), e.sys_errno, e.http_status)
    return rc


def _info(p):
    """A dict from a cb_backup_info* (which is then freed)."""
    try:
        i = p.contents
        out = {name: getattr(i, name) for name, _ in _BackupInfo._fields_}
        return {k: _u(v) if isinstance(v, bytes) else v for k, v in out.items()}
    finally:
        library().cb_backup_info_free(p)


class Progress(object):
    """The latest cb_progress, copied out of the library's callback (no locking needed:
    each field is replaced by one assignment; a reader may see a mix of two reports,
    which is as good for a percentage)."""

    def __init__(self):
        self.bytes_done = 0
        self.bytes_total = 0
        self.objects_done = 0
        self.bytes_stored = 0
        self.bytes_zero = 0
        self.calls = 0

    def _update(self, p):
        self.bytes_done = p.bytes_done
        self.bytes_total = p.bytes_total
        self.objects_done = p.objects_done
        self.bytes_stored = p.bytes_stored
        self.bytes_zero = p.bytes_zero
        self.calls += 1

    def percent(self):
        if self.bytes_total == 0:
            return 0.0
        return min(100.0, self.bytes_done * 100.0 / self.bytes_total)


class Control(object):
    """Progress and cancel for one call: `cancel()` may be called from any thread (the
    library polls the flag between pieces of work)."""

    def __init__(self):
        self.progress = Progress()
        self.cancelled = False
        self._pfn = PROGRESS_FN(lambda p, _: self.progress._update(p.contents))
        self._cfn = CANCEL_FN(lambda _: 1 if self.cancelled else 0)

    def cancel(self):
        self.cancelled = True


def _seekable(f):
    try:
        return bool(f.seekable()) if hasattr(f, 'seekable') else hasattr(f, 'seek')
    except Exception:  # noqa: B902
        return False


def _size_of(f):
    """The size of a seekable file-like object (from a seek to its end; the position is
    put back)."""
    here = f.tell()
    try:
        f.seek(0, os.SEEK_END)
        return f.tell()
    finally:
        f.seek(here)


class _Volume(object):
    """A file-like volume without a descriptor (RBD's wrapper in Cinder) as the library's
    callbacks: read and write in order (a stream), or pread, pwrite and flush at offsets for
    one that seeks, which the library then treats as a file or a block device (memory
    bounded whatever the object size; a stream holds whole objects). The offset calls come
    from several library threads at once: one lock makes each seek + read or write one step.
    A failure of the caller's object becomes -errno for the library, and is kept in `error`
    to be named in the exception."""

    def __init__(self, f, seekable):
        # an OS lock: the calls come from the library's native threads, where eventlet's
        # patched locks must not be used
        self._lock = _original_lock()
        self._f = f
        # where f is: unknown for one that seeks (the first call seeks), the start for a
        # stream, which cannot seek
        self._pos = None if seekable else 0
        self.error = None

    def _guard(self, fn):
        try:
            return fn()
        except OSError as e:
            self.error = e
            return -(e.errno or errno.EIO)
        except Exception as e:  # noqa: B902 - any failure of the caller's object
            self.error = e
            return -errno.EIO

    def _give(self, buf, n, data):
        k = len(data)
        if k > n:
            self.error = ValueError('read(%d) returned %d bytes' % (n, k))
            return -errno.EIO
        ctypes.memmove(buf, data, k)
        return k

    def _at(self, off):
        if self._pos != off:
            self._f.seek(off)
        self._pos = off

    def read(self, _, buf, n):
        return self._guard(lambda: self._give(buf, n, self._f.read(n) or b''))

    def pread(self, _, buf, n, off):
        def step():
            with self._lock:
                self._at(off)
                data = self._f.read(n) or b''
                self._pos = off + len(data)
            return self._give(buf, n, data)
        return self._guard(step)

    def write(self, _, buf, n, off):
        def step():
            data = ctypes.string_at(buf, n)
            with self._lock:
                self._at(off)
                self._f.write(data)
                self._pos = off + n
            return n
        return self._guard(step)

    def flush(self, _):
        def step():
            with self._lock:
                if hasattr(self._f, 'flush'):
                    self._f.flush()
            return 0
        return self._guard(step)


def _original_lock():
    """A real OS lock even under eventlet's monkey-patching."""
    try:
        import eventlet.patcher
        return eventlet.patcher.original('threading').Lock()
    except ImportError:
        import threading
        return threading.Lock()


class Store(object):
    """An open store (cb_store). `settings` are what the store reads as its environment
    (OS_AUTH_URL, ST_KEY, AWS_ACCESS_KEY_ID, ...): only these, never the process's."""

    def __init__(self, url, settings=None, availability_zone=None, ca_file=None,
                 insecure=False, retries=3, retry_backoff=2.0, timeout=120.0,
                 storage_policy=None, lock_wait=0.0, no_lock=False, lock_host=None):
        lib = library()
        self._env = {}
        for k, v in (settings or {}).items():
            if v is not None:
                buf = ctypes.create_string_buffer(str(v).encode('utf-8'))
                self._env[k.encode()] = buf
        self._getenv = GETENV_FN(self._lookup)
        o = _StoreOpts(version=STORE_OPTS_VERSION, create_containers=1,
                       availability_zone=_b(availability_zone), ca_file=_b(ca_file),
                       insecure=1 if insecure else 0, retries=max(1, int(retries)),
                       retry_backoff=float(retry_backoff), timeout=float(timeout),
                       storage_policy=_b(storage_policy), getenv=self._getenv,
                       lock_host=_b(lock_host), lock_wait=float(lock_wait),
                       no_lock=1 if no_lock else 0)
        e = _Error()
        h = ctypes.c_void_p()
        _check(lib.cb_store_open(ctypes.byref(h), _b(url), ctypes.byref(o), ctypes.byref(e)), e)
        self._h = h

    def _lookup(self, name, _):
        buf = self._env.get(name)
        return None if buf is None else ctypes.addressof(buf)

    def close(self):
        if self._h:
            library().cb_store_free(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def hint(self, backup_id, container, prefix):
        e = _Error()
        _check(library().cb_backup_hint(self._h, _b(backup_id), _b(container), _b(prefix),
                                        ctypes.byref(e)), e)

    def show(self, backup_id):
        e = _Error()
        p = ctypes.POINTER(_BackupInfo)()
        _check(library().cb_backup_show(self._h, _b(backup_id), ctypes.byref(p),
                                        ctypes.byref(e)), e)
        return _info(p)

    def delete_at(self, container, prefix):
        e = _Error()
        n = c_u64(0)
        _check(library().cb_backup_delete_at(self._h, _b(container), _b(prefix),
                                             ctypes.byref(n), ctypes.byref(e)), e)
        return n.value

    def put_container(self, container):
        e = _Error()
        _check(library().cb_store_put_container(self._h, _b(container), 0, ctypes.byref(e)), e)

    def backup(self, volume, volume_id, backup_id, container, prefix, created_at,
               parent_id=None, name=None, description=None, volume_meta=None,
               compression=None, object_size=0, sha_block=0, threads=0, control=None):
        """Back up `volume`: a descriptor (int) or a file-like object with read(n).
        Returns the new backup's description (a dict of cb_backup_info's fields)."""
        control = control or Control()
        o = _BackupOpts(version=BACKUP_OPTS_VERSION, volume_id=_b(volume_id),
                        backup_id=_b(backup_id), container=_b(container), name=_b(name),
                        description=_b(description), compression=_b(compression),
                        object_size=int(object_size), sha_block=int(sha_block),
                        parent_id=_b(parent_id), threads=int(threads),
                        progress=control._pfn, cancel=control._cfn, volume_fd=-1,
                        prefix=_b(prefix), created_at=_b(created_at),
                        volume_meta=_b(volume_meta))
        state = None
        if isinstance(volume, int):
            o.volume_fd = volume
        elif _seekable(volume):
            state = _Volume(volume, True)
            o.volume_pread = PREAD_FN(state.pread)
            o.volume_size = _size_of(volume)
        else:
            state = _Volume(volume, False)
            o.volume_read = READ_FN(state.read)
        e = _Error()
        p = ctypes.POINTER(_BackupInfo)()
        rc = library().cb_backup(self._h, None, ctypes.byref(o), ctypes.byref(p), ctypes.byref(e))
        if rc < 0 and state and state.error is not None:
            raise Error(rc, '%s (the volume: %s)' % (_u(e.msg), state.error))
        _check(rc, e)
        return _info(p)

    def restore(self, backup_id, target, target_zeroed=False, verify=False, threads=0,
                control=None):
        """Restore backup `backup_id` into `target`: a descriptor (int) or a file-like
        object with seek and write."""
        control = control or Control()
        o = _RestoreOpts(version=RESTORE_OPTS_VERSION, threads=int(threads),
                         progress=control._pfn, cancel=control._cfn, target_fd=-1,
                         target_zeroed=1 if target_zeroed else 0, verify=1 if verify else 0)
        state = None
        if isinstance(target, int):
            o.target_fd = target
        elif _seekable(target):
            state = _Volume(target, True)  # at offsets, in any order
            o.target_pwrite = WRITE_FN(state.write)
            o.target_flush = FLUSH_FN(state.flush)
        else:
            state = _Volume(target, False)  # in order: it only seeks over skipped zeros
            o.target_write = WRITE_FN(state.write)
        e = _Error()
        rc = library().cb_restore(self._h, _b(backup_id), None, ctypes.byref(o), ctypes.byref(e))
        if rc < 0 and state and state.error is not None:
            raise Error(rc, '%s (the volume: %s)' % (_u(e.msg), state.error))
        _check(rc, e)
