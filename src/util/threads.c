/* SPDX-License-Identifier: Apache-2.0 */
/* threads.c: see threads.h. */
#include <unistd.h>

#include "util.h"

int cb__threads(int threads)
{
    long n = threads > 0 ? threads : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}
