/* SPDX-License-Identifier: Apache-2.0 */
/* pending.c: records of backups in progress (see pending.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../hash/hash.h"
#include "pending.h"
#include "../util/util.h"
#include "../format/format.h"

#define PENDING_MAX_DOC (1u << 20)

void cb__pending_dispose(cb_pending *p)
{
    free(p->container);
    free(p->prefix);
    free(p->compression);
    free(p->parent_id);
    free(p->name);
    free(p->description);
    free(p->volume_meta);
    free(p->volume);
    free(p->record);
    memset(p, 0, sizeof(*p));
}

void cb__pending_free_array(cb_pending *v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        cb__pending_dispose(&v[i]);
    free(v);
}

static json_t *pending_str(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static char *pending_text(const cb_pending *p, cb_error *err)
{
    json_t *o = json_object();
    json_object_set_new(o, "cinderblock_pending", json_integer(1));
    json_object_set_new(o, "backup_id", json_string(p->backup_id));
    json_object_set_new(o, "volume_id", json_string(p->volume_id));
    json_object_set_new(o, "container", pending_str(p->container));
    json_object_set_new(o, "prefix", pending_str(p->prefix));
    json_object_set_new(o, "ts", json_string(p->ts));
    json_object_set_new(o, "created_at", json_string(p->created_at));
    json_object_set_new(o, "compression", pending_str(p->compression));
    json_object_set_new(o, "object_size", json_integer((json_int_t)p->object_size));
    json_object_set_new(o, "sha_block", json_integer((json_int_t)p->sha_block));
    json_object_set_new(o, "size", json_integer((json_int_t)p->size));
    json_object_set_new(o, "parent_id", pending_str(p->parent_id));
    json_object_set_new(o, "name", pending_str(p->name));
    json_object_set_new(o, "description", pending_str(p->description));
    json_object_set_new(o, "volume_meta", pending_str(p->volume_meta));
    json_object_set_new(o, "volume", pending_str(p->volume));
    json_object_set_new(o, "host", json_string(p->host));
    json_object_set_new(o, "pid", json_integer((json_int_t)p->pid));
    json_object_set_new(o, "started", json_integer((json_int_t)p->started));
    char *text = json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(o);
    if (text == NULL)
        cb_error_set(err, CB_ENOMEM, "out of memory");
    return text;
}

static int pending_write(cb_store *store,
                         const char *home,
                         const char *name,
                         const cb_pending *p,
                         unsigned flags,
                         cb_error *err)
{
    char *text = pending_text(p, err);
    if (text == NULL)
        return CB_ENOMEM;
    int rc = cb_store_write_all_flags(store, home, name, text, strlen(text), flags, err);
    free(text);
    return rc;
}

/* ---- reading ---- */

static int pending_dup(json_t *o, const char *key, char **out, cb_error *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!json_is_string(v))
        return 0;
    *out = cb__strdup(json_string_value(v), err);
    return *out ? 0 : CB_ENOMEM;
}

static void pending_copy(json_t *o, const char *key, char *dst, size_t cap)
{
    json_t *v = json_object_get(o, key);
    snprintf(dst, cap, "%s", json_is_string(v) ? json_string_value(v) : "");
}

static uint64_t pending_uint(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

static int pending_parse(cb_pending *p, const char *text, size_t len, cb_error *err)
{
    json_t *o = json_loadb(text, len, 0, NULL);
    int rc = 0;
    memset(p, 0, sizeof(*p));
    if (!json_is_object(o) || !json_is_integer(json_object_get(o, "cinderblock_pending"))) {
        json_decref(o);
        return CB_ECORRUPT;
    }
    pending_copy(o, "backup_id", p->backup_id, sizeof(p->backup_id));
    pending_copy(o, "volume_id", p->volume_id, sizeof(p->volume_id));
    pending_copy(o, "ts", p->ts, sizeof(p->ts));
    pending_copy(o, "created_at", p->created_at, sizeof(p->created_at));
    pending_copy(o, "host", p->host, sizeof(p->host));
    p->object_size = pending_uint(o, "object_size");
    p->sha_block = (uint32_t)pending_uint(o, "sha_block");
    p->size = pending_uint(o, "size");
    p->pid = (int64_t)pending_uint(o, "pid");
    p->started = (int64_t)pending_uint(o, "started");
    if ((rc = pending_dup(o, "container", &p->container, err)) < 0 ||
        (rc = pending_dup(o, "prefix", &p->prefix, err)) < 0 ||
        (rc = pending_dup(o, "compression", &p->compression, err)) < 0 ||
        (rc = pending_dup(o, "parent_id", &p->parent_id, err)) < 0 ||
        (rc = pending_dup(o, "name", &p->name, err)) < 0 ||
        (rc = pending_dup(o, "description", &p->description, err)) < 0 ||
        (rc = pending_dup(o, "volume_meta", &p->volume_meta, err)) < 0 ||
        (rc = pending_dup(o, "volume", &p->volume, err)) < 0)
        cb__pending_dispose(p);
    json_decref(o);
    if (rc == 0 && (p->container == NULL || p->prefix == NULL || !cb__uuid_valid(p->backup_id))) {
        cb__pending_dispose(p);
        rc = CB_ECORRUPT;
    }
    return rc;
}

static int
pending_read(cb_store *store, const char *home, const char *name, cb_pending *p, cb_error *err)
{
    char *text = NULL;
    size_t len;
    int rc = cb_store_read_all(store, home, name, PENDING_MAX_DOC, &text, &len, err);
    if (rc == 0 && (rc = pending_parse(p, text, len, err)) == CB_ECORRUPT)
        rc = cb_error_set(err, CB_ECORRUPT, "'%s' is not a record of a backup in progress", name);
    if (rc == 0 && (p->record = cb__strdup(name, err)) == NULL) {
        cb__pending_dispose(p);
        rc = CB_ENOMEM;
    }
    free(text);
    return rc;
}

/* The records of one backup id (`id`), or of all (NULL): the exact name, or with a suffix. */
static int
pending_find(cb_store *store, const char *home, const char *id, cb_strv *out, cb_error *err)
{
    char prefix[128];
    snprintf(prefix, sizeof(prefix), "%s%s", CB_PENDING_PREFIX, id ? id : "");
    out->err = err;
    int rc = cb_store_list(store, home, prefix, 0, cb__strv_collect, out, err);
    if (rc == CB_ENOTFOUND) {
        cb_error_clear(err);
        rc = 0;
    }
    return rc;
}

/* ---- the operations ---- */

int cb__pending_put(cb_store *store, const cb_pending *p, cb_error *err)
{
    char *home = NULL;
    int rc = cb_store_home_container(store, &home, err);
    if (rc == 0)
        rc = pending_write(store, home, p->record, p, 0, err);
    free(home);
    return rc;
}

static int pending_taken(const cb_pending *p, cb_error *err)
{
    return cb_error_set(err, CB_EEXISTS,
                        "backup %s is already being written (another backup was given the same "
                        "--backup-id)",
                        p->backup_id);
}

/* A record under a name of its own, then no other record of the id may exist: both may
 * lose a race, never both win. (A create-only write of one name would not do: Swift checks
 * If-None-Match when a PUT starts, so two racing PUTs can both succeed, and s3api refuses it.) */
static int pending_reserve_listed(cb_store *store, const char *home, cb_pending *p, cb_error *err)
{
    unsigned char rnd[4];
    char sfx[9];
    cb_strv others = { 0 };
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return cb_error_set(err, CB_ERROR, "no random bytes for a record name");
    cb__hex(sfx, rnd, sizeof(rnd));
    free(p->record);
    if ((p->record = cb__asprintf(err, "%s%s.%s", CB_PENDING_PREFIX, p->backup_id, sfx)) == NULL)
        return CB_ENOMEM;
    int rc = pending_write(store, home, p->record, p, 0, err);
    if (rc == 0)
        rc = pending_find(store, home, p->backup_id, &others, err);
    if (rc == 0 && others.n != 1) { /* ours, and another */
        cb_error ignored = { 0 };
        cb_store_delete_object(store, home, p->record, 0, &ignored);
        rc = pending_taken(p, err);
    }
    cb__strv_dispose(&others);
    return rc;
}

int cb__pending_reserve(cb_store *store, cb_pending *p, cb_error *err)
{
    char *home = NULL;
    int rc = cb_store_home_container(store, &home, err);
    if (rc == 0 && (rc = cb_store_put_container(store, home, 0, err)) == 0)
        rc = pending_reserve_listed(store, home, p, err);
    free(home);
    return rc;
}

int cb__pending_get(cb_store *store, const char *backup_id, cb_pending *out, cb_error *err)
{
    cb_strv found = { 0 };
    char *home = NULL;
    int rc = cb_store_home_container(store, &home, err);
    memset(out, 0, sizeof(*out));
    if (rc == 0)
        rc = pending_find(store, home, backup_id, &found, err);
    if (rc == 0 && found.n == 0)
        rc = cb_error_set(err, CB_ENOTFOUND, "there is no interrupted backup %s in the store",
                          backup_id);
    if (rc == 0)
        rc = pending_read(store, home, found.v[0], out, err);
    cb__strv_dispose(&found);
    free(home);
    return rc;
}

int cb__pending_remove(cb_store *store, const char *backup_id, cb_error *err)
{
    cb_strv found = { 0 };
    char *home = NULL;
    int rc = cb_store_home_container(store, &home, err);
    if (rc == 0)
        rc = pending_find(store, home, backup_id, &found, err);
    for (size_t i = 0; rc == 0 && i < found.n; i++)
        rc = cb_store_delete_object(store, home, found.v[i], 0, err);
    cb__strv_dispose(&found);
    free(home);
    return rc;
}

int cb__pending_list(cb_store *store, cb_pending **out, size_t *n_out, cb_error *err)
{
    cb_strv found = { 0 };
    char *home = NULL;
    cb_pending *v = NULL;
    size_t k = 0;
    int rc = cb_store_home_container(store, &home, err);
    if (rc == 0)
        rc = pending_find(store, home, NULL, &found, err);
    if (rc == 0 && (v = cb__calloc(found.n + 1, sizeof(*v), err)) == NULL)
        rc = CB_ENOMEM;
    for (size_t i = 0; rc == 0 && i < found.n; i++) {
        cb_error rerr = { 0 };
        int r = pending_read(store, home, found.v[i], &v[k], &rerr);
        if (r == 0)
            k++;
        else if (r != CB_ECORRUPT && r != CB_ENOTFOUND) { /* gone meanwhile, or not ours */
            *err = rerr;
            rc = r;
        }
    }
    cb__strv_dispose(&found);
    free(home);
    if (rc < 0) {
        cb__pending_free_array(v, k);
        return rc;
    }
    *out = v;
    *n_out = k;
    return 0;
}
