/* complete.c -- closing a group buy: completing it into a supplier order,
 * failing it when its MOQ was not met, the hourly auto-complete job that does
 * both, and the admin's early completion.
 *
 * Each group is closed in one transaction: the state is read inside it (writes
 * are serialised, so what was read still holds) and every update is guarded
 * (WHERE status = 'open'), so two runs at once close a group once.
 *
 * Choices where the spec is silent:
 *   - skip reasons are checked in this order: not open, deadline not reached
 *     (the job only), payments pending, MOQ not met;
 *   - completing or failing cancels the group's active contributions that are
 *     not paid (unpaid, pending never reaches here, failed);
 *   - the order's total is the sum of the counted contributions' paid amounts;
 *   - on completion the supplier's users and each counted trader are notified;
 *     on failure every trader with a contribution in the group is;
 *   - the job skips groups before their deadline without opening a
 *     transaction, fails a group only when MOQ is the reason it could not
 *     complete, and runs the failed group's refunds right after its commit;
 *   - past the deadline the job first settles pending payments
 *     (groupbuy_payments_settle_pending): the provider is asked when it can
 *     be; otherwise a payment still pending an hour after the deadline cancels
 *     its contribution, so one unanswered payment cannot hold a group open;
 *   - the admin's 409 moq_not_met carries details {committed, moq}. */
#include "groupbuy.h"
#include <stdlib.h>
#include <string.h>

#define MAX_SKIP_LINES 50

enum skip { SKIP_NONE, SKIP_MISSING, SKIP_STATE, SKIP_DEADLINE, SKIP_PENDING, SKIP_MOQ, SKIP_MOQ_MET };

struct group_state {
    int64_t id, supplier_id, moq, committed, pending, total_cents;
    bool before_deadline;
    char status[16], currency[8], product[512];
};

/* The group as the transaction sees it; 1, 0 none, -1. */
static int load_state(struct db *db, int64_t id, struct group_state *g)
{
    struct db_rows rows;
    int found = 0;
    if (db_query(db, &rows, "SELECT g.id, g.supplier_id, g.moq, " GB_COMMITTED_SQL("g.id") ", "
                            "(SELECT COUNT(*) FROM groupbuy_contributions c WHERE c.group_id = g.id "
                            "AND c.status = 'active' AND c.payment_status = 'pending'), "
                            "(SELECT COALESCE(SUM(c.paid_amount_cents), 0) FROM " GB_COUNTED " c "
                            "WHERE c.group_id = g.id), g.deadline > " GB_NOW_SQL ", g.status, g.currency, p.name "
                            "FROM groupbuy_groups g JOIN groupbuy_products p ON p.id = g.product_id WHERE g.id = $1",
                 DB_I(id)) < 0)
        return -1;
    if (db_step(&rows)) {
        found = 1;
        g->id = db_col_int(&rows, 0);
        g->supplier_id = db_col_int(&rows, 1);
        g->moq = db_col_int(&rows, 2);
        g->committed = db_col_int(&rows, 3);
        g->pending = db_col_int(&rows, 4);
        g->total_cents = db_col_int(&rows, 5);
        g->before_deadline = db_col_int(&rows, 6) != 0;
        snprintf(g->status, sizeof g->status, "%s", db_col_text(&rows, 7));
        snprintf(g->currency, sizeof g->currency, "%s", db_col_text(&rows, 8));
        snprintf(g->product, sizeof g->product, "%s", db_col_text(&rows, 9));
    }
    db_rows_close(&rows);
    return found;
}

/* Why the group cannot close now (completing: MOQ must be met; failing: it
 * must not be), with the text in why, in lang (jobs log English, the admin
 * route answers in the caller's language). */
static enum skip check(const struct group_state *g, bool completing, bool early, const char *lang, char *why,
                       size_t whylen)
{
    enum skip s = SKIP_NONE;
    if (strcmp(g->status, "open")) s = SKIP_STATE;
    else if (!early && g->before_deadline) s = SKIP_DEADLINE;
    else if (g->pending > 0) s = SKIP_PENDING;
    else if (completing && g->committed < g->moq) s = SKIP_MOQ;
    else if (!completing && g->committed >= g->moq) s = SKIP_MOQ_MET;
    long long c = g->committed, m = g->moq, p = g->pending;
    switch (s) {
    case SKIP_STATE: snprintf(why, whylen, i18n_text(lang, "status is %s"), g->status); break;
    case SKIP_DEADLINE: snprintf(why, whylen, "%s", i18n_text(lang, "deadline not reached")); break;
    case SKIP_PENDING:
        snprintf(why, whylen, i18n_text(lang, "unpaid contributions: %lld payment(s) pending"), p);
        break;
    case SKIP_MOQ: snprintf(why, whylen, i18n_text(lang, "MOQ not met: %lld of %lld"), c, m); break;
    case SKIP_MOQ_MET: snprintf(why, whylen, i18n_text(lang, "MOQ met: %lld of %lld"), c, m); break;
    default: *why = 0;
    }
    return s;
}

static int cancel_unpaid(struct db *db, int64_t group_id)
{
    return db_exec(db, "UPDATE groupbuy_contributions SET status = 'cancelled', updated_at = " GB_NOW_SQL
                       " WHERE group_id = $1 AND status = 'active' AND payment_status <> 'paid'", DB_I(group_id));
}

/* ------------------------------------------------------------- complete */

/* The writes of a completion, inside the transaction. */
static int write_completion(struct db *db, struct req *r, int64_t actor_id, const struct group_state *g, bool early)
{
    char number[64], title[96];
    snprintf(number, sizeof number, "ORD-%lld-%lld", (long long)g->id, (long long)time(NULL));
    snprintf(title, sizeof title, "New order %s", number);
    int64_t order_id;
    int cancelled = cancel_unpaid(db, g->id);
    if (cancelled < 0 ||
        db_exec(db, "UPDATE groupbuy_groups SET status = 'completed', supplier_status = 'pending_supplier', "
                    "completed_at = " GB_NOW_SQL ", closed_at = " GB_NOW_SQL ", updated_at = " GB_NOW_SQL
                    " WHERE id = $1 AND status = 'open'", DB_I(g->id)) != 1 ||
        db_int(db, &order_id, "INSERT INTO groupbuy_supplier_orders (order_number, group_id, supplier_id, quantity, "
                    "total_cents, currency) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                DB_S(number), DB_I(g->id), DB_I(g->supplier_id), DB_I(g->committed), DB_I(g->total_cents),
                DB_S(g->currency)) != 1)
        return -1;
    json_t *data = json_pack("{s:I, s:I, s:s, s:s, s:I, s:I, s:s}", "group_id", (json_int_t)g->id, "order_id",
                             (json_int_t)order_id, "order_number", number, "product", g->product, "quantity",
                             (json_int_t)g->committed, "total_cents", (json_int_t)g->total_cents, "currency",
                             g->currency);
    if (groupbuy_notify_supplier(db, g->supplier_id, "groupbuy.order.created", title, json_deep_copy(data)) < 0 ||
        groupbuy_notify_traders(db, g->id, true, "groupbuy.group.completed", "Your group buy reached its MOQ",
                       json_deep_copy(data)) < 0 ||
        groupbuy_audit(db, r, actor_id, "groupbuy.group.completed", "group", g->id,
              json_pack("{s:b, s:I, s:s, s:I, s:I, s:i}", "early", early, "order_id", (json_int_t)order_id,
                        "order_number", number, "quantity", (json_int_t)g->committed, "total_cents",
                        (json_int_t)g->total_cents, "cancelled_unpaid", cancelled)) < 0) {
        json_decref(data);
        return -1;
    }
    return groupbuy_emit(db, g->id, "group.completed", data) < 0 ? -1 : 0;
}

/* Complete with the skip reason as a code; r (may be NULL) audits with the
 * request's id. */
static int complete_group(struct db *db, struct req *r, int64_t group_id, int64_t actor_id, bool early,
                          struct group_state *g, enum skip *skip, char *why, size_t whylen)
{
    int found;
    *skip = SKIP_NONE;
    if (db_begin(db) < 0) return -1;
    if ((found = load_state(db, group_id, g)) < 0) goto fail;
    if (!found) {
        *skip = SKIP_MISSING;
        snprintf(why, whylen, "no such group");
    } else if ((*skip = check(g, true, early, r ? r->lang : "en", why, whylen)) == SKIP_NONE) {
        if (write_completion(db, r, actor_id, g, early) < 0) goto fail;
        return db_commit(db) < 0 ? -1 : 1;
    }
    return db_commit(db) < 0 ? -1 : 0;      /* nothing written; a rollback would fail an outer transaction */
fail:
    db_rollback(db);
    return -1;
}

int groupbuy_group_complete(struct db *db, int64_t group_id, int64_t actor_id, bool early, char *why, size_t whylen)
{
    struct group_state g;
    enum skip skip;
    return complete_group(db, NULL, group_id, actor_id, early, &g, &skip, why, whylen);
}

/* ----------------------------------------------------------------- fail */

int groupbuy_group_fail(struct db *db, int64_t group_id, int64_t actor_id, char *why, size_t whylen)
{
    struct group_state g;
    char reason[96];
    int found, refunds;
    if (db_begin(db) < 0) return -1;
    if ((found = load_state(db, group_id, &g)) < 0) goto fail;
    if (!found || check(&g, false, false, "en", why, whylen) != SKIP_NONE) {
        if (!found) snprintf(why, whylen, "no such group");
        return db_commit(db) < 0 ? -1 : 0;
    }
    snprintf(reason, sizeof reason, "MOQ not met: %lld of %lld", (long long)g.committed, (long long)g.moq);
    if (cancel_unpaid(db, group_id) < 0 ||
        db_exec(db, "UPDATE groupbuy_groups SET status = 'failed', status_reason = $2, closed_at = " GB_NOW_SQL
                    ", updated_at = " GB_NOW_SQL " WHERE id = $1 AND status = 'open'", DB_I(group_id),
                DB_S(reason)) != 1 ||
        (refunds = groupbuy_refunds_request(db, group_id, 0, reason, actor_id)) < 0 ||
        groupbuy_notify_traders(db, group_id, false, "groupbuy.group.failed", "Your group buy did not reach its MOQ",
                       json_pack("{s:I, s:s, s:s}", "group_id", (json_int_t)group_id, "product", g.product,
                                 "reason", reason)) < 0 ||
        audit_write_as(db, actor_id, "groupbuy", "groupbuy.group.failed", "group", group_id,
                       json_pack("{s:s, s:I, s:I, s:i}", "reason", reason, "committed", (json_int_t)g.committed,
                                 "moq", (json_int_t)g.moq, "refunds_requested", refunds)) < 0 ||
        groupbuy_emit(db, group_id, "group.failed",
                      json_pack("{s:I, s:s, s:s}", "group_id", (json_int_t)group_id, "status", "failed", "reason",
                                reason)) < 0)
        goto fail;
    snprintf(why, whylen, "%s", reason);
    return db_commit(db) < 0 ? -1 : 1;
fail:
    db_rollback(db);
    return -1;
}

/* ------------------------------------------------------------------ job */

struct job_log {
    FILE *f;
    int completed, failed, skipped, errors;
};

static void log_skip(struct job_log *lg, int64_t id, const char *why)
{
    if (++lg->skipped <= MAX_SKIP_LINES) fprintf(lg->f, "group %lld: skipped: %s\n", (long long)id, why);
}

/* Fail the group and run its fresh refunds after the commit. */
static void fail_and_refund(struct db *db, struct job_log *lg, int64_t id)
{
    char why[128];
    struct groupbuy_refund_run run;
    int64_t requested = 0;
    int rc = groupbuy_group_fail(db, id, 0, why, sizeof why);
    if (rc == 0) log_skip(lg, id, why);
    if (rc <= 0) {
        if (rc < 0) lg->errors++, fprintf(lg->f, "group %lld: error while failing it\n", (long long)id);
        return;
    }
    lg->failed++;
    if (groupbuy_refunds_process(db, id, GB_REFUNDS_PENDING, &run) < 0) lg->errors++;
    db_int(db, &requested, "SELECT COUNT(*) FROM groupbuy_refunds WHERE group_id = $1", DB_I(id));
    fprintf(lg->f, "group %lld: failed (%s), %lld refund(s): %d refunded, %d failed\n", (long long)id, why,
            (long long)requested, run.refunded, run.failed);
}

static void close_one(struct db *db, struct job_log *lg, int64_t id)
{
    struct group_state g;
    enum skip skip;
    char why[128];
    int rc = complete_group(db, NULL, id, 0, false, &g, &skip, why, sizeof why);
    if (rc < 0) {
        lg->errors++;
        fprintf(lg->f, "group %lld: error while completing it\n", (long long)id);
    } else if (rc == 1) {
        char *number = db_text(db, "SELECT order_number FROM groupbuy_supplier_orders WHERE group_id = $1", DB_I(id));
        lg->completed++;
        fprintf(lg->f, "group %lld: completed, order %s\n", (long long)id, number ? number : "?");
        free(number);
    } else if (skip == SKIP_MOQ) {
        fail_and_refund(db, lg, id);
    } else {
        log_skip(lg, id, why);
    }
}

struct open_group {
    int64_t id;
    bool before_deadline;
};

static struct open_group *open_groups(struct db *db, size_t *n, int *errors)
{
    struct db_rows rows;
    struct open_group *list = NULL;
    size_t cap = 0;
    *n = 0;
    if (db_query(db, &rows, "SELECT id, deadline > " GB_NOW_SQL " FROM groupbuy_groups WHERE status = 'open' "
                            "ORDER BY id") < 0) {
        (*errors)++;
        return NULL;
    }
    while (db_step(&rows)) {
        if (*n == cap) list = xrealloc(list, (cap = cap ? cap * 2 : 16) * sizeof *list);
        list[*n].id = db_col_int(&rows, 0);
        list[(*n)++].before_deadline = db_col_int(&rows, 1) != 0;
    }
    db_rows_close(&rows);
    return list;
}

int groupbuy_auto_complete_job(struct db *db, char **result)
{
    struct job_log lg = {0};
    size_t n, len = 0;
    char *text = NULL;
    struct open_group *list = open_groups(db, &n, &lg.errors);
    lg.f = open_memstream(&text, &len);
    for (size_t i = 0; i < n; i++) {
        if (list[i].before_deadline) {
            log_skip(&lg, list[i].id, "deadline not reached");
            continue;
        }
        if (groupbuy_payments_settle_pending(db, list[i].id, GROUPBUY_PENDING_GRACE_S) < 0) lg.errors++;
        close_one(db, &lg, list[i].id);
    }
    if (lg.skipped > MAX_SKIP_LINES) fprintf(lg.f, "... and %d more skipped\n", lg.skipped - MAX_SKIP_LINES);
    fprintf(lg.f, "completed %d, failed %d, skipped %d", lg.completed, lg.failed, lg.skipped);
    if (lg.errors) fprintf(lg.f, ", %d error(s)", lg.errors);
    fclose(lg.f);
    free(list);
    *result = text;
    return lg.errors ? -1 : 0;
}

/* ---------------------------------------------------------------- admin */

static void reply_skip(struct req *r, enum skip skip, const struct group_state *g, const char *why)
{
    switch (skip) {
    case SKIP_MISSING: reply_not_found(r); break;
    case SKIP_PENDING: reply_error(r, 409, "payments_pending", "%s", why); break;
    case SKIP_MOQ:
        reply_json(r, 409, json_pack("{s:{s:s, s:s, s:{s:I, s:I}}}", "error", "code", "moq_not_met", "message", why,
                                     "details", "committed", (json_int_t)g->committed, "moq", (json_int_t)g->moq));
        break;
    default: reply_error(r, 409, "invalid_state", "%s", why);
    }
}

void groupbuy_admin_complete(struct req *r)
{
    struct group_state g;
    enum skip skip;
    char why[128];
    if (req_no_fields(r) < 0) return;
    int rc = complete_group(r->db, r, r->param_int[0], r->user.id, true, &g, &skip, why, sizeof why);
    if (rc < 0) {
        reply_db_error(r);
        return;
    }
    if (rc == 0) {
        reply_skip(r, skip, &g, why);
        return;
    }
    json_t *body = groupbuy_group_json(r->db, r->param_int[0]);
    if (body) reply_json(r, 200, body);
    else reply_db_error(r);
}
