/* The supplier balance and the ledger report: who may read which balance;
 * a whole money story (payments, an accepted order, a failed group refunded, a
 * refund after acceptance) stays balanced at every step with the expected
 * totals; tampering with the ledger is detected and named. */
#include "support/fixture.h"
#include "apps/groupbuy/groupbuy.h"
#include <stdlib.h>
#include <string.h>

TestSuite(groupbuy_ledger, .init = gb_start, .fini = gb_stop);

/* A past-deadline group of `product` with the given paid quantities, completed
 * and accepted by its supplier; returns the group. */
static int64_t accepted_group(int64_t product, int q1, int q2)
{
    char why[128];
    int64_t g = gb_group(product, q1 + q2, -5);
    gb_paid(g, "gb_trader1", q1);
    gb_paid(g, "gb_trader2", q2);
    cr_assert_eq(groupbuy_group_complete(test_db(), g, 0, false, why, sizeof why), 1, "%s", why);
    int64_t o = test_scalar("SELECT id FROM groupbuy_supplier_orders WHERE group_id = $1", g);
    cr_assert_eq(groupbuy_order_accept(test_db(), o, test_user_id("gb_sup1"), NULL), 1);
    return g;
}

static json_t *report(void)
{
    json_t *rep = groupbuy_ledger_report(test_db());
    cr_assert(rep);
    return rep;
}

static void expect_totals(int64_t paid, int64_t refunded, int64_t escrow, int64_t supplier)
{
    json_t *rep = report();
    char *text = json_dumps(rep, JSON_COMPACT);
    cr_assert(json_is_true(json_object_get(rep, "balanced")), "%s", text);
    cr_assert_null(json_object_get(rep, "problems"), "%s", text);
    cr_assert_eq(jint(rep, "payments_cents"), paid, "%s", text);
    cr_assert_eq(jint(rep, "paid_contributions_cents"), paid, "%s", text);
    cr_assert_eq(jint(rep, "ledger_payment_cents"), paid, "%s", text);
    cr_assert_eq(jint(rep, "refunded_cents"), refunded, "%s", text);
    cr_assert_eq(jint(rep, "ledger_refund_cents"), refunded, "%s", text);
    cr_assert_eq(jint(rep, "escrow_cents"), escrow, "%s", text);
    cr_assert_eq(jint(rep, "supplier_cents"), supplier, "%s", text);
    cr_assert_eq(jint(rep, "expected_supplier_cents"), supplier, "%s", text);
    free(text);
    json_decref(rep);
}

GbTest(groupbuy_ledger, balance_endpoint_scope)
{
    accepted_group(1, 2, 3);
    struct resp *r = api_get(GB "/supplier/balance", "gb_sup1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "supplier_id"), 1);
    cr_assert_str_eq(jstr(r->json, "currency"), "USD");
    cr_assert_eq(jint(r->json, "balance_cents"), 12500);
    cr_assert_eq(jint(r->json, "credited_cents"), 12500);
    cr_assert_eq(jint(r->json, "debited_cents"), 0);
    cr_assert_eq(jint(r->json, "total"), 1);
    cr_assert_eq(jint(r->json, "page"), 1);
    cr_assert_eq(jint(r->json, "page_size"), 50);
    json_t *e = json_array_get(json_object_get(r->json, "entries"), 0);
    cr_assert_str_eq(jstr(e, "entry_type"), "order_credit");
    cr_assert_eq(jint(e, "amount_cents"), 12500);
    cr_assert(jint(e, "order_id") > 0 && jint(e, "group_id") > 0 && jstr(e, "created_at"));
    cr_assert(json_is_null(json_object_get(e, "contribution_id")));
    cr_assert(!strncmp(jstr(e, "reference"), "ORD-", 4));
    resp_free(r);

    resp_check(api_get(GB "/supplier/balance?supplier_id=1", "gb_admin"), 200, NULL);
    resp_check(api_get(GB "/supplier/balance", "gb_admin"), 400, "validation_failed");
    resp_check(api_get(GB "/supplier/balance?supplier_id=99", "gb_admin"), 404, "not_found");
    resp_check(api_get(GB "/supplier/balance?supplier_id=x", "gb_admin"), 400, "validation_failed");
    resp_check(api_get(GB "/supplier/balance?supplier_id=2", "gb_sup1"), 403, "forbidden");
    resp_check(api_get(GB "/supplier/balance?supplier_id=1", "gb_sup2"), 403, "forbidden");
    resp_check(api_get(GB "/supplier/balance", "gb_staff1"), 403, NULL);
    resp_check(api_get(GB "/supplier/balance", "gb_trader1"), 403, NULL);
    resp_check(api_get(GB "/supplier/balance", NULL), 401, NULL);

    r = api_get(GB "/supplier/balance", "gb_sup2");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "supplier_id"), 2);
    cr_assert_eq(jint(r->json, "balance_cents"), 0);
    cr_assert_eq(json_array_size(json_object_get(r->json, "entries")), 0);
    resp_free(r);

    /* someone supplying for two accounts must say which */
    test_user("gb_multi", "groupbuy", "supplier", "supplier", 1);
    test_user("gb_multi", "groupbuy", "supplier", "supplier", 2);
    resp_check(api_get(GB "/supplier/balance", "gb_multi"), 400, "validation_failed");
    resp_check(api_get(GB "/supplier/balance?supplier_id=2", "gb_multi"), 200, NULL);
}

GbTest(groupbuy_ledger, whole_money_story_reconciles)
{
    expect_totals(0, 0, 0, 0);
    /* A: paid 2 + 3 rice (2500), completed, accepted: the supplier holds 12500 */
    int64_t a = accepted_group(1, 2, 3);
    expect_totals(12500, 0, 0, 12500);
    /* B: a failed group of palm oil (3500), refunded */
    char why[128];
    int64_t b = gb_group(3, 5, -5);
    gb_paid(b, "gb_trader3", 1);
    expect_totals(12500 + 3500, 0, 3500, 12500);
    cr_assert_eq(groupbuy_group_fail(test_db(), b, 0, why, sizeof why), 1, "%s", why);
    struct groupbuy_refund_run run;
    cr_assert_eq(groupbuy_refunds_process(test_db(), b, GB_REFUNDS_PENDING, &run), 0);
    cr_assert_eq(run.refunded, 1);
    expect_totals(16000, 3500, 0, 12500);
    /* C: beans 2 + 2 (1500), accepted, then refunded by an admin: the supplier is debited */
    int64_t c = accepted_group(2, 2, 2);
    expect_totals(22000, 3500, 0, 18500);
    struct resp *r = api_post(pathf(GB "/admin/groups/%lld/process-refunds", c), "gb_admin", NULL,
                             "{\"reason\":\"recall\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "refunded"), 2);
    resp_free(r);
    expect_totals(22000, 3500 + 6000, 0, 12500);

    r = api_get(GB "/supplier/balance?page_size=2", "gb_sup1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "balance_cents"), 12500);
    cr_assert_eq(jint(r->json, "credited_cents"), 18500);
    cr_assert_eq(jint(r->json, "debited_cents"), 6000);
    cr_assert_eq(jint(r->json, "total"), 4);
    json_t *entries = json_object_get(r->json, "entries");
    cr_assert_eq(json_array_size(entries), 2);
    cr_assert_str_eq(jstr(json_array_get(entries, 0), "entry_type"), "refund_debit", "newest first");
    cr_assert_eq(jint(json_array_get(entries, 0), "amount_cents"), -3000);
    cr_assert_eq(jint(json_array_get(entries, 0), "group_id"), c);
    cr_assert(jint(json_array_get(entries, 0), "contribution_id") > 0);
    cr_assert(jint(json_array_get(entries, 0), "id") > jint(json_array_get(entries, 1), "id"));
    resp_free(r);

    r = api_get(GB "/admin/ledger", "gb_admin");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(json_is_true(json_object_get(r->json, "balanced")), "%s", r->body);
    json_t *orders = json_object_get(r->json, "orders");
    cr_assert_eq(json_array_size(orders), 2, "%s", r->body);
    cr_assert_eq(jint(json_array_get(orders, 0), "credited_cents"), 12500);
    cr_assert_eq(jint(json_array_get(orders, 0), "total_cents"), 12500);
    resp_free(r);
    resp_check(api_get(GB "/admin/ledger", "gb_sup1"), 403, NULL);
    resp_check(api_get(GB "/admin/ledger", "gb_trader1"), 403, NULL);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_groups WHERE id = $1 AND supplier_status = "
                           "'supplier_accepted'", a), 1);
}

/* Report after one tampering statement, its problems as one text; then undo. */
static char *tampered(const char *sql, const char *undo)
{
    cr_assert(db_exec(test_db(), sql) >= 1, "%s", sql);
    json_t *rep = report();
    cr_assert(json_is_false(json_object_get(rep, "balanced")));
    char *text = json_dumps(json_object_get(rep, "problems"), JSON_COMPACT);
    cr_assert(text && json_array_size(json_object_get(rep, "problems")) > 0);
    json_decref(rep);
    cr_assert(db_exec(test_db(), undo) >= 1, "%s", undo);
    return text;
}

GbTest(groupbuy_ledger, tampering_is_detected)
{
    int64_t g = accepted_group(1, 2, 3);
    gb_ledger_ok();
    char *p = tampered("INSERT INTO groupbuy_ledger (account, supplier_id, group_id, entry_type, amount_cents, currency) "
                       "VALUES ('escrow', 1, 1, 'payment', 999, 'USD')",
                       "DELETE FROM groupbuy_ledger WHERE amount_cents = 999");
    cr_assert(strstr(p, "ledger_payment_cents"), "%s", p);
    free(p);
    p = tampered("INSERT INTO groupbuy_ledger (account, supplier_id, group_id, order_id, entry_type, amount_cents, "
                 "currency) SELECT 'supplier', 1, group_id, id, 'order_credit', 100, 'USD' FROM groupbuy_supplier_orders",
                 "DELETE FROM groupbuy_ledger WHERE amount_cents = 100");
    cr_assert(strstr(p, "supplier_cents"), "%s", p);
    cr_assert(strstr(p, "credited 12600, expected 12500"), "%s", p);
    free(p);
    p = tampered("INSERT INTO groupbuy_ledger (account, supplier_id, group_id, entry_type, amount_cents, currency) "
                 "VALUES ('escrow', 1, 1, 'refund', -500, 'USD')",
                 "DELETE FROM groupbuy_ledger WHERE amount_cents = -500");
    cr_assert(strstr(p, "refunded_cents 0 != ledger_refund_cents 500"), "%s", p);
    free(p);
    p = tampered("UPDATE groupbuy_contributions SET paid_amount_cents = paid_amount_cents + 1 WHERE id = "
                 "(SELECT MIN(id) FROM groupbuy_contributions)",
                 "UPDATE groupbuy_contributions SET paid_amount_cents = paid_amount_cents - 1 WHERE id = "
                 "(SELECT MIN(id) FROM groupbuy_contributions)");
    cr_assert(strstr(p, "payments_cents 12500 != paid_contributions_cents 12501"), "%s", p);
    free(p);
    gb_ledger_ok();
    cr_assert_eq(g, 1);
}
