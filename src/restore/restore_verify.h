/* SPDX-License-Identifier: Apache-2.0 */
/*
 * restore_verify.h: restore --verify. Once the target is committed, its pages are dropped
 * from the page cache so that the disk itself is read back, and every sha block is
 * compared with the restored backup's _sha256file, streamed (any volume size). Where that
 * list cannot be used, a full backup's objects are compared with their MD5s instead; a
 * chain cannot be verified then (its objects' MD5s describe its layers, not the volume).
 */
#ifndef CB_CORE_RESTORE_VERIFY_H
#define CB_CORE_RESTORE_VERIFY_H

#include "../catalog/catalog.h"
#include "target.h"

/* CB_ECORRUPT naming the first differing block (or object), or saying why it cannot be
 * verified; CB_EIO if the target cannot be read; CB_ECANCELED. The target stays. */
int cb__restore_verify(cb_store *store,
                       const cb_chain *chain,
                       const cb_target *t,
                       const cb_restore_opts *opts,
                       cb_error *err);

#endif
