/* The whole groupbuy flow over HTTP (the only SQL moves a deadline into the
 * past for the auto-complete job):
 *
 *   create -> join -> pay (sandbox) -> complete -> accept -> ready -> QR -> scan
 *   create -> join -> pay -> (deadline passes) job completes -> reject -> refunds
 *
 * At each step a wrong role, a wrong scope or state, and an invalid body are
 * tried, and nothing they touch changes. */
#include "support/fixture.h"
#include "apps/groupbuy/groupbuy.h"
#include <stdlib.h>
#include <string.h>

TestSuite(groupbuy_flow, .init = gb_start, .fini = gb_stop);

/* POST that must answer `status`; the body (freed by the caller) or NULL. */
static json_t *post_ok(const char *path, const char *as, const char *key, int status, const char *body)
{
    struct resp *r = api_post(path, as, key, "%s", body);
    cr_assert_eq(r->status, status, "POST %s as %s: %d %s", path, as, r->status, r->body);
    json_t *out = json_incref(r->json);
    resp_free(r);
    return out;
}

static json_t *get_ok(const char *path, const char *as)
{
    struct resp *r = api_get(path, as);
    cr_assert_eq(r->status, 200, "GET %s as %s: %d %s", path, as, r->status, r->body);
    json_t *out = json_incref(r->json);
    resp_free(r);
    return out;
}

static void expect_post(const char *path, const char *as, const char *body, int status, const char *code)
{
    resp_check(api_post(path, as, NULL, "%s", body), status, code);
}

static int64_t create_group(int64_t product, int moq)
{
    char body[300];
    snprintf(body, sizeof body, "{\"product_id\":%lld,\"moq\":%d,\"deadline\":\"%s\",\"pickup_location\":"
                                "\"Sabon Gari Market, Gate 3\"}", (long long)product, moq, time_in(24 * 60));
    json_t *g = post_ok(GB "/groups", "gb_sup1", NULL, 201, body);
    int64_t id = jint(g, "id");
    cr_assert_str_eq(jstr(g, "status"), "open");
    cr_assert_eq(jint(g, "moq"), moq);
    json_decref(g);
    return id;
}

static int64_t join(int64_t group, const char *trader, int quantity, const char *key)
{
    char body[64];
    snprintf(body, sizeof body, "{\"quantity\":%d}", quantity);
    json_t *c = post_ok(pathf(GB "/groups/%lld/join", group), trader, key, 201, body);
    int64_t id = jint(c, "id");
    cr_assert_str_eq(jstr(c, "payment_status"), "unpaid");
    cr_assert_eq(jint(c, "quantity"), quantity);
    json_decref(c);
    return id;
}

static void pay(int64_t contribution, const char *trader, const char *key)
{
    json_t *c = post_ok(pathf(GB "/contributions/%lld/pay", contribution), trader, key, 200, "{}");
    cr_assert_str_eq(jstr(c, "payment_status"), "paid");
    json_decref(c);
}

static json_t *group(int64_t id)
{
    return get_ok(pathf(GB "/groups/%lld", id), "gb_trader1");
}

static int64_t balance(void)
{
    json_t *b = get_ok(GB "/supplier/balance", "gb_sup1");
    int64_t cents = jint(b, "balance_cents");
    json_decref(b);
    return cents;
}

static void ledger_balanced(void)
{
    json_t *l = get_ok(GB "/admin/ledger", "gb_admin");
    cr_assert(json_is_true(json_object_get(l, "balanced")), "%s", json_dumps(l, JSON_COMPACT));
    json_decref(l);
}

/* ------------------------------------------------------------ happy path */

GbTest(groupbuy_flow, join_pay_complete_accept_collect)
{
    /* create: wrong role, other supplier's product, invalid bodies */
    char body[300];
    snprintf(body, sizeof body, "{\"product_id\":1,\"moq\":6,\"deadline\":\"%s\",\"pickup_location\":\"Gate 3\"}",
             time_in(60));
    expect_post(GB "/groups", "gb_trader1", body, 403, "forbidden");
    expect_post(GB "/groups", "gb_sup2", body, 403, "forbidden");
    snprintf(body, sizeof body, "{\"product_id\":1,\"moq\":0,\"deadline\":\"%s\",\"pickup_location\":\"Gate 3\"}",
             time_in(60));
    expect_post(GB "/groups", "gb_sup1", body, 400, "validation_failed");
    snprintf(body, sizeof body, "{\"product_id\":1,\"moq\":6,\"deadline\":\"%s\",\"pickup_location\":\"Gate 3\"}",
             time_in(-60));
    expect_post(GB "/groups", "gb_sup1", body, 400, "validation_failed");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_groups"), 0);
    int64_t g = create_group(1, 6);

    /* join: the same key replays, over the maximum, wrong role, bad quantity */
    int64_t c1 = join(g, "gb_trader1", 3, "join-t1");
    json_t *again = post_ok(pathf(GB "/groups/%lld/join", g), "gb_trader1", "join-t1", 201, "{\"quantity\":3}");
    cr_assert_eq(jint(again, "id"), c1, "an Idempotency-Key replays the first answer");
    json_decref(again);
    int64_t c2 = join(g, "gb_trader2", 3, "join-t2");
    int64_t c3 = join(g, "gb_trader3", 1, "join-t3");
    expect_post(pathf(GB "/groups/%lld/join", g), "gb_trader1", "{\"quantity\":3}", 409, "max_per_trader_exceeded");
    expect_post(pathf(GB "/groups/%lld/join", g), "gb_sup1", "{\"quantity\":1}", 403, "forbidden");
    expect_post(pathf(GB "/groups/%lld/join", g), "gb_trader1", "{\"quantity\":0}", 400, "validation_failed");
    expect_post(pathf(GB "/groups/%lld/join", g), "gb_trader1", "{\"qty\":1}", 400, "validation_failed");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE group_id = $1", g), 3);

    /* pay: the owner only, once; a declined card does not count */
    expect_post(pathf(GB "/contributions/%lld/pay", c1), "gb_admin", "{}", 403, "forbidden");
    expect_post(pathf(GB "/contributions/%lld/pay", c1), "gb_trader2", "{}", 404, "not_found");
    expect_post(pathf(GB "/contributions/%lld/pay", c1), "gb_trader1", "{\"provider\":\"nope\"}", 400,
                "validation_failed");
    pay(c1, "gb_trader1", "pay-c1");
    expect_post(pathf(GB "/contributions/%lld/pay", c1), "gb_trader1", "{}", 409, "already_paid");
    pay(c2, "gb_trader2", "pay-c2");
    expect_post(pathf(GB "/contributions/%lld/pay", c3), "gb_trader3", "{\"payment_token\":\"tok_declined\"}", 402,
                "payment_declined");
    json_t *gj = group(g);
    cr_assert_eq(jint(gj, "quantity_committed"), 6);
    cr_assert_eq(jint(gj, "percent_to_moq"), 100);
    json_decref(gj);

    /* complete: admin only, empty body, once */
    expect_post(pathf(GB "/admin/groups/%lld/complete", g), "gb_sup1", "{}", 403, "forbidden");
    expect_post(pathf(GB "/admin/groups/%lld/complete", g), "gb_admin", "{\"force\":true}", 400, "validation_failed");
    gj = post_ok(pathf(GB "/admin/groups/%lld/complete", g), "gb_admin", NULL, 200, "{}");
    cr_assert_str_eq(jstr(gj, "status"), "completed");
    cr_assert_str_eq(jstr(gj, "supplier_status"), "pending_supplier");
    int64_t order = jint(json_object_get(gj, "order"), "id");
    cr_assert_gt(order, 0);
    json_decref(gj);
    expect_post(pathf(GB "/admin/groups/%lld/complete", g), "gb_admin", "{}", 409, "invalid_state");
    expect_post(pathf(GB "/groups/%lld/join", g), "gb_trader3", "{\"quantity\":1}", 409, "group_closed");
    json_t *c = get_ok(pathf(GB "/contributions/%lld", c3), "gb_trader3");
    cr_assert_str_eq(jstr(c, "status"), "cancelled", "the unpaid contribution is dropped at completion");
    json_decref(c);

    /* the supplier's order: scope, role, state, body */
    json_t *list = get_ok(GB "/supplier/orders?status=pending", "gb_sup1");
    cr_assert_eq(jint(list, "total"), 1);
    cr_assert_eq(jint(json_array_get(json_object_get(list, "items"), 0), "id"), order);
    json_decref(list);
    list = get_ok(GB "/supplier/orders?status=pending", "gb_sup2");
    cr_assert_eq(jint(list, "total"), 0);
    json_decref(list);
    expect_post(pathf(GB "/admin/groups/%lld/mark-ready-for-collection", g), "gb_admin", "{}", 409, "invalid_state");
    expect_post(pathf(GB "/supplier/orders/%lld/accept", order), "gb_sup2", "{}", 404, "not_found");
    expect_post(pathf(GB "/supplier/orders/%lld/accept", order), "gb_staff1", "{}", 403, "forbidden");
    expect_post(pathf(GB "/supplier/orders/%lld/accept", order), "gb_sup1", "{\"notes\":\"  \"}", 400,
                "validation_failed");
    cr_assert_eq(balance(), 0);
    json_t *o = post_ok(pathf(GB "/supplier/orders/%lld/accept", order), "gb_sup1", "acc-1", 200,
                        "{\"notes\":\"in stock\"}");
    cr_assert_str_eq(jstr(o, "status"), "accepted");
    int64_t total = jint(o, "total_cents");
    cr_assert_eq(total, 6 * 2500);
    json_decref(o);
    expect_post(pathf(GB "/supplier/orders/%lld/accept", order), "gb_sup1", "{}", 409, "invalid_state");
    expect_post(pathf(GB "/supplier/orders/%lld/reject", order), "gb_sup1", "{\"reason\":\"late\"}", 409,
                "invalid_state");
    cr_assert_eq(balance(), total, "the accepted order credits the supplier");

    /* ready for collection */
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code?format=json", g), "gb_trader1"), 409, "not_ready");
    expect_post(pathf(GB "/admin/groups/%lld/mark-ready-for-collection", g), "gb_staff1", "{}", 403, "forbidden");
    expect_post(pathf(GB "/admin/groups/%lld/mark-ready-for-collection", g), "gb_admin", "{\"now\":1}", 400,
                "validation_failed");
    gj = post_ok(pathf(GB "/admin/groups/%lld/mark-ready-for-collection", g), "gb_admin", NULL, 200, "");
    cr_assert_str_eq(jstr(gj, "supplier_status"), "ready_for_collection");
    cr_assert_eq(jint(gj, "qr_tokens_issued"), 2);
    json_decref(gj);
    expect_post(pathf(GB "/admin/groups/%lld/mark-ready-for-collection", g), "gb_admin", "{}", 409, "invalid_state");
    o = get_ok(pathf(GB "/supplier/orders/%lld", order), "gb_staff1");
    cr_assert_str_eq(jstr(o, "admin_verification_status"), "verified");
    cr_assert(json_is_true(json_object_get(o, "qr_codes_generated")));
    json_decref(o);

    /* the trader's code */
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code?format=json", g), "gb_trader3"), 404, "not_found");
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code?format=json", g), "gb_sup1"), 403, "forbidden");
    resp_check(api_get(pathf(GB "/groups/%lld/qr-code?format=pdf", g), "gb_trader1"), 400, "validation_failed");
    json_t *qr = get_ok(pathf(GB "/groups/%lld/qr-code?format=json", g), "gb_trader1");
    char token[65];
    snprintf(token, sizeof token, "%s", jstr(qr, "token"));
    cr_assert_eq(strlen(token), 64);
    cr_assert_eq(jint(qr, "contribution_id"), c1);
    json_decref(qr);

    /* the counter: wrong role, invalid body, other supplier, then once */
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
    expect_post(GB "/admin/qr/verify", "gb_trader1", body, 403, "forbidden");
    expect_post(GB "/admin/qr/verify", "gb_staff1", "{\"code\":\"x\"}", 400, "validation_failed");
    expect_post(GB "/admin/qr/verify", "gb_sup2", body, 404, "not_found");
    json_t *v = post_ok(GB "/admin/qr/verify", "gb_staff1", NULL, 200, body);
    cr_assert_eq(jint(v, "contribution_id"), c1);
    cr_assert_str_eq(jstr(v, "trader_username"), "gb_trader1");
    cr_assert_eq(jint(v, "quantity"), 3);
    cr_assert(json_is_true(json_object_get(v, "is_collected")));
    json_decref(v);
    expect_post(GB "/admin/qr/verify", "gb_staff1", body, 409, "already_collected");
    c = get_ok(pathf(GB "/contributions/%lld", c1), "gb_trader1");
    cr_assert(json_is_true(json_object_get(c, "is_collected")));
    json_decref(c);
    ledger_balanced();
    cr_assert_eq(balance(), total);
}

/* ------------------------------------------------------ reject -> refund */

GbTest(groupbuy_flow, job_completes_supplier_rejects_everyone_refunded)
{
    int64_t g = create_group(2, 20);
    int64_t c1 = join(g, "gb_trader1", 10, NULL), c2 = join(g, "gb_trader2", 10, NULL);
    int64_t c3 = join(g, "gb_trader3", 4, NULL);
    pay(c1, "gb_trader1", "p1");
    pay(c2, "gb_trader2", "p2");

    /* the deadline passes; the hourly job completes the group */
    char *result = NULL;
    cr_assert_eq(jobs_run(test_db(), "groupbuy.auto_complete", &result), 0);
    cr_assert(strstr(result, "deadline not reached"), "%s", result);
    free(result);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_groups SET deadline = $2 WHERE id = $1", DB_I(g),
                         DB_S(time_in(-5))), 1);
    cr_assert_eq(jobs_run(test_db(), "groupbuy.auto_complete", &result), 0);
    cr_assert(strstr(result, "completed 1"), "%s", result);
    free(result);
    json_t *gj = group(g);
    cr_assert_str_eq(jstr(gj, "status"), "completed");
    int64_t order = jint(json_object_get(gj, "order"), "id");
    json_decref(gj);
    int64_t before = balance();
    cr_assert_eq(before, 0);

    /* reject: body, role, scope */
    expect_post(pathf(GB "/supplier/orders/%lld/reject", order), "gb_sup1", "{}", 400, "validation_failed");
    expect_post(pathf(GB "/supplier/orders/%lld/reject", order), "gb_sup1", "{\"reason\":\"   \"}", 400,
                "validation_failed");
    expect_post(pathf(GB "/supplier/orders/%lld/reject", order), "gb_staff1", "{\"reason\":\"no stock\"}", 403,
                "forbidden");
    expect_post(pathf(GB "/supplier/orders/%lld/reject", order), "gb_sup2", "{\"reason\":\"no stock\"}", 404,
                "not_found");
    expect_post(pathf(GB "/supplier/orders/%lld/reject", order), "gb_admin", "{\"reason\":\"no stock\"}", 403,
                "forbidden");
    json_t *o = post_ok(pathf(GB "/supplier/orders/%lld/reject", order), "gb_sup1", "rej-1", 200,
                        "{\"reason\":\"Harvest failed: no beans this month\"}");
    cr_assert_str_eq(jstr(o, "status"), "rejected");
    json_t *refunds = json_object_get(o, "refunds");
    cr_assert_eq(jint(refunds, "requested"), 2);
    cr_assert_eq(jint(refunds, "refunded"), 2);
    cr_assert_eq(jint(refunds, "failed"), 0);
    json_decref(o);

    /* the group is cancelled, every paid contribution refunded */
    gj = group(g);
    cr_assert_str_eq(jstr(gj, "status"), "cancelled");
    cr_assert_str_eq(jstr(gj, "supplier_status"), "supplier_rejected");
    cr_assert_eq(jint(gj, "quantity_committed"), 0);
    json_decref(gj);
    json_t *list = get_ok(pathf(GB "/contributions?group_id=%lld", g), "gb_admin");
    cr_assert_eq(jint(list, "total"), 3);
    size_t i;
    json_t *c;
    json_array_foreach (json_object_get(list, "items"), i, c) {
        if (jint(c, "id") == c3) {
            cr_assert_str_eq(jstr(c, "status"), "cancelled");
            cr_assert(json_is_null(json_object_get(c, "refund_status")));
        } else {
            cr_assert_str_eq(jstr(c, "refund_status"), "refunded", "contribution %lld", (long long)jint(c, "id"));
        }
    }
    json_decref(list);
    list = get_ok(pathf(GB "/admin/refunds?group_id=%lld", g), "gb_admin");
    cr_assert_eq(jint(list, "total"), 2);
    json_array_foreach (json_object_get(list, "items"), i, c) {
        cr_assert_str_eq(jstr(c, "status"), "refunded");
        cr_assert_str_eq(jstr(c, "provider"), "sandbox");
        cr_assert(jstr(c, "provider_ref"));
        cr_assert_eq(jint(c, "amount_cents"), 10 * 1500);
    }
    json_decref(list);
    resp_check(api_get(pathf(GB "/admin/refunds?group_id=%lld", g), "gb_sup1"), 403, "forbidden");
    json_t *l = get_ok(GB "/admin/ledger", "gb_admin");
    cr_assert(json_is_true(json_object_get(l, "balanced")));
    cr_assert_eq(jint(l, "refunded_cents"), 2 * 10 * 1500);
    json_decref(l);
    cr_assert_eq(balance(), before, "a rejected order never touches the supplier's balance");

    /* nothing more happens to a rejected group, and nothing is refunded twice */
    expect_post(pathf(GB "/supplier/orders/%lld/accept", order), "gb_sup1", "{}", 409, "invalid_state");
    expect_post(pathf(GB "/admin/groups/%lld/mark-ready-for-collection", g), "gb_admin", "{}", 409, "invalid_state");
    expect_post(pathf(GB "/contributions/%lld/pay", c3), "gb_trader3", "{}", 409, NULL);
    json_t *again = post_ok(pathf(GB "/admin/groups/%lld/process-refunds", g), "gb_admin", NULL, 200,
                            "{\"reason\":\"check\"}");
    cr_assert_eq(jint(again, "requested"), 0);
    cr_assert_eq(jint(again, "refunded"), 0);
    json_decref(again);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_refunds WHERE group_id = $1", g), 2);
    ledger_balanced();
}
