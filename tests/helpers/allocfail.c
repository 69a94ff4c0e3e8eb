/* SPDX-License-Identifier: Apache-2.0 */
/* allocfail.c: the strong cb__alloc_fails() that fails the armed allocation (allocfail.h). */
#include <stdatomic.h>
#include <stddef.h>

#include "allocfail.h"
#include "util/util.h"

static atomic_uint_fast64_t allocfail_count; /* allocations since the arm */
static atomic_uint_fast64_t allocfail_at;    /* the one to fail, 0: none */
static atomic_int allocfail_fired;

/* The library's threads allocate too: every counter is atomic. */
int cb__alloc_fails(size_t size)
{
    (void)size;
    uint_fast64_t n = atomic_fetch_add(&allocfail_count, 1) + 1;
    if (n != atomic_load(&allocfail_at))
        return 0;
    atomic_store(&allocfail_fired, 1);
    return 1;
}

void tu_allocfail_arm(uint64_t n)
{
    atomic_store(&allocfail_at, 0);
    atomic_store(&allocfail_fired, 0);
    atomic_store(&allocfail_count, 0);
    atomic_store(&allocfail_at, n);
}

int tu_allocfail_disarm(void)
{
    atomic_store(&allocfail_at, 0);
    return atomic_load(&allocfail_fired);
}

uint64_t tu_allocfail_count(void)
{
    return atomic_load(&allocfail_count);
}
