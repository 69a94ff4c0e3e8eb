/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_image.c: the read-only image (cinderblock/image.h) on the mem store. A full backup and
 * two incrementals (runs that are not whole sha blocks), with every compression: the image at
 * each point of the chain reads back as that day's volume, whole and at odd offsets, from one
 * thread and from four at once; a damaged object fails only the reads that touch it (a raw one
 * too: caught by the hashes, not by a codec) and names itself; the zero extents come from the
 * hash list; the cache stays within its bound; a 4 KiB read opens at most one object.
 * Argument: a cmocka test filter ("*threads*": the TSan suite runs only that one).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "memstore.h"

#define VSIZE (3u << 20)
#define DAYS 3
#define VID "0000c0de-0000-4000-8000-000000000002"

static const char *const ti_comps[] = { "none", "zlib", "bz2", "zstd" };
#define N_COMPS 4

typedef struct ti {
    cb_store *store;
    char *dir;
    char vol[512];
    char id[N_COMPS][DAYS][40]; /* by codec, [0] the full */
    unsigned char *img[DAYS];
} ti;

/* Day k's change: runs of new bytes that start and end inside sha blocks. */
static void ti_change(unsigned char *img, int k)
{
    for (int r = 0; r < 5; r++) {
        size_t off = ((size_t)(r * 613 + k * 17) * 1021 + (size_t)k * 99) % (VSIZE - 70000);
        tu_fill_random(img + off, 1000 + (size_t)r * 7000, 500 + (uint64_t)(k * 10 + r));
    }
}

static int ti_setup(void **state)
{
    ti *t = calloc(1, sizeof(*t));
    cb_error err = { 0 };
    t->dir = tu_mkdtemp("image");
    snprintf(t->vol, sizeof(t->vol), "%s/volume.img", t->dir);
    cb_mem_store_use();
    if (cb_store_open(&t->store, "mem:", NULL, &err) < 0)
        return -1;
    unsigned char *img = calloc(1, VSIZE); /* a third zeros, a third random, a third text */
    tu_fill_random(img + VSIZE / 3, VSIZE / 3, 9);
    for (size_t i = 2 * (VSIZE / 3); i < VSIZE; i++)
        img[i] = (unsigned char)("cinderblock "[i % 12]);
    for (int k = 0; k < DAYS; k++) {
        if (k > 0)
            ti_change(img, k);
        t->img[k] = malloc(VSIZE);
        memcpy(t->img[k], img, VSIZE);
    }
    for (int c = 0; c < N_COMPS; c++)
        for (int k = 0; k < DAYS; k++) {
            cb_backup_opts o = CB_BACKUP_OPTS_INIT;
            o.volume_id = VID;
            o.compression = ti_comps[c];
            o.object_size = 1 << 20;
            o.sha_block = 4096;
            o.now = 1789473600LL + (c * DAYS + k) * 3600;
            o.parent_id = k == 0 ? NULL : t->id[c][k - 1];
            if (tu_backup(t->store, t->vol, t->img[k], VSIZE, &o, t->id[c][k], &err) < 0)
                return -1;
        }
    free(img);
    *state = t;
    return 0;
}

static int ti_teardown(void **state)
{
    ti *t = *state;
    cb_store_free(t->store);
    tu_rmtree(t->dir);
    free(t->dir);
    for (int k = 0; k < DAYS; k++)
        free(t->img[k]);
    free(t);
    return 0;
}

static cb_image *ti_open(ti *t, const char *id, uint64_t cache)
{
    cb_image_opts o = CB_IMAGE_OPTS_INIT;
    cb_image *img = NULL;
    cb_error err = { 0 };
    o.cache_bytes = cache;
    assert_cb_ok(cb_image_open(t->store, id, &o, &img, &err), &err);
    assert_int_equal(cb_image_size(img), VSIZE);
    assert_int_equal(cb_image_sha_block(img), 4096);
    return img;
}

/* Bytes [off, off+len) read through the image equal the volume's. */
static void ti_expect(cb_image *img, const unsigned char *want, uint64_t off, size_t len)
{
    unsigned char *buf = malloc(len);
    cb_error err = { 0 };
    assert_cb_ok(cb_image_pread(img, buf, len, off, &err), &err);
    if (memcmp(buf, want + off, len) != 0)
        fail_msg("bytes %llu+%zu of %s differ", (unsigned long long)off, len,
                 cb_image_backup_id(img));
    free(buf);
}

static void test_image__every_codec_every_day(void **state)
{
    ti *t = *state;
    for (int c = 0; c < N_COMPS; c++)
        for (int k = 0; k < DAYS; k++) {
            cb_image *img = ti_open(t, t->id[c][k], 0);
            ti_expect(img, t->img[k], 0, VSIZE);               /* whole, in order */
            ti_expect(img, t->img[k], 1234567, 77777);         /* inside, unaligned */
            ti_expect(img, t->img[k], VSIZE - 5, 5);           /* the last bytes */
            ti_expect(img, t->img[k], (1 << 20) - 3000, 6000); /* across two objects */
            cb_image_close(img);
        }
}

typedef struct ti_worker {
    cb_image *img;
    const unsigned char *want;
    uint64_t seed;
    int bad;
} ti_worker;

static void *ti_random_reads(void *arg)
{
    ti_worker *w = arg;
    unsigned char buf[70000];
    uint64_t x = w->seed;
    for (int i = 0; i < 200; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t off = (x >> 20) % VSIZE;
        size_t len = (size_t)((x >> 8) % sizeof(buf)) + 1;
        if (len > VSIZE - off)
            len = VSIZE - off;
        cb_error err = { 0 };
        if (cb_image_pread(w->img, buf, len, off, &err) < 0 || memcmp(buf, w->want + off, len))
            w->bad++;
    }
    return NULL;
}

/* Four threads at random offsets, a cache smaller than the volume (segments evicted while
 * others are read): every byte right, and the cache never above its bound. */
static void test_image__threads(void **state)
{
    ti *t = *state;
    for (int c = 0; c < N_COMPS; c += 3) { /* none and zstd */
        cb_image *img = ti_open(t, t->id[c][DAYS - 1], 2 << 20);
        pthread_t th[4];
        ti_worker w[4];
        for (int i = 0; i < 4; i++) {
            w[i] = (ti_worker){ .img = img, .want = t->img[DAYS - 1], .seed = 42 + i };
            pthread_create(&th[i], NULL, ti_random_reads, &w[i]);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            assert_int_equal(w[i].bad, 0);
        }
        cb_image_stats st;
        cb_image_get_stats(img, &st, sizeof(st));
        assert_true(st.cache_bytes <= (2u << 20));
        assert_true(st.segments_filled > 2); /* evicted and filled again */
        assert_int_equal(st.bad_blocks, 0);
        cb_image_close(img);
    }
}

/* The cache bound, read in order twice, and one 4 KiB read on a fresh image: one object. */
static void test_image__cache_bound_and_one_fetch(void **state)
{
    ti *t = *state;
    cb_image *img = ti_open(t, t->id[3][DAYS - 1], 1 << 20);
    cb_image_stats st;
    for (int pass = 0; pass < 2; pass++)
        for (uint64_t off = 0; off < VSIZE; off += 65536) {
            ti_expect(img, t->img[DAYS - 1], off, 65536);
            cb_image_get_stats(img, &st, sizeof(st));
            assert_true(st.cache_bytes <= (1u << 20));
        }
    cb_image_close(img);
    for (uint64_t off = 4096 * 37; off < VSIZE; off += 4096 * 191) {
        img = ti_open(t, t->id[3][DAYS - 1], 0);
        ti_expect(img, t->img[DAYS - 1], off, 4096);
        cb_image_get_stats(img, &st, sizeof(st));
        if (st.objects_opened != 1)
            fail_msg("a 4 KiB read at %llu opened %llu objects", (unsigned long long)off,
                     (unsigned long long)st.objects_opened);
        cb_image_close(img);
    }
}

/* Object 3 of the full (volume bytes 2 MiB to 3 MiB) damaged: a read of its range fails
 * naming it, reads of the first two objects work. Raw: only the hashes can see it (and the
 * blocks of it that are whole are still served). */
static void ti_damaged(ti *t, int c)
{
    cb_backup_info *b = NULL;
    cb_error err = { 0 };
    char name[600];
    unsigned char *data, *buf = malloc(1u << 20);
    size_t len;
    assert_cb_ok(cb_backup_show(t->store, t->id[c][0], &b, &err), &err);
    snprintf(name, sizeof(name), "%s-00003", b->prefix);
    assert_int_equal(cb_mem_store_object(t->store, b->container, name, &data, &len), 0);
    data[len / 2] ^= 0x10;
    cb_image *img = ti_open(t, t->id[c][0], 0);
    int rc = cb_image_pread(img, buf, 1u << 20, 2u << 20, &err); /* the object's range */
    assert_int_equal(rc, CB_ECORRUPT);
    if (strstr(err.msg, name) == NULL || strstr(err.msg, t->id[c][0]) == NULL)
        fail_msg("the error '%s' does not name '%s' of %s", err.msg, name, t->id[c][0]);
    ti_expect(img, t->img[0], 0, 2u << 20);
    ti_expect(img, t->img[0], (2u << 20) - 100, 100); /* just before the damage */
    memset(&err, 0, sizeof(err));
    /* across into the damaged object: a codec's error fails its segment; raw, the block at
     * 2 MiB is whole and is served */
    assert_int_equal(cb_image_pread(img, buf, 200, (2u << 20) - 100, &err),
                     c == 0 ? 0 : CB_ECORRUPT);
    cb_image_close(img);
    data[len / 2] ^= 0x10;
    cb_backup_info_free(b);
    free(buf);
}

static void test_image__damaged(void **state)
{
    for (int c = 0; c < N_COMPS; c++)
        ti_damaged(*state, c);
}

static void test_image__extents(void **state)
{
    ti *t = *state;
    cb_image *img = ti_open(t, t->id[1][DAYS - 1], 0);
    uint64_t zeros = VSIZE / 3 - (VSIZE / 3) % 4096, run = 0;
    int zero = -1;
    cb_error err = { 0 };
    /* day 1 and 2 changed runs inside the first third: the zero run at 0 ends at the first */
    assert_cb_ok(cb_image_extent(img, 0, VSIZE, &run, &zero, &err), &err);
    assert_int_equal(zero, !!cb_image_is_zero(img, 0, 4096));
    for (uint64_t off = 0; off < VSIZE; off += 4096) {
        int want = 1;
        for (uint64_t i = off; i < off + 4096 && i < VSIZE; i++)
            want &= t->img[DAYS - 1][i] == 0;
        if (cb_image_is_zero(img, off, 4096) != want)
            fail_msg("block at %llu: is_zero says %d", (unsigned long long)off, !want);
    }
    assert_false(cb_image_is_zero(img, zeros, 8192)); /* zeros then random */
    assert_cb_ok(cb_image_extent(img, VSIZE - 10, 100, &run, &zero, &err), &err);
    assert_int_equal(run, 10);
    assert_false(zero);
    assert_int_equal(cb_image_extent(img, VSIZE, 1, &run, &zero, &err), CB_EINVAL);
    cb_image_close(img);
}

static void test_image__unknown(void **state)
{
    ti *t = *state;
    cb_image *img = NULL;
    cb_error err = { 0 };
    assert_int_equal(
        cb_image_open(t->store, "00000000-0000-4000-8000-00000000dead", NULL, &img, &err),
        CB_ENOTFOUND);
    assert_null(img);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image__every_codec_every_day),
        cmocka_unit_test(test_image__threads),
        cmocka_unit_test(test_image__cache_bound_and_one_fetch),
        cmocka_unit_test(test_image__damaged),
        cmocka_unit_test(test_image__extents),
        cmocka_unit_test(test_image__unknown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, ti_setup, ti_teardown);
}
