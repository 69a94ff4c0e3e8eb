#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Run by tests/store/servers/run.sh (which started the servers and wrote SWIFT_ENV, KS_ENV):
# the driver tests for every store, in one Cinder process (its start-up is paid once).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${CB_STORES_WORK:-/tmp}/cinder-driver.XXXXXX")
# $work is inside run.sh's directory, which run.sh removes
export PYTHONPATH=${CINDERBLOCK_PYTHONPATH:?}:$here
# Debian's python: another python3 on PATH cannot import python3-cinder
exec /usr/bin/python3 "$here/test_driver.py" "$work" ${CB_DRIVER_STORES:-posix swift keystone peruser s3}
