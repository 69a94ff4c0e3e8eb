/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3.c: the S3 store (Cinder's S3BackupDriver, spec §4.5), for AWS, Ceph RGW, MinIO, Swift's
 * s3api and other S3-compatible servers.
 *
 * URL: s3://BUCKET (empty: "volumebackups"). Settings (environment, via cb_store_opts.getenv,
 * where cb_store_open() has added the _FILE forms and the AWS profile: src/store/creds.h):
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN   credentials
 *   AWS_REGION, AWS_DEFAULT_REGION                               SigV4 region (us-east-1)
 *   AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL                        endpoint (AWS otherwise)
 *   CINDERBLOCK_S3_ADDRESSING=path|virtual   bucket in the path or in the host name
 *                                            (default: path with an endpoint, else virtual)
 *   CINDERBLOCK_S3_PART_SIZE                 multipart part size (8M; at least 5M)
 *   CINDERBLOCK_S3_SSE_C_KEY (or _KEY_FILE), CINDERBLOCK_S3_SSE_C_ALGORITHM (AES256)
 *                                            SSE-C: the raw customer key, as Cinder's
 *                                            backup_s3_sse_customer_key
 *
 * Requests are signed with SigV4 in s3_sign.c (not libcurl's CURLOPT_AWS_SIGV4: see there
 * why). Every request carries x-amz-content-sha256, the SHA-256 of its body.
 *
 * This file: buckets, readers, the small operations, the ops table, the settings and the
 * constructor; s3_internal.h says where the rest is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "s3_internal.h"

#define S3_DEFAULT_BUCKET "volumebackups"
#define S3_DEFAULT_PART (8u << 20)
#define S3_MIN_PART (5u << 20)

/* ---- buckets ---- */

static int s3_create_bucket(s3_state *st, const char *bucket, const char *what, cb_error *err)
{
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    char *body = NULL;
    int rc;
    req.what = what;
    /* us-east-1 is the one region that takes no location constraint */
    if (strcmp(st->region, "us-east-1") != 0 &&
        (body = cb__asprintf(err,
                             "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
                             "2006-03-01/\"><LocationConstraint>%s</LocationConstraint>"
                             "</CreateBucketConfiguration>",
                             st->region)) == NULL)
        return CB_ENOMEM;
    if ((rc = cb__s3_req_init(&req, st, "PUT", bucket, NULL, NULL, 0, err)) < 0 ||
        (rc = cb__s3_req_body(&req, body, body ? strlen(body) : 0, NULL, err)) < 0 ||
        (rc = cb__s3_call(st, &req, &resp, err)) < 0)
        goto done;
    char code[128], msg[8];
    cb__s3_xml_error(resp.body.data, resp.body.len, code, sizeof(code), msg, sizeof(msg));
    if (!cb__s3_ok(&resp) && strcmp(code, "BucketAlreadyOwnedByYou") != 0)
        rc = cb__s3_fail(st, &req, &resp, err);
done:
    free(body);
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}

static int s3_put_container(void *state, const char *bucket, unsigned int flags, cb_error *err)
{
    s3_state *st = state;
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    char what[300];
    int rc;
    (void)flags;
    if ((rc = cb__s3_check_bucket(bucket, err)) < 0)
        return rc;
    snprintf(what, sizeof(what), "look up bucket '%s'", bucket);
    if ((rc = cb__s3_simple(st, "HEAD", bucket, NULL, NULL, what, &req, &resp, err)) < 0)
        goto done;
    if (resp.status == 404 && st->create) {
        snprintf(what, sizeof(what), "create bucket '%s'", bucket);
        rc = s3_create_bucket(st, bucket, what, err);
    } else if (resp.status == 404) {
        rc = cb__http_error(err, CB_ENOTFOUND, 404,
                            "s3 store: bucket '%s' does not exist and creating containers is "
                            "disabled (--no-create-container)",
                            bucket);
    } else if (!cb__s3_ok(&resp)) {
        rc = cb__s3_fail(st, &req, &resp, err);
    }
done:
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}

/* ---- reader ---- */

typedef struct s3_reader {
    cb_reader base;
    cb_http_get get;
    char what[600];
} s3_reader;

static int s3_reader_read(cb_reader *base, void *buf, size_t cap, size_t *n_out, cb_error *err)
{
    s3_reader *r = (s3_reader *)base;
    return cb__http_get_read(&r->get, buf, cap, n_out, err);
}

static void s3_reader_free(cb_reader *base)
{
    s3_reader *r = (s3_reader *)base;
    cb__http_get_dispose(&r->get);
    free(r);
}

static const cb_reader_ops s3_reader_ops = {
    CB_READER_OPS_INIT,
    .read = s3_reader_read,
    .free = s3_reader_free,
};

static int s3_open_reader(void *state,
                          const char *bucket,
                          const char *key,
                          const char *extra_metadata,
                          unsigned int flags,
                          cb_reader **out,
                          cb_error *err)
{
    s3_state *st = state;
    int rc;
    (void)extra_metadata;
    (void)flags;
    if ((rc = cb__s3_check_bucket(bucket, err)) < 0)
        return rc;
    s3_reader *r = cb__calloc(1, sizeof(*r), err);
    if (r == NULL)
        return CB_ENOMEM;
    r->base.ops = &s3_reader_ops;
    snprintf(r->what, sizeof(r->what), "download of '%s' from bucket '%s'", key, bucket);
    r->get = (cb_http_get){ .h = st->h, .req = CB_HTTP_REQ_INIT };
    r->get.req.what = r->what;
    r->get.prepare = cb__s3_prepare;
    r->get.payload = st;
    if ((rc = cb__s3_req_init(&r->get.req, st, "GET", bucket, key, NULL, 1, err)) == 0 &&
        (rc = cb__http_get_open(&r->get, err)) == 0 && !cb__s3_ok(&r->get.resp))
        rc = r->get.resp.status == 404
                 ? cb__http_error(err, CB_ENOTFOUND, 404,
                                  "s3 store: object '%s' not found in bucket '%s'", key, bucket)
                 : cb__s3_fail(st, &r->get.req, &r->get.resp, err);
    if (rc < 0) {
        s3_reader_free(&r->base);
        return rc;
    }
    *out = &r->base;
    return 0;
}

/* ---- the rest ---- */

static int s3_open_writer_op(void *state,
                             const char *bucket,
                             const char *key,
                             const char *extra_metadata,
                             unsigned int flags,
                             cb_writer **out,
                             cb_error *err)
{
    int rc;
    (void)extra_metadata;
    if ((rc = cb__s3_check_bucket(bucket, err)) < 0)
        return rc;
    return cb__s3_open_writer(state, bucket, key, flags, out, err);
}

static int s3_delete_object(
    void *state, const char *bucket, const char *key, unsigned int flags, cb_error *err)
{
    s3_state *st = state;
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    char what[600];
    int rc;
    (void)flags;
    if ((rc = cb__s3_check_bucket(bucket, err)) < 0)
        return rc;
    snprintf(what, sizeof(what), "delete of '%s' in bucket '%s'", key, bucket);
    /* 404 (no such key or bucket): already gone, which is what was asked */
    if ((rc = cb__s3_simple(st, "DELETE", bucket, key, NULL, what, &req, &resp, err)) == 0 &&
        !cb__s3_ok(&resp) && resp.status != 404)
        rc = cb__s3_fail(st, &req, &resp, err);
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}

static int s3_update_container_name(
    void *state, const char *backup_id, const char *container, char **out, cb_error *err)
{
    s3_state *st = state;
    (void)backup_id;
    *out = cb__strdup(container ? container : st->bucket, err);
    return *out ? 0 : CB_ENOMEM;
}

/* The URL's bucket: every backup may share it, so store-wide records live there. */
static int s3_home_container(void *state, char **out, cb_error *err)
{
    s3_state *st = state;
    *out = cb__strdup(st->bucket, err);
    return *out ? 0 : CB_ENOMEM;
}

static int s3_check(void *state, cb_error *err)
{
    s3_state *st = state;
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    char what[300];
    snprintf(what, sizeof(what), "look up bucket '%s'", st->bucket);
    int rc = cb__s3_simple(st, "HEAD", st->bucket, NULL, NULL, what, &req, &resp, err);
    if (rc == 0 && resp.status == 404 && !st->create)
        rc = cb__http_error(err, CB_ENOTFOUND, 404,
                            "s3 store: bucket '%s' does not exist and creating containers is "
                            "disabled (--no-create-container)",
                            st->bucket);
    else if (rc == 0 && !cb__s3_ok(&resp) && resp.status != 404)
        rc = cb__s3_fail(st, &req, &resp, err);
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}

static void s3_free_secret(char *s)
{
    if (s != NULL)
        memset(s, 0, strlen(s));
    free(s);
}

static void s3_destroy(void *state)
{
    s3_state *st = state;
    if (st == NULL)
        return;
    cb__http_free(st->h);
    free(st->bucket);
    free(st->scheme);
    free(st->host);
    free(st->base_path);
    free(st->region);
    free(st->access_key);
    s3_free_secret(st->secret_key);
    s3_free_secret(st->session_token);
    free(st->sse_algorithm);
    s3_free_secret(st->sse_key_b64);
    free(st->sse_key_md5_b64);
    free(st);
}

static const cb_store_ops s3_store_ops = {
    CB_STORE_OPS_INIT,
    .name = "s3",
    .flags = CB_STORE_PARALLEL | CB_STORE_EXCLUSIVE,
    .cinder_driver = "cinder.backup.drivers.s3.S3BackupDriver",
    .default_object_size = 52428800, /* backup_s3_object_size */
    .default_sha_block = 32768,      /* backup_s3_block_size */
    .put_container = s3_put_container,
    .list = cb__s3_list,
    .open_writer = s3_open_writer_op,
    .open_reader = s3_open_reader,
    .delete_object = s3_delete_object,
    .destroy = s3_destroy,
    .update_container_name = s3_update_container_name,
    .list_containers = cb__s3_list_containers,
    .check = s3_check,
    .list_entries = cb__s3_list_entries,
    .home_container = s3_home_container,
    .default_coalesce = 524288, /* a request costs ~8 ms on the local Swift: halves the objects */
    .default_connections = 8,   /* requests wait on the network: more than the CPUs */
};

/* ---- settings ---- */

static const char *s3_env(const cb_store_opts *opts, const char *a, const char *b)
{
    const char *v = cb_store_getenv(opts, a);
    if ((v == NULL || v[0] == '\0') && b != NULL)
        v = cb_store_getenv(opts, b);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Split "scheme://host[:port][/path]" of the endpoint. */
static int s3_endpoint(s3_state *st, const char *url, cb_error *err)
{
    const char *sep = strstr(url, "://");
    if (sep == NULL || !((sep - url == 4 && strncmp(url, "http", 4) == 0) ||
                         (sep - url == 5 && strncmp(url, "https", 5) == 0)))
        return cb_error_set(err, CB_EINVAL,
                            "s3 store: endpoint '%s' (AWS_ENDPOINT_URL_S3) is not an http:// or "
                            "https:// URL",
                            url);
    const char *host = sep + 3;
    size_t hlen = strcspn(host, "/?#");
    if (hlen == 0 || memchr(host, '@', hlen) != NULL)
        return cb_error_set(err, CB_EINVAL,
                            "s3 store: endpoint '%.*s://...' needs a host and no user:password "
                            "(use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
                            (int)(sep - url), url);
    const char *path = host + hlen;
    size_t plen = strcspn(path, "?#");
    while (plen > 0 && path[plen - 1] == '/')
        plen--;
    st->scheme = cb__strndup(url, (size_t)(sep - url), err);
    st->host = cb__strndup(host, hlen, err);
    st->base_path = cb__strndup(path, plen, err);
    return st->scheme && st->host && st->base_path ? 0 : CB_ENOMEM;
}

/* SSE-C: the raw key as Cinder takes it; sent base64-encoded with its MD5. */
static int s3_sse(s3_state *st, const cb_store_opts *opts, cb_error *err)
{
    const char *key = s3_env(opts, "CINDERBLOCK_S3_SSE_C_KEY", NULL);
    const char *file = s3_env(opts, "CINDERBLOCK_S3_SSE_C_KEY_FILE", NULL);
    const char *alg = s3_env(opts, "CINDERBLOCK_S3_SSE_C_ALGORITHM", NULL);
    char buf[256];
    size_t n;
    if (key == NULL && file != NULL) {
        FILE *f = fopen(file, "rb");
        if (f == NULL)
            return cb_error_set_sys(err, CB_EINVAL, errno,
                                    "s3 store: cannot read CINDERBLOCK_S3_SSE_C_KEY_FILE '%s'",
                                    file);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        buf[n] = '\0';
        key = buf;
    }
    if (key == NULL) {
        if (alg != NULL)
            return cb_error_set(err, CB_EINVAL,
                                "s3 store: CINDERBLOCK_S3_SSE_C_ALGORITHM is set but no "
                                "CINDERBLOCK_S3_SSE_C_KEY");
        return 0;
    }
    n = strlen(key);
    unsigned char raw[16];
    char hex[33], md5_b64[25];
    st->sse_key_b64 = cb__malloc(4 * ((n + 2) / 3) + 1, err);
    if (st->sse_key_b64 == NULL)
        return CB_ENOMEM;
    cb__http_base64(st->sse_key_b64, (const unsigned char *)key, n);
    cb__s3_md5(key, n, raw, hex, md5_b64);
    memset(buf, 0, sizeof(buf));
    st->sse_key_md5_b64 = cb__strdup(md5_b64, err);
    st->sse_algorithm = cb__strdup(alg ? alg : "AES256", err);
    return st->sse_key_md5_b64 && st->sse_algorithm ? 0 : CB_ENOMEM;
}

static int s3_part_size(s3_state *st, const cb_store_opts *opts, cb_error *err)
{
    int rc;
    if ((rc = cb__http_list_page(opts, "s3", &st->list_page, err)) < 0)
        return rc;
    const char *v = s3_env(opts, "CINDERBLOCK_S3_PART_SIZE", NULL);
    st->part_size = S3_DEFAULT_PART;
    if (v == NULL)
        return 0;
    int64_t n = cb__http_parse_size(v);
    if (n < (int64_t)S3_MIN_PART || n > ((int64_t)5 << 30))
        return cb_error_set(err, CB_EINVAL,
                            "s3 store: CINDERBLOCK_S3_PART_SIZE='%s' is not a size from 5M to 5G",
                            v);
    st->part_size = (size_t)n;
    return 0;
}

static int s3_settings(s3_state *st, const char *location, const cb_store_opts *opts, cb_error *err)
{
    const char *ak = s3_env(opts, "AWS_ACCESS_KEY_ID", NULL);
    const char *sk = s3_env(opts, "AWS_SECRET_ACCESS_KEY", NULL);
    const char *tok = s3_env(opts, "AWS_SESSION_TOKEN", NULL);
    const char *region = s3_env(opts, "AWS_REGION", "AWS_DEFAULT_REGION");
    const char *endpoint = s3_env(opts, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL");
    const char *addressing = s3_env(opts, "CINDERBLOCK_S3_ADDRESSING", NULL);
    int rc;
    if (ak == NULL || sk == NULL)
        return cb_error_set(err, CB_EINVAL,
                            "s3 store: no credentials: set AWS_ACCESS_KEY_ID and "
                            "AWS_SECRET_ACCESS_KEY (or their _FILE forms), or AWS_PROFILE "
                            "naming a profile of ~/.aws/credentials");
    if ((st->bucket = cb__strdup(location[0] ? location : S3_DEFAULT_BUCKET, err)) == NULL ||
        (st->region = cb__strdup(region ? region : "us-east-1", err)) == NULL ||
        (st->access_key = cb__strdup(ak, err)) == NULL ||
        (st->secret_key = cb__strdup(sk, err)) == NULL ||
        (tok != NULL && (st->session_token = cb__strdup(tok, err)) == NULL))
        return CB_ENOMEM;
    if ((rc = cb__s3_check_bucket(st->bucket, err)) < 0)
        return rc;
    if (strchr(st->region, ':') != NULL)
        return cb_error_set(err, CB_EINVAL, "s3 store: region '%s' contains ':'", st->region);
    if (endpoint != NULL) {
        rc = s3_endpoint(st, endpoint, err);
    } else {
        char *aws = cb__asprintf(err, "https://s3.%s.amazonaws.com", st->region);
        rc = aws ? s3_endpoint(st, aws, err) : CB_ENOMEM;
        free(aws);
    }
    if (rc < 0)
        return rc;
    if (addressing == NULL)
        st->virtual_host = endpoint == NULL;
    else if (strcmp(addressing, "path") == 0 || strcmp(addressing, "virtual") == 0)
        st->virtual_host = strcmp(addressing, "virtual") == 0;
    else
        return cb_error_set(err, CB_EINVAL,
                            "s3 store: CINDERBLOCK_S3_ADDRESSING='%s' is not 'path' or 'virtual'",
                            addressing);
    if (st->virtual_host && strchr(st->bucket, '.') != NULL && strcmp(st->scheme, "https") == 0)
        cb__http_trace(st->h,
                       "bucket '%s' has a '.': TLS names may not match in virtual-host "
                       "addressing (CINDERBLOCK_S3_ADDRESSING=path avoids it)",
                       st->bucket);
    if ((rc = s3_part_size(st, opts, err)) < 0)
        return rc;
    return s3_sse(st, opts, err);
}

int cb__s3_store_ctor(const char *location,
                      const cb_store_opts *opts,
                      const cb_store_ops **ops_out,
                      void **state_out,
                      cb_error *err)
{
    s3_state *st = cb__calloc(1, sizeof(*st), err);
    int rc;
    if (st == NULL)
        return CB_ENOMEM;
    st->create = opts->create_containers;
    if ((rc = cb__http_new(&st->h, "s3", opts, err)) < 0 ||
        (rc = s3_settings(st, location, opts, err)) < 0) {
        s3_destroy(st);
        return rc;
    }
    *ops_out = &s3_store_ops;
    *state_out = st;
    return 0;
}
