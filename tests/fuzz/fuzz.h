/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz.h: what every fuzz target shares. A target defines LLVMFuzzerTestOneInput and calls
 * the library's internal functions (it links the static archive). libFuzzer drives it in a
 * clang build with -Dfuzz=true; standalone.c drives it from files in every build, so that
 * gcc builds replay the corpus as an ordinary test.
 */
#ifndef CB_FUZZ_H
#define CB_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test does not hold: report it and crash, so that libFuzzer
 * keeps the input (assert() would vanish under NDEBUG). */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* FNV-1a of the input: a target that needs choices (split points) derives them from the
 * input itself, so that a corpus file is a plain document and each mutation moves them. */
static inline uint64_t fuzz_hash(const uint8_t *data, size_t size)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3u;
    return h;
}

#endif
