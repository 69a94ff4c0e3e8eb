/* SPDX-License-Identifier: Apache-2.0 */
/* lock.c: taking, refreshing and releasing a store lock (see lock.h, docs/locks.md). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lock_doc.h"
#include "cinderblock/sys/store.h"
#include "../util/util.h"

struct cb_lock {
    cb_store *store;
    char *home;
    cb_lock_doc doc;
    char name[64];
    char host[256];
    int claimed; /* this lock created CB_LOCK_CLAIM */
    int64_t ttl;
    pthread_t refresher;
    int refresher_started;
    pthread_mutex_t mu; /* guards stop, lost, why */
    pthread_cond_t cv;
    int stop;
    int lost;
    char why[300];
};

/* ---- conflicts ---- */

static void lock_describe(const cb_lock_doc *d, char *out, size_t cap)
{
    char when[32];
    time_t t = (time_t)d->created;
    struct tm tm;
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
    snprintf(out, cap, "'%s' holds %s lock (host %s, pid %lld, since %s)", d->command,
             d->exclusive ? "an exclusive" : "a shared", d->host, (long long)d->pid, when);
}

/* Is lock object `name` in the way of `l`? A stale one is removed instead. 1: conflict
 * (described in holder), 0: not in the way, < 0: error. */
static int lock_check_one(cb_lock *l, const char *name, char *holder, size_t cap, cb_error *err)
{
    const char *kind = name + strlen(CB_LOCK_PREFIX);
    cb_lock_doc d;
    cb_error gerr = { 0 };
    if (strcmp(name, l->name) == 0 || (l->claimed && strcmp(name, CB_LOCK_CLAIM) == 0))
        return 0;
    int is_claim = strcmp(name, CB_LOCK_CLAIM) == 0;
    /* shared locks do not mind each other: no need to read them */
    if (!l->doc.exclusive && !is_claim && strncmp(kind, "x-", 2) != 0)
        return 0;
    int rc = cb__lock_doc_get(l->store, l->home, name, &d, &gerr);
    if (rc == CB_ENOTFOUND) /* released meanwhile */
        return 0;
    if (rc == CB_ECORRUPT) { /* not ours: written whole or not at all, so never half a lock */
        snprintf(holder, cap, "an unreadable lock object '%s' is in the way", name);
        return 1;
    }
    if (rc < 0) {
        *err = gerr;
        return rc;
    }
    if (cb__lock_doc_stale(&d, l->host, (int64_t)time(NULL))) {
        cb_error derr = { 0 };
        cb_store_delete_object(l->store, l->home, name, 0, &derr); /* a unique name: safe */
        return 0;
    }
    if (is_claim && strcmp(d.id, l->doc.id) == 0)
        return 0;
    lock_describe(&d, holder, cap);
    return 1;
}

/* List the store's locks and check each: 1 on the first conflict, 0 if none. */
static int lock_conflicts(cb_lock *l, char *holder, size_t cap, cb_error *err)
{
    cb_strv names = { .err = err };
    int rc = cb__lock_names(l->store, l->home, &names, err);
    for (size_t i = 0; rc == 0 && i < names.n; i++)
        rc = lock_check_one(l, names.v[i], holder, cap, err);
    cb__strv_dispose(&names);
    return rc;
}

/* An exclusive locker's claim, created only if absent: of two exclusive lockers, one wins
 * even if a listing lags behind a write. A stale claim is removed and tried once more. */
static int lock_claim(cb_lock *l, char *holder, size_t cap, cb_error *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        cb_error cerr = { 0 };
        cb_lock_doc d;
        int rc = cb__lock_doc_put(l->store, l->home, CB_LOCK_CLAIM, &l->doc, 1, &cerr);
        if (rc == 0) {
            l->claimed = 1;
            return 0;
        }
        if (rc == CB_ENOTSUPP) /* listing and comparing alone must do (s3api) */
            return 0;
        if (rc != CB_EEXISTS) {
            *err = cerr;
            return rc;
        }
        cb_error_clear(&cerr);
        rc = cb__lock_doc_get(l->store, l->home, CB_LOCK_CLAIM, &d, &cerr);
        if (rc == CB_ENOTFOUND)
            continue;
        if (rc == 0 && !cb__lock_doc_stale(&d, l->host, (int64_t)time(NULL))) {
            lock_describe(&d, holder, cap);
            return 1;
        }
        if (rc < 0 && rc != CB_ECORRUPT) {
            *err = cerr;
            return rc;
        }
        cb_store_delete_object(l->store, l->home, CB_LOCK_CLAIM, 0, &cerr);
    }
    snprintf(holder, cap, "another command keeps claiming the exclusive lock");
    return 1;
}

/* Remove what this attempt wrote. */
static void lock_remove(cb_lock *l)
{
    cb_error ignored = { 0 };
    if (l->claimed) {
        cb_lock_doc d;
        if (cb__lock_doc_get(l->store, l->home, CB_LOCK_CLAIM, &d, &ignored) == 0 &&
            strcmp(d.id, l->doc.id) == 0)
            cb_store_delete_object(l->store, l->home, CB_LOCK_CLAIM, 0, &ignored);
        l->claimed = 0;
    }
    cb_error_clear(&ignored);
    cb_store_delete_object(l->store, l->home, l->name, 0, &ignored);
}

/* ---- refreshing ---- */

/* Seconds between refreshes: six in a lock's life, so a few may fail without losing it. */
static int64_t lock_every(const cb_lock *l)
{
    return l->ttl / 6 > 0 ? l->ttl / 6 : 1;
}

static void lock_lose(cb_lock *l, const char *why)
{
    pthread_mutex_lock(&l->mu);
    if (!l->lost) {
        l->lost = 1;
        snprintf(l->why, sizeof(l->why), "%s", why);
    }
    pthread_mutex_unlock(&l->mu);
}

/* Rewrite the lock (and the claim) with a later expiry, if it is still ours. */
static void lock_refresh(cb_lock *l)
{
    cb_error err = { 0 };
    cb_lock_doc d;
    int64_t now = (int64_t)time(NULL);
    int rc = cb__lock_doc_get(l->store, l->home, l->name, &d, &err);
    if (rc == CB_ENOTFOUND || (rc == 0 && strcmp(d.id, l->doc.id) != 0)) {
        lock_lose(l, "the lock was removed by another command (cinderblock unlock --force?)");
        return;
    }
    if (rc == 0 && l->claimed &&
        (cb__lock_doc_get(l->store, l->home, CB_LOCK_CLAIM, &d, &err) < 0 ||
         strcmp(d.id, l->doc.id) != 0)) {
        lock_lose(l, "the exclusive lock's claim was removed by another command");
        return;
    }
    cb_lock_doc next = l->doc;
    next.refreshed = now;
    next.expires = now + l->ttl;
    cb_error_clear(&err);
    if (rc == 0 && cb__lock_doc_put(l->store, l->home, l->name, &next, 0, &err) == 0 &&
        (!l->claimed || cb__lock_doc_put(l->store, l->home, CB_LOCK_CLAIM, &next, 0, &err) == 0)) {
        l->doc = next;
        return;
    }
    /* the store is out of reach for now: the lock is good until its old expiry; if the next
     * refresh would come after that, others may already take it for stale */
    if (now + lock_every(l) >= l->doc.expires)
        lock_lose(l, "the lock could not be refreshed before it expired");
}

static void *lock_refresher_main(void *arg)
{
    cb_lock *l = arg;
    int64_t every = lock_every(l);
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        cb__cond_wait_ms(&l->cv, &l->mu, (long)every * 1000);
        if (l->stop)
            break;
        pthread_mutex_unlock(&l->mu);
        lock_refresh(l);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* ---- taking ---- */

static void lock_free(cb_lock *l)
{
    if (l == NULL)
        return;
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l->home);
    free(l);
}

/* One attempt: 0 held, 1 conflict (holder says with whom), < 0 error. */
static int lock_attempt(
    cb_lock *l, const char *command, const char *what, char *holder, size_t cap, cb_error *err)
{
    cb_error perr = { 0 };
    int rc;
    if ((rc = cb__lock_doc_new(&l->doc, l->store, l->doc.exclusive, command, what, err)) < 0)
        return rc;
    l->ttl = l->doc.expires - l->doc.created;
    cb__lock_doc_name(&l->doc, l->name);
    rc = cb__lock_doc_put(l->store, l->home, l->name, &l->doc, 1, &perr);
    if (rc == CB_ENOTSUPP) { /* the name is unique anyway */
        cb_error_clear(&perr);
        rc = cb__lock_doc_put(l->store, l->home, l->name, &l->doc, 0, &perr);
    }
    if (rc < 0) {
        *err = perr;
        return rc;
    }
    if (l->doc.exclusive && (rc = lock_claim(l, holder, cap, err)) != 0) {
        lock_remove(l);
        return rc;
    }
    if ((rc = lock_conflicts(l, holder, cap, err)) != 0)
        lock_remove(l);
    return rc;
}

/* Between attempts: 1 to 5 seconds, random, so that two waiting commands fall out of step. */
static void lock_pause(double left)
{
    unsigned char r = 0;
    if (getrandom(&r, 1, 0) != 1)
        r = 128;
    double s = 1.0 + 4.0 * r / 255.0;
    if (s > left)
        s = left;
    if (s > 0)
        usleep((useconds_t)(s * 1e6));
}

int cb__lock_take(cb_store *store,
                  int exclusive,
                  const char *command,
                  const char *what,
                  cb_lock **out,
                  cb_error *err)
{
    const cb_store_opts *o = cb_store_get_opts(store);
    char holder[700] = "";
    int rc;
    *out = NULL;
    if (o->no_lock)
        return 0;
    cb_lock *l = cb__calloc(1, sizeof(*l), err);
    if (l == NULL)
        return CB_ENOMEM;
    l->store = store;
    l->doc.exclusive = exclusive;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    cb__lock_host(store, l->host);
    if ((rc = cb_store_home_container(store, &l->home, err)) < 0) {
        lock_free(l);
        return rc;
    }
    double deadline = (double)time(NULL) + (o->lock_wait > 0 ? o->lock_wait : 0);
    for (;;) {
        cb_error aerr = { 0 };
        rc = lock_attempt(l, command, what, holder, sizeof(holder), &aerr);
        if (rc == 1 && (double)time(NULL) < deadline) {
            lock_pause(deadline - (double)time(NULL));
            continue;
        }
        /* A store this user may not write: a shared lock cannot be taken, and nothing it
         * could keep away can happen through this user either. A store without its home
         * container: no backup runs there (a backup creates it first), nothing to lock
         * against, and a restore of a mistyped store must not create it. */
        if ((!exclusive && rc == CB_EAUTH) || rc == CB_ENOTFOUND) {
            lock_free(l);
            return 0;
        }
        if (rc < 0)
            *err = aerr;
        break;
    }
    if (rc == 1)
        rc = cb_error_set(err, CB_ELOCKED,
                          "the store is locked: %s; wait (--retry-lock DURATION), or if that "
                          "command is gone run `cinderblock unlock`",
                          holder);
    if (rc == 0 && pthread_create(&l->refresher, NULL, lock_refresher_main, l) == 0)
        l->refresher_started = 1;
    else if (rc == 0)
        rc = cb_error_set(err, CB_ERROR, "cannot start the lock's refresh thread");
    if (rc < 0) {
        if (l->name[0] != '\0' && rc != CB_ELOCKED)
            lock_remove(l);
        lock_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

int cb__lock_held(cb_lock *l, cb_error *err)
{
    if (l == NULL)
        return 0;
    pthread_mutex_lock(&l->mu);
    int lost = l->lost;
    char why[300];
    memcpy(why, l->why, sizeof(why));
    pthread_mutex_unlock(&l->mu);
    return lost ? cb_error_set(err, CB_ELOCKED, "%s: stopped", why) : 0;
}

void cb__lock_release(cb_lock *l)
{
    if (l == NULL)
        return;
    if (l->refresher_started) {
        pthread_mutex_lock(&l->mu);
        l->stop = 1;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->refresher, NULL);
    }
    lock_remove(l);
    lock_free(l);
}
