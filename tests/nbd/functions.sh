# SPDX-License-Identifier: Apache-2.0
# functions.sh of the nbd suite: the CLI tests' helpers, the plugin under test as $PLUGIN,
# and the NBD tools the tests drive (real nbdkit, nbdcopy, nbdinfo; make check installs
# them: scripts/packages/nbd.txt).
. "$(dirname "$0")/../cli/functions.sh"
PLUGIN=${CB_NBDKIT_PLUGIN:?set CB_NBDKIT_PLUGIN to nbdkit-cinderblock-plugin.so}
export CINDERBLOCK_NBDKIT_PLUGIN="$PLUGIN" # what `cinderblock map` starts
for tool in nbdkit nbdcopy nbdinfo; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (apt-get install nbdkit libnbd-bin)"
done

# serve ID CMD: nbdkit with the plugin on a private socket, CMD run with $uri set; CMD's
# status. nbdkit's messages go to $WORK/nbdkit.err.
serve() {
    id=$1
    shift
    nbdkit -U - "$PLUGIN" store="$STORE" backup="$id" --run "$*" 2>"$WORK/nbdkit.err"
}

# backup_id ARGS...: a backup made with ARGS, its id
backup_id() {
    "$CB" backup "$@" -q
}

# holes_of FILE BLOCK: the runs of all-zero BLOCK-byte blocks of FILE, "offset length" lines
holes_of() {
    python3 - "$1" "$2" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
blk = int(sys.argv[2])
start = None
for off in range(0, len(data) + blk, blk):
    zero = off < len(data) and data[off:off + blk].count(0) == len(data[off:off + blk])
    if zero and start is None:
        start = off
    if not zero and start is not None:
        print(start, min(off, len(data)) - start)
        start = None
PY
}

# map_holes URI: the hole,zero extents nbdinfo --map reports, "offset length" lines
map_holes() {
    nbdinfo --map "$1" | awk '$3 == 3 { print $1, $2 }'
}
