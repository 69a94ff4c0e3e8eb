/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_failnth.c: every store operation of backup, incremental backup, restore, delete
 * --cascade and cleanup fails once, at every call it makes (the mem store's fail-Nth), and
 * afterwards: the command failed with its error explained, or succeeded with a correct
 * result; every backup the store lists restores bit-exact; nothing half-done is listed as a
 * backup; and cleanup then leaves exactly the committed backups' objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "memstore.h"

#define FN_VOL (256u << 10)
#define FN_CAP 10 /* calls tried per operation: the first ones and the last ones */

typedef enum { FN_FULL, FN_INCR, FN_RESTORE, FN_DELETE, FN_CLEANUP, FN_CMDS } fn_cmd;
static const char *const fn_names[] = { "backup", "incremental", "restore", "delete --cascade",
                                        "cleanup" };

typedef struct fn {
    char *dir;
    char vol[600], out[600];
    unsigned char v[3][FN_VOL]; /* full, incremental, another volume */
    cb_store *store;
    char full[40], incr[40], other[40];
    unsigned runs, failed;
} fn;

static int fn_backup(fn *t, int which, const char *parent, char id_out[40], cb_error *err)
{
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    o.object_size = 32768;
    o.sha_block = 4096;
    o.parent_id = parent;
    o.threads = 2;
    o.compression = which == 2 ? "none" : "zstd";
    o.volume_id = which == 2 ? "00000000-0000-4000-8000-000000000002" : NULL;
    return tu_backup(t->store, t->vol, t->v[which], FN_VOL, &o, id_out, err);
}

/* A cancelled backup that keeps what it stored: leftovers for cleanup to remove. */
static int fn_cancel_now(void *payload)
{
    return --*(int *)payload <= 0;
}

static void fn_leftovers(fn *t)
{
    cb_backup_opts o = CB_BACKUP_OPTS_INIT;
    cb_error err = { 0 };
    int budget = 3;
    tu_write_file(t->vol, t->v[1], FN_VOL);
    o.object_size = 32768;
    o.sha_block = 4096;
    o.keep_partial = 1;
    o.cancel = fn_cancel_now;
    o.cancel_payload = &budget;
    assert_int_equal(cb_backup(t->store, t->vol, &o, NULL, &err), CB_ECANCELED);
}

/* A fresh store with what the command works on. */
static void fn_prepare(fn *t, fn_cmd cmd)
{
    cb_error err = { 0 };
    cb_store_free(t->store);
    cb_mem_store_use();
    assert_cb_ok(cb_store_open(&t->store, "mem:", NULL, &err), &err);
    t->full[0] = t->incr[0] = t->other[0] = '\0';
    if (cmd != FN_FULL)
        assert_cb_ok(fn_backup(t, 0, NULL, t->full, &err), &err);
    if (cmd == FN_RESTORE || cmd == FN_DELETE)
        assert_cb_ok(fn_backup(t, 1, t->full, t->incr, &err), &err);
    if (cmd == FN_DELETE)
        assert_cb_ok(fn_backup(t, 2, NULL, t->other, &err), &err);
    if (cmd == FN_CLEANUP)
        fn_leftovers(t);
    unlink(t->out);
}

static int fn_run(fn *t, fn_cmd cmd, cb_error *err)
{
    char id[40];
    switch (cmd) {
    case FN_FULL:
        return fn_backup(t, 0, NULL, t->full, err);
    case FN_INCR:
        return fn_backup(t, 1, t->full, t->incr, err);
    case FN_RESTORE:
        return cb_restore(t->store, t->incr, t->out, TU_REPLACE, err);
    case FN_DELETE:
        return cb_backup_delete(t->store, t->full, CB_DELETE_CASCADE, err);
    default:
        (void)id;
        return cb_cleanup(t->store, 0, 0, NULL, NULL, err);
    }
}

/* The volume a listed backup should hold. */
static const unsigned char *fn_want(fn *t, const char *id)
{
    if (strcmp(id, t->full) == 0)
        return t->v[0];
    if (strcmp(id, t->incr) == 0)
        return t->v[1];
    if (strcmp(id, t->other) == 0)
        return t->v[2];
    return NULL;
}

static void fn_restores(fn *t, const char *id, const unsigned char *want, const char *what)
{
    cb_error err = { 0 };
    char path[700];
    snprintf(path, sizeof(path), "%s/check.img", t->dir);
    unlink(path);
    if (cb_restore(t->store, id, path, TU_REPLACE, &err) != 0)
        fail_msg("%s: listed backup %s does not restore: %s", what, id, err.msg);
    if (!tu_file_equals(path, want, FN_VOL))
        fail_msg("%s: backup %s restores wrong data", what, id);
}

/* After one injected failure: the store is in a state a user can trust. */
static void fn_audit(fn *t, fn_cmd cmd, int rc, const cb_error *err, const char *what)
{
    cb_backup_info **v = NULL;
    cb_leftover *lo = NULL;
    size_t n = 0, nlo = 0, objects = 0;
    cb_error e = { 0 };
    if (rc < 0 && (err->code != rc || err->msg[0] == '\0'))
        fail_msg("%s: failed with %s but the error says \"%s\" (%s)", what, cb_status_name(rc),
                 err->msg, cb_status_name(err->code));
    if (cmd == FN_RESTORE && rc == 0)
        fn_restores(t, t->incr, t->v[1], what);
    if (cmd == FN_RESTORE && rc < 0 && access(t->out, F_OK) == 0)
        fail_msg("%s: a failed restore left its target", what);
    /* the process that failed is gone: its locks with it */
    assert_cb_ok(cb_unlock(t->store, CB_UNLOCK_ALL, NULL, NULL, &e), &e);
    assert_cb_ok(cb_backup_list(t->store, NULL, &v, &n, &e), &e);
    for (size_t i = 0; i < n; i++) {
        const unsigned char *want = fn_want(t, v[i]->backup_id);
        if (want == NULL || v[i]->problem != NULL)
            fail_msg("%s: the store lists backup %s (%s) that was never committed", what,
                     v[i]->backup_id, v[i]->problem ? v[i]->problem : "no problem shown");
        fn_restores(t, v[i]->backup_id, want, what);
        objects += v[i]->object_count + 2;
    }
    if ((cmd == FN_FULL || cmd == FN_INCR) && rc == 0 && n != (cmd == FN_FULL ? 1u : 2u))
        fail_msg("%s: the backup succeeded but %zu backups are listed", what, n);
    if (cmd == FN_DELETE && rc == 0 && n != 1)
        fail_msg("%s: the delete succeeded but %zu backups are listed", what, n);
    cb_backup_info_free_array(v, n);
    assert_cb_ok(cb_cleanup(t->store, 0, 0, NULL, NULL, &e), &e);
    assert_cb_ok(cb_leftover_list(t->store, &lo, &nlo, &e), &e);
    if (nlo != 0)
        fail_msg("%s: leftovers after cleanup: %s", what, lo[0].prefix);
    cb_leftover_free_array(lo, nlo);
    if (cb_mem_store_count(t->store) != objects)
        fail_msg("%s: the store holds %zu objects, the committed backups %zu", what,
                 cb_mem_store_count(t->store), objects);
}

static void fn_sweep(fn *t, fn_cmd cmd)
{
    unsigned tried = 0, failed = 0;
    for (int op = 0; op < CB_MEM_OP_COUNT; op++) {
        cb_error err = { 0 };
        fn_prepare(t, cmd);
        unsigned long before = cb_mem_store_calls(t->store, (cb_mem_op)op);
        assert_cb_ok(fn_run(t, cmd, &err), &err);
        unsigned long calls = cb_mem_store_calls(t->store, (cb_mem_op)op) - before;
        for (unsigned long nth = 1; nth <= calls; nth++) {
            if (calls > 2 * FN_CAP && nth > FN_CAP && nth <= calls - FN_CAP)
                continue;
            char what[200];
            cb_error ferr = { 0 };
            snprintf(what, sizeof(what), "%s, call %lu of %lu to op %d failing", fn_names[cmd], nth,
                     calls, op);
            fn_prepare(t, cmd);
            cb_mem_store_fail(t->store, (cb_mem_op)op, nth, CB_EIO);
            int rc = fn_run(t, cmd, &ferr);
            cb_mem_store_fail(t->store, (cb_mem_op)op, 0, 0);
            tried++;
            failed += rc < 0;
            fn_audit(t, cmd, rc, &ferr, what);
        }
    }
    print_message("%s: %u injected failures, %u made it fail cleanly, %u it survived\n",
                  fn_names[cmd], tried, failed, tried - failed);
    t->runs += tried;
}

static void test_failnth__every_call(void **state)
{
    (void)state;
    fn *t = calloc(1, sizeof(*t));
    t->dir = tu_mkdtemp("failnth");
    snprintf(t->vol, sizeof(t->vol), "%s/volume.img", t->dir);
    snprintf(t->out, sizeof(t->out), "%s/restored.img", t->dir);
    tu_fill_random(t->v[0], FN_VOL / 2, 1);
    memset(t->v[0] + FN_VOL / 2, 'z', FN_VOL / 4);
    memcpy(t->v[1], t->v[0], FN_VOL);
    for (size_t b = 3; b < FN_VOL / 4096; b += 7)
        tu_fill_random(t->v[1] + b * 4096, 4096, 100 + b);
    tu_fill_random(t->v[2], FN_VOL, 3);
    for (int c = 0; c < FN_CMDS; c++)
        fn_sweep(t, (fn_cmd)c);
    cb_store_free(t->store);
    tu_rmtree(t->dir);
    free(t->dir);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failnth__every_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
