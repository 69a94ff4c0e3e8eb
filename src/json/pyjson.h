/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pyjson.h: a streaming JSON emitter whose bytes equal Python 3's json.dumps().
 *
 * Cinder writes its backup documents with json.dumps(obj, sort_keys=True, indent=2) and its
 * volume_meta string (and export records) with compact json.dumps(obj); both use
 * ensure_ascii=True. This emitter reproduces those bytes exactly:
 *   indent 2:  "," + newline between items, ": " after keys, empty containers as "[]" / "{}",
 *              no trailing newline;
 *   compact:   ", " between items and ": " after keys (Python's default separators);
 *   strings:   \" \\ \n \r \t \b \f; any other byte outside 0x20..0x7e as \u00xx; non-ASCII
 *              decoded from UTF-8 and written as \uxxxx (a surrogate pair above U+FFFF), with
 *              lowercase hex; "/" is not escaped.
 *
 * The caller emits its own keys in sorted order; cb_pyjson_value() sorts the keys of a
 * jansson value itself (byte order of the UTF-8 keys, which is Python's code point order).
 *
 * Streaming: text accumulates in a buffer that is handed to the sink whenever it passes
 * CB_PYJSON_FLUSH_AT bytes and at cb_pyjson_finish(), so a large document never sits in
 * memory. Without a sink, take the whole text with cb_pyjson_detach() after finishing.
 *
 * Errors are sticky: after the first failure every later call does nothing and returns
 * the same status, copying the first message into the caller's err (if that is still empty).
 *
 *   cb_pyjson j;
 *   cb_pyjson_init(&j, 2, NULL, NULL);
 *   cb_pyjson_begin_object(&j, err); cb_pyjson_key(&j, "a", err); cb_pyjson_int(&j, 1, err);
 *   cb_pyjson_end_object(&j, err);
 *   if (cb_pyjson_finish(&j, err) == 0) text = cb_pyjson_detach(&j, &len);
 *   cb_pyjson_dispose(&j);
 */
#ifndef CB_JSON_PYJSON_H
#define CB_JSON_PYJSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cinderblock/common.h"
#include "../util/util.h"

/** Pending output is handed to the sink once it reaches this many bytes. */
#define CB_PYJSON_FLUSH_AT ((size_t)64 * 1024)

/** Deepest nesting accepted by cb_pyjson_value() (jansson's own parser limit). */
#define CB_PYJSON_MAX_DEPTH 2048

/**
 * Receives the document piece by piece, in order. Return 0, or a negative cb_status after
 * filling err; the emitter then stops with that error.
 */
typedef int (*cb_json_sink_fn)(const void *data, size_t len, void *payload, cb_error *err);

/** Emitter state, embedded in the caller's memory. Treat the fields as private. */
typedef struct cb_pyjson {
    cb_buf out;           /* text not yet handed to the sink */
    cb_buf stack;         /* one PYJSON_* state byte per open container */
    int indent;           /* spaces per level; 0 for compact output */
    int after_key;        /* a key was written, its value is due */
    int top_done;         /* the top-level value is complete */
    int finished;         /* cb_pyjson_finish() succeeded */
    cb_json_sink_fn sink; /* NULL: keep everything in `out` */
    void *payload;
    uint64_t flushed; /* bytes already handed to the sink */
    cb_error error;   /* the first failure; error.code != 0 makes it sticky */
} cb_pyjson;

/**
 * Prepare an emitter. Cannot fail; allocates nothing until the first write.
 * @param indent  2 for json.dumps(indent=2), 0 for compact json.dumps(); other positive
 *                values also work (Python's indent=N)
 * @param sink    where the text goes, or NULL to keep it for cb_pyjson_detach()
 */
void cb_pyjson_init(cb_pyjson *j, int indent, cb_json_sink_fn sink, void *payload);

/** Free the emitter's buffers. Safe on a zeroed or already disposed emitter, and on NULL. */
void cb_pyjson_dispose(cb_pyjson *j);

/*
 * Each writer below returns 0 or a negative cb_status (see err). Misuse (a value where a key
 * is due, an unbalanced end, a second top-level value) is CB_EINVAL.
 */
int cb_pyjson_begin_object(cb_pyjson *j, cb_error *err);
int cb_pyjson_end_object(cb_pyjson *j, cb_error *err);
int cb_pyjson_begin_array(cb_pyjson *j, cb_error *err);
int cb_pyjson_end_array(cb_pyjson *j, cb_error *err);

/** An object key (NUL-terminated UTF-8). Invalid UTF-8 is CB_EINVAL. */
int cb_pyjson_key(cb_pyjson *j, const char *key, cb_error *err);
int cb_pyjson_keyn(cb_pyjson *j, const char *key, size_t len, cb_error *err);

/** A string value (UTF-8); a NULL `s` writes null, handy for optional fields. */
int cb_pyjson_string(cb_pyjson *j, const char *s, cb_error *err);
int cb_pyjson_stringn(cb_pyjson *j, const char *s, size_t len, cb_error *err);
/** A string the caller knows needs no escape (hex digits: a hash list's 500,000 digests
 *  are not each checked for quotes and UTF-8), at most 254 bytes. */
int cb_pyjson_plain_stringn(cb_pyjson *j, const char *s, size_t len, cb_error *err);

int cb_pyjson_int(cb_pyjson *j, int64_t v, cb_error *err);
int cb_pyjson_uint(cb_pyjson *j, uint64_t v, cb_error *err);
int cb_pyjson_null(cb_pyjson *j, cb_error *err);
int cb_pyjson_bool(cb_pyjson *j, int v, cb_error *err);

/**
 * A float written like Python's repr(): shortest round-trip digits, "1.0" for integral
 * values, exponent form below 1e-4 and from 1e16 ("1e-05", "1e+16").
 * NaN and infinities are CB_EINVAL: Python would write NaN/Infinity, which is not JSON.
 */
int cb_pyjson_real(cb_pyjson *j, double v, cb_error *err);

/**
 * Re-emit a jansson value with object keys sorted (json.dumps(sort_keys=True)). The value is
 * only read. Nesting deeper than CB_PYJSON_MAX_DEPTH is CB_EINVAL.
 */
int cb_pyjson_value(cb_pyjson *j, const json_t *v, cb_error *err);

/**
 * Check that exactly one complete value was written and hand the rest of the text to the
 * sink. No trailing newline is added.
 */
int cb_pyjson_finish(cb_pyjson *j, cb_error *err);

/**
 * The sticky status: 0, or the first failure, which is then copied into err if err is
 * still empty. Lets a caller make a run of calls and check once.
 */
int cb_pyjson_status(const cb_pyjson *j, cb_error *err);

/** Bytes written so far (handed to the sink plus pending). */
uint64_t cb_pyjson_size(const cb_pyjson *j);

/**
 * Take the accumulated text (NUL-terminated) after a successful cb_pyjson_finish() on an
 * emitter without a sink. Ownership: the caller free()s the result. Returns NULL if the
 * emitter is not finished, failed, or has a sink.
 * @param len_out  set to the text's length (may be NULL)
 */
char *cb_pyjson_detach(cb_pyjson *j, size_t *len_out);

/**
 * Append `s` to `out` as a JSON string literal (quotes included) with Python's
 * ensure_ascii escaping. Invalid UTF-8 is CB_EINVAL, naming the byte offset; `out` may then
 * hold a partial literal.
 */
int cb_pyjson_escape(cb_buf *out, const char *s, size_t len, cb_error *err);

/** Append Python's repr() of a finite double to `out`. */
int cb_pyjson_format_real(cb_buf *out, double v, cb_error *err);

#endif
