/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hint.c: where the caller's database says a backup is (cb_backup_hint). Cinder's database
 * holds every backup's container and prefix (service_metadata); with them a backup is one
 * listing of its _metadata away, not a search of every container. The table is the
 * catalog's, kept in the store handle's opaque slot (cb__store_attach): the store layer
 * knows nothing of backups. A hint is only where to look first: cb__catalog_find checks
 * that the _metadata is there and otherwise searches as before.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cinderblock/sys/store.h"
#include "../util/util.h"
#include "../format/format.h"

typedef struct hint {
    char backup_id[CB_UUID_LEN + 1];
    char *container;
    char *prefix;
} hint;

typedef struct hint_table {
    pthread_mutex_t lock; /* finds may run on several threads while nobody adds */
    hint *v;
    size_t n, cap;
} hint_table;

static void hint_table_free(void *p)
{
    hint_table *t = p;
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].container);
        free(t->v[i].prefix);
    }
    free(t->v);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static hint_table *hint_table_of(cb_store *store, int create, cb_error *err)
{
    hint_table *t = cb__store_attachment(store);
    if (t != NULL || !create)
        return t;
    if ((t = cb__calloc(1, sizeof(*t), err)) == NULL)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    cb__store_attach(store, t, hint_table_free);
    return t;
}

int cb_backup_hint(cb_store *store,
                   const char *backup_id,
                   const char *container,
                   const char *prefix,
                   cb_error *err)
{
    char id[CB_UUID_LEN + 1];
    cb_prefix_parts parts;
    int rc;
    if (store == NULL)
        return cb_error_set(err, CB_EINVAL, "cb_backup_hint: no store");
    if ((rc = cb__uuid_normalize(id, backup_id, "backup id", err)) < 0)
        return rc;
    if (container == NULL || container[0] == '\0')
        return cb_error_set(err, CB_EINVAL, "hint for backup %s: no container given", id);
    if (prefix == NULL ||
        !cb__prefix_parse_as(prefix, cb_store_get_info(store)->flat_prefix, &parts) ||
        strcmp(parts.backup_id, id) != 0)
        return cb_error_set(err, CB_EINVAL,
                            "hint for backup %s: prefix '%s' is not a prefix of this backup in "
                            "this store's object names",
                            id, prefix ? prefix : "(null)");
    hint_table *t = hint_table_of(store, 1, err);
    if (t == NULL)
        return CB_ENOMEM;
    char *c = cb__strdup(container, err), *p = cb__strdup(prefix, err);
    if (c == NULL || p == NULL) {
        free(c);
        free(p);
        return CB_ENOMEM;
    }
    pthread_mutex_lock(&t->lock);
    size_t i = 0;
    while (i < t->n && strcmp(t->v[i].backup_id, id) != 0)
        i++;
    if (i == t->n && t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        hint *v = cb__realloc(t->v, cap * sizeof(*v), err);
        if (v == NULL) {
            pthread_mutex_unlock(&t->lock);
            free(c);
            free(p);
            return CB_ENOMEM;
        }
        t->v = v;
        t->cap = cap;
    }
    if (i == t->n) {
        memset(&t->v[i], 0, sizeof(t->v[i]));
        memcpy(t->v[i].backup_id, id, sizeof(id));
        t->n++;
    }
    free(t->v[i].container); /* a later hint replaces the earlier */
    free(t->v[i].prefix);
    t->v[i].container = c;
    t->v[i].prefix = p;
    pthread_mutex_unlock(&t->lock);
    return 0;
}

int cb__catalog_hinted(cb_store *store, const char *backup_id, char **container, char **prefix)
{
    hint_table *t = hint_table_of(store, 0, NULL);
    int found = 0;
    *container = *prefix = NULL;
    if (t == NULL)
        return 0;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n && !found; i++)
        if (strcmp(t->v[i].backup_id, backup_id) == 0) {
            cb_error ignored = { 0 };
            *container = cb__strdup(t->v[i].container, &ignored);
            *prefix = cb__strdup(t->v[i].prefix, &ignored);
            found = *container != NULL && *prefix != NULL;
        }
    pthread_mutex_unlock(&t->lock);
    if (!found) {
        free(*container);
        free(*prefix);
        *container = *prefix = NULL;
    }
    return found;
}
