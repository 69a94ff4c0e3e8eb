/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lock.h: locks in the store itself, so that commands on several hosts sharing one store
 * (posix over NFS, Swift, S3) see each other. docs/locks.md has the protocol; in short:
 *
 *   cinderblock/locks/s-<id>      a shared lock (backup, restore, verify)
 *   cinderblock/locks/x-<id>      an exclusive lock (delete, cleanup, prune)
 *   cinderblock/locks/exclusive   the exclusive holder's claim, created only if absent
 *
 * in the store's home container. A command writes its own lock object, then lists the
 * others: a live exclusive lock conflicts with everything, a shared one only with an
 * exclusive one. On a conflict it removes its own and fails (CB_ELOCKED) or waits and tries
 * again. An exclusive locker also creates the claim with CB_WRITE_EXCLUSIVE where the store
 * honours it, so two of them cannot both win even where listings lag. A lock holds host,
 * PID, command and an expiry; a thread refreshes it while the command runs. A lock is stale
 * once expired, or when its host is this one and its process is gone; stale locks are
 * removed by whoever finds them in the way.
 */
#ifndef CB_CORE_LOCK_H
#define CB_CORE_LOCK_H

#include "cinderblock/backup.h"

#define CB_LOCK_PREFIX "cinderblock/locks/"
#define CB_LOCK_TTL 1800 /* seconds a lock lives without a refresh (restic's 30 minutes) */

typedef struct cb_lock cb_lock;

/* The host name this process's locks and records carry (the store's lock_host, ...; see
 * cinderblock/store.h). */
void cb__lock_host(cb_store *store, char out[256]);

/*
 * Lock `store` for `command` ("backup", "delete", ...; `what` adds the backup id or NULL).
 * Waits up to the store's lock_wait seconds for conflicting locks to go. *out is NULL (and 0
 * returned) when the store's options say no_lock, or when a shared lock cannot be written
 * (a read-only user: nothing can change the store under it that it could prevent).
 * @return 0, CB_ELOCKED naming the holder, or a store error
 */
int cb__lock_take(cb_store *store,
                  int exclusive,
                  const char *command,
                  const char *what,
                  cb_lock **out,
                  cb_error *err);

/* 0 while the lock is held; CB_ELOCKED once it was lost (removed by `unlock --force`, or
 * not refreshed before it expired). NULL is always held. Cheap: poll it between steps. */
int cb__lock_held(cb_lock *l, cb_error *err);

/* Stop refreshing and remove the lock. NULL is fine. A lock left behind by a failure here
 * expires by itself. */
void cb__lock_release(cb_lock *l);

#include "pending.h" /* the interface of the folder: also the records of backups */

#endif
