/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_allocfail.c: memory runs out at every allocation in turn (curl's torture mode).
 *
 * Opening a posix store, a full backup, an incremental, a restore, a listing and a delete
 * each run again and again with allocation 1, 2, 3, ... failing (tests/helpers/allocfail.h),
 * until the command makes fewer allocations than the one armed. After each run: the command
 * failed with a code and a message, or succeeded with a correct result; it did not crash
 * (nor leak: the ASan run of the unit suite checks that); and the store is sane: it lists,
 * every backup it lists restores bit-exact, and cleanup leaves no leftovers.
 *
 * Only the library's own allocations are counted: those inside jansson, yajl, OpenSSL,
 * zlib, bzip2, zstd, libdeflate and libcurl do not go through cb__malloc.
 *
 * A command that failed yet did its work (a backup committed, a restore's target in place)
 * is a broken promise too: a failure leaves nothing behind. With AF_KEEP_GOING=1 every broken
 * promise is printed and the test fails at the end; with AF_VERBOSE=1 every run is.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "allocfail.h"
#include "testutil.h"

#define AF_VOL (160u << 10)
#define AF_MAX_RUNS 20000 /* a command that never stops allocating is a failure */

typedef enum { AF_OPEN, AF_FULL, AF_INCR, AF_RESTORE, AF_LIST, AF_DELETE, AF_CMDS } af_cmd;
static const char *const af_names[] = {
    "open", "backup", "incremental", "restore", "list", "delete"
};

typedef struct af {
    char *dir;
    char root[600], url[700], vol[600], out[600], check[600];
    unsigned char v[3][AF_VOL]; /* the base, its incremental, another volume */
    cb_store *store;
    char base[40];  /* the full backup every command but open and backup works on */
    char made[40];  /* the backup a command made (backup, incremental) or is to delete */
    int made_which; /* the volume of `made` */
    unsigned runs, failed, survived, locks_left;
    unsigned problems; /* broken promises (AF_KEEP_GOING) */
} af;

static int af_backup(af *t, int which, const char *parent, char id_out[40], cb_error *err)
{
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    o.object_size = 65536;
    o.sha_block = 4096;
    o.parent_id = parent;
    o.threads = 2;
    o.compression = which == 2 ? "bz2" : "zlib";
    o.volume_id = which == 2 ? "00000000-0000-4000-8000-000000000002" : NULL;
    return tu_backup(t->store, t->vol, t->v[which], AF_VOL, &o, id_out, err);
}

static int af_run(af *t, af_cmd cmd, cb_error *err)
{
    cb_backup_info **v = NULL;
    size_t n = 0;
    int rc;
    switch (cmd) {
    case AF_OPEN: {
        cb_store *s = NULL;
        rc = cb_store_open(&s, t->url, NULL, err);
        if (rc == 0 && s == NULL)
            fail_msg("open: succeeded without a store");
        cb_store_free(s);
        return rc;
    }
    case AF_FULL:
        t->made_which = 0;
        return af_backup(t, 0, NULL, t->made, err);
    case AF_INCR:
        t->made_which = 1;
        return af_backup(t, 1, t->base, t->made, err);
    case AF_RESTORE:
        return cb_restore(t->store, t->base, t->out, TU_REPLACE, err);
    case AF_LIST:
        rc = cb_backup_list(t->store, NULL, &v, &n, err);
        if (rc == 0 && (n != 2 || v[0]->problem != NULL || v[1]->problem != NULL))
            fail_msg("list: succeeded with %zu backups (%s)", n,
                     n > 0 && v[0]->problem ? v[0]->problem : "-");
        cb_backup_info_free_array(v, n);
        return rc;
    default:
        return cb_backup_delete(t->store, t->made, 0, err);
    }
}

/* Whether the file at `path` holds volume `want`. */
static int af_same(const char *path, const unsigned char *want)
{
    return tu_file_equals(path, want, AF_VOL);
}

static const unsigned char *af_want(af *t, const char *id)
{
    if (strcmp(id, t->base) == 0)
        return t->v[0];
    if (strcmp(id, t->made) == 0)
        return t->v[t->made_which];
    return NULL;
}

/* A broken promise: fatal, unless AF_KEEP_GOING is set (to see them all at once). */
static void CB_PRINTF(2, 3) af_bad(af *t, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    t->problems++;
    if (getenv("AF_KEEP_GOING") == NULL)
        fail_msg("%s", msg);
    print_error("%s\n", msg);
}

/* A listed backup: one the test knows, sound, restoring bit-exact. Returns the volume it
 * should hold, or NULL for a backup the test never saw committed. */
static const unsigned char *
af_listed(af *t, af_cmd cmd, const cb_backup_info *b, int rc, const char *what)
{
    cb_error e = { 0 };
    const unsigned char *want = af_want(t, b->backup_id);
    if (want == NULL && (cmd == AF_FULL || cmd == AF_INCR) && rc < 0 && b->problem == NULL) {
        af_bad(t, "%s: failed, yet backup %s was committed", what, b->backup_id);
        return NULL;
    }
    if (want == NULL || b->problem != NULL) {
        af_bad(t, "%s: the store lists backup %s (%s) that was never committed", what, b->backup_id,
               b->problem ? b->problem : "no problem shown");
        return NULL;
    }
    unlink(t->check);
    if (cb_restore(t->store, b->backup_id, t->check, TU_REPLACE, &e) != 0)
        af_bad(t, "%s: listed backup %s does not restore: %s", what, b->backup_id, e.msg);
    else if (!af_same(t->check, want))
        af_bad(t, "%s: backup %s restores wrong data", what, b->backup_id);
    return want;
}

/* After one injected failure: the store is one a user can trust. */
static void af_audit(af *t, af_cmd cmd, int rc, const cb_error *err, const char *what)
{
    cb_backup_info **v = NULL;
    cb_leftover *lo = NULL;
    cb_lock_info *locks = NULL;
    size_t n = 0, nlo = 0, nlocks = 0;
    cb_error e = { 0 };
    if (rc < 0 && (err->code != rc || err->msg[0] == '\0'))
        af_bad(t, "%s: failed with %s but the error says \"%s\" (%s)", what, cb_status_name(rc),
               err->msg, cb_status_name(err->code));
    if (rc > 0)
        af_bad(t, "%s: returned %d", what, rc);
    if (cmd == AF_RESTORE && rc == 0 && !af_same(t->out, t->v[0]))
        af_bad(t, "%s: the restore succeeded with the wrong data", what);
    if (cmd == AF_RESTORE && rc < 0 && access(t->out, F_OK) == 0) {
        af_bad(t, "%s: failed, yet its target was put in place (%s)", what,
               af_same(t->out, t->v[0]) ? "right data" : "wrong data");
    }
    unlink(t->out);
    /* a lock the failing command could not remove is gone with its process, in real life */
    assert_cb_ok(cb_lock_list(t->store, &locks, &nlocks, &e), &e);
    cb_lock_info_free_array(locks, nlocks);
    t->locks_left += nlocks > 0;
    assert_cb_ok(cb_unlock(t->store, CB_UNLOCK_ALL, NULL, NULL, &e), &e);
    assert_cb_ok(cb_backup_list(t->store, NULL, &v, &n, &e), &e);
    int made_listed = 0;
    for (size_t i = 0; i < n; i++) {
        af_listed(t, cmd, v[i], rc, what);
        made_listed |= t->made[0] != '\0' && strcmp(v[i]->backup_id, t->made) == 0;
    }
    cb_backup_info_free_array(v, n);
    if ((cmd == AF_FULL || cmd == AF_INCR) && rc == 0 && !made_listed)
        af_bad(t, "%s: the backup succeeded but is not listed", what);
    if (cmd == AF_DELETE && rc == 0 && made_listed)
        af_bad(t, "%s: the delete succeeded but the backup is still listed", what);
    assert_cb_ok(cb_cleanup(t->store, 0, 0, NULL, NULL, &e), &e);
    assert_cb_ok(cb_leftover_list(t->store, &lo, &nlo, &e), &e);
    if (nlo != 0)
        af_bad(t, "%s: leftovers after cleanup: %s", what, lo[0].prefix);
    cb_leftover_free_array(lo, nlo);
}

/* A fresh store with what the command works on, made without failures: the base backup,
 * and for list and delete one more. Fresh, because every backup leaves its container
 * behind (as Cinder's posix driver does), and each makes a listing take more allocations. */
static void af_prepare(af *t, af_cmd cmd)
{
    cb_error e = { 0 };
    cb_store_free(t->store);
    tu_rmtree(t->root);
    assert_cb_ok(cb_store_open(&t->store, t->url, NULL, &e), &e);
    assert_cb_ok(af_backup(t, 0, NULL, t->base, &e), &e);
    t->made[0] = '\0';
    if (cmd == AF_LIST || cmd == AF_DELETE) {
        t->made_which = 2;
        assert_cb_ok(af_backup(t, 2, NULL, t->made, &e), &e);
    }
}

static void af_sweep(af *t, af_cmd cmd)
{
    unsigned failed = 0, survived = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t nth;
    for (nth = 1; nth <= AF_MAX_RUNS; nth++) {
        char what[100];
        cb_error err = { 0 };
        snprintf(what, sizeof(what), "%s, allocation %llu failing", af_names[cmd],
                 (unsigned long long)nth);
        af_prepare(t, cmd);
        tu_allocfail_arm(nth);
        int rc = af_run(t, cmd, &err);
        int fired = tu_allocfail_disarm();
        if (!fired) { /* it made fewer allocations: done */
            if (rc != 0)
                fail_msg("%s: failed with nothing failing: %s", what, err.msg);
            af_audit(t, cmd, rc, &err, what);
            break;
        }
        failed += rc < 0;
        survived += rc == 0;
        if (getenv("AF_VERBOSE") != NULL)
            print_message("%s: %s %s (%llu made)\n", what, cb_status_name(rc), err.msg,
                          (unsigned long long)tu_allocfail_count());
        af_audit(t, cmd, rc, &err, what);
    }
    if (nth > AF_MAX_RUNS)
        fail_msg("%s: still allocating after %d runs", af_names[cmd], AF_MAX_RUNS);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_message("%s: %llu allocations, %u failures made it fail cleanly, %u it survived "
                  "(%.1f s)\n",
                  af_names[cmd], (unsigned long long)(nth - 1), failed, survived,
                  (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    t->runs += (unsigned)(nth - 1);
    t->failed += failed;
    t->survived += survived;
}

static void test_allocfail__every_allocation(void **state)
{
    (void)state;
    af *t = calloc(1, sizeof(*t));
    t->dir = tu_mkdtemp("allocfail");
    snprintf(t->root, sizeof(t->root), "%s/store", t->dir);
    snprintf(t->url, sizeof(t->url), "posix:%s", t->root);
    snprintf(t->vol, sizeof(t->vol), "%s/volume.img", t->dir);
    snprintf(t->out, sizeof(t->out), "%s/restored.img", t->dir);
    snprintf(t->check, sizeof(t->check), "%s/check.img", t->dir);
    tu_fill_random(t->v[0], AF_VOL / 2, 1);
    memset(t->v[0] + AF_VOL / 2, 'z', AF_VOL / 4);
    memcpy(t->v[1], t->v[0], AF_VOL);
    for (size_t b = 3; b < AF_VOL / 4096; b += 7)
        tu_fill_random(t->v[1] + b * 4096, 4096, 100 + b);
    tu_fill_random(t->v[2], AF_VOL, 3);
    for (int c = 0; c < AF_CMDS; c++)
        af_sweep(t, (af_cmd)c);
    print_message("%u runs: %u failed cleanly, %u survived; %u left a lock behind\n", t->runs,
                  t->failed, t->survived, t->locks_left);
    assert_int_equal(t->problems, 0);
    cb_store_free(t->store);
    tu_rmtree(t->dir);
    free(t->dir);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allocfail__every_allocation),
    };
    return cmocka_run_group_tests_name("allocfail", tests, NULL, NULL);
}
