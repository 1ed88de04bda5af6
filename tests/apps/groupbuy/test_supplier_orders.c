/* The supplier's orders: lists and reads scoped to the caller's supplier
 * accounts; accepting credits the supplier (escrow_release + order_credit);
 * rejecting (reason required) cancels the group and refunds every paid
 * contribution; wrong role, other supplier, wrong state, invalid bodies and
 * Idempotency-Key replays. */
#include "support/fixture.h"
#include "apps/groupbuy/groupbuy.h"
#include <stdlib.h>
#include <string.h>

TestSuite(groupbuy_supplier_orders, .init = gb_start, .fini = gb_stop);

/* A completed group of `product` with two paid contributions (2 + 3); its order id. */
static int64_t order_for(int64_t product, int64_t *group)
{
    char why[128];
    int64_t g = gb_group(product, 5, -5);
    gb_paid(g, "gb_trader1", 2);
    gb_paid(g, "gb_trader2", 3);
    cr_assert_eq(groupbuy_group_complete(test_db(), g, 0, false, why, sizeof why), 1, "%s", why);
    if (group) *group = g;
    return test_scalar("SELECT id FROM groupbuy_supplier_orders WHERE group_id = $1", g);
}

static int64_t list_total(const char *url, const char *as)
{
    struct resp *r = api_get(url, as);
    cr_assert_eq(r->status, 200, "%s %s: %s", as, url, r->body);
    int64_t n = jint(r->json, "total");
    cr_assert_eq((int64_t)json_array_size(json_object_get(r->json, "items")), n);
    resp_free(r);
    return n;
}

GbTest(groupbuy_supplier_orders, lists_and_reads_in_scope)
{
    int64_t g1, g2;
    int64_t o1 = order_for(1, &g1), o2 = order_for(3, &g2);
    cr_assert_eq(list_total(GB "/supplier/orders", "gb_sup1"), 1);
    cr_assert_eq(list_total(GB "/supplier/orders", "gb_staff1"), 1);
    cr_assert_eq(list_total(GB "/supplier/orders", "gb_sup2"), 1, "none of supplier 1's");
    cr_assert_eq(list_total(GB "/supplier/orders", "gb_admin"), 2);
    cr_assert_eq(list_total(GB "/supplier/orders?status=pending", "gb_admin"), 2);
    cr_assert_eq(list_total(GB "/supplier/orders?status=accepted", "gb_admin"), 0);
    cr_assert_eq(list_total(pathf(GB "/supplier/orders?group_id=%lld", g2), "gb_admin"), 1);
    cr_assert_eq(list_total(pathf(GB "/supplier/orders?group_id=%lld", g2), "gb_sup1"), 0);

    struct resp *r = api_get(GB "/supplier/orders", "gb_sup2");
    cr_assert_eq(jint(json_array_get(json_object_get(r->json, "items"), 0), "id"), o2);
    resp_free(r);
    resp_check(api_get(GB "/supplier/orders?status=shipped", "gb_admin"), 400, "validation_failed");
    resp_check(api_get(GB "/supplier/orders", "gb_trader1"), 403, NULL);
    resp_check(api_get(GB "/supplier/orders", "gb_nobody"), 403, NULL);

    r = api_get(pathf(GB "/supplier/orders/%lld", o1), "gb_sup1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *o = r->json;
    cr_assert_eq(jint(o, "group_id"), g1);
    cr_assert_eq(jint(o, "supplier_id"), 1);
    cr_assert_str_eq(jstr(json_object_get(o, "product"), "name"), "Rice 50kg");
    cr_assert_str_eq(jstr(json_object_get(o, "product"), "unit"), "bag");
    cr_assert_eq(jint(o, "quantity"), 5);
    cr_assert_eq(jint(o, "total_cents"), 12500);
    cr_assert_str_eq(jstr(o, "status"), "pending");
    cr_assert(json_is_null(json_object_get(o, "rejection_reason")));
    cr_assert_str_eq(jstr(o, "admin_verification_status"), "unverified");
    cr_assert(json_is_false(json_object_get(o, "qr_codes_generated")));
    cr_assert_str_eq(jstr(o, "pickup_location"), "Warehouse 4, Kano Road");
    cr_assert_str_eq(jstr(o, "group_status"), "completed");
    cr_assert_str_eq(jstr(o, "supplier_status"), "pending_supplier");
    cr_assert(jstr(o, "order_number") && jstr(o, "created_at"));
    resp_free(r);
    resp_check(api_get(pathf(GB "/supplier/orders/%lld", o1), "gb_sup2"), 404, "not_found");
    resp_check(api_get(pathf(GB "/supplier/orders/%lld", o1), "gb_staff1"), 200, NULL);
    resp_check(api_get(GB "/supplier/orders/9999", "gb_admin"), 404, "not_found");
}

GbTest(groupbuy_supplier_orders, accept_credits_the_supplier)
{
    int64_t g, o = order_for(1, &g);
    const char *url = pathf(GB "/supplier/orders/%lld/accept", o);
    resp_check(api_post(url, "gb_staff1", NULL, "%s", ""), 403, NULL);
    resp_check(api_post(url, "gb_admin", NULL, "%s", ""), 403, NULL);
    resp_check(api_post(url, "gb_trader1", NULL, "%s", ""), 403, NULL);
    resp_check(api_post(url, "gb_sup2", NULL, "%s", ""), 404, "not_found");
    resp_check(api_post(url, "gb_sup1", NULL, "{\"notes\":\"   \"}"), 400, "validation_failed");
    resp_check(api_post(url, "gb_sup1", NULL, "{\"note\":\"typo\"}"), 400, "validation_failed");
    resp_check(api_post(GB "/supplier/orders/9999/accept", "gb_sup1", NULL, "%s", ""), 404, "not_found");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_ledger WHERE entry_type <> 'payment'"), 0);

    struct resp *r = api_post(url, "gb_sup1", NULL, "{\"notes\":\"Delivering Tuesday\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "accepted");
    cr_assert_str_eq(jstr(r->json, "supplier_status"), "supplier_accepted");
    cr_assert(jstr(r->json, "responded_at"));
    resp_free(r);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_supplier_orders WHERE id = $1 AND responded_by = "
                           "(SELECT id FROM users WHERE username = 'gb_sup1')", o), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_groups WHERE id = $1 AND status = 'completed' AND "
                           "supplier_status = 'supplier_accepted' AND supplier_notes = 'Delivering Tuesday' AND "
                           "supplier_response_at IS NOT NULL", g), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE order_id = $1 AND account = 'escrow' AND "
                           "entry_type = 'escrow_release' AND amount_cents = -12500", o), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE order_id = $1 AND account = 'supplier' AND "
                           "supplier_id = 1 AND entry_type = 'order_credit' AND amount_cents = 12500", o), 1);
    cr_assert_eq(test_count("SELECT SUM(amount_cents) FROM groupbuy_ledger WHERE account = 'escrow'"), 0);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.order.accepted' AND target_id = $1 "
                           "AND request_id IS NOT NULL AND user_id = (SELECT id FROM users WHERE username = 'gb_sup1')",
                           o), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM outbox WHERE type = 'order.accepted' AND topic = 'groupbuy.group.' || $1",
                           g), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notifications WHERE kind = 'groupbuy.order.accepted'"), 2);

    resp_check(api_post(url, "gb_sup1", NULL, "%s", ""), 409, "invalid_state");
    resp_check(api_post(pathf(GB "/supplier/orders/%lld/reject", o), "gb_sup1", NULL, "{\"reason\":\"too late\"}"), 409,
              "invalid_state");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE order_id = $1", o), 2, "credited once");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_refunds"), 0);
}

GbTest(groupbuy_supplier_orders, reject_needs_a_reason)
{
    int64_t g, o = order_for(1, &g);
    const char *url = pathf(GB "/supplier/orders/%lld/reject", o);
    resp_check(api_post(url, "gb_sup1", NULL, "{}"), 400, "validation_failed");
    resp_check(api_post(url, "gb_sup1", NULL, "%s", ""), 400, NULL);
    resp_check(api_post(url, "gb_sup1", NULL, "{\"reason\":\" \\t \"}"), 400, "validation_failed");
    resp_check(api_post(url, "gb_sup1", NULL, "{\"reason\":42}"), 400, "validation_failed");
    resp_check(api_post(url, "gb_sup1", NULL, "{\"reason\":\"%01001d\"}", 0), 400, "validation_failed");
    resp_check(api_post(url, "gb_sup1", NULL, "{\"reason\":\"no stock\",\"extra\":1}"), 400, "validation_failed");
    resp_check(api_post(url, "gb_staff1", NULL, "{\"reason\":\"no stock\"}"), 403, NULL);
    resp_check(api_post(url, "gb_trader1", NULL, "{\"reason\":\"no stock\"}"), 403, NULL);
    resp_check(api_post(url, "gb_sup2", NULL, "{\"reason\":\"no stock\"}"), 404, "not_found");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_supplier_orders WHERE id = $1 AND status = 'pending'", o), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_groups WHERE id = $1 AND status = 'completed'", g), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_refunds"), 0);
}

GbTest(groupbuy_supplier_orders, reject_cancels_and_refunds)
{
    int64_t g, o = order_for(1, &g);
    int calls = pay_sandbox_refund_calls();
    struct resp *r = api_post(pathf(GB "/supplier/orders/%lld/reject", o), "gb_sup1", NULL,
                             "{\"reason\":\"Harvest failed\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "rejected");
    cr_assert_str_eq(jstr(r->json, "rejection_reason"), "Harvest failed");
    cr_assert_str_eq(jstr(r->json, "group_status"), "cancelled");
    cr_assert_str_eq(jstr(r->json, "supplier_status"), "supplier_rejected");
    json_t *rf = json_object_get(r->json, "refunds");
    cr_assert_eq(jint(rf, "requested"), 2);
    cr_assert_eq(jint(rf, "refunded"), 2);
    cr_assert_eq(jint(rf, "failed"), 0);
    resp_free(r);
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 2);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_groups WHERE id = $1 AND status = 'cancelled' AND "
                           "supplier_status = 'supplier_rejected' AND supplier_notes = 'Harvest failed' AND "
                           "status_reason = 'rejected by supplier: Harvest failed' AND closed_at IS NOT NULL", g), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE group_id = $1 AND refund_status = "
                           "'refunded' AND refunded_at IS NOT NULL", g), 2);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE group_id = $1 AND entry_type = 'refund' AND "
                           "account = 'escrow'", g), 2);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE group_id = $1 AND account = 'supplier'", g), 0,
                 "a rejected order never reaches the supplier");
    cr_assert_eq(test_scalar("SELECT SUM(amount_cents) FROM groupbuy_ledger WHERE group_id = $1", g), 0);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.order.rejected' AND target_id = $1",
                           o), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.refund.refunded'"), 2);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notifications WHERE kind = 'groupbuy.order.rejected'"), 2);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notifications WHERE kind = 'groupbuy.refund.refunded'"), 2);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM outbox WHERE type = 'order.rejected' AND topic = 'groupbuy.group.' || $1",
                           g), 1);
    resp_check(api_post(pathf(GB "/supplier/orders/%lld/accept", o), "gb_sup1", NULL, "%s", ""), 409, "invalid_state");
}

GbTest(groupbuy_supplier_orders, idempotent_replays)
{
    int64_t g1, g2, o1 = order_for(1, &g1), o2 = order_for(2, &g2);
    struct resp *a = api_post(pathf(GB "/supplier/orders/%lld/accept", o1), "gb_sup1", "acc-1", "{\"notes\":\"ok\"}");
    struct resp *b = api_post(pathf(GB "/supplier/orders/%lld/accept", o1), "gb_sup1", "acc-1", "{\"notes\":\"ok\"}");
    cr_assert_eq(a->status, 200, "%s", a->body);
    cr_assert_eq(b->status, 200, "the replay answers the first answer: %s", b->body);
    cr_assert_str_eq(a->body, b->body);
    resp_free(a);
    resp_free(b);
    resp_check(api_post(pathf(GB "/supplier/orders/%lld/accept", o1), "gb_sup1", "acc-1", "{\"notes\":\"other\"}"), 409,
              NULL);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.order.accepted' AND target_id = $1",
                           o1), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE order_id = $1", o1), 2);

    int calls = pay_sandbox_refund_calls();
    const char *url = pathf(GB "/supplier/orders/%lld/reject", o2);
    a = api_post(url, "gb_sup1", "rej-1", "{\"reason\":\"no beans\"}");
    b = api_post(url, "gb_sup1", "rej-1", "{\"reason\":\"no beans\"}");
    cr_assert_eq(a->status, 200, "%s", a->body);
    cr_assert_eq(b->status, 200, "%s", b->body);
    cr_assert_str_eq(a->body, b->body);
    resp_free(a);
    resp_free(b);
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 2);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.order.rejected' AND target_id = $1",
                           o2), 1);
    resp_check(api_post(url, "gb_sup1", "rej-2", "{\"reason\":\"no beans\"}"), 409, "invalid_state");
}

GbTest(groupbuy_supplier_orders, answer_functions_report_state)
{
    int64_t o = order_for(1, NULL);
    cr_assert_eq(groupbuy_order_accept(test_db(), 9999, 0, NULL), -3);
    cr_assert_eq(groupbuy_order_reject(test_db(), 9999, 0, "x"), -3);
    cr_assert_eq(groupbuy_order_accept(test_db(), o, 0, NULL), 1);
    cr_assert_eq(groupbuy_order_accept(test_db(), o, 0, NULL), 0);
    cr_assert_eq(groupbuy_order_reject(test_db(), o, 0, "x"), 0);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_supplier_orders WHERE id = $1 AND responded_by IS NULL AND "
                           "status = 'accepted'", o), 1, "actor 0 (system) is no user");
    cr_assert(!db_in_tx(test_db()));
}
