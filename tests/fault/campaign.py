#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The fault campaign: cinderblock killed, raced and starved on a real posix store.

Cases (CB_FAULT_RUNS runs each, default 20; CB_FAULT_SEED replays one campaign):
  kill-full, kill-incr     kill -9 at a random moment of a backup
  kill-restore             kill -9 during a restore over an existing file
  kill-delete              kill -9 during delete --cascade of a chain
  race-delete-incr         delete --cascade of a parent while its child is backed up
                           (two hosts: different --lock-host)
  race-incr-incr           two incrementals of one volume at once
  race-delete-restore      delete of a backup while it is restored
  race-same-id             two backups given the same --backup-id at once
  enospc-store, enospc-target  a full file system as the store and as the target (root)
After every kill: every backup `list` shows restores bit-exact, `cleanup --older-than 0`
removes exactly what belongs to no committed backup (the store then holds the committed
backups' objects and nothing else), and the next command succeeds.
"""
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

CB = os.environ.get('CINDERBLOCK') or sys.exit('set CINDERBLOCK to the cinderblock binary')
RUNS = int(os.environ.get('CB_FAULT_RUNS', '20'))
SEED = int(os.environ.get('CB_FAULT_SEED', str(int(time.time()) % 100000)))
VOL = 6 << 20
rng = random.Random(SEED)
counts = {}


def note(case, key, n=1):
    counts.setdefault(case, {}).setdefault(key, 0)
    counts[case][key] += n


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Store:
    """A posix store and the volumes its backups hold, by backup id."""

    def __init__(self, top, name):
        self.dir = os.path.join(top, name)
        os.makedirs(self.dir)
        self.root = os.path.join(self.dir, 'store')
        os.makedirs(self.root)  # a store must exist (`cinderblock init` makes one)
        self.want = {}  # backup id -> sha256 of the volume it holds

    def run(self, *args, check_rc=None, env=None, timeout=120):
        p = subprocess.run([CB, '--store', self.root] + list(args), capture_output=True,
                           text=True, timeout=timeout, env=env)
        if check_rc is not None and p.returncode != check_rc:
            raise Failure('%s exited %d (not %d): %s' % (' '.join(args), p.returncode, check_rc,
                                                         p.stderr.strip()))
        return p

    def start(self, *args):
        return subprocess.Popen([CB, '--store', self.root] + list(args),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def listed(self):
        p = self.run('--json', 'list', check_rc=0)
        return json.loads(p.stdout)['backups']

    def restore_check(self, bid, case):
        target = os.path.join(self.dir, 'check.img')
        self.run('-q', 'restore', '--force', bid, target, check_rc=0)
        check(sha_file(target) == self.want[bid], 'backup %s restores wrong data' % bid)
        os.unlink(target)
        note(case, 'restores compared')

    def audit(self, case, restore_all):
        """Every listed backup is one we know and restores; then cleanup leaves exactly the
        committed backups' objects."""
        backups = self.listed()
        for b in backups:
            check(b.get('problem') is None, 'listed backup %s has a problem: %s'
                  % (b['id'], b.get('problem')))
            check(b['id'] in self.want, 'listed backup %s was never committed' % b['id'])
        ids = [b['id'] for b in backups]
        for bid in (ids if restore_all else ids[-2:]):
            self.restore_check(bid, case)
        inc = json.loads(self.run('--json', 'list', '--incomplete', check_rc=0).stdout)
        note(case, 'leftovers found', len(inc['incomplete']))
        out = json.loads(self.run('--json', 'cleanup', '--older-than', '0', check_rc=0).stdout)
        note(case, 'leftovers removed', len(out['removed']))
        check(len(out['removed']) == len(inc['incomplete']),
              'cleanup removed %d of %d leftovers' % (len(out['removed']), len(inc['incomplete'])))
        check(self.files() == self.committed_objects(backups),
              'after cleanup the store holds other objects than the committed backups\' '
              '(extra: %s, missing: %s)' % (
                  sorted(self.files() - self.committed_objects(backups))[:3],
                  sorted(self.committed_objects(backups) - self.files())[:3]))
        for gone in set(self.want) - set(ids):
            del self.want[gone]
        return backups

    def files(self):
        got = set()
        for d, _, names in os.walk(self.root):
            rel = os.path.relpath(d, self.root)
            if rel == 'cinderblock' or rel.startswith('cinderblock/'):
                continue
            for n in names:
                got.add(os.path.normpath(os.path.join(rel, n)))
        return got

    def committed_objects(self, backups):
        want = set()
        for b in backups:
            meta = os.path.join(b['container'], b['prefix'] + '_metadata')
            with open(os.path.join(self.root, meta)) as f:
                doc = json.load(f)
            want.add(os.path.normpath(meta))
            want.add(os.path.normpath(os.path.join(b['container'], b['prefix'] + '_sha256file')))
            for entry in doc['objects']:
                for name in entry:
                    want.add(os.path.normpath(os.path.join(b['container'], name)))
        return want


def sha_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def make_volume(path, seed):
    """Random, text and zero regions: every codec has real work."""
    r = random.Random(seed)
    with open(path, 'wb') as f:
        for i in range(VOL // (256 << 10)):
            kind = i % 3
            if kind == 0:
                f.write(r.randbytes(256 << 10))
            elif kind == 1:
                line = b'block %d of the volume, line %d\n' % (i, r.randrange(9))
                f.write((line * ((256 << 10) // len(line) + 1))[:256 << 10])
            else:
                f.write(bytes(256 << 10))
            f.flush()


def change_volume(path, seed, regions=4):
    r = random.Random(seed)
    with open(path, 'r+b') as f:
        for _ in range(regions):
            f.seek(r.randrange(VOL // 65536) * 65536)
            f.write(r.randbytes(65536))


def backup(s, vol, *extra, bid=None):
    bid = bid or str(uuid.UUID(int=rng.getrandbits(128), version=4))
    p = s.run('-q', 'backup', vol, '--backup-id', bid, '--object-size', '256K', *extra)
    if p.returncode == 0:
        s.want[bid] = sha_file(vol)
    return p, bid


def timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def kill_at(proc, delay):
    time.sleep(delay)
    proc.kill()
    proc.wait()


# ---- kill -9 ----

def case_kill_backup(top, incremental):
    case = 'kill-incr' if incremental else 'kill-full'
    s = Store(top, case)
    vol = os.path.join(s.dir, 'vol')
    make_volume(vol, SEED)
    comps = ['zstd', 'zlib', 'bz2', 'none']
    p, _ = backup(s, vol, '--compression', 'zlib')
    check(p.returncode == 0, 'first backup failed: ' + p.stderr)
    dur = {c: timed(lambda c=c: backup(s, vol, '--compression', c)) for c in comps}
    for run in range(RUNS):
        comp = comps[run % len(comps)]
        change_volume(vol, SEED + run)
        want = sha_file(vol)
        bid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        args = ['backup', vol, '--backup-id', bid, '--object-size', '256K', '--compression',
                comp] + (['--incremental'] if incremental else [])
        proc = s.start(*args)
        kill_at(proc, rng.uniform(0, dur[comp] * 1.2))
        note(case, 'kills')
        if any(b['id'] == bid for b in s.listed()):
            s.want[bid] = want  # killed after its commit
            note(case, 'killed after the commit')
        s.audit(case, restore_all=(run == RUNS - 1))
        p, _ = backup(s, vol, '--compression', comp, *(['--incremental'] if incremental else []))
        check(p.returncode == 0, 'the backup after a kill failed: ' + p.stderr)


def case_kill_restore(top):
    case = 'kill-restore'
    s = Store(top, case)
    vol = os.path.join(s.dir, 'vol')
    make_volume(vol, SEED + 7)
    p, bid = backup(s, vol, '--compression', 'zstd')
    check(p.returncode == 0, p.stderr)
    target = os.path.join(s.dir, 'target')
    old = b'precious data that a failed restore must not touch\n' * 1000
    dur = timed(lambda: s.run('-q', 'restore', '--force', bid, os.path.join(s.dir, 'probe'), check_rc=0))
    for run in range(RUNS):
        with open(target, 'wb') as f:
            f.write(old)
        proc = s.start('restore', '--force', bid, target)
        kill_at(proc, rng.uniform(0, dur * 1.2))
        note(case, 'kills')
        got = sha_file(target)
        check(got in (hashlib.sha256(old).hexdigest(), s.want[bid]),
              'a killed restore left the target half-written')
        temps = [n for n in os.listdir(s.dir) if n.startswith('target.cinderblock-tmp-')]
        note(case, 'temporary files left by kills', len(temps))
        s.run('-q', 'restore', '--force', bid, target, check_rc=0)
        check(sha_file(target) == s.want[bid], 'the restore after a kill differs')
        note(case, 'restores compared')
        temps = [n for n in os.listdir(s.dir) if n.startswith('target.cinderblock-tmp-')]
        check(not temps, 'the next restore left earlier temporary files: %s' % temps)
    s.audit(case, restore_all=True)


def case_kill_delete(top):
    case = 'kill-delete'
    s = Store(top, case)
    vol = os.path.join(s.dir, 'vol')
    other = os.path.join(s.dir, 'other')
    make_volume(other, SEED + 99)
    p, keep = backup(s, other, '--compression', 'zlib')
    check(p.returncode == 0, p.stderr)
    for run in range(RUNS):
        make_volume(vol, SEED + 1000 + run)
        p, full = backup(s, vol, '--compression', 'none')
        check(p.returncode == 0, p.stderr)
        for k in range(3):
            change_volume(vol, SEED + 2000 + run * 10 + k)
            p, _ = backup(s, vol, '--incremental', '--compression', 'zstd')
            check(p.returncode == 0, p.stderr)
        if run == 0:
            dur = timed(lambda: s.run('-q', 'delete', full, '--cascade', check_rc=0))
            s.audit(case, restore_all=False)
            continue
        proc = s.start('delete', full, '--cascade')
        kill_at(proc, rng.uniform(0, dur * 1.2))
        note(case, 'kills')
        s.audit(case, restore_all=False)
        check(keep in s.want, 'the unrelated backup went')
        if full in s.want:  # the chain's survivors: a clean delete finishes the job
            s.run('-q', 'delete', full, '--cascade', check_rc=0)
        s.audit(case, restore_all=False)
    s.restore_check(keep, case)


# ---- races ----

def case_race_delete_incr(top):
    case = 'race-delete-incr'
    s = Store(top, case)
    vol = os.path.join(s.dir, 'vol')
    dur = None
    for run in range(RUNS):
        make_volume(vol, SEED + 3000 + run)
        p, full = backup(s, vol, '--compression', 'zlib', '--lock-host', 'alpha')
        check(p.returncode == 0, p.stderr)
        change_volume(vol, SEED + 4000 + run, regions=40)
        if dur is None:  # how long such an incremental takes, to race it all along
            probe = os.path.join(s.dir, 'probe')
            shutil.copyfile(vol, probe)
            dur = timed(lambda: backup(s, probe, '--volume-id', str(uuid.uuid4()),
                                       '--compression', 'bz2'))
        want = sha_file(vol)
        child = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        inc = s.start('--lock-host', 'alpha', 'backup', vol, '--incremental', '--backup-id', child,
                      '--object-size', '256K', '--compression', 'bz2')
        time.sleep(rng.uniform(0, dur))
        d = s.run('--lock-host', 'beta', 'delete', full, '--cascade')
        inc_out, inc_err = inc.communicate()
        note(case, 'runs')
        listed = {b['id'] for b in s.listed()}
        if inc.returncode == 0:
            s.want[child] = want
        if d.returncode == 11:
            note(case, 'delete refused: locked (exit 11)')
            # the child ran, or both saw each other's lock and both backed off
            check(inc.returncode in (0, 11), 'the incremental failed although the delete '
                  'was refused: ' + inc_err)
        elif d.returncode == 0:
            note(case, 'delete ran first or after')
            check(inc.returncode != 0 or child not in listed,
                  'the child exited 0 and is listed although its parent was deleted')
        else:
            raise Failure('delete exited %d: %s' % (d.returncode, d.stderr))
        if inc.returncode != 0:
            note(case, 'incremental failed cleanly (exit %d)' % inc.returncode)
        s.audit(case, restore_all=True)
        for b in s.listed():
            s.run('-q', 'delete', b['id'], '--cascade')
        s.audit(case, restore_all=False)


def case_race_incr_incr(top):
    case = 'race-incr-incr'
    s = Store(top, case)
    vol = os.path.join(s.dir, 'vol')
    make_volume(vol, SEED + 5000)
    p, _ = backup(s, vol, '--compression', 'zstd')
    check(p.returncode == 0, p.stderr)
    for run in range(RUNS):
        change_volume(vol, SEED + 5100 + run)
        want = sha_file(vol)
        ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(2)]
        procs = [s.start('--lock-host', h, 'backup', vol, '--incremental', '--backup-id', i,
                         '--object-size', '256K', '--compression', 'zstd')
                 for h, i in zip(('alpha', 'beta'), ids)]
        for i, pr in zip(ids, procs):
            _, err = pr.communicate()
            check(pr.returncode == 0, 'an incremental beside another failed: ' + err)
            s.want[i] = want
        note(case, 'pairs')
        s.audit(case, restore_all=False)
        for i in ids:
            s.restore_check(i, case)


def case_race_delete_restore(top):
    case = 'race-delete-restore'
    s = Store(top, case)
    vol = os.path.join(s.dir, 'vol')
    target = os.path.join(s.dir, 'target')
    dur = None
    for run in range(RUNS):
        make_volume(vol, SEED + 6000 + run)
        p, bid = backup(s, vol, '--compression', 'bz2')
        check(p.returncode == 0, p.stderr)
        if dur is None:
            dur = timed(lambda: s.run('-q', 'restore', '--force', bid, target, check_rc=0))
        if os.path.exists(target):
            os.unlink(target)
        r = s.start('--lock-host', 'alpha', 'restore', '--force', bid, target)
        time.sleep(rng.uniform(0, dur))
        d = s.run('--lock-host', 'beta', 'delete', bid)
        r.communicate()
        note(case, 'runs')
        if r.returncode == 0:
            check(sha_file(target) == s.want[bid], 'a restore raced by a delete exited 0 wrong')
            note(case, 'restore finished, bit-exact')
        else:
            check(not os.path.exists(target), 'a failed restore left its target')
            note(case, 'restore failed cleanly (exit %d)' % r.returncode)
        check(d.returncode in (0, 11), 'delete exited %d: %s' % (d.returncode, d.stderr))
        note(case, 'delete exit %d' % d.returncode)
        s.audit(case, restore_all=False)
        if d.returncode == 11:
            s.run('-q', 'delete', bid, check_rc=0)
            del s.want[bid]


def case_race_same_id(top):
    case = 'race-same-id'
    s = Store(top, case)
    vols = [os.path.join(s.dir, 'vol%d' % i) for i in range(2)]
    for i, v in enumerate(vols):
        make_volume(v, SEED + 7000 + i)
    for run in range(RUNS):
        bid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        procs = [s.start('backup', v, '--backup-id', bid, '--object-size', '256K',
                         '--compression', 'zstd') for v in vols]
        outs = [pr.communicate() for pr in procs]
        ok = [i for i, pr in enumerate(procs) if pr.returncode == 0]
        note(case, 'pairs')
        check(len(ok) <= 1, 'two backups with one id both exited 0')
        for i, pr in enumerate(procs):
            if pr.returncode != 0:
                check(pr.returncode == 1 and ('already' in outs[i][1]),
                      'the refused backup said: exit %d %s' % (pr.returncode, outs[i][1]))
        if ok:
            s.want[bid] = sha_file(vols[ok[0]])
            note(case, 'one won')
        else:
            note(case, 'both refused')
        s.audit(case, restore_all=True)
        if ok:
            s.run('-q', 'delete', bid, check_rc=0)
            del s.want[bid]


# ---- a full file system ----

def mount_small(path, mib):
    """A small ext4 on a loop device (O_DIRECT and all), else tmpfs; None if not root."""
    if os.geteuid() != 0:
        return None
    os.makedirs(path)
    img = path + '.img'
    if shutil.which('mkfs.ext4'):
        with open(img, 'wb') as f:
            f.truncate(mib << 20)
        if subprocess.run(['mkfs.ext4', '-q', '-F', img], capture_output=True).returncode == 0 \
                and subprocess.run(['mount', '-o', 'loop', img, path],
                                   capture_output=True).returncode == 0:
            return 'ext4'
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=%dm' % mib, 'tmpfs', path],
                      capture_output=True).returncode == 0:
        return 'tmpfs'
    return None


def case_enospc(top):
    case = 'enospc'
    s = Store(top, case)
    vol = os.path.join(s.dir, 'vol')
    make_volume(vol, SEED + 8000)
    mnt = os.path.join(s.dir, 'small')
    kind = mount_small(mnt, 24)
    if kind is None:
        note(case, 'skipped: not root')
        return
    try:
        s.root = os.path.join(mnt, 'store')
        os.makedirs(s.root)  # a store must exist (`cinderblock init` makes one)
        failed = None
        for run in range(12):
            change_volume(vol, SEED + 8100 + run)
            p, bid = backup(s, vol, '--compression', 'none')
            if p.returncode != 0:
                failed = p
                break
            note(case, 'backups before full')
        check(failed is not None, 'the small %s never filled' % kind)
        check(failed.returncode == 1 and 'No space left' in failed.stderr,
              'a full store: exit %d, %s' % (failed.returncode, failed.stderr))
        note(case, 'full store: failed cleanly (%s)' % kind)
        s.audit(case, restore_all=True)
        first = s.listed()[0]['id']
        s.run('-q', 'delete', first, check_rc=0)
        del s.want[first]
        p, _ = backup(s, vol, '--compression', 'zstd')
        check(p.returncode == 0, 'after freeing space the backup failed: ' + p.stderr)
        # a restore target on a file system without room: refused at once
        tmnt = os.path.join(s.dir, 'tsmall')
        tkind = mount_small(tmnt, 4)
        if tkind is not None:
            try:
                target = os.path.join(tmnt, 'target')
                p = s.run('restore', '--force', s.listed()[-1]['id'], target)
                check(p.returncode == 1 and 'space' in p.stderr,
                      'a full target: exit %d %s' % (p.returncode, p.stderr))
                check(not os.listdir(tmnt) or os.listdir(tmnt) == ['lost+found'],
                      'a refused restore left %s' % os.listdir(tmnt))
                note(case, 'full target: refused at once (%s)' % tkind)
            finally:
                subprocess.run(['umount', tmnt])
    finally:
        subprocess.run(['umount', mnt])


def main():
    print('fault campaign: seed %d, %d runs per case (CB_FAULT_SEED=%d replays it)'
          % (SEED, RUNS, SEED), flush=True)
    top = tempfile.mkdtemp(prefix='cb-fault.', dir=os.environ.get('TMPDIR'))
    cases = [('kill-full', lambda: case_kill_backup(top, False)),
             ('kill-incr', lambda: case_kill_backup(top, True)),
             ('kill-restore', lambda: case_kill_restore(top)),
             ('kill-delete', lambda: case_kill_delete(top)),
             ('race-delete-incr', lambda: case_race_delete_incr(top)),
             ('race-incr-incr', lambda: case_race_incr_incr(top)),
             ('race-delete-restore', lambda: case_race_delete_restore(top)),
             ('race-same-id', lambda: case_race_same_id(top)),
             ('enospc', lambda: case_enospc(top))]
    only = sys.argv[1:]
    rc = 0
    try:
        for name, fn in cases:
            if only and name not in only:
                continue
            t0 = time.monotonic()
            try:
                fn()
                status = 'ok'
            except Failure as e:
                status = 'FAILED: %s' % e
                rc = 1
            print('%-20s %5.1f s  %s  %s' % (name, time.monotonic() - t0, status,
                                              json.dumps(counts.get(name, {}))), flush=True)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return rc


if __name__ == '__main__':
    sys.exit(main())
