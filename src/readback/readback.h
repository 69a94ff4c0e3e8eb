/* SPDX-License-Identifier: Apache-2.0 */
/*
 * readback.h: a backup's content read back from the store, for whoever checks or uses it
 * (restore, verify, resume, measuring objects): one data object fetched and decoded
 * (objread.h), and a backup's _sha256file as a stream of digests (hashes.h).
 */
#ifndef CB_READBACK_READBACK_H
#define CB_READBACK_READBACK_H

#include "hashes.h"
#include "objread.h"

#endif
