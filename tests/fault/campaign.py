#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The fault campaign: cinderblock killed, raced and starved on a real posix store.

Cases (CB_FAULT_RUNS runs each, default 20; CB_FAULT_SEED replays one campaign), group 'base':
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

Group 'retention' (CB_KILL_RUNS kills each, default 10), on two volumes' chains:
  kill-consolidate         kill -9 during consolidate --delete-chain
  kill-prune               kill -9 during prune --keep-last 3 --consolidate
Each run starts from the same store (copied, on /dev/shm where there is one) and kills at
a moment uniform over the command's measured duration, or over its deleting part.
After every kill: no listed backup lacks its parent, each restores bit-exact and passes
`verify`, and whatever belongs to no committed backup is in `list --incomplete`; then the
command again finishes the job (a consolidate whose backup the kill had deleted already:
'not found', exit 10), and `cleanup --older-than 0` leaves nothing incomplete.
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


def make_volume(path, seed, size=VOL):
    """Random, text and zero regions: every codec has real work."""
    r = random.Random(seed)
    with open(path, 'wb') as f:
        for i in range(size // (256 << 10)):
            kind = i % 3
            if kind == 0:
                f.write(r.randbytes(256 << 10))
            elif kind == 1:
                line = b'block %d of the volume, line %d\n' % (i, r.randrange(9))
                f.write((line * ((256 << 10) // len(line) + 1))[:256 << 10])
            else:
                f.write(bytes(256 << 10))
            f.flush()


def change_volume(path, seed, regions=4, size=VOL):
    r = random.Random(seed)
    with open(path, 'r+b') as f:
        for _ in range(regions):
            f.seek(r.randrange(size // 65536) * 65536)
            f.write(r.randbytes(65536))


def backup(s, vol, *extra, bid=None, env=None):
    bid = bid or str(uuid.UUID(int=rng.getrandbits(128), version=4))
    p = s.run('-q', 'backup', vol, '--backup-id', bid, '--object-size', '256K', *extra, env=env)
    if p.returncode == 0:
        s.want[bid] = sha_file(vol)
    return p, bid


def timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def kill_at(proc, delay):
    """SIGKILL after `delay` seconds: whether it was still running then."""
    time.sleep(delay)
    running = proc.poll() is None
    proc.kill()
    proc.wait()
    return running


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


# ---- kill -9 during retention: consolidate --delete-chain ----

KILL_RUNS = int(os.environ.get('CB_KILL_RUNS', '10'))
# two volumes, each a full and incrementals: name, size, incrementals, codec
CHAINS = (('vol-a', 8 << 20, 6, 'zstd'), ('vol-b', 4 << 20, 5, 'zlib'))


def chains_store(top, case):
    """Two volumes' chains, their backups an hour apart (CINDERBLOCK_NOW), kept as a
    snapshot that every run starts from: s.chains[name] = its ids, oldest first."""
    # on a tmpfs where there is one: the same kills (into a page cache either way), without
    # waiting for the disk on each fsync of the many restores that check them
    own = None
    if os.access('/dev/shm', os.W_OK):
        own = top = tempfile.mkdtemp(prefix='cb-fault.', dir='/dev/shm')
    s = Store(top, case)
    s.own = own
    s.chains = {}
    t = 1767225600  # 2026-01-01T00:00:00Z
    for name, size, _, _ in CHAINS:
        make_volume(os.path.join(s.dir, name), SEED + size, size)
        s.chains[name] = []
    for k in range(max(n for _, _, n, _ in CHAINS) + 1):
        for name, size, n, comp in CHAINS:
            if k > n:
                continue
            vol = os.path.join(s.dir, name)
            if k > 0:
                change_volume(vol, SEED + size + k, regions=16, size=size)
            env = dict(os.environ,
                       CINDERBLOCK_NOW=time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(t)))
            t += 3600
            p, bid = backup(s, vol, '--compression', comp, *(['--incremental'] if k else []),
                            env=env)
            check(p.returncode == 0, 'building the chains: ' + p.stderr)
            s.chains[name].append(bid)
    s.snap = os.path.join(s.dir, 'snapshot')
    shutil.copytree(s.root, s.snap, symlinks=True)
    s.snap_want = dict(s.want)
    s.snap_list = {b['id']: b for b in s.listed()}
    return s


def chains_done(s):
    if s.own is not None:
        shutil.rmtree(s.own, ignore_errors=True)


def chains_reset(s):
    """The store as it was built, for the next run."""
    shutil.rmtree(s.root)
    shutil.copytree(s.snap, s.root, symlinks=True)
    s.want = dict(s.snap_want)


def incomplete(s):
    return json.loads(s.run('--json', 'list', '--incomplete', check_rc=0).stdout)['incomplete']


def sound(s, case, restore=None):
    """What a kill may leave: every listed backup is one we know, or a synthetic full of one
    (its description says which); its parent is listed; it restores bit-exact (those of
    `restore` only, when given) and `verify` passes; and every object that no committed
    backup lists, and every record of a backup in progress, is in `list --incomplete`.
    Returns the listing, by id."""
    backups = s.listed()
    listed = {b['id']: b for b in backups}
    for b in backups:
        check(b.get('problem') is None, 'listed backup %s has a problem: %s'
              % (b['id'], b.get('problem')))
        if b['id'] not in s.want:
            src = (b.get('description') or '').split(' ')
            src = src[4] if src[:4] == ['synthetic', 'full', 'of', 'backup'] else None
            check(src in s.want and b['parent_id'] is None and not b['incremental'],
                  'listed backup %s was never committed (%s)' % (b['id'], b.get('description')))
            check(b['volume_id'] == s.snap_list.get(src, {}).get('volume_id'),
                  'the synthetic full %s is not of its backup\'s volume' % b['id'])
            s.want[b['id']] = s.want[src]
        check(b['parent_id'] is None or b['parent_id'] in listed,
              'backup %s lists parent %s, which is gone' % (b['id'], b['parent_id']))
    for bid in listed:
        if restore is None or bid in restore:
            s.restore_check(bid, case)
    if listed:
        s.run('-q', 'verify', *listed, check_rc=0)
    inc = incomplete(s)
    # an entry's names: its objects, in its container, and its record, in the home ('')
    shown = {n if n.startswith('cinderblock/')
             else os.path.normpath(os.path.join(e['container'], n))
             for e in inc for n in e['names']}
    extra = s.files() - s.committed_objects(backups)
    # the posix store's own temporary files (a kill between naming one and renaming it into
    # place) are never listed: a listing of their directory removes them a day old
    temps = {f for f in extra if os.path.basename(f).startswith('.cinderblock-tmp-')}
    if temps:
        note(case, 'temporary files left (removed a day old)', len(temps))
    extra -= temps
    pending = os.path.join(s.root, 'cinderblock', 'pending')
    if os.path.isdir(pending):
        extra |= {os.path.join('cinderblock', 'pending', n) for n in os.listdir(pending)}
    check(extra <= shown, '%d object(s) in the store belong to no committed backup and are not '
          'in list --incomplete: %s' % (len(extra - shown), sorted(extra - shown)[:3]))
    note(case, 'leftovers listed', len(inc))
    return listed


def store_phase(s, olds):
    """Where the killed command was, from the store: `olds` are the backups it deletes."""
    listed = {b['id']: b for b in s.listed()}
    inc = incomplete(s)
    new = sum(1 for i in listed if i not in s.snap_list)
    partial = [e for e in inc if e['backup_id'] not in s.snap_list and e['backup_id'] not in listed]
    half = [e for e in inc if e['backup_id'] in olds and e['backup_id'] not in listed]
    gone = sum(1 for i in olds if i not in listed)
    moved = sum(1 for i in listed if i in s.snap_list
                and listed[i]['parent_id'] != s.snap_list[i]['parent_id'])
    if gone == len(olds) and not half:
        return 'all %d old backups deleted' % gone
    if gone or half:
        return 'deleting: %d of %d old backups gone%s' % (gone, len(olds),
                                                        ', one half-deleted' if half else '')
    if moved:
        return '%d re-parented, nothing deleted' % moved
    if partial:
        return 'writing a synthetic full (%d committed)' % new
    if new:
        return '%d synthetic full(s) committed, nothing re-parented' % new
    return 'nothing written yet'


def cleanup_all(s, case):
    """`cleanup --older-than 0` removes the leftovers, and the store then holds the committed
    backups' objects and nothing else."""
    s.audit(case, restore_all=False)
    check(incomplete(s) == [], 'list --incomplete after cleanup: %s' % incomplete(s))


def kill_moments(n):
    """n fractions of a duration, to 1.05 of it, to kill at: each uniform in its own n-th,
    shuffled, so that even a few kills spread over all of it."""
    order = list(range(n))
    rng.shuffle(order)
    return [1.05 * (i + rng.random()) / n for i in order]


def objects_in(path):
    try:
        return len(os.listdir(path))
    except FileNotFoundError:
        return 0


def reached(s, p):
    """The parts of its run that the store shows the command in: 'locked' (it holds the
    exclusive lock), 'deleting' (an object of p['olds'] went: each has a container of its own
    in a posix store)."""
    if 'dirs' not in p:  # each container as built
        p['dirs'] = {os.path.join(s.root, s.snap_list[i]['container']):
                     objects_in(os.path.join(s.snap, s.snap_list[i]['container']))
                     for i in p['olds']}
    got = set()
    if os.path.exists(os.path.join(s.root, 'cinderblock', 'locks', 'exclusive')):
        got.add('locked')
    if deleted(p) > 0:
        got.add('deleting')
    return got


def deleted(p):
    """How many objects of p['olds'] are gone (reached() must have run)."""
    return sum(n - objects_in(d) for d, n in p['dirs'].items())


def run_watched(s, p):
    """One uninterrupted run: how long it took, how long of that at its end it held the
    exclusive lock, and how long it ran once it had begun to delete."""
    t0 = time.monotonic()
    proc = s.start(*p['args'])
    since = {}
    while proc.poll() is None:
        now = time.monotonic()
        for part in reached(s, p):
            since.setdefault(part, now)
        time.sleep(0.0002)
    t1 = time.monotonic()
    _, err = proc.communicate()
    check(proc.returncode == 0, '%s exited %d: %s' % (' '.join(p['args']), proc.returncode, err))
    return {'any': t1 - t0, 'locked': t1 - since.get('locked', t1),
            'deleting': t1 - since.get('deleting', t1)}


# how each kill picks its moment: uniform over the whole run, or over the part of it where
# the command holds the exclusive lock, or over its deleting (short, and where a chain could
# break: by the number of old objects gone, which a loaded machine does not stretch)
MODES = ('any', 'any', 'locked', 'any', 'deleting')


def retention_kills(s, case, plan, finish):
    """kill -9 of a retention command on the chains of `s`, KILL_RUNS times, each at a moment
    of a part of its run (MODES) uniform over that part's typical duration (the median of
    three uninterrupted runs). After each the store must be sound (sound()); then finish()
    runs the command again and checks where it ends.
    plan(run) -> dict: 'key' (runs of one typical duration), 'args', 'olds' (the backups it
    deletes); finish(plan, killed)."""
    dur = {}
    moments = {m: kill_moments(sum(1 for i in range(KILL_RUNS) if MODES[i % len(MODES)] == m))
               for m in set(MODES)}
    run = kills = 0
    while kills < KILL_RUNS:
        check(run < 5 * KILL_RUNS + 10, 'too few runs were still going at their kill')
        p = plan(run)
        run += 1
        if p['key'] not in dur:
            t = []
            for _ in range(3):
                chains_reset(s)
                t.append(run_watched(s, p))
            dur[p['key']] = {m: sorted(x[m] for x in t)[1] for m in t[0]}
            note(case, 'uninterrupted runs', 3)
            finish(p, False)
            continue
        mode = MODES[kills % len(MODES)]
        m = moments[mode].pop() if moments[mode] else 1.05 * rng.random()
        chains_reset(s)
        proc = s.start(*p['args'])
        while mode != 'any' and proc.poll() is None and mode not in reached(s, p):
            time.sleep(0.0002)
        if mode == 'deleting':  # the first object went; to kill after the m-th part of all
            goal = m / 1.05 * sum(p['dirs'].values())
            while proc.poll() is None and deleted(p) < goal:
                time.sleep(0.0001)
        if not kill_at(proc, 0 if mode == 'deleting' else m * dur[p['key']][mode]):
            note(case, 'ended before its kill')
            continue
        kills += 1
        note(case, {'any': 'kills', 'locked': 'kills while it held the exclusive lock',
                    'deleting': 'kills while it deleted'}[mode])
        note(case, 'killed: ' + store_phase(s, p['olds']))
        sound(s, case)
        finish(p, True)
    for key in sorted(dur):
        counts[case]['seconds per run, %s: all, locked, deleting' % key] = [
            round(dur[key][m], 3) for m in ('any', 'locked', 'deleting')]


def case_kill_consolidate(top):
    """consolidate K --delete-chain killed, then run again: K's dependants end on a synthetic
    full of K, K and its parents go, the other volume stays as it was."""
    case = 'kill-consolidate'
    s = chains_store(top, case)
    vols = [name for name, _, _, _ in CHAINS]

    def plan(run):
        name = vols[run % len(vols)]
        k = rng.randrange(1, len(s.chains[name]) - 1)  # with parents and dependants
        kid = s.chains[name][k]
        return {'key': name, 'name': name, 'k': k, 'kid': kid, 'olds': s.chains[name][:k + 1],
                'args': ['-q', 'consolidate', kid, '--delete-chain', '--object-size', '256K']}

    def finish(p, killed):
        chain, k, kid = s.chains[p['name']], p['k'], p['kid']
        if killed:
            r = s.run(*p['args'])
            if any(b['id'] == kid for b in s.listed()) or r.returncode == 0:
                check(r.returncode == 0, 'consolidate after a kill failed: ' + r.stderr)
            else:  # killed once kid itself was deleted: the rest of its chain stays
                check(r.returncode == 10 and 'not found' in r.stderr,
                      'consolidate of a deleted backup: exit %d %s' % (r.returncode, r.stderr))
                note(case, 'reruns refused: the kill had deleted the consolidated backup')
                note(case, 'old backups those left', sum(1 for i in chain[:k] if i in s.want))
        # kid and (unless a kill stopped that) its parents gone, its dependants on a synthetic
        # full of it, the other volume as it was
        listed = sound(s, case, restore=set(chain) | {i for i in s.want if i not in s.snap_list})
        check(kid not in listed, 'the consolidated backup %s is still there' % kid)
        left = [i for i in chain[:k] if i in listed]
        check(left == chain[:len(left)], 'the old chain lost a backup out of order: %s' % left)
        for i in chain[k + 1:]:
            check(i in listed, 'dependant %s of the consolidated backup went' % i)
        up = listed[chain[k + 1]]['parent_id']
        check(up not in s.snap_list and s.want.get(up) == s.want[kid],
              'dependant %s is on %s, not on a synthetic full of %s' % (chain[k + 1], up, kid))
        for i in (i for other in vols if other != p['name'] for i in s.chains[other]):
            check(i in listed and listed[i]['parent_id'] == s.snap_list[i]['parent_id'],
                  'backup %s of the other volume changed' % i)
        extra = len([i for i in listed if i not in s.snap_list]) - 1
        if extra:
            note(case, 'synthetic fulls nothing needs, left by a kill after their commit', extra)
        cleanup_all(s, case)

    try:
        retention_kills(s, case, plan, finish)
    finally:
        chains_done(s)


def case_kill_prune(top):
    """prune --keep-last 3 --consolidate killed, then run again: in each volume the three
    newest stay, the oldest of them on a synthetic full of itself, the rest gone."""
    case = 'kill-prune'
    s = chains_store(top, case)
    args = ['-q', 'prune', '--keep-last', '3', '--consolidate']
    kept = {name: chain[-3:] for name, chain in s.chains.items()}
    olds = [i for chain in s.chains.values() for i in chain[:-3]]

    def plan(run):
        return {'key': 'prune', 'args': args, 'olds': olds}

    def finish(p, killed):
        if killed:
            s.run(*args, check_rc=0)
        listed = sound(s, case)
        for name, keep in kept.items():
            mine = [i for i, b in listed.items()
                    if b['volume_id'] == s.snap_list[keep[0]]['volume_id']]
            for i in keep:
                check(i in listed, 'kept backup %s went' % i)
            up = listed[keep[0]]['parent_id']
            check(up not in s.snap_list and s.want.get(up) == s.want[keep[0]],
                  'the oldest kept backup %s is on %s, not on a synthetic full of itself'
                  % (keep[0], up))
            check(sorted(mine) == sorted(keep + [up]), '%s holds %d backups, not its 3 kept and '
                  'their synthetic full: %s' % (name, len(mine), sorted(set(mine) - set(keep))))
        check(not any(i in listed for i in olds), 'a dropped backup is still there')
        cleanup_all(s, case)

    try:
        retention_kills(s, case, plan, finish)
    finally:
        chains_done(s)


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
    print('fault campaign: seed %d, %d runs per case, %d kills per retention case '
          '(CB_FAULT_SEED=%d replays it)' % (SEED, RUNS, KILL_RUNS, SEED), flush=True)
    top = tempfile.mkdtemp(prefix='cb-fault.', dir=os.environ.get('TMPDIR'))
    # name, group (an argument names cases or groups; none: all of them), what it runs
    cases = [('kill-full', 'base', lambda: case_kill_backup(top, False)),
             ('kill-incr', 'base', lambda: case_kill_backup(top, True)),
             ('kill-restore', 'base', lambda: case_kill_restore(top)),
             ('kill-delete', 'base', lambda: case_kill_delete(top)),
             ('race-delete-incr', 'base', lambda: case_race_delete_incr(top)),
             ('race-incr-incr', 'base', lambda: case_race_incr_incr(top)),
             ('race-delete-restore', 'base', lambda: case_race_delete_restore(top)),
             ('race-same-id', 'base', lambda: case_race_same_id(top)),
             ('enospc', 'base', lambda: case_enospc(top)),
             ('kill-consolidate', 'retention', lambda: case_kill_consolidate(top)),
             ('kill-prune', 'retention', lambda: case_kill_prune(top))]
    only = sys.argv[1:]
    unknown = set(only) - {c[0] for c in cases} - {c[1] for c in cases}
    if unknown:
        sys.exit('no such case or group: %s' % ' '.join(sorted(unknown)))
    rc = 0
    try:
        for name, group, fn in cases:
            if only and name not in only and group not in only:
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
