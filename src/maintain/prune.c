/* SPDX-License-Identifier: Apache-2.0 */
/*
 * prune.c: retention by policy (restic's forget --keep-* and prune). The decision is a pure
 * function of the catalog (pr_decide); the deleting takes the exclusive lock once and removes
 * the plan's deletes dependants first, through the delete code (cb__delete_prefix).
 */
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "maintain.h"
#include "../consolidate/consolidate.h"
#include "../catalog/catalog.h"
#include "../lock/lock.h"
#include "../util/util.h"

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t pr_days(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int pr_num(const char **p, int digits, int *out)
{
    int v = 0;
    for (int i = 0; i < digits; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += digits;
    *out = v;
    return 0;
}

/* "YYYY-MM-DD[ T]HH:MM:SS[.frac][Z|+HH:MM|-HH:MM|+HHMM]" (Cinder's str(created_at)) to seconds
 * since the epoch, UTC when no offset is given. 0 or -1. */
static int pr_parse_time(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
    const char *p = s;
    if (s == NULL || pr_num(&p, 4, &y) < 0 || *p++ != '-' || pr_num(&p, 2, &mo) < 0 ||
        *p++ != '-' || pr_num(&p, 2, &d) < 0 || (*p != ' ' && *p != 'T'))
        return -1;
    p++;
    if (pr_num(&p, 2, &h) < 0 || *p++ != ':' || pr_num(&p, 2, &mi) < 0 || *p++ != ':' ||
        pr_num(&p, 2, &se) < 0)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (*p == 'Z' || *p == 'z')
        p++;
    else if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
        if (pr_num(&p, 2, &oh) < 0)
            return -1;
        if (*p == ':')
            p++;
        if (pr_num(&p, 2, &om) < 0)
            return -1;
    }
    if (*p != '\0')
        return -1;
    *out = pr_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - sign * (oh * 3600 + om * 60);
    return 0;
}

/* One backup as the decision sees it. */
typedef struct pr_b {
    const cb_backup_info *info;
    int64_t t;       /* created_at, seconds */
    int timed;       /* created_at could be read */
    int in_scope;    /* of the volume(s) pruned */
    int keep;        /* kept (by the policy, its chain, or a dependant) */
    int rule;        /* kept by a rule of the policy itself */
    int consolidate; /* to be consolidated: its parent link no longer counts */
    size_t parent;   /* index of the parent in the scan, or n */
    char reason[512];
} pr_b;

static void pr_reason(pr_b *b, const char *what)
{
    size_t len = strlen(b->reason);
    if (len + 3 >= sizeof(b->reason))
        return;
    if (len > 0)
        len += (size_t)snprintf(b->reason + len, sizeof(b->reason) - len, ", ");
    snprintf(b->reason + len, sizeof(b->reason) - len, "%s", what);
}

static const char *pr_volume(const pr_b *b)
{
    return b->info->volume_id != NULL ? b->info->volume_id : "";
}

/* Order: volume, then newest first; created_at has whole seconds, so within one second a
 * longer chain is the newer (a child is always made after its parent); then the id, for a
 * stable plan. */
static int pr_cmp(const void *pa, const void *pb)
{
    const pr_b *a = pa, *b = pb;
    int c = strcmp(pr_volume(a), pr_volume(b));
    if (c != 0)
        return c;
    if (a->timed != b->timed)
        return a->timed ? -1 : 1;
    if (a->t != b->t)
        return a->t > b->t ? -1 : 1;
    if (a->info->chain_length != b->info->chain_length)
        return a->info->chain_length > b->info->chain_length ? -1 : 1;
    return strcmp(a->info->backup_id, b->info->backup_id);
}

enum { PR_HOURLY, PR_DAILY, PR_WEEKLY, PR_MONTHLY, PR_YEARLY, PR_PERIODS };

static void pr_bucket(int kind, int64_t t, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    switch (kind) {
    case PR_HOURLY:
        strftime(out, len, "%Y-%m-%d %Hh", &tm);
        break;
    case PR_DAILY:
        strftime(out, len, "%Y-%m-%d", &tm);
        break;
    case PR_WEEKLY:
        strftime(out, len, "%G-W%V", &tm);
        break;
    case PR_MONTHLY:
        strftime(out, len, "%Y-%m", &tm);
        break;
    default:
        strftime(out, len, "%Y", &tm);
    }
}

static void pr_duration(int64_t s, char *out, size_t len)
{
    if (s % 86400 == 0)
        snprintf(out, len, "%lldd", (long long)(s / 86400));
    else if (s % 3600 == 0)
        snprintf(out, len, "%lldh", (long long)(s / 3600));
    else if (s % 60 == 0)
        snprintf(out, len, "%lldm", (long long)(s / 60));
    else
        snprintf(out, len, "%llds", (long long)s);
}

/* The policy over one volume's backups v[0..n), newest first (the timed ones first). */
static void pr_policy(const cb_prune_opts *o, pr_b *v, size_t n)
{
    static const char *const names[] = { "hourly", "daily", "weekly", "monthly", "yearly" };
    unsigned left[PR_PERIODS] = { o->keep_hourly, o->keep_daily, o->keep_weekly, o->keep_monthly,
                                  o->keep_yearly };
    char last[PR_PERIODS][32] = { { 0 } }, cur[32], within[32], what[80];
    unsigned last_left = o->keep_last;
    pr_duration(o->keep_within, within, sizeof(within));
    for (size_t i = 0; i < n; i++) {
        pr_b *b = &v[i];
        if (!b->timed) {
            b->keep = 1;
            snprintf(b->reason, sizeof(b->reason), "kept: its created_at '%.200s' cannot be read",
                     b->info->created_at ? b->info->created_at : "");
            continue;
        }
        if (last_left > 0) {
            last_left--;
            b->keep = 1;
            pr_reason(b, "last");
        }
        for (int k = 0; k < PR_PERIODS; k++) {
            if (left[k] == 0)
                continue;
            pr_bucket(k, b->t, cur, sizeof(cur));
            if (strcmp(cur, last[k]) == 0)
                continue;
            memcpy(last[k], cur, sizeof(cur));
            left[k]--;
            b->keep = 1;
            snprintf(what, sizeof(what), "%s %s", names[k], cur);
            pr_reason(b, what);
        }
        if (o->keep_within > 0 && v[0].timed && b->t >= v[0].t - o->keep_within) {
            b->keep = 1;
            snprintf(what, sizeof(what), "within %s", within);
            pr_reason(b, what);
        }
        for (size_t k = 0; k < o->n_keep_names; k++)
            if (b->info->name != NULL && fnmatch(o->keep_names[k], b->info->name, 0) == 0) {
                b->keep = 1;
                snprintf(what, sizeof(what), "name %.70s", o->keep_names[k]);
                pr_reason(b, what);
                break;
            }
    }
}

/*
 * The chain rule: every backup that stays keeps its parents, up the chain (each step at most n,
 * as the parent links come from metadata anybody could have written). Backups out of scope
 * stay too, and so do what they depend on.
 */
static void pr_chains(pr_b *v, size_t n)
{
    int changed = 1;
    for (size_t round = 0; changed && round <= n; round++) {
        changed = 0;
        for (size_t i = 0; i < n; i++) {
            if (!(v[i].keep || !v[i].in_scope) || v[i].parent == n || v[i].consolidate)
                continue;
            pr_b *p = &v[v[i].parent];
            if (p->keep)
                continue;
            p->keep = 1;
            changed = 1;
            if (v[i].in_scope && v[i].keep)
                snprintf(p->reason, sizeof(p->reason), "parent of kept %s", v[i].info->backup_id);
            else
                snprintf(p->reason, sizeof(p->reason), "kept: a kept backup depends on it");
        }
    }
}

/* Whether b's chain reaches a full backup through backups of the catalog, none of them kept
 * by a rule or damaged. */
static int pr_bare_chain(const pr_b *v, size_t n, const pr_b *b)
{
    for (size_t steps = 0; steps <= n; steps++) {
        if (b->info->problem != NULL)
            return 0;
        if (b->info->parent_id == NULL)
            return 1;
        if (b->parent == n)
            return 0; /* a parent that is missing: nothing to consolidate from */
        b = &v[b->parent];
        if (b->rule)
            return 0;
    }
    return 0;
}

/*
 * --consolidate: the oldest backups the policy keeps in each chain whose full it does not
 * keep (no ancestor kept by a rule) are consolidated: their parent links are cut before the
 * chain rule runs. Not one that sits on its full alone: a new full would only replace that
 * one (and a consolidated backup sits on its synthetic full alone, so it stays put). One whose
 * parent stays anyway (another kept backup needs it, or one out of scope) would free nothing: it is
 * not consolidated after all.
 */
static void pr_consolidations(pr_b *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i].rule = v[i].keep;
    for (size_t i = 0; i < n; i++)
        v[i].consolidate = v[i].in_scope && v[i].rule && v[i].info->chain_length >= 3 &&
                           v[i].parent < n && pr_bare_chain(v, n, &v[i]);
    pr_chains(v, n);
    for (size_t i = 0; i < n; i++)
        if (v[i].consolidate && v[v[i].parent].keep)
            v[i].consolidate = 0;
}

static char *pr_dup(const char *s, int *bad, cb_error *err)
{
    char *c = s != NULL ? cb__strdup(s, err) : NULL;
    if (s != NULL && c == NULL)
        *bad = 1;
    return c;
}

void cb_prune_plan_free(cb_prune_plan *plan)
{
    if (plan == NULL)
        return;
    for (size_t i = 0; i < plan->n; i++) {
        cb_prune_item *it = &plan->items[i];
        free(it->backup_id);
        free(it->volume_id);
        free(it->parent_id);
        free(it->name);
        free(it->created_at);
        free(it->reason);
        free(it->new_full);
    }
    free(plan->items);
    free(plan);
}

/* The plan of the catalog `infos` (all the store's backups): the pure decision. */
static int pr_decide(
    const cb_prune_opts *o, cb_backup_info **infos, size_t n, cb_prune_plan **out, cb_error *err)
{
    pr_b *v = cb__calloc(n + 1, sizeof(*v), err);
    cb_prune_plan *plan = cb__calloc(1, sizeof(*plan), err);
    int bad = 0;
    if (v == NULL || plan == NULL ||
        (plan->items = cb__calloc(n + 1, sizeof(cb_prune_item), err)) == NULL) {
        free(v);
        cb_prune_plan_free(plan);
        return CB_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        v[i].info = infos[i];
        v[i].timed = pr_parse_time(infos[i]->created_at, &v[i].t) == 0;
        v[i].in_scope =
            o->volume_id == NULL ||
            (infos[i]->volume_id != NULL && strcasecmp(infos[i]->volume_id, o->volume_id) == 0);
    }
    qsort(v, n, sizeof(*v), pr_cmp);
    for (size_t i = 0; i < n; i++) {
        v[i].parent = n;
        for (size_t j = 0; v[i].info->parent_id != NULL && j < n; j++)
            if (j != i && strcasecmp(v[j].info->backup_id, v[i].info->parent_id) == 0)
                v[i].parent = j;
    }
    for (size_t i = 0; i < n;) { /* each volume in scope by itself */
        size_t j = i;
        while (j < n && strcmp(pr_volume(&v[j]), pr_volume(&v[i])) == 0)
            j++;
        if (v[i].in_scope)
            pr_policy(o, v + i, j - i);
        i = j;
    }
    if (o->consolidate)
        pr_consolidations(v, n);
    pr_chains(v, n);
    plan->dry_run = o->dry_run != 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i].in_scope)
            continue;
        cb_prune_item *it = &plan->items[plan->n++];
        it->action = v[i].consolidate ? CB_PRUNE_CONSOLIDATE
                     : v[i].keep      ? CB_PRUNE_KEEP
                                      : CB_PRUNE_DELETE;
        if (v[i].consolidate) {
            plan->n_consolidate++;
            pr_reason(&v[i], "consolidated into a new full: its chain's full is not kept");
        }
        it->backup_id = pr_dup(v[i].info->backup_id, &bad, err);
        it->volume_id = pr_dup(v[i].info->volume_id, &bad, err);
        it->parent_id = pr_dup(v[i].info->parent_id, &bad, err);
        it->name = pr_dup(v[i].info->name, &bad, err);
        it->created_at = pr_dup(v[i].info->created_at, &bad, err);
        it->reason = pr_dup(v[i].keep ? v[i].reason : "not kept by the policy", &bad, err);
        if (v[i].keep)
            plan->n_keep++;
        else
            plan->n_delete++;
    }
    free(v);
    if (bad) {
        cb_prune_plan_free(plan);
        return CB_ENOMEM;
    }
    *out = plan;
    return 0;
}

/* The catalog entry of `id`, or NULL. */
static const cb_backup_info *pr_find(cb_backup_info **infos, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(infos[i]->backup_id, id) == 0)
            return infos[i];
    return NULL;
}

/* The plan's deletes, dependants first (the deepest in their chain first). */
static int pr_delete(cb_store *store,
                     cb_lock *lock,
                     cb_backup_info **infos,
                     size_t n,
                     cb_prune_plan *plan,
                     cb_error *err)
{
    size_t *depth = cb__calloc(plan->n + 1, sizeof(*depth), err), max = 0;
    int rc = 0;
    if (depth == NULL)
        return CB_ENOMEM;
    for (size_t i = 0; i < plan->n; i++) {
        const cb_backup_info *b = pr_find(infos, n, plan->items[i].backup_id);
        for (depth[i] = 0; b != NULL && b->parent_id != NULL && depth[i] <= n; depth[i]++)
            b = pr_find(infos, n, b->parent_id);
        if (depth[i] > max)
            max = depth[i];
    }
    for (size_t d = max + 1; rc == 0 && d-- > 0;)
        for (size_t i = 0; rc == 0 && i < plan->n; i++) {
            cb_prune_item *it = &plan->items[i];
            const cb_backup_info *b = pr_find(infos, n, it->backup_id);
            if (it->action != CB_PRUNE_DELETE || depth[i] != d || b == NULL)
                continue;
            if ((rc = cb__lock_held(lock, err)) == 0 &&
                (rc = cb__delete_prefix(store, b->container, b->prefix, err)) == 0) {
                it->deleted = 1;
                plan->n_deleted++;
            }
        }
    free(depth);
    return rc;
}

/* The plan's consolidations, each committed and then its backup moved onto the new full. */
static int pr_consolidate(cb_store *store,
                          cb_lock *lock,
                          const cb_prune_opts *o,
                          cb_backup_info **infos,
                          size_t n,
                          cb_prune_plan *plan,
                          cb_error *err)
{
    cb_consolidate_opts co = CB_CONSOLIDATE_OPTS_INIT;
    co.threads = o->threads;
    co.progress = o->progress;
    co.progress_payload = o->progress_payload;
    co.cancel = o->cancel;
    co.cancel_payload = o->cancel_payload;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < plan->n; i++) {
        cb_prune_item *it = &plan->items[i];
        const cb_backup_info *b = pr_find(infos, n, it->backup_id);
        cb_backup_info *full = NULL;
        if (it->action != CB_PRUNE_CONSOLIDATE || b == NULL)
            continue;
        cb_found f = { .container = b->container, .prefix = b->prefix };
        cb__prefix_parse(b->prefix, &f.parts);
        if ((rc = cb__consolidate_one(store, it->backup_id, &co, 1, lock, &full, err)) == 0 &&
            (it->new_full = cb__strdup(full->backup_id, err)) == NULL)
            rc = CB_ENOMEM;
        if (rc == 0 && (rc = cb__lock_held(lock, err)) == 0 &&
            (rc = cb__reparent(store, &f, full->backup_id, err)) == 0)
            plan->n_consolidated++;
        cb_backup_info_free(full);
        if (rc < 0 && rc != CB_ECANCELED) {
            size_t len = strlen(err->msg);
            snprintf(err->msg + len, sizeof(err->msg) - len,
                     " (consolidating backup %s; nothing was deleted)", it->backup_id);
        }
    }
    return rc;
}

/* Then the leftovers older than the grace period. */
static int pr_leftovers(
    cb_store *store, cb_lock *lock, const cb_prune_opts *o, cb_prune_plan *plan, cb_error *err)
{
    cb_leftover *v = NULL;
    size_t k = 0;
    if (o->version < 2 || o->leftover_grace < 0)
        return 0;
    double grace = o->leftover_grace > 0 ? o->leftover_grace : 3600;
    int rc = cb__cleanup_locked(store, lock, grace, o->dry_run, &v, &k, err);
    plan->n_leftovers = rc == 0 ? k : 0;
    for (size_t i = 0; rc == 0 && i < k; i++)
        plan->leftover_objects += v[i].objects;
    cb_leftover_free_array(v, rc == 0 ? k : 0);
    return rc;
}

int cb_prune(cb_store *store, const cb_prune_opts *opts, cb_prune_plan **plan, cb_error *err)
{
    cb_prune_opts current = CB_PRUNE_OPTS_INIT;
    cb_backup_info **infos = NULL;
    size_t n = 0;
    cb_lock *lock = NULL;
    int rc;
    if (plan != NULL)
        *plan = NULL;
    if (store == NULL || opts == NULL || plan == NULL)
        return cb_error_set(err, CB_EINVAL, "cb_prune: no store, options or plan given");
    if (opts->version < 1 || opts->version > CB_PRUNE_OPTS_VERSION)
        return cb_error_set(err, CB_EINVAL, "cb_prune: options version %u unknown", opts->version);
    if (opts->version == 1) { /* the fields it has; the newer ones keep their defaults */
        memcpy(&current, opts, offsetof(cb_prune_opts, consolidate));
        current.version = CB_PRUNE_OPTS_VERSION;
        current.leftover_grace = -1; /* version 1 removed no leftover */
        opts = &current;
    }
    if (opts->keep_within < 0)
        return cb_error_set(err, CB_EINVAL, "prune: keep-within %lld is negative",
                            (long long)opts->keep_within);
    for (size_t k = 0; k < opts->n_keep_names; k++)
        if (opts->keep_names == NULL || opts->keep_names[k] == NULL || !opts->keep_names[k][0])
            return cb_error_set(err, CB_EINVAL, "prune: keep-name pattern %zu is empty", k + 1);
    if (opts->keep_last == 0 && opts->keep_hourly == 0 && opts->keep_daily == 0 &&
        opts->keep_weekly == 0 && opts->keep_monthly == 0 && opts->keep_yearly == 0 &&
        opts->keep_within == 0 && opts->n_keep_names == 0)
        return cb_error_set(err, CB_EINVAL,
                            "prune: no keep rule given (--keep-last, --keep-hourly, "
                            "--keep-daily, --keep-weekly, --keep-monthly, --keep-yearly, "
                            "--keep-within, --keep-name): that would delete every backup");
    /* the plan is made under the lock: no backup can begin on a parent that is to go */
    if (!opts->dry_run &&
        (rc = cb__lock_take(store, 1, "prune", opts->volume_id ? opts->volume_id : "all volumes",
                            &lock, err)) < 0)
        return rc;
    if ((rc = cb_backup_list(store, NULL, &infos, &n, err)) == 0 &&
        (rc = pr_decide(opts, infos, n, plan, err)) == 0 && !opts->dry_run &&
        (rc = pr_consolidate(store, lock, opts, infos, n, *plan, err)) == 0)
        rc = pr_delete(store, lock, infos, n, *plan, err);
    if (rc == 0)
        rc = pr_leftovers(store, lock, opts, *plan, err);
    cb_backup_info_free_array(infos, n);
    cb__lock_release(lock);
    return rc;
}
