/* SPDX-License-Identifier: Apache-2.0 */
/*
 * records.c: Cinder's export records (spec §2.9). `cinder backup-export` prints the driver's
 * class path and a base64 JSON record of the backup; `cinder backup-import` takes both. Our
 * export writes a record Cinder's import accepts; our import accepts Cinder's records.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "../util/util.h"
#include "../json/json.h"
#include "../format/format.h"

#define REC_GIB (1ull << 30)

/* Which Cinder drivers write what each store reads (NFS and GlusterFS are posix), Cinder's
 * and cinderblock's own (python/cinderblock/cinder, docs/cinder.md). */
static const struct {
    const char *store;
    const char *driver;
} rec_drivers[] = {
    { "posix", "cinder.backup.drivers.posix.PosixBackupDriver" },
    { "posix", "cinder.backup.drivers.nfs.NFSBackupDriver" },
    { "posix", "cinder.backup.drivers.glusterfs.GlusterfsBackupDriver" },
    { "posix", "cinderblock.cinder.PosixBackupDriver" },
    { "posix", "cinderblock.cinder.NFSBackupDriver" },
    { "swift", "cinder.backup.drivers.swift.SwiftBackupDriver" },
    { "swift", "cinderblock.cinder.SwiftBackupDriver" },
    { "s3", "cinder.backup.drivers.s3.S3BackupDriver" },
    { "s3", "cinderblock.cinder.S3BackupDriver" },
    { "mem", "cinder.backup.drivers.swift.SwiftBackupDriver" },
};

/* The drivers of `info`'s kind, ", "-separated, for a message. */
static void rec_driver_names(const cb_store_info *info, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(rec_drivers) / sizeof(rec_drivers[0]); i++)
        if (strcmp(rec_drivers[i].store, info->name) == 0 && used < cap)
            used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "",
                                     rec_drivers[i].driver);
}

/* An export names a driver exactly (an import, like Cinder's manager, takes a beginning). */
static int rec_driver_exact(const cb_store_info *info, const char *service)
{
    for (size_t i = 0; i < sizeof(rec_drivers) / sizeof(rec_drivers[0]); i++)
        if (strcmp(rec_drivers[i].store, info->name) == 0 &&
            strcmp(rec_drivers[i].driver, service) == 0)
            return 1;
    return 0;
}

static int rec_driver_ok(const cb_store_info *info, const char *service)
{
    for (size_t i = 0; i < sizeof(rec_drivers) / sizeof(rec_drivers[0]); i++)
        if (strcmp(rec_drivers[i].store, info->name) == 0 &&
            strncmp(rec_drivers[i].driver, service, strlen(service)) == 0 && service[0] != '\0')
            return 1;
    return 0;
}

static int rec_count_children(cb_store *store, const char *id, uint64_t *n_out, cb_error *err)
{
    cb_found *all = NULL;
    char **parents = NULL;
    size_t n = 0;
    int rc;
    *n_out = 0;
    if ((rc = cb__catalog_scan(store, &all, &n, err)) == 0 &&
        (rc = cb__catalog_parents(store, all, n, &parents, err)) == 0)
        for (size_t i = 0; i < n; i++)
            *n_out += parents[i] != NULL && strcmp(parents[i], id) == 0;
    cb__catalog_parents_free(parents, n);
    cb__catalog_free(all, n);
    return rc;
}

static void rec_opt_str(cb_pyjson *j, const char *key, const char *v, cb_error *err)
{
    cb_pyjson_key(j, key, err);
    v ? cb_pyjson_string(j, v, err) : cb_pyjson_null(j, err);
}

/* The record's JSON: driver_info first, then Backup's fields in declaration order. */
static int rec_json(cb_store *store,
                    const cb_backup_info *b,
                    const char *service,
                    uint64_t children,
                    char **out,
                    size_t *len,
                    cb_error *err)
{
    char when[24] = "";
    cb_time t;
    cb_pyjson j;
    int rc;
    if (b->created_at != NULL && cb__time_parse(b->created_at, &t) == 0)
        cb__time_record(when, t);
    uint64_t gib = (b->size + REC_GIB - 1) / REC_GIB;
    cb_pyjson_init(&j, 0, NULL, NULL);
    cb_pyjson_begin_object(&j, err);
    cb_pyjson_key(&j, "driver_info", err);
    cb_pyjson_begin_object(&j, err);
    cb_pyjson_end_object(&j, err);
    rec_opt_str(&j, "id", b->backup_id, err);
    rec_opt_str(&j, "user_id", NULL, err);
    rec_opt_str(&j, "project_id", NULL, err);
    rec_opt_str(&j, "volume_id", b->volume_id, err);
    rec_opt_str(&j, "host", NULL, err);
    rec_opt_str(&j, "availability_zone", cb_store_availability_zone(store), err);
    rec_opt_str(&j, "container", b->container, err);
    rec_opt_str(&j, "parent_id", b->parent_id, err);
    rec_opt_str(&j, "status", "available", err);
    rec_opt_str(&j, "fail_reason", NULL, err);
    cb_pyjson_key(&j, "size", err);
    cb_pyjson_uint(&j, gib ? gib : 1, err);
    rec_opt_str(&j, "display_name", b->name, err);
    rec_opt_str(&j, "display_description", b->description, err);
    rec_opt_str(&j, "service_metadata", b->prefix, err);
    rec_opt_str(&j, "service", service, err);
    cb_pyjson_key(&j, "object_count", err);
    cb_pyjson_uint(&j, b->object_count, err);
    rec_opt_str(&j, "temp_volume_id", NULL, err);
    rec_opt_str(&j, "temp_snapshot_id", NULL, err);
    cb_pyjson_key(&j, "num_dependent_backups", err);
    cb_pyjson_uint(&j, children, err);
    rec_opt_str(&j, "snapshot_id", NULL, err);
    rec_opt_str(&j, "data_timestamp", when[0] ? when : NULL, err);
    rec_opt_str(&j, "restore_volume_id", NULL, err);
    cb_pyjson_key(&j, "metadata", err);
    cb_pyjson_begin_object(&j, err);
    cb_pyjson_end_object(&j, err);
    rec_opt_str(&j, "encryption_key_id", NULL, err);
    rec_opt_str(&j, "created_at", when[0] ? when : NULL, err);
    rec_opt_str(&j, "updated_at", when[0] ? when : NULL, err);
    rec_opt_str(&j, "deleted_at", NULL, err);
    cb_pyjson_key(&j, "deleted", err);
    cb_pyjson_bool(&j, 0, err);
    cb_pyjson_end_object(&j, err);
    if ((rc = cb_pyjson_finish(&j, err)) == 0 && (*out = cb_pyjson_detach(&j, len)) == NULL)
        rc = cb_error_set(err, CB_ENOMEM, "out of memory");
    cb_pyjson_dispose(&j);
    return rc;
}

int cb_backup_export_record(
    cb_store *store, const char *backup_id, char **service_out, char **url_out, cb_error *err)
{
    return cb_backup_export_record_as(store, backup_id, NULL, service_out, url_out, err);
}

int cb_backup_export_record_as(cb_store *store,
                               const char *backup_id,
                               const char *service,
                               char **service_out,
                               char **url_out,
                               cb_error *err)
{
    const cb_store_info *info = cb_store_get_info(store);
    cb_backup_info *b = NULL;
    char *json = NULL, names[512];
    size_t len = 0;
    uint64_t children;
    int rc;
    *service_out = *url_out = NULL;
    if (service == NULL)
        service = info->cinder_driver;
    else if (!rec_driver_exact(info, service)) {
        rec_driver_names(info, names, sizeof(names));
        return cb_error_set(err, CB_EINVAL,
                            "backup service '%s' does not write what the %s store holds (one "
                            "of: %s)",
                            service, info->name, names);
    }
    if ((rc = cb_backup_show(store, backup_id, &b, err)) < 0 ||
        (rc = rec_count_children(store, b->backup_id, &children, err)) < 0 ||
        (rc = rec_json(store, b, service, children, &json, &len, err)) < 0)
        goto done;
    /* standard base64 without line breaks, as oslo's encode_as_text */
    char *url = cb__malloc(4 * ((len + 2) / 3) + 1, err);
    if (url == NULL) {
        rc = CB_ENOMEM;
        goto done;
    }
    EVP_EncodeBlock((unsigned char *)url, (unsigned char *)json, (int)len);
    *url_out = url;
    if ((*service_out = cb__strdup(service, err)) == NULL) {
        rc = CB_ENOMEM;
        free(*url_out);
        *url_out = NULL;
    }
done:
    free(json);
    cb_backup_info_free(b);
    return rc;
}

/* The backup the record names must be in the store, complete and consistent. */
static int rec_verify(cb_store *store, const cb_record *rec, cb_backup_info **out, cb_error *err)
{
    cb_layer l = { 0 };
    int rc;
    l.where.container = rec->container;
    l.where.prefix = rec->prefix;
    l.where.parts = rec->parts;
    char label[128];
    snprintf(label, sizeof(label), "metadata of backup %s", rec->id);
    if ((rc = cb__catalog_read_meta(store, &l.where, &l.meta, err)) < 0 ||
        (rc = cb__meta_check(&l.meta, rec->prefix, label, err)) < 0 ||
        (rc = cb__chain_check_listing(store, &l, err)) < 0)
        goto done;
    if (rec->has_object_count && (uint64_t)rec->object_count != l.meta.n_objects) {
        rc = cb_error_set(err, CB_ECORRUPT,
                          "the record says backup %s has %lld objects; the store holds %zu",
                          rec->id, rec->object_count, l.meta.n_objects);
        goto done;
    }
    rc = cb_backup_show(store, rec->id, out, err);
done:
    cb__meta_dispose(&l.meta);
    return rc;
}

int cb_backup_import_record(
    cb_store *store, const char *service, const char *url, cb_backup_info **out, cb_error *err)
{
    const cb_store_info *info = cb_store_get_info(store);
    cb_record rec;
    int rc;
    *out = NULL;
    if (!rec_driver_ok(info, service)) {
        char names[512];
        rec_driver_names(info, names, sizeof(names));
        return cb_error_set(err, CB_EINVAL,
                            "backup service '%s' does not write what the %s store reads (this "
                            "store takes records of %s)",
                            service, info->name, names);
    }
    if ((rc = cb__record_decode(&rec, url, err)) < 0)
        return rc;
    rc = rec_verify(store, &rec, out, err);
    cb__record_dispose(&rec);
    return rc;
}
