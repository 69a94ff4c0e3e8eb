/* SPDX-License-Identifier: Apache-2.0 */
/* test_md5x.c: the multi-buffer MD5 gives OpenSSL's MD5 for every lane, whatever the
 * lengths, the way they are split into updates, and the build of the rounds. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "hash/md5x.h"

#define MSG_MAX (3 * 4096 + 300)

static void reference_md5(const unsigned char *data, size_t len, unsigned char out[16])
{
    unsigned int n = 16;
    assert_int_equal(EVP_Digest(data, len, out, &n, EVP_md5(), NULL), 1);
}

static unsigned next_rand(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

/* Every lane gets its own message of length len[l], fed in updates of random sizes (0
 * included, lanes out of step) to the rounds of at most `build`; each final must match
 * OpenSSL's MD5 of the message. */
static void check_lanes(const size_t len[CB_MD5X_LANES], unsigned seed, int build)
{
    static unsigned char msg[CB_MD5X_LANES][MSG_MAX];
    size_t done[CB_MD5X_LANES] = { 0 };
    const unsigned first_seed = seed;
    cb_md5x x;
    for (unsigned l = 0; l < CB_MD5X_LANES; l++) {
        for (size_t i = 0; i < len[l]; i++)
            msg[l][i] = (unsigned char)next_rand(&seed);
        cb__md5x_reset(&x, l);
    }
    for (int more = 1; more;) {
        const unsigned char *p[CB_MD5X_LANES];
        size_t n[CB_MD5X_LANES];
        size_t step = next_rand(&seed) % 3 == 0 ? 4096 : next_rand(&seed) % 200;
        more = 0;
        for (unsigned l = 0; l < CB_MD5X_LANES; l++) {
            size_t want = next_rand(&seed) % 4 == 0 ? next_rand(&seed) % 130 : step;
            n[l] = len[l] - done[l] < want ? len[l] - done[l] : want;
            p[l] = msg[l] + done[l];
            done[l] += n[l];
            more = more || done[l] < len[l];
        }
        cb__md5x_update_with(&x, p, n, build);
    }
    for (unsigned l = 0; l < CB_MD5X_LANES; l++) {
        unsigned char got[16], want[16];
        cb__md5x_final_with(&x, l, got, build);
        reference_md5(msg[l], len[l], want);
        if (memcmp(got, want, 16) != 0)
            fail_msg("lane %u, %zu bytes (seed %u): MD5 differs from OpenSSL's", l, len[l],
                     first_seed);
    }
}

static void run_all(int build)
{
    /* the padding's edge cases: 55 bytes fit one block, 56 need two */
    static const size_t edges[] = { 0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 4096, 4097 };
    size_t len[CB_MD5X_LANES];
    unsigned seed = 7;
    for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++) {
        for (unsigned l = 0; l < CB_MD5X_LANES; l++)
            len[l] = edges[(e + l) % (sizeof(edges) / sizeof(edges[0]))];
        check_lanes(len, seed++, build);
        for (unsigned l = 0; l < CB_MD5X_LANES; l++) /* all lanes equal: the fast case */
            len[l] = edges[e];
        check_lanes(len, seed++, build);
    }
    for (int round = 0; round < 200; round++) {
        for (unsigned l = 0; l < CB_MD5X_LANES; l++)
            len[l] = next_rand(&seed) % MSG_MAX;
        check_lanes(len, seed++, build);
    }
}

static void test_md5x__matches_openssl(void **state)
{
    (void)state;
    run_all(CB_MD5X_BUILD_BEST);
}

/* The builds this CPU would not choose: AVX2 where AVX-512VL is present, the portable
 * rounds where either is. */
static void test_md5x__avx2_rounds_match_openssl(void **state)
{
    (void)state;
    run_all(CB_MD5X_BUILD_AVX2);
}

static void test_md5x__portable_rounds_match_openssl(void **state)
{
    (void)state;
    run_all(CB_MD5X_BUILD_PORTABLE);
}

/* A lane reset and reused while the others carry on keeps theirs intact. */
static void test_md5x__lanes_are_independent(void **state)
{
    static unsigned char a[1000], b[1000];
    const unsigned char *p[CB_MD5X_LANES];
    size_t n[CB_MD5X_LANES] = { 0 };
    unsigned char got[16], want[16];
    cb_md5x x;
    (void)state;
    memset(a, 'a', sizeof(a));
    memset(b, 'b', sizeof(b));
    for (unsigned l = 0; l < CB_MD5X_LANES; l++) {
        cb__md5x_reset(&x, l);
        p[l] = a;
    }
    n[0] = n[3] = 500;
    cb__md5x_update(&x, p, n);
    cb__md5x_final(&x, 3, got); /* lane 3 done, then reused for b */
    reference_md5(a, 500, want);
    assert_memory_equal(got, want, 16);
    p[3] = b;
    n[0] = 0;
    n[3] = 1000;
    cb__md5x_update(&x, p, n);
    cb__md5x_final(&x, 0, got);
    reference_md5(a, 500, want);
    assert_memory_equal(got, want, 16);
    cb__md5x_final(&x, 3, got);
    reference_md5(b, 1000, want);
    assert_memory_equal(got, want, 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md5x__matches_openssl),
        cmocka_unit_test(test_md5x__avx2_rounds_match_openssl),
        cmocka_unit_test(test_md5x__portable_rounds_match_openssl),
        cmocka_unit_test(test_md5x__lanes_are_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
