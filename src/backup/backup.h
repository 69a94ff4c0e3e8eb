/* SPDX-License-Identifier: Apache-2.0 */
/*
 * backup.h: the interface of the backup folder for the rest of the library: cb_backup() with
 * what only the library's own callers may ask for (a consolidate: cinderblock/backup.h has
 * the rest).
 */
#ifndef CB_BACKUP_BACKUP_H
#define CB_BACKUP_BACKUP_H

#include "cinderblock/backup.h"
#include "../catalog/catalog.h"

typedef struct cb_bk_extra {
    /* The backup must hold exactly this backup's content: the SHA-256 of every sha block
     * read is compared, in order, with that backup's _sha256file (opts->sha_block must be its
     * block size), and the first difference stops the backup before its commit, with the
     * error mismatch() sets (or NULL: no such check). */
    const cb_found *expect;
    /* The block at volume offset `off` differs (kind 0), the list ends before the volume
     * (1), or after it (2): set err, return its code. */
    int (*mismatch)(void *ctx, uint64_t off, int kind, cb_error *err);
    void *ctx;
    int locked;           /* the caller holds the store's exclusive lock: take no lock ... */
    struct cb_lock *lock; /* ... this one (or NULL: none could be taken): losing it stops the
                             backup, as losing its own would */
} cb_bk_extra;

/* cb_backup() with `extra` (NULL: cb_backup() itself). */
int cb__backup_ex(cb_store *store,
                  const char *volume_path,
                  const cb_backup_opts *opts,
                  const cb_bk_extra *extra,
                  cb_backup_info **out,
                  cb_error *err);

#endif
