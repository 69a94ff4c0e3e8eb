#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/services/keystone.sh - a real OpenStack Keystone (identity v3; Debian
# 12: Keystone 22, Zed) on loopback, plus a Swift whose proxy authenticates
# against it (authtoken + keystoneauth) and is listed in its catalog, for the
# Keystone part of the Swift store tests.
#
#   keystone.sh start DIR    configure under DIR and start Keystone and the
#                            Swift daemons together; wait until a demo token
#                            from Keystone works on Swift in both regions
#   keystone.sh stop DIR     stop what start started for DIR (nothing else)
#   keystone.sh status DIR   exit 0 only if Keystone and every Swift daemon
#                            run and answer
#   keystone.sh env DIR      print export lines (OS_* for the demo user)
#
# State: DIR/etc (keystone.conf, settings, provisioned.env), DIR/keystone.db
# (sqlite), DIR/fernet-keys, DIR/credential-keys, DIR/log, DIR/run, and the
# Swift in DIR/swift (same layout as swift.sh's DIR).  Nothing is read from or
# written to /etc/keystone or /etc/swift.
#
# Environment (start remembers it in DIR/etc/settings):
#   KEYSTONE_BIND_IP               127.0.0.1
#   KEYSTONE_PORT                  26500  identity API: http://IP:PORT/v3
#   KEYSTONE_SWIFT_PROXY_PORT      26180  the Keystone-backed Swift proxy
#   KEYSTONE_SWIFT_ACCOUNT_PORT    26112  } internal
#   KEYSTONE_SWIFT_CONTAINER_PORT  26111  }
#   KEYSTONE_SWIFT_OBJECT_PORT     26110  }
#   KEYSTONE_SWIFT_MEMCACHED_PORT  26311  } authtoken's token cache
#   KEYSTONE_TOKEN_EXPIRATION      3600   token lifetime, seconds (set e.g. 5
#                                         to get 401 from Swift on an old one)
#   KEYSTONE_START_TIMEOUT         90     seconds start waits
#
# Users (password auth; all passwords fixed, for tests only):
#   demo / demopass             domain Default, project demo, role member:
#                               full access to its Swift accounts
#   demo-reader / readerpass    domain Default, project demo, role reader:
#                               GET/HEAD/list ok, PUT/DELETE 403
#   backup-user / backuppass    domain BackupDomain, project backup-project
#                               (same domain), role member: non-default domains
#   admin / adminpass           project admin, role admin (cloud admin)
#   swift / swiftpass           project service: the proxy's service user
#   application credential "demo-appcred" of demo (secret appcredsecret; its
#   id is printed by "env")
#
# Catalog: identity (RegionOne) http://IP:PORT/v3/, and object-store "swift"
# in two regions of the same Swift, on separate accounts so that a client
# which picks the wrong region sees other data:
#   RegionOne  public+internal  http://IP:SWIFT_PORT/v1/AUTH_<project_id>
#   RegionTwo  public+internal  http://IP:SWIFT_PORT/v1/R2_<project_id>
#   both       admin            http://IP:SWIFT_PORT/v1
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

usage() { echo "usage: $0 {start|stop|status|env} DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
CMD=$1
svc_dir "$CMD" "$2"
KS_DIR=$SVC_DIR
SETTINGS=$KS_DIR/etc/settings
svc_load "$SETTINGS"

# environment > what "start" saved for this DIR > default
KS_IP=${KEYSTONE_BIND_IP:-${saved_KS_IP:-127.0.0.1}}
KS_PORT=${KEYSTONE_PORT:-${saved_KS_PORT:-26500}}
KS_TOKEN_EXPIRATION=${KEYSTONE_TOKEN_EXPIRATION:-${saved_KS_TOKEN_EXPIRATION:-3600}}
SW_PROXY_PORT=${KEYSTONE_SWIFT_PROXY_PORT:-${saved_SW_PROXY_PORT:-26180}}
SW_ACCOUNT_PORT=${KEYSTONE_SWIFT_ACCOUNT_PORT:-${saved_SW_ACCOUNT_PORT:-26112}}
SW_CONTAINER_PORT=${KEYSTONE_SWIFT_CONTAINER_PORT:-${saved_SW_CONTAINER_PORT:-26111}}
SW_OBJECT_PORT=${KEYSTONE_SWIFT_OBJECT_PORT:-${saved_SW_OBJECT_PORT:-26110}}
SW_MEMCACHED_PORT=${KEYSTONE_SWIFT_MEMCACHED_PORT:-${saved_SW_MEMCACHED_PORT:-26311}}
TIMEOUT=${KEYSTONE_START_TIMEOUT:-90}

KS_URL=http://$KS_IP:$KS_PORT
SW_DIR=$KS_DIR/swift
SW_IP=$KS_IP
SW_WORKERS=1
SW_MAX_FILE_SIZE=5368709122
SW_START_TIMEOUT=$TIMEOUT
SWIFT_BASE=http://$SW_IP:$SW_PROXY_PORT/v1

# authtoken validates X-Auth-Token at Keystone (as the "swift" service user;
# delay_auth_decision lets anonymous requests reach keystoneauth, which
# decides).  keystoneauth maps project roles to access on the accounts
# <prefix>_<project_id>; two prefixes, one per catalog region.
SW_AUTH_FILTERS="authtoken keystoneauth"
SW_AUTH_CONF="[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = $KS_URL/v3
auth_url = $KS_URL/v3
auth_type = password
username = swift
password = swiftpass
project_name = service
user_domain_id = default
project_domain_id = default
delay_auth_decision = true
cache = swift.cache
include_service_catalog = false
service_token_roles_required = true

[filter:keystoneauth]
use = egg:swift#keystoneauth
reseller_prefix = AUTH, R2
operator_roles = admin, member, swiftoperator
project_reader_roles = reader
reseller_admin_role = ResellerAdmin"

write_keystone_conf() {
    mkdir -p "$KS_DIR/etc/policy.d"
    cat > "$KS_DIR/etc/keystone.conf" <<EOF
# written by keystone.sh on every start
[DEFAULT]
log_file = $KS_DIR/log/keystone-app.log
use_stderr = false

[database]
# check_same_thread=false: Keystone leaks the odd connection and the garbage
# collector may close it in another server thread; pysqlite refuses that, the
# connection keeps its lock and the next write fails "database is locked".
connection = sqlite:///$KS_DIR/keystone.db?check_same_thread=false

[token]
provider = fernet
expiration = $KS_TOKEN_EXPIRATION

[fernet_tokens]
key_repository = $KS_DIR/fernet-keys
[fernet_receipts]
key_repository = $KS_DIR/fernet-keys
[credential]
key_repository = $KS_DIR/credential-keys

[identity]
# bcrypt's minimum cost: password auth ~10 ms instead of ~250 ms
password_hash_rounds = 4

[cache]
# In-process cache: token validation drops from ~200 ms to a few ms.  Safe
# with one server process.  memory_pickle, not memory: Keystone mutates the
# dicts it gets from the cache.
enabled = true
backend = dogpile.cache.memory_pickle

[oslo_policy]
# built-in defaults only; never Debian's /etc/keystone/policy.d
policy_file = $KS_DIR/etc/policy.yaml
policy_dirs = $KS_DIR/etc/policy.d
EOF
}

write_ks_helper() {
    cat > "$KS_DIR/etc/ks.py" <<'PYEOF'
# Written by tests/services/keystone.sh; regenerated on every start.
#   ks.py serve CONF IP PORT INIT SWIFT_BASE
#       Keystone in a threaded wsgiref server.  INIT=1 (fresh DIR): first, in
#       a forked child, keystone-manage db_sync/fernet_setup/credential_setup/
#       bootstrap and the users/projects/catalog below, through Keystone's
#       own managers (like bootstrap does).  One process pays the ~2 s of
#       imports once; provisioning over REST cost ~2 s more.
#   ks.py ready URL TIMEOUT OUT
#       wait until a demo token (password auth over REST, as clients do) works
#       on Swift at every public object-store endpoint of its catalog; on the
#       first run also create demo's application credential; write OUT
import json
import os
import sys
import time
import urllib.error
import urllib.request

mode = sys.argv[1]


def log(msg):
    sys.stderr.write(time.strftime('%Y-%m-%d %H:%M:%S ') + msg + '\n')
    sys.stderr.flush()


def provision(swift_base):
    """Test users, projects, roles and the object-store catalog, on a fresh
    database, right after bootstrap (which made domain Default, project and
    user admin, roles admin/member/reader and the identity endpoints)."""
    import uuid
    from keystone.common import provider_api
    api = provider_api.ProviderAPIs

    def new_id():
        return uuid.uuid4().hex
    role = {r['name']: r['id'] for r in api.role_api.list_roles()}
    for name in ('service', 'swiftoperator', 'ResellerAdmin'):
        role[name] = new_id()
        api.role_api.create_role(role[name], {'id': role[name], 'name': name})
    dom2 = new_id()
    api.resource_api.create_domain(dom2, {'id': dom2, 'name': 'BackupDomain', 'enabled': True})
    proj = {'admin': api.resource_api.get_project_by_name('admin', 'default')['id']}
    for name, dom in (('service', 'default'), ('demo', 'default'), ('backup-project', dom2)):
        proj[name] = new_id()
        api.resource_api.create_project(proj[name], {
            'id': proj[name], 'name': name, 'domain_id': dom, 'enabled': True})
    for name, pw, project, dom, roles in (
            ('swift', 'swiftpass', 'service', 'default', ('admin', 'service')),
            ('demo', 'demopass', 'demo', 'default', ('member',)),
            ('demo-reader', 'readerpass', 'demo', 'default', ('reader',)),
            ('backup-user', 'backuppass', 'backup-project', dom2, ('member',))):
        uid = api.identity_api.create_user({
            'name': name, 'domain_id': dom, 'password': pw, 'enabled': True,
            'default_project_id': proj[project]})['id']
        for r in roles:
            api.assignment_api.add_role_to_user_and_project(uid, proj[project], role[r])
    # one Swift, two regions, two account prefixes (keystoneauth serves both)
    api.catalog_api.create_region({'id': 'RegionTwo'})
    sid = new_id()
    api.catalog_api.create_service(sid, {'id': sid, 'name': 'swift',
                                         'type': 'object-store', 'enabled': True})
    for region, prefix in (('RegionOne', 'AUTH'), ('RegionTwo', 'R2')):
        account = '%s/%s_%%(project_id)s' % (swift_base, prefix)
        for iface, url in (('public', account), ('internal', account), ('admin', swift_base)):
            eid = new_id()
            api.catalog_api.create_endpoint(eid, {
                'id': eid, 'service_id': sid, 'region_id': region,
                'interface': iface, 'url': url, 'enabled': True})


if mode == 'serve':
    import signal
    import socketserver
    import traceback
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
    conf, host, port, init, swift_base = sys.argv[2:7]
    port = int(port)
    os.environ['OS_KEYSTONE_CONFIG_FILES'] = conf
    # eventlet comes in through oslo.messaging: skip its green DNS resolver
    # (slow import; nothing here resolves names)
    os.environ['EVENTLET_NO_GREENDNS'] = 'yes'
    for k in [k for k in os.environ if k.startswith('OS_BOOTSTRAP_')]:
        del os.environ[k]  # keystone-manage bootstrap prefers these to flags
    sys.argv = sys.argv[:1]  # oslo.config parses sys.argv
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))  # nothing to flush
    t0 = time.time()
    # Start-up speed: pysaml2 (imported by Keystone for SAML federation,
    # which the tests never use) compiles three XML schemas at import time,
    # ~1 CPU-s.  Let it get placeholders that build the schema on first use.
    import xmlschema
    real_schema = xmlschema.XMLSchema

    class LazySchema:
        def __init__(self, *args, **kwargs):
            self._lazy = (args, kwargs, None)

        def __getattr__(self, name):
            args, kwargs, schema = self._lazy
            if schema is None:
                schema = real_schema(*args, **kwargs)
                self._lazy = (args, kwargs, schema)
            return getattr(schema, name)
    xmlschema.XMLSchema = LazySchema
    try:
        import saml2.xml.schema  # noqa: F401
    finally:
        xmlschema.XMLSchema = real_schema
    from keystone.cmd import cli
    from keystone.server.wsgi import initialize_public_application
    if init == '1':
        url = 'http://%s:%d/v3/' % (host, port)
        ids = ['--keystone-user', str(os.getuid()), '--keystone-group', str(os.getgid())]
        steps = [['db_sync'], ['fernet_setup'] + ids, ['credential_setup'] + ids,
                 ['bootstrap', '--bootstrap-username', 'admin',
                  '--bootstrap-project-name', 'admin',
                  '--bootstrap-role-name', 'admin',
                  '--bootstrap-service-name', 'keystone',
                  '--bootstrap-region-id', 'RegionOne',
                  '--bootstrap-admin-url', url, '--bootstrap-public-url', url,
                  '--bootstrap-internal-url', url]]
        child = os.fork()
        if child == 0:  # keystone-manage's global state stays in the child
            os.environ['OS_BOOTSTRAP_PASSWORD'] = 'adminpass'
            try:
                for args in steps:
                    cli.CONF.clear()
                    try:
                        cli.main(argv=['keystone-manage', '--config-file', conf] + args)
                    except SystemExit as e:
                        if e.code:
                            raise
                provision(swift_base)
                os._exit(0)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
        if os.waitpid(child, 0)[1] != 0:
            log('initialization failed (see above and keystone-app.log)')
            os._exit(1)
        import sqlite3
        db = sqlite3.connect(os.path.join(os.path.dirname(os.path.dirname(conf)), 'keystone.db'))
        db.execute('PRAGMA journal_mode=WAL')  # readers never block writers
        db.close()
        log('initialized and provisioned after %.2fs' % (time.time() - t0))
    app = initialize_public_application()

    class Server(socketserver.ThreadingMixIn, WSGIServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 64

    class Handler(WSGIRequestHandler):
        def log_message(self, fmt, *args):
            log('%s %s' % (self.client_address[0], fmt % args))

    srv = Server((host, port), Handler)
    srv.set_app(app)
    log('keystone listening on http://%s:%d after %.2fs' % (host, port, time.time() - t0))
    srv.serve_forever()
    sys.exit(0)


def call(method, url, body=None, headers=None):
    req = urllib.request.Request(url, method=method, headers=headers or {},
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header('Content-Type', 'application/json')
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            return r.status, r.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode('utf-8', 'replace')


def alive(pid):
    try:
        with open('/proc/%s/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


if mode == 'ready':
    base, timeout, out = sys.argv[2], float(sys.argv[3]), sys.argv[4]

    def step():
        code, h, doc = call('POST', base + '/v3/auth/tokens', {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': 'demo', 'domain': {'id': 'default'}, 'password': 'demopass'}}},
            'scope': {'project': {'name': 'demo', 'domain': {'id': 'default'}}}}})
        if code != 201:
            raise RuntimeError('demo token: %s %s' % (code, doc))
        tok, token = h['X-Subject-Token'], doc['token']
        urls = {e['region_id']: e['url'] for s in token['catalog']
                if s['type'] == 'object-store' for e in s['endpoints']
                if e['interface'] == 'public'}
        if len(urls) < 2:
            raise RuntimeError('object-store endpoints missing: %s' % urls)
        for url in urls.values():
            code, _, doc = call('HEAD', url, headers={'X-Auth-Token': tok})
            if code // 100 != 2:
                raise RuntimeError('HEAD %s: %s %s' % (url, code, doc))
        return tok, token, urls
    t0 = time.time()
    while True:
        try:
            tok, token, urls = step()
            break
        except Exception as e:  # not up yet
            if time.time() > t0 + timeout:
                sys.exit('not ready after %.0fs: %s' % (timeout, e))
            for pid in os.environ.get('SVC_WATCH_PIDS', '').split():
                if not alive(pid):
                    sys.exit('daemon %s exited during start-up (last error: %s)' % (pid, e))
            time.sleep(0.1)
    if not os.path.exists(out):
        user_id = token['user']['id']
        code, _, doc = call('POST', '%s/v3/users/%s/application_credentials' % (base, user_id),
                            {'application_credential': {'name': 'demo-appcred',
                                                        'secret': 'appcredsecret'}},
                            {'X-Auth-Token': tok})
        if code != 201:
            sys.exit('application credential: %s %s' % (code, doc))
        with open(out + '.tmp', 'w') as f:
            f.write('export KEYSTONE_DEMO_PROJECT_ID=%s\n' % token['project']['id'])
            f.write('export KEYSTONE_SWIFT_URL_REGIONONE=%s\n' % urls['RegionOne'])
            f.write('export KEYSTONE_SWIFT_URL_REGIONTWO=%s\n' % urls['RegionTwo'])
            f.write('export KEYSTONE_APPCRED_ID=%s\n' % doc['application_credential']['id'])
        os.rename(out + '.tmp', out)
    sys.exit(0)

sys.exit('ks.py: unknown mode %r' % mode)
PYEOF
}

running_count() {
    local c
    c=$(swift_running)
    svc_owned "$KS_DIR" keystone > /dev/null && c=$((c + 1))
    echo "$c"
}

do_start() {
    local t0 n busy init=0
    t0=$(svc_now)
    n=$(running_count)
    [ "$n" = 6 ] && { echo "keystone + swift already running ($KS_DIR)"; return 0; }
    [ "$n" = 0 ] || svc_die "partly running ($n/6 daemons): '$0 stop $KS_DIR' first"
    busy="$(svc_busy "$KS_IP:$KS_PORT")$(swift_busy)"
    [ -z "$busy" ] || svc_die "port(s) in use:$busy (set KEYSTONE_*PORT)"

    mkdir -p "$KS_DIR/etc" "$KS_DIR/run" "$KS_DIR/log"
    svc_write_helper "$KS_DIR"
    write_ks_helper
    write_keystone_conf
    # Initialize on a fresh DIR.  The catalog holds our URLs, so when they
    # moved, start over with an empty Keystone (new project ids: the old
    # Swift accounts are simply no longer used).
    if [ ! -s "$KS_DIR/keystone.db" ] || [ "$(cat "$KS_DIR/etc/init.params" 2>/dev/null)" != "$KS_URL $SWIFT_BASE" ]; then
        rm -rf "$KS_DIR"/keystone.db* "$KS_DIR/fernet-keys" "$KS_DIR/credential-keys" \
            "$KS_DIR/etc/provisioned.env" "$KS_DIR/etc/init.params"
        init=1
    fi
    swift_configure
    svc_save "$SETTINGS" KS_IP KS_PORT KS_TOKEN_EXPIRATION SW_PROXY_PORT SW_ACCOUNT_PORT \
        SW_CONTAINER_PORT SW_OBJECT_PORT SW_MEMCACHED_PORT

    # Keystone and Swift start side by side: Swift needs Keystone only once
    # requests arrive.
    svc_spawn "$KS_DIR" keystone "$SVC_PY" "$KS_DIR/etc/ks.py" serve \
        "$KS_DIR/etc/keystone.conf" "$KS_IP" "$KS_PORT" "$init" "$SWIFT_BASE"
    svc_watch "$KS_DIR" keystone
    if ! swift_launch || ! swift_wait_health "$SW_SERVERS" \
        || ! "$SVC_PY" "$KS_DIR/etc/ks.py" ready "$KS_URL" "$TIMEOUT" "$KS_DIR/etc/provisioned.env"; then
        svc_fail "$KS_DIR" "keystone"
        svc_fail "$SW_DIR" "swift"
        do_stop >&2
        exit 1
    fi
    echo "$KS_URL $SWIFT_BASE" > "$KS_DIR/etc/init.params"
    echo "keystone + swift up in $(svc_since "$t0"): $KS_URL/v3 (demo/demopass), swift $SWIFT_BASE"
}

do_stop() {
    swift_stop
    svc_kill "$KS_DIR" TERM keystone
    svc_wait_free "$KS_IP:$KS_PORT"
}

do_status() {
    local pid rc=0
    if pid=$(svc_owned "$KS_DIR" keystone); then
        printf '  %-10s running  pid %-7s %s:%s\n' keystone "$pid" "$KS_IP" "$KS_PORT"
        "$SVC_PY" "$KS_DIR/etc/svc.py" wait 5 "$KS_URL/v3" || rc=1
    else
        printf '  %-10s stopped             %s:%s\n' keystone "$KS_IP" "$KS_PORT"; rc=1
    fi
    swift_status || rc=1
    return $rc
}

do_env() {
    cat <<EOF
export OS_AUTH_URL=$KS_URL/v3
export OS_IDENTITY_API_VERSION=3
export OS_AUTH_TYPE=password
export OS_USERNAME=demo
export OS_PASSWORD=demopass
export OS_PROJECT_NAME=demo
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
export OS_INTERFACE=public
export KEYSTONE_PORT=$KS_PORT
export KEYSTONE_SWIFT_PROXY_PORT=$SW_PROXY_PORT
export KEYSTONE_READER_USERNAME=demo-reader
export KEYSTONE_READER_PASSWORD=readerpass
export KEYSTONE_APPCRED_SECRET=appcredsecret
EOF
    if [ -s "$KS_DIR/etc/provisioned.env" ]; then cat "$KS_DIR/etc/provisioned.env"; fi
}

case $CMD in
start) do_start ;;
stop) do_stop ;;
status) do_status ;;
env) do_env ;;
*) usage ;;
esac
