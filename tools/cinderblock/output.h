/* SPDX-License-Identifier: Apache-2.0 */
/* output.h: how backups are printed, as text or JSON. */
#ifndef CB_CLI_OUTPUT_H
#define CB_CLI_OUTPUT_H

#include <jansson.h>

#include "cli.h"

/* A backup as a JSON object (new reference). */
json_t *out_info_object(const cb_backup_info *b);

/* Print {"<key>": <backup>} on stdout. */
void out_info_json(const cb_backup_info *b, const char *key);

/*
 * The one way to print a JSON document (docs/json.md): `v` on stdout, compact, on one
 * line, and released. A short command prints one; a long one its status lines and then
 * its summary (out_summary). Errors are cli_fail's, on stderr.
 */
void out_json(json_t *v);

/* {"message_type": "summary", <the members of v>} through out_json; releases v. */
void out_summary(json_t *v);

/* Times: ISO 8601 UTC, "2026-12-02T01:02:03Z". From what a store records (Cinder's
 * "2024-01-02 03:04:05+00:00", with or without fractions; an offset is applied), or from
 * seconds since the epoch (< 0: unknown). JSON: a string, or null when unknown. */
int out_time_parse(const char *recorded, int64_t *out);
json_t *out_time(const char *recorded);
json_t *out_time_epoch(int64_t t);
const char *out_time_text(const char *recorded, char buf[32]); /* as recorded if unparsable */

/* Seconds, rounded to milliseconds, as a JSON number. */
json_t *out_seconds(double secs);

/* One line on stderr after a backup (unless -q). */
void out_backup_summary(const cli *c, const cb_backup_info *b);

/* "skipped: 1.0 GiB all zero, 3.0 GiB unchanged since the parent" on stderr (unless -q, or
 * nothing was skipped). */
void out_skipped(const cli *c, const cb_progress *pr);

/* Leftovers (list --incomplete, cleanup): a JSON array (new reference), or a table. */
json_t *out_leftovers_json(const cb_leftover *v, size_t n);
void out_leftovers_table(const cb_leftover *v, size_t n);

/* Locks (unlock): a JSON array (new reference), or one line each. */
json_t *out_locks_json(const cb_lock_info *v, size_t n);
void out_locks_text(const cli *c, const char *verb, const cb_lock_info *v, size_t n);

/* "3 min", "2 h", "5 d": how long ago `when` (seconds since the epoch) was; "?" if < 0. */
const char *out_age(int64_t when, char buf[32]);

/* `list` as a table, `show` as "key: value" lines. */
void out_list_table(cb_backup_info *const *v, size_t n);
void out_show_text(const cb_backup_info *b);

#endif
