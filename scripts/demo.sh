#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `make demo`: a real backup and restore through the local directory store, printed as it
# goes. Everything lives under ./demo (removed and remade each time).
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
cb="$(pwd)/$BUILD/tools/cinderblock/cinderblock"
demo=$(pwd)/demo
rm -rf "$demo"
mkdir -p "$demo"
export CINDERBLOCK_STORE="$demo/store"

say() { printf '\n$ %s\n' "$*"; }

echo "cinderblock demo: $("$cb" --version); store: $CINDERBLOCK_STORE (a local directory)"
echo "making a 64 MiB sample disk image: zeros, random and text regions..."
python3 - "$demo/disk.img" <<'PY'
import random, sys
rnd = random.Random(2026)
with open(sys.argv[1], 'wb') as f:
    for i in range(256):                      # 256 regions of 256 KiB
        kind = rnd.choice(['zero', 'zero', 'random', 'text', 'text'])
        if kind == 'zero':
            f.write(bytes(262144))
        elif kind == 'random':
            f.write(rnd.randbytes(262144))
        else:
            line = b'%06d: the same disk, backed up in Cinder format\n' % i
            f.write((line * (262144 // len(line) + 1))[:262144])
PY

say cinderblock init
"$cb" init
say cinderblock backup disk.img --compression zstd --object-size 16M --name demo
id=$("$cb" backup "$demo/disk.img" --compression zstd --object-size 16M --name demo)
say cinderblock list
"$cb" list
say cinderblock show "$id"
"$cb" show "$id"
say cinderblock restore "$id" restored.img
"$cb" restore "$id" "$demo/restored.img"
say cmp disk.img restored.img
cmp "$demo/disk.img" "$demo/restored.img"
echo "identical: $(stat -c %s "$demo/restored.img") bytes restored bit for bit"
say "ls store/<container>  (Cinder's posix layout: data objects, _sha256file, _metadata)"
ls -l "$(dirname "$(find "$demo/store" -name '*_metadata')")" | sed "s|$demo/||"
echo
echo "demo done: see $demo"
