/* SPDX-License-Identifier: Apache-2.0 */
/* s3.h: the constructor of the S3 store (the registry's entry for s3://). */
#ifndef CB_STORE_S3_H
#define CB_STORE_S3_H

#include "cinderblock/sys/store.h"

/* `location` is the default bucket ("" for "volumebackups"). */
int cb__s3_store_ctor(const char *location,
                      const cb_store_opts *opts,
                      const cb_store_ops **ops_out,
                      void **state_out,
                      cb_error *err);

#endif
