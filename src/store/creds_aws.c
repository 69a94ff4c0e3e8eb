/* SPDX-License-Identifier: Apache-2.0 */
/*
 * creds_aws.c: the AWS CLI's shared files. The profile is $AWS_PROFILE (else
 * $AWS_DEFAULT_PROFILE, else "default"); its section is [NAME] in the credentials file
 * ($AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials) and [profile NAME] ([default] for the
 * default) in the config file ($AWS_CONFIG_FILE, ~/.aws/config). In the AWS CLI's order, the
 * variables come first: the keys come from the profile only when AWS_ACCESS_KEY_ID (or its
 * _FILE) is not set, and then as a set (the credentials file's, else the config file's);
 * region and endpoint_url (also the nested "s3 =" / "  endpoint_url = ..." form) from the
 * config file when no AWS_REGION, AWS_DEFAULT_REGION or AWS_ENDPOINT_URL[_S3] is set.
 * Parsed with Debian's inih (ini.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "creds.h"
#include "../util/util.h"

enum { AWS_KEY_ID, AWS_SECRET, AWS_TOKEN, AWS_REGION, AWS_ENDPOINT, AWS_N };

typedef struct aws_file {
    const char *section; /* "NAME" or "profile NAME" */
    const char *alt;     /* another name for the section, or NULL */
    int found;           /* the section is in the file */
    int nomem;
    char *v[AWS_N];
} aws_file;

static const char *const aws_keys[AWS_N] = { "aws_access_key_id", "aws_secret_access_key",
                                             "aws_session_token", "region", "endpoint_url" };

static int aws_handler(void *user, const char *section, const char *name, const char *value)
{
    aws_file *f = user;
    if (strcmp(section, f->section) != 0 && (f->alt == NULL || strcmp(section, f->alt) != 0))
        return 1;
    f->found = 1;
    /* "s3 =" then "  endpoint_url = URL": inih hands the indented line over as a further
     * value of s3 */
    if (strcmp(name, "s3") == 0 && strncmp(value, "endpoint_url", 12) == 0) {
        const char *p = value + 12;
        p += strspn(p, " \t");
        if (*p != '=')
            return 1;
        p++;
        p += strspn(p, " \t");
        name = "endpoint_url";
        value = p;
    }
    for (int i = 0; i < AWS_N; i++)
        if (strcmp(name, aws_keys[i]) == 0 && value[0] != '\0') {
            free(f->v[i]);
            if ((f->v[i] = strdup(value)) == NULL) {
                f->nomem = 1;
                return 0;
            }
        }
    return 1;
}

static void aws_file_dispose(aws_file *f)
{
    for (int i = 0; i < AWS_N; i++) {
        if (f->v[i] != NULL)
            memset(f->v[i], 0, strlen(f->v[i]));
        free(f->v[i]);
    }
}

/* Read one file's section; a missing file is no error (the AWS CLI's neither). */
static int aws_read(aws_file *f, const char *path, const char *what, cb_error *err)
{
    FILE *in = fopen(path, "r");
    if (in == NULL)
        return 0;
    int r = ini_parse_file(in, aws_handler, f);
    fclose(in);
    if (f->nomem)
        return cb_error_set(err, CB_ENOMEM, "out of memory (reading %s '%s')", what, path);
    if (r > 0)
        return cb_error_set(err, CB_EAUTH, "%s '%s': line %d is not INI (key = value or [section])",
                            what, path, r);
    if (r < 0)
        return cb_error_set(err, CB_ENOMEM, "out of memory (reading %s '%s')", what, path);
    return 0;
}

static int aws_put(cb_creds *c, const char *var, const char *v, cb_error *err)
{
    return v != NULL ? cb__creds_set(c, var, v, err) : 0;
}

int cb__creds_aws(cb_creds *c, cb_error *err)
{
    char cpath[1024], kpath[1024], sect[300];
    const char *home = cb__creds_base(c, "HOME");
    const char *named = cb__creds_base(c, "AWS_PROFILE");
    const char *profile = named ? named : cb__creds_base(c, "AWS_DEFAULT_PROFILE");
    const char *kfile = cb__creds_base(c, "AWS_SHARED_CREDENTIALS_FILE");
    const char *cfile = cb__creds_base(c, "AWS_CONFIG_FILE");
    int rc;
    if (profile == NULL)
        profile = "default";
    if (kfile == NULL && home == NULL && cfile == NULL)
        return 0;
    snprintf(kpath, sizeof(kpath), "%s", kfile ? kfile : "");
    if (kfile == NULL && home != NULL)
        snprintf(kpath, sizeof(kpath), "%s/.aws/credentials", home);
    snprintf(cpath, sizeof(cpath), "%s", cfile ? cfile : "");
    if (cfile == NULL && home != NULL)
        snprintf(cpath, sizeof(cpath), "%s/.aws/config", home);
    snprintf(sect, sizeof(sect), "profile %s", profile);
    aws_file k = { .section = profile };
    aws_file f = { .section = strcmp(profile, "default") == 0 ? "default" : sect,
                   .alt = strcmp(profile, "default") == 0 ? "profile default" : NULL };
    if ((kpath[0] && (rc = aws_read(&k, kpath, "AWS credentials file", err)) < 0) ||
        (cpath[0] && (rc = aws_read(&f, cpath, "AWS config file", err)) < 0))
        goto done;
    rc = 0;
    if (!k.found && !f.found) {
        if (named != NULL || cb__creds_base(c, "AWS_DEFAULT_PROFILE") != NULL)
            rc = cb_error_set(err, CB_EAUTH, "AWS profile '%s' (%s) is in neither '%s' nor '%s'",
                              profile, named ? "AWS_PROFILE" : "AWS_DEFAULT_PROFILE", kpath, cpath);
        goto done;
    }
    if (cb__creds_get(c, "AWS_ACCESS_KEY_ID") == NULL) {
        aws_file *src = k.v[AWS_KEY_ID] != NULL ? &k : &f;
        if ((rc = aws_put(c, "AWS_ACCESS_KEY_ID", src->v[AWS_KEY_ID], err)) < 0 ||
            (rc = aws_put(c, "AWS_SECRET_ACCESS_KEY", src->v[AWS_SECRET], err)) < 0 ||
            (rc = aws_put(c, "AWS_SESSION_TOKEN", src->v[AWS_TOKEN], err)) < 0)
            goto done;
    }
    if (cb__creds_get(c, "AWS_REGION") == NULL && cb__creds_get(c, "AWS_DEFAULT_REGION") == NULL &&
        (rc = aws_put(c, "AWS_REGION", f.v[AWS_REGION], err)) < 0)
        goto done;
    if (cb__creds_get(c, "AWS_ENDPOINT_URL_S3") == NULL &&
        cb__creds_get(c, "AWS_ENDPOINT_URL") == NULL)
        rc = aws_put(c, "AWS_ENDPOINT_URL_S3", f.v[AWS_ENDPOINT], err);
done:
    aws_file_dispose(&k);
    aws_file_dispose(&f);
    return rc;
}
