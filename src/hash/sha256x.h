/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sha256x.h: up to CB_SHA256X_LANES SHA-256s of equal-length messages computed side by
 * side, one per lane of an AVX-512 register (multi-buffer).
 *
 * Every sha block of a backup is hashed on its own, so the blocks of a piece are sixteen
 * independent messages at a time. With SHA-NI, OpenSSL does about 1.7 GB/s on a core here;
 * sixteen lanes do about 2.5 GB/s. No Debian library offers multi-buffer SHA-256 (ISA-L's
 * crypto half is not packaged), so it is written here and tested against OpenSSL. Where
 * the CPU lacks AVX-512, cb__sha256x_usable() is 0 and callers use OpenSSL.
 */
#ifndef CB_CORE_SHA256X_H
#define CB_CORE_SHA256X_H

#include <stddef.h>

#define CB_SHA256X_LANES 16

/* 1 if this CPU runs the lanes (AVX-512 F, VL and BW). */
int cb__sha256x_usable(void);

/* out[i] = SHA-256 of the `len` bytes at msg[i], for i < n (1 <= n <= 16). Only where
 * cb__sha256x_usable(). */
void cb__sha256x(const unsigned char *const msg[],
                 size_t n,
                 size_t len,
                 unsigned char *const out[]);

#endif
