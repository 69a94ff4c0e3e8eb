/* SPDX-License-Identifier: Apache-2.0 */
/* version.c: the version the library was built as. */
#include "cinderblock/cb.h"
#include "version.h"

const char *cb_version_string(void)
{
    return CB_VERSION_STRING;
}
