/* SPDX-License-Identifier: Apache-2.0 */
/*
 * registry.h: which store a URL names. The built-in stores (posix, Swift, S3), then the
 * stores added in-process with cb_store_register(), then plugins found on disk.
 */
#ifndef CB_STORE_REGISTRY_H
#define CB_STORE_REGISTRY_H

#include "cinderblock/sys/store.h"

/*
 * Find the constructor for `url` and the location part after its scheme ("posix:/srv/b" ->
 * "/srv/b", "swift://c" -> "c"), loading a plugin cinderblock-store-NAME.so the first time a
 * scheme NAME is neither built in nor registered. opts->getenv gives
 * $CINDERBLOCK_PLUGIN_PATH.
 */
int cb__store_resolve(const char *url,
                      const cb_store_opts *opts,
                      cb_store_ctor_fn *ctor_out,
                      const char **location_out,
                      cb_error *err);

#endif
