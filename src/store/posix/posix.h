/* SPDX-License-Identifier: Apache-2.0 */
/* posix.h: the constructor of the posix store (the registry's entry for posix: and file://). */
#ifndef CB_STORE_POSIX_H
#define CB_STORE_POSIX_H

#include "cinderblock/sys/store.h"

/* `location` is the root directory. */
int cb__posix_store_ctor(const char *location,
                         const cb_store_opts *opts,
                         const cb_store_ops **ops_out,
                         void **state_out,
                         cb_error *err);

#endif
