/* SPDX-License-Identifier: Apache-2.0 */
/* chain.h: a backup with its parents, each checked, newest first. */
#ifndef CB_CORE_CHAIN_H
#define CB_CORE_CHAIN_H

#include "found.h"

typedef struct cb_layer {
    cb_found where;
    cb_meta meta;  /* checked, objects sorted by offset */
    uint64_t size; /* the volume size at this backup */
} cb_layer;

typedef struct cb_chain {
    cb_layer *layers; /* [0] is the requested backup, [n-1] the full backup */
    size_t n;
    uint64_t size; /* volume size of the requested backup */
} cb_chain;

/*
 * Load backup `backup_id` and its ancestors (through parent_id, each found by listing the
 * store, each in its own container), check every metadata (version, names, overlaps) and
 * run Cinder's object-list check on each layer: an object listed under the prefix but not
 * in the metadata, or the reverse, is CB_ECORRUPT naming it.
 */
int cb__chain_load(cb_store *store, const char *backup_id, cb_chain *out, cb_error *err);

/* The same without the object-list checks and metadata rules (for show). */
int cb__chain_load_light(cb_store *store, const char *backup_id, cb_chain *out, cb_error *err);
void cb__chain_dispose(cb_chain *c);

/* Measure, by reading them back, the objects of `m` whose metadata records no length (some
 * writers omit it; Cinder's restore never reads it). */
int cb__meta_learn_lengths(cb_store *store, const cb_found *f, cb_meta *m, cb_error *err);

/* Cinder's object-list check for one layer. */
int cb__chain_check_listing(cb_store *store, const cb_layer *l, cb_error *err);

#endif
