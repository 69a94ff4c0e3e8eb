/* SPDX-License-Identifier: Apache-2.0 */
/* entropy.c: whether bytes look incompressible, from a sample of their byte entropy (the
 * pipeline, the DEFLATE pieces and the zstd ring skip the compressor on such bytes). */
#include <math.h>

#include "codec.h"

int cb_looks_incompressible(const void *data, size_t len)
{
    enum { WINDOWS = 4, WINDOW = 1024 };
    const unsigned char *p = data;
    unsigned count[256] = { 0 };
    size_t total = 0;
    if (len < 4096)
        return 0; /* too small to judge: compress */
    for (int w = 0; w < WINDOWS; w++) {
        const unsigned char *s = p + (len - WINDOW) / (WINDOWS - 1) * (size_t)w;
        for (int i = 0; i < WINDOW; i++)
            count[s[i]]++;
        total += WINDOW;
    }
    double h = 0;
    for (int i = 0; i < 256; i++) {
        if (count[i] == 0)
            continue;
        double q = (double)count[i] / (double)total;
        h -= q * log2(q);
    }
    /* 4096 random bytes measure about 7.95 bits; text 4-5, machine code about 6.5 */
    return h > 7.8;
}
