/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_holes.c: holes inside objects that also hold data (a sparse file whose data and holes
 * share objects). A piece or chunk wholly in a hole is not read, hashed or compressed: it
 * takes the zero digests, a compressed form made once per length (zlib, bz2), RLE blocks
 * (zstd) or zeros written from a buffer of zeros (none), and its Adler-32 is brought
 * forward arithmetically. Whatever the codec, thread count and object size (whole objects
 * per worker, or pieces read by the reader), the backup must restore byte-exact, record
 * each object's true MD5, and, for none, zlib and bz2, store each object that holds data
 * byte for byte as the same volume without holes (its zeros written) is stored. In the
 * pipeline suite: under TSan too (the workers share the zero forms' buffers).
 */
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "memstore.h"

/* 13 MiB and a short last object: data regions, everything else a hole */
#define HT_LEN ((13u << 20) + 5000)

typedef struct ht_region {
    size_t off, len;
    int text; /* 1: text-like (compresses), 0: random */
} ht_region;

static const ht_region ht_regions[] = {
    { 0, 300u << 10, 0 },                 /* then a hole across chunk and piece boundaries */
    { (2u << 20) + 5000, 600u << 10, 1 }, /* mid-object, mid-piece */
    { 5u << 20, 4096, 0 },                /* a page in an object that is mostly hole */
    { (9u << 20) - 100, 200, 1 },         /* across an object boundary (1 MiB objects) */
    { (13u << 20) + 1000, 4000, 1 },      /* the short last object: a hole, then data */
};
#define HT_N_REGIONS (sizeof(ht_regions) / sizeof(ht_regions[0]))

typedef struct ht {
    cb_store *store;
    char *dir;
    char sparse[512], dense[512], out[512];
    unsigned char *data; /* the volume's bytes */
} ht;

static int ht_setup(void **state)
{
    ht *t = calloc(1, sizeof(*t));
    cb_error err = { 0 };
    t->dir = tu_mkdtemp("holes");
    snprintf(t->sparse, sizeof(t->sparse), "%s/sparse.img", t->dir);
    snprintf(t->dense, sizeof(t->dense), "%s/dense.img", t->dir);
    snprintf(t->out, sizeof(t->out), "%s/restored.img", t->dir);
    t->data = calloc(1, HT_LEN);
    int fd = open(t->sparse, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (t->data == NULL || fd < 0 || ftruncate(fd, HT_LEN) < 0)
        return -1;
    for (size_t i = 0; i < HT_N_REGIONS; i++) {
        const ht_region *r = &ht_regions[i];
        tu_fill_random(t->data + r->off, r->len, 7 + i);
        for (size_t k = 0; r->text && k < r->len; k++)
            t->data[r->off + k] = (unsigned char)("sparse volume text "[(r->off + k) % 19]);
        if (pwrite(fd, t->data + r->off, r->len, (off_t)r->off) != (ssize_t)r->len)
            return -1;
    }
    close(fd);
    tu_write_file(t->dense, t->data, HT_LEN); /* the same bytes, its zeros written */
    /* the file system must have kept the holes, or the test proves nothing */
    fd = open(t->sparse, O_RDONLY);
    off_t hole = lseek(fd, 0, SEEK_HOLE);
    close(fd);
    if (hole != (off_t)(300u << 10) && hole != (off_t)(1u << 20))
        return -1;
    cb_mem_store_use();
    if (cb_store_open(&t->store, "mem:", NULL, &err) < 0)
        return -1;
    *state = t;
    return 0;
}

static int ht_teardown(void **state)
{
    ht *t = *state;
    cb_store_free(t->store);
    tu_rmtree(t->dir);
    free(t->dir);
    free(t->data);
    free(t);
    return 0;
}

static cb_backup_info *
ht_backup(ht *t, const char *vol, const char *vid, const char *comp, int threads, uint64_t obj)
{
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_backup_info *b = NULL;
    cb_error err = { 0 };
    o.volume_id = vid;
    o.compression = comp;
    o.threads = threads;
    o.object_size = obj;
    assert_cb_ok(cb_backup(t->store, vol, &o, &b, &err), &err);
    return b;
}

static json_t *ht_objects(ht *t, const cb_backup_info *b)
{
    char name[512];
    unsigned char *data;
    size_t len;
    json_error_t jerr;
    snprintf(name, sizeof(name), "%s_metadata", b->prefix);
    assert_int_equal(cb_mem_store_object(t->store, b->container, name, &data, &len), 0);
    json_t *meta = json_loadb((const char *)data, len, 0, &jerr);
    assert_non_null(meta);
    json_t *objects = json_incref(json_object_get(meta, "objects"));
    json_decref(meta);
    return objects;
}

/* Element i of a metadata's object list: its name and fields. */
static json_t *ht_entry(json_t *objects, size_t i, const char **name)
{
    json_t *v;
    json_object_foreach(json_array_get(objects, i), *name, v) return v;
    fail_msg("object entry %zu is empty", i);
    return NULL;
}

static int ht_holds_data(size_t off, size_t len)
{
    for (size_t i = 0; i < HT_N_REGIONS; i++)
        if (ht_regions[i].off < off + len && off < ht_regions[i].off + ht_regions[i].len)
            return 1;
    return 0;
}

/* Every object's recorded MD5 is that of its bytes of the volume: the zeros of its holes
 * were summed, though never read (a restore checks the SHA-256 list, not the MD5s). */
static void ht_check_md5s(ht *t, json_t *objects)
{
    for (size_t i = 0; i < json_array_size(objects); i++) {
        const char *name;
        json_t *o = ht_entry(objects, i, &name);
        size_t off = (size_t)json_integer_value(json_object_get(o, "offset"));
        size_t n = (size_t)json_integer_value(json_object_get(o, "length"));
        unsigned char md[16];
        unsigned int mdlen = 16;
        char hex[33];
        assert_true(off + n <= HT_LEN);
        EVP_Digest(t->data + off, n, md, &mdlen, EVP_md5(), NULL);
        for (int k = 0; k < 16; k++)
            snprintf(hex + 2 * k, 3, "%02x", md[k]);
        if (strcmp(hex, json_string_value(json_object_get(o, "md5"))) != 0)
            fail_msg("object %s: recorded MD5 %s, its data's is %s", name,
                     json_string_value(json_object_get(o, "md5")), hex);
    }
}

static void ht_check_restore(ht *t, const char *id)
{
    cb_error err = { 0 };
    assert_cb_ok(cb_restore(t->store, id, t->out, TU_REPLACE, &err), &err);
    assert_true(tu_file_equals(t->out, t->data, HT_LEN));
}

/* The objects of `b` (of the sparse file) that hold data are those of `d` (of the dense
 * one), byte for byte; zstd's decode to the same bytes (the restore) and are about as
 * large: a hole is RLE blocks there, where the compressor writes its own. */
static void ht_compare(ht *t, const cb_backup_info *b, const cb_backup_info *d, const char *comp)
{
    json_t *ob = ht_objects(t, b), *od = ht_objects(t, d);
    size_t compared = 0;
    assert_int_equal(json_array_size(ob), json_array_size(od));
    for (size_t i = 0; i < json_array_size(ob); i++) {
        const char *nb, *nd;
        json_t *eb = ht_entry(ob, i, &nb), *ed = ht_entry(od, i, &nd);
        size_t off = (size_t)json_integer_value(json_object_get(eb, "offset"));
        size_t len = (size_t)json_integer_value(json_object_get(eb, "length"));
        unsigned char *xb, *xd;
        size_t lb, ld;
        assert_int_equal(off, json_integer_value(json_object_get(ed, "offset")));
        assert_string_equal(json_string_value(json_object_get(eb, "md5")),
                            json_string_value(json_object_get(ed, "md5")));
        if (!ht_holds_data(off, len))
            continue; /* a zero object: the committer's one cached form (backup_chunk.c) */
        assert_int_equal(cb_mem_store_object(t->store, b->container, nb, &xb, &lb), 0);
        assert_int_equal(cb_mem_store_object(t->store, d->container, nd, &xd, &ld), 0);
        if (strcmp(comp, "zstd") == 0) {
            if (lb > ld + 1024) /* a few bytes a hole: the compressor's restart after it */
                fail_msg("zstd object at %zu: %zu bytes from the holes, %zu from zeros", off, lb,
                         ld);
        } else if (lb != ld || memcmp(xb, xd, lb) != 0) {
            fail_msg("%s object at %zu: %zu bytes from the holes differ from the %zu bytes of "
                     "its zeros",
                     comp, off, lb, ld);
        }
        compared++;
    }
    assert_true(compared >= 1);
    json_decref(ob);
    json_decref(od);
}

/* Every codec, with whole objects per worker (1 MiB objects: 14 of them; 3 MiB objects on
 * one thread), pieces of a few objects read side by side (3 and 4 MiB, 2 threads), and of
 * one object (16 MiB). 3 MiB objects have hole pieces of two lengths (2 and 1 MiB). */
static void test_holes__data_and_holes_in_one_object(void **state)
{
    ht *t = *state;
    static const char *const comps[] = { "none", "zlib", "bz2", "zstd" };
    static const struct {
        int threads;
        uint64_t obj;
    } shapes[] = {
        { 2, 1u << 20 }, { 1, 3u << 20 }, { 2, 3u << 20 }, { 2, 4u << 20 }, { 3, 16u << 20 }
    };
    for (size_t c = 0; c < 4; c++)
        for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
            cb_backup_info *b = ht_backup(t, t->sparse, "11111111-2222-3333-4444-555555555555",
                                          comps[c], shapes[k].threads, shapes[k].obj);
            cb_backup_info *d = ht_backup(t, t->dense, "11111111-2222-3333-4444-666666666666",
                                          comps[c], shapes[k].threads, shapes[k].obj);
            json_t *objects = ht_objects(t, b);
            ht_check_md5s(t, objects);
            json_decref(objects);
            ht_check_restore(t, b->backup_id);
            ht_compare(t, b, d, comps[c]);
            cb_backup_info_free(b);
            cb_backup_info_free(d);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_holes__data_and_holes_in_one_object, ht_setup,
                                        ht_teardown),
    };
    return cmocka_run_group_tests_name("holes", tests, NULL, NULL);
}
