/* The groupbuy authorization matrix: every route × {anonymous, gb_nobody,
 * gb_trader1, gb_sup1, gb_sup2 (out of scope), gb_staff1, gb_staff2 (out of
 * scope), gb_admin}; rows on another supplier's target say `.out = true`.
 *
 * Callers without the route's permission get the route table's 401/403.
 * Callers with it get the handler's answer: 400 for an empty body (they
 * passed authorization), 404/403 outside their scope (another supplier's
 * order or code, another trader's contribution), 409 in a wrong state, 2xx
 * when in scope. Unauthorised callers never get 2xx. The last test checks
 * with authz_complete() that every route of the table has a row for every
 * caller.
 *
 * The world (ids are stable on a fresh database):
 *   group 1  open, supplier 1 (product 1, moq 10): trader1 paid c1 (2)
 *   group 2  completed early, order 1 pending, supplier 1 (product 2): trader1 paid c2 (20)
 *   group 3  ready for collection, order 2 accepted, supplier 1 (product 1): trader1 paid c3 (5)
 *   group 4  completed early, order 3 pending, supplier 2 (product 3): trader2 paid c4 (5) */
#include "support/fixture.h"
#include "apps/groupbuy/groupbuy.h"

static void world(void)
{
    struct db *db = test_db();
    char why[128];
    int issued;
    int64_t admin = test_user_id("gb_admin");
    int64_t g1 = gb_group(1, 10, 60), g2 = gb_group(2, 20, 60), g3 = gb_group(1, 5, 60), g4 = gb_group(3, 5, 60);
    cr_assert_eq(g1 + g2 + g3 + g4, 1 + 2 + 3 + 4);
    gb_paid(g1, "gb_trader1", 2);
    gb_paid(g2, "gb_trader1", 20);
    gb_paid(g3, "gb_trader1", 5);
    gb_paid(g4, "gb_trader2", 5);
    cr_assert_eq(groupbuy_group_complete(db, g2, admin, true, why, sizeof why), 1, "%s", why);
    cr_assert_eq(groupbuy_group_complete(db, g3, admin, true, why, sizeof why), 1, "%s", why);
    cr_assert_eq(groupbuy_group_complete(db, g4, admin, true, why, sizeof why), 1, "%s", why);
    cr_assert_eq(test_scalar("SELECT id FROM groupbuy_supplier_orders WHERE group_id = $1", g3), 2);
    cr_assert_eq(groupbuy_order_accept(db, 2, test_user_id("gb_sup1"), NULL), 1);
    cr_assert_eq(groupbuy_mark_ready(db, g3, admin, &issued), 1);
    cr_assert_eq(issued, 1);
}

static void start(void)
{
    gb_start();
    world();
}

TestSuite(groupbuy_authz, .init = start, .fini = gb_stop);

#define ALL_BUT_ADMIN(m, p, code)                                                                            \
    {m, GB p, "gb_nobody", code}, {m, GB p, "gb_trader1", code}, {m, GB p, "gb_sup1", code},                 \
        {m, GB p, "gb_sup2", code, .out = true}, {m, GB p, "gb_staff1", code},                              \
        {m, GB p, "gb_staff2", code, .out = true}

/* ---------------------------------------------------------------- catalog */

static const struct authz_case catalog_cases[] = {
    {"GET", GB "/suppliers", NULL, 401}, {"GET", GB "/suppliers", "gb_nobody", 403},
    {"GET", GB "/suppliers", "gb_trader1", 200}, {"GET", GB "/suppliers", "gb_sup1", 200},
    {"GET", GB "/suppliers", "gb_sup2", 200, .out = true}, {"GET", GB "/suppliers", "gb_staff1", 200},
    {"GET", GB "/suppliers", "gb_admin", 200},
    {"POST", GB "/suppliers", NULL, 401}, ALL_BUT_ADMIN("POST", "/suppliers", 403),
    {"POST", GB "/suppliers", "gb_admin", 400},

    {"GET", GB "/products", NULL, 401}, {"GET", GB "/products", "gb_nobody", 403},
    {"GET", GB "/products", "gb_trader1", 200}, {"GET", GB "/products", "gb_sup1", 200},
    {"GET", GB "/products", "gb_sup2", 200, .out = true}, {"GET", GB "/products", "gb_staff1", 200},
    {"GET", GB "/products", "gb_admin", 200},
    {"GET", GB "/products/1", NULL, 401}, {"GET", GB "/products/1", "gb_nobody", 403},
    {"GET", GB "/products/1", "gb_trader1", 200}, {"GET", GB "/products/1", "gb_sup2", 200, .out = true},
    {"GET", GB "/products/1", "gb_staff1", 200}, {"GET", GB "/products/1", "gb_admin", 200},
    {"GET", GB "/products/99", "gb_trader1", 404},

    {"POST", GB "/products", NULL, 401}, {"POST", GB "/products", "gb_nobody", 403},
    {"POST", GB "/products", "gb_trader1", 403}, {"POST", GB "/products", "gb_sup1", 400},
    {"POST", GB "/products", "gb_sup2", 400, .out = true}, {"POST", GB "/products", "gb_staff1", 403},
    {"POST", GB "/products", "gb_admin", 400},
#define NEW_PRODUCT(s) \
    "{\"supplier_id\":" #s ",\"name\":\"Millet 25kg\",\"unit\":\"bag\",\"unit_price_cents\":2000," \
    "\"bulk_price_cents\":1700,\"moq\":10}"
    {"POST", GB "/products", "gb_sup2", 403, NEW_PRODUCT(1), .out = true},
    {"POST", GB "/products", "gb_staff1", 403, NEW_PRODUCT(1)},
    {"POST", GB "/products", "gb_sup1", 201, NEW_PRODUCT(1)},
    {"POST", GB "/products", "gb_admin", 201, NEW_PRODUCT(2)},

    {"PATCH", GB "/products/1", NULL, 401}, {"PATCH", GB "/products/1", "gb_nobody", 403},
    {"PATCH", GB "/products/1", "gb_trader1", 403}, {"PATCH", GB "/products/1", "gb_staff1", 403},
    {"PATCH", GB "/products/1", "gb_sup2", 403, .out = true}, {"PATCH", GB "/products/3", "gb_sup1", 403},
    {"PATCH", GB "/products/1", "gb_sup1", 200}, {"PATCH", GB "/products/3", "gb_sup2", 200},
    {"PATCH", GB "/products/1", "gb_admin", 200}, {"PATCH", GB "/products/99", "gb_admin", 404},
    {"PATCH", GB "/products/1", "gb_sup2", 403, "{\"unit_price_cents\":1}", .out = true},
    {0},
};

GbTest(groupbuy_authz, suppliers_and_products)
{
    authz_run(catalog_cases);
}

/* ---------------------------------------------------------- groups, joins */

static const struct authz_case groups_cases[] = {
    {"GET", GB "/groups", NULL, 401}, {"GET", GB "/groups", "gb_nobody", 403},
    {"GET", GB "/groups", "gb_trader1", 200}, {"GET", GB "/groups", "gb_sup1", 200},
    {"GET", GB "/groups", "gb_sup2", 200, .out = true}, {"GET", GB "/groups", "gb_staff1", 200},
    {"GET", GB "/groups", "gb_admin", 200},
    {"GET", GB "/groups/1", NULL, 401}, {"GET", GB "/groups/1", "gb_nobody", 403},
    {"GET", GB "/groups/1", "gb_trader1", 200}, {"GET", GB "/groups/1", "gb_sup2", 200, .out = true},
    {"GET", GB "/groups/1", "gb_staff1", 200}, {"GET", GB "/groups/1", "gb_admin", 200},
    {"GET", GB "/groups/99", "gb_trader1", 404},

    {"POST", GB "/groups", NULL, 401}, {"POST", GB "/groups", "gb_nobody", 403},
    {"POST", GB "/groups", "gb_trader1", 403}, {"POST", GB "/groups", "gb_staff1", 403},
    {"POST", GB "/groups", "gb_sup1", 400}, {"POST", GB "/groups", "gb_sup2", 400, .out = true},
    {"POST", GB "/groups", "gb_admin", 400},

    {"POST", GB "/groups/1/join", NULL, 401}, {"POST", GB "/groups/1/join", "gb_nobody", 403},
    {"POST", GB "/groups/1/join", "gb_trader1", 400}, {"POST", GB "/groups/1/join", "gb_sup1", 403},
    {"POST", GB "/groups/1/join", "gb_sup2", 403, .out = true}, {"POST", GB "/groups/1/join", "gb_staff1", 403},
    {"POST", GB "/groups/1/join", "gb_admin", 403},
    {"POST", GB "/groups/2/join", "gb_trader1", 409, "{\"quantity\":2}"},
    {"POST", GB "/groups/99/join", "gb_trader1", 404, "{\"quantity\":2}"},
    {"POST", GB "/groups/1/join", "gb_admin", 403, "{\"quantity\":2}"},
    {"POST", GB "/groups/1/join", "gb_trader2", 201, "{\"quantity\":2}"},

    {"GET", GB "/contributions", NULL, 401}, {"GET", GB "/contributions", "gb_nobody", 403},
    {"GET", GB "/contributions", "gb_trader1", 200}, {"GET", GB "/contributions", "gb_sup1", 403},
    {"GET", GB "/contributions", "gb_sup2", 403, .out = true}, {"GET", GB "/contributions", "gb_staff1", 403},
    {"GET", GB "/contributions", "gb_admin", 200},
    {"GET", GB "/contributions/1", NULL, 401}, {"GET", GB "/contributions/1", "gb_nobody", 403},
    {"GET", GB "/contributions/1", "gb_trader1", 200}, {"GET", GB "/contributions/1", "gb_trader2", 404},
    {"GET", GB "/contributions/1", "gb_sup1", 403}, {"GET", GB "/contributions/1", "gb_staff1", 403},
    {"GET", GB "/contributions/1", "gb_admin", 200},

    {"POST", GB "/contributions/1/pay", NULL, 401}, {"POST", GB "/contributions/1/pay", "gb_nobody", 403},
    {"POST", GB "/contributions/1/pay", "gb_trader1", 409}, {"POST", GB "/contributions/1/pay", "gb_trader2", 404},
    {"POST", GB "/contributions/1/pay", "gb_sup1", 403}, {"POST", GB "/contributions/1/pay", "gb_sup2", 403, .out = true},
    {"POST", GB "/contributions/1/pay", "gb_staff1", 403}, {"POST", GB "/contributions/1/pay", "gb_admin", 403},

    /* public, authenticated by signature only */
    {"POST", GB "/payments/webhook/sandbox", NULL, 401}, {"POST", GB "/payments/webhook/sandbox", "gb_admin", 401},
    {"POST", GB "/payments/webhook/sandbox", "gb_trader1", 401}, {"POST", GB "/payments/webhook/nope", NULL, 404},
    {0},
};

GbTest(groupbuy_authz, groups_contributions_payments)
{
    authz_run(groups_cases);
    char body[300];
    snprintf(body, sizeof body, "{\"product_id\":1,\"moq\":10,\"deadline\":\"%s\",\"pickup_location\":\"Gate 2\"}",
             time_in(24 * 60));
    const struct authz_case scoped[] = {
        {"POST", GB "/groups", "gb_sup2", 403, body, true}, {"POST", GB "/groups", "gb_staff1", 403, body},
        {"POST", GB "/groups", "gb_trader1", 403, body}, {"POST", GB "/groups", "gb_sup1", 201, body},
        {"POST", GB "/groups", "gb_admin", 201, body}, {0},
    };
    authz_run(scoped);
}

/* ---------------------------------------------------------------- orders */

static const struct authz_case orders_cases[] = {
    {"POST", GB "/admin/groups/1/complete", NULL, 401}, ALL_BUT_ADMIN("POST", "/admin/groups/1/complete", 403),
    {"POST", GB "/admin/groups/1/complete", "gb_admin", 409},
    {"POST", GB "/admin/groups/99/complete", "gb_admin", 404},

    {"GET", GB "/supplier/orders", NULL, 401}, {"GET", GB "/supplier/orders", "gb_nobody", 403},
    {"GET", GB "/supplier/orders", "gb_trader1", 403}, {"GET", GB "/supplier/orders", "gb_sup1", 200},
    {"GET", GB "/supplier/orders", "gb_sup2", 200, .out = true}, {"GET", GB "/supplier/orders", "gb_staff1", 200},
    {"GET", GB "/supplier/orders", "gb_admin", 200},
    {"GET", GB "/supplier/orders/1", NULL, 401}, {"GET", GB "/supplier/orders/1", "gb_nobody", 403},
    {"GET", GB "/supplier/orders/1", "gb_trader1", 403}, {"GET", GB "/supplier/orders/1", "gb_sup1", 200},
    {"GET", GB "/supplier/orders/1", "gb_sup2", 404, .out = true}, {"GET", GB "/supplier/orders/1", "gb_staff1", 200},
    {"GET", GB "/supplier/orders/1", "gb_admin", 200}, {"GET", GB "/supplier/orders/3", "gb_sup1", 404},
    {"GET", GB "/supplier/orders/3", "gb_sup2", 200},

    {"POST", GB "/supplier/orders/1/reject", NULL, 401}, {"POST", GB "/supplier/orders/1/reject", "gb_nobody", 403},
    {"POST", GB "/supplier/orders/1/reject", "gb_trader1", 403},
    {"POST", GB "/supplier/orders/1/reject", "gb_staff1", 403},
    {"POST", GB "/supplier/orders/1/reject", "gb_admin", 403},
    {"POST", GB "/supplier/orders/1/reject", "gb_sup1", 400},
    {"POST", GB "/supplier/orders/1/reject", "gb_sup2", 400, .out = true},
    {"POST", GB "/supplier/orders/1/reject", "gb_sup2", 404, "{\"reason\":\"no stock\"}", .out = true},
    {"POST", GB "/supplier/orders/2/reject", "gb_sup1", 409, "{\"reason\":\"no stock\"}"},

    {"POST", GB "/supplier/orders/1/accept", NULL, 401}, {"POST", GB "/supplier/orders/1/accept", "gb_nobody", 403},
    {"POST", GB "/supplier/orders/1/accept", "gb_trader1", 403},
    {"POST", GB "/supplier/orders/1/accept", "gb_staff1", 403},
    {"POST", GB "/supplier/orders/1/accept", "gb_admin", 403},
    {"POST", GB "/supplier/orders/1/accept", "gb_sup2", 404, .out = true},
    {"POST", GB "/supplier/orders/3/accept", "gb_sup1", 404},
    {"POST", GB "/supplier/orders/2/accept", "gb_sup1", 409},
    {"POST", GB "/supplier/orders/1/accept", "gb_sup1", 200},
    {"POST", GB "/supplier/orders/3/reject", "gb_sup2", 200, "{\"reason\":\"out of palm oil\"}"},
    {0},
};

GbTest(groupbuy_authz, completion_and_orders)
{
    authz_run(orders_cases);
}

/* ---------------------------------------------------------------- pickup */

static const struct authz_case pickup_cases[] = {
    {"POST", GB "/admin/groups/1/mark-ready-for-collection", NULL, 401},
    ALL_BUT_ADMIN("POST", "/admin/groups/1/mark-ready-for-collection", 403),
    {"POST", GB "/admin/groups/1/mark-ready-for-collection", "gb_admin", 409},
    {"POST", GB "/admin/groups/2/mark-ready-for-collection", "gb_admin", 409},
    {"POST", GB "/admin/groups/99/mark-ready-for-collection", "gb_admin", 404},
    {"POST", GB "/admin/groups/1/mark-ready-for-collection", "gb_admin", 400, "{\"x\":1}"},

    {"GET", GB "/groups/3/qr-code", NULL, 401}, {"GET", GB "/groups/3/qr-code", "gb_nobody", 403},
    {"GET", GB "/groups/3/qr-code", "gb_trader1", 200}, {"GET", GB "/groups/3/qr-code", "gb_trader2", 404},
    {"GET", GB "/groups/3/qr-code", "gb_sup1", 403}, {"GET", GB "/groups/3/qr-code", "gb_sup2", 403, .out = true},
    {"GET", GB "/groups/3/qr-code", "gb_staff1", 403}, {"GET", GB "/groups/3/qr-code", "gb_admin", 403},
    {"GET", GB "/groups/1/qr-code", "gb_trader1", 409},

    {"POST", GB "/admin/qr/verify", NULL, 401}, {"POST", GB "/admin/qr/verify", "gb_nobody", 403},
    {"POST", GB "/admin/qr/verify", "gb_trader1", 403}, {"POST", GB "/admin/qr/verify", "gb_sup1", 400},
    {"POST", GB "/admin/qr/verify", "gb_sup2", 400, .out = true}, {"POST", GB "/admin/qr/verify", "gb_staff1", 400},
    {"POST", GB "/admin/qr/verify", "gb_admin", 400},
    {"POST", GB "/admin/qr/verify", "gb_staff1", 404, "{\"token\":\"forged\"}"},
    {0},
};

GbTest(groupbuy_authz, pickup)
{
    authz_run(pickup_cases);
    struct resp *r = api_get(GB "/groups/3/qr-code?format=json", "gb_trader1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    char body[128];
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", jstr(r->json, "token"));
    resp_free(r);
    const struct authz_case scan[] = {
        {"POST", GB "/admin/qr/verify", NULL, 401, body}, {"POST", GB "/admin/qr/verify", "gb_nobody", 403, body},
        {"POST", GB "/admin/qr/verify", "gb_trader1", 403, body},
        {"POST", GB "/admin/qr/verify", "gb_sup2", 404, body, true},
        {"POST", GB "/admin/qr/verify", "gb_staff2", 404, body, true},
        {"POST", GB "/admin/qr/verify", "gb_staff1", 200, body},
        {"POST", GB "/admin/qr/verify", "gb_sup1", 409, body},
        {"POST", GB "/admin/qr/verify", "gb_admin", 409, body}, {0},
    };
    authz_run(scan);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_contributions WHERE is_collected = 1"), 1);
}

/* ----------------------------------------------------------------- money */

static const struct authz_case money_cases[] = {
    {"POST", GB "/admin/groups/2/process-refunds", NULL, 401},
    ALL_BUT_ADMIN("POST", "/admin/groups/2/process-refunds", 403),
    {"POST", GB "/admin/groups/2/process-refunds", "gb_admin", 400},
    {"POST", GB "/admin/groups/1/process-refunds", "gb_admin", 409, "{\"reason\":\"recall\"}"},
    {"POST", GB "/admin/groups/99/process-refunds", "gb_admin", 404, "{\"reason\":\"recall\"}"},
    {"POST", GB "/admin/groups/2/process-refunds", "gb_sup1", 403, "{\"reason\":\"recall\"}"},

    {"GET", GB "/admin/refunds", NULL, 401}, ALL_BUT_ADMIN("GET", "/admin/refunds", 403),
    {"GET", GB "/admin/refunds", "gb_admin", 200},

    {"GET", GB "/supplier/balance", NULL, 401}, {"GET", GB "/supplier/balance", "gb_nobody", 403},
    {"GET", GB "/supplier/balance", "gb_trader1", 403}, {"GET", GB "/supplier/balance", "gb_staff1", 403},
    {"GET", GB "/supplier/balance", "gb_sup1", 200}, {"GET", GB "/supplier/balance", "gb_sup2", 200, .out = true},
    {"GET", GB "/supplier/balance", "gb_admin", 400},
    {"GET", GB "/supplier/balance?supplier_id=1", "gb_sup2", 403, .out = true},
    {"GET", GB "/supplier/balance?supplier_id=1", "gb_sup1", 200},
    {"GET", GB "/supplier/balance?supplier_id=1", "gb_admin", 200},

    {"GET", GB "/admin/ledger", NULL, 401}, ALL_BUT_ADMIN("GET", "/admin/ledger", 403),
    {"GET", GB "/admin/ledger", "gb_admin", 200},
    {"POST", GB "/admin/groups/2/process-refunds", "gb_admin", 200, "{\"reason\":\"recall\"}"},
    {0},
};

GbTest(groupbuy_authz, refunds_balance_ledger)
{
    authz_run(money_cases);
}

/* ------------------------------------------------------------ outsiders */

/* gb_staff2 (supplier_staff of supplier 2) on supplier 1's rows, and the
 * other cells the tables above leave open. */
static const struct authz_case outsider_cases[] = {
    {"GET", GB "/suppliers", "gb_staff2", 200, .out = true},
    {"GET", GB "/products", "gb_staff2", 200, .out = true},
    {"GET", GB "/products/1", "gb_sup1", 200},
    {"GET", GB "/products/1", "gb_staff2", 200, .out = true},
    {"POST", GB "/products", "gb_staff2", 403, .out = true},
    {"PATCH", GB "/products/1", "gb_staff2", 403, .out = true},
    {"POST", GB "/groups", "gb_staff2", 403, .out = true},
    {"GET", GB "/groups", "gb_staff2", 200, .out = true},
    {"GET", GB "/groups/1", "gb_sup1", 200},
    {"GET", GB "/groups/1", "gb_staff2", 200, .out = true},
    {"POST", GB "/groups/1/join", "gb_staff2", 403, .out = true},
    {"GET", GB "/contributions", "gb_staff2", 403, .out = true},
    {"GET", GB "/contributions/1", "gb_sup2", 403, .out = true},
    {"GET", GB "/contributions/1", "gb_staff2", 403, .out = true},
    {"POST", GB "/contributions/1/pay", "gb_staff2", 403, .out = true},
    {"POST", GB "/payments/webhook/sandbox", "gb_nobody", 401},
    {"POST", GB "/payments/webhook/sandbox", "gb_sup1", 401},
    {"POST", GB "/payments/webhook/sandbox", "gb_sup2", 401, .out = true},
    {"POST", GB "/payments/webhook/sandbox", "gb_staff1", 401},
    {"POST", GB "/payments/webhook/sandbox", "gb_staff2", 401, .out = true},
    {"GET", GB "/supplier/orders", "gb_staff2", 200, .out = true},
    {"GET", GB "/supplier/orders/1", "gb_staff2", 404, .out = true},
    {"POST", GB "/supplier/orders/1/accept", "gb_staff2", 403, .out = true},
    {"POST", GB "/supplier/orders/1/reject", "gb_staff2", 403, "{\"reason\":\"no stock\"}", true},
    {"GET", GB "/groups/3/qr-code", "gb_staff2", 403, .out = true},
    {"POST", GB "/admin/qr/verify", "gb_staff2", 400, .out = true},
    {"GET", GB "/supplier/balance", "gb_staff2", 403, .out = true},
    {"GET", GB "/supplier/balance?supplier_id=1", "gb_staff2", 403, .out = true},
    {0},
};

GbTest(groupbuy_authz, outsiders)
{
    authz_run(outsider_cases);
}

/* -------------------------------------------------------------- coverage */

GbTest(groupbuy_authz, every_route_and_caller_is_in_the_matrix)
{
    static const struct authz_case *const tables[] = {catalog_cases, groups_cases, orders_cases, pickup_cases,
                                                       money_cases, outsider_cases, NULL};
    authz_complete("groupbuy", tables);
}
