/* fixture.c -- see fixture.h. */
#include "fixture.h"
#include <stdarg.h>
#include <string.h>

static const char *sql =
    "INSERT INTO codepop_regions (id, code, name) VALUES (1, 'C', 'Central'), (2, 'E', 'East');"
    "INSERT INTO codepop_hubs (id, region_id, code, name, lat, lon) VALUES"
    " (1, 1, 'HUB-C', 'Central Hub', 40.7500, -73.9900), (2, 2, 'HUB-E', 'East Hub', 41.8800, -87.6300);"
    "INSERT INTO codepop_stores (id, name, region_id, supply_hub_id, lat, lon, address, timezone, opens_at, closes_at) VALUES"
    " (1, 'Downtown', 1, 1, 40.7128, -74.0060, '1 Main St', 'America/New_York', '00:00', '24:00'),"
    " (2, 'Midtown', 1, 1, 40.7549, -73.9840, '2 Fifth Ave', 'America/New_York', '00:00', '24:00'),"
    " (3, 'Eastside', 2, 2, 41.8781, -87.6298, '3 Lake St', 'America/Chicago', '06:00', '22:00');"
    "INSERT INTO codepop_machines (id, store_id, serial) VALUES (1, 1, 'CP-0001'), (2, 2, 'CP-0002'), (3, 3, 'CP-0003');"
    "INSERT INTO codepop_drinks (id, name, price_cents, complexity) VALUES"
    " (1, 'Cherry Cola', 350, 'simple'), (2, 'Vanilla Dream', 450, 'medium'), (3, 'Triple Layer', 650, 'complex');"
    "INSERT INTO codepop_recipe_items (drink_id, item_name, amount) VALUES"
    " (1, 'Cola Syrup', 1), (1, 'Cherry Syrup', 1), (1, 'Cups', 1), (2, 'Vanilla Syrup', 2), (2, 'Cups', 1),"
    " (3, 'Cherry Syrup', 1), (3, 'Vanilla Syrup', 1), (3, 'Cola Syrup', 1), (3, 'Cups', 1);"
    "INSERT INTO codepop_store_inventory (store_id, item_type, item_name, quantity, threshold_level)"
    " SELECT s.id, i.type, i.name, i.qty, i.thr FROM codepop_stores s, (SELECT 'Syrups' AS type, 'Cherry Syrup' AS name,"
    " 100 AS qty, 10 AS thr UNION ALL SELECT 'Syrups', 'Vanilla Syrup', 100, 10 UNION ALL SELECT 'Syrups',"
    " 'Cola Syrup', 100, 10 UNION ALL SELECT 'Cups', 'Cups', 500, 50) i ORDER BY s.id, i.name;"
    "INSERT INTO codepop_hub_inventory (hub_id, item_type, item_name, quantity)"
    " SELECT h.id, i.type, i.name, 5000 FROM codepop_hubs h, (SELECT 'Syrups' AS type, 'Cherry Syrup' AS name"
    " UNION ALL SELECT 'Syrups', 'Vanilla Syrup' UNION ALL SELECT 'Syrups', 'Cola Syrup'"
    " UNION ALL SELECT 'Cups', 'Cups') i ORDER BY h.id, i.name;";

void cp_fixture(void)
{
    test_fixture_sql("codepop", sql);
    test_user("cp_admin", "codepop", "admin", NULL, 0);
    test_user("cp_mgr1", "codepop", "manager", "store", 1);
    test_user("cp_mgr2", "codepop", "manager", "store", 2);
    test_user("cp_mgr3", "codepop", "manager", "store", 3);
    test_user("cp_log_c", "codepop", "logistics_manager", "region", 1);
    test_user("cp_log_e", "codepop", "logistics_manager", "region", 2);
    test_user("cp_rep_c", "codepop", "repair_staff", "region", 1);
    test_user("cp_rep_e", "codepop", "repair_staff", "region", 2);
    test_user("cp_user1", "codepop", "account_user", NULL, 0);
    test_user("cp_user2", "codepop", "account_user", NULL, 0);
    test_user("cp_nobody", NULL, NULL, NULL, 0);
}

void cp_start(void)
{
    srv_start();
    cp_fixture();
}

int64_t cp_stock(int64_t store_id, const char *item_name)
{
    int64_t q = -1;
    db_int(test_db(), &q, "SELECT quantity FROM codepop_store_inventory WHERE store_id = $1 AND item_name = $2",
           DB_I(store_id), DB_S(item_name));
    return q;
}

int64_t cp_hub_stock(int64_t hub_id, const char *item_name)
{
    int64_t q = -1;
    db_int(test_db(), &q, "SELECT quantity FROM codepop_hub_inventory WHERE hub_id = $1 AND item_name = $2",
           DB_I(hub_id), DB_S(item_name));
    return q;
}

void cp_set_stock(int64_t store_id, const char *item_name, int64_t quantity)
{
    cr_assert_eq(db_exec(test_db(), "UPDATE codepop_store_inventory SET quantity = $3 WHERE store_id = $1 AND item_name = $2",
                         DB_I(store_id), DB_S(item_name), DB_I(quantity)), 1);
}

