/* The codepop authorization matrix: every route of the table × every kind of
 * caller, checked complete by authz_complete(). One ROW per route (or per
 * target) gives the status of each caller, in this order:
 *
 *   anonymous, cp_nobody (no codepop role), cp_user1 (account_user),
 *   cp_mgr1 / cp_mgr3 (manager of store 1 / of store 3: in / out of scope),
 *   cp_log_c / cp_log_e (logistics_manager of region 1 / 2: in / out),
 *   cp_rep_c / cp_rep_e (repair_staff of region 1 / 2: in / out), cp_admin.
 *
 * Targets are in store 1, region 1, hub 1 (the world below). Callers with the
 * route's permission and an empty body get 400 (they passed authorization);
 * callers outside their scope get 403, or 404 where the row is not theirs
 * to know of; filtered lists answer 200 with only what the caller may see. */
#include "support/fixture.h"
#include <string.h>

#define P "/api/v1/codepop"

#define ROW(m, path, body, anon, none, user, mgr, mgr_out, log, log_out, rep, rep_out, admin)                  \
    {m, path, NULL, anon, body}, {m, path, "cp_nobody", none, body}, {m, path, "cp_user1", user, body},       \
    {m, path, "cp_mgr1", mgr, body}, {m, path, "cp_mgr3", mgr_out, body, true},                               \
    {m, path, "cp_log_c", log, body}, {m, path, "cp_log_e", log_out, body, true},                             \
    {m, path, "cp_rep_c", rep, body}, {m, path, "cp_rep_e", rep_out, body, true}, {m, path, "cp_admin", admin, body}

/* The world: order 1 (cp_user1, store 1), supply request 1 (store 1) with
 * delivery 1 from hub 1, maintenance log 1 and repair schedule 1 (machine 1,
 * store 1), p2p event 1 (an outgoing one, as a store node queues them). */
static void world(void)
{
    struct resp *r = api_post(P "/orders", "cp_user1", NULL,
                              "{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":1}],\"pickup_time\":\"%s\"}",
                              time_in(30));
    resp_check(r, 201, NULL);
    r = api_post(P "/supply-requests", "cp_mgr1", NULL,
                 "{\"urgency\":\"NORMAL\",\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":5}]}");
    resp_check(r, 201, NULL);
    resp_check(api_post(P "/supply-requests", "cp_mgr1", NULL,
                        "{\"urgency\":\"NORMAL\",\"items\":[{\"item_name\":\"Cups\",\"item_type\":\"Cups\",\"quantity\":5}]}"),
               201, NULL);
    resp_check(api_post(P "/supply-requests/1/approve", "cp_log_c", NULL, "{}"), 200, NULL);
    resp_check(api_post(P "/machines/1/status", "cp_mgr1", NULL, "{\"status\":\"warning\"}"), 200, NULL);
    resp_check(api_post(P "/repair-schedules", "cp_rep_c", NULL,
                        "{\"machine_id\":1,\"scheduled_date\":\"%s\",\"scheduled_time\":\"09:30\","
                        "\"action_type\":\"INSPECTION\",\"estimated_duration_minutes\":30}", date_in(1)),
               201, NULL);
    cr_assert_eq(test_user_id("cp_user1"), 9, "CP_USER1 names cp_user1");
    cr_assert_eq(db_exec(test_db(), "INSERT INTO codepop_p2p_events (id, event_id, event_type, source_node_id, "
                                    "target_node_id, payload) VALUES (1, 'e-1', 'ORDER_CREATED', 'store-1', 'hub', '{}')"), 1);
}

static void start(void)
{
    cp_start();
    world();
}

TestSuite(codepop_authz, .init = start, .fini = srv_stop);

static const struct authz_case reference[] = {
    ROW("GET", P "/regions", NULL, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ROW("GET", P "/regions/1", NULL, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ROW("GET", P "/hubs", NULL, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ROW("GET", P "/hubs/1", NULL, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ROW("GET", P "/stores", NULL, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ROW("GET", P "/stores/nearby?lat=40.7&lon=-74&radius_miles=10", NULL, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ROW("GET", P "/stores/1", NULL, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ROW("GET", P "/drinks", NULL, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ROW("GET", P "/drinks/1", NULL, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ROW("GET", P "/golden-window?store_id=1&lat=40.8&lon=-74&velocity_mph=30&complexity=medium", NULL, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    {"GET", P "/regions/99", "cp_user1", 404},
    {0},
};

static const struct authz_case orders[] = {
    ROW("GET", P "/orders", NULL, 401, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    ROW("GET", P "/orders/1", NULL, 401, 404, 200, 200, 404, 404, 404, 404, 404, 200),
    ROW("GET", P "/stores/1/orders", NULL, 401, 403, 403, 200, 403, 403, 403, 403, 403, 200),
    ROW("POST", P "/orders", NULL, 401, 403, 400, 403, 403, 403, 403, 403, 403, 400),
    ROW("POST", P "/orders/1/location", NULL, 401, 404, 400, 404, 404, 404, 404, 404, 404, 404),
    ROW("POST", P "/orders/1/status", NULL, 401, 403, 403, 400, 404, 403, 403, 403, 403, 400),
    ROW("POST", P "/orders/1/pay", NULL, 401, 404, 200, 404, 404, 404, 404, 404, 404, 404),
    ROW("POST", P "/orders/1/cancel", NULL, 401, 404, 200, 409, 404, 404, 404, 404, 404, 409),
    {0},
};

static const struct authz_case stock[] = {
    ROW("GET", P "/stores/1/inventory", NULL, 401, 403, 403, 200, 403, 200, 403, 403, 403, 200),
    ROW("PATCH", P "/stores/1/inventory/1", NULL, 401, 403, 403, 400, 403, 403, 403, 403, 403, 400),
    ROW("GET", P "/hubs/1/inventory", NULL, 401, 403, 403, 403, 403, 200, 403, 403, 403, 200),
    ROW("GET", P "/stores/1/analytics", NULL, 401, 403, 403, 200, 403, 200, 403, 403, 403, 200),
    {0},
};

static const struct authz_case supply[] = {
    ROW("GET", P "/supply-requests", NULL, 401, 403, 403, 200, 200, 200, 200, 403, 403, 200),
    ROW("GET", P "/supply-requests/1", NULL, 401, 403, 403, 200, 404, 200, 404, 403, 403, 200),
    ROW("POST", P "/supply-requests", NULL, 401, 403, 403, 400, 400, 403, 403, 403, 403, 400),
    ROW("POST", P "/supply-requests/2/reject", NULL, 401, 403, 403, 403, 403, 400, 400, 403, 403, 400),
    /* with a valid body, so that the scope is what is checked */
    {"POST", P "/supply-requests/2/reject", "cp_log_e", 403, "{\"reason\":\"budget\"}", true},
    ROW("POST", P "/supply-requests/2/approve", NULL, 401, 403, 403, 403, 403, 200, 403, 403, 403, 409),
    ROW("GET", P "/deliveries", NULL, 401, 403, 403, 200, 200, 200, 200, 403, 403, 200),
    ROW("GET", P "/deliveries/1", NULL, 401, 403, 403, 200, 404, 200, 404, 403, 403, 200),
    ROW("POST", P "/deliveries/1/status", NULL, 401, 403, 403, 403, 403, 400, 400, 403, 403, 400),
    {"POST", P "/deliveries/1/status", "cp_log_e", 403, "{\"status\":\"in_transit\"}", true},
    {0},
};

#define SCHEDULE_MACHINE_1 \
    "{\"machine_id\":1,\"scheduled_date\":\"2031-01-01\",\"scheduled_time\":\"09:30\",\"action_type\":\"INSPECTION\"," \
    "\"estimated_duration_minutes\":30}"
static const struct authz_case machines[] = {
    ROW("GET", P "/machines", NULL, 401, 403, 403, 200, 200, 403, 403, 200, 200, 200),
    ROW("GET", P "/machines/1", NULL, 401, 403, 403, 200, 404, 403, 403, 200, 404, 200),
    ROW("POST", P "/machines/1/status", NULL, 401, 403, 403, 400, 403, 403, 403, 400, 403, 400),
    ROW("GET", P "/maintenance-logs", NULL, 401, 403, 403, 200, 200, 403, 403, 200, 200, 200),
    ROW("GET", P "/maintenance-logs/1", NULL, 401, 403, 403, 200, 404, 403, 403, 200, 404, 200),
    ROW("GET", P "/repair-schedules", NULL, 401, 403, 403, 200, 200, 403, 403, 200, 200, 200),
    ROW("GET", P "/repair-schedules/1", NULL, 401, 403, 403, 200, 404, 403, 403, 200, 404, 200),
    {"POST", P "/repair-schedules", "cp_rep_e", 403, SCHEDULE_MACHINE_1, true},
    ROW("POST", P "/repair-schedules", NULL, 401, 403, 403, 403, 403, 403, 403, 400, 400, 400),
    ROW("POST", P "/repair-schedules/1/start", NULL, 401, 403, 403, 403, 403, 403, 403, 200, 403, 409),
    ROW("POST", P "/repair-schedules/1/complete", NULL, 401, 403, 403, 403, 403, 403, 403, 200, 403, 409),
    ROW("POST", P "/repair-schedules/1/cancel", NULL, 401, 403, 403, 403, 403, 403, 403, 409, 403, 409),
    ROW("POST", P "/repair-routes/optimize", NULL, 401, 403, 403, 403, 403, 403, 403, 400, 400, 400),
    {0},
};

static const struct authz_case p2p[] = {
    ROW("POST", P "/p2p/nodes/register", NULL, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401),
    ROW("GET", P "/p2p/nodes", NULL, 401, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    ROW("POST", P "/p2p/events", NULL, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401),
    ROW("GET", P "/p2p/events", NULL, 401, 403, 403, 403, 403, 403, 403, 403, 403, 200),
    ROW("POST", P "/p2p/events/1/retry", NULL, 401, 403, 403, 403, 403, 403, 403, 403, 403, 409),
    ROW("GET", P "/p2p/health", NULL, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    {0},
};

/* Preferences are per user: CP_USER1 is cp_user1's own (world() checks the id). */
#define CP_USER1 P "/users/9/preferences"
static const struct authz_case prefs[] = {
    ROW("GET", CP_USER1, NULL, 401, 403, 200, 403, 403, 403, 403, 403, 403, 403),
    ROW("PUT", CP_USER1, NULL, 401, 403, 200, 403, 403, 403, 403, 403, 403, 403),
    {0},
};

Test(codepop_authz, reference) { authz_run(reference); }
Test(codepop_authz, orders) { authz_run(orders); }
Test(codepop_authz, inventory_and_analytics) { authz_run(stock); }
Test(codepop_authz, supply_and_deliveries) { authz_run(supply); }
Test(codepop_authz, machines_and_repairs) { authz_run(machines); }
Test(codepop_authz, p2p) { authz_run(p2p); }
Test(codepop_authz, preferences) { authz_run(prefs); }


Test(codepop_authz, every_route_and_caller_is_in_the_matrix)
{
    const struct authz_case *const all[] = {reference, orders, stock, supply, machines, p2p, prefs, NULL};
    authz_complete("codepop", all);
}
