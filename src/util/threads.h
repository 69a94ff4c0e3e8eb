/* SPDX-License-Identifier: Apache-2.0 */
/* threads.h: how many worker threads a `threads` option means. */
#ifndef CB_UTIL_THREADS_H
#define CB_UTIL_THREADS_H

/* `threads` if positive, else the online CPUs; always 1 to 256. */
int cb__threads(int threads);

#endif
