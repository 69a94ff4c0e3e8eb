/* SPDX-License-Identifier: Apache-2.0 */
/* wait.h: waiting on a condition variable for at most some milliseconds. */
#ifndef CB_UTIL_WAIT_H
#define CB_UTIL_WAIT_H

#include <pthread.h>

/* pthread_cond_timedwait() for `ms` milliseconds from now; `m` is held, as for it. The
 * supervising loops (committer, restore, verify) wake this often to report progress and
 * poll the cancel hook even when no worker signals. */
void cb__cond_wait_ms(pthread_cond_t *c, pthread_mutex_t *m, long ms);

#endif
