/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pending.h: the record of a backup in progress: cinderblock/pending/<backup id> in the
 * store's home container.
 *
 * A backup creates it, only if absent, before it stores anything: it reserves the backup id
 * (of two backups given one id, the second fails at once and leaves the first alone), says
 * where the objects go, and holds what `backup --resume` needs to carry on. It goes when the
 * backup commits, or when a failed backup has removed what it wrote. One left behind marks
 * an interrupted backup: `list --incomplete` shows it, `cleanup` removes it with its objects.
 *
 * The record is written under a name of its own, <backup id>.<random>, and the backup then
 * lists the records of that id: any other means another backup has it. This works on every
 * store whose listings show what was written (posix, Swift, S3), which a create-only write
 * of one name would not: Swift checks If-None-Match only when a PUT starts, and Swift's
 * s3api refuses it.
 */
#ifndef CB_CORE_PENDING_H
#define CB_CORE_PENDING_H

#include "../format/format.h"
#include "cinderblock/store.h"

#define CB_PENDING_PREFIX "cinderblock/pending/" /* + <backup id>.<8 hex digits> */

typedef struct cb_pending {
    char backup_id[CB_UUID_LEN + 1];
    char volume_id[CB_UUID_LEN + 1];
    char *container;
    char *prefix;
    char ts[15];         /* the prefix's timestamp */
    char created_at[40]; /* as the metadata will record it */
    char *compression;   /* the configured name, as Cinder records it */
    uint64_t object_size;
    uint32_t sha_block;
    uint64_t size;     /* the volume's size */
    char *parent_id;   /* NULL for a full backup */
    char *name;        /* NULL when none was given */
    char *description; /* NULL when none was given */
    char *volume_meta; /* Cinder's volume_meta text, or NULL */
    char *volume;      /* the volume's path, for messages */
    char host[256];    /* who writes it now */
    int64_t pid;
    int64_t started; /* seconds since the epoch */
    char *record;    /* the record's object name (set by reserve and get) */
} cb_pending;

void cb__pending_dispose(cb_pending *p);

/* Create the record, only if no record of that backup id exists: CB_EEXISTS otherwise. */
int cb__pending_reserve(cb_store *store, cb_pending *p, cb_error *err);

/* Rewrite the record (a resumed backup takes it over). */
int cb__pending_put(cb_store *store, const cb_pending *p, cb_error *err);

/* The record of `backup_id`: CB_ENOTFOUND if there is none. */
int cb__pending_get(cb_store *store, const char *backup_id, cb_pending *out, cb_error *err);

/* Remove every record of `backup_id`. */
int cb__pending_remove(cb_store *store, const char *backup_id, cb_error *err);

/* Every record in the store; free with cb__pending_free_array. Objects under the records'
 * prefix that are not records are left out. */
int cb__pending_list(cb_store *store, cb_pending **out, size_t *n_out, cb_error *err);
void cb__pending_free_array(cb_pending *v, size_t n);

#endif
