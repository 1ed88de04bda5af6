/* refunds.c -- refund requests, the refund runner and its retry job, and the
 * admin routes over them.
 *
 * A refund row is created once per contribution (UNIQUE) by
 * groupbuy_refunds_request() inside the caller's transaction. The runner
 * (groupbuy_refunds_process) works outside any transaction: it claims a refund
 * with a guarded UPDATE (pending|failed -> processing), calls the provider with
 * no transaction open, then records the outcome in one transaction. A refund
 * whose process died during the provider call stays 'processing': it is never
 * retried automatically (the money may have moved); the job reports it.
 *
 * The runner also returns extra charges (groupbuy_extra_charges, recorded by
 * groupbuy_payment_apply when a second charge succeeds for a paid
 * contribution) the same way: same modes, claim, provider call, backoff and
 * unknown-outcome rule, counted in the same run totals; the two differ only
 * in their statements (struct kind). An extra charge's refund reference is
 * "GB-X<extra charge id>"; its refund never touches the contribution's
 * refund_status nor the supplier (the money never left escrow): one escrow
 * 'refund' row, audit groupbuy.extra_charge.refunded|failed, and an in-app
 * notice to the trader. The admin lists of refunds do not show them (the
 * contribution's JSON does); process-refunds runs those of its group too.
 *
 * Choices where the spec is silent:
 *   - the refund reference is "GB-R<contribution id>", stable across attempts,
 *     so providers that deduplicate on it never pay twice;
 *   - a provider error from a provider that does not deduplicate refunds
 *     (Flutterwave) leaves the outcome unknown: the refund is failed with its
 *     attempts used up, so the job never resends it; an admin checks with the
 *     provider and retries with process-refunds (a full refund sent twice is
 *     refused by the provider as exceeding the charge);
 *   - PAY_PENDING from a provider counts as accepted: the refund is recorded as
 *     refunded with last_error "provider reports pending";
 *   - backoff after a failure: min(60 s * 2^(attempts-1), 6 h); after
 *     GROUPBUY_REFUND_MAX_ATTEMPTS the job stops, an admin's run still retries;
 *   - ledger rows of a refund carry its reference; the supplier is debited
 *     (refund_debit + escrow_return) when the contribution was part of an
 *     accepted order (an active contribution of a group whose order is accepted);
 *   - one audit row groupbuy.refund.requested per request call that created
 *     refunds, and one per refund outcome (groupbuy.refund.refunded|failed);
 *   - lists are newest first; next_attempt_at is null unless the refund is
 *     failed with attempts left;
 *   - process-refunds on a completed group cancels it; its pending supplier
 *     order becomes rejected ("cancelled by admin: <reason>"); supplier_status
 *     is left as it was. */
#include "groupbuy.h"
#include <stdlib.h>
#include <string.h>

#define BACKOFF_BASE_S 60
#define BACKOFF_MAX_S (6 * 3600)
#define STUCK_AFTER_S (15 * 60)

/* Which rows a run takes ($2 mode, $3 max attempts, $4 now). */
#define TAKES_SQL                                                                                          \
    "(status = 'pending' OR (status = 'failed' AND ($2 = 2 OR ($2 = 1 AND attempts < $3 AND "             \
    "next_attempt_at <= $4))))"

#define REFUND_SELECT                                                                                      \
    "SELECT r.id, r.contribution_id, r.group_id, r.trader_id, r.amount_cents, r.currency, r.provider, "    \
    "r.reference, r.provider_ref, r.status, r.reason, r.attempts, r.last_error, "                          \
    "CASE WHEN r.status = 'failed' AND r.attempts < 8 THEN "                                               \
    "strftime('%Y-%m-%dT%H:%M:%SZ', r.next_attempt_at, 'unixepoch') END AS next_attempt_at, "             \
    "r.created_at, r.refunded_at FROM groupbuy_refunds r "

_Static_assert(GROUPBUY_REFUND_MAX_ATTEMPTS == 8, "REFUND_SELECT spells the attempt limit");
_Static_assert(GB_REFUNDS_PENDING == 0 && GB_REFUNDS_DUE == 1 && GB_REFUNDS_ALL == 2, "TAKES_SQL spells the modes");

/* What the runner returns money for: a contribution's refund, or an extra
 * charge. The statements differ by table and column names only. */
struct kind {
    const char *what;           /* audit target type and action: groupbuy.<what>.refunded|failed */
    const char *candidates, *claim, *load, *refunded, *failed;
    bool contribution;          /* the contribution's refund_status follows it; it may debit the supplier */
    const char *notice;
};

/* T the table, REFUND_REF the column for the provider's refund id. */
#define RUNNER_SQL(T, REFUND_REF)                                                                          \
    .candidates = "SELECT id FROM " T " WHERE ($1 = 0 OR group_id = $1) AND " TAKES_SQL " ORDER BY id",   \
    .claim = "UPDATE " T " SET status = 'processing', attempts = attempts + 1, claimed_at = $4, "         \
             "updated_at = " GB_NOW_SQL " WHERE id = $1 AND " TAKES_SQL,                                   \
    .refunded = "UPDATE " T " SET status = 'refunded', " REFUND_REF " = $2, last_error = $3, "             \
                "next_attempt_at = 0, refunded_at = " GB_NOW_SQL ", updated_at = " GB_NOW_SQL              \
                " WHERE id = $1 AND status = 'processing'",                                                \
    .failed = "UPDATE " T " SET status = 'failed', last_error = $2, next_attempt_at = $3, attempts = $4, " \
              "updated_at = " GB_NOW_SQL " WHERE id = $1 AND status = 'processing'"

static const struct kind refund_kind = {
    .what = "refund",
    RUNNER_SQL("groupbuy_refunds", "provider_ref"),
    .load = "SELECT id, contribution_id, group_id, trader_id, amount_cents, attempts, currency, provider, charge_ref, "
            "reference FROM groupbuy_refunds WHERE id = $1",
    .contribution = true,
    .notice = "Your contribution was refunded",
};

static const struct kind extra_kind = {
    .what = "extra_charge",
    RUNNER_SQL("groupbuy_extra_charges", "refund_provider_ref"),
    .load = "SELECT x.id, x.contribution_id, x.group_id, c.trader_id, x.amount_cents, x.attempts, x.currency, "
            "x.provider, x.provider_ref, x.refund_reference FROM groupbuy_extra_charges x "
            "JOIN groupbuy_contributions c ON c.id = x.contribution_id WHERE x.id = $1",
    .contribution = false,
    .notice = "A second charge for your contribution was refunded",
};

struct refund {
    const struct kind *k;
    int64_t id, contribution_id, group_id, trader_id, amount_cents, attempts;
    char currency[8], provider[32], charge_ref[128], reference[64];
};

/* ---------------------------------------------------------------- request */

int groupbuy_refunds_request(struct db *db, int64_t group_id, int64_t contribution_id, const char *reason,
                             int64_t actor_id)
{
    if (db_begin(db) < 0) return -1;
    int n = db_exec(db, "INSERT INTO groupbuy_refunds (contribution_id, group_id, trader_id, amount_cents, currency, "
                        "provider, charge_ref, reference, reason, requested_by) "
                        "SELECT c.id, c.group_id, c.trader_id, c.paid_amount_cents, c.currency, p.provider, "
                        "p.provider_ref, 'GB-R' || c.id, $3, NULLIF($4, 0) FROM groupbuy_contributions c "
                        "JOIN groupbuy_payments p ON p.contribution_id = c.id "
                        "WHERE ($1 = 0 OR c.group_id = $1) AND ($2 = 0 OR c.id = $2) AND c.payment_status = 'paid' "
                        "AND c.paid_amount_cents > 0 AND c.refund_status IS NULL AND c.is_collected = 0 "
                        "AND NOT EXISTS (SELECT 1 FROM groupbuy_refunds r WHERE r.contribution_id = c.id) "
                        "ORDER BY c.id",
                    DB_I(group_id), DB_I(contribution_id), DB_S(reason), DB_I(actor_id));
    if (n < 0 ||
        db_exec(db, "UPDATE groupbuy_contributions SET refund_status = 'pending', updated_at = " GB_NOW_SQL
                    " WHERE refund_status IS NULL AND id IN (SELECT contribution_id FROM groupbuy_refunds "
                    "WHERE status = 'pending' AND ($1 = 0 OR group_id = $1) AND ($2 = 0 OR contribution_id = $2))",
                DB_I(group_id), DB_I(contribution_id)) < 0)
        goto fail;
    if (n > 0 && audit_write_as(db, actor_id, "groupbuy", "groupbuy.refund.requested", "group", group_id,
                                json_pack("{s:i, s:s, s:I}", "count", n, "reason", reason, "contribution_id",
                                          (json_int_t)contribution_id)) < 0)
        goto fail;
    return db_commit(db) < 0 ? -1 : n;
fail:
    db_rollback(db);
    return -1;
}

/* ----------------------------------------------------------------- runner */

/* Ids of the rows of kind k that `mode` takes now (malloc'd), or NULL with *n = 0. */
static int64_t *candidates(struct db *db, const struct kind *k, int64_t group_id, enum groupbuy_refund_mode mode,
                           size_t *n, int *err)
{
    struct db_rows rows;
    int64_t *ids = NULL;
    size_t cap = 0;
    *n = 0;
    if (db_query(db, &rows, k->candidates, DB_I(group_id), DB_I(mode), DB_I(GROUPBUY_REFUND_MAX_ATTEMPTS),
                 DB_I((int64_t)time(NULL))) < 0) {
        *err = 1;
        return NULL;
    }
    while (db_step(&rows)) {
        if (*n == cap) ids = xrealloc(ids, (cap = cap ? cap * 2 : 16) * sizeof *ids);
        ids[(*n)++] = db_col_int(&rows, 0);
    }
    db_rows_close(&rows);
    return ids;
}

static int load_refund(struct db *db, int64_t id, struct refund *f)
{
    struct db_rows rows;
    int found = 0;
    if (db_query(db, &rows, f->k->load, DB_I(id)) < 0) return -1;
    if (db_step(&rows)) {
        found = 1;
        f->id = db_col_int(&rows, 0);
        f->contribution_id = db_col_int(&rows, 1);
        f->group_id = db_col_int(&rows, 2);
        f->trader_id = db_col_int(&rows, 3);
        f->amount_cents = db_col_int(&rows, 4);
        f->attempts = db_col_int(&rows, 5);
        snprintf(f->currency, sizeof f->currency, "%s", db_col_text(&rows, 6));
        snprintf(f->provider, sizeof f->provider, "%s", db_col_text(&rows, 7));
        snprintf(f->charge_ref, sizeof f->charge_ref, "%s", db_col_text(&rows, 8));
        snprintf(f->reference, sizeof f->reference, "%s", db_col_text(&rows, 9));
    }
    db_rows_close(&rows);
    return found;
}

/* A contribution's refund_status follows its refund (not its extra charges). */
static int follow(struct db *db, const struct refund *f, const char *status)
{
    if (!f->k->contribution) return 0;
    return db_exec(db, "UPDATE groupbuy_contributions SET refund_status = $2, refunded_at = CASE WHEN $2 = 'refunded' "
                       "THEN " GB_NOW_SQL " ELSE refunded_at END, updated_at = " GB_NOW_SQL " WHERE id = $1",
                   DB_I(f->contribution_id), DB_S(status)) == 1 ? 0 : -1;
}

/* pending|failed -> processing, guarded by what `mode` takes. 1 claimed (f
 * filled), 0 someone else has it or it is no longer due, -1. */
static int claim(struct db *db, int64_t id, enum groupbuy_refund_mode mode, struct refund *f)
{
    int64_t now = (int64_t)time(NULL);
    if (db_begin(db) < 0) return -1;
    int changed = db_exec(db, f->k->claim, DB_I(id), DB_I(mode), DB_I(GROUPBUY_REFUND_MAX_ATTEMPTS), DB_I(now));
    if (changed == 0) {
        db_rollback(db);
        return 0;
    }
    if (changed < 0 || load_refund(db, id, f) != 1 || follow(db, f, "processing") < 0) goto fail;
    return db_commit(db) < 0 ? -1 : 1;
fail:
    db_rollback(db);
    return -1;
}

/* The provider's answer: 1 money returned (or accepted as pending), 0 not;
 * err gets the reason either way (empty when there is nothing to say). */
static int call_provider(const struct refund *f, struct pay_result *res, char *err, size_t errlen)
{
    const struct pay_provider *p = pay_provider(f->provider);
    memset(res, 0, sizeof *res);
    *err = 0;
    if (!p || !p->refund) {
        snprintf(err, errlen, "provider not configured");
        return 0;
    }
    int rc = p->refund(f->charge_ref, f->amount_cents, f->currency, f->reference, res);
    if (rc == 0 && res->status == PAY_SUCCEEDED) return 1;
    if ((rc < 0 || res->status == PAY_ERROR) && !p->refund_dedup) {
        snprintf(err, errlen, "outcome unknown (%s): check with %s before an admin run retries it",
                 res->message[0] ? res->message : "no answer", p->name);
        return 2;
    }
    if (rc == 0 && res->status == PAY_PENDING) {
        snprintf(err, errlen, "provider reports pending");
        return 1;
    }
    snprintf(err, errlen, "%s: %s", rc == 0 && res->status == PAY_DECLINED ? "provider declined" : "provider error",
             res->message[0] ? res->message : "no message");
    return 0;
}

/* The order this contribution's money went to the supplier with: an active
 * contribution of a group whose order is accepted. 0 when none, -1. */
static int credited_order(struct db *db, int64_t contribution_id, int64_t *order_id, int64_t *supplier_id)
{
    struct db_rows rows;
    *order_id = 0;
    if (db_query(db, &rows, "SELECT o.id, o.supplier_id FROM groupbuy_contributions c "
                            "JOIN groupbuy_supplier_orders o ON o.group_id = c.group_id "
                            "WHERE c.id = $1 AND c.status = 'active' AND o.status = 'accepted'",
                 DB_I(contribution_id)) < 0)
        return -1;
    if (db_step(&rows)) {
        *order_id = db_col_int(&rows, 0);
        *supplier_id = db_col_int(&rows, 1);
    }
    db_rows_close(&rows);
    return 0;
}

static int ledger_refund(struct db *db, const struct refund *f)
{
    int64_t order_id = 0, supplier_id = 0;
    if (f->k->contribution && credited_order(db, f->contribution_id, &order_id, &supplier_id) < 0) return -1;
    if (!order_id &&
        db_int(db, &supplier_id, "SELECT supplier_id FROM groupbuy_groups WHERE id = $1", DB_I(f->group_id)) != 1)
        return -1;
    if (order_id &&
        (groupbuy_ledger_add(db, "supplier", supplier_id, f->group_id, f->contribution_id, order_id, "refund_debit",
                             -f->amount_cents, f->currency, f->reference) < 0 ||
         groupbuy_ledger_add(db, "escrow", supplier_id, f->group_id, f->contribution_id, order_id, "escrow_return",
                             f->amount_cents, f->currency, f->reference) < 0))
        return -1;
    return groupbuy_ledger_add(db, "escrow", supplier_id, f->group_id, f->contribution_id, order_id, "refund",
                               -f->amount_cents, f->currency, f->reference);
}

/* groupbuy.<what>.<verb>, for audit actions and notice kinds. */
static const char *action(const struct refund *f, const char *verb, char *buf, size_t len)
{
    snprintf(buf, len, "groupbuy.%s.%s", f->k->what, verb);
    return buf;
}

static int record_refunded(struct db *db, const struct refund *f, const struct pay_result *res, const char *note)
{
    char act[64];
    action(f, "refunded", act, sizeof act);
    if (db_begin(db) < 0) return -1;
    if (db_exec(db, f->k->refunded, DB_I(f->id), DB_S(res->provider_ref[0] ? res->provider_ref : NULL),
                DB_S(*note ? note : NULL)) != 1 ||
        follow(db, f, "refunded") < 0 || ledger_refund(db, f) < 0 ||
        notify_user(db, f->trader_id, act, f->k->notice,
                    json_pack("{s:I, s:I, s:I, s:s}", "group_id", (json_int_t)f->group_id, "contribution_id",
                              (json_int_t)f->contribution_id, "amount_cents", (json_int_t)f->amount_cents,
                              "currency", f->currency)) < 0 ||
        audit_write_as(db, 0, "groupbuy", act, f->k->what, f->id,
                       json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:I}", "contribution_id",
                                 (json_int_t)f->contribution_id, "group_id", (json_int_t)f->group_id, "amount_cents",
                                 (json_int_t)f->amount_cents, "currency", f->currency, "provider", f->provider,
                                 "provider_ref", res->provider_ref, "attempts", (json_int_t)f->attempts)) < 0) {
        db_rollback(db);
        return -1;
    }
    if (db_commit(db) < 0) return -1;
    metrics_count("refunds", "groupbuy", 1);
    return 0;
}

static int64_t backoff_s(int64_t attempts)
{
    if (attempts < 1) attempts = 1;
    if (attempts > 10) return BACKOFF_MAX_S;
    int64_t s = (int64_t)BACKOFF_BASE_S << (attempts - 1);
    return s < BACKOFF_MAX_S ? s : BACKOFF_MAX_S;
}

/* unknown: the provider may have paid it and would not recognise a resend,
 * so the job never retries it (attempts used up); an admin run still can. */
static int record_failed(struct db *db, struct refund *f, const char *err, bool unknown)
{
    char act[64];
    if (unknown) f->attempts = GROUPBUY_REFUND_MAX_ATTEMPTS;
    int64_t next = (int64_t)time(NULL) + backoff_s(f->attempts);
    if (db_begin(db) < 0) return -1;
    if (db_exec(db, f->k->failed, DB_I(f->id), DB_S(err), DB_I(next), DB_I(f->attempts)) != 1 ||
        follow(db, f, "failed") < 0 ||
        audit_write_as(db, 0, "groupbuy", action(f, "failed", act, sizeof act), f->k->what, f->id,
                       json_pack("{s:I, s:I, s:s, s:I, s:b}", "contribution_id", (json_int_t)f->contribution_id,
                                 "group_id", (json_int_t)f->group_id, "error", err, "attempts",
                                 (json_int_t)f->attempts, "final", f->attempts >= GROUPBUY_REFUND_MAX_ATTEMPTS)) < 0) {
        db_rollback(db);
        return -1;
    }
    return db_commit(db);
}

/* One refund or extra charge: claim, provider, outcome. */
static int run_one(struct db *db, const struct kind *k, int64_t id, enum groupbuy_refund_mode mode,
                   struct groupbuy_refund_run *out)
{
    struct refund f = {.k = k};
    struct pay_result res;
    char err[400];
    int c = claim(db, id, mode, &f);
    if (c <= 0) {
        if (c == 0) out->skipped++;
        return c;
    }
    int outcome = call_provider(&f, &res, err, sizeof err);
    if (outcome == 1) {
        if (record_refunded(db, &f, &res, err) < 0) {
            log_error("%s %lld: refunded by %s (%s) but not recorded; left processing", k->what, (long long)id,
                      f.provider, res.provider_ref);
            return -1;
        }
        out->refunded++;
        return 0;
    }
    if (record_failed(db, &f, err, outcome == 2) < 0) return -1;
    out->failed++;
    return 0;
}

int groupbuy_refunds_process(struct db *db, int64_t group_id, enum groupbuy_refund_mode mode,
                             struct groupbuy_refund_run *out)
{
    static const struct kind *const kinds[] = {&refund_kind, &extra_kind};
    size_t n;
    int err = 0;
    memset(out, 0, sizeof *out);
    if (db_in_tx(db)) {
        log_error("groupbuy_refunds_process inside a transaction");
        return -1;
    }
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        int64_t *ids = candidates(db, kinds[k], group_id, mode, &n, &err);
        for (size_t i = 0; i < n; i++)
            if (run_one(db, kinds[k], ids[i], mode, out) < 0) err = 1;
        free(ids);
    }
    return err ? -1 : 0;
}

int groupbuy_refunds_job(struct db *db, char **result)
{
    struct groupbuy_refund_run run;
    int64_t stuck = 0;
    int rc = groupbuy_refunds_process(db, 0, GB_REFUNDS_DUE, &run);
    if (db_int(db, &stuck, "SELECT (SELECT COUNT(*) FROM groupbuy_refunds WHERE status = 'processing' AND "
                           "claimed_at < $1) + (SELECT COUNT(*) FROM groupbuy_extra_charges WHERE status = "
                           "'processing' AND claimed_at < $1)",
               DB_I((int64_t)time(NULL) - STUCK_AFTER_S)) != 1)
        rc = -1;
    char extra[64] = "";
    if (stuck > 0) snprintf(extra, sizeof extra, ", %lld stuck in processing", (long long)stuck);
    *result = xasprintf("refunded %d, failed %d, skipped %d%s", run.refunded, run.failed, run.skipped, extra);
    return rc;
}

/* ------------------------------------------------------------------ admin */

/* Close the group for refunds inside the open transaction: a completed group
 * becomes cancelled and its pending order rejected. 1 done, 0 the group is
 * open (409 replied), -1 error. */
static int close_for_refunds(struct req *r, int64_t group_id, const char *reason, char *was, size_t waslen)
{
    char *status = db_text(r->db, "SELECT status FROM groupbuy_groups WHERE id = $1", DB_I(group_id));
    if (!status) return -1;
    snprintf(was, waslen, "%s", status);
    free(status);
    if (!strcmp(was, "open")) {
        reply_error(r, 409, "invalid_state", "group %lld is still open", (long long)group_id);
        return 0;
    }
    if (strcmp(was, "completed")) return 1;
    if (db_exec(r->db, "UPDATE groupbuy_groups SET status = 'cancelled', status_reason = $2, closed_at = " GB_NOW_SQL
                       ", updated_at = " GB_NOW_SQL " WHERE id = $1 AND status = 'completed'",
                DB_I(group_id), DB_S(reason)) != 1 ||
        db_exec(r->db, "UPDATE groupbuy_supplier_orders SET status = 'rejected', rejection_reason = "
                       "'cancelled by admin: ' || $2, updated_at = " GB_NOW_SQL
                       " WHERE group_id = $1 AND status = 'pending'", DB_I(group_id), DB_S(reason)) < 0)
        return -1;
    return 1;
}

/* The request half, in one transaction; the count requested, or -1 after a reply. */
static int request_for_group(struct req *r, int64_t group_id, const char *reason)
{
    char was[16];
    int n = -1;
    if (db_begin(r->db) < 0) goto fail;
    int c = close_for_refunds(r, group_id, reason, was, sizeof was);
    if (c == 0) {
        db_rollback(r->db);
        return -1;
    }
    if (c < 0 || (n = groupbuy_refunds_request(r->db, group_id, 0, reason, r->user.id)) < 0 ||
        audit_write(r->db, r, "groupbuy", "groupbuy.refund.processed", "group", group_id,
                    json_pack("{s:s, s:s, s:i}", "reason", reason, "previous_status", was, "requested", n)) < 0 ||
        db_commit(r->db) < 0) {
        db_rollback(r->db);
        goto fail;
    }
    return n;
fail:
    reply_db_error(r);
    return -1;
}

void groupbuy_admin_process_refunds(struct req *r)
{
    const char *reason;
    int64_t group_id = r->param_int[0], one;
    struct groupbuy_refund_run run;
    if (req_unpack(r, "{s:s}", "reason", &reason) < 0 || req_text(r, "reason", reason, 500, true) < 0)
        return;
    if (db_int(r->db, &one, "SELECT 1 FROM groupbuy_groups WHERE id = $1", DB_I(group_id)) != 1) {
        reply_not_found(r);
        return;
    }
    int requested = request_for_group(r, group_id, reason);
    if (requested < 0) return;
    if (groupbuy_refunds_process(r->db, group_id, GB_REFUNDS_ALL, &run) < 0) {
        reply_db_error(r);
        return;
    }
    json_t *refunds = db_json_all(r->db, REFUND_SELECT "WHERE r.group_id = $1 ORDER BY r.id", DB_I(group_id));
    if (!refunds) {
        reply_db_error(r);
        return;
    }
    reply_json(r, 200, json_pack("{s:I, s:i, s:i, s:i, s:i, s:o}", "group_id", (json_int_t)group_id, "requested",
                                 requested, "refunded", run.refunded, "failed", run.failed, "skipped", run.skipped,
                                 "refunds", refunds));
}

void groupbuy_admin_refunds_list(struct req *r)
{
    struct page pg;
    int64_t group_id;
    const char *status = req_query(r, "status");
    if (req_page(r, &pg) < 0 || req_query_int(r, "group_id", 0, &group_id) < 0) return;
    if (status && strcmp(status, "pending") && strcmp(status, "processing") && strcmp(status, "refunded") &&
        strcmp(status, "failed")) {
        reply_invalid(r, "status", "must be pending, processing, refunded or failed");
        return;
    }
#define LIST_WHERE "WHERE ($1 = 0 OR r.group_id = $1) AND (CAST($2 AS TEXT) IS NULL OR r.status = $2) "
    reply_page(r, &pg, "SELECT COUNT(*) FROM groupbuy_refunds r " LIST_WHERE,
               REFUND_SELECT LIST_WHERE "ORDER BY r.id DESC LIMIT $3 OFFSET $4", DB_I(group_id), DB_S(status));
#undef LIST_WHERE
}
