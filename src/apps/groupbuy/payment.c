/* payment.c -- recording a contribution's payment, called by the pay route,
 * the webhook, the close of a group and the seeder. It builds on common.c
 * (ledger, events) and refunds.c (a payment that no longer counts requests its
 * refund); neither calls back here.
 *
 * A success for a contribution that another charge already paid is an extra
 * charge: recorded once per (provider, provider_ref) in escrow and refunded
 * by the refund runner (refunds.c). Choices: "another charge" is another
 * provider, or another charge id for another attempt: each attempt's
 * reference is charged once (it is the provider's tx_ref), so two successes
 * of one attempt are two reports of one charge even when their ids differ (a
 * report without an id of its own carries the reference instead), and
 * refunding one would refund the real payment; the amount need not match the
 * contribution (whatever was charged is returned). */
#include "groupbuy.h"
#include <stdlib.h>
#include <string.h>

struct contribution_row {
    int64_t group_id, trader_id, supplier_id, amount_cents, quantity;
    char currency[8], payment_status[16], status[16], group_status[16];
};

static int load_contribution(struct db *db, int64_t id, struct contribution_row *c)
{
    struct db_rows rows;
    int found = 0;
    if (db_query(db, &rows, "SELECT c.group_id, c.trader_id, g.supplier_id, c.amount_cents, c.quantity, c.currency, "
                            "c.payment_status, c.status, g.status FROM groupbuy_contributions c "
                            "JOIN groupbuy_groups g ON g.id = c.group_id WHERE c.id = $1", DB_I(id)) < 0)
        return -1;
    if (db_step(&rows)) {
        found = 1;
        c->group_id = db_col_int(&rows, 0);
        c->trader_id = db_col_int(&rows, 1);
        c->supplier_id = db_col_int(&rows, 2);
        c->amount_cents = db_col_int(&rows, 3);
        c->quantity = db_col_int(&rows, 4);
        snprintf(c->currency, sizeof c->currency, "%s", db_col_text(&rows, 5));
        snprintf(c->payment_status, sizeof c->payment_status, "%s", db_col_text(&rows, 6));
        snprintf(c->status, sizeof c->status, "%s", db_col_text(&rows, 7));
        snprintf(c->group_status, sizeof c->group_status, "%s", db_col_text(&rows, 8));
    }
    db_rows_close(&rows);
    return found;
}

/* The payment row, the paid mark and the escrow ledger row; 1, or -1. */
static int record_payment(struct db *db, int64_t id, const struct contribution_row *c, const struct groupbuy_payment *p,
                          int64_t actor_id)
{
    if (db_exec(db, "UPDATE groupbuy_contributions SET payment_status = 'paid', paid_amount_cents = $2, "
                    "paid_at = " GB_NOW_SQL ", payment_provider = $3, payment_reference = COALESCE(payment_reference, $4), "
                    "updated_at = " GB_NOW_SQL " WHERE id = $1 AND payment_status <> 'paid'",
                DB_I(id), DB_I(p->amount_cents), DB_S(p->provider), DB_S(p->reference)) != 1 ||
        db_exec(db, "INSERT INTO groupbuy_payments (contribution_id, provider, provider_ref, reference, amount_cents, "
                    "currency, source) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                DB_I(id), DB_S(p->provider), DB_S(p->provider_ref), DB_S(p->reference), DB_I(p->amount_cents),
                DB_S(p->currency), DB_S(p->source)) != 1 ||
        groupbuy_ledger_add(db, "escrow", c->supplier_id, c->group_id, id, 0, "payment", p->amount_cents, p->currency,
                            p->provider_ref) < 0 ||
        audit_write_as(db, actor_id, "groupbuy", "groupbuy.contribution.paid", "contribution", id,
                       json_pack("{s:I, s:s, s:s, s:s, s:I, s:s}", "group_id", (json_int_t)c->group_id, "provider",
                                 p->provider, "provider_ref", p->provider_ref, "source", p->source, "amount_cents",
                                 (json_int_t)p->amount_cents, "currency", p->currency)) < 0)
        return -1;
    return 1;
}

/* Is p the charge the contribution's payment was recorded with: the same
 * provider, and the same charge id or the same attempt? 1 yes (or no payment
 * row to compare with), 0 no, -1. */
static int same_charge(struct db *db, int64_t id, const struct groupbuy_payment *p)
{
    int64_t same = 1;
    if (db_int(db, &same, "SELECT provider = $2 AND (provider_ref = $3 OR reference = $4) FROM groupbuy_payments "
                          "WHERE contribution_id = $1",
               DB_I(id), DB_S(p->provider), DB_S(p->provider_ref), DB_S(p->reference)) < 0)
        return -1;
    return same ? 1 : 0;
}

/* A success for a contribution already paid by another charge: held in
 * escrow and left pending for the refund runner ("GB-X<id>"). 2 recorded,
 * 0 the same charge or already recorded, -2 nothing was charged, -1. */
static int record_extra(struct db *db, int64_t id, const struct contribution_row *c, const struct groupbuy_payment *p,
                        int64_t actor_id)
{
    int same = same_charge(db, id, p), n;
    int64_t xid;
    if (same != 0) return same < 0 ? -1 : 0;
    if (p->amount_cents <= 0) return -2;
    n = db_int(db, &xid, "INSERT INTO groupbuy_extra_charges (contribution_id, group_id, supplier_id, provider, provider_ref, "
                    "reference, amount_cents, currency) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                    "ON CONFLICT (provider, provider_ref) DO NOTHING RETURNING id",
                DB_I(id), DB_I(c->group_id), DB_I(c->supplier_id), DB_S(p->provider), DB_S(p->provider_ref),
                DB_S(p->reference), DB_I(p->amount_cents), DB_S(p->currency));
    if (n <= 0) return n;
    if (db_exec(db, "UPDATE groupbuy_extra_charges SET refund_reference = 'GB-X' || id WHERE id = $1", DB_I(xid)) != 1 ||
        groupbuy_ledger_add(db, "escrow", c->supplier_id, c->group_id, id, 0, "payment", p->amount_cents, p->currency,
                            p->provider_ref) < 0 ||
        audit_write_as(db, actor_id, "groupbuy", "groupbuy.contribution.extra_charged", "contribution", id,
                       json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:I, s:s}", "extra_charge_id", (json_int_t)xid,
                                 "group_id", (json_int_t)c->group_id, "provider", p->provider, "provider_ref",
                                 p->provider_ref, "reference", p->reference, "source", p->source, "amount_cents",
                                 (json_int_t)p->amount_cents, "currency", p->currency)) < 0)
        return -1;
    return 2;
}

int groupbuy_payment_apply(struct db *db, int64_t contribution_id, const struct groupbuy_payment *p, int64_t actor_id)
{
    struct contribution_row c;
    int rc = -1, found;
    if (db_begin(db) < 0) return -1;
    if ((found = load_contribution(db, contribution_id, &c)) <= 0) {
        rc = found == 0 ? -3 : -1;
        goto out;
    }
    if (!strcmp(c.payment_status, "paid")) {
        rc = record_extra(db, contribution_id, &c, p, actor_id);
        goto out;
    }
    if (p->amount_cents != c.amount_cents || strcmp(p->currency, c.currency)) {
        rc = -2;
        goto out;
    }
    if (record_payment(db, contribution_id, &c, p, actor_id) < 0) goto out;
    bool counts = !strcmp(c.status, "active") && !strcmp(c.group_status, "open");
    if (!counts && groupbuy_refunds_request(db, c.group_id, contribution_id, "payment arrived after the group closed",
                                            actor_id) < 0)
        goto out;
    if (groupbuy_emit(db, c.group_id, "contribution.paid",
                      json_pack("{s:I, s:I, s:I, s:b}", "group_id", (json_int_t)c.group_id, "contribution_id",
                                (json_int_t)contribution_id, "quantity", (json_int_t)c.quantity, "counts", counts)) < 0)
        goto out;
    rc = 1;
out:
    if (rc == -1) {
        db_rollback(db);
        return -1;
    }
    if (db_commit(db) < 0) return -1;
    if (rc == 1) metrics_count("payments", p->provider, 1);
    if (rc == 2) metrics_count("extra_charges", p->provider, 1);
    return rc;
}
