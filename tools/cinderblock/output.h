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

/* `list` as a table, `show` as "key: value" lines. */
void out_list_table(cb_backup_info *const *v, size_t n);
void out_show_text(const cb_backup_info *b);

#endif
