/* SPDX-License-Identifier: Apache-2.0 */
/* info.c: describing backups: cb_backup_info, list and show. */
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "../util/util.h"
#include "../format/format.h"

void cb_backup_info_free(cb_backup_info *i)
{
    if (i == NULL)
        return;
    free(i->backup_id);
    free(i->volume_id);
    free(i->container);
    free(i->prefix);
    free(i->parent_id);
    free(i->name);
    free(i->description);
    free(i->created_at);
    free(i->volume_meta);
    free(i->compression);
    free(i->problem);
    free(i);
}

void cb_backup_info_free_array(cb_backup_info **infos, size_t n)
{
    for (size_t i = 0; infos != NULL && i < n; i++)
        cb_backup_info_free(infos[i]);
    free(infos);
}

static int info_dup(char **dst, const char *src, cb_error *err)
{
    *dst = NULL;
    if (src == NULL)
        return 0;
    *dst = cb__strdup(src, err);
    return *dst ? 0 : CB_ENOMEM;
}

/* The algorithm of the first compressed object, else "none". */
static const char *info_compression(const cb_meta *m)
{
    for (size_t i = 0; i < m->n_objects; i++)
        if (strcmp(m->objects[i].compression, "none") != 0)
            return m->objects[i].compression;
    return "none";
}

int cb__catalog_info(
    cb_store *store, const cb_found *f, const cb_meta *m, cb_backup_info **out, cb_error *err)
{
    (void)store;
    cb_backup_info *i = cb__calloc(1, sizeof(*i), err);
    if (i == NULL)
        return CB_ENOMEM;
    if (info_dup(&i->backup_id, f->parts.backup_id, err) < 0 ||
        info_dup(&i->volume_id, m && m->volume_id ? m->volume_id : f->parts.volume_id, err) < 0 ||
        info_dup(&i->container, f->container, err) < 0 ||
        info_dup(&i->prefix, f->prefix, err) < 0) {
        cb_backup_info_free(i);
        return CB_ENOMEM;
    }
    if (m != NULL &&
        (info_dup(&i->parent_id, m->parent_id, err) < 0 || info_dup(&i->name, m->name, err) < 0 ||
         info_dup(&i->description, m->description, err) < 0 ||
         info_dup(&i->created_at, m->created_at, err) < 0 ||
         info_dup(&i->volume_meta, m->volume_meta, err) < 0 ||
         info_dup(&i->compression, info_compression(m), err) < 0)) {
        cb_backup_info_free(i);
        return CB_ENOMEM;
    }
    i->chain_length = 1;
    if (m != NULL) {
        i->object_count = m->n_objects;
        for (size_t k = 0; k < m->n_objects; k++)
            i->data_bytes += m->objects[k].length;
    }
    *out = i;
    return 0;
}

int cb_backup_show(cb_store *store, const char *backup_id, cb_backup_info **out, cb_error *err)
{
    char id[CB_UUID_LEN + 1];
    cb_chain chain;
    int rc;
    *out = NULL;
    if ((rc = cb__uuid_normalize(id, backup_id, "backup id", err)) < 0 ||
        (rc = cb__chain_load_light(store, id, &chain, err)) < 0)
        return rc;
    const cb_layer *l = &chain.layers[0];
    if ((rc = cb__catalog_info(store, &l->where, &l->meta, out, err)) == 0) {
        (*out)->size = chain.size;
        (*out)->chain_length = (unsigned)chain.n;
    }
    if (rc == 0) { /* the sha block size is recorded only in the _sha256file */
        uint64_t count, blk;
        if ((rc = cb__shafile_stream(store, &l->where, NULL, NULL, &count, &blk, err)) == 0)
            (*out)->sha_block = (uint32_t)blk;
    }
    cb__chain_dispose(&chain);
    if (rc < 0) {
        cb_backup_info_free(*out);
        *out = NULL;
    }
    return rc;
}
