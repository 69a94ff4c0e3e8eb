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

/* Print a JSON value on stdout with a final newline, and release it. */
void out_json(json_t *v);

/* One line on stderr after a backup (unless -q). */
void out_backup_summary(const cli *c, const cb_backup_info *b);

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
