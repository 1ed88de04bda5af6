/* Group buys over HTTP: create by the product's supplier or an admin (price
 * snapshot, defaults, audit and event), other suppliers/staff/traders refused,
 * invalid bodies (deadline past, malformed, too far; moq; limits) changing
 * nothing, an inactive product, list filters and order, and the progress
 * fields: only paid contributions without a refund or cancellation count. */
#include "support/fixture.h"
#include "apps/groupbuy/groupbuy.h"
#include <stdlib.h>
#include <string.h>

TestSuite(groupbuy_groups, .init = gb_start, .fini = gb_stop);

static struct resp *create(const char *as, int64_t product, int moq, const char *deadline, const char *extra)
{
    return api_post(GB "/groups", as, NULL,
                   "{\"product_id\":%lld,\"moq\":%d,\"deadline\":\"%s\",\"pickup_location\":\"Stall 12, Kano market\"%s}",
                   (long long)product, moq, deadline, extra);
}

static json_t *get_group(int64_t id)
{
    char path[64];
    snprintf(path, sizeof path, GB "/groups/%lld", (long long)id);
    struct resp *r = api_get(path, "gb_trader1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *g = json_incref(r->json);
    resp_free(r);
    return g;
}

static void expect_invalid(struct resp *r, const char *field)
{
    cr_assert_eq(r->status, 400, "%d %s", r->status, r->body);
    json_t *d = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
    cr_assert_str_eq(jstr(d, "field"), field, "%s", r->body);
    resp_free(r);
}

/* The ids of a list answer, in order, as "3,1,2". */
static const char *ids_of(const char *path)
{
    static char out[256];
    struct resp *r = api_get(path, "gb_trader2");
    cr_assert_eq(r->status, 200, "%s %s", path, r->body);
    json_t *it;
    size_t i;
    out[0] = 0;
    json_array_foreach (json_object_get(r->json, "items"), i, it)
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%lld", i ? "," : "", (long long)jint(it, "id"));
    resp_free(r);
    return out;
}

GbTest(groupbuy_groups, supplier_creates_a_group)
{
    const char *deadline = time_in(3 * 24 * 60);
    struct resp *r = create("gb_sup1", 1, 10, deadline, "");
    cr_assert_eq(r->status, 201, "%s", r->body);
    json_t *g = r->json;
    int64_t id = jint(g, "id");
    cr_assert_str_eq(jstr(g, "status"), "open");
    cr_assert_str_eq(jstr(g, "deadline"), deadline);
    cr_assert_str_eq(jstr(g, "pickup_location"), "Stall 12, Kano market");
    cr_assert_eq(jint(g, "unit_price_cents"), 2500, "the bulk price is the group's price");
    cr_assert_str_eq(jstr(g, "currency"), "USD");
    cr_assert_eq(jint(g, "moq"), 10);
    cr_assert_eq(jint(g, "target_quantity"), 10, "target defaults to the moq");
    cr_assert_eq(jint(g, "max_per_trader"), 5, "the product's max by default");
    cr_assert_eq(jint(g, "min_per_trader"), 1);
    cr_assert_eq(jint(g, "supplier_id"), 1);
    cr_assert_eq(jint(g, "creator_id"), test_user_id("gb_sup1"));
    json_t *p = json_object_get(g, "product");
    cr_assert_eq(jint(p, "id"), 1);
    cr_assert_str_eq(jstr(p, "name"), "Rice 50kg");
    cr_assert_str_eq(jstr(p, "unit"), "bag");
    cr_assert_eq(jint(p, "unit_price_cents"), 3000);
    cr_assert_eq(jint(p, "bulk_price_cents"), 2500);
    cr_assert_eq(jint(g, "quantity_committed"), 0);
    cr_assert_eq(jint(g, "percent_to_moq"), 0);
    cr_assert_eq(jint(g, "contributors"), 0);
    int64_t secs = jint(g, "seconds_left");
    cr_assert(secs > 3 * 86400 - 120 && secs <= 3 * 86400, "%lld", (long long)secs);
    const char *left = jstr(g, "time_left");
    cr_assert(!strncmp(left, "2d 23h 5", 8) || !strcmp(left, "3d 00h 00m"), "%s", left);
    cr_assert(json_is_null(json_object_get(g, "order")));
    cr_assert(json_is_null(json_object_get(g, "supplier_status")));
    cr_assert(json_is_null(json_object_get(g, "completed_at")));
    resp_free(r);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.group.created' AND target_id = "
                              "%lld AND CAST(json_extract(summary, '$.unit_price_cents') AS INTEGER) = 2500", (long long)id);
    cr_assert_eq(test_count(sql), 1);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM outbox WHERE topic = 'groupbuy.group.%lld' AND type = "
                              "'group.created'", (long long)id);
    cr_assert_eq(test_count(sql), 1);

    /* a later price change does not touch the group */
    char *tok = test_token("gb_sup1");
    struct resp *pr = api("PATCH", GB "/products/1", tok, "{\"bulk_price_cents\":2000}");
    free(tok);
    cr_assert_eq(pr->status, 200, "%s", pr->body);
    resp_free(pr);
    g = get_group(id);
    cr_assert_eq(jint(g, "unit_price_cents"), 2500);
    cr_assert_eq(jint(json_object_get(g, "product"), "bulk_price_cents"), 2000);
    json_decref(g);
}

GbTest(groupbuy_groups, admin_creates_with_limits)
{
    struct resp *r = create("gb_admin", 3, 6, time_in(90), ",\"max_per_trader\":2,\"target_quantity\":9");
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_eq(jint(r->json, "supplier_id"), 2);
    cr_assert_eq(jint(r->json, "max_per_trader"), 2);
    cr_assert_eq(jint(r->json, "target_quantity"), 9);
    cr_assert_eq(jint(r->json, "unit_price_cents"), 3500);
    resp_free(r);
    /* product 2 has no max: the group may have none, or set one */
    r = create("gb_sup1", 2, 20, time_in(90), "");
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert(json_is_null(json_object_get(r->json, "max_per_trader")));
    cr_assert_eq(jint(r->json, "min_per_trader"), 2);
    resp_free(r);
    r = create("gb_sup1", 2, 20, time_in(90), ",\"max_per_trader\":40");
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_eq(jint(r->json, "max_per_trader"), 40);
    resp_free(r);
}

GbTest(groupbuy_groups, roles_and_scope)
{
    const char *deadline = time_in(120);
    resp_check(create("gb_sup2", 1, 10, deadline, ""), 403, "forbidden");
    resp_check(create("gb_sup1", 3, 10, deadline, ""), 403, "forbidden");
    resp_check(create("gb_staff1", 1, 10, deadline, ""), 403, "forbidden");
    resp_check(create("gb_trader1", 1, 10, deadline, ""), 403, "forbidden");
    resp_check(create(NULL, 1, 10, deadline, ""), 401, NULL);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_groups"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.group.created'"), 0);
    int64_t g = gb_group(1, 10, 60);
    char path[64];
    snprintf(path, sizeof path, GB "/groups/%lld", (long long)g);
    resp_check(api_get(path, "gb_sup2"), 200, NULL);
    resp_check(api_get(path, "gb_staff1"), 200, NULL);
    resp_check(api_get(path, "gb_nobody"), 403, "forbidden");
    resp_check(api_get(GB "/groups/999", "gb_trader1"), 404, "not_found");
}

GbTest(groupbuy_groups, invalid_bodies_change_nothing)
{
    expect_invalid(create("gb_sup1", 1, 10, time_in(-5), ""), "deadline");
    expect_invalid(create("gb_sup1", 1, 10, "2030-01-01 10:00:00", ""), "deadline");
    expect_invalid(create("gb_sup1", 1, 10, "2030-02-30T10:00:00Z", ""), "deadline");
    expect_invalid(create("gb_sup1", 1, 10, "2030-01-01T10:00:00+01:00", ""), "deadline");
    expect_invalid(create("gb_sup1", 1, 10, "tomorrow", ""), "deadline");
    expect_invalid(create("gb_sup1", 1, 10, time_in(366 * 24 * 60), ""), "deadline");
    expect_invalid(create("gb_sup1", 1, 0, time_in(60), ""), "moq");
    expect_invalid(create("gb_sup1", 1, -3, time_in(60), ""), "moq");
    expect_invalid(create("gb_sup1", 1, 10, time_in(60), ",\"target_quantity\":9"), "target_quantity");
    expect_invalid(create("gb_sup1", 1, 10, time_in(60), ",\"max_per_trader\":6"), "max_per_trader");
    expect_invalid(create("gb_sup1", 1, 10, time_in(60), ",\"max_per_trader\":0"), "max_per_trader");
    expect_invalid(create("gb_sup1", 2, 10, time_in(60), ",\"max_per_trader\":1"), "max_per_trader");
    expect_invalid(create("gb_sup1", 1, 10, time_in(60), ",\"colour\":\"red\""), "colour");
    expect_invalid(api_post(GB "/groups", "gb_sup1", NULL, "{\"product_id\":1,\"moq\":10,\"deadline\":\"%s\","
                                                          "\"pickup_location\":\"  \"}", time_in(60)),
                   "pickup_location");
    expect_invalid(api_post(GB "/groups", "gb_sup1", NULL, "{\"product_id\":1,\"moq\":10,\"deadline\":\"%s\"}",
                           time_in(60)),
                   "pickup_location");
    resp_check(create("gb_sup1", 999, 10, time_in(60), ""), 404, "not_found");
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_products SET active = 0 WHERE id = 1"), 1);
    resp_check(create("gb_sup1", 1, 10, time_in(60), ""), 409, "product_inactive");
    resp_check(create("gb_admin", 1, 10, time_in(60), ""), 409, "product_inactive");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_groups"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE type = 'group.created'"), 0);
}

GbTest(groupbuy_groups, progress_counts_only_paid_unrefunded)
{
    int64_t g = gb_group(1, 10, 60);
    int64_t paid1 = gb_paid(g, "gb_trader1", 3);
    gb_paid(g, "gb_trader2", 2);
    gb_contribution(g, "gb_trader3", 4);                     /* unpaid: does not count */
    int64_t refunded = gb_paid(g, "gb_trader3", 1);
    int64_t cancelled = gb_paid(g, "gb_trader1", 1);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_contributions SET refund_status = 'pending' WHERE id = $1",
                         DB_I(refunded)), 1);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_contributions SET status = 'cancelled' WHERE id = $1",
                         DB_I(cancelled)), 1);
    json_t *j = get_group(g);
    cr_assert_eq(jint(j, "quantity_committed"), 5);
    cr_assert_eq(jint(j, "percent_to_moq"), 50);
    cr_assert_eq(jint(j, "contributors"), 2, "trader3's only paid part is being refunded");
    json_decref(j);

    /* floor, and over 100 */
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_groups SET moq = 3, target_quantity = 3 WHERE id = $1", DB_I(g)), 1);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_contributions SET refund_status = NULL WHERE id = $1",
                         DB_I(refunded)), 1);
    j = get_group(g);
    cr_assert_eq(jint(j, "quantity_committed"), 6);
    cr_assert_eq(jint(j, "percent_to_moq"), 200);
    cr_assert_eq(jint(j, "contributors"), 3);
    json_decref(j);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_contributions SET refund_status = 'pending' WHERE id = $1",
                         DB_I(paid1)), 1);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_groups SET moq = 9, target_quantity = 9 WHERE id = $1", DB_I(g)), 1);
    j = get_group(g);
    cr_assert_eq(jint(j, "quantity_committed"), 3);
    cr_assert_eq(jint(j, "percent_to_moq"), 33, "floor(100 * 3 / 9)");
    json_decref(j);
    /* back to a state the ledger recognises */
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_contributions SET refund_status = NULL WHERE refund_status "
                                    "IS NOT NULL"), 1);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_contributions SET status = 'active' WHERE id = $1",
                         DB_I(cancelled)), 1);
}

GbTest(groupbuy_groups, list_filters_and_closed_time)
{
    int64_t g1 = gb_group(1, 10, 60), g2 = gb_group(3, 5, 120), g3 = gb_group(1, 4, 30), g4 = gb_group(2, 20, 90);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_groups SET status = 'failed', status_reason = 'MOQ not met' "
                                    "WHERE id = $1", DB_I(g3)), 1);
    gb_set_deadline(g3, -5);
    char want[64];
    snprintf(want, sizeof want, "%lld,%lld,%lld", (long long)g2, (long long)g4, (long long)g1);
    cr_assert_str_eq(ids_of(GB "/groups?status=open"), want, "latest deadline first");
    snprintf(want, sizeof want, "%lld", (long long)g3);
    cr_assert_str_eq(ids_of(GB "/groups?status=failed"), want);
    cr_assert_str_eq(ids_of(GB "/groups?status=completed"), "");
    snprintf(want, sizeof want, "%lld,%lld", (long long)g1, (long long)g3);
    cr_assert_str_eq(ids_of(GB "/groups?product_id=1"), want);
    snprintf(want, sizeof want, "%lld", (long long)g2);
    cr_assert_str_eq(ids_of(GB "/groups?supplier_id=2"), want);
    snprintf(want, sizeof want, "%lld,%lld", (long long)g2, (long long)g4);
    cr_assert_str_eq(ids_of(GB "/groups?supplier_id=0&page_size=2"), want);
    struct resp *r = api_get(GB "/groups?page_size=2&page=2", "gb_trader1");
    cr_assert_eq(jint(r->json, "total"), 4);
    cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 2);
    resp_free(r);
    resp_check(api_get(GB "/groups?status=bogus", "gb_trader1"), 400, "validation_failed");
    resp_check(api_get(GB "/groups?page_size=101", "gb_trader1"), 400, "validation_failed");

    r = api_get(GB "/groups?status=failed", "gb_sup2");
    json_t *it = json_array_get(json_object_get(r->json, "items"), 0);
    cr_assert_eq(jint(it, "seconds_left"), 0);
    cr_assert_str_eq(jstr(it, "time_left"), "closed");
    cr_assert_str_eq(jstr(it, "status_reason"), "MOQ not met");
    resp_free(r);
}
