/* SPDX-License-Identifier: Apache-2.0 */
/* ids.h: UUIDs, timestamps and Cinder's object names. */
#ifndef CB_CORE_IDS_H
#define CB_CORE_IDS_H

#include <stdint.h>

#include "cinderblock/common.h"

#define CB_UUID_LEN 36

/* 1 if `s` is a canonical lowercase UUID (8-4-4-4-12 hex digits). */
int cb__uuid_valid(const char *s);

/* A random (version 4) UUID. */
int cb__uuid_random(char out[CB_UUID_LEN + 1], cb_error *err);

/* A name-based (version 5) UUID of `name` in cinderblock's namespace: the same input
 * always gives the same id. */
void cb__uuid_from_name(char out[CB_UUID_LEN + 1], const char *name);

/* The time of an operation: whole seconds and microseconds (UTC). */
typedef struct cb_time {
    int64_t sec;
    long usec;
} cb_time;

/* `now` if non-zero, else the clock; $CINDERBLOCK_NOW ("YYYY-mm-ddTHH:MM:SS[.ffffff]")
 * overrides the clock so that tests can compare output byte for byte. */
int cb__time_now(cb_time *out, int64_t now, long now_usec, cb_error *err);

/* "YYYYmmddHHMMSS", Cinder's prefix timestamp. */
void cb__time_prefix(char out[15], cb_time t);

/* Python's str() of a UTC-aware datetime: "2024-01-02 03:04:05+00:00", with ".ffffff"
 * before the zone when there are microseconds. */
void cb__time_created_at(char out[40], cb_time t);

/* "2024-01-02T03:04:05Z", the export record's datetime form. */
void cb__time_record(char out[24], cb_time t);

/* Parse a created_at string back (both forms above; Z or +00:00). -1 if malformed. */
int cb__time_parse(const char *s, cb_time *out);

/* The object-name prefix of a backup: posix "volume_<vid>_<ts>_backup_<bid>" (flat) or
 * object stores "volume_<vid>/<ts>/az_<az>_backup_<bid>". Returns a malloc'ed string. */
char *cb__prefix_make(int flat,
                      const char *volume_id,
                      const char *ts,
                      const char *az,
                      const char *backup_id,
                      cb_error *err);

/* The parts of a metadata object's name, if it follows Cinder's grammar. */
typedef struct cb_prefix_parts {
    char volume_id[CB_UUID_LEN + 1];
    char backup_id[CB_UUID_LEN + 1];
    char ts[15];
} cb_prefix_parts;

/* 1 if `prefix` (a name without its "_metadata") has the shape of a backup prefix. */
int cb__prefix_parse(const char *prefix, cb_prefix_parts *out);
/* The same, and of the one form a store uses: flat (posix) or with '/' (object stores). */
int cb__prefix_parse_as(const char *prefix, int flat, cb_prefix_parts *out);

/* Where a backup lives: its container, its prefix, and what the prefix says. */
typedef struct cb_found {
    char *container;
    char *prefix;
    cb_prefix_parts parts;
} cb_found;

void cb__found_dispose(cb_found *f); /* frees the strings; `f` may be reused */

#endif
