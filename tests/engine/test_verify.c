/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_verify.c: cb_verify() and restore --verify. A chain of three backups (full,
 * incremental, incremental; zlib and none) in a real posix store, or in the mem store
 * where its counters and injected failures are needed, is checked clean, then damaged one
 * way at a time: each damage must be found, named, and attributed to the backup it is in,
 * transient read errors must not count as damage, and structure-only checks must not read
 * a single data object.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"
#include "core/engine.h"
#include "core/verify.h"
#include "store/mem.h"
#include "util/alloc.h"

#define VT_VOL (1u << 20) /* volume bytes */
#define VT_SHA 4096u      /* sha block (unless vt_build_sha) */
#define VT_OBJ (64u << 10)
#define VT_LAYERS 3

typedef struct vt {
    char *dir;
    char vol[512], out[512];
    cb_store *store;
    int mem;
    uint64_t hold;                  /* hashes held, else streamed (cb__verify) */
    unsigned char *want[VT_LAYERS]; /* the volume at each backup */
    cb_backup_info *layer[VT_LAYERS];
} vt;

static void vt_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Random data (stored "none"), text (compressed), zeros; then single blocks changed. */
static vt *vt_build_sha(int mem, uint32_t sha)
{
    static const char *const comps[VT_LAYERS] = { "zlib", "none", "zlib" };
    vt *t = calloc(1, sizeof(*t));
    cb_error err = { 0 };
    char root[600];
    t->mem = mem;
    t->hold = CB_VF_SHA_HOLD;
    t->dir = tu_mkdtemp("verify");
    snprintf(t->vol, sizeof(t->vol), "%s/volume.img", t->dir);
    snprintf(t->out, sizeof(t->out), "%s/restored.img", t->dir);
    snprintf(root, sizeof(root), "%s/store", t->dir);
    assert_cb_ok(cb_store_open(&t->store, mem ? "mem:" : root, NULL, &err), &err);
    for (int k = 0; k < VT_LAYERS; k++)
        t->want[k] = malloc(VT_VOL);
    unsigned char *v = t->want[0];
    tu_fill_random(v, VT_VOL / 2, 5);
    for (size_t i = VT_VOL / 2; i < VT_VOL * 3 / 4; i++)
        v[i] = (unsigned char)("verify every block "[i % 19]);
    memset(v + VT_VOL * 3 / 4, 0, VT_VOL / 4);
    for (int k = 1; k < VT_LAYERS; k++) {
        memcpy(t->want[k], t->want[k - 1], VT_VOL);
        for (size_t b = (size_t)k; b < VT_VOL / sha; b += 37)
            tu_fill_random(t->want[k] + b * sha, sha, 100 * (uint64_t)k + b);
    }
    for (int k = 0; k < VT_LAYERS; k++) {
        cb_backup_opts o = CB_BACKUP_OPTS_INIT;
        o.compression = comps[k];
        o.object_size = VT_OBJ;
        o.sha_block = sha;
        o.parent_id = k > 0 ? t->layer[k - 1]->backup_id : NULL;
        o.threads = 2;
        vt_write_file(t->vol, t->want[k], VT_VOL);
        assert_cb_ok(cb_backup(t->store, t->vol, &o, &t->layer[k], &err), &err);
    }
    return t;
}

static vt *vt_build(int mem)
{
    return vt_build_sha(mem, VT_SHA);
}

static void vt_free(vt *t)
{
    for (int k = 0; k < VT_LAYERS; k++) {
        free(t->want[k]);
        cb_backup_info_free(t->layer[k]);
    }
    cb_store_free(t->store);
    tu_rmtree(t->dir);
    free(t->dir);
    free(t);
}

/* The name of a layer's object: data object n (from 1), or a suffix such as "_metadata". */
static char *vt_name(const vt *t, int layer, uint64_t n, const char *suffix)
{
    if (suffix != NULL)
        return cb__asprintf(NULL, "%s%s", t->layer[layer]->prefix, suffix);
    return cb__name_object(t->layer[layer]->prefix, n, NULL);
}

static unsigned char *vt_get(vt *t, int layer, const char *name, size_t *len)
{
    char *data = NULL;
    cb_error err = { 0 };
    assert_cb_ok(
        cb_store_read_all(t->store, t->layer[layer]->container, name, 64u << 20, &data, len, &err),
        &err);
    return (unsigned char *)data;
}

static void vt_put(vt *t, int layer, const char *name, const void *data, size_t len)
{
    cb_error err = { 0 };
    assert_cb_ok(cb_store_write_all(t->store, t->layer[layer]->container, name, data, len, &err),
                 &err);
}

/* Flip one byte in the middle of an object; returns its original bytes. */
static unsigned char *vt_flip(vt *t, int layer, const char *name, size_t *len)
{
    unsigned char *orig = vt_get(t, layer, name, len);
    unsigned char *bad = malloc(*len);
    memcpy(bad, orig, *len);
    bad[*len / 2] ^= 0x10;
    vt_put(t, layer, name, bad, *len);
    free(bad);
    return orig;
}

/* Objects reported through on_object, as "backup/object" lines. */
typedef struct vt_seen {
    char **names;
    size_t n;
    int bad;
} vt_seen;

static void vt_on_object(const char *backup_id, const char *object, int status, void *payload)
{
    vt_seen *s = payload;
    s->names = realloc(s->names, (s->n + 1) * sizeof(*s->names));
    s->names[s->n++] = cb__asprintf(NULL, "%s/%s", backup_id, object);
    s->bad += status != 0;
}

static void vt_seen_free(vt_seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    memset(s, 0, sizeof(*s));
}

/* Verify one backup (id) or all (NULL). */
static int vt_verify(vt *t,
                     const char *id,
                     int read_data,
                     unsigned subset_n,
                     unsigned subset_t,
                     vt_seen *seen,
                     cb_verify_report **rep,
                     cb_error *err)
{
    cb_verify_opts o = CB_VERIFY_OPTS_INIT;
    o.read_data = read_data;
    o.subset_n = subset_n;
    o.subset_t = subset_t;
    o.threads = t->mem ? 1 : 2; /* one thread: the mem store's call numbers repeat */
    o.on_object = seen ? vt_on_object : NULL;
    o.on_object_payload = seen;
    return cb__verify(t->store, id ? &id : NULL, id ? 1 : 0, &o, t->hold, rep, err);
}

static uint64_t vt_objects(const vt *t, int upto)
{
    uint64_t n = 0;
    for (int k = 0; k <= upto; k++)
        n += t->layer[k]->object_count;
    return n;
}

/* Exactly one problem, of backup `layer`, of `object` (NULL: the backup as a whole) or
 * naming `in_msg` in its message. */
static void vt_assert_one(
    const cb_verify_report *r, const vt *t, int layer, const char *object, const char *in_msg)
{
    if (r->n_problems != 1)
        for (size_t i = 0; i < r->n_problems; i++)
            print_error("problem %zu: %s %s: %s\n", i, r->problems[i].backup_id,
                        r->problems[i].object ? r->problems[i].object : "-",
                        r->problems[i].message);
    assert_int_equal(r->n_problems, 1);
    const cb_verify_problem *p = &r->problems[0];
    assert_string_equal(p->backup_id, t->layer[layer]->backup_id);
    assert_string_equal(p->container, t->layer[layer]->container);
    if (object != NULL)
        assert_string_equal(p->object, object);
    else
        assert_null(p->object);
    if (in_msg != NULL && strstr(p->message, in_msg) == NULL)
        fail_msg("problem '%s' does not mention '%s'", p->message, in_msg);
}

static void test_verify__clean(void **state)
{
    (void)state;
    vt *t = vt_build(0);
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    assert_cb_ok(vt_verify(t, NULL, 0, 0, 0, NULL, &r, &err), &err);
    assert_int_equal(r->backups, 3);
    assert_int_equal(r->objects, vt_objects(t, 2));
    assert_int_equal(r->objects_read, 0);
    assert_int_equal(r->n_problems, 0);
    assert_true(r->complete);
    cb_verify_report_free(r);

    assert_cb_ok(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), &err);
    uint64_t bytes = 0;
    for (int k = 0; k < VT_LAYERS; k++)
        bytes += t->layer[k]->data_bytes;
    assert_int_equal(r->objects_read, vt_objects(t, 2));
    assert_int_equal(r->bytes, bytes);
    assert_int_equal(r->retried, 0);
    assert_int_equal(r->n_problems, 0);
    cb_verify_report_free(r);

    /* one id: its whole chain; the full backup: itself */
    assert_cb_ok(vt_verify(t, t->layer[2]->backup_id, 1, 0, 0, NULL, &r, &err), &err);
    assert_int_equal(r->backups, 3);
    assert_int_equal(r->objects_read, vt_objects(t, 2));
    cb_verify_report_free(r);
    assert_cb_ok(vt_verify(t, t->layer[0]->backup_id, 1, 0, 0, NULL, &r, &err), &err);
    assert_int_equal(r->backups, 1);
    assert_int_equal(r->objects_read, vt_objects(t, 0));
    cb_verify_report_free(r);

    const char *unknown = "01234567-89ab-4def-8123-456789abcdef";
    assert_int_equal(vt_verify(t, unknown, 0, 0, 0, NULL, &r, &err), CB_ENOTFOUND);
    assert_cb_error(&err, CB_ENOTFOUND, unknown);
    cb_verify_report_free(r);
    vt_free(t);
}

/* A flipped byte in an object of the full backup (raw, then compressed): found when the
 * data is read (and only then), named, and the only problem. */
static void test_verify__flipped_parent_object(void **state)
{
    (void)state;
    vt *t = vt_build(0);
    const uint64_t objs[] = { 3, 10 }; /* random data stored raw; text compressed */
    for (size_t i = 0; i < 2; i++) {
        cb_verify_report *r = NULL;
        cb_error err = { 0 };
        vt_seen seen = { 0 };
        size_t len;
        char *name = vt_name(t, 0, objs[i], NULL);
        unsigned char *orig = vt_flip(t, 0, name, &len);

        assert_cb_ok(vt_verify(t, t->layer[2]->backup_id, 0, 0, 0, NULL, &r, &err), &err);
        cb_verify_report_free(r);

        assert_int_equal(vt_verify(t, t->layer[2]->backup_id, 1, 0, 0, &seen, &r, &err),
                         CB_ECORRUPT);
        assert_cb_error(&err, CB_ECORRUPT, name);
        assert_non_null(strstr(err.msg, "1 problem found"));
        vt_assert_one(r, t, 0, name, NULL);
        assert_int_equal(r->problems[0].code, CB_ECORRUPT);
        assert_int_equal(seen.n, vt_objects(t, 2));
        assert_int_equal(seen.bad, 1);
        assert_true(r->complete);
        cb_verify_report_free(r);
        vt_seen_free(&seen);

        vt_put(t, 0, name, orig, len);
        assert_cb_ok(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), &err);
        cb_verify_report_free(r);
        free(orig);
        free(name);
    }
    vt_free(t);
}

/* Structure only: not one data object is opened. */
static void test_verify__structure_reads_no_data(void **state)
{
    (void)state;
    vt *t = vt_build(1);
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    assert_cb_ok(vt_verify(t, NULL, 0, 0, 0, NULL, &r, &err), &err);
    cb_verify_report_free(r);
    for (int k = 0; k < VT_LAYERS; k++)
        for (uint64_t n = 1; n <= t->layer[k]->object_count; n++) {
            char *name = vt_name(t, k, n, NULL);
            assert_int_equal(cb_mem_store_object_reads(t->store, t->layer[k]->container, name), 0);
            free(name);
        }
    /* reading the data opens each exactly once */
    assert_cb_ok(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), &err);
    cb_verify_report_free(r);
    for (int k = 0; k < VT_LAYERS; k++)
        for (uint64_t n = 1; n <= t->layer[k]->object_count; n++) {
            char *name = vt_name(t, k, n, NULL);
            assert_int_equal(cb_mem_store_object_reads(t->store, t->layer[k]->container, name), 1);
            free(name);
        }
    vt_free(t);
}

static const cb_verify_problem *
vt_find(const cb_verify_report *r, const vt *t, int layer, const char *in_msg)
{
    for (size_t i = 0; i < r->n_problems; i++)
        if (strcmp(r->problems[i].backup_id, t->layer[layer]->backup_id) == 0 &&
            strstr(r->problems[i].message, in_msg) != NULL)
            return &r->problems[i];
    fail_msg("no problem of layer %d mentions '%s'", layer, in_msg);
    return NULL;
}

/* Edit a layer's JSON object (_metadata or _sha256file) through `edit`. */
static void vt_edit_json(vt *t, int layer, const char *suffix, void (*edit)(json_t *, const vt *))
{
    char *name = vt_name(t, layer, 0, suffix);
    size_t len;
    unsigned char *text = vt_get(t, layer, name, &len);
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)text, len, 0, &jerr);
    assert_non_null(doc);
    edit(doc, t);
    char *out = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    vt_put(t, layer, name, out, strlen(out));
    free(out);
    json_decref(doc);
    free(text);
    free(name);
}

static void vt_drop_last_sha(json_t *doc, const vt *t)
{
    (void)t;
    json_t *shas = json_object_get(doc, "sha256s");
    assert_int_equal(json_array_remove(shas, json_array_size(shas) - 1), 0);
}

static void vt_change_sha5(json_t *doc, const vt *t)
{
    (void)t;
    json_t *shas = json_object_get(doc, "sha256s");
    char hex[65];
    snprintf(hex, sizeof(hex), "%s", json_string_value(json_array_get(shas, 5)));
    hex[0] = hex[0] == 'a' ? 'b' : 'a';
    assert_int_equal(json_array_set_new(shas, 5, json_string(hex)), 0);
}

static void vt_keep_200_shas(json_t *doc, const vt *t)
{
    (void)t;
    json_t *shas = json_object_get(doc, "sha256s");
    while (json_array_size(shas) > 200)
        assert_int_equal(json_array_remove(shas, json_array_size(shas) - 1), 0);
}

static void vt_parent_is_newest(json_t *doc, const vt *t)
{
    json_object_set_new(doc, "parent_id", json_string(t->layer[2]->backup_id));
}

/* Damage the structure, one way at a time: each is found without reading data, named,
 * and attributed to its own backup; the others are still checked. */
static void test_verify__structure_damage(void **state)
{
    (void)state;
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    size_t len;

    /* a deleted data object: reading the data does not report it a second time */
    vt *t = vt_build(1);
    char *name = vt_name(t, 1, 2, NULL);
    assert_cb_ok(cb_store_delete_object(t->store, t->layer[1]->container, name, 0, &err), &err);
    for (int read_data = 0; read_data < 2; read_data++) {
        cb_error_clear(&err);
        assert_int_equal(vt_verify(t, NULL, read_data, 0, 0, NULL, &r, &err), CB_ECORRUPT);
        vt_assert_one(r, t, 1, NULL, name);
        cb_verify_report_free(r);
    }
    free(name);
    vt_free(t);

    /* a stray object under a prefix, and a truncated _sha256file in another backup */
    t = vt_build(1);
    name = vt_name(t, 0, 99999, NULL);
    vt_put(t, 0, name, "stray", 5);
    cb_error_clear(&err);
    assert_int_equal(vt_verify(t, NULL, 0, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    vt_assert_one(r, t, 0, NULL, name);
    cb_verify_report_free(r);
    char *list = vt_name(t, 2, 0, "_sha256file");
    unsigned char *text = vt_get(t, 2, list, &len);
    vt_put(t, 2, list, text, len / 2);
    cb_error_clear(&err);
    assert_int_equal(vt_verify(t, NULL, 0, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    assert_non_null(strstr(err.msg, "2 problems found"));
    assert_int_equal(r->n_problems, 2);
    vt_find(r, t, 0, name);
    assert_string_equal(vt_find(r, t, 2, list)->object, list);
    cb_verify_report_free(r);
    free(text);
    free(list);
    free(name);
    vt_free(t);

    /* a _sha256file that parses but lacks its last entry */
    t = vt_build(1);
    vt_edit_json(t, 0, "_sha256file", vt_drop_last_sha);
    list = vt_name(t, 0, 0, "_sha256file");
    cb_error_clear(&err);
    assert_int_equal(vt_verify(t, t->layer[2]->backup_id, 0, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    vt_assert_one(r, t, 0, list, "has 255 entries");
    cb_verify_report_free(r);
    free(list);
    vt_free(t);

    /* a missing parent: a problem of the backup that needs it */
    t = vt_build(1);
    name = vt_name(t, 0, 0, "_metadata");
    assert_cb_ok(cb_store_delete_object(t->store, t->layer[0]->container, name, 0, &err), &err);
    for (int all = 0; all < 2; all++) {
        cb_error_clear(&err);
        assert_int_equal(vt_verify(t, all ? NULL : t->layer[2]->backup_id, 0, 0, 0, NULL, &r, &err),
                         CB_ECORRUPT);
        vt_assert_one(r, t, 1, NULL, "needs its parent");
        assert_int_equal(r->backups, 2);
        cb_verify_report_free(r);
    }
    free(name);
    vt_free(t);

    /* parents that loop: every backup on the loop says so */
    t = vt_build(1);
    vt_edit_json(t, 0, "_metadata", vt_parent_is_newest);
    cb_error_clear(&err);
    assert_int_equal(vt_verify(t, NULL, 0, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    for (int k = 0; k < VT_LAYERS; k++)
        vt_find(r, t, k, "loops");
    cb_verify_report_free(r);
    vt_free(t);
}

static void vt_change_sha2(json_t *doc, const vt *t)
{
    (void)t;
    json_t *shas = json_object_get(doc, "sha256s");
    char hex[65];
    snprintf(hex, sizeof(hex), "%s", json_string_value(json_array_get(shas, 2)));
    hex[63] = hex[63] == '0' ? '1' : '0';
    assert_int_equal(json_array_set_new(shas, 2, json_string(hex)), 0);
}

static void vt_change_md5(json_t *doc, const vt *t)
{
    json_t *entry = json_array_get(json_object_get(doc, "objects"), 0);
    char *name = vt_name(t, 0, 1, NULL);
    json_t *o = json_object_get(entry, name);
    assert_non_null(o);
    json_object_set_new(o, "md5", json_string("00112233445566778899aabbccddeeff"));
    free(name);
}

/* The data intact, but its MD5 in the metadata, or its entry in the list, changed: each
 * check on its own finds the object that no longer agrees. */
static void test_verify__md5_or_list_changed(void **state)
{
    (void)state;
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    vt *t = vt_build(1);
    vt_edit_json(t, 0, "_metadata", vt_change_md5);
    char *name = vt_name(t, 0, 1, NULL);
    assert_int_equal(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    vt_assert_one(r, t, 0, name, "the metadata says 00112233445566778899aabbccddeeff");
    cb_verify_report_free(r);
    free(name);
    vt_free(t);

    /* block 2 is in layer 2's first object */
    t = vt_build(1);
    vt_edit_json(t, 2, "_sha256file", vt_change_sha2);
    name = vt_name(t, 2, 1, NULL);
    cb_error_clear(&err);
    assert_int_equal(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    vt_assert_one(r, t, 2, name, "sha block at volume offset 8192 differs from entry 2");
    assert_non_null(strstr(r->problems[0].message, "the list may be the damaged part"));
    cb_verify_report_free(r);
    free(name);
    vt_free(t);
}

static int vt_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parts 1/3, 2/3 and 3/3 together read every object exactly once. */
static void test_verify__subsets(void **state)
{
    (void)state;
    vt *t = vt_build(1);
    vt_seen all = { 0 };
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    uint64_t read = 0;
    for (unsigned n = 1; n <= 3; n++) {
        assert_cb_ok(vt_verify(t, NULL, 1, n, 3, &all, &r, &err), &err);
        read += r->objects_read;
        assert_true(r->objects_read < vt_objects(t, 2)); /* a part, not everything */
        cb_verify_report_free(r);
    }
    assert_int_equal(read, vt_objects(t, 2));
    assert_int_equal(all.n, vt_objects(t, 2));
    qsort(all.names, all.n, sizeof(*all.names), vt_strcmp);
    for (size_t i = 1; i < all.n; i++)
        assert_true(strcmp(all.names[i - 1], all.names[i]) != 0);
    vt_seen_free(&all);
    /* the documented hash: FNV-1a 64 of "container/name" */
    assert_int_equal(cb__vf_part("c", "n", 1000), 372);
    /* a part that does not exist */
    assert_int_equal(vt_verify(t, NULL, 1, 4, 3, NULL, &r, &err), CB_EINVAL);
    cb_verify_report_free(r);
    vt_free(t);
}

/* A read that fails once, anywhere (any open_reader or read call), is read again and is
 * not damage. */
static void vt_fail_each_once(vt *t)
{
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    const cb_mem_op ops[] = { CB_MEM_OPEN_READER, CB_MEM_READ };
    for (size_t i = 0; i < 2; i++) {
        unsigned long before = cb_mem_store_calls(t->store, ops[i]);
        assert_cb_ok(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), &err);
        cb_verify_report_free(r);
        unsigned long calls = cb_mem_store_calls(t->store, ops[i]) - before;
        for (unsigned long nth = 1; nth <= calls; nth++) {
            cb_mem_store_fail(t->store, ops[i], nth, CB_ENET);
            assert_cb_ok(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), &err);
            if (r->retried != 1)
                print_error("%s call %lu of %lu failed once: %llu retried\n",
                            i ? "read" : "open_reader", nth, calls, (unsigned long long)r->retried);
            assert_int_equal(r->retried, 1);
            assert_int_equal(r->n_problems, 0);
            cb_verify_report_free(r);
        }
    }
}

static void test_verify__transient(void **state)
{
    (void)state;
    vt *t = vt_build(1);
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    vt_fail_each_once(t);
    /* twice: unreadable, and the read error (not damage) once everything was checked */
    char *name = vt_name(t, 1, 1, NULL);
    assert_int_equal(cb_mem_store_fail_object(t->store, t->layer[1]->container, name, 2, CB_ENET),
                     0);
    assert_int_equal(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), CB_ENET);
    assert_cb_error(&err, CB_ENET, "nothing damaged");
    vt_assert_one(r, t, 1, name, "unreadable");
    assert_int_equal(r->problems[0].code, CB_ENET);
    assert_int_equal(r->objects_read, vt_objects(t, 2));
    assert_true(r->complete);
    cb_verify_report_free(r);
    /* with damage elsewhere, damage it is */
    size_t len;
    char *bad = vt_name(t, 0, 3, NULL);
    free(vt_flip(t, 0, bad, &len));
    assert_int_equal(cb_mem_store_fail_object(t->store, t->layer[1]->container, name, 2, CB_ENET),
                     0);
    cb_error_clear(&err);
    assert_int_equal(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    assert_cb_error(&err, CB_ECORRUPT, bad);
    assert_int_equal(r->n_problems, 2);
    cb_verify_report_free(r);
    free(bad);
    free(name);
    vt_free(t);
}

/* Lists streamed in step with the objects instead of held: the same findings, and a
 * stream that fails is opened again. */
static void test_verify__streamed_lists(void **state)
{
    (void)state;
    cb_verify_report *r = NULL;
    cb_error err = { 0 };
    vt *t = vt_build_sha(1, 512); /* lists longer than one read: the streams are pumped */
    t->hold = 0;
    assert_cb_ok(vt_verify(t, NULL, 1, 0, 0, NULL, &r, &err), &err);
    assert_int_equal(r->objects_read, vt_objects(t, 2));
    cb_verify_report_free(r);
    vt_fail_each_once(t);
    vt_edit_json(t, 2, "_sha256file", vt_change_sha2);
    char *name = vt_name(t, 2, 1, NULL);
    assert_int_equal(vt_verify(t, t->layer[2]->backup_id, 1, 0, 0, NULL, &r, &err), CB_ECORRUPT);
    vt_assert_one(r, t, 2, name, "sha block at volume offset 1024 differs from entry 2");
    cb_verify_report_free(r);
    free(name);
    vt_free(t);
}

static int vt_restore(vt *t, int layer, int verify, cb_error *err)
{
    cb_restore_opts o = CB_RESTORE_OPTS_INIT;
    o.verify = verify;
    o.threads = 2;
    unlink(t->out);
    return cb_restore(t->store, t->layer[layer]->backup_id, t->out, &o, err);
}

static void vt_assert_restored(vt *t, int layer)
{
    FILE *f = fopen(t->out, "rb");
    assert_non_null(f);
    unsigned char *got = malloc(VT_VOL + 1);
    assert_int_equal(fread(got, 1, VT_VOL + 1, f), VT_VOL);
    fclose(f);
    assert_memory_equal(got, t->want[layer], VT_VOL);
    free(got);
}

static void test_verify__restore_verify(void **state)
{
    (void)state;
    vt *t = vt_build(0);
    cb_error err = { 0 };
    for (int k = 0; k < VT_LAYERS; k++) {
        assert_cb_ok(vt_restore(t, k, 1, &err), &err);
        vt_assert_restored(t, k);
    }
    /* one entry of the list changed, the data intact: restore passes on the MD5s, the
     * read-back compares with the list and names the block */
    char *list2 = vt_name(t, 2, 0, "_sha256file");
    size_t len2;
    unsigned char *orig2 = vt_get(t, 2, list2, &len2);
    vt_edit_json(t, 2, "_sha256file", vt_change_sha5);
    assert_cb_ok(vt_restore(t, 2, 0, &err), &err);
    vt_assert_restored(t, 2);
    assert_int_equal(vt_restore(t, 2, 1, &err), CB_ECORRUPT);
    assert_cb_error(&err, CB_ECORRUPT, "at byte offset 20480 (sha block 5)");
    assert_non_null(strstr(err.msg, "stays"));
    vt_assert_restored(t, 2);
    vt_put(t, 2, list2, orig2, len2);
    free(orig2);
    free(list2);
    /* no list: a full backup falls back to its objects' MD5s, a chain cannot be verified */
    char *list = vt_name(t, 0, 0, "_sha256file");
    assert_cb_ok(cb_store_delete_object(t->store, t->layer[0]->container, list, 0, &err), &err);
    assert_cb_ok(vt_restore(t, 0, 1, &err), &err);
    vt_assert_restored(t, 0);
    free(list);
    /* (an incremental without a list cannot even be restored: its size comes from it; one
     * whose list lost its last entries restores what its own objects reach) */
    vt_edit_json(t, 2, "_sha256file", vt_keep_200_shas);
    assert_cb_ok(vt_restore(t, 2, 0, &err), &err);
    cb_error_clear(&err);
    assert_int_equal(vt_restore(t, 2, 1, &err), CB_ECORRUPT);
    assert_cb_error(&err, CB_ECORRUPT, "cannot verify");
    assert_non_null(strstr(err.msg, "too short"));
    vt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify__clean),
        cmocka_unit_test(test_verify__flipped_parent_object),
        cmocka_unit_test(test_verify__md5_or_list_changed),
        cmocka_unit_test(test_verify__structure_reads_no_data),
        cmocka_unit_test(test_verify__structure_damage),
        cmocka_unit_test(test_verify__subsets),
        cmocka_unit_test(test_verify__transient),
        cmocka_unit_test(test_verify__streamed_lists),
        cmocka_unit_test(test_verify__restore_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
