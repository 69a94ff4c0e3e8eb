/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cinderblock/sys/store.h: the interface a store implements. docs/store-api.md is the guide.
 *
 * A store is a table of operations (cb_store_ops) plus a `void *state` that the store's
 * constructor allocates and `destroy` releases. The library reaches the operations only
 * through the wrappers of cinderblock/store.h, which check arguments, check that a failing
 * operation filled in the error, enforce the writer and reader state machines, and
 * serialise calls for stores that do not declare CB_STORE_PARALLEL.
 *
 * A store is built into the library, added in-process with cb_store_register(), or loaded
 * from a plugin: a shared object cinderblock-store-NAME.so, in $CINDERBLOCK_PLUGIN_PATH or
 * the installed plugin directory, that exports cb_store_plugin_init(); URLs NAME://LOCATION
 * choose it. Built-in stores win over registered ones, which win over plugins.
 *
 * Versions: CB_STORE_ABI_VERSION names the layout of everything a store shares with the
 * library (these tables, cb_writer and cb_reader, cb_store_opts, cb_error). A store built
 * for another ABI version is refused. Within one version the tables grow only at their end,
 * by optional slots, and each table records its own size where it was built (struct_size,
 * set by the _INIT macros): the library reads no slot beyond it, so a store built against
 * an older header keeps working and gets the defaults of the newer slots.
 *
 * Writers and readers: the store allocates its own struct with a cb_writer (or cb_reader)
 * as its FIRST member, fills in `ops`, and returns a pointer to that member. The library
 * calls ops->write* then ops->close exactly once (only after every write succeeded), and
 * always ops->free last. `free` after a failed or missing close must discard the object.
 *
 * Strings a store returns through `char **out` are allocated with malloc(); the library
 * frees them with free().
 *
 * Every data operation takes a `flags` word; a store ignores the bits it does not know.
 */
#ifndef CINDERBLOCK_SYS_STORE_H
#define CINDERBLOCK_SYS_STORE_H

#include "../store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The store ABI major version (see above). */
#define CB_STORE_ABI_VERSION 1

/* capability flags in cb_store_ops.flags */
#define CB_STORE_PARALLEL (1u << 0)    /* ops may run concurrently on one state */
#define CB_STORE_FLAT_PREFIX (1u << 1) /* posix-style object name prefixes (no '/') */
#define CB_STORE_EXCLUSIVE (1u << 2)   /* open_writer honours CB_WRITE_EXCLUSIVE */

/** Start an ops table: `static const cb_store_ops ops = { CB_STORE_OPS_INIT, .name = ...};` */
#define CB_STORE_OPS_INIT .abi_version = CB_STORE_ABI_VERSION, .struct_size = sizeof(cb_store_ops)
/** Start a writer's ops table. */
#define CB_WRITER_OPS_INIT .struct_size = sizeof(cb_writer_ops)
/** Start a reader's ops table. */
#define CB_READER_OPS_INIT .struct_size = sizeof(cb_reader_ops)

typedef struct cb_writer_ops {
    size_t struct_size; /* sizeof(cb_writer_ops) where the store was built */
    int (*write)(cb_writer *w, const void *buf, size_t len, cb_error *err);
    int (*close)(cb_writer *w, cb_error *err); /* commit; the object exists iff it returns 0 */
    void (*free)(cb_writer *w);                /* release; discard an uncommitted object */
} cb_writer_ops;

typedef struct cb_reader_ops {
    size_t struct_size; /* sizeof(cb_reader_ops) where the store was built */
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
    unsigned int abi_version;     /* CB_STORE_ABI_VERSION; the first member in every version */
    size_t struct_size;           /* sizeof(cb_store_ops) where the store was built */
    const char *name;             /* the kind of store, for messages: "posix", "swift" */
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

    /* optional: NULL (or beyond struct_size) means the default behaviour in brackets */
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
                          cb_error *err);      /* [update_container_name(nil UUID, NULL)] */
    int (*exists)(void *state, cb_error *err); /* 0 if the store exists, CB_ENOTFOUND naming
                                                  what is missing [0: taken to exist] */
    /* the default gap of an incremental's coalesced runs (cb_backup_opts.coalesce): about
     * the bytes that cost as much to store as one more object does (its request's round
     * trip and the server's work per object) [0: none, Cinder's layout] */
    uint64_t default_coalesce;
    /* requests in flight that make good use of the store (cb_store_opts.connections), for a
     * store whose requests wait on a network more than on the CPU [0: one per thread] */
    int default_connections;
    /* new optional slots go here, at the end, with their defaults */
} cb_store_ops;

/**
 * A store's constructor. `location` is the part of the URL after the scheme
 * ("example://a/b" -> "a/b"). On success it sets *ops_out (which must outlive every store
 * made with it) and *state_out (owned by the store from then on: ops->destroy frees it).
 * On failure it fills err and leaves nothing allocated.
 */
typedef int (*cb_store_ctor_fn)(const char *location,
                                const cb_store_opts *opts,
                                const cb_store_ops **ops_out,
                                void **state_out,
                                cb_error *err);

/** A store that can be added to the library by its URL scheme. */
typedef struct cb_store_plugin {
    unsigned int abi_version; /* CB_STORE_ABI_VERSION; the first member in every version */
    size_t struct_size;       /* sizeof(cb_store_plugin) where it was built */
    const char *scheme;       /* URLs SCHEME://LOCATION (or SCHEME:LOCATION) open it */
    cb_store_ctor_fn open;    /* its constructor */
} cb_store_plugin;

/** Start a cb_store_plugin: `{ CB_STORE_PLUGIN_INIT, .scheme = "example", .open = ... }`. */
#define CB_STORE_PLUGIN_INIT                                                                       \
    .abi_version = CB_STORE_ABI_VERSION, .struct_size = sizeof(cb_store_plugin)

/**
 * Add a store to this process: URLs SCHEME://LOCATION open it from then on, in every thread.
 * The scheme is a letter followed by letters, digits, '+', '-' and '.'.
 * Ownership: the library copies what it needs from `plugin`; the constructor and the ops
 * tables it returns must stay valid for the life of the process (there is no unregister).
 * @return 0; CB_EINVAL for another ABI version (both named) or a malformed entry;
 *         CB_EEXISTS when the scheme is built in or already registered
 */
CB_EXTERN int cb_store_register(const cb_store_plugin *plugin, cb_error *err);

/**
 * The entry point of a plugin, cinderblock-store-NAME.so: defined by the plugin, never by the
 * library, which looks it up with dlsym() the first time a URL NAME://... is opened. It
 * returns the plugin's description (NAME as its scheme), valid while the plugin is loaded
 * (plugins are never unloaded). It must not call back into the library.
 */
CB_EXTERN const cb_store_plugin *cb_store_plugin_init(void);

/** The name of the entry point, for dlsym(). */
#define CB_STORE_PLUGIN_ENTRY "cb_store_plugin_init"

/**
 * Wrap an ops table and its state into a store handle.
 * Ownership: on success the store owns `state` (ops->destroy runs in cb_store_free); on
 * failure `state` is destroyed here (when the table has a destroy slot to do it with).
 * @return 0; CB_EINVAL for a table of another ABI version (both named) or one without a
 *         required slot
 */
CB_EXTERN int cb_store_new(
    cb_store **out, const cb_store_ops *ops, void *state, const cb_store_opts *opts, cb_error *err);

/** The state pointer given to cb_store_new(). */
CB_EXTERN void *cb_store_state(cb_store *store);

/** The options the store was opened with (never NULL). */
CB_EXTERN const cb_store_opts *cb_store_get_opts(const cb_store *store);

/** Look up a setting through opts->getenv (or the environment). */
CB_EXTERN const char *cb_store_getenv(const cb_store_opts *opts, const char *name);

/*
 * Library internals, not for stores (hidden symbols: a plugin cannot link them): one opaque
 * per-handle slot where the layers above the store keep their state of a handle (the
 * catalog's backup hints, cb_backup_hint). The store never looks inside; cb_store_free()
 * frees it with `free_fn`; attaching replaces (and frees) what was there.
 */
void *cb__store_attachment(const cb_store *store);
void cb__store_attach(cb_store *store, void *data, void (*free_fn)(void *));

#ifdef __cplusplus
}
#endif
#endif
