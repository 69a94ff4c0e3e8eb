/* SPDX-License-Identifier: Apache-2.0 */
/* digest.h: SHA-256 of sha blocks (all-zero blocks cost nothing) and MD5 of objects. */
#ifndef CB_CORE_DIGEST_H
#define CB_CORE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "cinderblock/common.h"

typedef struct cb_digest {
    void *sha;                  /* EVP_MD_CTX for SHA-256 */
    void *md5;                  /* EVP_MD_CTX for MD5 */
    unsigned char zero_sha[32]; /* SHA-256 of `zero_len` zero bytes */
    size_t zero_len;            /* the sha block size */
    int lanes;                  /* multi-buffer SHA-256 usable (sha256x.h) */
} cb_digest;

/* One per thread. `sha_block`: the block size whose all-zero hash is precomputed. */
int cb__digest_init(cb_digest *d, size_t sha_block, cb_error *err);
void cb__digest_dispose(cb_digest *d);

/* SHA-256 of one block; an all-zero block of the sha block size is not hashed at all. */
void cb__digest_sha256(cb_digest *d, const void *data, size_t len, unsigned char out[32]);

/* The same for `n` blocks of `len` bytes each, one after another at `data`, into
 * out + 32 i: the non-zero ones are hashed sixteen at a time where the CPU can. */
void cb__digest_sha256_blocks(
    cb_digest *d, const unsigned char *data, size_t len, size_t n, unsigned char *out);

/* Streaming MD5 of an object. */
void cb__digest_md5_begin(cb_digest *d);
void cb__digest_md5_update(cb_digest *d, const void *data, size_t len);
void cb__digest_md5_end(cb_digest *d, unsigned char out[16]);

/* 1 if all `len` bytes are zero (word at a time, stops at the first non-zero). */
int cb__is_zero(const void *data, size_t len);

#endif
