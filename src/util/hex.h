/* SPDX-License-Identifier: Apache-2.0 */
/* hex.h: bytes as lowercase hex digits and back (digests in JSON, ETags, names). */
#ifndef CB_UTIL_HEX_H
#define CB_UTIL_HEX_H

#include <stddef.h>

/* Lowercase hex of `n` bytes into `out` (2n+1 bytes, NUL-terminated). */
void cb__hex(char *out, const unsigned char *in, size_t n);

/* Parse 2n hex digits (either case); -1 if malformed. */
int cb__unhex(unsigned char *out, const char *in, size_t n);

#endif
