/* SPDX-License-Identifier: Apache-2.0 */
/* verify_object.h: checking one data object, read twice if need be (verify --read-data). */
#ifndef CB_CORE_VERIFY_OBJECT_H
#define CB_CORE_VERIFY_OBJECT_H

#include "verify.h"
#include "../hash/hash.h"
#include "../catalog/catalog.h"

#define CB_VD_SLICE_MAX (16ull << 20) /* hashes of one object at most; more: MD5 only */

struct vd_shared; /* verify_data.c */

/* What a worker reports to verify_data.c, called back (so that neither file needs the
 * other's functions): CB_ECANCELED once the workers must stop; decoded bytes, for
 * progress. */
typedef struct cb_vd_hooks {
    int (*tick)(struct vd_shared *sh, cb_error *err);
    void (*bytes)(struct vd_shared *sh, uint64_t n);
} cb_vd_hooks;

/* One object, as handed to a worker. */
typedef struct cb_vd_job {
    const cb_vf_node *nd;
    const cb_meta_object *o;
    uint64_t first; /* the first sha block wholly inside the object */
    uint64_t k;     /* blocks from there checked against the list (0: none) */
} cb_vd_job;

typedef struct cb_vd_worker {
    struct vd_shared *sh;
    const cb_vd_hooks *hooks;
    cb_store *store;
    pthread_t thread;
    cb_objread rd;
    cb_digest dg;
    uint64_t dg_block;     /* the sha block `dg` and `run` are made for (0: none yet) */
    unsigned char *hashes; /* the job's entries of the list, 32 bytes each */
    size_t hashes_cap;     /* in bytes */
    unsigned char *run;    /* whole blocks gathered to be hashed together */
    size_t run_cap;        /* bytes: a whole number of blocks */
} cb_vd_worker;

typedef struct cb_vd_verdict {
    int status;     /* 0, CB_ECORRUPT (damaged) or the error that kept it from being read */
    int retried;    /* the first reading failed, the second passed */
    char msg[1024]; /* what is wrong */
} cb_vd_verdict;

/* The blocks of `o` to check: those wholly inside it, when `with_list`. */
void cb__vd_job_init(cb_vd_job *j, const cb_vf_node *nd, const cb_meta_object *o, int with_list);

int cb__vd_worker_init(cb_vd_worker *w,
                       struct vd_shared *sh,
                       const cb_vd_hooks *hooks,
                       cb_store *store,
                       cb_error *err);
void cb__vd_worker_dispose(cb_vd_worker *w);

/* Room in w->hashes for the job's entries. */
int cb__vd_worker_reserve(cb_vd_worker *w, const cb_vd_job *j, cb_error *err);

/* Read and check the object (w->hashes holds its entries). 0 with the verdict, or a
 * failure that stops everything (cancelled, out of memory). */
int cb__vd_check(cb_vd_worker *w, const cb_vd_job *j, cb_vd_verdict *out, cb_error *err);

#endif
