/* SPDX-License-Identifier: Apache-2.0 */
/*
 * md5x.c: multi-buffer MD5 (RFC 1321), one message per lane of a vector of 32-bit words.
 *
 * The rounds are written once with GCC's vector extension, which the compiler turns into
 * SSE2, AVX2 or NEON as the target allows. On x86-64 an AVX2 build of the same rounds is
 * chosen at run time; only the loading of message words differs, as a transposition
 * there (AVX2 has no cheap way to gather eight words from eight places). Where AVX-512VL
 * is present, the same source built for it runs about 10 % faster: the compiler turns the
 * rotations into one instruction (vprold) and the round functions into one (vpternlogd).
 */
#include <string.h>

#include "md5x.h"

#define L CB_MD5X_LANES

typedef uint32_t v32 __attribute__((vector_size(4 * L)));

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define MD5X_LE32(w) __builtin_bswap32(w)
#else
#define MD5X_LE32(w) (w)
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#define MD5X_AVX2 1
#include <immintrin.h>
#endif

#define ROTL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define FF(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define GG(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define HH(x, y, z) ((x) ^ (y) ^ (z))
#define II(x, y, z) ((y) ^ ((x) | ~(z)))
#define STEP(f, a, b, c, d, w, k, s) (a) = (b) + ROTL((a) + f((b), (c), (d)) + (w) + (k), s)

/* Four steps of a round: words i, i + d, i + 2d, i + 3d (mod 16), shifts s0..s3. */
#define QUAD(f, m, i, d, k0, k1, k2, k3, s0, s1, s2, s3)                                           \
    do {                                                                                           \
        STEP(f, a, b, c, d_, m[(i)&15], k0, s0);                                                   \
        STEP(f, d_, a, b, c, m[((i) + (d)) & 15], k1, s1);                                         \
        STEP(f, c, d_, a, b, m[((i) + 2 * (d)) & 15], k2, s2);                                     \
        STEP(f, b, c, d_, a, m[((i) + 3 * (d)) & 15], k3, s3);                                     \
    } while (0)

/* The 64 steps on one block of every lane. */
static inline __attribute__((always_inline)) void md5x_compress(v32 s[4], const v32 m[16])
{
    v32 a = s[0], b = s[1], c = s[2], d_ = s[3];
    QUAD(FF, m, 0, 1, 0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 7, 12, 17, 22);
    QUAD(FF, m, 4, 1, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501, 7, 12, 17, 22);
    QUAD(FF, m, 8, 1, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 7, 12, 17, 22);
    QUAD(FF, m, 12, 1, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 7, 12, 17, 22);
    QUAD(GG, m, 1, 5, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 5, 9, 14, 20);
    QUAD(GG, m, 5, 5, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8, 5, 9, 14, 20);
    QUAD(GG, m, 9, 5, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 5, 9, 14, 20);
    QUAD(GG, m, 13, 5, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 5, 9, 14, 20);
    QUAD(HH, m, 5, 3, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 4, 11, 16, 23);
    QUAD(HH, m, 1, 3, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 4, 11, 16, 23);
    QUAD(HH, m, 13, 3, 0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 4, 11, 16, 23);
    QUAD(HH, m, 9, 3, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 4, 11, 16, 23);
    QUAD(II, m, 0, 7, 0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 6, 10, 15, 21);
    QUAD(II, m, 12, 7, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1, 6, 10, 15, 21);
    QUAD(II, m, 8, 7, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 6, 10, 15, 21);
    QUAD(II, m, 4, 7, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391, 6, 10, 15, 21);
    s[0] += a;
    s[1] += b;
    s[2] += c;
    s[3] += d_;
}

/* Word k of each lane's block at `off`, one lane at a time (any target). */
static inline __attribute__((always_inline)) void
md5x_load_words(v32 m[16], const unsigned char *const p[L], size_t off)
{
    for (int k = 0; k < 16; k++)
        for (int l = 0; l < L; l++) {
            uint32_t w;
            memcpy(&w, p[l] + off + 4 * (size_t)k, 4);
            m[k][l] = MD5X_LE32(w);
        }
}

static inline __attribute__((always_inline)) void md5x_state_load(const cb_md5x *x, v32 s[4])
{
    for (int i = 0; i < 4; i++)
        memcpy(&s[i], x->st[i], sizeof(s[i]));
}

/* Only the lanes in `mask` take the new state: the others ran on borrowed data. */
static inline __attribute__((always_inline)) void
md5x_state_store(cb_md5x *x, const v32 s[4], unsigned mask)
{
    for (int i = 0; i < 4; i++)
        for (int l = 0; l < L; l++)
            if (mask & (1u << l))
                x->st[i][l] = s[i][l];
}

typedef void md5x_load_fn(v32 m[16], const unsigned char *const p[L], size_t off);

/* `n` blocks of every lane, loading the words with `load`: the builds below differ only in
 * that, and this is inlined into each with its own target. */
static inline __attribute__((always_inline)) void md5x_run_with(
    md5x_load_fn *load, cb_md5x *x, const unsigned char *const p[L], size_t n, unsigned mask)
{
    v32 s[4], m[16];
    md5x_state_load(x, s);
    for (size_t i = 0; i < n; i++) {
        load(m, p, i * 64);
        md5x_compress(s, m);
    }
    md5x_state_store(x, s, mask);
}

static void md5x_run_generic(cb_md5x *x, const unsigned char *const p[L], size_t n, unsigned mask)
{
    md5x_run_with(md5x_load_words, x, p, n, mask);
}

#ifdef MD5X_AVX2
/* The same words by an 8 x 8 transposition of 32-bit words, per half block. The loops are
 * unrolled so that the transposition stays in registers (-O2 would not: 2.3 GB/s instead
 * of 2.7). */
__attribute__((target("avx2"), always_inline)) static inline void
md5x_load_avx2(v32 m[16], const unsigned char *const p[L], size_t off)
{
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        __m256i r[8], t[8], u[8];
#pragma GCC unroll 8
        for (int l = 0; l < 8; l++)
            r[l] = _mm256_loadu_si256((const __m256i *)(const void *)(p[l] + off + 32 * h));
#pragma GCC unroll 8
        for (int l = 0; l < 8; l += 2) {
            t[l] = _mm256_unpacklo_epi32(r[l], r[l + 1]);
            t[l + 1] = _mm256_unpackhi_epi32(r[l], r[l + 1]);
        }
#pragma GCC unroll 2
        for (int q = 0; q < 2; q++) { /* u[q'] holds words q' and q' + 4 of lanes 0-3 or 4-7 */
            u[4 * q + 0] = _mm256_unpacklo_epi64(t[4 * q], t[4 * q + 2]);
            u[4 * q + 1] = _mm256_unpackhi_epi64(t[4 * q], t[4 * q + 2]);
            u[4 * q + 2] = _mm256_unpacklo_epi64(t[4 * q + 1], t[4 * q + 3]);
            u[4 * q + 3] = _mm256_unpackhi_epi64(t[4 * q + 1], t[4 * q + 3]);
        }
#pragma GCC unroll 4
        for (int w = 0; w < 4; w++) {
            __m256i lo = _mm256_permute2x128_si256(u[w], u[w + 4], 0x20);
            __m256i hi = _mm256_permute2x128_si256(u[w], u[w + 4], 0x31);
            memcpy(&m[8 * h + w], &lo, sizeof(lo));
            memcpy(&m[8 * h + w + 4], &hi, sizeof(hi));
        }
    }
}

__attribute__((target("avx2"))) static void
md5x_run_avx2(cb_md5x *x, const unsigned char *const p[L], size_t n, unsigned mask)
{
    md5x_run_with(md5x_load_avx2, x, p, n, mask);
}

__attribute__((target("avx2,avx512f,avx512vl"))) static void
md5x_run_avx512(cb_md5x *x, const unsigned char *const p[L], size_t n, unsigned mask)
{
    md5x_run_with(md5x_load_avx2, x, p, n, mask);
}
#endif

/* `n` blocks of the lanes in `mask`, with the best build up to `max_build` that the CPU
 * runs; the other lanes' pointers must be readable too. */
static void
md5x_run(cb_md5x *x, const unsigned char *const p[L], size_t n, unsigned mask, int max_build)
{
#ifdef MD5X_AVX2
    if (max_build >= CB_MD5X_BUILD_AVX512 && __builtin_cpu_supports("avx512vl")) {
        md5x_run_avx512(x, p, n, mask);
        return;
    }
    if (max_build >= CB_MD5X_BUILD_AVX2 && __builtin_cpu_supports("avx2")) {
        md5x_run_avx2(x, p, n, mask);
        return;
    }
#else
    (void)max_build;
#endif
    md5x_run_generic(x, p, n, mask);
}

/* Pointers for a run: the lanes outside `mask` borrow the first lane's data. */
static void md5x_borrow(const unsigned char *q[L], const unsigned char *const p[L], unsigned mask)
{
    int first = __builtin_ctz(mask);
    for (int l = 0; l < L; l++)
        q[l] = mask & (1u << l) ? p[l] : p[first];
}

void cb__md5x_reset(cb_md5x *x, unsigned lane)
{
    x->st[0][lane] = 0x67452301;
    x->st[1][lane] = 0xefcdab89;
    x->st[2][lane] = 0x98badcfe;
    x->st[3][lane] = 0x10325476;
    x->tail_len[lane] = 0;
    x->total[lane] = 0;
}

/* Complete the lanes' partial blocks from the new data; run those that fill up. */
static void md5x_top_up(cb_md5x *x, const unsigned char *p[L], size_t left[L], int max_build)
{
    const unsigned char *tails[L], *q[L];
    unsigned full = 0;
    for (int l = 0; l < L; l++) {
        tails[l] = x->tail[l];
        if (left[l] == 0 || x->tail_len[l] == 0)
            continue;
        size_t n = 64 - x->tail_len[l] < left[l] ? 64 - x->tail_len[l] : left[l];
        memcpy(x->tail[l] + x->tail_len[l], p[l], n);
        x->tail_len[l] += n;
        p[l] += n;
        left[l] -= n;
        if (x->tail_len[l] == 64) {
            full |= 1u << l;
            x->tail_len[l] = 0;
        }
    }
    if (full != 0) {
        md5x_borrow(q, tails, full);
        md5x_run(x, q, 1, full, max_build);
    }
}

void cb__md5x_update_with(cb_md5x *x,
                          const unsigned char *const data[CB_MD5X_LANES],
                          const size_t len[CB_MD5X_LANES],
                          int max_build)
{
    const unsigned char *p[L], *q[L];
    size_t left[L];
    for (int l = 0; l < L; l++) {
        p[l] = data[l];
        left[l] = len[l];
        x->total[l] += len[l];
    }
    md5x_top_up(x, p, left, max_build);
    for (;;) { /* whole blocks: all lanes that have some, as far as the shortest goes */
        size_t n = SIZE_MAX;
        unsigned mask = 0;
        for (int l = 0; l < L; l++)
            if (left[l] >= 64) {
                mask |= 1u << l;
                n = left[l] / 64 < n ? left[l] / 64 : n;
            }
        if (mask == 0)
            break;
        md5x_borrow(q, p, mask);
        md5x_run(x, q, n, mask, max_build);
        for (int l = 0; l < L; l++)
            if (mask & (1u << l)) {
                p[l] += n * 64;
                left[l] -= n * 64;
            }
    }
    for (int l = 0; l < L; l++) /* what is left is short of a block; the tail is empty */
        if (left[l] > 0) {
            memcpy(x->tail[l], p[l], left[l]);
            x->tail_len[l] = left[l];
        }
}

void cb__md5x_update(cb_md5x *x,
                     const unsigned char *const data[CB_MD5X_LANES],
                     const size_t len[CB_MD5X_LANES])
{
    cb__md5x_update_with(x, data, len, CB_MD5X_BUILD_BEST);
}

void cb__md5x_final_with(cb_md5x *x, unsigned lane, unsigned char out[16], int max_build)
{
    unsigned char pad[128] = { 0 };
    const unsigned char *q[L];
    size_t n = x->tail_len[lane];
    uint64_t bits = x->total[lane] * 8;
    memcpy(pad, x->tail[lane], n);
    pad[n] = 0x80;
    size_t blocks = n < 56 ? 1 : 2;
    for (int i = 0; i < 8; i++) /* the length in bits, little-endian */
        pad[blocks * 64 - 8 + i] = (unsigned char)(bits >> (8 * i));
    for (int l = 0; l < L; l++)
        q[l] = pad;
    md5x_run(x, q, blocks, 1u << lane, max_build);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (unsigned char)(x->st[i][lane] >> (8 * j));
    cb__md5x_reset(x, lane);
}

void cb__md5x_final(cb_md5x *x, unsigned lane, unsigned char out[16])
{
    cb__md5x_final_with(x, lane, out, CB_MD5X_BUILD_BEST);
}
