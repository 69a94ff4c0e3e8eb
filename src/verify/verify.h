/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify.h: what the structure check (verify.c) and the reading of the data
 * (verify_data.c) share: one node per backup checked, and the report being filled.
 */
#ifndef CB_CORE_VERIFY_H
#define CB_CORE_VERIFY_H

#include <pthread.h>

#include "../catalog/catalog.h"

#define CB_VF_NONE ((size_t)-1)
#define CB_VF_MAX_BLOCK (1ull << 30) /* a larger chunk_size is not a sha block size */

typedef struct cb_vf_node {
    cb_found where;
    cb_meta meta;
    int meta_ok;    /* parsed and passed cb__meta_check: its objects can be read */
    int list_ok;    /* its _sha256file parsed, with a sane chunk_size */
    uint64_t block; /* that chunk_size */
    uint64_t count; /* and its number of entries */
    int size_state; /* 0: not yet known, 1: being computed, 2: known, 3: cannot be known */
    uint64_t size;  /* the volume size at this backup, once known */
    size_t parent;  /* the parent's node, or CB_VF_NONE (a full backup, or not found) */
} cb_vf_node;

typedef struct cb_vf {
    cb_store *store;
    const cb_verify_opts *opts;
    cb_verify_report *rep;
    cb_vf_node *nodes; /* the backups checked: those asked for first, then their parents */
    size_t n, cap;
    uint64_t sha_hold;    /* a backup's hashes up to this many bytes are held, else streamed */
    pthread_mutex_t lock; /* guards rep while the data is read by several threads */
    struct cb_lock *store_lock; /* the store's shared lock */
} cb_vf;

/* CB_ECANCELED when the caller's cancel hook says so, CB_ELOCKED when the store's lock was
 * lost; else 0. */
int cb__vf_stopped(const cb_vf *v, cb_error *err);

#define CB_VF_SHA_HOLD (64ull << 20) /* restore's rule (restore_sha.h) */

/* cb_verify() with the holding rule as a parameter, so that tests can take the streaming
 * path without a 64 GiB volume. */
int cb__verify(cb_store *store,
               const char *const *backup_ids,
               size_t n_ids,
               const cb_verify_opts *opts,
               uint64_t sha_hold,
               cb_verify_report **out,
               cb_error *err);

/* Record a problem of node `nd` (object NULL: the backup as a whole). 0 or CB_ENOMEM. */
int cb__vf_problem(
    cb_vf *v, const cb_vf_node *nd, const char *object, int code, const char *msg, cb_error *err);

/* Whether a problem of the backup as a whole already names `object` (the object-list check
 * reports a missing object; reading it must not report it a second time). */
int cb__vf_named(const cb_vf *v, const cb_vf_node *nd, const char *object);

/* verify_chain.c: the rules between each backup and its parents, once all were read. */
int cb__vf_check_chains(cb_vf *v, cb_error *err);

/* Which part (1..t) of a subset of t parts the object belongs to. */
unsigned cb__vf_part(const char *container, const char *name, unsigned t);

/* Read and check every data object of the nodes (within the subset), with the threads of
 * the options; damage and unreadable objects become problems. Returns 0 once everything
 * was read, or the failure that stopped it (cancelled, out of memory). */
int cb__vf_read_data(cb_vf *v, cb_error *err);

#endif
