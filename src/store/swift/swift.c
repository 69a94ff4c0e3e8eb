/* SPDX-License-Identifier: Apache-2.0 */
/*
 * swift.c: the OpenStack Swift store (Cinder's SwiftBackupDriver, spec §4.4).
 *
 * URL: swift://CONTAINER (empty: "volumebackups"). Authentication: swift.h.
 *
 * Uploads: an object's first CINDERBLOCK_SWIFT_BUFFER_SIZE bytes (default 8 MiB) are held in
 * memory. An object that ends within them is sent with one PUT carrying its length and its
 * MD5 as ETag (Swift refuses the PUT with 422 if they differ), and that PUT is retried like
 * any request. A larger object is streamed with chunked transfer encoding: the held bytes
 * go first, and while they are being sent a failure still restarts the upload; after that
 * the bytes are gone, so a failure fails the writer with CB_ENET and the caller runs the
 * backup again. Either way the ETag Swift returns must equal the MD5 of the bytes sent, or
 * the object is deleted and the writer fails. An abandoned writer drops its connection
 * before the end of the chunked body, which Swift never commits.
 *
 * A create-only writer (CB_WRITE_EXCLUSIVE) sends `If-None-Match: *`, and Swift's 412 for an
 * existing name is CB_EEXISTS. Swift checks the condition when a PUT starts, not when it
 * commits: two uploads of one new name that overlap can both succeed (the later one stays).
 *
 * Listings are JSON; list_entries takes each object's size and time from it.
 *
 * Downloads stream, and resume after a broken connection with Range and If-Match.
 *
 * This file: containers, the small operations, the ops table and the
 * constructor; requests are made in swift_request.c, listings in swift_list.c, writers
 * and readers in swift_io.c.
 */
#include <stdlib.h>
#include <string.h>

#include "swift.h"
#include "swift_internal.h"

#define SWIFT_DEFAULT_CONTAINER "volumebackups"
#define SWIFT_DEFAULT_BUFFER (8u << 20)

/* ---- containers ---- */

static int swift_create_container(swift_state *st, const char *container, cb_error *err)
{
    swift_call c = { st, container, NULL, NULL };
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    char what[400];
    int rc;
    snprintf(what, sizeof(what), "create container '%s'", container);
    req.method = "PUT";
    req.what = what;
    req.has_body = 1;
    if (st->storage_policy != NULL &&
        (rc = cb__http_req_header(&req, err, "X-Storage-Policy: %s", st->storage_policy)) < 0)
        goto done;
    if ((rc = cb__swift_call_do(&c, &req, &resp, err)) == 0 && !cb__swift_ok(&resp))
        rc = cb__http_fail(st->h, &req, &resp, NULL, err);
done:
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}

static int
swift_put_container(void *state, const char *container, unsigned int flags, cb_error *err)
{
    swift_state *st = state;
    swift_call c = { st, container, NULL, NULL };
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    char what[400];
    int rc;
    (void)flags;
    if ((rc = cb__swift_check_container(container, err)) < 0)
        return rc;
    snprintf(what, sizeof(what), "look up container '%s'", container);
    req.method = "HEAD";
    req.what = what;
    if ((rc = cb__swift_call_do(&c, &req, &resp, err)) < 0)
        goto done;
    if (resp.status == 404 && st->create)
        rc = swift_create_container(st, container, err);
    else if (resp.status == 404)
        rc = cb__http_error(err, CB_ENOTFOUND, 404,
                            "swift store: container '%s' does not exist and creating containers is "
                            "disabled (--no-create-container)",
                            container);
    else if (!cb__swift_ok(&resp))
        rc = cb__http_fail(st->h, &req, &resp, NULL, err);
done:
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}

/* ---- the rest ---- */

static int swift_delete_object(
    void *state, const char *container, const char *name, unsigned int flags, cb_error *err)
{
    swift_state *st = state;
    swift_call c = { st, container, name, NULL };
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    char what[600];
    int rc;
    (void)flags;
    if ((rc = cb__swift_check_container(container, err)) < 0)
        return rc;
    snprintf(what, sizeof(what), "delete of '%s' in container '%s'", name, container);
    req.method = "DELETE";
    req.what = what;
    /* 404: already gone, which is what was asked (Cinder 25.0.0 and later agree) */
    if ((rc = cb__swift_call_do(&c, &req, &resp, err)) == 0 && !cb__swift_ok(&resp) &&
        resp.status != 404)
        rc = cb__http_fail(st->h, &req, &resp, NULL, err);
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}

static int swift_update_container_name(
    void *state, const char *backup_id, const char *container, char **out, cb_error *err)
{
    swift_state *st = state;
    (void)backup_id;
    *out = cb__strdup(container ? container : st->container, err);
    return *out ? 0 : CB_ENOMEM;
}

/* The URL's container: every backup may share it, so store-wide records live there. */
static int swift_home_container(void *state, char **out, cb_error *err)
{
    swift_state *st = state;
    *out = cb__strdup(st->container, err);
    return *out ? 0 : CB_ENOMEM;
}

static int swift_check(void *state, cb_error *err)
{
    swift_state *st = state;
    swift_call c = { st, NULL, NULL, NULL };
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    req.method = "HEAD";
    req.what = "look up the account";
    int rc = cb__swift_call_do(&c, &req, &resp, err);
    if (rc == 0 && !cb__swift_ok(&resp))
        rc = cb__http_fail(st->h, &req, &resp, NULL, err);
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}

static void swift_destroy(void *state)
{
    swift_state *st = state;
    if (st == NULL)
        return;
    cb__swift_auth_dispose(&st->auth);
    cb__http_free(st->h);
    free(st->container);
    free(st->storage_policy);
    free(st);
}

static const cb_store_ops swift_store_ops = {
    CB_STORE_OPS_INIT,
    .name = "swift",
    .flags = CB_STORE_PARALLEL | CB_STORE_EXCLUSIVE,
    .cinder_driver = "cinder.backup.drivers.swift.SwiftBackupDriver",
    .default_object_size = 52428800, /* backup_swift_object_size */
    .default_sha_block = 32768,      /* backup_swift_block_size */
    .put_container = swift_put_container,
    .list = cb__swift_list,
    .open_writer = cb__swift_open_writer,
    .open_reader = cb__swift_open_reader,
    .delete_object = swift_delete_object,
    .destroy = swift_destroy,
    .update_container_name = swift_update_container_name,
    .list_containers = cb__swift_list_containers,
    .check = swift_check,
    .list_entries = cb__swift_list_entries,
    .home_container = swift_home_container,
    .default_coalesce = 524288, /* a request costs ~8 ms on the local Swift: halves the objects */
    .default_connections = 8,   /* requests wait on the network: more than the CPUs */
};

static int
swift_settings(swift_state *st, const char *location, const cb_store_opts *opts, cb_error *err)
{
    const char *buf = cb_store_getenv(opts, "CINDERBLOCK_SWIFT_BUFFER_SIZE");
    int rc;
    if ((rc = cb__http_list_page(opts, "swift", &st->list_page, err)) < 0)
        return rc;
    st->buffer_max = SWIFT_DEFAULT_BUFFER;
    if (buf != NULL && buf[0] != '\0') {
        int64_t v = cb__http_parse_size(buf);
        if (v < 0 || v > (int64_t)1 << 32)
            return cb_error_set(err, CB_EINVAL,
                                "swift store: CINDERBLOCK_SWIFT_BUFFER_SIZE='%s' is not a size "
                                "up to 4G (like 8M)",
                                buf);
        st->buffer_max = (size_t)v;
    }
    st->container = cb__strdup(location[0] ? location : SWIFT_DEFAULT_CONTAINER, err);
    if (st->container == NULL)
        return CB_ENOMEM;
    if (opts->storage_policy != NULL &&
        (st->storage_policy = cb__strdup(opts->storage_policy, err)) == NULL)
        return CB_ENOMEM;
    return cb__swift_check_container(st->container, err);
}

int cb__swift_store_ctor(const char *location,
                         const cb_store_opts *opts,
                         const cb_store_ops **ops_out,
                         void **state_out,
                         cb_error *err)
{
    swift_state *st = cb__calloc(1, sizeof(*st), err);
    int rc;
    if (st == NULL)
        return CB_ENOMEM;
    st->create = opts->create_containers;
    if ((rc = cb__http_new(&st->h, "swift", opts, err)) < 0 ||
        (rc = swift_settings(st, location, opts, err)) < 0) {
        cb__http_free(st->h);
        free(st->container);
        free(st->storage_policy);
        free(st);
        return rc;
    }
    if ((rc = cb__swift_auth_init(&st->auth, st->h, opts, err)) < 0) {
        swift_destroy(st); /* the auth part is initialised even when it fails */
        return rc;
    }
    *ops_out = &swift_store_ops;
    *state_out = st;
    return 0;
}
