/* SPDX-License-Identifier: Apache-2.0 */
/*
 * env.c: the environment as a store sees it (cinderblock/sys/store.h). A file of its own
 * because the backends call it and store.c calls the backends (through registry.c): in
 * store.c, the two would call each other in a circle.
 */
#include <stdlib.h>

#include "cinderblock/sys/store.h"

const char *cb_store_getenv(const cb_store_opts *opts, const char *name)
{
    if (opts != NULL && opts->getenv != NULL)
        return opts->getenv(name, opts->getenv_payload);
    return getenv(name);
}
