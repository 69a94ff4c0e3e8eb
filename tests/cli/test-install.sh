#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `meson install` (what `make install` runs) into a temporary DESTDIR puts every file in
# its place, the installed man page renders, and the installed program runs; `make install`
# passes PREFIX and DESTDIR on.
. "$(dirname "$0")/functions.sh"
build=${CB_BUILD_ROOT:?set CB_BUILD_ROOT}
prefix=${CB_PREFIX:?set CB_PREFIX}
libdir=${CB_LIBDIR:?set CB_LIBDIR}
src=${CB_SOURCE_ROOT:?set CB_SOURCE_ROOT}
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
dest="$WORK/dest"

meson install -C "$build" --no-rebuild --destdir "$dest" >"$WORK/log" 2>&1 ||
    fail "meson install failed: $(tail -20 "$WORK/log")"
root="$dest$prefix"
for f in bin/cinderblock \
    include/cinderblock/cb.h include/cinderblock/backup.h include/cinderblock/store.h \
    include/cinderblock/common.h include/cinderblock/version.h include/cinderblock/sys/store.h \
    share/man/man1/cinderblock.1 \
    share/bash-completion/completions/cinderblock \
    share/zsh/site-functions/_cinderblock \
    share/fish/vendor_completions.d/cinderblock.fish; do
    [ -f "$root/$f" ] || fail "not installed: $prefix/$f"
done
ls "$dest$libdir"/libcinderblock.so* >/dev/null 2>&1 || fail "not installed: $libdir/libcinderblock.so"
[ -f "$dest$libdir/pkgconfig/cinderblock.pc" ] || fail "not installed: $libdir/pkgconfig/cinderblock.pc"
grep -q "^prefix=$prefix\$" "$dest$libdir/pkgconfig/cinderblock.pc" || fail "cinderblock.pc: prefix"
[ -x "$root/bin/cinderblock" ] || fail "the installed program is not executable"

# the installed page renders, without warnings, and is the built one
MANWIDTH=80 man -l --warnings "$root/share/man/man1/cinderblock.1" >"$WORK/page" 2>"$WORK/warn" ||
    fail "man -l of the installed page failed"
[ ! -s "$WORK/warn" ] || fail "man -l warned: $(cat "$WORK/warn")"
grep -q '^SYNOPSIS$' "$WORK/page" || fail "the installed page has no SYNOPSIS"
# the installed program runs with the installed library
v=$(LD_LIBRARY_PATH="$dest$libdir" "$root/bin/cinderblock" --version) || fail "installed program"
[ "$v" = "$("$CB" --version)" ] || fail "the installed program says '$v'"
# the installed completion works
bash -c '. "$1"; COMP_WORDS=(cinderblock ba); COMP_CWORD=1; _cinderblock; echo "${COMPREPLY[*]}"' \
    sh "$root/share/bash-completion/completions/cinderblock" | grep -qx backup ||
    fail "the installed bash completion does not complete 'ba'"

# the Python package (the Cinder driver, docs/cinder.md), where Debian's python3 looks, and
# it loads the library installed with it
if [ -x /usr/bin/python3 ]; then
    if [ "$prefix" = /usr ]; then
        pydir=$dest/usr/lib/python3/dist-packages
    else
        pydir=$root/lib/$(/usr/bin/python3 -c 'import sys; print("python%d.%d" % sys.version_info[:2])')/dist-packages
    fi
    for f in cinderblock/__init__.py cinderblock/_lib.py cinderblock/_paths.py \
        cinderblock/cinder/__init__.py cinderblock/cinder/driver.py cinderblock/cinder/stores.py \
        cinderblock/cinder/options.py cinderblock/cinder/migrate.py; do
        [ -f "$pydir/$f" ] || fail "not installed: ${pydir#"$dest"}/$f"
    done
    grep -qx "LIBRARY = '$libdir/libcinderblock.so.0'" "$pydir/cinderblock/_paths.py" ||
        fail "_paths.py names another library: $(cat "$pydir/cinderblock/_paths.py")"
    pv=$(PYTHONPATH=$pydir CINDERBLOCK_LIBRARY="$dest$libdir/libcinderblock.so.0" /usr/bin/python3 \
        -c 'from cinderblock import _lib; print(_lib.version())') || fail "the installed package"
    [ "cinderblock $pv" = "$("$CB" --version | head -1)" ] || fail "the package's library says $pv"
fi

# the nbdkit plugin (built when nbdkit-plugin-dev is there): in nbdkit's plugin directory, under
# the prefix when nbdkit's is another, and nbdkit loads it with the installed library
if [ -f "$build/tools/nbdkit-plugin/nbdkit-cinderblock-plugin.so" ]; then
    nbdprefix=$(pkg-config --variable=prefix nbdkit)
    if [ "$prefix" = "$nbdprefix" ]; then
        nbddir=$(pkg-config --variable=plugindir nbdkit)
    else
        nbddir=$libdir/nbdkit/plugins
    fi
    plugin="$dest$nbddir/nbdkit-cinderblock-plugin.so"
    [ -f "$plugin" ] || fail "not installed: $nbddir/nbdkit-cinderblock-plugin.so"
    if command -v nbdkit >/dev/null; then
        LD_LIBRARY_PATH="$dest$libdir" nbdkit --dump-plugin "$plugin" >"$WORK/dump" 2>&1 ||
            fail "nbdkit cannot load the installed plugin: $(cat "$WORK/dump")"
        grep -qx "name=cinderblock" "$WORK/dump" || fail "the installed plugin: $(cat "$WORK/dump")"
        grep -qx "thread_model=parallel" "$WORK/dump" || fail "the plugin is not PARALLEL"
    fi
fi

# make install: meson install with PREFIX (default /usr/local) and DESTDIR
command -v make >/dev/null || skip "no make"
make -s -n -C "$src" install BUILD="$build" PREFIX=/opt/cbtest DESTDIR=/tmp/cbdest >"$WORK/make" ||
    fail "make -n install failed"
grep -q -- "-Dprefix=/opt/cbtest" "$WORK/make" || fail "make install ignores PREFIX: $(cat "$WORK/make")"
grep -q -- "--destdir" "$WORK/make" && grep -q "/tmp/cbdest" "$WORK/make" ||
    fail "make install ignores DESTDIR: $(cat "$WORK/make")"
make -s -n -C "$src" install BUILD="$build" >"$WORK/make" || fail "make -n install failed"
grep -q -- "-Dprefix=/usr/local" "$WORK/make" || fail "make install: default PREFIX is not /usr/local"
echo ok
