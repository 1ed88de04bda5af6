/* codepop store analytics: exact revenue totals, refunds apart, the cache
 * (miss, hit, dropped by a payment), who may read it, period validation, and
 * the parts computed from a larger history. */
#include "support/fixture.h"
#include <string.h>

#define P "/api/v1/codepop"

TestSuite(analytics, .init = cp_start, .fini = srv_stop);

static struct resp *analytics(const char *as, const char *query)
{
    char path[128];
    snprintf(path, sizeof path, P "/stores/1/analytics%s", query ? query : "");
    struct resp *r = api_get(path, as);
    return r;
}

static json_t *trends(struct resp *r) { return json_object_get(r->json, "revenue_trends"); }

/* Creates and pays an order at store 1; returns its id. */
static int64_t paid_order(const char *items)
{
    struct resp *r = api_post(P "/orders", "cp_user1", NULL, "{\"store_id\":1,\"items\":%s,\"pickup_time\":\"%s\"}", items,
                             time_in(30));
    cr_assert_eq(r->status, 201, "%s", r->body);
    int64_t id = jint(r->json, "id");
    resp_free(r);
    char path[64];
    snprintf(path, sizeof path, P "/orders/%lld/pay", (long long)id);
    r = api_post(path, "cp_user1", NULL, "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    return id;
}

static void expect_cache(struct resp *r, const char *want)
{
    const char *got = resp_header(r, "X-Cache");
    cr_assert(got && !strcmp(got, want), "X-Cache %s, want %s", got ? got : "(none)", want);
}

Test(analytics, revenue_grows_by_the_payment_and_cache_follows)
{
    paid_order("[{\"drink_id\":1,\"quantity\":1}]");
    struct resp *a = analytics("cp_mgr1", NULL);
    cr_assert_eq(a->status, 200, "%s", a->body);
    expect_cache(a, "miss");
    int64_t before = jint(trends(a), "total_revenue_cents");
    cr_assert_eq(before, 350);
    cr_assert_eq(jint(a->json, "period_days"), 30);
    cr_assert_eq(jint(a->json, "store_id"), 1);
    struct resp *b = analytics("cp_mgr1", NULL);
    expect_cache(b, "hit");
    cr_assert_str_eq(a->body, b->body);
    resp_free(a);
    resp_free(b);

    paid_order("[{\"drink_id\":2,\"quantity\":2},{\"drink_id\":3,\"quantity\":1}]");   /* 900 + 650 */
    a = analytics("cp_mgr1", NULL);
    expect_cache(a, "miss");
    cr_assert_eq(jint(trends(a), "total_revenue_cents"), before + 1550);
    cr_assert_eq(jint(trends(a), "refunds_cents"), 0);
    json_t *daily = json_object_get(trends(a), "daily");
    cr_assert_eq(json_array_size(daily), 30, "every day of the period");
    json_t *today = json_array_get(daily, 29);
    cr_assert_eq(jint(today, "revenue_cents"), 1900);
    cr_assert_eq(jint(today, "orders"), 2);
    json_t *top = json_array_get(json_object_get(a->json, "drink_popularity"), 0);
    cr_assert_eq(jint(top, "drink_id"), 2);
    cr_assert_eq(jint(top, "quantity"), 2);
    cr_assert_eq(jint(top, "revenue_cents"), 900);
    json_t *usage = json_object_get(a->json, "inventory_usage");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(usage, 0), "item_name")), "Vanilla Syrup");
    cr_assert_eq(jint(json_array_get(usage, 0), "used"), 5);
    json_t *hours = json_object_get(a->json, "peak_hours");
    cr_assert_eq(json_array_size(hours), 24);
    int64_t sum = 0;
    size_t i;
    json_t *v;
    json_array_foreach(hours, i, v) sum += jint(v, "orders");
    cr_assert_eq(sum, 2);
    json_t *next = json_object_get(json_object_get(a->json, "forecast"), "next_7_days");
    cr_assert_eq(json_array_size(next), 7);
    resp_free(a);
    a = analytics("cp_mgr1", NULL);
    expect_cache(a, "hit");
    cr_assert_eq(jint(trends(a), "total_revenue_cents"), before + 1550);
    resp_free(a);
    a = analytics("cp_mgr1", "?period_days=7");
    expect_cache(a, "miss");
    cr_assert_eq(json_array_size(json_object_get(trends(a), "daily")), 7);
    resp_free(a);
}

Test(analytics, refunds_are_apart)
{
    paid_order("[{\"drink_id\":1,\"quantity\":1}]");
    int64_t refunded = paid_order("[{\"drink_id\":3,\"quantity\":2}]");
    struct resp *a = analytics("cp_admin", NULL);
    cr_assert_eq(jint(trends(a), "total_revenue_cents"), 350 + 1300);
    resp_free(a);
    char path[64];
    snprintf(path, sizeof path, P "/orders/%lld/cancel", (long long)refunded);
    a = api_post(path, "cp_user1", NULL, "{}");
    cr_assert_eq(a->status, 200);
    resp_free(a);
    a = analytics("cp_admin", NULL);
    expect_cache(a, "miss");
    cr_assert_eq(jint(trends(a), "total_revenue_cents"), 350 + 1300, "non-refund entries only");
    cr_assert_eq(jint(trends(a), "refunds_cents"), 1300);
    json_t *pop = json_object_get(a->json, "drink_popularity");
    cr_assert_eq(json_array_size(pop), 1, "a refunded order sold nothing");
    cr_assert_eq(jint(json_array_get(pop, 0), "drink_id"), 1);
    resp_free(a);
}

Test(analytics, who_may_read)
{
    const struct authz_case cases[] = {
        {"GET", P "/stores/1/analytics", NULL, 401},
        {"GET", P "/stores/1/analytics", "cp_nobody", 403},
        {"GET", P "/stores/1/analytics", "cp_user1", 403},
        {"GET", P "/stores/1/analytics", "cp_mgr2", 403},
        {"GET", P "/stores/1/analytics", "cp_log_e", 403},
        {"GET", P "/stores/1/analytics", "cp_rep_c", 403},
        {"GET", P "/stores/1/analytics", "cp_mgr1", 200},
        {"GET", P "/stores/1/analytics", "cp_log_c", 200},
        {"GET", P "/stores/1/analytics", "cp_admin", 200},
        {"GET", P "/stores/3/analytics", "cp_log_c", 403},
        {"GET", P "/stores/9/analytics", "cp_admin", 404},
        {"GET", P "/stores/1/analytics?period_days=0", "cp_mgr1", 400},
        {"GET", P "/stores/1/analytics?period_days=366", "cp_mgr1", 400},
        {"GET", P "/stores/1/analytics?period_days=-3", "cp_mgr1", 400},
        {"GET", P "/stores/1/analytics?period_days=abc", "cp_mgr1", 400},
        {"GET", P "/stores/1/analytics?period_days=1", "cp_mgr1", 200},
        {"GET", P "/stores/1/analytics?period_days=365", "cp_mgr1", 200},
        {0},
    };
    authz_run(cases);
}

/* 60 days of history, 3 paid orders a day at store 1 and some at store 2. */
static const char *history =
    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 179) "
    "INSERT INTO codepop_orders (id, store_id, user_id, total_cents, status, payment_status, pickup_time, "
    "preparation_minutes, created_at) SELECT 1000 + i, CASE WHEN i % 7 = 0 THEN 2 ELSE 1 END, 1, 350 * (1 + i % 3), 'picked_up', 'paid', "
    "'2026-01-01T00:00:00Z', 2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || (i / 3) || ' days', "
    "'-' || (i % 5) || ' hours') FROM n;"
    "INSERT INTO codepop_order_lines (order_id, drink_id, quantity, unit_price_cents, line_total_cents) "
    "SELECT id, 1, total_cents / 350, 350, total_cents FROM codepop_orders WHERE id >= 1000;"
    "INSERT INTO codepop_revenue (store_id, order_id, amount_cents, is_refund, created_at) "
    "SELECT store_id, id, total_cents, 0, created_at FROM codepop_orders WHERE id >= 1000;";

Test(analytics, totals_are_exact_over_history)
{
    test_fixture_sql("history", history);
    int periods[] = {1, 7, 30, 365};
    for (int k = 0; k < 4; k++) {
        char q[32], sql[512];
        snprintf(q, sizeof q, "?period_days=%d", periods[k]);
        snprintf(sql, sizeof sql, "SELECT COALESCE(SUM(amount_cents), 0) FROM codepop_revenue WHERE store_id = 1 "
                 "AND is_refund = 0 AND created_at >= date('now', '-%d days') || 'T00:00:00Z'", periods[k] - 1);
        struct resp *a = analytics("cp_mgr1", q);
        cr_assert_eq(a->status, 200);
        int64_t want = test_count(sql), days = 0;
        cr_assert_eq(jint(trends(a), "total_revenue_cents"), want, "period %d", periods[k]);
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(trends(a), "daily"), i, v) days += jint(v, "revenue_cents");
        cr_assert_eq(days, want, "daily adds up, period %d", periods[k]);
        json_t *next = json_object_get(json_object_get(a->json, "forecast"), "next_7_days");
        cr_assert_eq(json_array_size(next), 7);
        if (periods[k] == 30) cr_assert_gt(jint(json_array_get(next, 0), "revenue_cents"), 0);
        resp_free(a);
    }
}
