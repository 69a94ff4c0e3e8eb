/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify_report.c: what every part of verify calls - a problem recorded against its
 * backup (and object), whether one is named already, whether to stop. Nothing here calls
 * the other files of verify, so verify.c, verify_chain.c and verify_data.c form no circle.
 */
#include <stdlib.h>
#include <string.h>

#include "../lock/lock.h"
#include "verify.h"
#include "../util/util.h"

int cb__vf_stopped(const cb_vf *v, cb_error *err)
{
    const cb_verify_opts *o = v->opts;
    if (o->cancel != NULL && o->cancel(o->cancel_payload))
        return cb_error_set(err, CB_ECANCELED, "verify cancelled");
    return cb__lock_held(v->store_lock, err);
}

int cb__vf_problem(
    cb_vf *v, const cb_vf_node *nd, const char *object, int code, const char *msg, cb_error *err)
{
    cb_verify_report *r = v->rep;
    cb_verify_problem *pv = cb__realloc(r->problems, (r->n_problems + 1) * sizeof(*pv), err);
    if (pv == NULL)
        return CB_ENOMEM;
    r->problems = pv;
    cb_verify_problem *p = &pv[r->n_problems];
    memset(p, 0, sizeof(*p));
    p->code = code;
    p->backup_id = cb__strdup(nd->where.parts.backup_id, err);
    p->container = cb__strdup(nd->where.container, err);
    p->object = object != NULL ? cb__strdup(object, err) : NULL;
    /* the object is named beside the message: not again at its start (decoders do that) */
    size_t olen = object != NULL ? strlen(object) : 0;
    if (object != NULL && strncmp(msg, "object '", 8) == 0 && strncmp(msg + 8, object, olen) == 0 &&
        strncmp(msg + 8 + olen, "': ", 3) == 0)
        msg += 8 + olen + 3;
    p->message = cb__strdup(msg[0] ? msg : "unknown failure", err);
    r->n_problems++; /* freed by cb_verify_report_free even if incomplete */
    if (p->backup_id == NULL || p->container == NULL || p->message == NULL ||
        (object != NULL && p->object == NULL))
        return CB_ENOMEM;
    return 0;
}

int cb__vf_named(const cb_vf *v, const cb_vf_node *nd, const char *object)
{
    size_t len = strlen(object);
    for (size_t i = 0; i < v->rep->n_problems; i++) {
        const cb_verify_problem *p = &v->rep->problems[i];
        if (p->object != NULL || strcmp(p->backup_id, nd->where.parts.backup_id) != 0)
            continue;
        /* quoted, so that '...-10000' does not match '...-100000' */
        for (const char *s = strstr(p->message, object); s != NULL; s = strstr(s + 1, object))
            if (s > p->message && s[-1] == '\'' && s[len] == '\'')
                return 1;
    }
    return 0;
}
