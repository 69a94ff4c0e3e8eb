/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cinderblock/store.h: object stores, as seen by a program that uses them.
 *
 * A store holds containers; a container holds objects named by strings that may contain
 * '/'. The operations mirror OpenStack Cinder's BackupChunkedDriver one to one:
 *
 *   put_container          create a container if needed (no failure if it exists)
 *   list                   every object name in a container that starts with a prefix
 *   open_writer            write an object; nothing is visible until cb_writer_close() returns 0
 *   open_reader            stream an object back; a missing object is CB_ENOTFOUND
 *   delete_object          delete one object; a missing object is not an error
 *   update_container_name  let the store choose the container of a backup
 *   get_extra_metadata     opaque JSON the store wants kept with a backup (usually none)
 *   check                  Cinder's check_for_setup_error
 *
 * Stores are chosen by URL: "PATH", "posix:PATH" or "file://PATH" select the posix store
 * rooted at PATH; "swift://CONTAINER" and "s3://BUCKET" the object stores where built;
 * "NAME://LOCATION" a store registered with cb_store_register() or the plugin
 * cinderblock-store-NAME.so (cinderblock/sys/store.h).
 *
 * Lifecycle of a writer: cb_store_open_writer -> cb_writer_write* -> cb_writer_close ->
 * cb_writer_free. After any error only close and free are legal. cb_writer_free() without a
 * successful close abandons the object: nothing is left in the store.
 *
 * Thread rules: a cb_store may be used from several threads at once; for stores that do not
 * declare CB_STORE_PARALLEL the library serialises the calls. One writer or reader must be
 * used by one thread at a time.
 */
#ifndef CINDERBLOCK_STORE_H
#define CINDERBLOCK_STORE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cb_store cb_store;
typedef struct cb_writer cb_writer;
typedef struct cb_reader cb_reader;

/**
 * open_writer flag: the object need not be durable when cb_writer_close() returns, only
 * after the next cb_store_sync() of its container (a posix store then skips its fsync per
 * object and flushes everything once). Objects are still complete and atomic at close.
 */
#define CB_WRITE_DEFER_SYNC (1u << 0)

/**
 * open_writer flag: create only. cb_writer_close() fails with CB_EEXISTS, and leaves the
 * existing object as it was, when an object of that name already exists (an object large
 * enough to be streamed may fail so already at the write that starts its upload).
 * posix decides atomically: of two writers racing for one name exactly one succeeds
 * (posix links the file in without replacing). Swift and S3 send `If-None-Match: *`; AWS
 * documents S3's conditional writes as race-free, but Swift checks the condition when a PUT
 * starts, not when it commits, so there two writers whose uploads overlap can both succeed
 * (the later one's object stays). A store that cannot honour the flag fails with
 * CB_ENOTSUPP: at open when it never can, at close when the server turns out not to honour
 * the condition (Swift's s3api answers 501) - the object is then not written. The S3 store
 * also refuses, at the write that would begin a multipart upload, a create-only object
 * larger than one part.
 */
#define CB_WRITE_EXCLUSIVE (1u << 1)

/**
 * Called once per listed name. `name` is borrowed for the duration of the call.
 * @return 0 to go on; any other value stops the listing and is returned by it.
 */
typedef int (*cb_list_fn)(const char *name, void *payload);

/** One listed object, with what the listing tells about it. Borrowed for the call. */
typedef struct cb_entry {
    const char *name;
    int64_t size;  /* bytes stored, or -1 when the store's listing does not say */
    int64_t mtime; /* last change, seconds since the epoch (UTC), or -1 when unknown */
} cb_entry;

/** Called once per listed object; the same contract as cb_list_fn. */
typedef int (*cb_entry_fn)(const cb_entry *entry, void *payload);

/** Reads a setting (environment variable) for a store; NULL when unset. */
typedef const char *(*cb_getenv_fn)(const char *name, void *payload);

/* 3 added connections; 2 added limit_upload and limit_download; versions 1 and 2 are still
 * accepted (without them) */
#define CB_STORE_OPTS_VERSION 3

/** Options common to every store. Initialise with CB_STORE_OPTS_INIT. */
typedef struct cb_store_opts {
    unsigned int version;          /* CB_STORE_OPTS_VERSION */
    int create_containers;         /* 0: put_container fails on a missing container */
    const char *availability_zone; /* object-store prefixes: az_<zone>_backup_ (NULL: "nova") */
    const char *ca_file;           /* TLS: CA bundle (NULL: system default) */
    int insecure;                  /* TLS: do not verify the server */
    int retries;                   /* attempts per request for network stores (>= 1) */
    double retry_backoff;          /* seconds before the first retry, doubled each time */
    double timeout;                /* seconds a transfer may stall before it fails */
    const char *storage_policy;    /* swift: X-Storage-Policy on container creation */
    cb_getenv_fn getenv;           /* settings and credentials (NULL: the process environment) */
    void *getenv_payload;
    /* locks (docs/locks.md): the engine's commands lock the store they use */
    const char *lock_host; /* this host's name in locks (NULL: $CINDERBLOCK_LOCK_HOST, then
                              $HOSTNAME, then gethostname()) */
    double lock_wait;      /* seconds to wait for a conflicting lock to go (0: fail at once) */
    int no_lock;           /* 1: take no locks (a store nobody writes meanwhile) */
    /* version 2: bandwidth, in bytes per second (0: no limit), one limit for the store
     * shared by all its threads and connections: what every writer passes on (upload), what
     * every reader hands back (download) */
    double limit_upload;
    double limit_download;
    /* version 3: requests in flight at once, where an operation has that many independent
     * objects to move (an incremental's changed runs, a restore's objects): each holds a
     * connection and a buffer of at most one piece or object segment, so memory grows with
     * it. 0: the store's default (cb_store_connections()); never fewer than the threads */
    int connections;
} cb_store_opts;

#define CB_STORE_OPTS_INIT                                                                         \
    {                                                                                              \
        .version = CB_STORE_OPTS_VERSION, .create_containers = 1, .retries = 3,                    \
        .retry_backoff = 2.0, .timeout = 120.0                                                     \
    }

/** Fixed facts about a store kind. */
typedef struct cb_store_info {
    const char *name;             /* the kind: "posix", "swift", "s3", or a plugin's own */
    const char *cinder_driver;    /* Cinder's driver class path, for export records */
    uint64_t default_object_size; /* Cinder's default object (chunk) size for this driver */
    uint32_t default_sha_block;   /* Cinder's default sha block size */
    int flat_prefix;              /* 1: posix-style object prefixes (no '/') */
    uint64_t default_coalesce;    /* since 0.3: an incremental's default gap of coalesced runs
                                     (cb_backup_opts.coalesce), in bytes */
} cb_store_info;

/**
 * Open a store by URL.
 * @param out   set to the new store; free it with cb_store_free() (NULL on failure)
 * @param opts  NULL for the defaults
 * @return 0, CB_EINVAL for a malformed or unknown URL (or a plugin that cannot be used), or
 *         another cb_status
 */
CB_EXTERN int
cb_store_open(cb_store **out, const char *url, const cb_store_opts *opts, cb_error *err);

/** Release a store and its state. Accepts NULL. */
CB_EXTERN void cb_store_free(cb_store *store);

/** Facts about the store's kind. Borrowed; valid while the store lives. */
CB_EXTERN const cb_store_info *cb_store_get_info(const cb_store *store);

/** Requests the store takes in flight at once (cb_store_opts.connections, else the store's
 *  default: 8 for Swift and S3, 0 for posix and stores that name none: as many as the
 *  operation's threads). */
CB_EXTERN int cb_store_connections(const cb_store *store);

/** The availability zone used in object-store prefixes ("nova" unless set). Borrowed. */
CB_EXTERN const char *cb_store_availability_zone(const cb_store *store);

/** Create `container` if it does not exist. */
CB_EXTERN int
cb_store_put_container(cb_store *store, const char *container, unsigned int flags, cb_error *err);

/**
 * Call `fn` for every object in `container` whose name starts with `prefix`, in no
 * particular order. CB_ENOTFOUND if the container does not exist.
 */
CB_EXTERN int cb_store_list(cb_store *store,
                            const char *container,
                            const char *prefix,
                            unsigned int flags,
                            cb_list_fn fn,
                            void *payload,
                            cb_error *err);

/**
 * Like cb_store_list(), with each object's size and age where the store's listing carries
 * them (Cinder's get_container_entries). Stores without the operation report -1 for both.
 */
CB_EXTERN int cb_store_list_entries(cb_store *store,
                                    const char *container,
                                    const char *prefix,
                                    unsigned int flags,
                                    cb_entry_fn fn,
                                    void *payload,
                                    cb_error *err);

/**
 * Call `fn` for every container the store can enumerate (CB_ENOTSUPP if it cannot).
 */
CB_EXTERN int cb_store_list_containers(
    cb_store *store, unsigned int flags, cb_list_fn fn, void *payload, cb_error *err);

/**
 * Open a writer for `name` in `container`. Nothing is visible until cb_writer_close()
 * returns 0.
 * @param extra_metadata  the store's own JSON for this backup (see get_extra_metadata), or NULL
 * @param out             set to a new writer; free it with cb_writer_free() (NULL on failure)
 */
CB_EXTERN int cb_store_open_writer(cb_store *store,
                                   const char *container,
                                   const char *name,
                                   const char *extra_metadata,
                                   unsigned int flags,
                                   cb_writer **out,
                                   cb_error *err);

/** Append `len` bytes. */
CB_EXTERN int cb_writer_write(cb_writer *w, const void *buf, size_t len, cb_error *err);

/** Commit the object. Upload and integrity errors come out here. */
CB_EXTERN int cb_writer_close(cb_writer *w, cb_error *err);

/** Release a writer; if it was not closed successfully, the object is discarded. NULL ok. */
CB_EXTERN void cb_writer_free(cb_writer *w);

/** Open a reader. CB_ENOTFOUND if the object does not exist. */
CB_EXTERN int cb_store_open_reader(cb_store *store,
                                   const char *container,
                                   const char *name,
                                   const char *extra_metadata,
                                   unsigned int flags,
                                   cb_reader **out,
                                   cb_error *err);

/** Read up to `cap` bytes; `*n_out` is 0 only at the end of the object. */
CB_EXTERN int cb_reader_read(cb_reader *r, void *buf, size_t cap, size_t *n_out, cb_error *err);

/** Release a reader. Accepts NULL. */
CB_EXTERN void cb_reader_free(cb_reader *r);

/** Delete one object; a missing object (or container) is not an error. */
CB_EXTERN int cb_store_delete_object(
    cb_store *store, const char *container, const char *name, unsigned int flags, cb_error *err);

/**
 * The container a backup should use: the store's choice given the requested `container`
 * (NULL when none was asked for).
 * @param out  a new string the caller frees with free()
 */
CB_EXTERN int cb_store_update_container_name(
    cb_store *store, const char *backup_id, const char *container, char **out, cb_error *err);

/**
 * JSON text the store wants recorded as the backup's extra_metadata, or NULL for none.
 * @param json_out  a new string the caller frees with free(), or NULL
 */
CB_EXTERN int cb_store_get_extra_metadata(
    cb_store *store, const char *backup_id, const char *volume_id, char **json_out, cb_error *err);

/**
 * Make every object written with CB_WRITE_DEFER_SYNC to `container` durable. A no-op for
 * stores whose writes are durable at close (Swift, S3).
 */
CB_EXTERN int
cb_store_sync(cb_store *store, const char *container, unsigned int flags, cb_error *err);

/**
 * The store's home container: where cinderblock keeps what belongs to the store rather than
 * to one backup (locks, records of backups in progress), under names that start with
 * "cinderblock/" and so never match a backup prefix. posix: the root (""); Swift, S3: the
 * container or bucket of the URL.
 * @param out  a new string the caller frees with free()
 */
CB_EXTERN int cb_store_home_container(cb_store *store, char **out, cb_error *err);

/**
 * Whether the store itself exists: posix, that its root directory does (a mistyped path
 * must not silently become a new store); stores that cannot tell say it does (Swift and S3
 * create a missing container when asked to, see create_containers).
 * @return 0; CB_ENOTFOUND naming what is missing; another cb_status when it cannot be told
 */
CB_EXTERN int cb_store_exists(cb_store *store, cb_error *err);

/** The marker object cb_store_init() writes in the store's home container. */
#define CB_STORE_MARKER "cinderblock/store.json"

/** What cb_store_init() found (its *state_out). */
typedef enum cb_store_init_state {
    CB_STORE_INIT_CREATED = 0, /* the store did not exist: it was created and marked */
    CB_STORE_INIT_MARKED = 1,  /* it existed (a directory, a container, Cinder's backups)
                                  without a marker: the marker was written */
    CB_STORE_INIT_EXISTED = 2, /* it already had cinderblock's marker: nothing was written */
} cb_store_init_state;

/**
 * Make a store: create it where it is missing (posix: the root directory, with its parents;
 * Swift, S3: the container or bucket), then write the marker CB_STORE_MARKER, a small JSON
 * document naming the format, in its home container (beside the locks, docs/locks.md).
 * Idempotent: a store that has the marker already is left as it is. Backups already in the
 * store (Cinder's, say) are not touched.
 * @param flags      0 (reserved)
 * @param state_out  what was found and done (NULL: not wanted)
 * @return 0; CB_ECORRUPT when an object of the marker's name is not cinderblock's marker;
 *         a store error (CB_ENOTFOUND with create_containers off and the store missing)
 */
CB_EXTERN int
cb_store_init(cb_store *store, unsigned int flags, cb_store_init_state *state_out, cb_error *err);

/** Check the store's configuration and reachability (Cinder's check_for_setup_error). */
CB_EXTERN int cb_store_check(cb_store *store, cb_error *err);

/**
 * Convenience: read a whole object into memory, refusing more than `max` bytes.
 * @param data_out  a new buffer the caller frees with free() (NUL-terminated for text use)
 */
CB_EXTERN int cb_store_read_all(cb_store *store,
                                const char *container,
                                const char *name,
                                size_t max,
                                char **data_out,
                                size_t *len_out,
                                cb_error *err);

/** Convenience: write a whole object (open, write, close, free). */
CB_EXTERN int cb_store_write_all(cb_store *store,
                                 const char *container,
                                 const char *name,
                                 const void *data,
                                 size_t len,
                                 cb_error *err);

/** The same with the writer's CB_WRITE_* flags (CB_WRITE_EXCLUSIVE: only if the name is
 * new); cb_store_write_all() is this with 0. */
CB_EXTERN int cb_store_write_all_flags(cb_store *store,
                                       const char *container,
                                       const char *name,
                                       const void *data,
                                       size_t len,
                                       unsigned int flags,
                                       cb_error *err);

#ifdef __cplusplus
}
#endif
#endif
