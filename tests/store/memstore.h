/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memstore.h: the in-memory store, for tests only (it is not in the library). It counts the
 * calls of every operation and can be told to fail the Nth call of any of them, so the
 * engine's error paths can be exercised. A test calls cb_mem_store_use() once before it
 * opens a "mem:" URL.
 */
#ifndef CB_TESTS_MEMSTORE_H
#define CB_TESTS_MEMSTORE_H

#include "cinderblock/sys/store.h"

typedef enum cb_mem_op {
    CB_MEM_PUT_CONTAINER,
    CB_MEM_LIST,
    CB_MEM_OPEN_WRITER,
    CB_MEM_WRITE,
    CB_MEM_CLOSE,
    CB_MEM_OPEN_READER,
    CB_MEM_READ,
    CB_MEM_DELETE,
    CB_MEM_UPDATE_CONTAINER_NAME,
    CB_MEM_GET_EXTRA_METADATA,
    CB_MEM_CHECK,
    CB_MEM_LIST_CONTAINERS,
    CB_MEM_LIST_ENTRIES,
    CB_MEM_HOME_CONTAINER,
    CB_MEM_OP_COUNT,
    CB_MEM_ANY = CB_MEM_OP_COUNT /* every operation, counted together */
} cb_mem_op;

/** Register the mem store for "mem:" URLs in this process (the first call; the others do
 * nothing). Aborts if it cannot: a test without its store cannot run. */
void cb_mem_store_use(void);

/** Calls of `op` so far (CB_MEM_ANY: of all operations). */
unsigned long cb_mem_store_calls(cb_store *store, cb_mem_op op);

/** Make the `nth` call of `op` from now on (1 = the next one) fail with `code`. */
void cb_mem_store_fail(cb_store *store, cb_mem_op op, unsigned long nth, int code);

/** Borrow an object's bytes (mutable, to simulate corruption); CB_ENOTFOUND if missing. */
int cb_mem_store_object(cb_store *store,
                        const char *container,
                        const char *name,
                        unsigned char **data_out,
                        size_t *len_out);

/** open_reader calls of one object so far (0 if it does not exist). */
unsigned long cb_mem_store_object_reads(cb_store *store, const char *container, const char *name);

/** Make the next `times` open_reader calls of one object fail with `code` (counted in its
 * reads, not in the fail-Nth knobs). CB_ENOTFOUND if it does not exist. */
int cb_mem_store_fail_object(
    cb_store *store, const char *container, const char *name, unsigned times, int code);

/** Number of committed objects in every container. */
size_t cb_mem_store_count(cb_store *store);

/** Make every write to objects whose name ends with `suffix` sleep `usec` (NULL: none), so
 * tests can make objects finish out of order. */
void cb_mem_store_slow_object(cb_store *store, const char *suffix, unsigned usec);

/** JSON the store returns from get_extra_metadata (NULL: none). Copied. */
void cb_mem_store_set_extra_metadata(cb_store *store, const char *json);

#endif
