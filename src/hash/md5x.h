/* SPDX-License-Identifier: Apache-2.0 */
/*
 * md5x.h: up to CB_MD5X_LANES independent MD5s computed side by side (multi-buffer).
 *
 * The format needs an MD5 of every object, and one MD5 is a strict chain of dependent
 * additions: a core does about 600 MB/s with OpenSSL, while the vector units sit idle.
 * Computing eight objects' MD5s at once in the lanes of one vector register does about
 * four times that on the same core. No Debian library offers this (ISA-L's crypto half,
 * which does, is not packaged), so it is written here, and tested against OpenSSL.
 */
#ifndef CB_CORE_MD5X_H
#define CB_CORE_MD5X_H

#include <stddef.h>
#include <stdint.h>

#define CB_MD5X_LANES 8

typedef struct cb_md5x {
    uint32_t st[4][CB_MD5X_LANES];         /* A, B, C, D of each lane */
    unsigned char tail[CB_MD5X_LANES][64]; /* bytes short of a whole block */
    size_t tail_len[CB_MD5X_LANES];
    uint64_t total[CB_MD5X_LANES]; /* bytes fed so far */
} cb_md5x;

/* The builds of the rounds, each used where the CPU has what it needs. */
enum { CB_MD5X_BUILD_PORTABLE, CB_MD5X_BUILD_AVX2, CB_MD5X_BUILD_AVX512, CB_MD5X_BUILD_BEST };

/* Start lane `lane` afresh; the other lanes keep their state. */
void cb__md5x_reset(cb_md5x *x, unsigned lane);

/* Feed `len[i]` bytes at `data[i]` to each lane i (0 leaves a lane as it is). The lanes
 * run in step as far as their lengths agree, so equal lengths are the fast case. */
void cb__md5x_update(cb_md5x *x,
                     const unsigned char *const data[CB_MD5X_LANES],
                     const size_t len[CB_MD5X_LANES]);

/* The MD5 of everything fed to `lane` since its reset. */
void cb__md5x_final(cb_md5x *x, unsigned lane, unsigned char out[16]);

/* The same two with the rounds of at most build `max_build` (a CB_MD5X_BUILD_*), so that
 * tests run the lesser builds on a CPU that has more; the two above use the best. A lane's
 * state is the same whichever build computed it. */
void cb__md5x_update_with(cb_md5x *x,
                          const unsigned char *const data[CB_MD5X_LANES],
                          const size_t len[CB_MD5X_LANES],
                          int max_build);
void cb__md5x_final_with(cb_md5x *x, unsigned lane, unsigned char out[16], int max_build);

#endif
