/* SPDX-License-Identifier: Apache-2.0 */
/*
 * leftovers.c: finding and removing what belongs to no committed backup: the objects of a
 * backup that was killed (or interrupted and kept for --resume), of one whose delete was
 * killed after its _metadata went, objects under a committed backup's prefix that its
 * metadata does not list (they make Cinder refuse the backup), and records of backups in
 * progress whose backup is gone or done.
 *
 * Objects are grouped by the backup prefix in their names (Cinder's grammar), container by
 * container; a group with a readable _metadata is a committed backup.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../catalog/catalog.h"
#include "../lock/lock.h"
#include "../util/util.h"
#include "maintain.h"
#include "../format/format.h"

typedef struct lo_group {
    cb_leftover lo;
    size_t cap;
    int has_meta;
} lo_group;

typedef struct lo_scan {
    lo_group *g;
    size_t n, cap;
    const char *container;
    cb_error *err;
} lo_scan;

static void lo_dispose(cb_leftover *lo)
{
    free(lo->container);
    free(lo->prefix);
    free(lo->backup_id);
    for (size_t k = 0; k < lo->n_names; k++)
        free(lo->names[k]);
    free(lo->names);
    memset(lo, 0, sizeof(*lo));
}

void cb_leftover_free_array(cb_leftover *v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        lo_dispose(&v[i]);
    free(v);
}

/* The length of the backup prefix `name` starts with, or 0 when it follows no backup's
 * grammar (`<prefix>_metadata`, `<prefix>_sha256file`, `<prefix>-NNNNN`). */
static size_t lo_prefix_len(const char *name, int *is_meta)
{
    const char *b = NULL;
    for (const char *p = strstr(name, "_backup_"); p != NULL; p = strstr(p + 1, "_backup_"))
        b = p;
    if (b == NULL || strlen(b) < 8 + CB_UUID_LEN)
        return 0;
    size_t len = (size_t)(b - name) + 8 + CB_UUID_LEN;
    const char *rest = name + len;
    cb_prefix_parts parts;
    char *prefix = cb__strndup(name, len, NULL);
    int ok = prefix != NULL && cb__prefix_parse(prefix, &parts);
    free(prefix);
    *is_meta = strcmp(rest, "_metadata") == 0;
    if (!ok)
        return 0;
    if (*is_meta || strcmp(rest, "_sha256file") == 0)
        return len;
    if (rest[0] != '-' || rest[1] == '\0')
        return 0;
    for (const char *d = rest + 1; *d; d++)
        if (*d < '0' || *d > '9')
            return 0;
    return len;
}

static lo_group *lo_group_of(lo_scan *s, const char *name, size_t plen)
{
    for (size_t i = s->n; i-- > 0;) /* a container lists a prefix's objects together */
        if (strlen(s->g[i].lo.prefix) == plen && strncmp(s->g[i].lo.prefix, name, plen) == 0 &&
            strcmp(s->g[i].lo.container, s->container) == 0)
            return &s->g[i];
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        lo_group *v = cb__realloc(s->g, cap * sizeof(*v), s->err);
        if (v == NULL)
            return NULL;
        s->g = v;
        s->cap = cap;
    }
    lo_group *g = &s->g[s->n];
    memset(g, 0, sizeof(*g));
    cb_prefix_parts parts;
    g->lo.newest = -1;
    g->lo.container = cb__strdup(s->container, s->err);
    g->lo.prefix = cb__strndup(name, plen, s->err);
    if (g->lo.container == NULL || g->lo.prefix == NULL) {
        free(g->lo.container);
        free(g->lo.prefix);
        return NULL;
    }
    cb__prefix_parse(g->lo.prefix, &parts);
    if ((g->lo.backup_id = cb__strdup(parts.backup_id, s->err)) == NULL)
        return NULL;
    s->n++;
    return g;
}

static int lo_add_name(cb_leftover *lo, size_t *cap, const char *name, cb_error *err)
{
    if (lo->n_names == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        char **v = cb__realloc(lo->names, c * sizeof(*v), err);
        if (v == NULL)
            return CB_ENOMEM;
        lo->names = v;
        *cap = c;
    }
    if ((lo->names[lo->n_names] = cb__strdup(name, err)) == NULL)
        return CB_ENOMEM;
    lo->n_names++;
    return 0;
}

static int lo_on_entry(const cb_entry *e, void *payload)
{
    lo_scan *s = payload;
    int is_meta = 0;
    size_t plen = lo_prefix_len(e->name, &is_meta);
    if (plen == 0)
        return 0;
    lo_group *g = lo_group_of(s, e->name, plen);
    if (g == NULL)
        return CB_ENOMEM;
    g->has_meta |= is_meta;
    g->lo.objects++;
    g->lo.bytes += e->size > 0 ? (uint64_t)e->size : 0;
    if (e->mtime > g->lo.newest)
        g->lo.newest = e->mtime;
    return lo_add_name(&g->lo, &g->cap, e->name, s->err);
}

/* A committed backup's group keeps only the objects its metadata does not list. */
static int lo_committed(cb_store *store, lo_group *g, cb_error *err)
{
    cb_found f = { .container = g->lo.container, .prefix = g->lo.prefix };
    cb_meta m;
    cb_error merr = { 0 };
    size_t keep = 0, plen = strlen(g->lo.prefix);
    cb__prefix_parse(g->lo.prefix, &f.parts);
    if (cb__catalog_read_meta(store, &f, &m, &merr) < 0) {
        if (merr.code == CB_ENOMEM)
            return cb_error_set(err, CB_ENOMEM, "%s", merr.msg);
        for (size_t i = 0; i < g->lo.n_names; i++) /* damaged, not left over: `verify` says */
            free(g->lo.names[i]);
        g->lo.n_names = g->lo.objects = 0;
        return 0;
    }
    for (size_t i = 0; i < g->lo.n_names; i++) {
        const char *name = g->lo.names[i], *rest = name + plen;
        int listed = strcmp(rest, "_metadata") == 0 || strcmp(rest, "_sha256file") == 0;
        for (size_t k = 0; !listed && k < m.n_objects; k++)
            listed = strcmp(m.objects[k].name, name) == 0;
        if (listed)
            free(g->lo.names[i]);
        else
            g->lo.names[keep++] = g->lo.names[i];
    }
    cb__meta_dispose(&m);
    g->lo.n_names = g->lo.objects = keep;
    g->lo.bytes = 0; /* which of them took what is not known: say nothing */
    if (keep > 0)
        g->lo.reason = "objects under a committed backup's prefix that its metadata does not list";
    return 0;
}

/* Every group of objects named like a backup's, in every container. */
static int lo_scan_all(cb_store *store, lo_scan *s, cb_error *err)
{
    char **containers = NULL;
    size_t nc = 0;
    int rc = cb__catalog_containers(store, &containers, &nc, err);
    s->err = err;
    for (size_t i = 0; rc == 0 && i < nc; i++) {
        s->container = containers[i];
        rc = cb_store_list_entries(store, containers[i], "volume_", 0, lo_on_entry, s, err);
        if (rc == CB_ENOTFOUND) { /* gone meanwhile */
            cb_error_clear(err);
            rc = 0;
        }
    }
    for (size_t i = 0; i < nc; i++)
        free(containers[i]);
    free(containers);
    for (size_t i = 0; rc == 0 && i < s->n; i++)
        if (s->g[i].has_meta)
            rc = lo_committed(store, &s->g[i], err);
    return rc;
}

/* The records of backups in progress, matched with their groups; a record alone is a
 * leftover of its own. Then: which backups hold a live lock now. */
static int lo_records(cb_store *store, lo_scan *s, cb_error *err)
{
    cb_pending *p = NULL;
    cb_lock_info *locks = NULL;
    size_t np = 0, nl = 0;
    int rc = cb__pending_list(store, &p, &np, err);
    if (rc == 0)
        rc = cb_lock_list(store, &locks, &nl, err);
    for (size_t i = 0; rc == 0 && i < np; i++) {
        lo_group *g = NULL;
        for (size_t k = 0; g == NULL && k < s->n; k++)
            if (strcmp(s->g[k].lo.prefix, p[i].prefix) == 0 &&
                strcmp(s->g[k].lo.container, p[i].container) == 0)
                g = &s->g[k];
        if (g == NULL) {
            s->container = p[i].container;
            if ((g = lo_group_of(s, p[i].prefix, strlen(p[i].prefix))) == NULL)
                rc = CB_ENOMEM;
        }
        if (rc == 0 && (rc = lo_add_name(&g->lo, &g->cap, p[i].record, err)) == 0)
            g->lo.resumable = !g->has_meta;
        if (g != NULL && g->lo.newest < p[i].started)
            g->lo.newest = p[i].started;
    }
    for (size_t i = 0; rc == 0 && i < s->n; i++)
        for (size_t k = 0; k < nl; k++)
            if (!locks[k].stale && locks[k].command != NULL &&
                strncmp(locks[k].command, "backup ", 7) == 0 &&
                strcmp(locks[k].command + 7, s->g[i].lo.backup_id) == 0)
                s->g[i].lo.active = 1;
    cb__pending_free_array(p, np);
    cb_lock_info_free_array(locks, nl);
    return rc;
}

static const char *lo_reason(const lo_group *g)
{
    if (g->lo.reason != NULL)
        return g->lo.reason;
    if (g->lo.active)
        return "a backup being written now";
    if (g->lo.resumable)
        return "an interrupted backup (`backup VOLUME --resume ID` continues it)";
    if (g->has_meta)
        return "the record of a backup that was committed";
    return "no _metadata: a backup that was killed, or a delete that was";
}

int cb_leftover_list(cb_store *store, cb_leftover **out, size_t *n_out, cb_error *err)
{
    lo_scan s = { 0 };
    size_t k = 0;
    int rc = lo_scan_all(store, &s, err);
    if (rc == 0)
        rc = lo_records(store, &s, err);
    cb_leftover *v = rc == 0 ? cb__calloc(s.n + 1, sizeof(*v), err) : NULL;
    if (rc == 0 && v == NULL)
        rc = CB_ENOMEM;
    for (size_t i = 0; i < s.n; i++) {
        if (rc < 0 || s.g[i].lo.n_names == 0) { /* a committed backup with nothing extra */
            lo_dispose(&s.g[i].lo);
            continue;
        }
        s.g[i].lo.reason = lo_reason(&s.g[i]);
        v[k++] = s.g[i].lo;
    }
    free(s.g);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v;
    *n_out = k;
    return 0;
}

/* Remove one leftover: its objects, then its record (a record left alone still marks it). */
static int lo_remove(cb_store *store, const char *home, const cb_leftover *lo, cb_error *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < lo->n_names; i++) {
        const char *name = lo->names[i];
        int record = strncmp(name, CB_PENDING_PREFIX, strlen(CB_PENDING_PREFIX)) == 0;
        if (!record)
            rc = cb_store_delete_object(store, lo->container, name, 0, err);
    }
    for (size_t i = 0; rc == 0 && i < lo->n_names; i++)
        if (strncmp(lo->names[i], CB_PENDING_PREFIX, strlen(CB_PENDING_PREFIX)) == 0)
            rc = cb_store_delete_object(store, home, lo->names[i], 0, err);
    return rc;
}

static int lo_due(const cb_leftover *lo, double older_than, int64_t now)
{
    if (lo->active)
        return 0;
    if (older_than <= 0) /* all: a store's clock may run a little ahead of ours */
        return 1;
    return lo->newest >= 0 && (double)(now - lo->newest) >= older_than;
}

int cb_cleanup(cb_store *store,
               double older_than,
               unsigned int flags,
               cb_leftover **removed,
               size_t *n_removed,
               cb_error *err)
{
    cb_lock *lock = NULL;
    int dry = (flags & CB_CLEANUP_DRY_RUN) != 0;
    if (n_removed != NULL)
        *n_removed = 0;
    /* a dry run writes nothing, not even a lock (as backup and delete --dry-run) */
    int rc = dry ? 0 : cb__lock_take(store, 1, "cleanup", NULL, &lock, err);
    if (rc == 0)
        rc = cb__cleanup_locked(store, lock, older_than, dry, removed, n_removed, err);
    cb__lock_release(lock);
    return rc;
}

int cb__cleanup_locked(cb_store *store,
                       cb_lock *lock,
                       double older_than,
                       int dry,
                       cb_leftover **removed,
                       size_t *n_removed,
                       cb_error *err)
{
    cb_leftover *v = NULL;
    char *home = NULL;
    size_t n = 0, k = 0;
    int64_t now = (int64_t)time(NULL);
    int rc = cb_store_home_container(store, &home, err);
    if (rc == 0)
        rc = cb_leftover_list(store, &v, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!lo_due(&v[i], older_than, now))
            continue;
        if (!dry &&
            ((rc = cb__lock_held(lock, err)) < 0 || (rc = lo_remove(store, home, &v[i], err)) < 0))
            break;
        cb_leftover t = v[k]; /* what is removed goes to the front */
        v[k] = v[i];
        v[i] = t;
        k++;
    }
    free(home);
    if (rc < 0 || removed == NULL) {
        cb_leftover_free_array(v, n);
        v = NULL;
    } else {
        for (size_t i = k; i < n; i++) /* the caller gets the first k */
            lo_dispose(&v[i]);
        *removed = v;
    }
    if (n_removed != NULL)
        *n_removed = rc == 0 ? k : 0;
    return rc;
}
