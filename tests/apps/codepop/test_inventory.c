/* codepop inventory: list scope, audited corrections that never go below
 * zero, the low-stock notice once per threshold crossing, hub inventory
 * scope, and the adjust/receive helpers other workflows build on. */
#include "support/fixture.h"
#include "apps/codepop/codepop.h"
#include <stdarg.h>
#include <string.h>

#define P "/api/v1/codepop"

TestSuite(inventory, .init = cp_start, .fini = srv_stop);

static int64_t item_id(int64_t store, const char *name)
{
    int64_t id = 0;
    db_int(test_db(), &id, "SELECT id FROM codepop_store_inventory WHERE store_id = $1 AND item_name = $2", DB_I(store),
           DB_S(name));
    return id;
}

static struct resp *patch(const char *as, int64_t store, int64_t item, const char *body)
{
    char path[96];
    snprintf(path, sizeof path, P "/stores/%lld/inventory/%lld", (long long)store, (long long)item);
    char *tok = test_token(as);
    struct resp *r = api("PATCH", path, tok, body);
    free(tok);
    return r;
}

static int64_t low_notices(const char *user)
{
    int64_t n = 0;
    db_int(test_db(), &n, "SELECT COUNT(*) FROM notifications WHERE kind = 'inventory.low' AND user_id = $1",
           DB_I(test_user_id(user)));
    return n;
}

static void order(int qty)
{
    struct resp *r = api_post(P "/orders", "cp_user1", NULL, "{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":%d}],"
                             "\"pickup_time\":\"%s\"}", qty, time_in(30));
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
}

Test(inventory, list_scope)
{
    const struct authz_case cases[] = {
        {"GET", P "/stores/1/inventory", NULL, 401},
        {"GET", P "/stores/1/inventory", "cp_nobody", 403},
        {"GET", P "/stores/1/inventory", "cp_user1", 403},
        {"GET", P "/stores/1/inventory", "cp_mgr1", 200},
        {"GET", P "/stores/3/inventory", "cp_mgr1", 403},
        {"GET", P "/stores/1/inventory", "cp_mgr2", 403},
        {"GET", P "/stores/1/inventory", "cp_log_c", 200},
        {"GET", P "/stores/2/inventory", "cp_log_c", 200},
        {"GET", P "/stores/3/inventory", "cp_log_c", 403},
        {"GET", P "/stores/3/inventory", "cp_log_e", 200},
        {"GET", P "/stores/1/inventory", "cp_rep_c", 403},
        {"GET", P "/stores/3/inventory", "cp_admin", 200},
        {"GET", P "/stores/9/inventory", "cp_admin", 404},
        {0},
    };
    authz_run(cases);
    cp_set_stock(1, "Cola Syrup", 10);
    struct resp *r = api_get(P "/stores/1/inventory?item_type=Syrups", "cp_mgr1");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 3);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(r->json, "items"), i, v) {
        const char *name = json_string_value(json_object_get(v, "item_name"));
        cr_assert_str_eq(json_string_value(json_object_get(v, "item_type")), "Syrups");
        cr_assert(json_integer_value(json_object_get(v, "id")) > 0);
        cr_assert_eq(json_integer_value(json_object_get(v, "threshold_level")), 10);
        cr_assert_eq(json_is_true(json_object_get(v, "low")), !strcmp(name, "Cola Syrup"), "%s", name);
    }
    resp_free(r);
    r = api_get(P "/stores/1/inventory", "cp_log_c");
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 4);
    resp_free(r);
}

Test(inventory, patch_is_audited_and_never_below_zero)
{
    int64_t cups = item_id(1, "Cups");
    struct resp *r = patch("cp_mgr1", 1, cups, "{\"quantity_delta\":-5,\"reason\":\"dropped a sleeve\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "quantity")), 495);
    resp_free(r);
    cr_assert_eq(cp_stock(1, "Cups"), 495);
    char *summary = db_text(test_db(), "SELECT summary FROM audit_log WHERE action = 'codepop.store_inventory.adjusted' AND target_id = $1",
                            DB_I(cups));
    cr_assert(summary && strstr(summary, "dropped a sleeve") && strstr(summary, "-5"), "%s", summary);
    free(summary);

    r = patch("cp_admin", 1, cups, "{\"quantity_delta\":-496,\"reason\":\"count\"}");
    cr_assert_eq(r->status, 409);
    cr_assert_str_eq(resp_error_code(r), "insufficient_stock");
    resp_free(r);
    r = patch("cp_mgr1", 1, cups, "{\"quantity_delta\":-495,\"reason\":\"count\"}");
    cr_assert_eq(r->status, 200, "exactly to zero is fine");
    resp_free(r);
    cr_assert_eq(cp_stock(1, "Cups"), 0);

    static const char *const bad[] = {
        "{\"quantity_delta\":0,\"reason\":\"x\"}", "{\"quantity_delta\":100001,\"reason\":\"x\"}",
        "{\"quantity_delta\":-100001,\"reason\":\"x\"}", "{\"quantity_delta\":5,\"reason\":\"\"}",
        "{\"quantity_delta\":5,\"reason\":\"   \"}", "{\"quantity_delta\":5}", "{\"reason\":\"x\"}",
        "{\"quantity_delta\":1.5,\"reason\":\"x\"}", "{\"quantity_delta\":5,\"reason\":\"x\",\"extra\":1}", "[]", NULL};
    for (int i = 0; bad[i]; i++) {
        r = patch("cp_mgr1", 1, cups, bad[i]);
        cr_expect_eq(r->status, 400, "%s -> %d %s", bad[i], r->status, r->body);
        resp_free(r);
    }
    char body[400];
    snprintf(body, sizeof body, "{\"quantity_delta\":5,\"reason\":\"%0201d\"}", 0);
    r = patch("cp_mgr1", 1, cups, body);
    cr_assert_eq(r->status, 400, "201 characters");
    resp_free(r);
    r = patch("cp_mgr1", 1, item_id(2, "Cups"), "{\"quantity_delta\":5,\"reason\":\"x\"}");
    cr_assert_eq(r->status, 404, "another store's item through this store");
    resp_free(r);
    r = patch("cp_mgr1", 2, item_id(2, "Cups"), "{\"quantity_delta\":5,\"reason\":\"x\"}");
    cr_assert_eq(r->status, 403);
    resp_free(r);
    r = patch("cp_log_c", 1, cups, "{\"quantity_delta\":5,\"reason\":\"x\"}");
    cr_assert_eq(r->status, 403, "logistics read, managers write");
    resp_free(r);
    r = patch("cp_user1", 1, cups, "{\"quantity_delta\":5,\"reason\":\"x\"}");
    cr_assert_eq(r->status, 403);
    resp_free(r);
    cr_assert_eq(cp_stock(1, "Cups"), 0);
    cr_assert_eq(cp_stock(2, "Cups"), 500);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.store_inventory.adjusted'"), 2);
}

Test(inventory, low_stock_once_per_crossing)
{
    cp_set_stock(1, "Cherry Syrup", 12);            /* threshold 10 */
    order(2);                                       /* 12 -> 10: crossed */
    order(1);                                       /* 10 -> 9: still low, no new notice */
    cr_assert_eq(cp_stock(1, "Cherry Syrup"), 9);
    cr_assert_eq(low_notices("cp_mgr1"), 1);
    cr_assert_eq(low_notices("cp_mgr2"), 0);
    cr_assert_eq(low_notices("cp_log_c"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE topic = 'codepop.store.1' AND type = 'INVENTORY_LOW' "
                            "AND payload LIKE '%Cherry Syrup%'"), 1);

    struct resp *r = patch("cp_mgr1", 1, item_id(1, "Cherry Syrup"), "{\"quantity_delta\":20,\"reason\":\"refill\"}");
    cr_assert_eq(r->status, 200);
    cr_assert(json_is_false(json_object_get(r->json, "low")));
    resp_free(r);
    cr_assert_eq(test_count("SELECT low_notified FROM codepop_store_inventory WHERE store_id = 1 "
                            "AND item_name = 'Cherry Syrup'"), 0, "rose above the threshold: armed again");
    order(19);                                      /* 29 -> 10: crossed again */
    cr_assert_eq(low_notices("cp_mgr1"), 2);
    order(1);
    cr_assert_eq(low_notices("cp_mgr1"), 2);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE type = 'INVENTORY_LOW'"), 2);
}

Test(inventory, cancel_above_threshold_rearms)
{
    cp_set_stock(1, "Cherry Syrup", 11);
    struct resp *r = api_post(P "/orders", "cp_user1", NULL, "{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":2}],"
                             "\"pickup_time\":\"%s\"}", time_in(30));
    cr_assert_eq(r->status, 201);
    resp_free(r);
    cr_assert_eq(low_notices("cp_mgr1"), 1);
    r = api_post(P "/orders/1/cancel", "cp_user1", NULL, "{}");
    cr_assert_eq(r->status, 200);
    resp_free(r);
    cr_assert_eq(cp_stock(1, "Cherry Syrup"), 11);
    order(2);
    cr_assert_eq(low_notices("cp_mgr1"), 2, "the cancel lifted it above the threshold");
}

Test(inventory, hub_inventory_scope)
{
    const struct authz_case cases[] = {
        {"GET", P "/hubs/1/inventory", NULL, 401},
        {"GET", P "/hubs/1/inventory", "cp_nobody", 403},
        {"GET", P "/hubs/1/inventory", "cp_user1", 403},
        {"GET", P "/hubs/1/inventory", "cp_mgr1", 403},
        {"GET", P "/hubs/1/inventory", "cp_rep_c", 403},
        {"GET", P "/hubs/1/inventory", "cp_log_c", 200},
        {"GET", P "/hubs/2/inventory", "cp_log_c", 403},
        {"GET", P "/hubs/2/inventory", "cp_log_e", 200},
        {"GET", P "/hubs/1/inventory", "cp_admin", 200},
        {"GET", P "/hubs/2/inventory", "cp_admin", 200},
        {"GET", P "/hubs/9/inventory", "cp_admin", 404},
        {0},
    };
    authz_run(cases);
    struct resp *r = api_get(P "/hubs/1/inventory?item_type=Cups", "cp_log_c");
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 1);
    json_t *item = json_array_get(json_object_get(r->json, "items"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(item, "item_name")), "Cups");
    cr_assert_eq(json_integer_value(json_object_get(item, "quantity")), 5000);
    resp_free(r);
}

Test(inventory, adjust_and_receive_helpers)
{
    struct db *db = test_db();
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(codepop_inventory_adjust(db, 1, "Cups", -501), -2);
    cr_assert_eq(codepop_inventory_adjust(db, 1, "Unobtainium", -1), -1);
    cr_assert_eq(codepop_inventory_adjust(db, 1, "Cups", -450), 0);            /* 50: at threshold */
    cr_assert_eq(codepop_inventory_receive(db, 1, "Mint Syrup", "Syrups", 40), 0);
    cr_assert_eq(codepop_inventory_receive(db, 1, "Mint Syrup", "Syrups", 2), 0);
    cr_assert_eq(codepop_inventory_receive(db, 1, "Cups", "Cups", 1), 0);      /* 51: above again */
    cr_assert_eq(db_commit(db), 0);
    cr_assert_eq(cp_stock(1, "Cups"), 51);
    cr_assert_eq(cp_stock(1, "Mint Syrup"), 42);
    cr_assert_eq(test_count("SELECT threshold_level FROM codepop_store_inventory WHERE item_name = 'Mint Syrup'"), 0);
    cr_assert_eq(test_count("SELECT low_notified FROM codepop_store_inventory WHERE store_id = 1 AND item_name = 'Cups'"), 0);
    cr_assert_eq(low_notices("cp_mgr1"), 1);
    cr_assert_eq(codepop_inventory_adjust(db, 1, "Cups", -1), -1, "outside a transaction");
}
