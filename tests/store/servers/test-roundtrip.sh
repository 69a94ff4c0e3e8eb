#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Through the CLI, for swift:// (tempauth), swift:// (Keystone), swift:// (a given token and
# storage URL), s3:// (path-style) and s3:// (virtual-host): a full backup, an incremental one
# after a change, both restored and compared bit for bit, verified (data read), then deleted
# with nothing left.
. "$(dirname "$0")/lib.sh"

mkvol "$T/vol" 6 1
printf 'tail' >>"$T/vol" # not a multiple of the sha block

# roundtrip LABEL URL CONTAINER: the whole cycle against one store
roundtrip() {
    local label=$1 url=$2 cont=$3 id1 id2 inc
    cp "$T/vol" "$T/vol-$label"
    "$CB" -q --store "$url" backup "$T/vol-$label" --object-size 1M --name "full-$label" >"$T/id1"
    id1=$(backup_id "$T/id1")
    "$CB" -q --store "$url" restore "$id1" "$T/out1-$label"
    cmp "$T/vol-$label" "$T/out1-$label" || fail "$label: full restore differs"

    # change 64 KiB in the middle, then an incremental backup
    dd if=/dev/urandom of="$T/vol-$label" bs=64k count=1 seek=37 conv=notrunc status=none
    "$CB" -q --store "$url" backup "$T/vol-$label" --object-size 1M --incremental >"$T/id2"
    id2=$(backup_id "$T/id2")
    "$CB" -q --store "$url" restore "$id2" "$T/out2-$label"
    cmp "$T/vol-$label" "$T/out2-$label" || fail "$label: second restore differs"
    inc=$("$CB" --json --store "$url" show "$id2" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["backup"]["incremental"])')
    [ "$inc" = True ] || fail "$label: --incremental made a full backup"
    "$CB" -q --store "$url" verify "$id2" --read-data >"$T/verify" ||
        fail "$label: verify --read-data of the chain failed: $(cat "$T/verify")"
    grep -q '^verified 2 backups, .* 0 damaged$' "$T/verify" || fail "$label: $(cat "$T/verify")"
    if [ "$label" = keystone ]; then # list finds backups in every container of the account
        "$CB" --store "$url" list >"$T/list"
        [ "$(grep -c -e "$id1" -e "$id2" "$T/list")" -eq 2 ] ||
            fail "$label: list does not show both backups: $(cat "$T/list")"
    fi
    "$CB" -q --store "$url" delete --cascade "$id1" # the incremental goes with its parent
    note "$label: full + incremental backup, restore bit-exact, verify --read-data, delete: ok"
}

(use_tempauth && roundtrip tempauth swift://rt-tempauth-$RUN rt-tempauth-$RUN)
[ -z "$(st_list rt-tempauth-$RUN)" ] || fail "tempauth: objects left after delete: $(st_list rt-tempauth-$RUN)"

(use_keystone && roundtrip keystone swift://rt-keystone-$RUN rt-keystone-$RUN &&
    "$CB" --store swift://rt-keystone-$RUN list >"$T/list" &&
    ! grep -q "rt-keystone-$RUN" "$T/list") || fail "keystone: backups left after delete"

# Cinder's per_user mode: a token obtained elsewhere plus the storage URL
token=$(ks_token)
(
    use_keystone
    url=$KEYSTONE_SWIFT_URL_REGIONONE
    clear_creds
    export OS_AUTH_TOKEN=$token OS_STORAGE_URL=$url
    roundtrip token swift://rt-token-$RUN rt-token-$RUN
)

(use_s3 && roundtrip s3 s3://rt-s3-$RUN rt-s3-$RUN)
[ -z "$(st_list rt-s3-$RUN)" ] || fail "s3: objects left after delete: $(st_list rt-s3-$RUN)"

# virtual-host addressing: <bucket>.localhost, which libcurl resolves to the loopback itself
(
    use_s3
    export CINDERBLOCK_S3_ADDRESSING=virtual
    export AWS_ENDPOINT_URL_S3=http://localhost:$SWIFT_PROXY_PORT
    roundtrip s3-virtual s3://rt-s3v-$RUN rt-s3v-$RUN
)
[ -z "$(st_list rt-s3v-$RUN)" ] || fail "s3 virtual: objects left after delete"

# the default container and bucket are Cinder's: volumebackups
(use_tempauth && "$CB" -q --store swift:// backup "$T/vol" --object-size 2M >"$T/id")
st_list volumebackups | grep -q "$(backup_id "$T/id")_metadata\$" ||
    fail "swift:// did not use 'volumebackups'"
(use_s3 && "$CB" -q --store s3:// backup "$T/vol" --object-size 2M >"$T/id")
st_list volumebackups | grep -q "$(backup_id "$T/id")_metadata\$" ||
    fail "s3:// did not use 'volumebackups'"
note "default container/bucket: volumebackups"
