/* SPDX-License-Identifier: Apache-2.0 */
/* registry.h: the store constructors the library knows, keyed by URL scheme. */
#ifndef CB_STORE_REGISTRY_H
#define CB_STORE_REGISTRY_H

#include "cinderblock/sys/store.h"

/*
 * A constructor gets the part of the URL after the scheme ("posix:/srv/b" -> "/srv/b",
 * "swift://c" -> "c") and returns its ops table and a new state.
 */
typedef int (*cb_store_ctor)(const char *location,
                             const cb_store_opts *opts,
                             const cb_store_ops **ops_out,
                             void **state_out,
                             cb_error *err);

int cb__mem_store_ctor(const char *location,
                       const cb_store_opts *opts,
                       const cb_store_ops **ops_out,
                       void **state_out,
                       cb_error *err);
/* Find the constructor for `url` and the location part after its scheme. */
int cb__store_resolve(const char *url,
                      cb_store_ctor *ctor_out,
                      const char **location_out,
                      cb_error *err);

#endif
