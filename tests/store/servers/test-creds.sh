#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Credentials the OpenStack and AWS way, against the real Keystone and Swift's s3api, with no
# OS_* or AWS_* key variables: OS_CLOUD with clouds.yaml in ~/.config/openstack (password in
# secure.yaml beside it) and in $XDG_CONFIG_HOME (an application credential); OS_* variables
# over the cloud's values; AWS_PROFILE with ~/.aws/credentials and ~/.aws/config (region,
# endpoint_url) and with the files named by AWS_SHARED_CREDENTIALS_FILE/AWS_CONFIG_FILE;
# every _FILE form of a secret (ST_KEY, OS_PASSWORD, OS_APPLICATION_CREDENTIAL_SECRET,
# OS_AUTH_TOKEN, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN's neighbours); variables over the
# profile. Each login is a backup, a restore compared bit for bit, and a delete.
. "$(dirname "$0")/lib.sh"

mkvol "$T/vol" 2 7
unset XDG_CONFIG_HOME OS_CLIENT_CONFIG_FILE OS_CLIENT_SECURE_FILE

# rt LABEL URL: backup, restore, compare, delete (in the current environment)
rt() {
    local label=$1 url=$2 id
    "$CB" -q --store "$url" backup "$T/vol" --object-size 1M >"$T/id" 2>"$T/err" ||
        fail "$label: backup failed: $(cat "$T/err")"
    id=$(backup_id "$T/id")
    "$CB" -q --store "$url" restore "$id" "$T/out" --force 2>"$T/err" ||
        fail "$label: restore failed: $(cat "$T/err")"
    cmp "$T/vol" "$T/out" || fail "$label: the restore differs"
    rm -f "$T/out"
    "$CB" -q --store "$url" delete "$id"
    note "$label: backup, bit-exact restore, delete: ok"
}

# a file holding one secret and a trailing newline, as `echo secret > file` writes it
secret_file() {
    printf '%s\n' "$2" >"$T/$1"
    chmod 600 "$T/$1"
    echo "$T/$1"
}

# ---- OS_CLOUD ----
(
    use_keystone
    auth_url=$OS_AUTH_URL user=$OS_USERNAME pass=$OS_PASSWORD project=$OS_PROJECT_NAME
    udom=$OS_USER_DOMAIN_NAME pdom=$OS_PROJECT_DOMAIN_NAME
    clear_creds
    export HOME=$T/home1
    mkdir -p "$HOME/.config/openstack"
    cat >"$HOME/.config/openstack/clouds.yaml" <<YAML
# written as \`openstack\` users write it
clouds:
  other:
    auth: {auth_url: "http://127.0.0.1:9/v3"}
  ks:
    auth:
      auth_url: $auth_url
      username: "$user"
      password: "not-the-password"
      project_name: $project
      user_domain_name: $udom
      project_domain_name: $pdom
    region_name: RegionOne
    interface: public
YAML
    # secure.yaml beside it: its password wins over clouds.yaml's
    cat >"$HOME/.config/openstack/secure.yaml" <<YAML
clouds:
  ks:
    auth:
      password: "$pass"
YAML
    export OS_CLOUD=ks
    env | grep -q '^OS_AUTH_URL=' && fail "OS_AUTH_URL leaked into the OS_CLOUD test"
    rt "OS_CLOUD=ks, clouds.yaml + secure.yaml in ~/.config/openstack" swift://creds-$RUN

    # an explicit variable wins over the cloud: a wrong OS_PASSWORD is refused (exit 12) ...
    OS_PASSWORD=Wr0ng expect_fail 12 "authentication refused" \
        "$CB" --store swift://creds-$RUN list
    # ... and OS_REGION_NAME picks the other region's account, where the backup is not
    "$CB" -q --store swift://creds-$RUN backup "$T/vol" --object-size 1M >"$T/id"
    id=$(backup_id "$T/id")
    "$CB" --store swift://creds-$RUN list | grep -q "$id" || fail "RegionOne lacks the backup"
    if OS_REGION_NAME=RegionTwo "$CB" --store swift://creds-$RUN list 2>/dev/null | grep -q "$id"; then
        fail "OS_REGION_NAME=RegionTwo did not override the cloud's region_name"
    fi
    "$CB" -q --store swift://creds-$RUN delete "$id"
    note "OS_PASSWORD and OS_REGION_NAME override the cloud's values: ok"

    # without secure.yaml the cloud's own (wrong) password is used: refused, exit 12
    rm "$HOME/.config/openstack/secure.yaml"
    expect_fail 12 "authentication refused" "$CB" --store swift://creds-$RUN list
    # OS_PASSWORD_FILE is a variable too: it wins over the cloud
    OS_PASSWORD_FILE=$(secret_file pw "$pass") rt "OS_CLOUD with OS_PASSWORD_FILE" swift://creds-$RUN
)
(
    use_keystone
    auth_url=$OS_AUTH_URL
    clear_creds
    export HOME=$T/home2 XDG_CONFIG_HOME=$T/xdg
    mkdir -p "$HOME" "$XDG_CONFIG_HOME/openstack"
    cat >"$XDG_CONFIG_HOME/openstack/clouds.yaml" <<YAML
clouds:
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: $auth_url
      application_credential_id: $KEYSTONE_APPCRED_ID
      application_credential_secret: $KEYSTONE_APPCRED_SECRET
    region_name: RegionOne
YAML
    OS_CLOUD=appcred rt "OS_CLOUD, application credential, \$XDG_CONFIG_HOME/openstack" swift://creds-$RUN
    # OS_CLIENT_CONFIG_FILE names the file outright
    mv "$XDG_CONFIG_HOME/openstack/clouds.yaml" "$T/named-clouds.yaml"
    OS_CLOUD=appcred OS_CLIENT_CONFIG_FILE=$T/named-clouds.yaml \
        rt "OS_CLOUD with OS_CLIENT_CONFIG_FILE" swift://creds-$RUN
)

# ---- _FILE forms, Swift ----
(
    use_tempauth
    k=$ST_KEY
    unset ST_KEY
    ST_KEY_FILE=$(secret_file stkey "$k") rt "ST_KEY_FILE (tempauth)" swift://creds-$RUN
)
(
    use_keystone
    p=$OS_PASSWORD
    unset OS_PASSWORD
    OS_PASSWORD_FILE=$(secret_file ospw "$p") rt "OS_PASSWORD_FILE (Keystone)" swift://creds-$RUN
    # the file's one trailing newline is removed, no more: a second one is part of the secret
    printf '%s\n\n' "$p" >"$T/ospw2"
    OS_PASSWORD_FILE=$T/ospw2 expect_fail 12 "authentication refused" \
        "$CB" --store swift://creds-$RUN list
    note "OS_PASSWORD_FILE: one trailing newline removed, not two: ok"
)
(
    use_keystone
    unset OS_PASSWORD OS_USERNAME OS_PROJECT_NAME OS_USER_DOMAIN_NAME OS_PROJECT_DOMAIN_NAME
    export OS_APPLICATION_CREDENTIAL_ID=$KEYSTONE_APPCRED_ID
    OS_APPLICATION_CREDENTIAL_SECRET_FILE=$(secret_file acs "$KEYSTONE_APPCRED_SECRET") \
        rt "OS_APPLICATION_CREDENTIAL_SECRET_FILE" swift://creds-$RUN
)
token=$(ks_token)
(
    use_keystone
    url=$KEYSTONE_SWIFT_URL_REGIONONE
    clear_creds
    OS_AUTH_TOKEN_FILE=$(secret_file tok "$token") OS_STORAGE_URL=$url \
        rt "OS_AUTH_TOKEN_FILE + OS_STORAGE_URL" swift://creds-$RUN
)

# ---- AWS_PROFILE ----
(
    use_s3
    ak=$AWS_ACCESS_KEY_ID sk=$AWS_SECRET_ACCESS_KEY region=$AWS_REGION ep=$AWS_ENDPOINT_URL_S3
    clear_creds
    export HOME=$T/home3
    mkdir -p "$HOME/.aws"
    cat >"$HOME/.aws/credentials" <<INI
[default]
aws_access_key_id = nobody
aws_secret_access_key = nothing

[cbtest]
aws_access_key_id = $ak
aws_secret_access_key = $sk
INI
    cat >"$HOME/.aws/config" <<INI
[default]
region = eu-west-9

[profile cbtest]
region = $region
endpoint_url = $ep
INI
    env | grep -q '^AWS_' && fail "an AWS_ variable leaked into the profile test"
    AWS_PROFILE=cbtest rt "AWS_PROFILE=cbtest, ~/.aws/credentials + config" s3://creds-$RUN
    # the nested form of the endpoint, and the files named by the variables
    mv "$HOME/.aws/credentials" "$T/named-credentials"
    printf '[profile cbtest]\nregion = %s\ns3 =\n    endpoint_url = %s\n' "$region" "$ep" >"$T/named-config"
    rm "$HOME/.aws/config"
    AWS_PROFILE=cbtest AWS_SHARED_CREDENTIALS_FILE=$T/named-credentials AWS_CONFIG_FILE=$T/named-config \
        rt "AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, nested s3 endpoint_url" s3://creds-$RUN
    # keys in the config file's profile, when the credentials file has none
    printf '[profile cbtest]\nregion = %s\nendpoint_url = %s\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
        "$region" "$ep" "$ak" "$sk" >"$HOME/.aws/config"
    AWS_PROFILE=cbtest rt "keys in ~/.aws/config's [profile cbtest]" s3://creds-$RUN
    # variables first: a wrong AWS key pair in the environment beats the right profile
    AWS_PROFILE=cbtest AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=Wr0ng \
        expect_fail 12 "" "$CB" --store s3://creds-$RUN list
    # and a region variable beats the profile's (s3api refuses a signature for another region)
    if AWS_PROFILE=cbtest AWS_REGION=eu-west-9 "$CB" --store s3://creds-$RUN list >/dev/null 2>&1; then
        fail "AWS_REGION did not override the profile's region"
    fi
    note "AWS variables override the profile: ok"
)
(
    use_s3
    sk=$AWS_SECRET_ACCESS_KEY
    unset AWS_SECRET_ACCESS_KEY
    AWS_SECRET_ACCESS_KEY_FILE=$(secret_file awssk "$sk") rt "AWS_SECRET_ACCESS_KEY_FILE" s3://creds-$RUN
    ak=$AWS_ACCESS_KEY_ID
    unset AWS_ACCESS_KEY_ID
    AWS_ACCESS_KEY_ID_FILE=$(secret_file awsak "$ak") AWS_SECRET_ACCESS_KEY_FILE=$T/awssk \
        rt "AWS_ACCESS_KEY_ID_FILE + AWS_SECRET_ACCESS_KEY_FILE" s3://creds-$RUN
)

# no secret of a file or profile in any output
if grep -rq -e demopass -e appcredsecret -e "$token" "$T"/err "$T"/out 2>/dev/null; then
    fail "a secret in the output"
fi
