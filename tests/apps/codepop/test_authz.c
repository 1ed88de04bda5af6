/* The codepop authorization matrix: every route × role, scoped in and out.
 * Allowed callers with an invalid body get 400 (they passed authorization);
 * callers outside their scope get 403 (or 404 where a row's existence is not
 * theirs to know). Fixture roles: fixture.h. */
#include "support/fixture.h"
#include <string.h>

TestSuite(codepop_authz, .init = cp_start, .fini = srv_stop);

#define P "/api/v1/codepop"

Test(codepop_authz, reference_and_public)
{
    static const struct authz_case cases[] = {
        {"GET", P "/regions", NULL, 401}, {"GET", P "/regions", "cp_nobody", 200},
        {"GET", P "/regions/1", "cp_user1", 200}, {"GET", P "/regions/99", "cp_user1", 404},
        {"GET", P "/hubs", NULL, 401}, {"GET", P "/hubs/1", "cp_mgr1", 200},
        {"GET", P "/stores", NULL, 401}, {"GET", P "/stores", "cp_nobody", 200},
        {"GET", P "/stores/3", "cp_mgr1", 200},
        {"GET", P "/stores/nearby?lat=40.7&lon=-74&radius_miles=10", "cp_user1", 200},
        {"GET", P "/drinks", NULL, 200}, {"GET", P "/drinks/1", NULL, 200},
        {"GET", P "/golden-window?store_id=1&lat=40.8&lon=-74&velocity_mph=30&complexity=medium", NULL, 401},
        {"GET", P "/golden-window?store_id=1&lat=40.8&lon=-74&velocity_mph=30&complexity=medium", "cp_user1", 200},
        {"GET", P "/p2p/health", NULL, 200},
        {0},
    };
    authz_run(cases);
}

Test(codepop_authz, orders)
{
    static const struct authz_case cases[] = {
        {"POST", P "/orders", NULL, 401}, {"POST", P "/orders", "cp_nobody", 403},
        {"POST", P "/orders", "cp_user1", 400}, {"POST", P "/orders", "cp_mgr1", 403},
        {"POST", P "/orders", "cp_log_c", 403}, {"POST", P "/orders", "cp_admin", 400},
        {"GET", P "/orders?mine=1", NULL, 401}, {"GET", P "/orders?mine=1", "cp_user1", 200},
        {"GET", P "/stores/1/orders", NULL, 401}, {"GET", P "/stores/1/orders", "cp_nobody", 403},
        {"GET", P "/stores/1/orders", "cp_user1", 403}, {"GET", P "/stores/1/orders", "cp_mgr1", 200},
        {"GET", P "/stores/1/orders", "cp_mgr3", 403}, {"GET", P "/stores/1/orders", "cp_log_c", 403},
        {"GET", P "/stores/1/orders", "cp_rep_c", 403}, {"GET", P "/stores/1/orders", "cp_admin", 200},
        {"POST", P "/orders/999/status", "cp_user1", 403}, {"POST", P "/orders/999/status", "cp_mgr1", 404},
        {"POST", P "/orders/999/pay", "cp_user1", 404}, {"POST", P "/orders/999/cancel", "cp_user1", 404},
        {"POST", P "/orders/999/location", "cp_user1", 404},
        {0},
    };
    authz_run(cases);
}

Test(codepop_authz, inventory_and_analytics)
{
    static const struct authz_case cases[] = {
        {"GET", P "/stores/1/inventory", NULL, 401}, {"GET", P "/stores/1/inventory", "cp_user1", 403},
        {"GET", P "/stores/1/inventory", "cp_mgr1", 200}, {"GET", P "/stores/1/inventory", "cp_mgr3", 403},
        {"GET", P "/stores/1/inventory", "cp_log_c", 200}, {"GET", P "/stores/1/inventory", "cp_log_e", 403},
        {"GET", P "/stores/1/inventory", "cp_rep_c", 403}, {"GET", P "/stores/1/inventory", "cp_admin", 200},
        {"PATCH", P "/stores/1/inventory/1", "cp_mgr1", 400}, {"PATCH", P "/stores/1/inventory/1", "cp_mgr3", 403},
        {"PATCH", P "/stores/1/inventory/1", "cp_log_c", 403}, {"PATCH", P "/stores/1/inventory/1", "cp_user1", 403},
        {"GET", P "/hubs/1/inventory", "cp_user1", 403}, {"GET", P "/hubs/1/inventory", "cp_mgr1", 403},
        {"GET", P "/hubs/1/inventory", "cp_log_c", 200}, {"GET", P "/hubs/1/inventory", "cp_log_e", 403},
        {"GET", P "/hubs/1/inventory", "cp_admin", 200},
        {"GET", P "/stores/1/analytics", NULL, 401}, {"GET", P "/stores/1/analytics", "cp_user1", 403},
        {"GET", P "/stores/1/analytics", "cp_mgr1", 200}, {"GET", P "/stores/1/analytics", "cp_mgr2", 403},
        {"GET", P "/stores/1/analytics", "cp_log_c", 200}, {"GET", P "/stores/1/analytics", "cp_log_e", 403},
        {"GET", P "/stores/1/analytics", "cp_rep_c", 403}, {"GET", P "/stores/1/analytics", "cp_admin", 200},
        {0},
    };
    authz_run(cases);
}

Test(codepop_authz, supply_and_deliveries)
{
    static const struct authz_case cases[] = {
        {"POST", P "/supply-requests", NULL, 401}, {"POST", P "/supply-requests", "cp_user1", 403},
        {"POST", P "/supply-requests", "cp_mgr1", 400}, {"POST", P "/supply-requests", "cp_log_c", 403},
        {"POST", P "/supply-requests", "cp_rep_c", 403},
        {"GET", P "/supply-requests", "cp_user1", 403}, {"GET", P "/supply-requests", "cp_mgr1", 200},
        {"GET", P "/supply-requests", "cp_log_c", 200}, {"GET", P "/supply-requests", "cp_rep_c", 403},
        {"GET", P "/supply-requests", "cp_admin", 200},
        {"POST", P "/supply-requests/999/approve", "cp_mgr1", 403},
        {"POST", P "/supply-requests/999/approve", "cp_log_c", 404},
        {"POST", P "/supply-requests/999/reject", "cp_user1", 403},
        {"GET", P "/deliveries", "cp_user1", 403}, {"GET", P "/deliveries", "cp_mgr1", 200},
        {"GET", P "/deliveries", "cp_log_c", 200}, {"GET", P "/deliveries", "cp_rep_c", 403},
        {"POST", P "/deliveries/999/status", "cp_mgr1", 403, "{\"status\":\"in_transit\"}"},
        {"POST", P "/deliveries/999/status", "cp_log_c", 404, "{\"status\":\"in_transit\"}"},
        {0},
    };
    authz_run(cases);
}

Test(codepop_authz, machines_and_repairs)
{
    static const struct authz_case cases[] = {
        {"GET", P "/machines", NULL, 401}, {"GET", P "/machines", "cp_user1", 403},
        {"GET", P "/machines", "cp_mgr1", 200}, {"GET", P "/machines", "cp_rep_c", 200},
        {"GET", P "/machines", "cp_log_c", 403}, {"GET", P "/machines", "cp_admin", 200},
        {"POST", P "/machines/1/status", "cp_mgr1", 400, "{\"status\":\"bogus\"}"},
        {"POST", P "/machines/1/status", "cp_mgr3", 403, "{\"status\":\"bogus\"}"},
        {"POST", P "/machines/1/status", "cp_rep_c", 400, "{\"status\":\"bogus\"}"},
        {"POST", P "/machines/1/status", "cp_rep_e", 403, "{\"status\":\"bogus\"}"},
        {"POST", P "/machines/1/status", "cp_log_c", 403, "{\"status\":\"bogus\"}"},
        {"POST", P "/machines/1/status", "cp_user1", 403, "{\"status\":\"bogus\"}"},
        {"GET", P "/maintenance-logs", "cp_user1", 403}, {"GET", P "/maintenance-logs", "cp_mgr1", 200},
        {"GET", P "/maintenance-logs", "cp_rep_c", 200},
        {"POST", P "/repair-schedules", "cp_rep_c", 400}, {"POST", P "/repair-schedules", "cp_mgr1", 403},
        {"POST", P "/repair-schedules", "cp_user1", 403}, {"POST", P "/repair-schedules", NULL, 401},
        {"GET", P "/repair-schedules", "cp_rep_c", 200}, {"GET", P "/repair-schedules", "cp_mgr1", 200},
        {"GET", P "/repair-schedules", "cp_user1", 403}, {"GET", P "/repair-schedules", "cp_log_c", 403},
        {"POST", P "/repair-schedules/999/start", "cp_rep_c", 404}, {"POST", P "/repair-schedules/999/start", "cp_mgr1", 403},
        {"POST", P "/repair-routes/optimize", "cp_rep_c", 400}, {"POST", P "/repair-routes/optimize", "cp_mgr1", 403},
        {"POST", P "/repair-routes/optimize", "cp_admin", 400},
        {0},
    };
    authz_run(cases);
}

Test(codepop_authz, nodes_and_preferences)
{
    char self[96], other[96];
    snprintf(self, sizeof self, P "/users/%lld/preferences", (long long)test_user_id("cp_user1"));
    snprintf(other, sizeof other, P "/users/%lld/preferences", (long long)test_user_id("cp_user2"));
    const struct authz_case cases[] = {
        {"GET", P "/p2p/nodes", NULL, 401}, {"GET", P "/p2p/nodes", "cp_mgr1", 403},
        {"GET", P "/p2p/nodes", "cp_admin", 200},
        {"GET", P "/p2p/events", "cp_log_c", 403}, {"GET", P "/p2p/events", "cp_admin", 200},
        {"POST", P "/p2p/events/999/retry", "cp_mgr1", 403}, {"POST", P "/p2p/events/999/retry", "cp_admin", 404},
        {"POST", P "/p2p/events", NULL, 401, "{}"},
        {"GET", self, NULL, 401}, {"GET", self, "cp_user1", 200}, {"GET", other, "cp_user1", 403},
        {"GET", self, "cp_admin", 403}, {"PUT", other, "cp_user1", 403, "{}"},
        {0},
    };
    authz_run(cases);
}
