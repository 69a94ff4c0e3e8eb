/* SPDX-License-Identifier: Apache-2.0 */
/*
 * allocfail.h: fail the library's Nth allocation (curl's torture mode, test side).
 *
 * allocfail.c defines cb__alloc_fails(), which replaces the library's weak definition
 * (src/util/alloc.h). It must be compiled into the test program itself, not put in an
 * archive: the linker would never pull it from one, the library's weak definition being
 * already there. Only programs that link the static libcinderblock-core.a can use it.
 *
 *   tu_allocfail_arm(n);           allocation n (from 1, counted from now) fails
 *   rc = cb_something(..., &err);
 *   tu_allocfail_disarm();         fired: it was reached; count: how many were made
 */
#ifndef CB_TEST_ALLOCFAIL_H
#define CB_TEST_ALLOCFAIL_H

#include <stdint.h>

/* Count allocations from now, and fail number `n` (0: count, fail none). Only that one:
 * those after it succeed again. */
void tu_allocfail_arm(uint64_t n);

/* Stop failing; returns 1 if the armed failure happened since the last arm. */
int tu_allocfail_disarm(void);

/* Allocations made since the last arm (also after disarming). */
uint64_t tu_allocfail_count(void);

#endif
