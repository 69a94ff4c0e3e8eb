/* SPDX-License-Identifier: Apache-2.0 */
/*
 * found.h: finding backups in a store. There is no database: a backup is a
 * <prefix>_metadata object whose name follows Cinder's grammar, in any container the store
 * can enumerate (posix: every directory under the root).
 */
#ifndef CB_CATALOG_FOUND_H
#define CB_CATALOG_FOUND_H

#include "cinderblock/backup.h"
#include "../format/format.h"

/* Every backup in the store (`*out` is a malloc'ed array of `*n_out`). */
int cb__catalog_scan(cb_store *store, cb_found **out, size_t *n_out, cb_error *err);
void cb__catalog_free(cb_found *found, size_t n);

/* The containers backups may be in: all the store can enumerate, else its default one.
 * `*out` is a malloc'ed array of `*n_out` malloc'ed names. */
int cb__catalog_containers(cb_store *store, char ***out, size_t *n_out, cb_error *err);

/* The hint given for `backup_id` (cb_backup_hint, hint.c): 1 and two new strings the
 * caller frees, or 0 (none, or no memory to copy it: then the store is searched). */
int cb__catalog_hinted(cb_store *store, const char *backup_id, char **container, char **prefix);

/* Find one backup by id: CB_ENOTFOUND naming it if it is in no container. A hint
 * (cb_backup_hint) is looked at first: its <prefix>_metadata in its container. */
int cb__catalog_find(cb_store *store, const char *backup_id, cb_found *out, cb_error *err);

/* Read and parse a backup's metadata (not checked; see cb__meta_check). */
int cb__catalog_read_meta(cb_store *store, const cb_found *f, cb_meta *m, cb_error *err);

/* The parent id of each found backup, read once from its metadata: NULL for a full backup
 * and for one whose metadata cannot be read (`*out` has n entries; free with
 * cb__catalog_parents_free). */
int cb__catalog_parents(cb_store *store, const cb_found *all, size_t n, char ***out, cb_error *err);
void cb__catalog_parents_free(char **parents, size_t n);

/* Build the public description of a found backup from its metadata. */
int cb__catalog_info(
    cb_store *store, const cb_found *f, const cb_meta *m, cb_backup_info **out, cb_error *err);

#endif
