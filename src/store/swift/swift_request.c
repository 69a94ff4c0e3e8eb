/* SPDX-License-Identifier: Apache-2.0 */
/*
 * swift_request.c: a Swift request as every part of the store makes it: the URL of the
 * account, container and object with the current token, a renewal of the token on 401,
 * and the container names Swift accepts.
 */
#include <stdlib.h>
#include <string.h>

#include "swift_internal.h"

int cb__swift_prepare(cb_http_req *req, void *payload, cb_error *err)
{
    swift_call *c = payload;
    char *base = NULL, *token = NULL;
    cb_buf url = CB_BUF_INIT;
    unsigned epoch;
    int rc;
    if ((rc = cb__swift_auth_get(&c->st->auth, &base, &token, &epoch, err)) < 0)
        return rc;
    rc = cb_buf_puts(&url, base, err);
    if (rc == 0 && c->container != NULL && (rc = cb_buf_putc(&url, '/', err)) == 0)
        rc = cb__http_escape(&url, c->container, 0, err);
    if (rc == 0 && c->object != NULL && (rc = cb_buf_putc(&url, '/', err)) == 0)
        rc = cb__http_escape(&url, c->object, 1, err);
    if (rc == 0 && c->query != NULL && (rc = cb_buf_putc(&url, '?', err)) == 0)
        rc = cb_buf_puts(&url, c->query, err);
    cb__http_req_drop_header(req, "X-Auth-Token");
    if (rc == 0)
        rc = cb__http_req_header(req, err, "X-Auth-Token: %s", token);
    if (rc == 0) {
        free(req->url);
        req->url = cb_buf_detach(&url);
        req->auth_epoch = epoch;
    }
    memset(token, 0, strlen(token));
    free(token);
    free(base);
    cb_buf_dispose(&url);
    return rc;
}

static int swift_renew(cb_http_req *req, void *payload, cb_error *err)
{
    swift_call *c = payload;
    return cb__swift_auth_renew(&c->st->auth, req->auth_epoch, err);
}

cb_http_renew_fn cb__swift_renewer(const swift_state *st)
{
    return cb__swift_auth_renewable(&st->auth) ? swift_renew : NULL;
}

int cb__swift_call_do(swift_call *c, cb_http_req *req, cb_http_resp *resp, cb_error *err)
{
    return cb__http_call(c->st->h, req, cb__swift_prepare, cb__swift_renewer(c->st), c, resp, err);
}

int cb__swift_ok(const cb_http_resp *resp)
{
    return resp->status >= 200 && resp->status < 300;
}

int cb__swift_check_container(const char *container, cb_error *err)
{
    if (container[0] == '\0' || strchr(container, '/') != NULL || strlen(container) > 256)
        return cb_error_set(err, CB_EINVAL,
                            "swift store: container name '%s' is empty, longer than 256 bytes or "
                            "contains '/'",
                            container);
    return 0;
}
