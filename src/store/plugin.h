/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plugin.h: store plugins on disk. A plugin is a shared object cinderblock-store-NAME.so
 * exporting cb_store_plugin_init() (cinderblock/sys/store.h), looked for in each directory
 * of $CINDERBLOCK_PLUGIN_PATH (':'-separated), then in the installed plugin directory
 * (CB_PLUGIN_DIR, from meson's -Dplugindir). The first file of that name is the one: a
 * plugin that cannot be loaded is an error, not a reason to look further.
 */
#ifndef CB_STORE_PLUGIN_H
#define CB_STORE_PLUGIN_H

#include <stddef.h>

#include "cinderblock/sys/store.h"

#define CB_STORE_SCHEME_MAX 64 /* a longer scheme is not one (plugin file names stay short) */

/* A scheme is letters, digits, '+', '-', '.', starting with a letter (RFC 3986 §3.1). The
 * length of the scheme that starts `s` and ends at `end` ('\0' or ':'), 0 if none. */
size_t cb__store_scheme_len(const char *s, char end);

/*
 * Load the plugin for `scheme`. 0 with *out its checked description and *path_out its path
 * (free() it); 0 with *out NULL when no such file is on the path; CB_EINVAL when the file is
 * not a plugin of this library (it cannot be loaded, has no entry point, was built for
 * another ABI version - both versions named - or is the plugin of another scheme).
 * Plugins stay loaded for the life of the process.
 */
int cb__store_plugin_load(const char *scheme,
                          const cb_store_opts *opts,
                          const cb_store_plugin **out,
                          char **path_out,
                          cb_error *err);

/* The directories searched, for messages: "$CINDERBLOCK_PLUGIN_PATH (a:b) or /usr/lib/..". */
void cb__store_plugin_dirs(const cb_store_opts *opts, char *out, size_t cap);

/* Check a plugin's description: its ABI version first, then its size, scheme and open.
 * `origin` names it in messages ("store plugin '/x.so'"). */
int cb__store_plugin_check(const cb_store_plugin *p, const char *origin, cb_error *err);

#endif
