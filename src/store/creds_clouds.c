/* SPDX-License-Identifier: Apache-2.0 */
/*
 * creds_clouds.c: OS_CLOUD, as openstacksdk reads it. The first clouds.yaml found of
 * $OS_CLIENT_CONFIG_FILE, ./clouds.yaml, $XDG_CONFIG_HOME/openstack/clouds.yaml
 * (~/.config/openstack/), /etc/openstack/clouds.yaml (and .yml), and likewise the first
 * secure.yaml ($OS_CLIENT_SECURE_FILE first), whose values win over clouds.yaml's. The cloud's
 * auth, region_name and interface become the OS_* settings that are not set as variables
 * (variables win, as with the openstack client). Parsed with libyaml's document loader.
 */
#include <errno.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "creds.h"
#include "../util/util.h"

typedef struct clouds_file {
    char path[1024];
    int found;
    yaml_document_t doc;
    yaml_node_t *cloud; /* the named cloud's mapping, or NULL */
} clouds_file;

static const struct {
    const char *key; /* in the cloud's auth: mapping, or at the cloud's top for region/interface */
    int top;
    const char *var;
} clouds_map[] = {
    { "auth_url", 0, "OS_AUTH_URL" },
    { "username", 0, "OS_USERNAME" },
    { "user_id", 0, "OS_USER_ID" },
    { "password", 0, "OS_PASSWORD" },
    { "project_name", 0, "OS_PROJECT_NAME" },
    { "project_id", 0, "OS_PROJECT_ID" },
    { "user_domain_name", 0, "OS_USER_DOMAIN_NAME" },
    { "user_domain_id", 0, "OS_USER_DOMAIN_ID" },
    { "project_domain_name", 0, "OS_PROJECT_DOMAIN_NAME" },
    { "project_domain_id", 0, "OS_PROJECT_DOMAIN_ID" },
    { "application_credential_id", 0, "OS_APPLICATION_CREDENTIAL_ID" },
    { "application_credential_name", 0, "OS_APPLICATION_CREDENTIAL_NAME" },
    { "application_credential_secret", 0, "OS_APPLICATION_CREDENTIAL_SECRET" },
    { "token", 0, "OS_AUTH_TOKEN" },
    { "region_name", 1, "OS_REGION_NAME" },
    { "interface", 1, "OS_INTERFACE" },
};

/* The value node of `key` in a mapping node, or NULL. */
static yaml_node_t *clouds_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k != NULL && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

/* The first existing file of the search path for NAME (clouds, secure); *path_out empty when
 * none. `override` (OS_CLIENT_CONFIG_FILE) is taken as it is, existing or not. */
static void clouds_find(const cb_creds *c,
                        const char *name,
                        const char *override,
                        char *out,
                        size_t cap,
                        char *tried,
                        size_t tried_cap)
{
    const char *xdg = cb__creds_base(c, "XDG_CONFIG_HOME");
    const char *home = cb__creds_base(c, "HOME");
    char dirs[3][700];
    out[0] = '\0';
    if (override != NULL) {
        snprintf(out, cap, "%s", override);
        return;
    }
    snprintf(dirs[0], sizeof(dirs[0]), ".");
    if (xdg != NULL)
        snprintf(dirs[1], sizeof(dirs[1]), "%s/openstack", xdg);
    else if (home != NULL)
        snprintf(dirs[1], sizeof(dirs[1]), "%s/.config/openstack", home);
    else
        dirs[1][0] = '\0';
    snprintf(dirs[2], sizeof(dirs[2]), "/etc/openstack");
    for (int i = 0; i < 3; i++) {
        static const char *const sfx[] = { "yaml", "yml" };
        if (dirs[i][0] == '\0')
            continue;
        for (int j = 0; j < 2; j++) {
            int w = snprintf(out, cap, "%s/%s.%s", dirs[i], name, sfx[j]);
            if (w < 0 || (size_t)w >= cap)
                continue;
            if (access(out, F_OK) == 0)
                return;
            if (j == 0 && tried != NULL) {
                size_t n = strlen(tried);
                snprintf(tried + n, tried_cap - n, "%s%s", n ? ", " : "", out);
            }
        }
    }
    out[0] = '\0';
}

/* Load one file's document; a missing file is no error when it was searched for. */
static int clouds_load(clouds_file *f, const char *cloud, int must_exist, cb_error *err)
{
    yaml_parser_t parser;
    FILE *in = fopen(f->path, "rb");
    if (in == NULL) {
        if (!must_exist)
            return 0;
        return cb_error_set_sys(err, CB_EAUTH, errno, "cannot read '%s' (OS_CLOUD '%s')", f->path,
                                cloud);
    }
    if (!yaml_parser_initialize(&parser)) {
        fclose(in);
        return cb_error_set(err, CB_ENOMEM, "out of memory (YAML parser for '%s')", f->path);
    }
    yaml_parser_set_input_file(&parser, in);
    int ok = yaml_parser_load(&parser, &f->doc);
    if (!ok) {
        int rc = cb_error_set(err, CB_EAUTH, "%s: line %zu, column %zu: %s%s%s", f->path,
                              (size_t)parser.problem_mark.line + 1,
                              (size_t)parser.problem_mark.column + 1,
                              parser.problem ? parser.problem : "not YAML",
                              parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        fclose(in);
        return rc;
    }
    yaml_parser_delete(&parser);
    fclose(in);
    f->found = 1;
    yaml_node_t *root = yaml_document_get_root_node(&f->doc);
    yaml_node_t *clouds = clouds_get(&f->doc, root, "clouds");
    if (root != NULL && root->type != YAML_MAPPING_NODE)
        return cb_error_set(err, CB_EAUTH, "%s: not a mapping with a 'clouds' key", f->path);
    f->cloud = clouds_get(&f->doc, clouds, cloud);
    if (f->cloud != NULL && f->cloud->type != YAML_MAPPING_NODE)
        return cb_error_set(err, CB_EAUTH, "%s: cloud '%s' is not a mapping (line %zu)", f->path,
                            cloud, (size_t)f->cloud->start_mark.line + 1);
    return 0;
}

/* The names of the clouds in a file, for the message when the one asked for is not there. */
static void clouds_names(clouds_file *f, char *out, size_t cap)
{
    yaml_node_t *clouds = clouds_get(&f->doc, yaml_document_get_root_node(&f->doc), "clouds");
    out[0] = '\0';
    if (clouds == NULL || clouds->type != YAML_MAPPING_NODE)
        return;
    for (yaml_node_pair_t *p = clouds->data.mapping.pairs.start; p < clouds->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&f->doc, p->key);
        size_t n = strlen(out);
        if (k != NULL && k->type == YAML_SCALAR_NODE)
            snprintf(out + n, cap - n, "%s%s", n ? ", " : "", (const char *)k->data.scalar.value);
    }
}

static const char *clouds_value(clouds_file *f, const char *key, int top)
{
    if (f->cloud == NULL)
        return NULL;
    yaml_node_t *map = top ? f->cloud : clouds_get(&f->doc, f->cloud, "auth");
    yaml_node_t *v = clouds_get(&f->doc, map, key);
    if (v == NULL || v->type != YAML_SCALAR_NODE || v->data.scalar.length == 0)
        return NULL;
    return (const char *)v->data.scalar.value;
}

int cb__creds_clouds(cb_creds *c, const char *cloud, cb_error *err)
{
    clouds_file files[2]; /* secure.yaml first: its values win */
    char tried[2200] = "", names[512];
    int rc = 0;
    memset(files, 0, sizeof(files));
    const char *cfg = cb__creds_base(c, "OS_CLIENT_CONFIG_FILE");
    const char *sec = cb__creds_base(c, "OS_CLIENT_SECURE_FILE");
    clouds_find(c, "clouds", cfg, files[1].path, sizeof(files[1].path), tried, sizeof(tried));
    clouds_find(c, "secure", sec, files[0].path, sizeof(files[0].path), NULL, 0);
    if (files[1].path[0] == '\0') {
        rc = cb_error_set(err, CB_EAUTH,
                          "OS_CLOUD is '%s' but there is no clouds.yaml (looked for %s; or set "
                          "OS_CLIENT_CONFIG_FILE)",
                          cloud, tried);
        goto done;
    }
    if ((rc = clouds_load(&files[1], cloud, 1, err)) < 0 ||
        (files[0].path[0] != '\0' && (rc = clouds_load(&files[0], cloud, sec != NULL, err)) < 0))
        goto done;
    if (files[0].cloud == NULL && files[1].cloud == NULL) {
        clouds_names(&files[1], names, sizeof(names));
        rc = cb_error_set(err, CB_EAUTH, "cloud '%s' (OS_CLOUD) is not in %s (clouds there: %s)",
                          cloud, files[1].path, names[0] ? names : "none");
        goto done;
    }
    for (size_t i = 0; i < sizeof(clouds_map) / sizeof(clouds_map[0]) && rc == 0; i++) {
        char file_var[96];
        snprintf(file_var, sizeof(file_var), "%s_FILE", clouds_map[i].var);
        /* a variable, or its _FILE form already read into the table, wins */
        if (cb__creds_get(c, clouds_map[i].var) != NULL || cb__creds_base(c, file_var) != NULL)
            continue;
        const char *v = clouds_value(&files[0], clouds_map[i].key, clouds_map[i].top);
        if (v == NULL)
            v = clouds_value(&files[1], clouds_map[i].key, clouds_map[i].top);
        if (v != NULL)
            rc = cb__creds_set(c, clouds_map[i].var, v, err);
    }
    if (rc == 0 && cb__creds_get(c, "OS_AUTH_URL") == NULL)
        rc = cb_error_set(err, CB_EAUTH, "cloud '%s' in %s has no auth: auth_url", cloud,
                          files[1].path);
done:
    for (int i = 0; i < 2; i++)
        if (files[i].found)
            yaml_document_delete(&files[i].doc);
    return rc;
}
