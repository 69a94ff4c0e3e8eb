#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails if clang-format would change any C file of the project.
set -eu
cd "$(dirname "$0")/.."
bad=0
for f in $(find include src tools tests bench examples -name '*.[ch]' 2>/dev/null | sort); do
    if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
        echo "clang-format: $f needs formatting (run: make format)" >&2
        bad=1
    fi
done
[ "$bad" -eq 0 ] && echo "clang-format: all C files clean"
exit "$bad"
