/* SPDX-License-Identifier: Apache-2.0 */
/*
 * swift_auth.c: getting a Swift token and storage URL: a given token, tempauth (v1) or
 * Keystone v3 (password or application credential) with the object-store endpoint taken from
 * the catalog. No secret is ever put into a message or a trace line.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "swift_internal.h"
#include "../../util/util.h"

#define SWIFT_AUTH_BODY_MAX (8u << 20) /* a Keystone catalog is well below this */

static int auth_setting(const cb_store_opts *opts, const char *name, char **out, cb_error *err)
{
    const char *v = cb_store_getenv(opts, name);
    *out = NULL;
    if (v == NULL || v[0] == '\0')
        return 0;
    *out = cb__strdup(v, err);
    return *out ? 0 : CB_ENOMEM;
}

typedef struct auth_var {
    const char *name;
    size_t offset; /* of the char * in swift_auth */
} auth_var;

#define AUTH_VAR(n, field)                                                                         \
    {                                                                                              \
        n, offsetof(swift_auth, field)                                                             \
    }

static const auth_var auth_vars[] = {
    AUTH_VAR("OS_USERNAME", user),
    AUTH_VAR("OS_USER_ID", user_id),
    AUTH_VAR("OS_USER_DOMAIN_NAME", user_domain_name),
    AUTH_VAR("OS_USER_DOMAIN_ID", user_domain_id),
    AUTH_VAR("OS_PROJECT_NAME", project_name),
    AUTH_VAR("OS_PROJECT_ID", project_id),
    AUTH_VAR("OS_PROJECT_DOMAIN_NAME", project_domain_name),
    AUTH_VAR("OS_PROJECT_DOMAIN_ID", project_domain_id),
    AUTH_VAR("OS_APPLICATION_CREDENTIAL_ID", app_cred_id),
    AUTH_VAR("OS_APPLICATION_CREDENTIAL_NAME", app_cred_name),
    AUTH_VAR("OS_APPLICATION_CREDENTIAL_SECRET", app_cred_secret),
    AUTH_VAR("OS_REGION_NAME", region),
    AUTH_VAR("OS_INTERFACE", interface),
    AUTH_VAR("OS_STORAGE_URL", storage_url_override),
};

static int auth_pick_mode(swift_auth *a, const cb_store_opts *opts, cb_error *err)
{
    const char *force = cb_store_getenv(opts, "CINDERBLOCK_SWIFT_AUTH");
    int have_token = cb_store_getenv(opts, "OS_AUTH_TOKEN") && a->storage_url_override;
    int have_v1 = cb_store_getenv(opts, "ST_AUTH") != NULL;
    int have_v3 = cb_store_getenv(opts, "OS_AUTH_URL") != NULL;
    if (force != NULL && force[0] != '\0') {
        if (strcmp(force, "token") == 0)
            a->mode = SWIFT_AUTH_TOKEN;
        else if (strcmp(force, "tempauth") == 0 || strcmp(force, "v1") == 0)
            a->mode = SWIFT_AUTH_TEMPAUTH;
        else if (strcmp(force, "keystone") == 0 || strcmp(force, "v3") == 0)
            a->mode = SWIFT_AUTH_KEYSTONE;
        else
            return cb_error_set(err, CB_EINVAL,
                                "swift store: CINDERBLOCK_SWIFT_AUTH='%s' is not one of token, "
                                "tempauth, keystone",
                                force);
        return 0;
    }
    a->mode = have_token ? SWIFT_AUTH_TOKEN
              : have_v1  ? SWIFT_AUTH_TEMPAUTH
              : have_v3  ? SWIFT_AUTH_KEYSTONE
                         : 0;
    if (a->mode == 0)
        return cb_error_set(err, CB_EINVAL,
                            "swift store: no credentials: set ST_AUTH, ST_USER and ST_KEY "
                            "(tempauth), OS_AUTH_URL, OS_USERNAME, OS_PASSWORD and "
                            "OS_PROJECT_NAME (Keystone v3), OS_AUTH_TOKEN and OS_STORAGE_URL, "
                            "or OS_CLOUD naming a cloud of clouds.yaml");
    return 0;
}

/* Read the settings of the chosen mode and check that nothing required is missing. */
static int auth_mode_settings(swift_auth *a, const cb_store_opts *opts, cb_error *err)
{
    int rc;
    switch (a->mode) {
    case SWIFT_AUTH_TOKEN:
        if (a->storage_url_override == NULL)
            return cb_error_set(err, CB_EINVAL, "swift store: OS_AUTH_TOKEN needs OS_STORAGE_URL");
        if ((rc = auth_setting(opts, "OS_AUTH_TOKEN", &a->token, err)) < 0)
            return rc;
        if (a->token == NULL)
            return cb_error_set(err, CB_EINVAL, "swift store: OS_AUTH_TOKEN is not set");
        return (a->storage_url = cb__strdup(a->storage_url_override, err)) ? 0 : CB_ENOMEM;
    case SWIFT_AUTH_TEMPAUTH:
        free(a->user);
        if ((rc = auth_setting(opts, "ST_AUTH", &a->auth_url, err)) < 0 ||
            (rc = auth_setting(opts, "ST_USER", &a->user, err)) < 0 ||
            (rc = auth_setting(opts, "ST_KEY", &a->key, err)) < 0)
            return rc;
        if (a->auth_url == NULL || a->user == NULL || a->key == NULL)
            return cb_error_set(err, CB_EINVAL,
                                "swift store: tempauth needs ST_AUTH, ST_USER and ST_KEY");
        return 0;
    default:
        if ((rc = auth_setting(opts, "OS_AUTH_URL", &a->auth_url, err)) < 0 ||
            (rc = auth_setting(opts, "OS_PASSWORD", &a->key, err)) < 0)
            return rc;
        if (a->auth_url == NULL)
            return cb_error_set(err, CB_EINVAL, "swift store: Keystone needs OS_AUTH_URL");
        if (a->app_cred_secret == NULL && (a->key == NULL || (!a->user && !a->user_id)))
            return cb_error_set(err, CB_EINVAL,
                                "swift store: Keystone needs OS_USERNAME (or OS_USER_ID) and "
                                "OS_PASSWORD, or OS_APPLICATION_CREDENTIAL_ID and _SECRET");
        return 0;
    }
}

int cb__swift_auth_init(swift_auth *a, cb_http *h, const cb_store_opts *opts, cb_error *err)
{
    int rc;
    memset(a, 0, sizeof(*a));
    a->h = h;
    pthread_mutex_init(&a->lock, NULL);
    for (size_t i = 0; i < sizeof(auth_vars) / sizeof(auth_vars[0]); i++) {
        char **field = (char **)((char *)a + auth_vars[i].offset);
        if ((rc = auth_setting(opts, auth_vars[i].name, field, err)) < 0)
            return rc;
    }
    if ((rc = auth_pick_mode(a, opts, err)) < 0)
        return rc;
    return auth_mode_settings(a, opts, err);
}

static void auth_free_secret(char *s)
{
    if (s != NULL)
        memset(s, 0, strlen(s));
    free(s);
}

void cb__swift_auth_dispose(swift_auth *a)
{
    for (size_t i = 0; i < sizeof(auth_vars) / sizeof(auth_vars[0]); i++)
        free(*(char **)((char *)a + auth_vars[i].offset));
    auth_free_secret(a->key);
    auth_free_secret(a->token);
    free(a->auth_url);
    free(a->storage_url);
    pthread_mutex_destroy(&a->lock);
}

int cb__swift_auth_renewable(const swift_auth *a)
{
    return a->mode != SWIFT_AUTH_TOKEN;
}

void cb__swift_auth_describe(const swift_auth *a, char *out, size_t cap)
{
    char url[300];
    cb__http_redact_url(url, sizeof(url), a->auth_url);
    if (a->mode == SWIFT_AUTH_TOKEN)
        snprintf(out, cap, "the token in OS_AUTH_TOKEN");
    else if (a->mode == SWIFT_AUTH_TEMPAUTH)
        snprintf(out, cap, "tempauth user '%s' at %s", a->user, url);
    else if (a->app_cred_secret != NULL)
        snprintf(out, cap, "Keystone application credential '%s' at %s",
                 a->app_cred_id     ? a->app_cred_id
                 : a->app_cred_name ? a->app_cred_name
                                    : "?",
                 url);
    else
        snprintf(out, cap, "Keystone user '%s' (domain '%s'), project '%s' at %s",
                 a->user ? a->user : a->user_id,
                 a->user_domain_name ? a->user_domain_name
                 : a->user_domain_id ? a->user_domain_id
                                     : "default",
                 a->project_name ? a->project_name
                 : a->project_id ? a->project_id
                                 : "(default)",
                 url);
}

/* Refused credentials: one message that says who was refused, without the secret. */
static int
auth_refused(swift_auth *a, const cb_http_req *req, const cb_http_resp *resp, cb_error *err)
{
    char who[600];
    cb__swift_auth_describe(a, who, sizeof(who));
    if (resp->status == 401 || resp->status == 403)
        return cb__http_error(err, CB_EAUTH, resp->status,
                              "swift store: authentication refused (HTTP %ld) for %s: check the "
                              "user name, password or key",
                              resp->status, who);
    return cb__http_fail(a->h, req, resp, who, err);
}

/* One tempauth login; *left_out: the seconds the token has left (-1 if not said). */
static int auth_tempauth_once(swift_auth *a, long *left_out, cb_error *err)
{
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    char token[4096], url[4096], left[32];
    int rc;
    req.what = "tempauth login";
    if ((req.url = cb__strdup(a->auth_url, err)) == NULL) {
        rc = CB_ENOMEM;
        goto done;
    }
    if ((rc = cb__http_req_header(&req, err, "X-Auth-User: %s", a->user)) < 0 ||
        (rc = cb__http_req_header(&req, err, "X-Auth-Key: %s", a->key)) < 0 ||
        (rc = cb__http_call(a->h, &req, NULL, NULL, NULL, &resp, err)) < 0)
        goto done;
    if (resp.status < 200 || resp.status >= 300) {
        rc = auth_refused(a, &req, &resp, err);
        goto done;
    }
    if ((cb__http_resp_header(&resp, "x-auth-token", token, sizeof(token)) < 0 &&
         cb__http_resp_header(&resp, "x-storage-token", token, sizeof(token)) < 0) ||
        cb__http_resp_header(&resp, "x-storage-url", url, sizeof(url)) < 0) {
        rc = cb_error_set(err, CB_EHTTP,
                          "swift store: the tempauth answer from %s has no token or storage URL",
                          req.url);
        goto done;
    }
    *left_out = cb__http_resp_header(&resp, "x-auth-token-expires", left, sizeof(left)) == 0
                    ? strtol(left, NULL, 10)
                    : -1;
    auth_free_secret(a->token);
    free(a->storage_url);
    a->token = cb__strdup(token, err);
    a->storage_url = cb__strdup(url, err);
    rc = a->token && a->storage_url ? 0 : CB_ENOMEM;
done:
    memset(token, 0, sizeof(token));
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req); /* the header list held the key */
    return rc;
}

static int auth_tempauth(swift_auth *a, cb_error *err)
{
    long left = -1;
    int rc = auth_tempauth_once(a, &left, err);
    if (rc < 0 || left != 0)
        return rc;
    /* tempauth hands out the user's current token until it expires, even one with less than
     * a second to live: wait that out and take the fresh one */
    struct timespec ts = { 1, 0 };
    nanosleep(&ts, NULL);
    return auth_tempauth_once(a, &left, err);
}

/* {"name": n} or {"id": i}, with a domain when given by name. */
static json_t *
auth_named(const char *name, const char *id, const char *dom_name, const char *dom_id)
{
    json_t *o = json_object();
    if (id != NULL) {
        json_object_set_new(o, "id", json_string(id));
        return o;
    }
    json_object_set_new(o, "name", json_string(name ? name : ""));
    json_t *d = json_object();
    if (dom_id != NULL)
        json_object_set_new(d, "id", json_string(dom_id));
    else if (dom_name != NULL)
        json_object_set_new(d, "name", json_string(dom_name));
    else
        json_object_set_new(d, "id", json_string("default"));
    json_object_set_new(o, "domain", d);
    return o;
}

static char *auth_v3_body(const swift_auth *a)
{
    json_t *identity = json_object(), *auth = json_object(), *root = json_object();
    json_t *methods = json_array();
    if (a->app_cred_secret != NULL) {
        json_t *ac = a->app_cred_id ? json_pack("{s:s}", "id", a->app_cred_id)
                                    : json_pack("{s:s, s:o}", "name",
                                                a->app_cred_name ? a->app_cred_name : "", "user",
                                                auth_named(a->user, a->user_id, a->user_domain_name,
                                                           a->user_domain_id));
        json_object_set_new(ac, "secret", json_string(a->app_cred_secret));
        json_array_append_new(methods, json_string("application_credential"));
        json_object_set_new(identity, "application_credential", ac);
    } else {
        json_t *user = auth_named(a->user, a->user_id, a->user_domain_name, a->user_domain_id);
        json_object_set_new(user, "password", json_string(a->key));
        json_array_append_new(methods, json_string("password"));
        json_object_set_new(identity, "password", json_pack("{s:o}", "user", user));
    }
    json_object_set_new(identity, "methods", methods);
    json_object_set_new(auth, "identity", identity);
    /* an application credential is bound to its project; a user without a project named
     * gets its default project */
    if (a->app_cred_secret == NULL && (a->project_name != NULL || a->project_id != NULL))
        json_object_set_new(auth, "scope",
                            json_pack("{s:o}", "project",
                                      auth_named(a->project_name, a->project_id,
                                                 a->project_domain_name, a->project_domain_id)));
    json_object_set_new(root, "auth", auth);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

static const char *auth_interface(const swift_auth *a)
{
    const char *i = a->interface ? a->interface : "public";
    if (strcasecmp(i, "publicURL") == 0)
        return "public";
    if (strcasecmp(i, "internalURL") == 0)
        return "internal";
    if (strcasecmp(i, "adminURL") == 0)
        return "admin";
    return i;
}

static int auth_region_match(const swift_auth *a, json_t *ep)
{
    const char *rid = json_string_value(json_object_get(ep, "region_id"));
    const char *r = json_string_value(json_object_get(ep, "region"));
    if (a->region == NULL)
        return 1;
    return (rid && strcmp(rid, a->region) == 0) || (r && strcmp(r, a->region) == 0);
}

/* The object-store endpoint of the catalog for our interface and region. */
static int auth_catalog_url(swift_auth *a, json_t *catalog, char **url_out, cb_error *err)
{
    const char *want = auth_interface(a);
    char regions[256] = "";
    size_t i, j;
    json_t *svc, *ep;
    int have_service = 0;
    json_array_foreach(catalog, i, svc)
    {
        const char *type = json_string_value(json_object_get(svc, "type"));
        if (type == NULL || strcmp(type, "object-store") != 0)
            continue;
        have_service = 1;
        json_array_foreach(json_object_get(svc, "endpoints"), j, ep)
        {
            const char *iface = json_string_value(json_object_get(ep, "interface"));
            const char *url = json_string_value(json_object_get(ep, "url"));
            const char *rid = json_string_value(json_object_get(ep, "region_id"));
            if (iface == NULL || url == NULL || strcmp(iface, want) != 0)
                continue;
            if (auth_region_match(a, ep)) {
                *url_out = cb__strdup(url, err);
                return *url_out ? 0 : CB_ENOMEM;
            }
            size_t n = strlen(regions);
            snprintf(regions + n, sizeof(regions) - n, "%s%s", n ? ", " : "", rid ? rid : "?");
        }
    }
    if (!have_service)
        return cb_error_set(err, CB_ENOTFOUND,
                            "swift store: the Keystone catalog has no object-store service "
                            "(set OS_STORAGE_URL to name the Swift account URL)");
    if (a->region != NULL)
        return cb_error_set(err, CB_ENOTFOUND,
                            "swift store: the Keystone catalog has no %s object-store endpoint in "
                            "region '%s' (OS_REGION_NAME); %s endpoints are in: %s",
                            want, a->region, want, regions[0] ? regions : "no region");
    return cb_error_set(err, CB_ENOTFOUND,
                        "swift store: the Keystone catalog has no object-store endpoint for "
                        "interface '%s' (OS_INTERFACE)",
                        want);
}

static int auth_v3_parse(swift_auth *a, const cb_http_resp *resp, cb_error *err)
{
    char token[8192];
    char *url = NULL;
    json_error_t jerr;
    int rc;
    if (cb__http_resp_header(resp, "x-subject-token", token, sizeof(token)) < 0)
        return cb_error_set(err, CB_EHTTP,
                            "swift store: Keystone's answer has no X-Subject-Token header");
    json_t *doc = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, &jerr);
    json_t *catalog = json_object_get(json_object_get(doc, "token"), "catalog");
    if (a->storage_url_override != NULL)
        rc = (url = cb__strdup(a->storage_url_override, err)) ? 0 : CB_ENOMEM;
    else if (json_is_array(catalog))
        rc = auth_catalog_url(a, catalog, &url, err);
    else
        rc = cb_error_set(err, CB_EHTTP,
                          "swift store: Keystone's token has no catalog (is a project set? "
                          "OS_PROJECT_NAME)");
    json_decref(doc);
    if (rc < 0) {
        memset(token, 0, sizeof(token));
        return rc;
    }
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        url[--n] = '\0';
    auth_free_secret(a->token);
    free(a->storage_url);
    a->storage_url = url;
    a->token = cb__strdup(token, err);
    memset(token, 0, sizeof(token));
    return a->token ? 0 : CB_ENOMEM;
}

static char *auth_v3_url(const char *base, cb_error *err)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    if (n >= 3 && strncmp(base + n - 3, "/v3", 3) == 0)
        return cb__asprintf(err, "%.*s/auth/tokens", (int)n, base);
    return cb__asprintf(err, "%.*s/v3/auth/tokens", (int)n, base);
}

static int auth_keystone(swift_auth *a, cb_error *err)
{
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    char *body = NULL;
    int rc;
    req.method = "POST";
    req.what = "Keystone login";
    req.body_max = SWIFT_AUTH_BODY_MAX;
    if ((req.url = auth_v3_url(a->auth_url, err)) == NULL) {
        rc = CB_ENOMEM;
        goto done;
    }
    if ((body = auth_v3_body(a)) == NULL) {
        rc = cb_error_set(err, CB_ENOMEM, "out of memory (Keystone request)");
        goto done;
    }
    req.body = body;
    req.body_len = strlen(body);
    req.has_body = 1;
    if ((rc = cb__http_req_header(&req, err, "Content-Type: application/json")) < 0 ||
        (rc = cb__http_req_header(&req, err, "Accept: application/json")) < 0 ||
        (rc = cb__http_call(a->h, &req, NULL, NULL, NULL, &resp, err)) < 0)
        goto done;
    if (resp.status != 201 && resp.status != 200) {
        rc = auth_refused(a, &req, &resp, err);
        goto done;
    }
    rc = auth_v3_parse(a, &resp, err);
done:
    auth_free_secret(body); /* it held the password */
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}

/* Log in; call with a->lock held. */
static int auth_login(swift_auth *a, cb_error *err)
{
    int rc;
    if (a->mode == SWIFT_AUTH_TOKEN)
        return a->token ? 0 : cb_error_set(err, CB_EAUTH, "swift store: no token");
    rc = a->mode == SWIFT_AUTH_TEMPAUTH ? auth_tempauth(a, err) : auth_keystone(a, err);
    if (rc == 0) {
        a->epoch++;
        char url[512];
        cb__http_redact_url(url, sizeof(url), a->storage_url);
        cb__http_trace(a->h, "logged in (%s); storage URL %s",
                       a->mode == SWIFT_AUTH_TEMPAUTH ? "tempauth" : "Keystone", url);
    }
    return rc;
}

int cb__swift_auth_get(
    swift_auth *a, char **url_out, char **token_out, unsigned *epoch_out, cb_error *err)
{
    int rc = 0;
    *url_out = *token_out = NULL;
    pthread_mutex_lock(&a->lock);
    if (a->token == NULL || a->storage_url == NULL)
        rc = auth_login(a, err);
    if (rc == 0) {
        *url_out = cb__strdup(a->storage_url, err);
        *token_out = cb__strdup(a->token, err);
        *epoch_out = a->epoch;
        if (*url_out == NULL || *token_out == NULL)
            rc = CB_ENOMEM;
    }
    pthread_mutex_unlock(&a->lock);
    if (rc < 0) {
        free(*url_out);
        auth_free_secret(*token_out);
        *url_out = *token_out = NULL;
    }
    return rc;
}

int cb__swift_auth_renew(swift_auth *a, unsigned epoch, cb_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&a->lock);
    if (a->epoch == epoch) /* nobody has replaced the refused token yet */
        rc = auth_login(a, err);
    pthread_mutex_unlock(&a->lock);
    return rc;
}
