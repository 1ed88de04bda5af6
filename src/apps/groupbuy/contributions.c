/* contributions.c -- a trader's contributions: list, get, pay; and the
 * payment providers' webhooks.
 *
 * Paying is three steps so that no provider call happens inside a
 * transaction: (1) a guarded update unpaid|failed -> pending gives the attempt
 * its reference "GB-C<id>-<attempt>"; (2) the provider charges; (3) the answer
 * is recorded: a success through groupbuy_payment_apply() (which records a
 * payment exactly once, whoever reports it first: this route or the webhook),
 * a decline or an error as a guarded pending -> failed for that reference.
 *
 * A webhook is checked by its provider's signature (nothing is written when it
 * fails), verified with the provider when the provider can be asked (verify),
 * deduplicated by (provider, event id) in groupbuy_webhook_events and applied
 * in the same transaction as the dedup row.
 *
 * Choices where the spec is silent: a payment in flight (pending) is settled
 * by the provider's webhook (a 202 carries the provider's words as
 * provider_message; a webhook for a provider whose webhook secret is unset is
 * 503 webhooks_disabled naming the variable, and then the sandbox can be
 * asked: paying again settles its pending charge); paying again while it is pending asks the
 * provider when it can be asked (Flutterwave's verify: success settles it, no
 * such charge lets a new attempt start) and is 409 payment_pending otherwise.
 * A transport error with such a provider leaves the attempt pending (it may
 * have been charged), so a retry never charges twice; a success whose amount differs from the contribution stays pending
 * (502, logged) for an operator; a webhook whose verify call cannot reach the
 * provider answers 503 and writes nothing, so the provider retries; an event
 * recorded as "unverified" is processed again when the provider re-sends it;
 * the contribution lists are newest first. A success for a contribution that
 * another charge already paid is an extra charge (groupbuy_payment_apply): the
 * pay route answers 200 with the paid contribution and leaves its refund to
 * the refunds job; the webhook answers "extra_charge" and runs the group's
 * pending refunds right after its transaction. A contribution's JSON lists its
 * extra charges ("extra_charges", oldest first). */
#include "groupbuy.h"
#include <stdlib.h>
#include <string.h>

#define CONTRIBUTION_SELECT                                                                                          \
    "SELECT c.id, c.group_id, c.trader_id, c.quantity, c.amount_cents, c.currency, c.status, c.payment_status, "    \
    "c.paid_amount_cents, c.payment_provider, c.payment_reference, c.paid_at, c.is_collected AS is_collected__bool, " \
    "c.collected_at, c.refund_status, c.refunded_at, (c.qr_token_hash IS NOT NULL) AS qr_issued__bool, "            \
    "c.created_at, c.updated_at, (SELECT json_group_array(json_object('id', x.id, 'provider', x.provider, "          \
    "'provider_ref', x.provider_ref, 'amount_cents', x.amount_cents, 'currency', x.currency, 'status', x.status, "   \
    "'refund_reference', x.refund_reference)) FROM (SELECT * FROM groupbuy_extra_charges WHERE contribution_id = "   \
    "c.id ORDER BY id) x) AS extra_charges__json FROM groupbuy_contributions c "

static const char *const pay_statuses[] = {"unpaid", "pending", "paid", "failed", NULL};

json_t *groupbuy_contribution_json(struct db *db, int64_t contribution_id)
{
    return db_json_one(db, CONTRIBUTION_SELECT "WHERE c.id = $1", DB_I(contribution_id));
}

/* ------------------------------------------------------------------ read */

void groupbuy_contributions_list(struct req *r)
{
    struct page pg;
    int64_t group_id;
    const char *status = req_query(r, "payment_status");
    const char *const *s = pay_statuses;
    if (req_page(r, &pg) < 0 || req_query_int(r, "group_id", 0, &group_id) < 0) return;
    while (status && *s && strcmp(*s, status)) s++;
    if (status && !*s) {
        reply_invalid(r, "payment_status", "must be unpaid, pending, paid or failed");
        return;
    }
    int64_t all = rbac_can(r, "groupbuy.contributions.read_all", NULL, 0);
#define LIST_WHERE "WHERE ($1 = 1 OR c.trader_id = $2) AND ($3 = 0 OR c.group_id = $3) AND (CAST($4 AS TEXT) IS NULL OR c.payment_status = $4) "
    reply_page(r, &pg, "SELECT COUNT(*) FROM groupbuy_contributions c " LIST_WHERE,
               CONTRIBUTION_SELECT LIST_WHERE "ORDER BY c.id DESC LIMIT $5 OFFSET $6", DB_I(all), DB_I(r->user.id),
               DB_I(group_id), DB_S(status));
}

void groupbuy_contributions_get(struct req *r)
{
    int64_t all = rbac_can(r, "groupbuy.contributions.read_all", NULL, 0);
    json_t *c = db_json_one(r->db, CONTRIBUTION_SELECT "WHERE c.id = $1 AND ($2 = 1 OR c.trader_id = $3)",
                            DB_I(r->param_int[0]), DB_I(all), DB_I(r->user.id));
    if (!c) reply_not_found(r);
    else reply_json(r, 200, c);
}

/* ------------------------------------------------------------------- pay */

struct attempt {
    int64_t id, amount;
    char currency[8], reference[64];
    const struct pay_provider *provider;
};

/* Inside the transaction: why this contribution cannot start a payment
 * (replied, -1), or 0. */
static int pay_refused(struct req *r, int64_t id)
{
    struct db_rows rows;
    int rc = -1;
    if (db_query(r->db, &rows, "SELECT c.status = 'cancelled' OR c.refund_status IS NOT NULL, g.status = 'open' AND "
                               "g.deadline > " GB_NOW_SQL ", c.payment_status FROM groupbuy_contributions c JOIN "
                               "groupbuy_groups g ON g.id = c.group_id WHERE c.id = $1 AND c.trader_id = $2",
                 DB_I(id), DB_I(r->user.id)) < 0) {
        reply_db_error(r);
        return -1;
    }
    if (!db_step(&rows)) reply_not_found(r);
    else if (db_col_int(&rows, 0)) reply_error(r, 409, "invalid_state", "the contribution is cancelled or refunded");
    else if (!db_col_int(&rows, 1)) reply_error(r, 409, "group_closed", "the group is no longer open");
    else if (!strcmp(db_col_text(&rows, 2), "paid")) reply_error(r, 409, "already_paid", "already paid");
    else if (!strcmp(db_col_text(&rows, 2), "pending"))
        reply_error(r, 409, "payment_pending", "a payment is in progress; its result comes from the provider");
    else rc = 0;
    db_rows_close(&rows);
    return rc;
}

/* Step 1: unpaid|failed -> pending with a new reference, audited. */
static int start_attempt(struct req *r, struct attempt *a)
{
    struct db_rows rows;
    bool started = false;
    if (db_begin(r->db) < 0) goto fail;
    if (pay_refused(r, a->id) < 0) {
        db_rollback(r->db);
        return -1;
    }
    if (db_query(r->db, &rows, "UPDATE groupbuy_contributions SET payment_status = 'pending', payment_attempts = "
                               "payment_attempts + 1, payment_reference = 'GB-C' || id || '-' || (payment_attempts + 1), "
                               "payment_provider = $2, payment_started_at = " GB_NOW_SQL ", updated_at = " GB_NOW_SQL
                               " WHERE id = $1 AND payment_status IN ('unpaid', 'failed') AND status = 'active' AND "
                               "refund_status IS NULL RETURNING payment_reference, amount_cents, currency",
                 DB_I(a->id), DB_S(a->provider->name)) < 0)
        goto rollback;
    if (db_step(&rows)) {
        started = true;
        snprintf(a->reference, sizeof a->reference, "%s", db_col_text(&rows, 0));
        a->amount = db_col_int(&rows, 1);
        snprintf(a->currency, sizeof a->currency, "%s", db_col_text(&rows, 2));
    }
    db_rows_close(&rows);
    if (!started ||
        audit_write(r->db, r, "groupbuy", "groupbuy.contribution.payment_started", "contribution", a->id,
                    json_pack("{s:s, s:s, s:I, s:s}", "provider", a->provider->name, "reference", a->reference,
                              "amount_cents", (json_int_t)a->amount, "currency", a->currency)) < 0 ||
        db_commit(r->db) < 0)
        goto rollback;
    return 0;
rollback:
    db_rollback(r->db);
fail:
    reply_db_error(r);
    return -1;
}

/* pending -> failed for this reference only (a later attempt or a payment
 * that won meanwhile is left alone): 1 marked, 0 not pending, -1. r is
 * NULL for a webhook. */
static int mark_failed(struct db *db, struct req *r, int64_t id, const char *reference, const char *why)
{
    int n;
    if (db_begin(db) < 0) return -1;
    n = db_exec(db, "UPDATE groupbuy_contributions SET payment_status = 'failed', updated_at = " GB_NOW_SQL
                    " WHERE id = $1 AND payment_reference = $2 AND payment_status = 'pending'",
                DB_I(id), DB_S(reference));
    if (n < 0 || (n == 1 && audit_write(db, r, "groupbuy", "groupbuy.contribution.payment_failed", "contribution", id,
                                        json_pack("{s:s, s:s}", "reference", reference, "reason", why)) < 0) ||
        db_commit(db) < 0) {
        db_rollback(db);
        return -1;
    }
    return n;
}

static void reply_contribution(struct req *r, int status, int64_t id)
{
    json_t *c = groupbuy_contribution_json(r->db, id);
    if (!c) reply_db_error(r);
    else reply_json(r, status, c);
}

/* 202: the contribution, with the provider's words on what happens next
 * (the sandbox without webhooks says how to settle it). */
static void reply_pending(struct req *r, int64_t id, const char *message)
{
    json_t *c = groupbuy_contribution_json(r->db, id);
    if (!c) {
        reply_db_error(r);
        return;
    }
    json_object_set_new(c, "provider_message", json_string(message));
    reply_json(r, 202, c);
}

/* The payment a provider's success answer for this attempt stands for. */
static struct groupbuy_payment payment_of(const struct attempt *a, const struct pay_result *res, const char *source)
{
    return (struct groupbuy_payment){a->provider->name, res->provider_ref[0] ? res->provider_ref : a->reference,
                                     a->reference, res->amount_cents ? res->amount_cents : a->amount,
                                     res->currency[0] ? res->currency : a->currency, source};
}

/* Ask the provider about a pending attempt (it has verify). "No such
 * charge" (PAY_DECLINED) marks the attempt failed here; a success is left in
 * *v for the caller to record. Returns v->status, or -1 on a database error. */
static int ask_provider(struct db *db, struct req *r, const struct attempt *a, struct pay_result *v)
{
    memset(v, 0, sizeof *v);
    if (a->provider->verify(NULL, a->reference, v) < 0) v->status = PAY_ERROR;
    if (v->status == PAY_DECLINED &&
        mark_failed(db, r, a->id, a->reference, v->message[0] ? v->message : "the provider has no such charge") < 0)
        return -1;
    return (int)v->status;
}

/* Step 3 for a success: record it (or see that the webhook already did). */
static void settle(struct req *r, const struct attempt *a, const struct pay_result *res)
{
    struct groupbuy_payment p = payment_of(a, res, "client");
    int rc = groupbuy_payment_apply(r->db, a->id, &p, r->user.id);
    if (rc == 1 || rc == 0 || rc == 2) {
        reply_contribution(r, 200, a->id);
    } else if (rc == -2) {
        log_error("groupbuy: %s charged %lld %s for %s, contribution %lld owes %lld %s", a->provider->name,
                  (long long)p.amount_cents, p.currency, a->reference, (long long)a->id, (long long)a->amount,
                  a->currency);
        reply_error(r, 502, "provider_error", "the provider reported a different amount; the payment is held");
    } else {
        reply_db_error(r);
    }
}

/* A payment left pending with a provider that can be asked (Flutterwave):
 * ask before anything else, so that a charge whose answer was lost is
 * neither charged twice nor left pending for ever. 1 replied (settled, or
 * still in flight), 0 go on with a new attempt (the provider has no such
 * successful charge), -1 replied with an error. */
static int reconcile_pending(struct req *r, int64_t id)
{
    struct db_rows rows;
    struct attempt a = {.id = id};
    struct pay_result v;
    if (db_query(r->db, &rows, "SELECT payment_provider, payment_reference, amount_cents, currency FROM "
                               "groupbuy_contributions WHERE id = $1 AND trader_id = $2 AND payment_status = 'pending'",
                 DB_I(id), DB_I(r->user.id)) < 0) {
        reply_db_error(r);
        return -1;
    }
    if (db_step(&rows) && (a.provider = pay_provider(db_col_text(&rows, 0))) && a.provider->verify) {
        snprintf(a.reference, sizeof a.reference, "%s", db_col_text(&rows, 1));
        a.amount = db_col_int(&rows, 2);
        snprintf(a.currency, sizeof a.currency, "%s", db_col_text(&rows, 3));
    }
    db_rows_close(&rows);
    if (!a.reference[0]) return 0;          /* not pending, or nobody to ask: start_attempt decides */
    int status = ask_provider(r->db, r, &a, &v);
    if (status < 0) {
        reply_db_error(r);
        return -1;
    }
    if (status == PAY_DECLINED) return 0;
    if (status == PAY_SUCCEEDED) settle(r, &a, &v);
    else reply_error(r, 409, "payment_pending", "a payment is in progress; its result comes from the provider");
    return 1;
}

void groupbuy_contributions_pay(struct req *r)
{
    const char *name = NULL, *token = NULL;
    struct attempt a = {.id = r->param_int[0]};
    struct pay_result res;
    if (r->body && req_unpack(r, "{s?s, s?s}", "provider", &name, "payment_token", &token) < 0) return;
    if (!(a.provider = pay_provider(name ? name : pay_default()))) {
        reply_invalid(r, "provider", "is not a configured payment provider");
        return;
    }
    if (reconcile_pending(r, a.id) != 0 || start_attempt(r, &a) < 0) return;
    char *email = db_text(r->db, "SELECT email FROM users WHERE id = $1", DB_I(r->user.id));
    struct pay_charge ch = {a.amount, a.currency, a.reference, token, email};
    if (a.provider->charge(&ch, &res) < 0) res.status = PAY_ERROR;
    free(email);
    if (res.status == PAY_DECLINED || res.status == PAY_ERROR) metrics_count("payment_failures", a.provider->name, 1);
    if (res.status == PAY_SUCCEEDED) {
        settle(r, &a, &res);
    } else if (res.status == PAY_PENDING) {
        reply_pending(r, a.id, res.message);
    } else if (res.status == PAY_ERROR && a.provider->verify) {
        /* The charge may have gone through: it stays pending, and paying
         * again asks the provider first (reconcile_pending). */
        log_warn("groupbuy: %s unavailable for %s: %s", a.provider->name, a.reference, res.message);
        reply_error(r, 502, "provider_unavailable",
                    "the payment provider could not be reached; paying again checks the payment's state first");
    } else if (mark_failed(r->db, r, a.id, a.reference, res.message) < 0) {
        reply_db_error(r);
    } else if (res.status == PAY_DECLINED) {
        /* the provider's own words when it gave any (not ours to translate) */
        reply_error(r, 402, "payment_declined", "%s",
                    res.message[0] ? res.message : tr(r, "the payment was declined"));
    } else {
        log_warn("groupbuy: %s unavailable for %s: %s", a.provider->name, a.reference, res.message);
        reply_error(r, 502, "provider_unavailable", "the payment provider could not be reached; try again");
    }
}

/* ------------------------------------------- pending payments at the close */

static int cancel_stale(struct db *db, int64_t id, const char *reference, int grace_s)
{
    if (db_begin(db) < 0) return -1;
    int n = db_exec(db, "UPDATE groupbuy_contributions SET status = 'cancelled', updated_at = " GB_NOW_SQL
                        " WHERE id = $1 AND payment_reference = $2 AND payment_status = 'pending' AND status = 'active'",
                    DB_I(id), DB_S(reference));
    if (n < 0 || (n == 1 && audit_write_as(db, 0, "groupbuy", "groupbuy.contribution.cancelled", "contribution", id,
                                           json_pack("{s:s, s:s, s:i}", "reference", reference, "reason",
                                                     "payment still pending after the deadline", "grace_s",
                                                     grace_s)) < 0) ||
        db_commit(db) < 0) {
        db_rollback(db);
        return -1;
    }
    return n;
}

int groupbuy_payments_settle_pending(struct db *db, int64_t group_id, int grace_s)
{
    json_t *rows = db_json_all(db, "SELECT c.id, c.payment_provider, c.payment_reference, c.amount_cents, c.currency, "
                                   "CAST(strftime('%s', 'now') AS INTEGER) - CAST(strftime('%s', g.deadline) AS INTEGER) "
                                   "AS late_s "
                                   "FROM groupbuy_contributions c JOIN groupbuy_groups g ON g.id = c.group_id "
                                   "WHERE c.group_id = $1 AND c.status = 'active' AND c.payment_status = 'pending' "
                                   "AND g.deadline <= " GB_NOW_SQL " ORDER BY c.id", DB_I(group_id)), *row;
    size_t i;
    int done = 0, rc;
    if (!rows) return -1;
    json_array_foreach (rows, i, row) {
        struct attempt a = {.id = json_integer_value(json_object_get(row, "id"))};
        struct pay_result v;
        snprintf(a.reference, sizeof a.reference, "%s", json_string_value(json_object_get(row, "payment_reference")));
        snprintf(a.currency, sizeof a.currency, "%s", json_string_value(json_object_get(row, "currency")));
        a.amount = json_integer_value(json_object_get(row, "amount_cents"));
        a.provider = pay_provider(json_string_value(json_object_get(row, "payment_provider")));
        if (a.provider && a.provider->verify) {
            int status = ask_provider(db, NULL, &a, &v);
            if (status == PAY_SUCCEEDED) {
                struct groupbuy_payment p = payment_of(&a, &v, "job");
                rc = groupbuy_payment_apply(db, a.id, &p, 0);
            } else if (status < 0 || status == PAY_DECLINED) {
                rc = status < 0 ? -1 : 0;
            } else {
                continue;                   /* still pending, or unreachable: ask again next run */
            }
        } else if (json_integer_value(json_object_get(row, "late_s")) >= grace_s) {
            rc = cancel_stale(db, a.id, a.reference, grace_s);
        } else {
            continue;
        }
        if (rc == -1) {
            json_decref(rows);
            return -1;
        }
        done++;
    }
    json_decref(rows);
    return done;
}

/* --------------------------------------------------------------- webhook */

/* The contribution a reference belongs to: the current attempt's, else the
 * id inside "GB-C<id>-<n>" (an earlier attempt). 0 when none. */
static int64_t contribution_of(struct db *db, const char *reference)
{
    int64_t id = 0;
    long long parsed;
    int attempt, end = 0;
    if (db_int(db, &id, "SELECT id FROM groupbuy_contributions WHERE payment_reference = $1", DB_S(reference)) == 1)
        return id;
    if (sscanf(reference, "GB-C%lld-%d%n", &parsed, &attempt, &end) != 2 || reference[end] || parsed <= 0 ||
        attempt <= 0)
        return 0;
    if (db_int(db, &id, "SELECT id FROM groupbuy_contributions WHERE id = $1", DB_I(parsed)) != 1) return 0;
    return id;
}

/* Ask the provider whether a claimed success is real. NULL when it is (or
 * the provider's webhooks are authoritative, or the event was seen: the
 * transaction answers "duplicate"), "unverified" when it is not, "" when the
 * provider cannot be reached. */
static const char *verified(struct db *db, const struct pay_provider *pv, const struct pay_webhook *ev)
{
    struct pay_result v;
    int64_t seen = 0;
    if (!pv->verify || strcmp(ev->type, "charge.succeeded")) return NULL;
    if (db_int(db, &seen, "SELECT 1 FROM groupbuy_webhook_events WHERE provider = $1 AND event_id = $2 AND "
                          "outcome <> 'unverified'", DB_S(pv->name), DB_S(ev->event_id)) == 1)
        return NULL;
    if (pv->verify(ev->provider_ref, ev->reference, &v) < 0 || v.status == PAY_ERROR) return "";
    if (v.status != PAY_SUCCEEDED || v.amount_cents != ev->amount_cents ||
        (v.reference[0] && strcmp(v.reference, ev->reference)) || (v.currency[0] && strcmp(v.currency, ev->currency)))
        return "unverified";
    return NULL;
}

/* Inside the transaction: apply the event to its contribution; the outcome. */
static const char *apply_event(struct db *db, const struct pay_provider *pv, const struct pay_webhook *ev)
{
    int64_t id = contribution_of(db, ev->reference);
    if (!id) return "unknown_reference";
    if (!strcmp(ev->type, "charge.succeeded")) {
        struct groupbuy_payment p = {pv->name, ev->provider_ref[0] ? ev->provider_ref : ev->reference,
                                     ev->reference, ev->amount_cents, ev->currency, "webhook"};
        int rc = groupbuy_payment_apply(db, id, &p, 0);
        return rc == 1 ? "applied" : rc == 0 ? "already_paid" : rc == 2 ? "extra_charge"
             : rc == -2 ? "amount_mismatch" : rc == -3 ? "unknown_reference" : NULL;
    }
    if (!strcmp(ev->type, "charge.failed")) {
        int n = mark_failed(db, NULL, id, ev->reference, "the provider reported the charge failed");
        return n == 1 ? "payment_failed" : n == 0 ? "ignored" : NULL;
    }
    return "ignored";
}

/* Record the event and apply it, once: the outcome, "duplicate", or NULL
 * on a database error (rolled back). */
static const char *record_event(struct db *db, const struct pay_provider *pv, const struct pay_webhook *ev,
                                const char *outcome)
{
    if (db_begin(db) < 0) return NULL;
    int n = db_exec(db, "INSERT INTO groupbuy_webhook_events (provider, event_id, type, reference, outcome) VALUES "
                        "($1, $2, $3, NULLIF($4, ''), 'received') ON CONFLICT (provider, event_id) DO UPDATE SET "
                        "outcome = 'received', received_at = " GB_NOW_SQL " WHERE groupbuy_webhook_events.outcome = "
                        "'unverified'",
                    DB_S(pv->name), DB_S(ev->event_id), DB_S(ev->type), DB_S(ev->reference));
    if (n == 0) return db_commit(db) < 0 ? NULL : "duplicate";
    if (n < 0 || (!outcome && !(outcome = apply_event(db, pv, ev))) ||
        db_exec(db, "UPDATE groupbuy_webhook_events SET outcome = $3 WHERE provider = $1 AND event_id = $2",
                DB_S(pv->name), DB_S(ev->event_id), DB_S(outcome)) != 1 ||
        db_commit(db) < 0) {
        db_rollback(db);
        return NULL;
    }
    return outcome;
}

/* After the commit: refund the extra charge the event recorded now rather
 * than at the refunds job's next run. A failure here is the job's to retry. */
static void refund_extra(struct db *db, const struct pay_provider *pv, const struct pay_webhook *ev)
{
    struct groupbuy_refund_run run;
    int64_t group_id = 0;
    if (db_int(db, &group_id, "SELECT group_id FROM groupbuy_extra_charges WHERE provider = $1 AND provider_ref = $2",
               DB_S(pv->name), DB_S(ev->provider_ref[0] ? ev->provider_ref : ev->reference)) != 1 ||
        groupbuy_refunds_process(db, group_id, GB_REFUNDS_PENDING, &run) < 0)
        log_warn("groupbuy: extra charge %s %s not refunded now; the refunds job retries", pv->name, ev->reference);
}

void groupbuy_webhook(struct req *r)
{
    const struct pay_provider *pv = pay_provider(r->param[0]);
    struct pay_webhook ev;
    const char *off = pv ? pay_webhooks_disabled(pv) : NULL;
    if (!pv) {
        reply_not_found(r);
        return;
    }
    if (off) {
        /* The sandbox is a developer's tool: its caller is told how to switch
         * webhooks on. A real provider's caller (anyone) learns no setting. */
        log_warn("groupbuy: %s webhook refused: %s is not set", pv->name, off);
        if (!strcmp(pv->name, "sandbox"))
            reply_error(r, 503, "webhooks_disabled", "%s webhooks are disabled: set %s to enable them", pv->name, off);
        else
            reply_error(r, 503, "webhooks_disabled", "%s webhooks are disabled on this server", pv->name);
        return;
    }
    if (pv->parse_webhook(r, &ev) < 0) {
        log_warn("groupbuy: %s webhook with a bad signature or body from %s", pv->name, r->client_ip);
        reply_error(r, 401, "invalid_signature", "the webhook signature does not check out");
        return;
    }
    const char *outcome = verified(r->db, pv, &ev);
    if (outcome && !*outcome) {
        reply_error(r, 503, "provider_unavailable", "could not verify the event with the provider; retry later");
        return;
    }
    if (!(outcome = record_event(r->db, pv, &ev, outcome))) {
        reply_db_error(r);
        return;
    }
    if (!strcmp(outcome, "extra_charge")) refund_extra(r->db, pv, &ev);
    reply_json(r, 200, json_pack("{s:s}", "status", outcome));
}
