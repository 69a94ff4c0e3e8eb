/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_deflate.c: the DEFLATE walker (src/codec/deflate_walk.c) on any bytes. It must
 * never read outside them, and whatever it accepts zlib must inflate to the bytes it
 * counted, ending in the byte where it says the stream ends: the pieces of a zlib object
 * are joined at that bit. One difference is by design: the walker accepts incomplete
 * Huffman codes (it fails on an unassigned code only when it meets one), which zlib
 * refuses outright ("invalid ... set"); only libdeflate's output is ever walked.
 */
#include <string.h>
#include <zlib.h>

#include "fuzz.h"
#include "piece/deflate_walk.h"

#define FUZZ_ZLIB_MAX (16u << 10) /* inputs zlib checks too: up to 1032 times that out */

/* zlib's view of a raw DEFLATE stream: 0 if it ends within `in`, with what it decodes
 * to and the bytes it takes (zlib drops the last byte's padding bits: no finer than that);
 * 1 if zlib refuses a code set, -1 for any other failure. */
static int zlib_shape(const uint8_t *in, size_t len, uint64_t *out_len, uint64_t *end_byte)
{
    static unsigned char out[1u << 16];
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    FUZZ_CHECK(inflateInit2(&zs, -15) == Z_OK);
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    int rc;
    *out_len = 0;
    do {
        zs.next_out = out;
        zs.avail_out = sizeof(out);
        rc = inflate(&zs, Z_NO_FLUSH);
        *out_len += sizeof(out) - zs.avail_out;
    } while (rc == Z_OK);
    *end_byte = len - zs.avail_in; /* it hands back the whole bytes it did not use */
    size_t n = zs.msg != NULL ? strlen(zs.msg) : 0;
    int set = rc == Z_DATA_ERROR && n > 4 && strcmp(zs.msg + n - 4, " set") == 0;
    inflateEnd(&zs);
    return rc == Z_STREAM_END ? 0 : set ? 1 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cb_deflate_shape sh;
    if (cb_deflate_walk(data, size, &sh) < 0)
        return 0;
    FUZZ_CHECK(sh.last_block_bit < sh.end_bit && sh.end_bit <= (uint64_t)size * 8);
    if (size > FUZZ_ZLIB_MAX)
        return 0;
    uint64_t out_len, end_byte;
    int z = zlib_shape(data, size, &out_len, &end_byte);
    FUZZ_CHECK(z >= 0);
    if (z > 0)
        return 0;
    FUZZ_CHECK(out_len == sh.out_len);
    FUZZ_CHECK(end_byte == (sh.end_bit + 7) / 8);
    return 0;
}
