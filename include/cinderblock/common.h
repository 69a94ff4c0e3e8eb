/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cinderblock/common.h: visibility macro, status codes and the error record.
 *
 * Every fallible function in libcinderblock returns 0 or a negative cb_status and takes a
 * `cb_error *err` as its last parameter. The first failure fills `err` (code, errno or HTTP
 * status, text with context: path, object name, offset); callers pass it up unchanged, so
 * the first error wins. There is no thread-local "last error": failures happen on worker
 * threads and travel with the job that saw them.
 */
#ifndef CINDERBLOCK_COMMON_H
#define CINDERBLOCK_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CB_EXTERN __attribute__((visibility("default")))
#define CB_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CB_EXTERN
#define CB_PRINTF(fmt, args)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Status codes; docs/errors.md lists the same set (a test keeps them in step). */
typedef enum cb_status {
    CB_OK = 0,
    CB_ERROR = -1,     /* generic failure */
    CB_ENOTFOUND = -2, /* object, container or backup does not exist */
    CB_EEXISTS = -3,   /* something that must be new already exists */
    CB_EIO = -4,       /* local I/O error (errno in cb_error.sys_errno) */
    CB_ENET = -5,      /* network error or timeout; retryable */
    CB_EHTTP = -6,     /* the server answered with an unexpected HTTP status */
    CB_ECORRUPT = -7,  /* stored data fails verification or cannot be parsed */
    CB_ECANCELED = -8, /* stopped by the caller's cancel hook */
    CB_ENOTSUPP = -9,  /* the store or format does not support this */
    CB_EINVAL = -10,   /* bad argument or option (named in the message) */
    CB_EAUTH = -11,    /* authentication or authorisation refused */
    CB_ENOMEM = -12,   /* allocation failed */
    CB_EINUSE = -13,   /* refused because something depends on it */
    CB_ELOCKED = -14,  /* a lock held by another command is in the way */
    CB_ESOURCE = -15,  /* the volume being backed up could not be read, or changed */
    CB_ITEROVER = -31  /* not an error: an iteration is finished */
} cb_status;

/** The error record. Zero-initialise it (or cb_error_clear) before use. */
typedef struct cb_error {
    int code;         /* a cb_status, 0 while nothing has failed */
    int sys_errno;    /* errno of the failing system call, or 0 */
    long http_status; /* the HTTP status of the answer that failed, or 0 */
    char msg[1024];
} cb_error;

/**
 * Record a failure. Does nothing if `err` already holds one (the first error wins), or if
 * `err` is NULL.
 * @return `code`, so that callers can write `return cb_error_set(err, CB_EINVAL, ...)`.
 */
CB_EXTERN int cb_error_set(cb_error *err, int code, const char *fmt, ...) CB_PRINTF(3, 4);

/** Like cb_error_set(), appending ": <strerror(errnum)>" and keeping errnum. */
CB_EXTERN int cb_error_set_sys(cb_error *err, int code, int errnum, const char *fmt, ...)
    CB_PRINTF(4, 5);

/** Forget a recorded failure. */
CB_EXTERN void cb_error_clear(cb_error *err);

/** A constant name for a status code ("CB_ENOTFOUND"), or "CB_UNKNOWN". */
CB_EXTERN const char *cb_status_name(int code);

#ifdef __cplusplus
}
#endif
#endif
