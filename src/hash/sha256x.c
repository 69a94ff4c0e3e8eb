/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sha256x.c: multi-buffer SHA-256 (FIPS 180-4), one message per 32-bit lane of a 512-bit
 * vector. The rounds are written with GCC's vector extension and built for AVX-512, where
 * the compiler turns the rotations into vprord and the choice and majority functions into
 * vpternlogd; the message words of the sixteen lanes are loaded by a 16 x 16 transposition.
 */
#include <stdint.h>
#include <string.h>

#include "sha256x.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define L CB_SHA256X_LANES
#define SX_TARGET __attribute__((target("avx512f,avx512vl,avx512bw")))

typedef uint32_t v32 __attribute__((vector_size(4 * L)));

static const uint32_t sx_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

static const uint32_t sx_h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* Word k of every lane's block at `off`, big-endian: lane l's block is row l of a 16 x 16
 * matrix of words, and the rounds want its columns. Unpacking pairs of words, then pairs of
 * pairs, gathers four lanes' words within each 128-bit quarter; two shuffles of quarters
 * finish the transposition. */
SX_TARGET static inline void sx_load(v32 w[16], const unsigned char *const p[L], size_t off)
{
    const __m512i bswap = _mm512_set_epi8(
        60, 61, 62, 63, 56, 57, 58, 59, 52, 53, 54, 55, 48, 49, 50, 51, 44, 45, 46, 47, 40, 41, 42,
        43, 36, 37, 38, 39, 32, 33, 34, 35, 28, 29, 30, 31, 24, 25, 26, 27, 20, 21, 22, 23, 16, 17,
        18, 19, 12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    __m512i r[L], t[L], u[L];
    for (int l = 0; l < L; l++)
        r[l] = _mm512_shuffle_epi8(_mm512_loadu_si512((const void *)(p[l] + off)), bswap);
    for (int i = 0; i < L; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < L; i += 4) { /* u[i + j]: words j, 4 + j, 8 + j, 12 + j of lanes i..i+3 */
        u[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int j = 0; j < 4; j++) {
        __m512i v0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x44);
        __m512i v1 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xee);
        __m512i v2 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x44);
        __m512i v3 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xee);
        __m512i o[4] = { _mm512_shuffle_i32x4(v0, v2, 0x88), _mm512_shuffle_i32x4(v0, v2, 0xdd),
                         _mm512_shuffle_i32x4(v1, v3, 0x88), _mm512_shuffle_i32x4(v1, v3, 0xdd) };
        for (int q = 0; q < 4; q++)
            memcpy(&w[4 * q + j], &o[q], sizeof(o[q]));
    }
}

/* `n` blocks of every lane into the state s[8]. */
SX_TARGET static void sx_run(uint32_t s[8][L], const unsigned char *const p[L], size_t n)
{
    v32 h[8];
    memcpy(h, s, sizeof(h));
    for (size_t blk = 0; blk < n; blk++) {
        v32 w[64];
        sx_load(w, p, blk * 64);
        for (int i = 16; i < 64; i++) {
            v32 s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
            v32 s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        v32 a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (int i = 0; i < 64; i++) {
            v32 t1 =
                hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + sx_k[i] + w[i];
            v32 t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            hh = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
    }
    memcpy(s, h, sizeof(h));
}

int cb__sha256x_usable(void)
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw");
}

void cb__sha256x(const unsigned char *const msg[], size_t n, size_t len, unsigned char *const out[])
{
    const unsigned char *p[L];
    unsigned char pad[L][128];
    uint32_t s[8][L];
    size_t tail = len % 64, blocks = tail < 56 ? 1 : 2;
    uint64_t bits = (uint64_t)len * 8;
    for (int l = 0; l < L; l++) /* the lanes past n hash msg[0] again, unused */
        p[l] = msg[(size_t)l < n ? l : 0];
    for (int i = 0; i < 8; i++)
        for (int l = 0; l < L; l++)
            s[i][l] = sx_h0[i];
    sx_run(s, p, len / 64);
    for (int l = 0; l < L; l++) { /* the last partial block, 0x80, zeros, the length */
        memset(pad[l], 0, sizeof(pad[l]));
        memcpy(pad[l], p[l] + len - tail, tail);
        pad[l][tail] = 0x80;
        for (int i = 0; i < 8; i++)
            pad[l][blocks * 64 - 1 - i] = (unsigned char)(bits >> (8 * i));
        p[l] = pad[l];
    }
    sx_run(s, p, blocks);
    for (size_t l = 0; l < n; l++)
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 4; j++)
                out[l][4 * i + j] = (unsigned char)(s[i][l] >> (24 - 8 * j));
}

#else /* not x86-64 with GCC: callers use OpenSSL */

int cb__sha256x_usable(void)
{
    return 0;
}

void cb__sha256x(const unsigned char *const msg[], size_t n, size_t len, unsigned char *const out[])
{
    (void)msg, (void)n, (void)len, (void)out;
}

#endif
