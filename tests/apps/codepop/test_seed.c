/* The codepop seeder, called directly on a fresh test database: the world it
 * builds, its accounts, its orders and revenue, repeatability, --clear, and
 * seeding again without --clear. */
#include "support/harness.h"
#include "apps/codepop/codepop.h"
#include <ctype.h>
#include <string.h>

TestSuite(codepop_seed, .init = srv_start, .fini = srv_stop);

static char hash[128];

/* codepop_seed() as `atrium seed codepop [--clear] --seed N --orders ORDERS
 * [--stores-per-region K]` would call it; k NULL keeps the default. */
static int seed(unsigned n, bool clear, const char *orders, const char *k)
{
    if (!hash[0]) cr_assert_eq(auth_hash_password("atrium-demo-pass", hash), 0);
    char *argv[] = {"atrium", "seed", "codepop", "--orders", (char *)orders, "--stores-per-region", (char *)k, NULL};
    struct seed_opts o = {.seed = n, .password = "atrium-demo-pass", .password_hash = hash, .clear = clear,
                          .argc = k ? 7 : 5, .argv = argv};
    return codepop_seed(test_db(), &o);
}

/* Every reference row (and seeded inventory) as one string. */
/* "2026-01-31T23:59:59Z" exactly (checked here: GLOB is SQLite's own) */
static bool rfc3339_utc(const char *s)
{
    const char *form = "dddd-dd-ddTdd:dd:ddZ";
    for (; *form; form++, s++)
        if (*form == 'd' ? !isdigit((unsigned char)*s) : *s != *form) return false;
    return !*s;
}

static char *reference_snapshot(void)
{
    return test_text("SELECT json_array("
                "(SELECT json_group_array(json_array(id, code, name)) FROM codepop_regions),"
                "(SELECT json_group_array(json_array(id, region_id, code, name, lat, lon)) FROM codepop_hubs),"
                "(SELECT json_group_array(json_array(id, name, region_id, supply_hub_id, lat, lon, address, timezone,"
                " opens_at, closes_at)) FROM codepop_stores),"
                "(SELECT json_group_array(json_array(id, store_id, serial, status)) FROM codepop_machines),"
                "(SELECT json_group_array(json_array(id, name, price_cents, complexity)) FROM codepop_drinks),"
                "(SELECT json_group_array(json_array(drink_id, item_name, amount)) FROM codepop_recipe_items),"
                "(SELECT json_group_array(json_array(id, store_id, item_name, quantity, threshold_level))"
                " FROM codepop_store_inventory),"
                "(SELECT json_group_array(json_array(id, hub_id, item_name, quantity)) FROM codepop_hub_inventory))");
}

static char *orders_snapshot(void)
{
    return test_text("SELECT json_group_array(x) FROM (SELECT json_array(o.id, o.store_id, o.total_cents, o.status, "
                "o.payment_status, o.created_at, o.pickup_time, (SELECT json_group_array(l.drink_id || 'x' || l.quantity) "
                "FROM (SELECT drink_id, quantity FROM codepop_order_lines WHERE order_id = o.id ORDER BY id) l)) AS x "
                "FROM codepop_orders o ORDER BY o.id) t");
}

Test(codepop_seed, builds_the_world)
{
    cr_assert_eq(seed(42, false, "1500", NULL), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_regions"), 5);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_regions WHERE code IN ('A', 'B', 'C', 'D', 'E')"), 5);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_hubs"), 5);
    cr_assert_eq(test_count("SELECT COUNT(DISTINCT region_id) FROM codepop_hubs"), 5);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_stores"), 25);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM (SELECT region_id FROM codepop_stores GROUP BY region_id "
                            "HAVING COUNT(*) >= 5) t"), 5);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_stores s JOIN codepop_hubs h ON h.id = s.supply_hub_id "
                            "WHERE h.region_id = s.region_id AND s.opens_at = '06:00' AND s.closes_at = '22:00' "
                            "AND abs(s.lat - h.lat) < 0.5 AND abs(s.lon - h.lon) < 0.5"), 25);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_machines"), test_count("SELECT COUNT(*) FROM codepop_stores"));
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_machines m JOIN codepop_stores s ON s.id = m.store_id "
                            "WHERE m.serial = 'CP-' || substr(CAST(100000 + s.id AS TEXT), 2)"), 25);
    cr_assert_geq(test_count("SELECT COUNT(*) FROM codepop_drinks"), 20);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_drinks d WHERE NOT EXISTS "
                            "(SELECT 1 FROM codepop_recipe_items r WHERE r.drink_id = d.id)"), 0);
    cr_assert_eq(test_count("SELECT COUNT(DISTINCT complexity) FROM codepop_drinks"), 3);
    /* the named items, by type */
    cr_assert_eq(test_count("SELECT COUNT(DISTINCT item_name) FROM codepop_store_inventory WHERE item_type = 'Syrups' "
                            "AND item_name IN ('Cherry Syrup', 'Vanilla Syrup', 'Cola Syrup', 'Lime Syrup')"), 4);
    cr_assert_eq(test_count("SELECT COUNT(DISTINCT item_name) FROM codepop_store_inventory WHERE "
                            "(item_type = 'Sodas' AND item_name = 'Club Soda') OR (item_type = 'Add-ins' AND "
                            "item_name = 'Whipped Cream') OR (item_type = 'Cups' AND item_name = 'Cups')"), 3);
    /* every store and hub stocks every item; every recipe item is stocked */
    int64_t items = test_count("SELECT COUNT(DISTINCT item_name) FROM codepop_store_inventory");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_store_inventory"), 25 * items);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_hub_inventory"), 5 * items);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_recipe_items WHERE item_name NOT IN "
                            "(SELECT item_name FROM codepop_store_inventory WHERE store_id = 1)"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_hub_inventory WHERE quantity NOT BETWEEN 1000 AND 50000"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_store_inventory WHERE quantity NOT BETWEEN 300 AND 4000 "
                            "OR threshold_level <= 0 OR threshold_level >= quantity"), 0);
    /* one audit row with the counts */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE app = 'codepop' AND action = 'codepop.demo_data.seeded' "
                            "AND CAST(json_extract(summary, '$.orders') AS INTEGER) = 1500 AND CAST(json_extract(summary, '$.stores') AS INTEGER) = 25"),
                 1);
    int64_t checked;
    cr_assert_eq(audit_verify(test_db(), &checked), 0);
}

Test(codepop_seed, accounts_with_roles_and_scopes)
{
    cr_assert_eq(seed(42, false, "100", NULL), 0);
    test_expect_role("codepop", "codepop.admin", "admin", "", 0);
    test_expect_role("codepop", "codepop.manager.1", "manager", "store", 1);
    test_expect_role("codepop", "codepop.manager.17", "manager", "store", 17);
    test_expect_role("codepop", "codepop.manager.25", "manager", "store", 25);
    int64_t region_c = 0;
    cr_assert_eq(db_int(test_db(), &region_c, "SELECT id FROM codepop_regions WHERE code = 'C'"), 1);
    test_expect_role("codepop", "codepop.logistics.C", "logistics_manager", "region", region_c);
    test_expect_role("codepop", "codepop.repair.C", "repair_staff", "region", region_c);
    test_expect_role("codepop", "codepop.logistics.A", "logistics_manager", "region", 1);
    test_expect_role("codepop", "codepop.repair.E", "repair_staff", "region", 5);
    test_expect_role("codepop", "codepop.user.1", "account_user", "", 0);
    test_expect_role("codepop", "codepop.user.20", "account_user", "", 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM user_roles WHERE app = 'codepop' AND role = 'manager'"), 25);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM user_roles WHERE app = 'codepop' AND role = 'account_user'"), 20);
    /* the demo password works */
    char *h = test_text("SELECT password_hash FROM users WHERE username = 'codepop.logistics.C'");
    cr_assert(auth_verify_password(h, "atrium-demo-pass"));
    free(h);
}

Test(codepop_seed, orders_and_revenue)
{
    cr_assert_eq(seed(42, false, "1500", NULL), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders"), 1500);
    /* ~60 days, all in the past, RFC 3339 UTC */
    int64_t span = test_count("SELECT CAST(round(julianday(MAX(created_at)) - julianday(MIN(created_at))) AS INTEGER) "
                              "FROM codepop_orders");
    cr_assert(span >= 58 && span <= 61, "span %lld days", (long long)span);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders WHERE created_at > strftime('%Y-%m-%dT%H:%M:%SZ','now') "
                            "OR pickup_time <= created_at"), 0);
    json_t *times = db_json_all(test_db(), "SELECT created_at FROM codepop_orders"), *t;
    size_t i;
    json_array_foreach (times, i, t)
        cr_assert(rfc3339_utc(jstr(t, "created_at")), "%s", jstr(t, "created_at"));
    json_decref(times);
    /* mostly picked up and paid; a few cancelled, some of them refunded */
    int64_t paid = test_count("SELECT COUNT(*) FROM codepop_orders WHERE status = 'picked_up' AND payment_status = 'paid'");
    cr_assert_gt(paid, 1500 * 90 / 100);
    cr_assert_gt(test_count("SELECT COUNT(*) FROM codepop_orders WHERE status = 'cancelled' AND payment_status = 'refunded'"), 0);
    cr_assert_gt(test_count("SELECT COUNT(*) FROM codepop_orders WHERE status = 'cancelled' AND payment_status = 'unpaid'"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders WHERE status NOT IN ('picked_up', 'cancelled')"), 0);
    /* every paid or refunded order has exactly one sale row equal to its total */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders o WHERE payment_status IN ('paid', 'refunded') AND "
                            "(SELECT COUNT(*) FROM codepop_revenue r WHERE r.order_id = o.id AND r.is_refund = 0 "
                            "AND r.amount_cents = o.total_cents AND r.store_id = o.store_id) != 1"), 0);
    /* refunds only for refunded orders, for the whole total; nothing for unpaid ones */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_revenue r JOIN codepop_orders o ON o.id = r.order_id "
                            "WHERE r.is_refund = 1 AND (o.payment_status != 'refunded' OR r.amount_cents != o.total_cents)"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_revenue WHERE is_refund = 1"),
                 test_count("SELECT COUNT(*) FROM codepop_orders WHERE payment_status = 'refunded'"));
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_revenue r JOIN codepop_orders o ON o.id = r.order_id "
                            "WHERE o.payment_status = 'unpaid'"), 0);
    /* lines: 1-3 per order, priced from the drinks, summing to the total */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders o WHERE total_cents != "
                            "(SELECT SUM(line_total_cents) FROM codepop_order_lines l WHERE l.order_id = o.id)"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM (SELECT order_id FROM codepop_order_lines GROUP BY order_id "
                            "HAVING COUNT(*) BETWEEN 1 AND 3) t"), 1500);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_order_lines l JOIN codepop_drinks d ON d.id = l.drink_id "
                            "WHERE l.unit_price_cents != d.price_cents OR l.line_total_cents != l.quantity * "
                            "d.price_cents"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders WHERE user_id NOT IN (SELECT ur.user_id FROM "
                            "user_roles ur WHERE ur.app = 'codepop' AND ur.role = 'account_user')"), 0);
    /* every store sells; weekends are busier than Tuesdays (per day) */
    cr_assert_eq(test_count("SELECT COUNT(DISTINCT store_id) FROM codepop_orders"), 25);
    cr_assert_gt(test_count("SELECT COUNT(*) * 1000 / COUNT(DISTINCT date(created_at, '-8 hours')) FROM codepop_orders "
                            "WHERE strftime('%w', created_at, '-8 hours') = '6'"),
                 test_count("SELECT COUNT(*) * 1000 / COUNT(DISTINCT date(created_at, '-8 hours')) FROM codepop_orders "
                            "WHERE strftime('%w', created_at, '-8 hours') = '2'"));
}

Test(codepop_seed, orders_within_opening_hours)
{
    cr_assert_eq(seed(5, false, "2000", NULL), 0);
    struct db_rows rows;
    int checked = 0;
    cr_assert_eq(db_query(test_db(), &rows, "SELECT s.timezone, s.opens_at, s.closes_at, o.created_at, o.pickup_time "
                                            "FROM codepop_orders o JOIN codepop_stores s ON s.id = o.store_id"), 0);
    while (db_step(&rows)) {
        const char *tz = db_col_text(&rows, 0), *open = db_col_text(&rows, 1), *close = db_col_text(&rows, 2);
        cr_expect_eq(codepop_store_open_at(tz, open, close, db_col_text(&rows, 3)), 1, "created %s in %s",
                     db_col_text(&rows, 3), tz);
        cr_expect_eq(codepop_store_open_at(tz, open, close, db_col_text(&rows, 4)), 1, "pickup %s in %s",
                     db_col_text(&rows, 4), tz);
        checked++;
    }
    db_rows_close(&rows);
    cr_assert_eq(checked, 2000);
}

Test(codepop_seed, same_seed_same_rows)
{
    cr_assert_eq(seed(7, false, "300", NULL), 0);
    char *ref1 = reference_snapshot(), *ord1 = orders_snapshot();
    cr_assert_eq(seed(7, true, "300", NULL), 0);
    char *ref2 = reference_snapshot(), *ord2 = orders_snapshot();
    cr_assert_str_eq(ref1, ref2);
    cr_assert_str_eq(ord1, ord2);
    /* the order count does not move reference ids or rows */
    cr_assert_eq(seed(7, true, "900", NULL), 0);
    char *ref3 = reference_snapshot();
    cr_assert_str_eq(ref1, ref3);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders"), 900);
    /* another seed, another world (same ids and names, other places) */
    cr_assert_eq(seed(8, true, "300", NULL), 0);
    char *ref4 = reference_snapshot();
    cr_assert_str_neq(ref1, ref4);
    cr_assert_eq(test_count("SELECT MAX(id) FROM codepop_stores"), 25);
    /* --clear left one role per account, no duplicates */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM user_roles WHERE app = 'codepop' AND role = 'manager'"), 25);
    free(ref1), free(ref2), free(ref3), free(ref4), free(ord1), free(ord2);
}

Test(codepop_seed, again_without_clear_is_a_noop)
{
    cr_assert_eq(seed(42, false, "200", NULL), 0);
    char *ref = reference_snapshot(), *ord = orders_snapshot();
    cr_assert_eq(seed(99, false, "500", NULL), 0);
    char *ref2 = reference_snapshot(), *ord2 = orders_snapshot();
    cr_assert_str_eq(ref, ref2);
    cr_assert_str_eq(ord, ord2);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders"), 200);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE app = 'codepop' AND action = 'codepop.demo_data.seeded'"), 1);
    free(ref), free(ref2), free(ord), free(ord2);
}

Test(codepop_seed, clear_removes_operational_rows)
{
    cr_assert_eq(seed(42, false, "100", NULL), 0);
    struct db *db = test_db();
    cr_assert_eq(db_exec(db, "INSERT INTO codepop_supply_requests (uuid, store_id, urgency) VALUES "
                             "('11111111-1111-4111-8111-111111111111', 3, 'HIGH')"), 1);
    cr_assert_eq(db_exec(db, "INSERT INTO codepop_supply_request_items (request_id, item_name, item_type, quantity) "
                             "VALUES (1, 'Cups', 'Cups', 10)"), 1);
    cr_assert_eq(db_exec(db, "INSERT INTO codepop_maintenance_logs (uuid, machine_id, store_id, previous_status, "
                             "new_status) VALUES ('22222222-2222-4222-8222-222222222222', 3, 3, 'normal', 'error')"), 1);
    cr_assert_eq(db_exec(db, "INSERT INTO codepop_preferences (user_id, default_store_id) VALUES (1, 4)"), 1);
    cr_assert_eq(seed(42, true, "100", NULL), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_supply_requests"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_maintenance_logs"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_preferences"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders"), 100);
    cr_assert_eq(test_count("SELECT MIN(id) FROM codepop_orders"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE app = 'codepop' AND action = 'codepop.demo_data.seeded' AND "
                            "CAST(json_extract(summary, '$.cleared') AS TEXT) IN ('1', 'true')"), 1);
}

Test(codepop_seed, stores_per_region_and_bad_flags)
{
    cr_assert_eq(seed(42, false, "abc", NULL), -1);
    cr_assert_eq(seed(42, false, "-5", NULL), -1);
    cr_assert_eq(seed(42, false, "10", "0"), -1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_regions"), 0);
    cr_assert_eq(seed(42, false, "0", "9"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_stores"), 45);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_stores WHERE region_id = 3"), 9);
    cr_assert_eq(test_count("SELECT COUNT(DISTINCT name) FROM codepop_stores"), 45);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_machines"), 45);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders"), 0);
    test_expect_role("codepop", "codepop.manager.45", "manager", "store", 45);
}
