/* SPDX-License-Identifier: Apache-2.0 */
/*
 * s3_xml.c: the few XML documents S3 answers with (listings, errors, multipart uploads),
 * parsed with expat into (path, text) pairs. Expat refuses external entities by default and
 * limits entity expansion; answers are size-capped before they get here.
 */
#include <stdio.h>
#include <string.h>

#include <expat.h>

#include "s3_internal.h"

#define S3_XML_DEPTH 16

typedef struct s3_xml {
    XML_Parser p;
    char path[512]; /* element names from the root, '/'-separated */
    size_t ends[S3_XML_DEPTH + 1];
    int depth;
    cb_buf text; /* character data of the innermost open element */
    cb_s3_xml_fn fn;
    void *payload;
    int rc; /* first non-zero callback result */
    int oom;
} s3_xml;

static void XMLCALL s3_xml_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
    s3_xml *x = data;
    (void)attrs;
    if (x->depth >= S3_XML_DEPTH) {
        x->depth++; /* too deep for any S3 answer we read: tracked, never reported */
        return;
    }
    size_t len = x->depth ? x->ends[x->depth] : 0;
    int n = snprintf(x->path + len, sizeof(x->path) - len, "%s%s", x->depth ? "/" : "", name);
    if (n < 0 || (size_t)n >= sizeof(x->path) - len)
        n = 0; /* an absurd name: the path keeps its parent, so it matches nothing we want */
    x->depth++;
    x->ends[x->depth] = len + (size_t)n;
    cb_buf_reset(&x->text);
}

static void XMLCALL s3_xml_end(void *data, const XML_Char *name)
{
    s3_xml *x = data;
    (void)name;
    if (x->depth > S3_XML_DEPTH) {
        x->depth--;
        return;
    }
    if (x->rc == 0 && x->fn != NULL)
        x->rc = x->fn(x->path, x->text.data ? x->text.data : "", x->text.len, x->payload);
    if (x->rc != 0)
        XML_StopParser(x->p, XML_FALSE);
    x->depth--;
    x->path[x->depth ? x->ends[x->depth] : 0] = '\0';
    cb_buf_reset(&x->text);
}

static void XMLCALL s3_xml_chars(void *data, const XML_Char *s, int len)
{
    s3_xml *x = data;
    if (x->depth > S3_XML_DEPTH || len <= 0)
        return;
    if (cb_buf_put(&x->text, s, (size_t)len, NULL) < 0) {
        x->oom = 1;
        XML_StopParser(x->p, XML_FALSE);
    }
}

/* expat's memory goes through the library's allocation (and its failures in tests) */
static void *s3_xml_malloc(size_t n)
{
    return cb__malloc(n, NULL);
}

static void *s3_xml_realloc(void *p, size_t n)
{
    return cb__realloc(p, n, NULL);
}

static const XML_Memory_Handling_Suite s3_xml_memory = { s3_xml_malloc, s3_xml_realloc, free };

int cb__s3_xml_parse(const char *doc, size_t len, cb_s3_xml_fn fn, void *payload, cb_error *err)
{
    s3_xml x = { 0 };
    int rc = 0;
    x.fn = fn;
    x.payload = payload;
    x.p = XML_ParserCreate_MM("UTF-8", &s3_xml_memory, NULL);
    if (x.p == NULL)
        return cb_error_set(err, CB_ENOMEM, "out of memory (XML parser)");
    XML_SetUserData(x.p, &x);
    XML_SetElementHandler(x.p, s3_xml_start, s3_xml_end);
    XML_SetCharacterDataHandler(x.p, s3_xml_chars);
    if (len > (size_t)0x7fffffff)
        rc = cb_error_set(err, CB_EHTTP, "s3 store: an XML answer is too large");
    else if (XML_Parse(x.p, doc ? doc : "", (int)len, XML_TRUE) == XML_STATUS_ERROR && !x.rc)
        rc = x.oom ? cb_error_set(err, CB_ENOMEM, "out of memory (XML)")
                   : cb_error_set(err, CB_EHTTP, "s3 store: malformed XML answer (line %lu: %s)",
                                  (unsigned long)XML_GetCurrentLineNumber(x.p),
                                  XML_ErrorString(XML_GetErrorCode(x.p)));
    if (rc == 0)
        rc = x.rc;
    XML_ParserFree(x.p);
    cb_buf_dispose(&x.text);
    return rc;
}

typedef struct s3_xml_pick {
    const char *path;
    char *out;
    size_t cap;
    int found;
} s3_xml_pick;

static int s3_xml_pick_fn(const char *path, const char *text, size_t len, void *payload)
{
    s3_xml_pick *p = payload;
    if (p->found || strcmp(path, p->path) != 0)
        return 0;
    size_t n = len < p->cap - 1 ? len : p->cap - 1;
    memcpy(p->out, text, n);
    p->out[n] = '\0';
    p->found = 1;
    return 0;
}

void cb__s3_xml_find(const char *doc, size_t len, const char *path, char *out, size_t cap)
{
    s3_xml_pick p = { path, out, cap, 0 };
    out[0] = '\0';
    cb__s3_xml_parse(doc, len, s3_xml_pick_fn, &p, NULL);
}

void cb__s3_xml_error(
    const char *doc, size_t len, char *code, size_t code_cap, char *msg, size_t msg_cap)
{
    cb__s3_xml_find(doc, len, "Error/Code", code, code_cap);
    cb__s3_xml_find(doc, len, "Error/Message", msg, msg_cap);
}
