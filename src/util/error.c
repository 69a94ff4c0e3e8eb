/* SPDX-License-Identifier: Apache-2.0 */
/* error.c: the cb_error record; the first failure wins. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cinderblock/common.h"

static int error_vset(cb_error *err, int code, int errnum, const char *fmt, va_list ap)
{
    if (err == NULL || err->code != 0)
        return code;
    err->code = code;
    err->sys_errno = errnum;
    err->http_status = 0; /* the HTTP layer sets it after recording (store/http) */
    int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    if (errnum != 0 && n >= 0 && (size_t)n < sizeof(err->msg)) {
        char buf[256];
        /* the GNU strerror_r returns the text; the XSI one fills buf */
        const char *text = strerror_r(errnum, buf, sizeof(buf));
        snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", text);
    }
    return code;
}

int cb_error_set(cb_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, 0, fmt, ap);
    va_end(ap);
    return code;
}

int cb_error_set_sys(cb_error *err, int code, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, errnum, fmt, ap);
    va_end(ap);
    return code;
}

void cb_error_clear(cb_error *err)
{
    if (err == NULL)
        return;
    err->code = 0;
    err->sys_errno = 0;
    err->http_status = 0;
    err->msg[0] = '\0';
}

const char *cb_status_name(int code)
{
    switch (code) {
    case CB_OK:
        return "CB_OK";
    case CB_ERROR:
        return "CB_ERROR";
    case CB_ENOTFOUND:
        return "CB_ENOTFOUND";
    case CB_EEXISTS:
        return "CB_EEXISTS";
    case CB_EIO:
        return "CB_EIO";
    case CB_ENET:
        return "CB_ENET";
    case CB_EHTTP:
        return "CB_EHTTP";
    case CB_ECORRUPT:
        return "CB_ECORRUPT";
    case CB_ECANCELED:
        return "CB_ECANCELED";
    case CB_ENOTSUPP:
        return "CB_ENOTSUPP";
    case CB_EINVAL:
        return "CB_EINVAL";
    case CB_EAUTH:
        return "CB_EAUTH";
    case CB_ENOMEM:
        return "CB_ENOMEM";
    case CB_EINUSE:
        return "CB_EINUSE";
    case CB_ELOCKED:
        return "CB_ELOCKED";
    case CB_ESOURCE:
        return "CB_ESOURCE";
    case CB_ITEROVER:
        return "CB_ITEROVER";
    }
    return "CB_UNKNOWN";
}
