/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json.h: JSON as Cinder's Python writes and reads it: a writer that emits exactly what
 * json.dumps(sort_keys=True, indent=2) does (pyjson.h), and a streaming parser of the
 * _sha256file that never holds the whole list (shalist.h).
 */
#ifndef CB_JSON_JSON_H
#define CB_JSON_JSON_H

#include "pyjson.h"
#include "shalist.h"

#endif
