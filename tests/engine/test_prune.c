/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_prune.c: cb_prune over 60 days of backups of 3 volumes, checked against a plan written
 * by hand from the calendar, then run for real: every kept backup restores bit-exact.
 *
 * Day k (k = 0..59) is 2026-09-15 + k at 12:00 UTC (+ a minute per volume): day 0 is Tuesday
 * 2026-09-15, day 15 Wednesday 2026-09-30, day 16 2026-10-01, day 46 Saturday 2026-10-31,
 * day 47 Sunday 2026-11-01, day 59 Friday 2026-11-13. A full backup on days 0, 14, 28, 42, 56,
 * each other day an incremental on the day before.
 *
 * --keep-daily 7 --keep-weekly 4 --keep-monthly 3, by hand:
 *   daily:   days 53..59 (2026-11-07 .. 2026-11-13)
 *   weekly:  ISO weeks (Monday to Sunday): 2026-W46 (Nov 9-15) newest day 59, W45 (Nov 2-8)
 *            day 54 (Nov 8), W44 (Oct 26 - Nov 1) day 47 (Nov 1), W43 (Oct 19-25) day 40
 *   monthly: 2026-11 day 59, 2026-10 day 46 (Oct 31), 2026-09 day 15 (Sep 30)
 *   chains:  15 keeps its full 14; 40 keeps 28..39; 46, 47, 53..55 keep 42..52
 *   deleted: 0..13 (a chain nothing kept needs), 16..27, 41: 27 a volume, 33 kept
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "memstore.h"

#define DAYS 60
#define VOLS 3
#define VSIZE (32 * 1024)
#define DAY0 1789473600LL /* 2026-09-15 12:00:00 UTC */

typedef struct pt {
    cb_store *store;
    char *dir;
    char vol[512], out[512];
    char vid[VOLS][40];
    char id[VOLS][DAYS][40];
    unsigned char *img[VOLS][DAYS];
} pt;

/* The reason each day's backup has, "P" for "parent of kept <the next day's id>", NULL for
 * "not kept by the policy" (deleted). */
static const char *const expected[DAYS] = {
    [15] = "monthly 2026-09",
    [14] = "P",
    [28] = "P",
    [29] = "P",
    [30] = "P",
    [31] = "P",
    [32] = "P",
    [33] = "P",
    [34] = "P",
    [35] = "P",
    [36] = "P",
    [37] = "P",
    [38] = "P",
    [39] = "P",
    [40] = "weekly 2026-W43",
    [42] = "P",
    [43] = "P",
    [44] = "P",
    [45] = "P",
    [46] = "monthly 2026-10",
    [47] = "weekly 2026-W44",
    [48] = "P",
    [49] = "P",
    [50] = "P",
    [51] = "P",
    [52] = "P",
    [53] = "daily 2026-11-07",
    [54] = "daily 2026-11-08, weekly 2026-W45",
    [55] = "daily 2026-11-09",
    [56] = "daily 2026-11-10",
    [57] = "daily 2026-11-11",
    [58] = "daily 2026-11-12",
    [59] = "daily 2026-11-13, weekly 2026-W46, monthly 2026-11",
};

static int pt_setup(void **state)
{
    pt *t = calloc(1, sizeof(*t));
    cb_error err = { 0 };
    t->dir = tu_mkdtemp("prune");
    snprintf(t->vol, sizeof(t->vol), "%s/volume.img", t->dir);
    snprintf(t->out, sizeof(t->out), "%s/restored.img", t->dir);
    cb_mem_store_use();
    if (cb_store_open(&t->store, "mem:", NULL, &err) < 0)
        return -1;
    for (int v = 0; v < VOLS; v++) {
        snprintf(t->vid[v], sizeof(t->vid[v]), "%08x-0000-4000-8000-00000000000%d", 0xabc0 + v, v);
        unsigned char *img = malloc(VSIZE);
        tu_fill_random(img, VSIZE, 100 + (uint64_t)v);
        for (int k = 0; k < DAYS; k++) {
            cb_backup_opts o = CB_BACKUP_OPTS_INIT;
            cb_error e = { 0 };
            /* a day's change: 1 KiB somewhere */
            memset(img + ((size_t)k * 7 * 1024) % VSIZE, k + 1 + v * 64, 1024);
            t->img[v][k] = malloc(VSIZE);
            memcpy(t->img[v][k], img, VSIZE);
            o.volume_id = t->vid[v];
            o.object_size = 8192;
            o.sha_block = 1024;
            o.compression = "zlib";
            o.now = DAY0 + (int64_t)k * 86400 + v * 60;
            o.parent_id = k % 14 == 0 ? NULL : t->id[v][k - 1];
            assert_cb_ok(tu_backup(t->store, t->vol, img, VSIZE, &o, t->id[v][k], &e), &e);
        }
        free(img);
    }
    *state = t;
    return 0;
}

static int pt_teardown(void **state)
{
    pt *t = *state;
    cb_store_free(t->store);
    tu_rmtree(t->dir);
    free(t->dir);
    for (int v = 0; v < VOLS; v++)
        for (int k = 0; k < DAYS; k++)
            free(t->img[v][k]);
    free(t);
    return 0;
}

/* The plan's item of backup `id`, or fail. */
static const cb_prune_item *pt_item(const cb_prune_plan *p, const char *id)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].backup_id, id) == 0)
            return &p->items[i];
    fail_msg("backup %s is not in the plan", id);
    return NULL;
}

/* Every backup of volume v in the plan as the table above says. */
static void pt_check_volume(pt *t, const cb_prune_plan *p, int v)
{
    for (int k = 0; k < DAYS; k++) {
        const cb_prune_item *it = pt_item(p, t->id[v][k]);
        char want[200];
        if (expected[k] == NULL)
            snprintf(want, sizeof(want), "not kept by the policy");
        else if (strcmp(expected[k], "P") == 0)
            snprintf(want, sizeof(want), "parent of kept %s", t->id[v][k + 1]);
        else
            snprintf(want, sizeof(want), "%s", expected[k]);
        if (strcmp(it->reason, want) != 0)
            fail_msg("volume %d day %d: reason '%s', expected '%s'", v, k, it->reason, want);
        assert_int_equal(it->action, expected[k] ? CB_PRUNE_KEEP : CB_PRUNE_DELETE);
        assert_string_equal(it->volume_id, t->vid[v]);
    }
}

static size_t pt_count(pt *t, const char *vid)
{
    cb_backup_info **l = NULL;
    size_t n = 0;
    cb_error err = { 0 };
    assert_cb_ok(cb_backup_list(t->store, vid, &l, &n, &err), &err);
    cb_backup_info_free_array(l, n);
    return n;
}

static void pt_policy(cb_prune_opts *o)
{
    o->keep_daily = 7;
    o->keep_weekly = 4;
    o->keep_monthly = 3;
}

static void test_prune__calendar(void **state)
{
    pt *t = *state;
    cb_prune_opts o = CB_PRUNE_OPTS_INIT;
    cb_prune_plan *p = NULL;
    cb_error err = { 0 };
    pt_policy(&o);

    /* the dry run: the whole plan, every volume by itself, nothing deleted */
    o.dry_run = 1;
    assert_cb_ok(cb_prune(t->store, &o, &p, &err), &err);
    assert_int_equal(p->n, VOLS * DAYS);
    assert_int_equal(p->n_keep, VOLS * 33);
    assert_int_equal(p->n_delete, VOLS * 27);
    assert_int_equal(p->n_deleted, 0);
    for (int v = 0; v < VOLS; v++)
        pt_check_volume(t, p, v);
    /* by volume, newest first */
    assert_string_equal(p->items[0].backup_id, t->id[0][DAYS - 1]);
    assert_string_equal(p->items[DAYS - 1].backup_id, t->id[0][0]);
    cb_prune_plan_free(p);
    assert_int_equal(pt_count(t, NULL), VOLS * DAYS);

    /* one volume for real: the others are untouched */
    o.dry_run = 0;
    o.volume_id = t->vid[1];
    assert_cb_ok(cb_prune(t->store, &o, &p, &err), &err);
    assert_int_equal(p->n, DAYS);
    assert_int_equal(p->n_deleted, 27);
    pt_check_volume(t, p, 1);
    cb_prune_plan_free(p);
    assert_int_equal(pt_count(t, t->vid[1]), 33);
    assert_int_equal(pt_count(t, t->vid[0]), DAYS);
    assert_int_equal(pt_count(t, t->vid[2]), DAYS);

    /* every volume: the same plan again for volume 1 (already pruned: all kept) */
    o.volume_id = NULL;
    assert_cb_ok(cb_prune(t->store, &o, &p, &err), &err);
    assert_int_equal(p->n_deleted, 2 * 27);
    cb_prune_plan_free(p);
    assert_int_equal(pt_count(t, NULL), VOLS * 33);

    /* every kept backup restores bit-exact; every deleted one is gone */
    for (int v = 0; v < VOLS; v++)
        for (int k = 0; k < DAYS; k++) {
            cb_restore_opts ro = CB_RESTORE_OPTS_INIT;
            cb_error e = { 0 };
            ro.overwrite = 1;
            int rc = cb_restore(t->store, t->id[v][k], t->out, &ro, &e);
            if (expected[k] == NULL) {
                assert_int_equal(rc, CB_ENOTFOUND);
                continue;
            }
            assert_cb_ok(rc, &e);
            if (!tu_file_equals(t->out, t->img[v][k], VSIZE))
                fail_msg("volume %d day %d restores other bytes", v, k);
        }

    /* a second prune finds nothing more to delete */
    assert_cb_ok(cb_prune(t->store, &o, &p, &err), &err);
    assert_int_equal(p->n_delete, 0);
    assert_int_equal(p->n_keep, VOLS * 33);
    cb_prune_plan_free(p);
}

static void test_prune__rules(void **state)
{
    pt *t = *state;
    cb_prune_opts o = CB_PRUNE_OPTS_INIT;
    cb_prune_plan *p = NULL;
    cb_error err = { 0 };
    const char *pat[] = { "no-such-*" };

    /* no rule: refused, nothing deleted */
    assert_int_equal(cb_prune(t->store, &o, &p, &err), CB_EINVAL);
    assert_non_null(strstr(err.msg, "no keep rule"));
    assert_null(p);

    /* keep-last 1: the newest and its chain (56..58 its parents) */
    o.dry_run = 1;
    o.keep_last = 1;
    o.volume_id = t->vid[2];
    assert_cb_ok(cb_prune(t->store, &o, &p, &err), &err);
    assert_int_equal(p->n_keep, 4);
    assert_string_equal(pt_item(p, t->id[2][59])->reason, "last");
    assert_int_equal(pt_item(p, t->id[2][55])->action, CB_PRUNE_DELETE);
    cb_prune_plan_free(p);

    /* keep-within 2d of the newest (day 59): days 57..59 */
    o.keep_last = 0;
    o.keep_within = 2 * 86400;
    assert_cb_ok(cb_prune(t->store, &o, &p, &err), &err);
    assert_string_equal(pt_item(p, t->id[2][57])->reason, "within 2d");
    char want[80];
    snprintf(want, sizeof(want), "parent of kept %s", t->id[2][57]);
    assert_string_equal(pt_item(p, t->id[2][56])->reason, want);
    assert_int_equal(p->n_keep, 4);
    cb_prune_plan_free(p);

    /* keep-name that matches nothing: everything goes */
    o.keep_within = 0;
    o.keep_names = pat;
    o.n_keep_names = 1;
    assert_cb_ok(cb_prune(t->store, &o, &p, &err), &err);
    assert_int_equal(p->n_keep, 0);
    assert_int_equal(p->n_delete, DAYS);
    cb_prune_plan_free(p);
}

/*
 * --consolidate, the same policy. Chain 28..41: 40 is its oldest kept backup, on 12 that go:
 * consolidated. Chain 42..55: 46 (on 42..45) is consolidated; 47..55 stay on it. Chain 14..27:
 * 15 sits on its full alone: a new full would only replace 14, so nothing is done. Deleted:
 * 0..13, 16..27, 28..39, 41, 42..45 (43 a volume); every kept backup keeps its id and content.
 */
static void test_prune__consolidate(void **state)
{
    pt *t = *state;
    cb_prune_opts o = CB_PRUNE_OPTS_INIT;
    cb_prune_plan *p = NULL;
    cb_error err = { 0 };
    static const char *const tail = ", consolidated into a new full: its chain's full is not kept";
    pt_policy(&o);
    o.consolidate = 1;
    o.volume_id = t->vid[0];
    o.dry_run = 1;
    assert_cb_ok(cb_prune(t->store, &o, &p, &err), &err);
    assert_int_equal(p->n_consolidate, 2);
    assert_int_equal(p->n_delete, 43);
    for (int k = 0; k < DAYS; k++) {
        const cb_prune_item *it = pt_item(p, t->id[0][k]);
        int cons = k == 40 || k == 46, gone = k <= 13 || (k >= 16 && k <= 45 && !cons && k != 40);
        assert_int_equal(it->action, cons   ? CB_PRUNE_CONSOLIDATE
                                     : gone ? CB_PRUNE_DELETE
                                            : CB_PRUNE_KEEP);
        if (cons) {
            char want[200];
            snprintf(want, sizeof(want), "%s%s", expected[k], tail);
            assert_string_equal(it->reason, want);
            assert_null(it->new_full);
        }
    }
    cb_prune_plan_free(p);

    o.dry_run = 0;
    assert_cb_ok(cb_prune(t->store, &o, &p, &err), &err);
    assert_int_equal(p->n_consolidated, 2);
    assert_int_equal(p->n_deleted, 43);
    char full[2][40];
    for (int c = 0; c < 2; c++) {
        const cb_prune_item *it = pt_item(p, t->id[0][c == 0 ? 40 : 46]);
        assert_non_null(it->new_full);
        snprintf(full[c], sizeof(full[c]), "%s", it->new_full);
    }
    cb_prune_plan_free(p);
    assert_int_equal(pt_count(t, t->vid[0]), 60 - 43 + 2);
    for (int k = 0; k < DAYS; k++) {
        cb_restore_opts ro = CB_RESTORE_OPTS_INIT;
        cb_error e = { 0 };
        ro.overwrite = 1;
        int gone = k <= 13 || (k >= 16 && k <= 45 && k != 40);
        int rc = cb_restore(t->store, t->id[0][k], t->out, &ro, &e);
        if (gone) {
            assert_int_equal(rc, CB_ENOTFOUND);
            continue;
        }
        assert_cb_ok(rc, &e);
        if (!tu_file_equals(t->out, t->img[0][k], VSIZE))
            fail_msg("day %d restores other bytes", k);
    }
    for (int c = 0; c < 2; c++) { /* the new fulls: of the days they were made for */
        cb_backup_info *b = NULL, *was = NULL;
        cb_restore_opts ro = CB_RESTORE_OPTS_INIT;
        int day = c == 0 ? 40 : 46;
        ro.overwrite = 1;
        assert_cb_ok(cb_backup_show(t->store, full[c], &b, &err), &err);
        assert_cb_ok(cb_backup_show(t->store, t->id[0][day], &was, &err), &err);
        assert_null(b->parent_id);
        assert_string_equal(was->parent_id, full[c]);
        assert_string_equal(b->created_at, was->created_at);
        assert_cb_ok(cb_restore(t->store, full[c], t->out, &ro, &err), &err);
        assert_true(tu_file_equals(t->out, t->img[0][day], VSIZE));
        cb_backup_info_free(b);
        cb_backup_info_free(was);
    }
    /* once more: nothing left to consolidate or delete */
    assert_cb_ok(cb_prune(t->store, &o, &p, &err), &err);
    assert_int_equal(p->n_consolidate, 0);
    assert_int_equal(p->n_delete, 0);
    cb_prune_plan_free(p);
    assert_int_equal(pt_count(t, NULL), 2 * DAYS + 60 - 43 + 2);
}

/* created_at has whole seconds: a full and two incrementals made in one second. The newest is
 * the deepest incremental (a child is made after its parent), so keep-last 1 keeps it and its
 * chain; taking the full as the newest would delete the two incrementals. */
static void test_prune__one_second(void **state)
{
    (void)state;
    cb_store *store = NULL;
    cb_error err = { 0 };
    char *dir = tu_mkdtemp("prune1s"), vol[512], id[3][40];
    unsigned char img[VSIZE];
    const char *vid = "0000abcd-0000-4000-8000-000000000009";
    snprintf(vol, sizeof(vol), "%s/volume.img", dir);
    cb_mem_store_use();
    assert_cb_ok(cb_store_open(&store, "mem:", NULL, &err), &err);
    tu_fill_random(img, VSIZE, 9);
    for (int k = 0; k < 3; k++) {
        cb_backup_opts o = CB_BACKUP_OPTS_INIT;
        img[k * 2048] ^= 0xff;
        o.volume_id = vid;
        o.object_size = 8192;
        o.sha_block = 1024;
        o.now = DAY0; /* the same second, all three */
        o.parent_id = k == 0 ? NULL : id[k - 1];
        assert_cb_ok(tu_backup(store, vol, img, VSIZE, &o, id[k], &err), &err);
    }
    cb_prune_opts po = CB_PRUNE_OPTS_INIT;
    cb_prune_plan *p = NULL;
    po.keep_last = 1;
    po.dry_run = 1;
    assert_cb_ok(cb_prune(store, &po, &p, &err), &err);
    assert_string_equal(pt_item(p, id[2])->reason, "last");
    assert_int_equal(p->n_keep, 3);
    assert_int_equal(p->n_delete, 0);
    cb_prune_plan_free(p);
    cb_store_free(store);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prune__calendar, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_prune__rules, pt_setup, pt_teardown),
        cmocka_unit_test_setup_teardown(test_prune__consolidate, pt_setup, pt_teardown),
        cmocka_unit_test(test_prune__one_second),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
