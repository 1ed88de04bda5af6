/* ledger.c -- the supplier balance and the reconciliation of the whole ledger
 * against payments, contributions, refunds and orders.
 *
 * The report is one SELECT (one consistent snapshot). What must hold:
 *   payments == paid contributions == ledger payments - extra charges;
 *   refunds refunded == ledger refunds - extra charges refunded;
 *   escrow + supplier == paid - refunded + extra charges - those refunded
 *     (an extra charge stays in escrow until it is refunded);
 *   supplier == expected: the paid amounts of the active contributions of
 *     groups whose order is accepted, less those refunded;
 *   each accepted order is credited exactly its total, and no other order is
 *     credited at all.
 *
 * Choices where the spec is silent: totals add all currencies together (a
 * deployment runs one currency); the balance's currency is that of the
 * supplier's latest ledger row, else of its first product, else USD; balance
 * entries are newest first; an admin must name supplier_id, a supplier may
 * omit it when they hold groupbuy.balance.read on exactly one supplier. */
#include "groupbuy.h"
#include <stdlib.h>
#include <string.h>

#define SUM_LEDGER(where) "(SELECT COALESCE(SUM(amount_cents), 0) FROM groupbuy_ledger WHERE " where ")"

static const char *report_sql =
    "SELECT (SELECT COALESCE(SUM(amount_cents), 0) FROM groupbuy_payments) AS payments_cents, "
    "(SELECT COALESCE(SUM(paid_amount_cents), 0) FROM groupbuy_contributions WHERE payment_status = 'paid') "
    "AS paid_contributions_cents, " SUM_LEDGER("entry_type = 'payment'") " AS ledger_payment_cents, "
    "(SELECT COALESCE(SUM(amount_cents), 0) FROM groupbuy_refunds WHERE status = 'refunded') AS refunded_cents, "
    "-" SUM_LEDGER("entry_type = 'refund'") " AS ledger_refund_cents, "
    "(SELECT COALESCE(SUM(amount_cents), 0) FROM groupbuy_extra_charges) AS extra_charges_cents, "
    "(SELECT COALESCE(SUM(amount_cents), 0) FROM groupbuy_extra_charges WHERE status = 'refunded') "
    "AS extra_refunded_cents, "
    SUM_LEDGER("account = 'escrow'") " AS escrow_cents, " SUM_LEDGER("account = 'supplier'") " AS supplier_cents, "
    "(SELECT COALESCE(SUM(c.paid_amount_cents), 0) FROM groupbuy_contributions c "
    "JOIN groupbuy_supplier_orders o ON o.group_id = c.group_id WHERE o.status = 'accepted' AND c.status = 'active' "
    "AND c.payment_status = 'paid' AND (c.refund_status IS NULL OR c.refund_status <> 'refunded')) "
    "AS expected_supplier_cents, "
    "(SELECT json_group_array(json_object('order_id', x.id, 'order_number', x.order_number, 'status', x.status, "
    "'total_cents', x.total_cents, 'credited_cents', x.credited)) FROM (SELECT o.id, o.order_number, o.status, "
    "o.total_cents, " SUM_LEDGER("order_id = o.id AND entry_type = 'order_credit'") " AS credited "
    "FROM groupbuy_supplier_orders o ORDER BY o.id) x WHERE x.status = 'accepted' OR x.credited <> 0) AS orders__json";

static int64_t total(json_t *rep, const char *key)
{
    return json_integer_value(json_object_get(rep, key));
}

static void expect_equal(json_t *problems, json_t *rep, const char *a, const char *b)
{
    if (total(rep, a) != total(rep, b))
        json_array_append_new(problems, json_sprintf("%s %lld != %s %lld", a, (long long)total(rep, a), b,
                                                     (long long)total(rep, b)));
}

/* a == b - less: the ledger's rows of a kind, less those of extra charges. */
static void expect_net(json_t *problems, json_t *rep, const char *a, const char *b, const char *less)
{
    if (total(rep, a) != total(rep, b) - total(rep, less))
        json_array_append_new(problems, json_sprintf("%s %lld != %s %lld - %s %lld", a, (long long)total(rep, a), b,
                                                     (long long)total(rep, b), less, (long long)total(rep, less)));
}

static void check_orders(json_t *problems, json_t *orders)
{
    size_t i;
    json_t *o;
    json_array_foreach (orders, i, o) {
        const char *status = json_string_value(json_object_get(o, "status"));
        int64_t want = status && !strcmp(status, "accepted") ? total(o, "total_cents") : 0;
        if (total(o, "credited_cents") != want)
            json_array_append_new(problems, json_sprintf("order %s (%s) credited %lld, expected %lld",
                                                         json_string_value(json_object_get(o, "order_number")),
                                                         status ? status : "?", (long long)total(o, "credited_cents"),
                                                         (long long)want));
    }
}

json_t *groupbuy_ledger_report(struct db *db)
{
    json_t *rep = db_json_one(db, report_sql);
    if (!rep) return NULL;
    json_t *problems = json_array();
    expect_equal(problems, rep, "payments_cents", "paid_contributions_cents");
    expect_net(problems, rep, "payments_cents", "ledger_payment_cents", "extra_charges_cents");
    expect_net(problems, rep, "refunded_cents", "ledger_refund_cents", "extra_refunded_cents");
    expect_equal(problems, rep, "supplier_cents", "expected_supplier_cents");
    int64_t held = total(rep, "escrow_cents") + total(rep, "supplier_cents");
    int64_t net = total(rep, "paid_contributions_cents") - total(rep, "refunded_cents") +
                  total(rep, "extra_charges_cents") - total(rep, "extra_refunded_cents");
    if (held != net)
        json_array_append_new(problems, json_sprintf("escrow_cents + supplier_cents %lld != paid_contributions_cents "
                                                     "- refunded_cents + extra_charges_cents - extra_refunded_cents "
                                                     "%lld", (long long)held, (long long)net));
    check_orders(problems, json_object_get(rep, "orders"));
    json_object_set_new(rep, "balanced", json_boolean(json_array_size(problems) == 0));
    if (json_array_size(problems)) json_object_set_new(rep, "problems", problems);
    else json_decref(problems);
    return rep;
}

void groupbuy_admin_ledger(struct req *r)
{
    json_t *rep = groupbuy_ledger_report(r->db);
    if (rep) reply_json(r, 200, rep);
    else reply_db_error(r);
}

/* ---------------------------------------------------------------- balance */

/* The supplier asked for, or the caller's only one; 0 after a reply. */
static int64_t balance_supplier(struct req *r)
{
    int64_t id;
    bool global;
    size_t n;
    if (req_query_int(r, "supplier_id", 0, &id) < 0) return 0;
    if (!id) {
        int64_t *ids = rbac_scopes(r, "groupbuy.balance.read", "supplier", &global, &n);
        if (global || n != 1) {
            reply_invalid(r, "supplier_id", n > 1 ? "is required: you hold several supplier accounts" : "is required");
            return 0;
        }
        id = ids[0];
    }
    return groupbuy_require_supplier(r, "groupbuy.balance.read", id) < 0 ? 0 : id;
}

void groupbuy_supplier_balance(struct req *r)
{
    struct page pg;
    int64_t id;
    if (req_page(r, &pg) < 0 || !(id = balance_supplier(r))) return;
    json_t *head = db_json_one(
        r->db, "SELECT $1 AS supplier_id, COALESCE((SELECT currency FROM groupbuy_ledger WHERE supplier_id = $1 "
               "AND account = 'supplier' ORDER BY id DESC LIMIT 1), (SELECT currency FROM groupbuy_products "
               "WHERE supplier_id = $1 ORDER BY id LIMIT 1), 'USD') AS currency, COALESCE(SUM(amount_cents), 0) "
               "AS balance_cents, COALESCE(SUM(MAX(amount_cents, 0)), 0) AS credited_cents, "
               "COALESCE(-SUM(MIN(amount_cents, 0)), 0) AS debited_cents, COUNT(*) AS total "
               "FROM groupbuy_ledger WHERE supplier_id = $1 AND account = 'supplier'", DB_I(id));
    json_t *entries = head ? db_json_all(r->db, "SELECT id, entry_type, amount_cents, group_id, order_id, "
                                                "contribution_id, reference, created_at FROM groupbuy_ledger "
                                                "WHERE supplier_id = $1 AND account = 'supplier' "
                                                "ORDER BY id DESC LIMIT $2 OFFSET $3",
                                         DB_I(id), DB_I(pg.size), DB_I(pg.offset))
                           : NULL;
    if (!entries) {
        json_decref(head);
        reply_db_error(r);
        return;
    }
    json_object_set_new(head, "entries", entries);
    json_object_set_new(head, "page", json_integer(pg.page));
    json_object_set_new(head, "page_size", json_integer(pg.size));
    reply_json(r, 200, head);
}
