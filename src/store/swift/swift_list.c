/* SPDX-License-Identifier: Apache-2.0 */
/* swift_list.c: the Swift store's listings, JSON pages of up to `limit` names (marker = the
 * last name), with each object's size and time for list_entries. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "swift_internal.h"

/* ---- listings ---- */

/* Who gets the listed names: fn with the name, or entry_fn with what the listing says. */
typedef struct swift_lister {
    cb_list_fn fn;
    cb_entry_fn entry_fn;
    void *payload;
} swift_lister;

/* An object of a container listing: its "bytes" and its "last_modified", which is UTC
 * without a zone ("2026-12-01T22:34:16.181720"). */
static int swift_list_entry(const swift_lister *l, const char *name, json_t *item)
{
    json_t *bytes = json_object_get(item, "bytes");
    const char *when = json_string_value(json_object_get(item, "last_modified"));
    cb_entry e = {
        .name = name,
        .size = json_is_integer(bytes) && json_integer_value(bytes) >= 0
                    ? (int64_t)json_integer_value(bytes)
                    : -1,
        .mtime = when != NULL ? cb__http_parse_time(when, strlen(when)) : -1,
    };
    return l->entry_fn(&e, l->payload);
}

/* One page of a JSON listing: hand on each name, remember the last one. */
static int swift_list_page(
    const cb_http_resp *resp, const swift_lister *l, char **last, size_t *count, cb_error *err)
{
    json_error_t jerr;
    size_t i;
    json_t *item;
    int rc = 0;
    *count = 0;
    if (resp->status == 204 || resp->body.len == 0)
        return 0;
    json_t *doc = json_loadb(resp->body.data, resp->body.len, 0, &jerr);
    if (!json_is_array(doc)) {
        json_decref(doc);
        return cb_error_set(err, CB_EHTTP, "swift store: a listing is not a JSON array: %s",
                            jerr.text);
    }
    json_array_foreach(doc, i, item)
    {
        const char *name = json_string_value(json_object_get(item, "name"));
        if (name == NULL)
            continue;
        (*count)++;
        free(*last);
        if ((*last = cb__strdup(name, err)) == NULL) {
            rc = CB_ENOMEM;
            break;
        }
        rc = l->entry_fn != NULL ? swift_list_entry(l, name, item) : l->fn(name, l->payload);
        if (rc != 0)
            break;
    }
    json_decref(doc);
    return rc;
}

/* List the account (container NULL) or a container, page by page (marker = last name). */
static int swift_listing(swift_state *st,
                         const char *container,
                         const char *prefix,
                         const swift_lister *l,
                         cb_error *err)
{
    cb_http_req req = CB_HTTP_REQ_INIT;
    cb_http_resp resp = CB_HTTP_RESP_INIT;
    cb_buf q = CB_BUF_INIT;
    char *last = NULL, what[400];
    size_t count = 1;
    int rc = 0;
    snprintf(what, sizeof(what), container ? "list container '%s'" : "list the account%s",
             container ? container : "");
    req.what = what;
    req.body_max = SWIFT_LISTING_MAX;
    while (rc == 0 && count > 0) {
        cb_buf_reset(&q);
        if ((rc = cb_buf_puts(&q, "format=json", err)) < 0 ||
            (st->list_page && (rc = cb_buf_printf(&q, err, "&limit=%zu", st->list_page)) < 0) ||
            (prefix && prefix[0] && (rc = cb_buf_puts(&q, "&prefix=", err)) == 0 &&
             (rc = cb__http_escape(&q, prefix, 0, err)) < 0) ||
            (last && (rc = cb_buf_puts(&q, "&marker=", err)) == 0 &&
             (rc = cb__http_escape(&q, last, 0, err)) < 0))
            break;
        swift_call c = { st, container, NULL, q.data };
        if ((rc = cb__swift_call_do(&c, &req, &resp, err)) < 0)
            break;
        if (resp.status == 404 && container != NULL) {
            rc = cb__http_error(err, CB_ENOTFOUND, 404,
                                "swift store: container '%s' does not exist", container);
        } else if (!cb__swift_ok(&resp)) {
            rc = cb__http_fail(st->h, &req, &resp, NULL, err);
        } else if (resp.body.len >= SWIFT_LISTING_MAX) {
            rc = cb_error_set(err, CB_EHTTP, "swift store: %s: a listing page is too large", what);
        } else {
            rc = swift_list_page(&resp, l, &last, &count, err);
        }
    }
    free(last);
    cb_buf_dispose(&q);
    cb__http_resp_dispose(&resp);
    cb__http_req_dispose(&req);
    return rc;
}

int cb__swift_list(void *state,
                   const char *container,
                   const char *prefix,
                   unsigned int flags,
                   cb_list_fn fn,
                   void *payload,
                   cb_error *err)
{
    swift_lister l = { .fn = fn, .payload = payload };
    int rc;
    (void)flags;
    if ((rc = cb__swift_check_container(container, err)) < 0)
        return rc;
    return swift_listing(state, container, prefix, &l, err);
}

int cb__swift_list_entries(void *state,
                           const char *container,
                           const char *prefix,
                           unsigned int flags,
                           cb_entry_fn fn,
                           void *payload,
                           cb_error *err)
{
    swift_lister l = { .entry_fn = fn, .payload = payload };
    int rc;
    (void)flags;
    if ((rc = cb__swift_check_container(container, err)) < 0)
        return rc;
    return swift_listing(state, container, prefix, &l, err);
}

/* The catalog finds backups in every container of the account; a user who may not list the
 * account still finds those in the default container. */
int cb__swift_list_containers(
    void *state, unsigned int flags, cb_list_fn fn, void *payload, cb_error *err)
{
    swift_state *st = state;
    swift_lister l = { .fn = fn, .payload = payload };
    cb_error e = { 0 };
    (void)flags;
    int rc = swift_listing(st, NULL, NULL, &l, &e);
    if (rc == CB_EAUTH && e.http_status == 403)
        return fn(st->container, payload);
    if (rc < 0)
        return cb__http_pass_error(err, &e);
    return rc;
}
