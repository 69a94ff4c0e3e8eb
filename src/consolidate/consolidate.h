/* SPDX-License-Identifier: Apache-2.0 */
/*
 * consolidate.h: synthetic full backups (cb_consolidate), for prune --consolidate too. A
 * layer above backup (a consolidate is a backup whose volume is a chain's content, read by
 * chainread.h) and below maintain (prune consolidates before it deletes).
 */
#ifndef CB_CONSOLIDATE_CONSOLIDATE_H
#define CB_CONSOLIDATE_CONSOLIDATE_H

#include "../catalog/catalog.h"

struct cb_lock;

/* cb_consolidate() without its delete_chain part; `locked`: the caller holds the store's
 * exclusive lock, `lock` (NULL when none could be taken), and no other is taken. */
int cb__consolidate_one(cb_store *store,
                        const char *backup_id,
                        const cb_consolidate_opts *opts,
                        int locked,
                        struct cb_lock *lock,
                        cb_backup_info **out,
                        cb_error *err);

/*
 * Make backup `child` (an incremental) an incremental of `parent_id`: its _metadata is
 * written again, whole, with that parent_id (the store replaces an object atomically: posix
 * by rename, Swift and S3 by PUT). Sound only when the new parent's content equals the old
 * parent's or the child's own (a synthetic full of either): restoring the child lays its
 * objects over its parent's content, and every byte it does not hold is the same.
 */
int cb__reparent(cb_store *store, const cb_found *child, const char *parent_id, cb_error *err);

#endif
