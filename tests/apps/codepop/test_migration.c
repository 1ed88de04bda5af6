/* Migration 004 on a database written before it: every row of the rebuilt
 * tables is kept with its id and its status converted to lowercase snake_case,
 * foreign keys and indexes hold, the new CHECKs refuse the old spellings, old
 * audit rows keep their action (the chain still verifies) and every old action
 * name codepop wrote has an alias to its new name. */
#include "support/harness.h"
#include "apps/codepop/codepop.h"
#include <stdio.h>
#include <stdlib.h>

/* SQLite-only: replays SQLite's migration files 001-004 on a SQLite file (004
 * rebuilds tables the SQLite way) and checks the result with PRAGMA
 * foreign_key_check and sqlite_master. */
TestSuite(codepop_migration, .init = srv_start, .fini = srv_stop);

static const char *const before_004[] = {
    "src/apps/codepop/migrations/001_codepop.sql",
    "src/apps/codepop/migrations/002_analytics_indexes.sql",
    "src/apps/codepop/migrations/003_order_counts.sqlite.sql",
    NULL,
};

/* A database at codepop version 3, as a node had it before this change. */
static struct db *open_at_version_3(void)
{
    struct db *db = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/old.db", srv_dir());
    cr_assert_eq(db_open(path, &db), 0);
    cr_assert_geq(migrate_dir(db, "core", "src/core/migrations/"), 0);
    for (int i = 0; before_004[i]; i++) {
        const struct embedded_file *f = embed_find(before_004[i]);
        cr_assert_not_null(f, "%s", before_004[i]);
        cr_assert_eq(db_exec_script(db, (const char *)f->data), 0, "%s", before_004[i]);
        cr_assert_eq(db_exec(db, "INSERT INTO schema_migrations (app, version, name, applied_at) "
                                 "VALUES ('codepop', $1, $2, '2026-11-01T00:00:00Z')",
                             DB_I(i + 1), DB_S(before_004[i])), 1);
    }
    return db;
}

static const char *const old_rows =
    "INSERT INTO codepop_regions (id, code, name) VALUES (1, 'C', 'Central');"
    "INSERT INTO codepop_hubs (id, region_id, code, name, lat, lon) VALUES (1, 1, 'HUB-C', 'Hub', 40.7, -74.0);"
    "INSERT INTO codepop_stores (id, name, region_id, supply_hub_id, lat, lon, timezone, opens_at, closes_at) VALUES"
    " (1, 'One', 1, 1, 40.7, -74.0, 'America/New_York', '06:00', '22:00'),"
    " (2, 'Two', 1, 1, 40.8, -74.0, 'America/New_York', '06:00', '22:00');"
    "INSERT INTO codepop_machines (id, store_id, serial, status) VALUES (7, 1, 'M-7', 'repair-start'),"
    " (8, 2, 'M-8', 'repair-end');"
    "INSERT INTO codepop_maintenance_logs (uuid, machine_id, store_id, previous_status, new_status) VALUES"
    " ('l1', 7, 1, 'normal', 'repair-start'), ('l2', 8, 2, 'repair-start', 'repair-end');"
    "INSERT INTO codepop_supply_requests (id, uuid, store_id, status, urgency) VALUES"
    " (11, 'r11', 1, 'PENDING', 'HIGH'), (12, 'r12', 1, 'APPROVED', 'LOW'), (13, 'r13', 2, 'REJECTED', 'NORMAL');"
    "INSERT INTO codepop_supply_request_items (request_id, item_name, item_type, quantity) VALUES"
    " (11, 'Cups', 'Cups', 5), (12, 'Cups', 'Cups', 6);"
    "INSERT INTO codepop_deliveries (id, uuid, supply_request_id, supply_request_uuid, hub_id, store_id, status,"
    " scheduled_date) VALUES (21, 'd21', 12, 'r12', 1, 1, 'IN_TRANSIT', '2026-01-02'),"
    " (22, 'd22', 12, 'r12', 1, 1, 'CANCELLED', '2026-01-02');"
    "INSERT INTO codepop_repair_schedules (id, uuid, machine_id, store_id, assigned_to, scheduled_date,"
    " scheduled_time, action_type, estimated_duration_minutes, status) VALUES"
    " (31, 's31', 7, 1, 5, '2026-01-02', '09:00', 'INSPECTION', 30, 'IN_PROGRESS'),"
    " (32, 's32', 8, 2, 5, '2026-01-02', '10:00', 'INSPECTION', 30, 'COMPLETED'),"
    " (33, 's33', 8, 2, 5, '2026-01-03', '10:00', 'INSPECTION', 30, 'SCHEDULED');"
    "INSERT INTO codepop_p2p_events (id, event_id, event_type, source_node_id, target_node_id, payload, status)"
    " VALUES (41, 'e41', 'INVENTORY_LOW', 'a', 'b', '{}', 'PENDING'),"
    " (42, 'e42', 'INVENTORY_LOW', 'a', 'b', '{}', 'DELIVERED'),"
    " (43, 'e43', 'INVENTORY_LOW', 'a', 'b', '{}', 'FAILED');";

static int64_t count(struct db *db, const char *sql)
{
    int64_t n = -1;
    cr_assert_eq(db_int(db, &n, sql), 1, "%s", sql);
    return n;
}

Test(codepop_migration, converts_statuses_keeps_rows_and_keys)
{
    SQLITE_ONLY("replays SQLite\'s migration files on a SQLite file");
    struct db *db = open_at_version_3();
    cr_assert_eq(db_exec_script(db, old_rows), 0);
    cr_assert_eq(migrate_dir(db, "codepop", "src/apps/codepop/migrations/"), 1, "only 004 is left");

    cr_assert_eq(count(db, "SELECT COUNT(*) FROM codepop_machines WHERE (id = 7 AND status = 'repair_start') "
                           "OR (id = 8 AND status = 'repair_end')"), 2);
    cr_assert_eq(count(db, "SELECT COUNT(*) FROM codepop_maintenance_logs WHERE (uuid = 'l1' AND "
                           "previous_status = 'normal' AND new_status = 'repair_start') OR (uuid = 'l2' AND "
                           "previous_status = 'repair_start' AND new_status = 'repair_end')"), 2);
    cr_assert_eq(count(db, "SELECT COUNT(*) FROM codepop_supply_requests WHERE (id = 11 AND status = 'pending' "
                           "AND urgency = 'HIGH') OR (id = 12 AND status = 'approved') OR (id = 13 AND "
                           "status = 'rejected')"), 3);
    cr_assert_eq(count(db, "SELECT COUNT(*) FROM codepop_supply_request_items WHERE request_id IN (11, 12)"), 2);
    cr_assert_eq(count(db, "SELECT COUNT(*) FROM codepop_deliveries WHERE (id = 21 AND status = 'in_transit' AND "
                           "supply_request_id = 12) OR (id = 22 AND status = 'cancelled')"), 2);
    cr_assert_eq(count(db, "SELECT COUNT(*) FROM codepop_repair_schedules WHERE (id = 31 AND "
                           "status = 'in_progress' AND machine_id = 7) OR (id = 32 AND status = 'completed') OR "
                           "(id = 33 AND status = 'scheduled')"), 3);
    cr_assert_eq(count(db, "SELECT COUNT(*) FROM codepop_p2p_events WHERE (id = 41 AND status = 'pending') OR "
                           "(id = 42 AND status = 'delivered') OR (id = 43 AND status = 'failed')"), 3);

    /* every foreign key still points at a row; the indexes are back */
    struct db_rows rows;
    cr_assert_eq(db_query(db, &rows, "PRAGMA foreign_key_check"), 0);
    cr_assert_not(db_step(&rows), "a dangling foreign key after the rebuild");
    db_rows_close(&rows);
    cr_assert_eq(count(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                           "('codepop_supply_store', 'codepop_supply_items_request', 'codepop_deliveries_store', "
                           "'codepop_repairs_assignee', 'codepop_maintenance_machine', 'codepop_p2p_pending')"), 6);
    cr_assert_eq(count(db, "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '%\\_hold' ESCAPE '\\'"), 0);

    /* the constraints are the new ones, and still enforced */
    cr_assert_eq(db_exec(db, "UPDATE codepop_supply_requests SET status = 'PENDING' WHERE id = 12"), -1);
    cr_assert_eq(db_exec(db, "UPDATE codepop_machines SET status = 'repair-start' WHERE id = 8"), -1);
    cr_assert_eq(db_exec(db, "UPDATE codepop_deliveries SET status = 'DELIVERED' WHERE id = 21"), -1);
    cr_assert_eq(db_exec(db, "UPDATE codepop_repair_schedules SET status = 'CANCELLED' WHERE id = 33"), -1);
    cr_assert_eq(db_exec(db, "UPDATE codepop_p2p_events SET status = 'FAILED' WHERE id = 41"), -1);
    cr_assert_eq(db_exec(db, "INSERT INTO codepop_supply_request_items (request_id, item_name, item_type, quantity) "
                             "VALUES (99, 'Cups', 'Cups', 1)"), -1, "the foreign key to the rebuilt parent holds");
    cr_assert_eq(db_exec(db, "INSERT INTO codepop_repair_schedules (uuid, machine_id, store_id, assigned_to, "
                             "scheduled_date, scheduled_time, action_type, estimated_duration_minutes) VALUES "
                             "('s99', 99, 1, 5, '2026-01-02', '09:00', 'INSPECTION', 30)"), -1);
    db_close(db);
}

Test(codepop_migration, old_audit_rows_stay_and_have_aliases)
{
    SQLITE_ONLY("replays SQLite\'s migration files on a SQLite file");
    static const char *const old_actions[] = {
        "order.create", "order.pay", "order.cancel", "order.status", "inventory.adjust", "supply.create",
        "supply.approve", "supply.reject", "supply.mirror", "supply.approved", "supply.rejected", "delivery.status",
        "delivery.mirror", "machine.status", "repair.schedule", "repair.start", "repair.complete", "repair.cancel",
        "preferences.update", "p2p.node.register", "p2p.node.rotate", "p2p.hub.register", "p2p.event.failed",
        "p2p.event.retry", "seed", NULL};
    struct db *db = open_at_version_3();
    cr_assert_eq(db_begin(db), 0);
    for (int i = 0; old_actions[i]; i++)
        cr_assert_eq(audit_write_as(db, 0, "codepop", old_actions[i], "x", i + 1, json_object()), 0);
    cr_assert_eq(db_commit(db), 0);
    cr_assert_eq(migrate_dir(db, "codepop", "src/apps/codepop/migrations/"), 1);

    int64_t checked = 0;
    cr_assert_eq(audit_verify(db, &checked), 0, "the chain is intact");
    cr_assert_eq(checked, 25);
    cr_assert_eq(count(db, "SELECT COUNT(*) FROM audit_log l JOIN audit_action_aliases a ON a.app = l.app AND "
                           "a.old_action = l.action"), 25, "every old row has its alias");
    cr_assert_eq(count(db, "SELECT COUNT(*) FROM audit_action_aliases WHERE app = 'codepop' AND "
                           "action NOT LIKE 'codepop.%.%'"), 0);
    cr_assert_eq(count(db, "SELECT COUNT(*) FROM audit_action_aliases WHERE app = 'codepop' AND old_action = "
                           "'supply.approve' AND action = 'codepop.supply_request.approved'"), 1);
    cr_assert_eq(count(db, "SELECT COUNT(*) FROM audit_action_aliases WHERE app = 'codepop' AND old_action = "
                           "'order.status' AND action = 'codepop.order.status_changed'"), 1);
    db_close(db);
}

/* Events queued before the migration (or sent by a peer not yet migrated)
 * carry the old upper-case delivery statuses: the receiver still applies them. */
Test(codepop_migration, peer_statuses_in_old_case_are_understood)
{
    SQLITE_ONLY("replays SQLite\'s migration files on a SQLite file");
    struct db *db = open_at_version_3();
    cr_assert_eq(db_exec_script(db, old_rows), 0);
    cr_assert_eq(migrate_dir(db, "codepop", "src/apps/codepop/migrations/"), 1);
    json_t *d = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s}", "uuid", "d99", "supply_request_uuid", "r12", "hub_id", 1,
                          "store_id", 1, "scheduled_date", "2026-01-04", "status", "IN_TRANSIT");
    cr_assert_eq(codepop_delivery_mirror(db, d), 0);
    json_decref(d);
    cr_assert_eq(count(db, "SELECT COUNT(*) FROM codepop_deliveries WHERE uuid = 'd99' AND status = 'in_transit'"), 1);
    cr_assert_eq(codepop_delivery_apply_status(db, "d99", "DELIVERED"), 0);
    cr_assert_eq(count(db, "SELECT COUNT(*) FROM codepop_deliveries WHERE uuid = 'd99' AND status = 'delivered' "
                           "AND stock_applied = 1"), 1);
    cr_assert_eq(count(db, "SELECT quantity FROM codepop_store_inventory WHERE store_id = 1 AND item_name = 'Cups'"),
                 6, "the request's 6 cups arrived once");
    cr_assert_eq(codepop_delivery_apply_status(db, "d99", "LOST"), -1);
    db_close(db);
}
