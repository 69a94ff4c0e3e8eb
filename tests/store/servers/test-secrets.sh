#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# No secret in output, error messages, traces (-v and CB_DEBUG=1, which logs every request)
# or the command line: passwords, keys, tokens and the SSE-C key of every kind of store,
# in successful runs and in refused ones.
. "$(dirname "$0")/lib.sh"

mkvol "$T/vol" 2 4
out=$T/all.out
: >"$out"

# run CMD...: append its stdout and stderr to $out (failures are expected for some)
run() {
    "$@" >>"$out" 2>&1 || true
}

export CB_DEBUG=1
sse_key=0123456789abcdefFEDCBA9876543210 # 32 bytes, as SSE-C wants
token=$(ks_token)
(
    use_tempauth
    run "$CB" -v --store swift://sec-$RUN backup "$T/vol" --object-size 1M
    run "$CB" -v --store swift://sec-$RUN list
    ST_KEY=Wr0ngKey-0815 run "$CB" -v --store swift://sec-$RUN list
    ST_USER=$SWIFT_RO_USER ST_KEY=$SWIFT_RO_KEY run "$CB" -v --store swift://sec-$RUN backup "$T/vol"
)
(
    use_keystone
    run "$CB" -v --store swift://sec-$RUN backup "$T/vol" --object-size 1M
    OS_PASSWORD=Wr0ngPass-0815 run "$CB" -v --store swift://sec-$RUN list
    OS_USERNAME=$KEYSTONE_READER_USERNAME OS_PASSWORD=$KEYSTONE_READER_PASSWORD \
        run "$CB" -v --store swift://sec-$RUN backup "$T/vol"
    url=$KEYSTONE_SWIFT_URL_REGIONONE
    clear_creds
    OS_AUTH_TOKEN=$token OS_STORAGE_URL=$url run "$CB" -v --store swift://sec-$RUN list
    OS_AUTH_TOKEN=${token}x OS_STORAGE_URL=$url run "$CB" -v --store swift://sec-$RUN list
)
(
    use_s3
    export CINDERBLOCK_S3_SSE_C_KEY=$sse_key
    run "$CB" -v --store s3://sec-s3-$RUN backup "$T/vol" --object-size 1M
    run "$CB" -v --store s3://sec-s3-$RUN list
    AWS_SECRET_ACCESS_KEY=Wr0ngSecret-0815 run "$CB" -v --store s3://sec-s3-$RUN list
    AWS_SESSION_TOKEN=SessionTok-0815 run "$CB" -v --store s3://sec-s3-$RUN list
)

# the command line of a running backup (frozen while it is read)
(
    use_tempauth
    "$CB" --store swift://sec-$RUN backup "$T/vol" --object-size 1M >/dev/null 2>&1 &
    pid=$!
    kill -STOP $pid
    tr '\0' ' ' <"/proc/$pid/cmdline" >>"$out"
    echo >>"$out"
    kill -CONT $pid
    wait $pid || fail "the backup whose command line was read failed"
)

grep -q 'cinderblock: swift: PUT ' "$out" || fail "no request trace: CB_DEBUG did not reach the store"
grep -q 'authentication refused' "$out" || fail "the refused runs did not run: $(tail -5 "$out")"

secrets=$(
    . "$SWIFT_ENV"
    printf '%s\n' "$ST_KEY" "$AWS_SECRET_ACCESS_KEY" "$SWIFT_RO_KEY" "$SWIFT_OTHER_KEY"
    . "$KS_ENV"
    printf '%s\n' "$OS_PASSWORD" "$KEYSTONE_READER_PASSWORD" "$KEYSTONE_APPCRED_SECRET"
    printf '%s\n' Wr0ngKey-0815 Wr0ngPass-0815 Wr0ngSecret-0815 SessionTok-0815 "$token"
    printf '%s\n' "$sse_key" "$(printf '%s' "$sse_key" | base64)"
    # any tempauth token, any Keystone (Fernet) token
    printf '%s\n' AUTH_tk gAAAAA
)
while IFS= read -r s; do
    [ -n "$s" ] || continue
    if grep -qF -- "$s" "$out"; then
        grep -nF -- "$s" "$out" | head -3 >&2
        fail "a secret (${#s} characters, starting '${s:0:2}') appears in the output"
    fi
done <<<"$secrets"
note "$(wc -l <"$out") lines of output, traces and command line: no password, key or token"
