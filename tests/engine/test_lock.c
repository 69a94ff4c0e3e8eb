/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_lock.c: store locks on a real posix store: conflicts name their holder, stale locks
 * (expired, or of a dead process of this host) give way, unlock removes only stale ones
 * unless forced, a removed lock is noticed by its holder, and of many exclusive lockers
 * racing, never two hold the lock at once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "lock/lock.h"

typedef struct lk {
    char *dir;
    char root[512];
    cb_store *store; /* host "alpha" */
    cb_store *other; /* the same store, as host "beta" */
} lk;

static cb_store *lk_open(const char *root, const char *host, double wait)
{
    cb_store_opts o = CB_STORE_OPTS_INIT;
    cb_store *s = NULL;
    cb_error err = { 0 };
    o.lock_host = host;
    o.lock_wait = wait;
    assert_cb_ok(cb_store_open(&s, root, &o, &err), &err);
    return s;
}

static int lk_setup(void **state)
{
    lk *t = calloc(1, sizeof(*t));
    t->dir = tu_mkdtemp("lock");
    snprintf(t->root, sizeof(t->root), "%s/store", t->dir);
    mkdir(t->root, 0700);
    t->store = lk_open(t->root, "alpha", 0);
    t->other = lk_open(t->root, "beta", 0);
    *state = t;
    return 0;
}

static int lk_teardown(void **state)
{
    lk *t = *state;
    cb_store_free(t->store);
    cb_store_free(t->other);
    tu_rmtree(t->dir);
    free(t->dir);
    free(t);
    return 0;
}

/* A lock object written by hand, as another process would have left it. */
static void
lk_plant(lk *t, const char *name, const char *host, long long pid, long long expires, int exclusive)
{
    char path[1200], text[600];
    snprintf(path, sizeof(path), "%s/cinderblock", t->root);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/cinderblock/locks", t->root);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/cinderblock/locks/%s", t->root, name);
    snprintf(text, sizeof(text),
             "{\"cinderblock_lock\": 1, \"id\": \"00000000000000aa\", \"exclusive\": %s, "
             "\"host\": \"%s\", \"pid\": %lld, \"command\": \"backup planted\", \"created\": "
             "%lld, \"expires\": %lld}",
             exclusive ? "true" : "false", host, pid, (long long)time(NULL) - 10, expires);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static size_t lk_count(lk *t)
{
    cb_lock_info *v = NULL;
    size_t n = 0;
    cb_error err = { 0 };
    assert_cb_ok(cb_lock_list(t->store, &v, &n, &err), &err);
    cb_lock_info_free_array(v, n);
    return n;
}

static void test_lock__shared_and_exclusive(void **state)
{
    lk *t = *state;
    cb_lock *s1 = NULL, *s2 = NULL, *x = NULL;
    cb_error err = { 0 };
    /* shared locks share; an exclusive one is refused, naming a holder */
    assert_cb_ok(cb__lock_take(t->store, 0, "backup", "one", &s1, &err), &err);
    assert_cb_ok(cb__lock_take(t->other, 0, "restore", "two", &s2, &err), &err);
    assert_int_equal(cb__lock_take(t->other, 1, "delete", NULL, &x, &err), CB_ELOCKED);
    assert_null(x);
    assert_non_null(strstr(err.msg, "holds a shared lock (host "));
    assert_non_null(strstr(err.msg, "cinderblock unlock"));
    assert_int_equal(lk_count(t), 2); /* the refused one removed its own */
    cb__lock_release(s1);
    cb__lock_release(s2);
    assert_int_equal(lk_count(t), 0);
    /* an exclusive lock keeps everybody out */
    assert_cb_ok(cb__lock_take(t->store, 1, "delete", NULL, &x, &err), &err);
    cb_error_clear(&err);
    assert_int_equal(cb__lock_take(t->other, 0, "backup", NULL, &s1, &err), CB_ELOCKED);
    assert_non_null(strstr(err.msg, "'delete' holds an exclusive lock (host alpha"));
    cb_error_clear(&err);
    assert_int_equal(cb__lock_take(t->other, 1, "cleanup", NULL, &s1, &err), CB_ELOCKED);
    cb__lock_release(x);
    assert_cb_ok(cb__lock_take(t->other, 1, "cleanup", NULL, &x, &err), &err);
    cb__lock_release(x);
    char claim[700];
    snprintf(claim, sizeof(claim), "%s/cinderblock/locks/exclusive", t->root);
    assert_int_equal(access(claim, F_OK), -1); /* the claim went with its lock */
}

static void test_lock__stale_locks_give_way(void **state)
{
    lk *t = *state;
    cb_lock *x = NULL;
    cb_error err = { 0 };
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    /* this host's, its process gone; another host's, expired */
    lk_plant(t, "s-0000000000000001", "alpha", dead, (long long)time(NULL) + 3600, 0);
    lk_plant(t, "x-0000000000000002", "gamma", 1, (long long)time(NULL) - 5, 1);
    assert_cb_ok(cb__lock_take(t->store, 1, "delete", NULL, &x, &err), &err);
    assert_int_equal(lk_count(t), 1); /* only ours */
    cb__lock_release(x);
    /* another host's live lock stays in the way: its process may be running there */
    lk_plant(t, "x-0000000000000003", "gamma", 1, (long long)time(NULL) + 3600, 1);
    assert_int_equal(cb__lock_take(t->store, 0, "backup", NULL, &x, &err), CB_ELOCKED);
    assert_non_null(strstr(err.msg, "host gamma"));
}

static void test_lock__unlock(void **state)
{
    lk *t = *state;
    cb_lock_info *v = NULL;
    size_t n = 0;
    cb_error err = { 0 };
    lk_plant(t, "s-0000000000000004", "gamma", 1, (long long)time(NULL) - 5, 0);    /* stale */
    lk_plant(t, "s-0000000000000005", "gamma", 1, (long long)time(NULL) + 3600, 0); /* live */
    lk_plant(t, "x-0000000000000006", "alpha", getpid(), (long long)time(NULL) + 3600, 1);
    assert_cb_ok(cb_unlock(t->store, 0, &v, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "cinderblock/locks/s-0000000000000004");
    assert_true(v[0].stale);
    cb_lock_info_free_array(v, n);
    assert_int_equal(lk_count(t), 2);
    assert_cb_ok(cb_unlock(t->store, CB_UNLOCK_ALL, &v, &n, &err), &err);
    assert_int_equal(n, 2);
    cb_lock_info_free_array(v, n);
    assert_int_equal(lk_count(t), 0);
}

static void test_lock__removed_lock_is_noticed(void **state)
{
    lk *t = *state;
    cb_lock *l = NULL;
    cb_error err = { 0 };
    setenv("CINDERBLOCK_LOCK_TTL", "6", 1); /* refreshed every second */
    assert_cb_ok(cb__lock_take(t->store, 0, "backup", "x", &l, &err), &err);
    unsetenv("CINDERBLOCK_LOCK_TTL");
    assert_cb_ok(cb__lock_held(l, &err), &err);
    assert_cb_ok(cb_unlock(t->other, CB_UNLOCK_ALL, NULL, NULL, &err), &err);
    int rc = 0;
    for (int i = 0; i < 40 && rc == 0; i++) {
        usleep(100 * 1000);
        rc = cb__lock_held(l, &err);
    }
    assert_int_equal(rc, CB_ELOCKED);
    assert_non_null(strstr(err.msg, "removed by another command"));
    cb__lock_release(l);
}

static void *lk_release_later(void *arg)
{
    sleep(2);
    cb__lock_release(arg);
    return NULL;
}

static void test_lock__wait_for_release(void **state)
{
    lk *t = *state;
    cb_lock *s = NULL, *x = NULL;
    cb_error err = { 0 };
    pthread_t th;
    cb_store *patient = lk_open(t->root, "beta", 20);
    assert_cb_ok(cb__lock_take(t->store, 0, "restore", NULL, &s, &err), &err);
    pthread_create(&th, NULL, lk_release_later, s); /* "another command" finishes */
    time_t t0 = time(NULL);
    int rc = cb__lock_take(patient, 1, "delete", NULL, &x, &err);
    pthread_join(th, NULL);
    assert_cb_ok(rc, &err);
    assert_true(time(NULL) - t0 >= 1); /* it waited */
    cb__lock_release(x);
    cb_store_free(patient);
}

/* Many exclusive lockers racing in threads: at no moment do two of them hold the lock. */
typedef struct lk_race {
    lk *t;
    atomic_int holders, max, wins;
    int rounds;
} lk_race;

static void *lk_racer(void *arg)
{
    lk_race *r = arg;
    cb_store *s = lk_open(r->t->root, "delta", 0);
    for (int i = 0; i < r->rounds; i++) {
        cb_lock *x = NULL;
        cb_error err = { 0 };
        if (cb__lock_take(s, 1, "cleanup", NULL, &x, &err) == 0) {
            int h = atomic_fetch_add(&r->holders, 1) + 1;
            if (h > atomic_load(&r->max))
                atomic_store(&r->max, h);
            atomic_fetch_add(&r->wins, 1);
            usleep(2000);
            atomic_fetch_sub(&r->holders, 1);
            cb__lock_release(x);
        }
    }
    cb_store_free(s);
    return NULL;
}

static void test_lock__exclusive_race(void **state)
{
    lk *t = *state;
    lk_race r = { .t = t, .rounds = 30 };
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, lk_racer, &r);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    print_message("exclusive race: %d of 120 attempts won, at most %d holder(s) at once\n",
                  atomic_load(&r.wins), atomic_load(&r.max));
    assert_int_equal(atomic_load(&r.max), 1);
    assert_true(atomic_load(&r.wins) > 0);
    assert_int_equal(lk_count(t), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, lk_setup, lk_teardown)
    const struct CMUnitTest tests[] = {
        T(test_lock__shared_and_exclusive),
        T(test_lock__stale_locks_give_way),
        T(test_lock__unlock),
        T(test_lock__removed_lock_is_noticed),
        T(test_lock__wait_for_release),
        T(test_lock__exclusive_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
