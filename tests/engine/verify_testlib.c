/* SPDX-License-Identifier: Apache-2.0 */
/* verify_testlib.c: see verify_testlib.h. */
#include <stdio.h>
#include <stdlib.h>

#include "../tests/engine/verify_testlib.h"
#include "catalog/catalog.h"
#include "util/util.h"
#include "memstore.h"

/* Random data (stored "none"), text (compressed), zeros; then single blocks changed. */
vt *vt_build_sha(int mem, uint32_t sha)
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
    cb_mem_store_use();
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
        tu_write_file(t->vol, t->want[k], VT_VOL);
        assert_cb_ok(cb_backup(t->store, t->vol, &o, &t->layer[k], &err), &err);
    }
    return t;
}

vt *vt_build(int mem)
{
    return vt_build_sha(mem, VT_SHA);
}

void vt_free(vt *t)
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
char *vt_name(const vt *t, int layer, uint64_t n, const char *suffix)
{
    if (suffix != NULL)
        return cb__asprintf(NULL, "%s%s", t->layer[layer]->prefix, suffix);
    return cb__name_object(t->layer[layer]->prefix, n, NULL);
}

unsigned char *vt_get(vt *t, int layer, const char *name, size_t *len)
{
    char *data = NULL;
    cb_error err = { 0 };
    assert_cb_ok(
        cb_store_read_all(t->store, t->layer[layer]->container, name, 64u << 20, &data, len, &err),
        &err);
    return (unsigned char *)data;
}

void vt_put(vt *t, int layer, const char *name, const void *data, size_t len)
{
    cb_error err = { 0 };
    assert_cb_ok(cb_store_write_all(t->store, t->layer[layer]->container, name, data, len, &err),
                 &err);
}

/* Flip one byte in the middle of an object; returns its original bytes. */
unsigned char *vt_flip(vt *t, int layer, const char *name, size_t *len)
{
    unsigned char *orig = vt_get(t, layer, name, len);
    unsigned char *bad = malloc(*len);
    memcpy(bad, orig, *len);
    bad[*len / 2] ^= 0x10;
    vt_put(t, layer, name, bad, *len);
    free(bad);
    return orig;
}

static void vt_on_object(const char *backup_id, const char *object, int status, void *payload)
{
    vt_seen *s = payload;
    s->names = realloc(s->names, (s->n + 1) * sizeof(*s->names));
    s->names[s->n++] = cb__asprintf(NULL, "%s/%s", backup_id, object);
    s->bad += status != 0;
}

void vt_seen_free(vt_seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    memset(s, 0, sizeof(*s));
}

/* Verify one backup (id) or all (NULL). */
int vt_verify(vt *t,
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

uint64_t vt_objects(const vt *t, int upto)
{
    uint64_t n = 0;
    for (int k = 0; k <= upto; k++)
        n += t->layer[k]->object_count;
    return n;
}

/* Exactly one problem, of backup `layer`, of `object` (NULL: the backup as a whole) or
 * naming `in_msg` in its message. */
void vt_assert_one(
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

const cb_verify_problem *
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
void vt_edit_json(vt *t, int layer, const char *suffix, void (*edit)(json_t *, const vt *))
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

void vt_change_sha2(json_t *doc, const vt *t)
{
    (void)t;
    json_t *shas = json_object_get(doc, "sha256s");
    char hex[65];
    snprintf(hex, sizeof(hex), "%s", json_string_value(json_array_get(shas, 2)));
    hex[63] = hex[63] == '0' ? '1' : '0';
    assert_int_equal(json_array_set_new(shas, 2, json_string(hex)), 0);
}

void vt_change_sha5(json_t *doc, const vt *t)
{
    (void)t;
    json_t *shas = json_object_get(doc, "sha256s");
    char hex[65];
    snprintf(hex, sizeof(hex), "%s", json_string_value(json_array_get(shas, 5)));
    hex[0] = hex[0] == 'a' ? 'b' : 'a';
    assert_int_equal(json_array_set_new(shas, 5, json_string(hex)), 0);
}
