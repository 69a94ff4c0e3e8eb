/* SPDX-License-Identifier: Apache-2.0 */
/* hex.h: bytes as hex digits and back (digests in JSON, ETags, names, percent-encoding). */
#ifndef CB_UTIL_HEX_H
#define CB_UTIL_HEX_H

#include <stddef.h>

/* Lowercase hex of `n` bytes into `out` (2n+1 bytes, NUL-terminated). */
void cb__hex(char *out, const unsigned char *in, size_t n);

/* The 2n digits alone, without a NUL, lowercase or (`upper`) uppercase: percent-encoding
 * writes "%2F" inside a longer string, and RFC 3986 §2.1 prefers upper case there. */
void cb__hex_digits(char *out, const unsigned char *in, size_t n, int upper);

/* Parse 2n hex digits (either case); -1 if malformed. */
int cb__unhex(unsigned char *out, const char *in, size_t n);

#endif
