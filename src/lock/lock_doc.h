/* SPDX-License-Identifier: Apache-2.0 */
/* lock_doc.h: one lock object's content, and finding the locks of a store (lock.h). */
#ifndef CB_CORE_LOCK_DOC_H
#define CB_CORE_LOCK_DOC_H

#include <stdint.h>

#include "lock.h"
#include "../util/util.h"

#define CB_LOCK_CLAIM CB_LOCK_PREFIX "exclusive"
#define CB_LOCK_MAX_DOC 65536 /* a lock object larger than this is not one of ours */

typedef struct cb_lock_doc {
    char id[17]; /* 16 hex digits: the lock object's name is <s|x>-<id> */
    int exclusive;
    char host[256];
    int64_t pid;
    uint64_t pid_start; /* the process's start time (/proc/PID/stat), 0 if unknown */
    char command[256];
    int64_t created, refreshed, expires; /* seconds since the epoch */
} cb_lock_doc;

/* This process's lock: a fresh id, host, PID, command, times from now. */
int cb__lock_doc_new(cb_lock_doc *d,
                     cb_store *store,
                     int exclusive,
                     const char *command,
                     const char *what,
                     cb_error *err);

/* The object name of a lock: cinderblock/locks/<s|x>-<id>. */
void cb__lock_doc_name(const cb_lock_doc *d, char out[64]);

/* Write (exclusive: create only; CB_EEXISTS if present, CB_ENOTSUPP if the store cannot)
 * and read lock objects in the home container. */
int cb__lock_doc_put(cb_store *store,
                     const char *home,
                     const char *name,
                     const cb_lock_doc *d,
                     int exclusive,
                     cb_error *err);
int cb__lock_doc_get(
    cb_store *store, const char *home, const char *name, cb_lock_doc *d, cb_error *err);

/* Expired, or held by a process of this host that is gone (or whose PID now belongs to a
 * process started later). */
int cb__lock_doc_stale(const cb_lock_doc *d, const char *my_host, int64_t now);

/* The names of every lock object (the claim included), into `out` (its err set); free
 * with cb__strv_dispose. */
int cb__lock_names(cb_store *store, const char *home, cb_strv *out, cb_error *err);

#endif
