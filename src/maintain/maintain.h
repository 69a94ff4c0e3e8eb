/* SPDX-License-Identifier: Apache-2.0 */
/*
 * maintain.h: what the maintenance commands (delete, cleanup, prune) share inside this
 * folder: removing leftovers under a lock the caller holds.
 */
#ifndef CB_MAINTAIN_MAINTAIN_H
#define CB_MAINTAIN_MAINTAIN_H

#include "../catalog/catalog.h"

struct cb_lock;

/* cb_cleanup() under the exclusive lock the caller holds (`lock`, NULL when none could be
 * taken); `dry`: find only. */
int cb__cleanup_locked(cb_store *store,
                       struct cb_lock *lock,
                       double older_than,
                       int dry,
                       cb_leftover **removed,
                       size_t *n_removed,
                       cb_error *err);

#endif
