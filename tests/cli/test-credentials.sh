#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Where credentials come from, the failures that need no server: a missing or doubled _FILE,
# OS_CLOUD naming a cloud that is not there, clouds.yaml that is not YAML, an AWS profile that
# is in neither file, an AWS file that is not INI (exit 12, naming the file, the line or the
# cloud), and the warning for a password in --store. The servers' side (logins through every
# one of these) is tests/store/servers/test-creds.sh.
. "$(dirname "$0")/functions.sh"

# nothing of the caller's environment counts
for v in $(env | sed -n 's/^\(OS_[A-Z_]*\|ST_[A-Z_]*\|AWS_[A-Z_0-9]*\|XDG_CONFIG_HOME\)=.*/\1/p'); do
    unset "$v"
done
export HOME="$WORK/home"
mkdir -p "$HOME" "$WORK/cwd"
cd "$WORK/cwd"
# a port where nothing listens: every case must fail before a connection
dead=http://127.0.0.1:9

# ---- _FILE ----
ST_AUTH=$dead/auth/v1.0 ST_USER=u ST_KEY_FILE=$WORK/missing \
    expect_fail 12 "cannot read ST_KEY_FILE '$WORK/missing'" "$CB" --store swift://c list
printf 'k\n' >"$WORK/key"
ST_AUTH=$dead/auth/v1.0 ST_USER=u ST_KEY=k ST_KEY_FILE=$WORK/key \
    expect_fail 12 "both ST_KEY and ST_KEY_FILE are set" "$CB" --store swift://c list
: >"$WORK/empty"
OS_AUTH_URL=$dead/v3 OS_USERNAME=u OS_PASSWORD_FILE=$WORK/empty \
    expect_fail 12 "OS_PASSWORD_FILE '$WORK/empty' is empty" "$CB" --store swift://c list
AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY_FILE=$WORK/missing AWS_ENDPOINT_URL_S3=$dead \
    expect_fail 12 "cannot read AWS_SECRET_ACCESS_KEY_FILE" "$CB" --store s3://b list
# the file's one trailing newline is not part of the secret: a refused login (not a file
# error) shows the file was read; the store is unreachable, so this fails on the network
ST_AUTH=$dead/auth/v1.0 ST_USER=u ST_KEY_FILE=$WORK/key \
    expect_fail 1 "127.0.0.1:9" "$CB" --store swift://c --retries 1 list
# a posix store reads none of them
ST_KEY_FILE=$WORK/missing AWS_SECRET_ACCESS_KEY_FILE=$WORK/missing OS_CLOUD=nowhere \
    "$CB" --store "$WORK/cwd" list >/dev/null || fail "a posix store read the swift/s3 settings"

# ---- OS_CLOUD ----
OS_CLOUD=demo expect_fail 12 "OS_CLOUD is 'demo' but there is no clouds.yaml (looked for ./clouds.yaml, $HOME/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml" \
    "$CB" --store swift://c list
mkdir -p "$HOME/.config/openstack"
cat >"$HOME/.config/openstack/clouds.yaml" <<YAML
clouds:
  alpha:
    auth:
      auth_url: $dead/v3
      username: u
      password: p
  beta:
    auth:
      auth_url: $dead/v3
YAML
OS_CLOUD=gamma expect_fail 12 "cloud 'gamma' (OS_CLOUD) is not in $HOME/.config/openstack/clouds.yaml (clouds there: alpha, beta)" \
    "$CB" --store swift://c list
printf 'clouds:\n  alpha:\n    auth: {auth_url: x\n  beta: [\n' >"$WORK/bad.yaml"
OS_CLOUD=alpha OS_CLIENT_CONFIG_FILE=$WORK/bad.yaml \
    expect_fail 12 "$WORK/bad.yaml: line 4" "$CB" --store swift://c list
OS_CLOUD=alpha OS_CLIENT_CONFIG_FILE=$WORK/missing.yaml \
    expect_fail 12 "cannot read '$WORK/missing.yaml' (OS_CLOUD 'alpha')" "$CB" --store swift://c list
# ./clouds.yaml comes before ~/.config/openstack: its cloud 'local' is found
printf 'clouds:\n  local:\n    region_name: R\n' >"$WORK/cwd/clouds.yaml"
OS_CLOUD=local expect_fail 12 "cloud 'local' in ./clouds.yaml has no auth: auth_url" \
    "$CB" --store swift://c list
rm "$WORK/cwd/clouds.yaml"
# XDG_CONFIG_HOME replaces ~/.config
XDG_CONFIG_HOME=$WORK/xdg OS_CLOUD=alpha expect_fail 12 "$WORK/xdg/openstack/clouds.yaml" \
    "$CB" --store swift://c list

# ---- AWS_PROFILE ----
AWS_PROFILE=nosuch expect_fail 12 "AWS profile 'nosuch' (AWS_PROFILE) is in neither '$HOME/.aws/credentials' nor '$HOME/.aws/config'" \
    "$CB" --store s3://b list
mkdir -p "$HOME/.aws"
printf '[p1]\naws_access_key_id = a\nthis is not ini\n' >"$HOME/.aws/credentials"
AWS_PROFILE=p1 expect_fail 12 "AWS credentials file '$HOME/.aws/credentials': line 3 is not INI" \
    "$CB" --store s3://b list
printf '[profile p1]\nregion = x\n[broken\n' >"$WORK/config"
rm "$HOME/.aws/credentials"
AWS_PROFILE=p1 AWS_CONFIG_FILE=$WORK/config expect_fail 12 "AWS config file '$WORK/config': line 3" \
    "$CB" --store s3://b list

# ---- a secret on the command line ----
set +e
"$CB" --store "swift://user:s3cret@c" list >"$WORK/out" 2>"$WORK/err"
set -e
grep -q "warning: --store: the URL holds a password" "$WORK/err" ||
    fail "no warning for a password in --store: $(cat "$WORK/err")"
grep -q "ST_KEY_FILE" "$WORK/err" || fail "the warning does not say where a secret belongs"
mkdir -p "$WORK/s"
"$CB" --store "$WORK/s" list >"$WORK/out" 2>"$WORK/err" || true
! grep -q warning "$WORK/err" || fail "a warning without a secret: $(cat "$WORK/err")"
echo ok
