/* SPDX-License-Identifier: Apache-2.0 */
/*
 * deflate_walk.c: block and code structure of a raw DEFLATE stream, decoded but not
 * inflated (see deflate_walk.h). Huffman codes are looked up in a table indexed by the
 * next DW_FAST_BITS bits; the rare longer codes are decoded canonically, a bit at a time.
 */
#include <string.h>

#include "deflate_walk.h"

#define DW_FAST_BITS 10
#define DW_MAX_BITS 15
#define DW_MAX_SYMS 288
#define DW_RUN_BITS 11

/* A 64-bit bit buffer, refilled a whole number of bytes at a time. Past the end it is fed
 * zeros, which are counted: a stream that reads more than a few of them is truncated. */
typedef struct {
    const unsigned char *in, *p, *end;
    uint64_t buf;
    unsigned cnt;  /* valid bits in buf */
    unsigned over; /* zero bytes fed past the end */
} dw_bits;

typedef struct {
    uint16_t fast[1u << DW_FAST_BITS]; /* symbol | length << 9; 0: a longer code */
    uint16_t count[DW_MAX_BITS + 1];   /* codes of each length */
    uint16_t symbol[DW_MAX_SYMS];      /* symbols in code order */
} dw_huff;

/* At least 56 valid bits after; 0 once the stream has run well past its end. */
static inline __attribute__((always_inline)) int dw_refill(dw_bits *b)
{
    if (b->end - b->p >= 8) {
        uint64_t w;
        memcpy(&w, b->p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        b->buf |= w << b->cnt;
        b->p += (63 - b->cnt) >> 3;
        b->cnt |= 56;
        return 1;
    }
    for (; b->cnt <= 56; b->cnt += 8) {
        uint64_t byte = 0;
        if (b->p < b->end)
            byte = *b->p++;
        else
            b->over++;
        b->buf |= byte << b->cnt;
    }
    return b->over <= 8;
}

/* Bits consumed so far. */
static inline uint64_t dw_pos(const dw_bits *b)
{
    return (uint64_t)(b->p - b->in + b->over) * 8 - b->cnt;
}

static inline __attribute__((always_inline)) void dw_drop(dw_bits *b, unsigned n)
{
    b->buf >>= n;
    b->cnt -= n;
}

/* n <= 16 bits; the caller has refilled for them. */
static inline __attribute__((always_inline)) unsigned dw_bitsn(dw_bits *b, unsigned n)
{
    unsigned v = (unsigned)(b->buf & ((1u << n) - 1));
    dw_drop(b, n);
    return v;
}

/* Refill, then take n <= 16 bits (for the rarely used header fields). */
static unsigned dw_take(dw_bits *b, unsigned n)
{
    if (b->cnt < n)
        dw_refill(b);
    return dw_bitsn(b, n);
}

static unsigned dw_reverse(unsigned code, unsigned len)
{
    unsigned r = 0;
    for (unsigned i = 0; i < len; i++, code >>= 1)
        r = (r << 1) | (code & 1);
    return r;
}

/* Canonical code from code lengths (RFC 1951 3.2.2); -1 if over-subscribed. Incomplete
 * codes are accepted: an unassigned code fails when it is met. */
static int dw_build(dw_huff *h, const uint8_t *lengths, unsigned n)
{
    uint16_t offs[DW_MAX_BITS + 2];
    int left = 1;
    memset(h->count, 0, sizeof(h->count));
    for (unsigned i = 0; i < n; i++)
        h->count[lengths[i]]++;
    for (unsigned len = 1; len <= DW_MAX_BITS; len++)
        if ((left = 2 * left - h->count[len]) < 0)
            return -1;
    offs[1] = 0;
    for (unsigned len = 1; len < DW_MAX_BITS; len++)
        offs[len + 1] = (uint16_t)(offs[len] + h->count[len]);
    for (unsigned i = 0; i < n; i++)
        if (lengths[i] != 0)
            h->symbol[offs[lengths[i]]++] = (uint16_t)i;
    memset(h->fast, 0, sizeof(h->fast));
    unsigned code = 0, k = 0;
    for (unsigned len = 1; len <= DW_FAST_BITS; len++, code <<= 1)
        for (unsigned c = 0; c < h->count[len]; c++, k++, code++)
            for (unsigned i = dw_reverse(code, len); i < (1u << DW_FAST_BITS); i += 1u << len)
                h->fast[i] = (uint16_t)(h->symbol[k] | len << 9);
    return 0;
}

/* A code longer than the table, from the bits in `w`: walk the lengths (as zlib's puff
 * does). symbol | length << 9, or 0 for no code. Takes no pointer to the bit buffer, so
 * that the buffer can live in registers in the loop that calls this. */
static unsigned dw_decode_slow(uint64_t w, const dw_huff *h)
{
    int code = 0, first = 0, index = 0;
    for (unsigned len = 1; len <= DW_MAX_BITS; len++, w >>= 1) {
        code |= (int)(w & 1);
        int count = h->count[len];
        if (code - count < first)
            return h->symbol[index + (code - first)] | len << 9;
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return 0;
}

/* One symbol, or -1; needs 15 bits in the buffer. */
static inline __attribute__((always_inline)) int dw_decode(dw_bits *b, const dw_huff *h)
{
    unsigned e = h->fast[b->buf & ((1u << DW_FAST_BITS) - 1)];
    if (e == 0 && (e = dw_decode_slow(b->buf, h)) == 0)
        return -1;
    dw_drop(b, e >> 9);
    return (int)(e & 511);
}

/*
 * Literals are most symbols of poorly matching data, and only their number matters here:
 * run[i] says how many literals the bits i begin with (up to 4 whole codes in the
 * DW_RUN_BITS bits), and how many bits they take: count | bits << 4, 0 if none.
 */
static void dw_build_runs(uint16_t *run, const dw_huff *lit)
{
    for (unsigned i = 0; i < (1u << DW_RUN_BITS); i++) {
        unsigned bits = 0, count = 0;
        while (count < 4) {
            unsigned e = lit->fast[(i >> bits) & ((1u << DW_FAST_BITS) - 1)];
            if (e == 0 || (e & 511) >= 256 || bits + (e >> 9) > DW_RUN_BITS)
                break;
            bits += e >> 9;
            count++;
        }
        run[i] = (uint16_t)(count == 0 ? 0 : count | bits << 4);
    }
}

/* Literals and matches up to the end-of-block code; `out` counts decoded bytes. */
static int dw_codes(dw_bits *bits, const dw_huff *lit, const dw_huff *dist, uint64_t *out)
{
    static const uint16_t lbase[29] = { 3,  4,  5,  6,   7,   8,   9,   10,  11, 13,
                                        15, 17, 19, 23,  27,  31,  35,  43,  51, 59,
                                        67, 83, 99, 115, 131, 163, 195, 227, 258 };
    static const uint8_t lext[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
    static const uint16_t dbase[30] = { 1,    2,    3,    4,     5,     7,    9,    13,
                                        17,   25,   33,   49,    65,    97,   129,  193,
                                        257,  385,  513,  769,   1025,  1537, 2049, 3073,
                                        4097, 6145, 8193, 12289, 16385, 24577 };
    static const uint8_t dext[30] = { 0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                      6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };
    uint16_t run[1u << DW_RUN_BITS];
    uint64_t n = *out;
    dw_bits local = *bits, *b = &local; /* in registers */
    dw_build_runs(run, lit);
    for (;;) {
        /* a whole literal or match needs at most 15 + 5 + 15 + 13 bits */
        if (b->cnt < 48 && !dw_refill(b))
            return -1;
        unsigned r = run[b->buf & ((1u << DW_RUN_BITS) - 1)];
        if (r != 0) {
            n += r & 15;
            dw_drop(b, r >> 4);
            continue;
        }
        int sym = dw_decode(b, lit);
        if (sym >= 0 && sym < 256) {
            n++;
            continue;
        }
        if (sym == 256)
            break;
        if (sym < 0 || (sym -= 257) >= 29)
            return -1;
        unsigned len = lbase[sym] + dw_bitsn(b, lext[sym]);
        int d = dw_decode(b, dist);
        if (d < 0 || d >= 30 || dbase[d] + dw_bitsn(b, dext[d]) > n)
            return -1;
        n += len;
    }
    *out = n;
    *bits = local;
    return 0;
}

/* Stored: to the byte boundary, LEN and NLEN, then LEN bytes skipped whole. */
static int dw_stored(dw_bits *b, uint64_t *out)
{
    dw_drop(b, b->cnt & 7);
    unsigned len = dw_take(b, 16), nlen = dw_take(b, 16);
    if (len != (~nlen & 0xffff))
        return -1;
    /* what is left in the buffer is whole bytes: give them back, then skip */
    size_t back = b->cnt / 8;
    if (b->over >= back) {
        b->over -= (unsigned)back;
    } else {
        b->p -= back - b->over;
        b->over = 0;
    }
    b->buf = 0;
    b->cnt = 0;
    if ((size_t)(b->end - b->p) < len)
        return -1;
    b->p += len;
    *out += len;
    return 0;
}

static int dw_fixed(dw_bits *b, uint64_t *out)
{
    uint8_t lengths[DW_MAX_SYMS + 30];
    dw_huff lit, dist;
    for (unsigned i = 0; i < DW_MAX_SYMS; i++)
        lengths[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
    for (unsigned i = 0; i < 30; i++)
        lengths[DW_MAX_SYMS + i] = 5;
    dw_build(&lit, lengths, DW_MAX_SYMS);
    dw_build(&dist, lengths + DW_MAX_SYMS, 30);
    return dw_codes(b, &lit, &dist, out);
}

/* The code lengths of a dynamic block, themselves coded (RFC 1951 3.2.7). */
static int dw_lengths(dw_bits *b, uint8_t *lengths, unsigned n)
{
    static const uint8_t order[19] = { 16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                       11, 4,  12, 3, 13, 2, 14, 1, 15 };
    uint8_t cl[19] = { 0 };
    unsigned ncode = dw_take(b, 4) + 4;
    dw_huff h;
    for (unsigned i = 0; i < ncode; i++)
        cl[order[i]] = (uint8_t)dw_take(b, 3);
    if (dw_build(&h, cl, 19) < 0)
        return -1;
    for (unsigned i = 0; i < n;) {
        if (b->cnt < 32 && !dw_refill(b))
            return -1;
        int sym = dw_decode(b, &h);
        unsigned rep, val = 0;
        if (sym < 0)
            return -1;
        if (sym < 16) {
            lengths[i++] = (uint8_t)sym;
            continue;
        }
        if (sym == 16) {
            if (i == 0)
                return -1;
            val = lengths[i - 1];
            rep = 3 + dw_bitsn(b, 2);
        } else {
            rep = sym == 17 ? 3 + dw_bitsn(b, 3) : 11 + dw_bitsn(b, 7);
        }
        if (i + rep > n)
            return -1;
        memset(lengths + i, (int)val, rep);
        i += rep;
    }
    return 0;
}

static int dw_dynamic(dw_bits *b, uint64_t *out)
{
    uint8_t lengths[DW_MAX_SYMS + 32];
    dw_huff lit, dist;
    unsigned nlen = dw_take(b, 5) + 257, ndist = dw_take(b, 5) + 1;
    if (nlen > 286 || ndist > 30 || dw_lengths(b, lengths, nlen + ndist) < 0 || lengths[256] == 0)
        return -1;
    if (dw_build(&lit, lengths, nlen) < 0 || dw_build(&dist, lengths + nlen, ndist) < 0)
        return -1;
    return dw_codes(b, &lit, &dist, out);
}

int cb_deflate_walk(const unsigned char *in, size_t len, cb_deflate_shape *shape)
{
    dw_bits b = { in, in, in + len, 0, 0, 0 };
    uint64_t out = 0;
    for (;;) {
        uint64_t start = dw_pos(&b);
        unsigned final = dw_take(&b, 1), type = dw_take(&b, 2);
        int rc = type == 0   ? dw_stored(&b, &out)
                 : type == 1 ? dw_fixed(&b, &out)
                 : type == 2 ? dw_dynamic(&b, &out)
                             : -1;
        if (rc < 0 || dw_pos(&b) > (uint64_t)len * 8)
            return -1;
        if (final) {
            shape->last_block_bit = start;
            shape->end_bit = dw_pos(&b);
            shape->out_len = out;
            return 0;
        }
    }
}
