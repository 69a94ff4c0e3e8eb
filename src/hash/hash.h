/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hash.h: the digests Cinder's format needs, as fast as this machine allows: SHA-256 of
 * every sha block and MD5 of every object (digest.h), MD5 of eight objects at once in the
 * lanes of a vector (md5x.h), SHA-256 of sixteen blocks at once (sha256x.h).
 */
#ifndef CB_HASH_HASH_H
#define CB_HASH_HASH_H

#include "digest.h"
#include "md5x.h"
#include "sha256x.h"

#endif
