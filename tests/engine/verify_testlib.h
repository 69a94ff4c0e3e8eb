/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify_testlib.h: what test_verify.c and test_verify_read.c share. A chain of three
 * backups (full, incremental, incremental; zlib, none, zlib) of a 1 MiB volume in a real
 * posix store, or in the mem store where its counters and injected failures are needed,
 * and ways to reach, damage and verify its objects.
 */
#ifndef CB_VERIFY_TESTLIB_H
#define CB_VERIFY_TESTLIB_H

#include <jansson.h>

#include "testutil.h"
#include "verify/verify.h"

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

/* The chain, in the mem store or a posix one; with another sha block. */
vt *vt_build(int mem);
vt *vt_build_sha(int mem, uint32_t sha);
void vt_free(vt *t);

/* A layer's data object n (from 1), or with `suffix` ("_metadata") a JSON one: free() it. */
char *vt_name(const vt *t, int layer, uint64_t n, const char *suffix);

/* An object's bytes (free() them); replace them; flip one in the middle (the original
 * bytes are returned). */
unsigned char *vt_get(vt *t, int layer, const char *name, size_t *len);
void vt_put(vt *t, int layer, const char *name, const void *data, size_t len);
unsigned char *vt_flip(vt *t, int layer, const char *name, size_t *len);

/* Edit a layer's JSON object (suffix "_metadata" or "_sha256file") through `edit`. */
void vt_edit_json(vt *t, int layer, const char *suffix, void (*edit)(json_t *, const vt *));

/* Edits: change entry 2, or 5, of a _sha256file (the data stays as it is). */
void vt_change_sha2(json_t *doc, const vt *t);
void vt_change_sha5(json_t *doc, const vt *t);

/* Objects reported through on_object, as "backup/object" strings. */
typedef struct vt_seen {
    char **names;
    size_t n;
    int bad; /* reported with a non-zero status */
} vt_seen;

void vt_seen_free(vt_seen *s);

/* Verify one backup (id) or all (NULL), the data too or not, part subset_n of subset_t. */
int vt_verify(vt *t,
              const char *id,
              int read_data,
              unsigned subset_n,
              unsigned subset_t,
              vt_seen *seen,
              cb_verify_report **rep,
              cb_error *err);

/* Data objects of layers 0..upto. */
uint64_t vt_objects(const vt *t, int upto);

/* Exactly one problem, of backup `layer`, of `object` (NULL: the backup as a whole),
 * mentioning `in_msg` (unless NULL). */
void vt_assert_one(
    const cb_verify_report *r, const vt *t, int layer, const char *object, const char *in_msg);

/* The problem of backup `layer` that mentions `in_msg` (fails the test if none). */
const cb_verify_problem *
vt_find(const cb_verify_report *r, const vt *t, int layer, const char *in_msg);

#endif
