/* SPDX-License-Identifier: Apache-2.0 */
/* swift.h: the constructor of the Swift store (the registry's entry for swift://). */
#ifndef CB_STORE_SWIFT_H
#define CB_STORE_SWIFT_H

#include "cinderblock/sys/store.h"

/* `location` is the default container ("" for "volumebackups"). */
int cb__swift_store_ctor(const char *location,
                         const cb_store_opts *opts,
                         const cb_store_ops **ops_out,
                         void **state_out,
                         cb_error *err);

#endif
