/* SPDX-License-Identifier: Apache-2.0 */
/*
 * util.h: what every layer above uses and that knows nothing of backups: allocation that
 * reports through cb_error (alloc.h), growable buffers (buf.h) and string lists (strv.h),
 * hex digits (hex.h), O_DIRECT writing (dio.h), timed waits (wait.h), thread counts
 * (threads.h).
 */
#ifndef CB_UTIL_UTIL_H
#define CB_UTIL_UTIL_H

#include "alloc.h"
#include "buf.h"
#include "dio.h"
#include "hex.h"
#include "strv.h"
#include "threads.h"
#include "wait.h"

#endif
