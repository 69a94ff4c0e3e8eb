/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cinderblock/backup.h: backups, restores and the catalog of a store.
 *
 * A backup of a volume is a set of objects in one container of a store, in Cinder's
 * chunked-backup format 1.0.0:
 *   <prefix>-00001 ...   the data objects (compressed or not, one per chunk or changed run)
 *   <prefix>_sha256file  the SHA-256 of every sha block of the volume
 *   <prefix>_metadata    the list of objects; written last, so a backup without it is not a
 *                        backup (an interrupted one leaves nothing that looks complete)
 * The catalog is the store itself: backups are found by listing `*_metadata` objects.
 *
 * Every long operation takes a progress callback and a cancel hook. Cancelling a backup
 * removes what it wrote and returns CB_ECANCELED.
 */
#ifndef CINDERBLOCK_BACKUP_H
#define CINDERBLOCK_BACKUP_H

#include "common.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * What a backup or restore has done so far. The library allocates it and passes it to the
 * callback; the struct only grows (new fields are added at the end), so a callback built
 * against an older header reads the fields it knows.
 */
typedef struct cb_progress {
    const char *phase;     /* "backup", "restore", "delete", "verify", "consolidate" */
    uint64_t bytes_done;   /* volume bytes read (backup) or written (restore) */
    uint64_t bytes_total;  /* volume size */
    uint64_t objects_done; /* objects written (backup) or restored (restore); final at the last
                              call, which comes once every object is done */
    uint64_t bytes_stored; /* bytes sent to the store (after compression) */
    /* added in 0.2: */
    uint64_t bytes_zero;      /* volume bytes found all zero: backup, holes and zero ranges
                                 stored as the one cached zero object; restore, zeros it did
                                 not need to write (a new or sparse file) */
    uint64_t bytes_unchanged; /* incremental backup: bytes equal to the parent's (not stored) */
    const char *step;         /* what the operation does now ("taking the lock", "reading the
                                 volume", ...), or NULL; changes only with a call */
    /* added in 0.3: */
    uint64_t bytes_read;      /* backup: bytes read from the volume's source (an NBD server's,
                                 a stream's; a file's through pread, holes not read); blocks a
                                 dirty bitmap says are unchanged are not read */
    uint64_t bytes_coalesced; /* incremental backup: unchanged bytes stored all the same, in
                                 the gaps of coalesced runs (cb_backup_opts.coalesce); they
                                 count in bytes_unchanged too */
} cb_progress;

/** Progress report; `p` is borrowed for the call. Called from the caller's thread. */
typedef void (*cb_progress_fn)(const cb_progress *p, void *payload);

/** Polled between pieces of work: return non-zero to cancel. Must be async-safe to read. */
typedef int (*cb_cancel_fn)(void *payload);

/** One backup as found in a store. Free with cb_backup_info_free(). */
typedef struct cb_backup_info {
    char *backup_id;
    char *volume_id;
    char *container;
    char *prefix;      /* the object name prefix (Cinder's service_metadata) */
    char *parent_id;   /* NULL for a full backup */
    char *name;        /* NULL when none was given */
    char *description; /* NULL when none was given */
    char *created_at;  /* as recorded, e.g. "2024-01-02 03:04:05+00:00" */
    char *volume_meta; /* Cinder's volume_meta JSON text, or NULL */
    char *compression; /* the algorithm of the first compressed object, or "none" */
    uint64_t size;     /* volume size in bytes */
    uint64_t object_count;
    uint64_t data_bytes;     /* uncompressed bytes held in this backup's own objects */
    uint64_t stored_bytes;   /* cb_backup(): bytes written to the store; cb_backup_list(): the
                                sizes the store lists for the backup's objects (0 when
                                unknown: Cinder's metadata does not record it) */
    uint64_t reused_objects; /* cb_backup() with resume_id: objects the interrupted run
                                stored that were kept (not counted in stored_bytes) */
    uint32_t sha_block;      /* 0 when unknown */
    unsigned chain_length;   /* 1 for a full backup, 2 for its first incremental, ... */
    char *problem;           /* NULL, or why the backup cannot be used (damaged metadata, a
                                missing parent): cb_backup_list() still reports such backups */
} cb_backup_info;

CB_EXTERN void cb_backup_info_free(cb_backup_info *info);

#define CB_BACKUP_OPTS_VERSION                                                                     \
    6 /* 6: coalesce; 5: dirty_bitmap, verify_unchanged, nbd_connections; 4: volume_pread,         \
         volume_size; 3: volume_fd, volume_read, prefix, created_at, volume_meta; 2: stream_size,  \
         stream_fd, dry_run; versions 1 to 5 are still accepted */

typedef struct cb_backup_opts {
    unsigned int version;        /* CB_BACKUP_OPTS_VERSION */
    const char *volume_id;       /* NULL: a UUID derived from the volume's canonical path */
    const char *backup_id;       /* NULL: a new random UUID */
    const char *container;       /* NULL: the store's choice (posix: id[0:2]/id[2:4]/id) */
    const char *name;            /* Cinder's display_name, or NULL */
    const char *description;     /* Cinder's display_description, or NULL */
    const char *compression;     /* Cinder's names, any case (NULL: "zlib") */
    uint64_t object_size;        /* bytes per object (0: the store's Cinder default) */
    uint32_t sha_block;          /* bytes per sha block (0: 32768) */
    const char *const *metadata; /* "KEY=VALUE" strings for volume_meta, or NULL */
    size_t n_metadata;
    int64_t now;           /* seconds since the epoch for the timestamps (0: the clock) */
    long now_usec;         /* microseconds with `now` */
    int incremental;       /* 1: on top of the newest complete backup of the volume */
    const char *parent_id; /* incremental on top of this backup */
    int threads;           /* worker threads (0: online CPUs) */
    cb_progress_fn progress;
    void *progress_payload;
    cb_cancel_fn cancel;
    void *cancel_payload;
    int keep_partial;      /* 1: a cancelled backup keeps what it stored, to be continued with
                              resume_id (or removed by cb_cleanup); 0: it removes it */
    const char *resume_id; /* continue this interrupted backup (its own settings apply: the
                              options above that shape a backup are ignored) */
    /* version 2: a volume read from a stream (volume_path "-", "/dev/stdin", "/dev/fd/N") */
    uint64_t stream_size; /* the bytes the stream must hold exactly (fewer or more: CB_ESOURCE);
                             0: what comes before EOF */
    int stream_fd;        /* volume_path "-": the descriptor read (0: standard input) */
    /* version 2 */
    int dry_run; /* 1: read, hash and compress the volume (compare it with the parent) as a
                    real run would, and write nothing: no object, no lock, no record of a
                    backup in progress; the result says what would be stored (object_count,
                    data_bytes, stored_bytes). Not with resume_id. */
    /* version 3: the volume without a path (volume_path NULL; opts->volume_id is then required,
     * unless parent_id gives it). Such a backup cannot be resumed (resume_id: CB_EINVAL). */
    int volume_fd; /* volume_path NULL and volume_read NULL: the volume is this open descriptor
                      (not closed, its file offset neither used nor moved). A regular file or
                      block device is read with pread at any offset, in parallel, exactly as a
                      path is (size from fstat/BLKGETSIZE64, holes skipped, recheck at the end by
                      fstat). Anything else (pipe, socket) is read in order as a stream
                      (stream_size applies). CB_BACKUP_OPTS_INIT sets -1: none. */
    long long (*volume_read)(void *payload, void *buf, size_t len);
    /* volume_path NULL: the volume is what this returns, in order, as a stream (stream_size
     * applies): > 0 bytes read (at most len), 0 at the end, < 0 a failure (-errno if it knows
     * one) -> CB_ESOURCE. Called from a library thread, one call at a time, never two at once;
     * a cancel is seen between calls. */
    void *volume_read_payload;
    const char *prefix;      /* the object name prefix (Cinder's service_metadata), NULL: made
                                as today. Must follow the store's Cinder grammar (posix:
                                volume_<vid>_<YYYYmmddHHMMSS>_backup_<bid>; object stores:
                                volume_<vid>/<YYYYmmddHHMMSS>/az_<az>_backup_<bid>) and name this
                                backup's volume id and backup id, lowercase (else CB_EINVAL
                                naming it) */
    const char *created_at;  /* recorded verbatim as created_at in _metadata and _sha256file
                                (Cinder writes str(backup.created_at), e.g.
                                "2026-12-02 04:27:13+00:00" or with ".123456"); NULL: from now.
                                One that is not such a time: CB_EINVAL */
    const char *volume_meta; /* Cinder's volume_meta string (BackupMetadataAPI's JSON text),
                                recorded verbatim as the JSON string value "volume_meta";
                                NULL: from `metadata` as today (null when none). Both: EINVAL */
    /* version 4: a volume read at offsets through the caller (volume_path NULL; it wins over
     * volume_read and volume_fd). Read exactly as a regular file is: any offset, in parallel,
     * memory bounded whatever object_size is (a few MiB per thread, not whole objects as a
     * stream holds them); no hole is known (every byte is read), and there is no recheck at
     * the end (the size is volume_size). For a file-like object that can seek (RBD's). */
    long long (*volume_pread)(void *payload, void *buf, size_t len, uint64_t offset);
    /* read len bytes at offset: > 0 bytes read (a short read is retried for the rest), 0 or
     * < 0 (-errno if it knows one) a failure -> CB_ESOURCE naming the offset. May be called
     * from several library threads at once (the caller serialises if it must); a cancel is
     * seen between calls. */
    void *volume_pread_payload;
    uint64_t volume_size; /* with volume_pread: the volume's size in bytes (required; 0 is an
                             empty volume) */
    /* version 5: NBD exports (volume_path an NBD URI: nbd://, nbds://, nbd+unix://,
     * nbds+unix://, nbd+vsock://, as libnbd takes them). The export is read read-only with
     * several connections (when the server allows them: NBD_FLAG_CAN_MULTI_CONN), and the
     * ranges its base:allocation context says read as zeros are not read. */
    const char *dirty_bitmap; /* incremental only (incremental or parent_id; else CB_EINVAL):
                                 the export's dirty bitmap of that name (qemu's meta context
                                 qemu:dirty-bitmap:NAME, qemu-nbd -B NAME). Only the blocks it
                                 marks dirty are read and hashed; every other sha block takes
                                 the parent's hash. The contract: the bitmap was created or
                                 cleared when the parent's data was taken, and has been
                                 recording since. A server without it: CB_ESOURCE naming it */
    double verify_unchanged;  /* with dirty_bitmap: percent (0 to 100) of the blocks it says are
                                 unchanged that are read all the same, chosen at random each
                                 run; one that differs from the parent's hash is CB_ESOURCE
                                 (a wrong bitmap), and nothing is committed */
    int nbd_connections;      /* connections to the NBD server (0: 4; at most 16) */
    /* version 6 */
    int64_t coalesce; /* incremental: changed runs of one object-sized range separated by at
                         most this many bytes of unchanged blocks are stored as one object
                         that covers the gap (its bytes are read from the volume: they are
                         the parent's). Fewer objects, more bytes stored
                         (cb_progress.bytes_coalesced); Cinder restores them as any other.
                         -1 (CB_BACKUP_OPTS_INIT): the store's default
                         (cb_store_info.default_coalesce); 0: none, Cinder's own layout */
} cb_backup_opts;

#define CB_BACKUP_OPTS_INIT                                                                        \
    {                                                                                              \
        .version = CB_BACKUP_OPTS_VERSION, .volume_fd = -1, .coalesce = -1                         \
    }

/**
 * Back up the volume at `volume_path` (a regular file or a block device).
 *
 * Streams: `volume_path` "-" reads the volume from opts->stream_fd (standard input by
 * default), "/dev/stdin" from descriptor 0 and "/dev/fd/N" from N: a pipe, FIFO, socket or
 * anything read(2) can read, in order, never seeked. Its size is opts->stream_size exactly
 * (a short or a longer stream is CB_ESOURCE), or without it what comes before EOF; an
 * incremental's stream must then be as long as its parent (checked at the end). No path
 * names a stream: opts->volume_id is required, unless opts->parent_id gives the volume.
 * The same checks and format as a file; memory is a few objects (the objects in flight
 * are held until they are committed), whatever the volume size. Not with resume_id.
 *
 * Without a path (`volume_path` NULL, opts version 3): the volume is opts->volume_pread
 * (version 4: read at offsets through the caller's function, as a file is, opts->volume_size
 * bytes), else opts->volume_read (a stream read through the caller's function) or else
 * opts->volume_fd (a file or device read as a path is, or a pipe or socket read as a
 * stream); see the fields. opts->volume_id is
 * then required, unless opts->parent_id gives the volume.
 *
 * An empty volume (0 bytes) is backed up as Cinder backs it up: no data object,
 * "objects": [] in _metadata and "sha256s": [] in _sha256file; it restores as an empty file.
 *
 * NBD (opts version 5): a `volume_path` that is an NBD URI (cb_volume_is_nbd) is an NBD
 * export, read through libnbd at offsets with several connections, its zero ranges
 * (base:allocation) not read, and with opts->dirty_bitmap only the blocks the bitmap marks
 * dirty; the URI is its canonical path (the default volume id is derived from it). A build
 * without libnbd refuses it (CB_ENOTSUPP). The export must not change during the backup:
 * back up a snapshot, or a read-only export of a stopped guest.
 *
 * @param out  set to the new backup's description (free with cb_backup_info_free), or NULL
 * @return 0; CB_EINVAL for bad options (named); CB_EIO for an unreadable volume;
 *         CB_ECANCELED when cancelled (what was written is removed); a store error.
 *         On failure nothing that looks like a backup remains. With opts->dry_run the
 *         store is only read, and `out` describes the backup that was not made.
 */
CB_EXTERN int cb_backup(cb_store *store,
                        const char *volume_path,
                        const cb_backup_opts *opts,
                        cb_backup_info **out,
                        cb_error *err);

/** 1 if cb_backup() takes `volume_path` for an NBD URI (nbd:, nbds:, nbd+unix:, nbds+unix:,
 *  nbd+vsock:, nbds+vsock:), whether or not this build can read one. */
CB_EXTERN int cb_volume_is_nbd(const char *volume_path);

#define CB_RESTORE_OPTS_VERSION                                                                    \
    4 /* 4: target_pwrite, target_flush; 3: target_fd, target_write, target_zeroed; 1 (it          \
         replaces existing files), 2 and 3 are still accepted */

typedef struct cb_restore_opts {
    unsigned int version; /* CB_RESTORE_OPTS_VERSION */
    int sparse;           /* 1: a new regular file target keeps all-zero ranges as holes */
    int threads;          /* 0: online CPUs */
    cb_progress_fn progress;
    void *progress_payload;
    cb_cancel_fn cancel;
    void *cancel_payload;
    int verify; /* 1: once committed, read the target back from the disk (its pages dropped
                   from the page cache first) and compare every sha block with the backup's
                   _sha256file */
    /* version 2 */
    int overwrite; /* 1: replace an existing regular file; 0: CB_EEXISTS naming it (a
                      version 1 struct always replaces, as it did) */
    /* version 3: the target without a path (cb_restore's `target` NULL) */
    int target_fd; /* target NULL and target_write NULL: write into this open descriptor (-1 in
                      CB_RESTORE_OPTS_INIT: none, CB_EINVAL). It is not closed, and its offset
                      is neither used nor moved (the library writes through a duplicate with
                      pwrite). It must be open for writing, not O_APPEND (CB_EINVAL).
                      A block device: written in place (O_DIRECT as for a path); it must hold
                      the volume (CB_EINVAL naming its size otherwise).
                      A regular file: written in place, extended to the volume size if shorter
                      (ftruncate up, never down); what lies beyond its size when the restore
                      starts reads as zeros, so all-zero ranges there are not written. No
                      temporary file and no rename (the caller owns the file).
                      Both: each object is verified in memory before it is written, and the
                      target is flushed (fdatasync) before success.
                      A pipe, socket or character device: written in order as a stream (like
                      target "-"; target_zeroed then does not apply). */
    long long (*target_write)(void *payload, const void *buf, size_t len, uint64_t offset);
    /* target NULL: every byte of the volume goes through this, in volume order (offset =
       where buf goes, strictly increasing, contiguous), at most 4 MiB a call, from one library
       thread, one call at a time: return len, or < 0 for a failure (-errno if known) ->
       CB_EIO naming the offset; the restore then stops. Verified before any of it is
       written, like a stream. With target_zeroed, ranges that are all zero may be skipped
       (offset then jumps: the callee seeks). */
    void *target_write_payload;
    int target_zeroed; /* 1: the target already reads as zeros (a new volume: Cinder's
                          volume_is_new): all-zero ranges are not written, for a block device
                          or target_write too. 0: every byte is written, except where the rule
                          above says a regular file's bytes are zeros already. */
    /* version 4: a target written at offsets through the caller (target NULL; it wins over
     * target_write and target_fd). Written as a block device is: objects in any order as they
     * are verified, by several workers at once, memory bounded whatever the object size (an
     * object larger than the workers' buffers is verified in a first pass and written in a
     * second, as for a device); no O_DIRECT, no fdatasync (target_flush instead).
     * opts->verify and opts->sparse: CB_EINVAL. target_zeroed applies: with it, all-zero
     * ranges are not passed. */
    long long (*target_pwrite)(void *payload, const void *buf, size_t len, uint64_t offset);
    /* write len bytes at offset (at most 4 MiB a call), in any order, possibly from several
     * library threads at once (the callee serialises if it must): return len, or < 0 (-errno
     * if known) -> CB_EIO naming the offset; the restore then stops. Each object is verified
     * before any of its bytes are passed. */
    void *target_pwrite_payload;
    int (*target_flush)(void *payload); /* with target_pwrite, or NULL: called once at the end,
                                           from the caller's thread, after every write
                                           succeeded (< 0 -> CB_EIO); the payload is
                                           target_pwrite_payload */
} cb_restore_opts;

#define CB_RESTORE_OPTS_INIT                                                                       \
    {                                                                                              \
        .version = CB_RESTORE_OPTS_VERSION, .target_fd = -1                                        \
    }

/**
 * Restore backup `backup_id` (with its chain of parents) into `target`: a regular file
 * (created or truncated to the volume size) or a block device (at least that large; never
 * truncated). `target` "-" or "/dev/stdout" writes the volume to standard output ("/dev/fd/N"
 * to descriptor N), in order: each object is verified before any of its bytes are written,
 * but on a failure the bytes already written cannot be taken back: the reader of the
 * stream must check the result. opts->sparse and opts->verify do not apply (CB_EINVAL). Every
 * object's length and MD5 are verified before its bytes are written. With opts->verify, the
 * committed target is then read back from the disk and every sha block compared with the backup's
 * _sha256file, streamed (any volume size); where that list cannot be used, a full backup's objects
 * are compared with their MD5s instead, and a chain cannot be verified (CB_ECORRUPT saying so). A
 * difference is CB_ECORRUPT naming the offset of the first differing block; the target stays as
 * written.
 * A new file gets mode 0644 less the umask; a replaced one keeps its mode. A block device
 * is opened O_EXCL: one that is mounted or otherwise in use is refused (CB_EINUSE).
 *
 * Without a path (opts version 3, `target` NULL): opts->target_pwrite (version 4), a callback
 * that takes the volume's bytes at offsets, in any order, from several threads, as a block
 * device is written (memory bounded whatever the object size; opts->target_flush once at the
 * end; opts->sparse and opts->verify: CB_EINVAL); else opts->target_write, a callback that
 * takes the volume's bytes in order as a stream does (a reorder window of whole objects;
 * opts->sparse and opts->verify: CB_EINVAL);
 * or else opts->target_fd, an open descriptor: a block device or regular file written in
 * place (no temporary file; opts->sparse allowed for a regular file: the part beyond its
 * starting size is not reserved and its zeros stay holes; opts->verify reads it back), a
 * pipe or socket written as a stream. opts->target_zeroed says the target reads as zeros
 * already, so all-zero ranges are not written. A 0-byte backup writes nothing and succeeds.
 * opts->cancel is polled at least every 200 ms: a cancelled restore returns CB_ECANCELED
 * within about a second (a callback in progress is waited for).
 * @return 0; CB_ENOTFOUND for an unknown backup; CB_ECORRUPT for a bad or damaged backup
 *         (the message names the object); CB_EINVAL for a target that is too small;
 *         CB_EEXISTS for an existing regular file without opts->overwrite; CB_EINUSE for
 *         a block device in use; CB_EIO for a failed write (a target_pwrite or
 *         target_write that returned < 0, a target_flush that did); CB_ECANCELED when cancelled (a
 * target in place keeps what was written).
 */
CB_EXTERN int cb_restore(cb_store *store,
                         const char *backup_id,
                         const char *target,
                         const cb_restore_opts *opts,
                         cb_error *err);

/**
 * Every backup in the store (optionally only of `volume_id`), oldest first.
 * @param out    a new array of `*n_out` entries; free with cb_backup_info_free_array()
 */
CB_EXTERN int cb_backup_list(
    cb_store *store, const char *volume_id, cb_backup_info ***out, size_t *n_out, cb_error *err);
CB_EXTERN void cb_backup_info_free_array(cb_backup_info **infos, size_t n);

/**
 * The whole id of the backup that `prefix` names: a whole id (36 characters, any case) or
 * a unique beginning of one, at least 8 characters long, as restic and git take them.
 * A whole id is returned lowercased without looking at the store (the command that uses it
 * says whether it exists); a prefix is looked for among the committed backups of every
 * container (their _metadata objects), so an interrupted backup is not found here.
 *
 * @param full  set to the whole id, lowercase (free with free()); NULL on failure
 * @return 0; CB_EINVAL if `prefix` is not hexadecimal digits and dashes, is shorter than 8
 *         characters, or begins several ids (the message names up to five of them);
 *         CB_ENOTFOUND if no backup id begins with it; or the store's error.
 * Ownership: `*full` is the caller's.
 */
CB_EXTERN int cb_backup_resolve_id(cb_store *store, const char *prefix, char **full, cb_error *err);

/** One backup in full, with its chain length. CB_ENOTFOUND if unknown. */
CB_EXTERN int
cb_backup_show(cb_store *store, const char *backup_id, cb_backup_info **out, cb_error *err);

#define CB_DELETE_CASCADE (1u << 0) /* also delete the backups that depend on it, newest first */

/**
 * Delete a backup: its _metadata first (so a half-deleted backup never looks complete),
 * then everything else under its prefix. CB_ENOTFOUND if unknown; CB_EINUSE if other
 * backups depend on it (named) and CB_DELETE_CASCADE is not given.
 */
CB_EXTERN int
cb_backup_delete(cb_store *store, const char *backup_id, unsigned int flags, cb_error *err);

#define CB_DELETE_DRY_RUN (1u << 1) /* delete nothing, take no lock: say what would go */

/**
 * cb_backup_delete(), and what it deleted: `*deleted_out` is set to a new array of the ids
 * of the backups removed, in the order they were removed (with CB_DELETE_CASCADE the
 * dependants first, `backup_id` last), `*n_out` to their number. Also set on failure: the
 * backups removed before it. Free with cb_backup_ids_free(). `deleted_out` may be NULL.
 * With CB_DELETE_DRY_RUN nothing is deleted and no lock taken: the ids are those that would
 * be, and it fails as the delete would (CB_EINUSE without CB_DELETE_CASCADE when backups
 * depend on it).
 */
CB_EXTERN int cb_backup_delete_ex(cb_store *store,
                                  const char *backup_id,
                                  unsigned int flags,
                                  char ***deleted_out,
                                  size_t *n_out,
                                  cb_error *err);
CB_EXTERN void cb_backup_ids_free(char **ids, size_t n);

/*
 * Retention by policy (restic's `forget --keep-*` followed by its `prune`), per volume, from
 * each backup's created_at (read as UTC when it names no offset; periods are UTC calendar
 * periods, weeks ISO 8601 weeks). Each --keep-X N keeps the newest backup of each of the N
 * newest X periods that have a backup; keep_last the N newest; keep_within those created at
 * most keep_within seconds before the volume's newest; keep_name those whose name matches one
 * of the fnmatch(3) patterns. A backup kept by the policy keeps its whole chain (its parents);
 * a backup is deleted only when no backup that stays depends on it, and dependants go first.
 */
#define CB_PRUNE_OPTS_VERSION 2 /* 2: consolidate ... cancel; 1 is still accepted */

typedef struct cb_prune_opts {
    unsigned int version;  /* CB_PRUNE_OPTS_VERSION */
    const char *volume_id; /* only this volume's backups; NULL: every volume, each separately */
    unsigned keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly;
    int64_t keep_within;           /* seconds; 0: no such rule */
    const char *const *keep_names; /* fnmatch patterns on the backup's name */
    size_t n_keep_names;
    int dry_run; /* decide only: delete nothing, take no lock */
    /* version 2 */
    int consolidate;       /* where the policy keeps backups of a chain but not its full backup, the
                              oldest kept backup of the chain, K, is consolidated into a new full
                              (cb_consolidate) and made an incremental of it (same content), so that
                              the backups below K can go; all before anything is deleted, and a
                              consolidation that fails stops the prune with nothing deleted */
    int threads;           /* a consolidation's threads (0: online CPUs) */
    double leftover_grace; /* then remove crash leftovers (cb_cleanup) older than this many
                              seconds; 0: one hour; < 0: leave them */
    cb_progress_fn progress; /* a consolidation's (phase "consolidate") */
    void *progress_payload;
    cb_cancel_fn cancel;
    void *cancel_payload;
} cb_prune_opts;

#define CB_PRUNE_OPTS_INIT                                                                         \
    {                                                                                              \
        .version = CB_PRUNE_OPTS_VERSION                                                           \
    }

#define CB_PRUNE_KEEP 0
#define CB_PRUNE_DELETE 1
#define CB_PRUNE_CONSOLIDATE 2 /* kept, consolidated into a new full first (opts->consolidate) */

/** One backup of a prune plan. */
typedef struct cb_prune_item {
    char *backup_id;
    char *volume_id;
    char *parent_id;  /* NULL for a full backup */
    char *name;       /* NULL when none */
    char *created_at; /* as recorded */
    int action;       /* CB_PRUNE_KEEP, CB_PRUNE_DELETE or CB_PRUNE_CONSOLIDATE */
    int deleted;      /* 1 once it was removed (never in a dry run) */
    char *new_full;   /* CB_PRUNE_CONSOLIDATE: the synthetic full once made (NULL before) */
    char *reason;     /* "daily 2026-11-30, weekly 2026-W48", "parent of kept <id>",
                         "not kept by the policy", "kept: a kept backup depends on it" */
} cb_prune_item;

/** The plan: every backup in scope, by volume, newest first within each volume. */
typedef struct cb_prune_plan {
    cb_prune_item *items;
    size_t n;
    size_t n_keep, n_delete, n_deleted; /* n_keep counts the consolidated ones too */
    size_t n_consolidate, n_consolidated;
    size_t n_leftovers;        /* leftovers removed (dry run: that would be) */
    uint64_t leftover_objects; /* ... the objects they held */
    int dry_run;
} cb_prune_plan;

/**
 * Decide, and unless opts->dry_run consolidate and delete, under the store's exclusive lock
 * taken once (the plan is made after the lock is taken, from the store as it is then). The
 * consolidations come first (each committed, then its backup moved onto it), then the deletes,
 * dependants first, each backup its _metadata first, so that an interruption leaves every
 * remaining backup restorable (and the rest of a half-deleted one, or of a synthetic full not
 * committed, for `list --incomplete` and `cleanup`); then the leftovers older than the grace
 * period go.
 * @param plan  set to the plan (free with cb_prune_plan_free), also on a failure after the
 *              deleting began: `deleted` says which are gone
 * @return 0; CB_EINVAL for no keep rule (that would delete everything) or a bad option (named);
 *         CB_ELOCKED; the store's error (the deletes done before it are in the plan).
 */
CB_EXTERN int
cb_prune(cb_store *store, const cb_prune_opts *opts, cb_prune_plan **plan, cb_error *err);
CB_EXTERN void cb_prune_plan_free(cb_prune_plan *plan);

/*
 * Consolidation: a new full backup made from the store alone (a synthetic full), whose content
 * is the volume at an existing backup, so that the chain below it can go.
 */
#define CB_CONSOLIDATE_OPTS_VERSION 1

typedef struct cb_consolidate_opts {
    unsigned int version;    /* CB_CONSOLIDATE_OPTS_VERSION */
    const char *name;        /* NULL: the consolidated backup's name */
    const char *description; /* NULL: "synthetic full of backup <id> (<its created_at>)" */
    const char *compression; /* NULL: the chain's (its newest object stored compressed) */
    uint64_t object_size;    /* 0: the store's Cinder default */
    int threads;             /* 0: online CPUs */
    int64_t now;             /* the prefix's time (0: the clock); created_at is the backup's */
    long now_usec;
    int delete_chain;        /* then, under the store's exclusive lock: the backups that depended on
                                the consolidated one become incrementals of the new full, and the
                                consolidated backup and the parents of it that no other backup needs
                                are deleted (newest first) */
    cb_progress_fn progress; /* phase "consolidate", as a backup's; then "delete" */
    void *progress_payload;
    cb_cancel_fn cancel;
    void *cancel_payload;
} cb_consolidate_opts;

#define CB_CONSOLIDATE_OPTS_INIT                                                                   \
    {                                                                                              \
        .version = CB_CONSOLIDATE_OPTS_VERSION                                                     \
    }

/**
 * Write a new full backup of the volume as backup `backup_id` holds it (the newest data of its
 * chain), reading only the store: the chain's objects are decoded as a restore decodes them and
 * backed up through the backup pipeline (parallel, memory bounded whatever the object size),
 * and the SHA-256 of every sha block is compared with `backup_id`'s _sha256file before anything
 * is committed: the new backup's _sha256file holds the same list. It is of the same volume id,
 * sha block size, volume_meta, and created_at (the time its data is from, so retention and
 * incrementals treat it as a backup of then); it is ordinary Cinder format.
 * @param out      the new backup (free with cb_backup_info_free), or NULL
 * @param deleted  with delete_chain: set to a new array of the ids deleted, in order (also on a
 *                 failure after the deleting began); free with cb_backup_ids_free. May be NULL.
 * @return 0; CB_ENOTFOUND; CB_ECORRUPT for a damaged chain or one whose content differs from
 *         its _sha256file (named; nothing committed), or one without a usable _sha256file;
 *         CB_ECANCELED; CB_ELOCKED; a store error.
 */
CB_EXTERN int cb_consolidate(cb_store *store,
                             const char *backup_id,
                             const cb_consolidate_opts *opts,
                             cb_backup_info **out,
                             char ***deleted,
                             size_t *n_deleted,
                             cb_error *err);

/**
 * Cinder's export record of a backup: `service_out` is the driver class path, `url_out`
 * the base64 JSON record that `cinder backup-import` accepts. Free both with free().
 */
CB_EXTERN int cb_backup_export_record(
    cb_store *store, const char *backup_id, char **service_out, char **url_out, cb_error *err);

/**
 * cb_backup_export_record() naming `service` as the driver, in the record and in
 * `service_out`: a Cinder backup driver's class path that writes what this store holds
 * (posix: Cinder's posix, NFS and GlusterFS drivers and cinderblock.cinder's Posix and NFS
 * drivers; swift and s3: Cinder's driver and cinderblock.cinder's). NULL: the store's own
 * (Cinder's driver of its kind). CB_EINVAL naming the ones that may be given otherwise.
 * Cinder's backup-import hands a record only to a service whose configured driver's class
 * path begins with the one the record names.
 */
CB_EXTERN int cb_backup_export_record_as(cb_store *store,
                                         const char *backup_id,
                                         const char *service,
                                         char **service_out,
                                         char **url_out,
                                         cb_error *err);

/**
 * Accept a record exported by Cinder (or by cinderblock): decode it, check that it belongs
 * to this kind of store, and that the backup it names is present and complete.
 * @param out  the backup it names (free with cb_backup_info_free), or NULL
 */
CB_EXTERN int cb_backup_import_record(
    cb_store *store, const char *service, const char *url, cb_backup_info **out, cb_error *err);

/**
 * Tell this store handle where backup `backup_id` is: `container` and `prefix` (Cinder's database
 * holds both: backup.container and backup.service_metadata). Finding that backup afterwards (a
 * restore's chain, an incremental's parent, show, export, verify, delete) reads `<prefix>_metadata`
 * in `container` first instead of searching the store; when it is not there, the store is searched
 * as before (a wrong hint costs one read, never a wrong answer). A later hint for the same id
 * replaces the earlier. Not thread-safe against other calls on the same handle.
 * @return 0; CB_EINVAL for a bad id, no container, or a prefix that is not one of this backup
 *         in the store's Cinder grammar (named); CB_ENOMEM.
 */
CB_EXTERN int cb_backup_hint(cb_store *store,
                             const char *backup_id,
                             const char *container,
                             const char *prefix,
                             cb_error *err);

/**
 * Remove every object under `prefix` in `container`, the _metadata object first (Cinder's
 * delete_backup: its database gives both; the backup may be complete, half-written, cancelled or
 * already gone). No lock is taken and no dependant is searched for: the caller's database decides
 * (Cinder's API refuses to delete a backup others depend on). `prefix` must follow the store's
 * Cinder grammar (never "" or a partial name: CB_EINVAL). Nothing there is not an error.
 * @param removed  set to the number of objects removed (may be NULL)
 */
CB_EXTERN int cb_backup_delete_at(
    cb_store *store, const char *container, const char *prefix, uint64_t *removed, cb_error *err);

/*
 * Verification (restic's `check`, `--read-data`, `--read-data-subset`).
 *
 * The structure check reads only the JSON objects of each backup: its metadata (parsed,
 * version and names checked, its backup_id its own), Cinder's object-list check (no object
 * missing, none stray under the prefix), its chain of parents (present, no loop), its
 * _sha256file (parsed, a sane chunk_size, one entry per sha block of the volume; an
 * incremental with its parent's sha block and no larger than its parent) and that every
 * byte of the volume is in some object of the chain. Reading the data checks every data
 * object too: decoded, its length and MD5 as recorded, and the SHA-256 of every whole sha
 * block in it equal to the entry at that index in its own backup's _sha256file.
 *
 * A failed read or check is tried once more: data garbled or lost in transit is not
 * damage. An object is damaged only when both attempts fail the same way (the same error
 * over the same bytes); one that cannot be read twice is reported as unreadable.
 */

#define CB_VERIFY_OPTS_VERSION 1

typedef struct cb_verify_opts {
    unsigned int version; /* CB_VERIFY_OPTS_VERSION */
    int read_data;        /* 0: the structure only (no data object is read); 1: every object */
    unsigned subset_n;    /* read_data: only part subset_n (1..subset_t) of subset_t ... */
    unsigned subset_t;    /* ... (0: every object). Object "CONTAINER/NAME" is in part
                             1 + FNV-1a-64("CONTAINER/NAME") mod subset_t, so parts 1..t
                             together read every object exactly once */
    int threads;          /* objects read at once (0: online CPUs) */
    /* read_data: called once per data object checked, from any thread but never two at
     * once; `status` is 0 (good), CB_ECORRUPT (damaged) or the error that kept it from
     * being read. The strings are borrowed for the call. */
    void (*on_object)(const char *backup_id, const char *object, int status, void *payload);
    void *on_object_payload;
    cb_progress_fn progress; /* phase "verify": bytes and objects read of those selected */
    void *progress_payload;
    cb_cancel_fn cancel;
    void *cancel_payload;
} cb_verify_opts;

#define CB_VERIFY_OPTS_INIT                                                                        \
    {                                                                                              \
        .version = CB_VERIFY_OPTS_VERSION                                                          \
    }

/** One problem found. */
typedef struct cb_verify_problem {
    char *backup_id; /* the backup it belongs to */
    char *container;
    char *object;  /* the object, or NULL: the backup as a whole (its metadata, its chain) */
    char *message; /* what is wrong: a sentence that does not repeat the object's name */
    int code;      /* CB_ECORRUPT: damage; else the error that kept it from being read */
} cb_verify_problem;

typedef struct cb_verify_report {
    size_t backups;        /* backups checked */
    uint64_t objects;      /* data objects those backups list */
    uint64_t objects_read; /* data objects read (read_data, within the subset) */
    uint64_t bytes;        /* decoded bytes read */
    uint64_t retried;      /* reads that failed once and passed the second time */
    cb_verify_problem *problems;
    size_t n_problems;
    int complete; /* 1: everything asked for was checked (0: stopped by a failure) */
} cb_verify_report;

/**
 * Verify backups `backup_ids` (each with its chain of parents; an object shared by two
 * chains is read once), or with n_ids == 0 every backup in the store. One damaged backup
 * does not stop the others from being checked.
 * @param out  set to the report (free with cb_verify_report_free), also when damage was
 *             found; after a failure that stopped the check it holds what was done (its
 *             `complete` is 0); NULL only when none could be allocated
 * @return 0 when everything checked is good; CB_ECORRUPT when damage was found (err names
 *         the first problem and gives the count); the read error when objects could not be
 *         read (twice) but nothing was damaged; CB_ENOTFOUND for an unknown backup id;
 *         CB_ECANCELED when cancelled; CB_EINVAL for bad options; another cb_status when
 *         the store failed in a way that stopped the check (listing the store).
 * Ownership: the report belongs to the caller.
 */
CB_EXTERN int cb_verify(cb_store *store,
                        const char *const *backup_ids,
                        size_t n_ids,
                        const cb_verify_opts *opts,
                        cb_verify_report **out,
                        cb_error *err);

/** Free a report. Accepts NULL. */
CB_EXTERN void cb_verify_report_free(cb_verify_report *r);

/* ---- crash leftovers ---- */

/** Objects (or a record) in the store that belong to no committed backup. */
typedef struct cb_leftover {
    char *container;
    char *prefix;    /* the backup prefix they share (or the record's name, for a record alone) */
    char *backup_id; /* the backup they were meant for */
    const char *reason; /* static text: why they are leftovers */
    uint64_t objects;   /* objects (the record not counted) */
    uint64_t bytes;     /* bytes they take, as far as the store's listing says */
    int64_t newest; /* last change of the newest of them, seconds since the epoch (-1: unknown) */
    int resumable;  /* an interrupted backup that `backup --resume` can continue */
    int active;     /* its backup holds a live lock: it is running now */
    char **names;   /* the objects themselves (and the record, last, if there is one) */
    size_t n_names;
} cb_leftover;

/** Everything that belongs to no committed backup. @param out  free with cb_leftover_free_array */
CB_EXTERN int cb_leftover_list(cb_store *store, cb_leftover **out, size_t *n_out, cb_error *err);
CB_EXTERN void cb_leftover_free_array(cb_leftover *v, size_t n);

#define CB_CLEANUP_DRY_RUN (1u << 0) /* find what would be removed, remove nothing, no lock */

/**
 * Remove leftovers whose newest object is older than `older_than` seconds (unknown ages only
 * when it is 0), under the store's exclusive lock. Never an object a committed backup's
 * metadata lists, never a running backup's.
 * @param removed  set to what was (or, dry run, would be) removed; NULL to not ask
 */
CB_EXTERN int cb_cleanup(cb_store *store,
                         double older_than,
                         unsigned int flags,
                         cb_leftover **removed,
                         size_t *n_removed,
                         cb_error *err);

/* ---- locks (docs/locks.md) ---- */

/** A lock object found in the store. */
typedef struct cb_lock_info {
    char *name;      /* the lock object, in the store's home container */
    char *host;      /* the host that took it */
    char *command;   /* what it is for: "backup 1234...", "delete ..." */
    int64_t pid;     /* the process on that host */
    int exclusive;   /* 1: exclusive (delete, cleanup), 0: shared (backup, restore, verify) */
    int64_t created; /* seconds since the epoch */
    int64_t expires; /* seconds since the epoch; refreshed while the command runs */
    int stale;       /* expired, or its process (on this host) is gone */
    int unreadable;  /* not a lock document at all: its other fields are empty */
} cb_lock_info;

/** Every lock of the store. @param out  a new array of *n_out; free with cb_lock_info_free_array */
CB_EXTERN int cb_lock_list(cb_store *store, cb_lock_info **out, size_t *n_out, cb_error *err);
CB_EXTERN void cb_lock_info_free_array(cb_lock_info *locks, size_t n);

#define CB_UNLOCK_ALL (1u << 0) /* also locks that look alive: their commands must be gone */

/**
 * Remove stale locks (expired, or of a process of this host that is gone) and unreadable
 * lock objects; with CB_UNLOCK_ALL every lock. A command whose lock was removed notices at
 * its next refresh and stops (CB_ELOCKED).
 * @param removed  set to a new array of what was removed (NULL to not ask), *n_removed long
 */
CB_EXTERN int cb_unlock(
    cb_store *store, unsigned int flags, cb_lock_info **removed, size_t *n_removed, cb_error *err);

#ifdef __cplusplus
}
#endif
#endif
