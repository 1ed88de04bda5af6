/* groupbuy.h -- shared by the files of the groupbuy app only. The route table
 * in groupbuy.c names every handler declared here; each handler lives in the
 * file of its resource or workflow:
 *
 *   common.c          scope, audit, events, notices, ledger rows (calls no other file)
 *   payment.c         recording a payment (payment_apply); builds on common.c, refunds.c
 *   products.c        suppliers and products
 *   groups.c          group buys: create, list with progress, get, join
 *   contributions.c   contributions: list, get, pay; provider webhooks
 *   complete.c        auto-complete job, admin complete, completing/failing a group
 *   supplier_orders.c supplier orders: list, get, accept, reject
 *   refunds.c         refund requests, the refund runner and its retry job; builds on common.c
 *   ledger.c          supplier balance, ledger reconciliation
 *   qr.c              ready for collection, QR tokens and codes, verification
 *   seed.c            `atrium seed groupbuy`
 */
#ifndef GROUPBUY_H
#define GROUPBUY_H
#include "atrium.h"

#define GROUPBUY_PREFIX "/api/v1/groupbuy"
#define GB_NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

/* Quantity of group `g` (an alias in the query) that counts toward its MOQ:
 * the view groupbuy_counted_contributions (migrations/003) holds the paid
 * contributions that are not cancelled and have no refund started. */
#define GB_COUNTED "groupbuy_counted_contributions"
#define GB_COMMITTED_SQL(g) "(SELECT COALESCE(SUM(c.quantity), 0) FROM " GB_COUNTED " c WHERE c.group_id = " g ")"

/* ------------------------------------------------------------------ scope */

/* List queries scope with the core's rbac_scope_list(r, perm, &sc, "supplier")
 * bound as GROUPBUY_SCOPE_ARGS(&sc): $1 global, $2 the supplier ids. */
#define GROUPBUY_SCOPE_ARGS(sc) DB_I((sc)->global), DB_S((sc)->ids[0])
bool groupbuy_can_supplier(struct req *r, const char *perm, int64_t supplier_id);
/* 404 when there is no such supplier, 403 when the caller may not; -1 after a reply. */
int groupbuy_require_supplier(struct req *r, const char *perm, int64_t supplier_id);

/* An audit row in the caller's transaction: with the request's id, user and
 * address when there is a request, else as actor_id (jobs, seed: 0 = system). */
int groupbuy_audit(struct db *db, struct req *r, int64_t actor_id, const char *action, const char *target_type,
                   int64_t target_id, json_t *summary);

/* --------------------------------------------------------- money movements
 * All of these run inside the caller's transaction (they nest their own
 * begin/commit) and write their audit row and ledger rows with the change. */

/* Append one ledger row (see migrations/001_groupbuy.sql for the entry types
 * and signs). contribution_id/order_id 0 = none. */
int groupbuy_ledger_add(struct db *db, const char *account, int64_t supplier_id, int64_t group_id,
                        int64_t contribution_id, int64_t order_id, const char *entry_type, int64_t amount_cents,
                        const char *currency, const char *reference);

struct groupbuy_payment {
    const char *provider;       /* "sandbox" */
    const char *provider_ref;   /* the provider's charge id */
    const char *reference;      /* ours ("GB-C12-1") */
    int64_t amount_cents;
    const char *currency;
    const char *source;         /* "client", "webhook", "job" or "seed" */
};
/* payment.c. Record the payment of a contribution exactly once, whoever reports it
 * first: marks it paid, inserts the payment row, the escrow ledger row, the
 * audit row and a realtime event. A payment for a contribution that no longer
 * counts (cancelled, or its group no longer open) is recorded and a refund is
 * requested for it at once. A success of another charge (another provider,
 * or another provider_ref and another attempt reference) for a contribution
 * already paid is an extra charge: recorded once in groupbuy_extra_charges
 * (pending, refund reference "GB-X<id>") with an escrow ledger row and an
 * audit row, whatever its amount; the refund runner returns it. Returns 1 applied, 2 an extra charge recorded for refund,
 * 0 already paid by this charge or already recorded (nothing changed), -2
 * amount or currency differ from the contribution, or an extra charge of no
 * amount (nothing changed), -3 no such contribution, -1 database error. */
int groupbuy_payment_apply(struct db *db, int64_t contribution_id, const struct groupbuy_payment *p,
                           int64_t actor_id);

/* refunds.c. A pending refund row for each paid, not yet refunded, not
 * collected contribution of group_id (contribution_id 0), or for that one
 * contribution; sets the contributions' refund_status = 'pending'. Returns the
 * number of refunds created (0 when all exist already), -1 on error. */
int groupbuy_refunds_request(struct db *db, int64_t group_id, int64_t contribution_id, const char *reason,
                             int64_t actor_id);

struct groupbuy_refund_run {
    int refunded;               /* now refunded */
    int failed;                 /* the provider said no or could not be reached: retried later */
    int skipped;                /* claimed by an overlapping run, or nothing to do */
};
/* Which refunds a run takes: fresh ones only (right after they were
 * requested), also failed ones whose next attempt is due and that have
 * attempts left (the retry job), or every failed one now (an admin's run). */
enum groupbuy_refund_mode { GB_REFUNDS_PENDING, GB_REFUNDS_DUE, GB_REFUNDS_ALL };
/* Outside any transaction: run the refunds and the extra charges (see
 * groupbuy_payment_apply) of group_id (0 = every group) that `mode` takes
 * through their provider, counted together in *out. Each is claimed with a
 * guarded update (pending|failed -> processing) so overlapping runs refund it
 * once. On success in one transaction: row refunded, the contribution's
 * refund_status (refunds only), ledger (refund_debit + escrow_return first
 * when the supplier was already credited), audit. On failure: failed with last_error and the next attempt (backoff),
 * until GROUPBUY_REFUND_MAX_ATTEMPTS. Returns 0, or -1 on a database error. */
#define GROUPBUY_REFUND_MAX_ATTEMPTS 8
int groupbuy_refunds_process(struct db *db, int64_t group_id, enum groupbuy_refund_mode mode,
                             struct groupbuy_refund_run *out);

/* complete.c. Complete an open group whose committed quantity meets its MOQ
 * (early: before the deadline, by an admin): unpaid contributions are
 * cancelled, status completed + supplier_status pending_supplier, a supplier
 * order ORD-{group}-{unix time} for the committed quantity and paid total,
 * the supplier's users notified, audit and event. Returns 1 done, 0 skipped
 * with the reason in why (not open, MOQ not met, payments pending, deadline not
 * reached when !early), -1 error. */
int groupbuy_group_complete(struct db *db, int64_t group_id, int64_t actor_id, bool early, char *why, size_t whylen);

/* complete.c. Fail an open group past its deadline whose committed quantity
 * is under its MOQ: unpaid contributions cancelled, status failed with the
 * reason, refunds requested for the paid ones (the caller runs them after
 * commit), traders notified, audit and event. 1 done, 0 skipped (why), -1. */
int groupbuy_group_fail(struct db *db, int64_t group_id, int64_t actor_id, char *why, size_t whylen);

/* supplier_orders.c. The supplier's answer, inside the caller's transaction.
 * accept: order pending -> accepted, group supplier_accepted, the supplier
 * credited (escrow_release + order_credit). reject: order rejected with the
 * reason, group cancelled + supplier_rejected, refunds requested (the caller
 * runs them after commit). Both: 1 done, 0 the order is not pending, -3 no
 * such order, -1 error. */
int groupbuy_order_accept(struct db *db, int64_t order_id, int64_t actor_id, const char *notes);
int groupbuy_order_reject(struct db *db, int64_t order_id, int64_t actor_id, const char *reason);
json_t *groupbuy_order_json(struct db *db, int64_t order_id);      /* NULL if none */

/* groups.c / contributions.c: the JSON shapes the API answers with. */
json_t *groupbuy_group_json(struct db *db, int64_t group_id);      /* NULL if none */
json_t *groupbuy_contribution_json(struct db *db, int64_t contribution_id);

/* qr.c. Ready for collection, inside the caller's transaction: group
 * supplier_accepted -> ready_for_collection, the order verified with
 * qr_codes_generated, one QR token per counted contribution (*issued gets the
 * count), traders notified. 1 done, 0 wrong state, -3 no such group, -1.
 * collect: marks a contribution collected once: 1 done, 0 already, -1. */
int groupbuy_mark_ready(struct db *db, int64_t group_id, int64_t actor_id, int *issued);
int groupbuy_qr_collect(struct db *db, int64_t contribution_id, int64_t actor_id);

/* ledger.c. Reconciliation of the whole ledger against contributions,
 * payments and refunds: an object with each total and "balanced": true|false
 * (and "problems": [...] when not). NULL on a database error. */
json_t *groupbuy_ledger_report(struct db *db);

/* qr.c. The QR token of a contribution: 32 bytes, HMAC-SHA256 under the
 * server key of ("groupbuy.qr", contribution id, its random nonce), as 64 hex
 * characters. Only its SHA-256 and the nonce are stored. */
int groupbuy_qr_token(int64_t contribution_id, const char *nonce, char out[65]);

/* Realtime: an event on topic groupbuy.group.<id> (core outbox), inside the
 * caller's transaction; payload stolen. */
int groupbuy_emit(struct db *db, int64_t group_id, const char *type, json_t *payload);
/* Notify every user holding `role` on the supplier account in-app. */
int groupbuy_notify_supplier(struct db *db, int64_t supplier_id, const char *kind, const char *title, json_t *data);
/* Notify the distinct traders of the group's contributions (only those with a
 * counted contribution when counted_only). Both: inside the caller's
 * transaction; data stolen. */
int groupbuy_notify_traders(struct db *db, int64_t group_id, bool counted_only, const char *kind, const char *title,
                            json_t *data);

/* -------------------------------------------------------------- handlers */

/* products.c */
void groupbuy_suppliers_list(struct req *r);
void groupbuy_suppliers_create(struct req *r);
void groupbuy_products_list(struct req *r);
void groupbuy_products_get(struct req *r);
void groupbuy_products_create(struct req *r);
void groupbuy_products_patch(struct req *r);

/* groups.c */
void groupbuy_groups_create(struct req *r);
void groupbuy_groups_list(struct req *r);
void groupbuy_groups_get(struct req *r);
void groupbuy_groups_join(struct req *r);

/* contributions.c */
void groupbuy_contributions_list(struct req *r);
void groupbuy_contributions_get(struct req *r);
void groupbuy_contributions_pay(struct req *r);
void groupbuy_webhook(struct req *r);

/* contributions.c. Outside any transaction (it may ask providers): settle
 * the payments of group_id still pending past its deadline. A provider that
 * can be asked (verify) decides: paid, or failed. Without one, a payment
 * still pending grace_s after the deadline cancels its contribution (a late
 * success is then refunded by groupbuy_payment_apply). Returns how many
 * were settled or cancelled, -1 on a database error. */
#define GROUPBUY_PENDING_GRACE_S 3600
int groupbuy_payments_settle_pending(struct db *db, int64_t group_id, int grace_s);

/* complete.c */
void groupbuy_admin_complete(struct req *r);
int groupbuy_auto_complete_job(struct db *db, char **result);

/* supplier_orders.c */
void groupbuy_supplier_orders_list(struct req *r);
void groupbuy_supplier_orders_get(struct req *r);
void groupbuy_supplier_orders_accept(struct req *r);
void groupbuy_supplier_orders_reject(struct req *r);

/* refunds.c */
void groupbuy_admin_process_refunds(struct req *r);
void groupbuy_admin_refunds_list(struct req *r);
int groupbuy_refunds_job(struct db *db, char **result);

/* ledger.c */
void groupbuy_supplier_balance(struct req *r);
void groupbuy_admin_ledger(struct req *r);

/* qr.c */
void groupbuy_admin_mark_ready(struct req *r);
void groupbuy_qr_code(struct req *r);
void groupbuy_admin_qr_verify(struct req *r);

/* seed.c */
int groupbuy_seed(struct db *db, const struct seed_opts *opts);
bool groupbuy_scope_exists(struct db *db, const char *scope_type, int64_t id);  /* scopes.c */
#endif
