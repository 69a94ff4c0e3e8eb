/* SPDX-License-Identifier: Apache-2.0 */
/* test_sha256x.c: the multi-buffer SHA-256 gives OpenSSL's SHA-256 for every lane, for
 * any number of lanes and any length; the batched block hashing of digest.c gives what
 * hashing each block alone gives, zero blocks and a lane count short of a full run
 * included. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "hash/digest.h"
#include "hash/sha256x.h"

#define MSG_MAX 33000

static void reference_sha(const unsigned char *data, size_t len, unsigned char out[32])
{
    unsigned int n = 32;
    assert_int_equal(EVP_Digest(data, len, out, &n, EVP_sha256(), NULL), 1);
}

static unsigned next_rand(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

static void test_sha256x__lanes_match_openssl(void **state)
{
    static unsigned char msg[CB_SHA256X_LANES][MSG_MAX];
    static const size_t lens[] = {
        0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 4096, 32768, 32999
    };
    unsigned char got[CB_SHA256X_LANES][32], want[32];
    const unsigned char *p[CB_SHA256X_LANES];
    unsigned char *o[CB_SHA256X_LANES];
    unsigned seed = 5;
    (void)state;
    if (!cb__sha256x_usable())
        skip(); /* no AVX-512 here: digest.c uses OpenSSL only */
    for (int l = 0; l < CB_SHA256X_LANES; l++) {
        for (size_t i = 0; i < MSG_MAX; i++)
            msg[l][i] = (unsigned char)next_rand(&seed);
        p[l] = msg[l];
        o[l] = got[l];
    }
    for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++)
        for (size_t n = 1; n <= CB_SHA256X_LANES; n++) {
            memset(got, 0, sizeof(got));
            cb__sha256x(p, n, lens[li], o);
            for (size_t l = 0; l < n; l++) {
                reference_sha(msg[l], lens[li], want);
                assert_memory_equal(got[l], want, 32);
            }
        }
}

/* 100 blocks, every third all zeros, a few zero blocks of another size; then every count
 * of blocks from 0 to 40, so that runs of every length (and leftovers) happen. */
static void test_sha256x__digest_blocks_match_one_by_one(void **state)
{
    enum { BLK = 4096, N = 100 };
    unsigned char *data = malloc((size_t)BLK * N), got[N * 32], want[32];
    unsigned seed = 9;
    cb_digest d;
    cb_error err = { 0 };
    (void)state;
    assert_int_equal(cb__digest_init(&d, BLK, &err), 0);
    for (size_t i = 0; i < (size_t)BLK * N; i++)
        data[i] = (i / BLK) % 3 == 0 ? 0 : (unsigned char)next_rand(&seed);
    for (size_t n = 0; n <= 40; n++) {
        cb__digest_sha256_blocks(&d, data, BLK, n, got);
        for (size_t i = 0; i < n; i++) {
            reference_sha(data + i * BLK, BLK, want);
            assert_memory_equal(got + 32 * i, want, 32);
        }
    }
    cb__digest_sha256_blocks(&d, data, BLK, N, got);
    for (size_t i = 0; i < N; i++) {
        reference_sha(data + i * BLK, BLK, want);
        assert_memory_equal(got + 32 * i, want, 32);
    }
    cb__digest_sha256_blocks(&d, data + 1, 1000, 50, got); /* not the zero block's size */
    for (size_t i = 0; i < 50; i++) {
        reference_sha(data + 1 + i * 1000, 1000, want);
        assert_memory_equal(got + 32 * i, want, 32);
    }
    cb__digest_dispose(&d);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256x__lanes_match_openssl),
        cmocka_unit_test(test_sha256x__digest_blocks_match_one_by_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
