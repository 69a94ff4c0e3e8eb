/* SPDX-License-Identifier: Apache-2.0 */
/* restore_plan.h: which bytes each object of a chain supplies (newest backup wins). */
#ifndef CB_CORE_RESTORE_PLAN_H
#define CB_CORE_RESTORE_PLAN_H

#include "chain.h"

typedef struct cb_range {
    uint64_t off; /* absolute volume offset */
    uint64_t len;
} cb_range;

typedef struct cb_task {
    const cb_layer *layer;
    const cb_meta_object *obj;
    cb_range *ranges; /* sorted; the parts of the object no newer backup overwrites */
    size_t n_ranges;
} cb_task;

typedef struct cb_plan {
    cb_task *tasks; /* only objects that supply at least one byte, sorted by offset */
    size_t n_tasks;
    uint64_t bytes; /* bytes to write in all */
} cb_plan;

/*
 * Walk the chain newest first; each object supplies the parts of its range, clipped to the
 * volume size, that no newer object covers. Every byte of the volume must be supplied by
 * some object (CB_ECORRUPT naming the first gap otherwise). Objects fully overwritten by
 * newer backups are not read at all.
 */
int cb__plan_build(const cb_chain *chain, cb_plan *out, cb_error *err);
void cb__plan_dispose(cb_plan *p);

#endif
