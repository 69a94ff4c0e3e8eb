/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cinderblock/cb.h: the whole public API of libcinderblock.
 *
 * libcinderblock makes chunked, incremental backups of block volumes (disk images, block
 * devices) into object stores, in OpenStack Cinder's chunked-backup format 1.0.0.
 *   common.h   status codes and the cb_error record
 *   store.h    object stores chosen by URL (posix directory, Swift, S3)
 *   backup.h   backup, restore, list, show, delete, export and import records
 *   image.h    a backup read as a disk image at any offset, verified (the nbdkit plugin's)
 */
#ifndef CINDERBLOCK_CB_H
#define CINDERBLOCK_CB_H

#include "common.h"
#include "store.h"
#include "backup.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The library's version, "MAJOR.MINOR.PATCH". */
CB_EXTERN const char *cb_version_string(void);

#ifdef __cplusplus
}
#endif
#endif
