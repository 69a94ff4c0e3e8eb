#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages a make target needs: scripts/deps.sh GROUP...
# Each GROUP names scripts/packages/GROUP.txt (one package per line, # comments).
# As root: apt-get installs what is missing. Otherwise: prints the exact line and fails.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
missing=""
for group in "$@"; do
    list="$here/packages/$group.txt"
    [ -f "$list" ] || { echo "deps.sh: no package list $list" >&2; exit 2; }
    for pkg in $(sed -e 's/#.*//' "$list"); do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $pkg" ;;
        esac
    done
done
[ -n "$missing" ] || exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "cinderblock needs these Debian packages; run as root:" >&2
    echo "  apt-get install -y$missing" >&2
    exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt_opts="-o DPkg::Lock::Timeout=900 -q -y"
# A fresh machine may have stale or empty package lists: update once, then retry.
# shellcheck disable=SC2086
apt-get $apt_opts install --no-install-recommends $missing || {
    apt-get -o DPkg::Lock::Timeout=900 -q update
    apt-get $apt_opts install --no-install-recommends $missing
}
