/* SPDX-License-Identifier: Apache-2.0 */
/*
 * creds.c: the settings of a store from their sources (creds.h): the NAME_FILE forms of the
 * secrets, then OS_CLOUD (Swift) or the AWS profile (S3) for what the variables leave unset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "../util/util.h"

#define CREDS_SECRET_MAX (64u << 10)

/* The settings that may be given as NAME_FILE, by store kind. */
static const char *const creds_swift_files[] = {
    "OS_PASSWORD",
    "OS_AUTH_TOKEN",
    "OS_APPLICATION_CREDENTIAL_SECRET",
    "OS_USERNAME",
    "ST_KEY",
    "ST_USER",
    "OS_AUTH_URL",
    "ST_AUTH",
    "OS_APPLICATION_CREDENTIAL_ID",
    "OS_STORAGE_URL",
    NULL,
};
static const char *const creds_s3_files[] = {
    "AWS_SECRET_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SESSION_TOKEN",
    NULL,
};

/* NAME_FILE: its content without one trailing newline (\n or \r\n). */
static int creds_file_form(cb_creds *c, const char *name, cb_error *err)
{
    char var[96], *text = NULL;
    snprintf(var, sizeof(var), "%s_FILE", name);
    const char *path = cb__creds_base(c, var);
    if (path == NULL)
        return 0;
    if (cb__creds_base(c, name) != NULL)
        return cb_error_set(err, CB_EAUTH, "both %s and %s are set: use one of them", name, var);
    int rc = cb__creds_read_file(path, var, &text, CREDS_SECRET_MAX, err);
    if (rc < 0)
        return rc;
    size_t n = strlen(text);
    if (n > 0 && text[n - 1] == '\n') {
        text[--n] = '\0';
        if (n > 0 && text[n - 1] == '\r')
            text[--n] = '\0';
    }
    if (n == 0)
        rc = cb_error_set(err, CB_EAUTH, "%s '%s' is empty", var, path);
    else
        rc = cb__creds_set(c, name, text, err);
    memset(text, 0, n);
    free(text);
    return rc;
}

int cb__creds_load(cb_creds **out, const char *kind, const cb_store_opts *opts, cb_error *err)
{
    const char *const *files = NULL;
    int rc = 0;
    *out = NULL;
    cb_creds *c = cb__calloc(1, sizeof(*c), err);
    if (c == NULL)
        return CB_ENOMEM;
    if (opts != NULL) {
        c->base = opts->getenv;
        c->base_payload = opts->getenv_payload;
    }
    if (strcmp(kind, "swift") == 0)
        files = creds_swift_files;
    else if (strcmp(kind, "s3") == 0)
        files = creds_s3_files;
    for (size_t i = 0; files != NULL && files[i] != NULL && rc == 0; i++)
        rc = creds_file_form(c, files[i], err);
    /* the cloud and the profile fill in only what the variables (or their files) leave unset */
    if (rc == 0 && strcmp(kind, "swift") == 0 && cb__creds_base(c, "OS_CLOUD") != NULL)
        rc = cb__creds_clouds(c, cb__creds_base(c, "OS_CLOUD"), err);
    if (rc == 0 && strcmp(kind, "s3") == 0)
        rc = cb__creds_aws(c, err);
    if (rc < 0) {
        cb__creds_free(c);
        return rc;
    }
    *out = c;
    return 0;
}
