/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cinderblock/sys/store.h: the interface a store implements.
 *
 * A store is a versioned table of operations (cb_store_ops) plus a `void *state` that the
 * store's constructor allocates and `destroy` releases. The library reaches the operations
 * only through the wrappers of cinderblock/store.h, which check arguments, check that a
 * failing operation filled in the error, enforce the writer and reader state machines, and
 * serialise calls for stores that do not declare CB_STORE_PARALLEL.
 *
 * Writers and readers: the store allocates its own struct with a cb_writer (or cb_reader)
 * as its FIRST member, fills in `ops`, and returns a pointer to that member. The library
 * calls ops->write* then ops->close exactly once (only after every write succeeded), and
 * always ops->free last. `free` after a failed or missing close must discard the object.
 *
 * Strings a store returns through `char **out` are allocated with malloc(); the library
 * frees them with free().
 *
 * Every data operation takes a `flags` word (reserved, 0 today) so that the table can grow
 * without a new version.
 */
#ifndef CINDERBLOCK_SYS_STORE_H
#define CINDERBLOCK_SYS_STORE_H

#include "../store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CB_STORE_OPS_VERSION 1

/* capability flags in cb_store_ops.flags */
#define CB_STORE_PARALLEL (1u << 0)    /* ops may run concurrently on one state */
#define CB_STORE_FLAT_PREFIX (1u << 1) /* posix-style object name prefixes (no '/') */
#define CB_STORE_EXCLUSIVE (1u << 2)   /* open_writer honours CB_WRITE_EXCLUSIVE */

typedef struct cb_writer_ops {
    int (*write)(cb_writer *w, const void *buf, size_t len, cb_error *err);
    int (*close)(cb_writer *w, cb_error *err); /* commit; the object exists iff it returns 0 */
    void (*free)(cb_writer *w);                /* release; discard an uncommitted object */
} cb_writer_ops;

typedef struct cb_reader_ops {
    int (*read)(cb_reader *r, void *buf, size_t cap, size_t *n_out, cb_error *err);
    void (*free)(cb_reader *r);
} cb_reader_ops;

/** Base of every writer; the store's writer struct starts with it. */
struct cb_writer {
    const cb_writer_ops *ops;
    cb_store *store; /* set by the library after open; used to serialise calls */
    int state;       /* library-private: open, failed, closed */
};

/** Base of every reader. */
struct cb_reader {
    const cb_reader_ops *ops;
    cb_store *store; /* set by the library after open */
    int state;       /* library-private */
};

typedef struct cb_store_ops {
    unsigned int version;         /* CB_STORE_OPS_VERSION */
    const char *name;             /* URL scheme */
    unsigned int flags;           /* CB_STORE_* capabilities */
    const char *cinder_driver;    /* Cinder's class path for this kind of store */
    uint64_t default_object_size; /* Cinder's default chunk size for this driver */
    uint32_t default_sha_block;   /* Cinder's default sha block size */

    /* required */
    int (*put_container)(void *state, const char *container, unsigned int flags, cb_error *err);
    int (*list)(void *state,
                const char *container,
                const char *prefix,
                unsigned int flags,
                cb_list_fn fn,
                void *payload,
                cb_error *err);
    int (*open_writer)(void *state,
                       const char *container,
                       const char *name,
                       const char *extra_metadata,
                       unsigned int flags,
                       cb_writer **out,
                       cb_error *err);
    int (*open_reader)(void *state,
                       const char *container,
                       const char *name,
                       const char *extra_metadata,
                       unsigned int flags,
                       cb_reader **out,
                       cb_error *err);
    int (*delete_object)(
        void *state, const char *container, const char *name, unsigned int flags, cb_error *err);
    void (*destroy)(void *state);

    /* optional: NULL means the default behaviour in brackets */
    int (*update_container_name)(void *state,
                                 const char *backup_id,
                                 const char *container,
                                 char **out,
                                 cb_error *err); /* [keep it; NULL is an error] */
    int (*get_extra_metadata)(void *state,
                              const char *backup_id,
                              const char *volume_id,
                              char **json_out,
                              cb_error *err); /* [none] */
    int (*list_containers)(void *state,
                           unsigned int flags,
                           cb_list_fn fn,
                           void *payload,
                           cb_error *err);    /* [CB_ENOTSUPP] */
    int (*check)(void *state, cb_error *err); /* [success] */
    int (*sync)(void *state,
                const char *container,
                unsigned int flags,
                cb_error *err); /* [success: writes are durable at close] */
    int (*list_entries)(void *state,
                        const char *container,
                        const char *prefix,
                        unsigned int flags,
                        cb_entry_fn fn,
                        void *payload,
                        cb_error *err); /* [list, with size and mtime -1] */
    int (*home_container)(void *state,
                          char **out,
                          cb_error *err); /* [update_container_name(nil UUID, NULL)] */
} cb_store_ops;

/**
 * Wrap an ops table and its state into a store handle.
 * Ownership: on success the store owns `state` (ops->destroy runs in cb_store_free); on
 * failure `state` is destroyed here.
 */
CB_EXTERN int cb_store_new(
    cb_store **out, const cb_store_ops *ops, void *state, const cb_store_opts *opts, cb_error *err);

/** The state pointer given to cb_store_new(). */
CB_EXTERN void *cb_store_state(cb_store *store);

/** The options the store was opened with (never NULL). */
CB_EXTERN const cb_store_opts *cb_store_get_opts(const cb_store *store);

/** Look up a setting through opts->getenv (or the environment). */
CB_EXTERN const char *cb_store_getenv(const cb_store_opts *opts, const char *name);

#ifdef __cplusplus
}
#endif
#endif
