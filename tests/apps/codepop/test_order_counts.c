/* The store order list's `total` comes from trigger-kept counts
 * (003_order_counts.sql); after creates, status changes and cancels it must
 * equal a real COUNT(*) for every status filter. */
#include "support/fixture.h"

TestSuite(order_counts, .init = cp_start, .fini = srv_stop);

static int64_t listed_total(const char *query)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/codepop/stores/1/orders%s", query);
    struct resp *r = api_get(path, "cp_mgr1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    int64_t total = json_integer_value(json_object_get(r->json, "total"));
    resp_free(r);
    return total;
}

static int64_t create(void)
{
    struct resp *r = api_post("/api/v1/codepop/orders", "cp_user1", NULL,
                             "{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":1}],\"pickup_time\":\"%s\"}",
                             time_in(60));
    cr_assert_eq(r->status, 201, "%s", r->body);
    int64_t id = json_integer_value(json_object_get(r->json, "id"));
    resp_free(r);
    return id;
}

Test(order_counts, totals_follow_the_workflow)
{
    int64_t a = create(), b = create();
    create();
    char path[96];
    snprintf(path, sizeof path, "/api/v1/codepop/orders/%lld/status", (long long)a);
    struct resp *r = api_post(path, "cp_mgr1", NULL, "{\"status\":\"preparing\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    snprintf(path, sizeof path, "/api/v1/codepop/orders/%lld/cancel", (long long)b);
    r = api_post(path, "cp_user1", NULL, "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    static const char *const statuses[] = {"pending", "preparing", "ready", "picked_up", "cancelled"};
    cr_assert_eq(listed_total(""), test_count("SELECT COUNT(*) FROM codepop_orders WHERE store_id = 1"));
    cr_assert_eq(listed_total(""), 3);
    for (int i = 0; i < 5; i++) {
        char q[64], sql[160];
        snprintf(q, sizeof q, "?status=%s", statuses[i]);
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM codepop_orders WHERE store_id = 1 AND status = '%s'", statuses[i]);
        cr_assert_eq(listed_total(q), test_count(sql), "status %s", statuses[i]);
    }
    cr_assert_eq(listed_total("?status=pending"), 1);
    cr_assert_eq(listed_total("?status=preparing"), 1);
    cr_assert_eq(listed_total("?status=cancelled"), 1);
    /* with a date range the count is computed: same answer */
    cr_assert_eq(listed_total("?from=2000-01-01"), 3);
}
