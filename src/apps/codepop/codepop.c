/* codepop.c -- the drink-shop chain: its roles, its whole route table (who may
 * call what, in one place), its jobs, and which realtime topics a caller may
 * subscribe to. Handlers live in one file per resource (codepop.h). */
#include "codepop.h"
#include <stdlib.h>
#include <string.h>

#define P CODEPOP_PREFIX

struct codepop_node codepop_node;

/* ------------------------------------------------------------------ roles */

static const char *const account_user_perms[] = {
    "codepop.stores.read", "codepop.orders.create", NULL};
static const char *const manager_perms[] = {
    "codepop.stores.read", "codepop.orders.read", "codepop.orders.manage", "codepop.inventory.read",
    "codepop.inventory.write", "codepop.analytics.read", "codepop.supply.create", "codepop.supply.read",
    "codepop.deliveries.read", "codepop.machines.read", "codepop.machines.report", "codepop.repairs.read", NULL};
static const char *const logistics_perms[] = {
    "codepop.stores.read", "codepop.inventory.read", "codepop.hub_inventory.read", "codepop.analytics.read",
    "codepop.supply.read", "codepop.supply.review", "codepop.deliveries.read", "codepop.deliveries.manage", NULL};
static const char *const repair_perms[] = {
    "codepop.stores.read", "codepop.machines.read", "codepop.machines.report", "codepop.repairs.read",
    "codepop.repairs.manage", "codepop.routes.optimize", NULL};
/* Everything but codepop.preferences.manage: a user's preferences stay theirs
 * unless someone is given that permission explicitly. */
static const char *const admin_perms[] = {
    "codepop.stores.read", "codepop.orders.create", "codepop.orders.read", "codepop.orders.manage",
    "codepop.inventory.read", "codepop.inventory.write", "codepop.hub_inventory.read", "codepop.analytics.read",
    "codepop.supply.create", "codepop.supply.read", "codepop.supply.review", "codepop.deliveries.read",
    "codepop.deliveries.manage", "codepop.machines.read", "codepop.machines.report", "codepop.repairs.read",
    "codepop.repairs.manage", "codepop.routes.optimize", "codepop.nodes.manage", "codepop.p2p.read", NULL};

static const struct role codepop_roles[] = {
    {"account_user", NULL, NULL, account_user_perms},
    {"manager", NULL, "store", manager_perms},
    {"logistics_manager", NULL, "region", logistics_perms},
    {"repair_staff", NULL, "region", repair_perms},
    {"admin", NULL, NULL, admin_perms},
    {0},
};

/* ----------------------------------------------------------------- routes */

static const struct route codepop_routes[] = {
    /* reference data */
    {"GET", P "/regions", codepop_regions_list, PERM_USER, 0},
    {"GET", P "/regions/{id:int}", codepop_regions_get, PERM_USER, 0},
    {"GET", P "/hubs", codepop_hubs_list, PERM_USER, 0},
    {"GET", P "/hubs/{id:int}", codepop_hubs_get, PERM_USER, 0},
    {"GET", P "/stores", codepop_stores_list, PERM_USER, 0},
    {"GET", P "/stores/nearby", codepop_stores_nearby, PERM_USER, 0},
    {"GET", P "/stores/{id:int}", codepop_stores_get, PERM_USER, 0},
    {"GET", P "/drinks", codepop_drinks_list, PERM_PUBLIC, 0},
    {"GET", P "/drinks/{id:int}", codepop_drinks_get, PERM_PUBLIC, 0},

    /* ordering */
    {"POST", P "/orders", codepop_orders_create, "codepop.orders.create", ROUTE_IDEMPOTENT},
    {"GET", P "/orders", codepop_orders_list, PERM_USER, 0},
    {"GET", P "/orders/{id:int}", codepop_orders_get, PERM_USER, 0},
    {"POST", P "/orders/{id:int}/pay", codepop_orders_pay, PERM_USER, ROUTE_IDEMPOTENT},
    {"POST", P "/orders/{id:int}/cancel", codepop_orders_cancel, PERM_USER, ROUTE_IDEMPOTENT},
    {"POST", P "/orders/{id:int}/status", codepop_orders_status, "codepop.orders.manage", 0},
    {"POST", P "/orders/{id:int}/location", codepop_orders_location, PERM_USER, 0},
    {"GET", P "/stores/{id:int}/orders", codepop_store_orders, "codepop.orders.read", 0},
    {"GET", P "/golden-window", codepop_golden_window, PERM_USER, 0},

    /* inventory */
    {"GET", P "/stores/{id:int}/inventory", codepop_store_inventory, "codepop.inventory.read", 0},
    {"PATCH", P "/stores/{id:int}/inventory/{item_id:int}", codepop_store_inventory_patch, "codepop.inventory.write", 0},
    {"GET", P "/hubs/{id:int}/inventory", codepop_hub_inventory, "codepop.hub_inventory.read", 0},

    /* supply chain */
    {"POST", P "/supply-requests", codepop_supply_create, "codepop.supply.create", ROUTE_IDEMPOTENT},
    {"GET", P "/supply-requests", codepop_supply_list, "codepop.supply.read", 0},
    {"GET", P "/supply-requests/{id:int}", codepop_supply_get, "codepop.supply.read", 0},
    {"POST", P "/supply-requests/{id:int}/approve", codepop_supply_approve, "codepop.supply.review", ROUTE_IDEMPOTENT},
    {"POST", P "/supply-requests/{id:int}/reject", codepop_supply_reject, "codepop.supply.review", 0},
    {"GET", P "/deliveries", codepop_deliveries_list, "codepop.deliveries.read", 0},
    {"GET", P "/deliveries/{id:int}", codepop_deliveries_get, "codepop.deliveries.read", 0},
    {"POST", P "/deliveries/{id:int}/status", codepop_deliveries_status, "codepop.deliveries.manage", ROUTE_IDEMPOTENT},

    /* machines and repairs */
    {"GET", P "/machines", codepop_machines_list, "codepop.machines.read", 0},
    {"GET", P "/machines/{id:int}", codepop_machines_get, "codepop.machines.read", 0},
    {"POST", P "/machines/{id:int}/status", codepop_machines_status, "codepop.machines.report", 0},
    {"GET", P "/maintenance-logs", codepop_maintenance_list, "codepop.machines.read", 0},
    {"GET", P "/maintenance-logs/{id:int}", codepop_maintenance_get, "codepop.machines.read", 0},
    {"POST", P "/repair-schedules", codepop_repairs_create, "codepop.repairs.manage", 0},
    {"GET", P "/repair-schedules", codepop_repairs_list, "codepop.repairs.read", 0},
    {"GET", P "/repair-schedules/{id:int}", codepop_repairs_get, "codepop.repairs.read", 0},
    {"POST", P "/repair-schedules/{id:int}/start", codepop_repairs_start, "codepop.repairs.manage", 0},
    {"POST", P "/repair-schedules/{id:int}/complete", codepop_repairs_complete, "codepop.repairs.manage", 0},
    {"POST", P "/repair-schedules/{id:int}/cancel", codepop_repairs_cancel, "codepop.repairs.manage", 0},
    {"POST", P "/repair-routes/optimize", codepop_routes_optimize, "codepop.routes.optimize", ROUTE_SLOW},

    /* analytics and preferences */
    {"GET", P "/stores/{id:int}/analytics", codepop_store_analytics, "codepop.analytics.read", ROUTE_SLOW},
    {"GET", P "/users/{id:int}/preferences", codepop_preferences_get, PERM_USER, 0},
    {"PUT", P "/users/{id:int}/preferences", codepop_preferences_put, PERM_USER, 0},

    /* nodes and peer-to-peer events (peers authenticate with HMAC, not tokens) */
    {"POST", P "/p2p/nodes/register", codepop_p2p_register, PERM_PUBLIC, 0},
    {"GET", P "/p2p/nodes", codepop_p2p_nodes_list, "codepop.nodes.manage", 0},
    {"POST", P "/p2p/events", codepop_p2p_events_receive, PERM_PUBLIC, ROUTE_NO_RATELIMIT},
    {"GET", P "/p2p/events", codepop_p2p_events_list, "codepop.p2p.read", 0},
    {"POST", P "/p2p/events/{id:int}/retry", codepop_p2p_events_retry, "codepop.nodes.manage", 0},
    {"GET", P "/p2p/health", codepop_p2p_health, PERM_PUBLIC, ROUTE_NO_RATELIMIT},
    {0},
};

static const struct job codepop_jobs[] = {
    {"codepop.p2p_deliver", 2, codepop_p2p_deliver_job},
    {"codepop.p2p_cleanup", 300, codepop_p2p_cleanup_job},
    {0},
};

/* ------------------------------------------------------------------ topics */

/* codepop.store.<id>: whoever may read that store's orders (its managers,
 * the region's logistics managers, admins). */
static bool topic_allowed(struct req *r, const char *topic)
{
    int64_t id = app_topic_id(topic, "codepop.store.");
    return id && (codepop_can_store(r, "codepop.orders.read", id) || codepop_can_store(r, "codepop.inventory.read", id));
}

/* ------------------------------------------------------------------- init */

static int64_t env_int(const char *name, int64_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoll(v, NULL, 10) : dflt;
}

static int codepop_init(void)
{
    memset(&codepop_node, 0, sizeof codepop_node);
    setenv("TZ", "UTC", 0);      /* see common.c: TZ must exist before threads read it */
    codepop_node.p2p = cfg.node_type != NULL;
    codepop_node.is_store = cfg.node_type && !strcmp(cfg.node_type, "store");
    codepop_node.is_hub = cfg.node_type && !strcmp(cfg.node_type, "hub");
    codepop_node.store_id = env_int("ATRIUM_NODE_STORE_ID", 0);
    codepop_node.hub_id = env_int("ATRIUM_NODE_HUB_ID", 0);
    codepop_node.secret = getenv("ATRIUM_P2P_SECRET");
    codepop_node.max_backoff_s = (int)env_int("ATRIUM_P2P_MAX_BACKOFF", 60);
    codepop_node.max_attempts = (int)env_int("ATRIUM_P2P_MAX_ATTEMPTS", 10);
    if (codepop_node.p2p && (!cfg.node_id || !cfg.node_url)) {
        log_error("codepop: a P2P node needs ATRIUM_NODE_ID and ATRIUM_NODE_URL");
        return -1;
    }
    if (codepop_node.is_store && (!codepop_node.store_id || !cfg.hub_url)) {
        log_error("codepop: a store node needs ATRIUM_NODE_STORE_ID and ATRIUM_HUB_URL");
        return -1;
    }
    if (codepop_node.is_hub && !codepop_node.hub_id) {
        log_error("codepop: a hub node needs ATRIUM_NODE_HUB_ID");
        return -1;
    }
    return codepop_p2p_init();
}

const struct app codepop_app = {
    .name = "codepop",
    .migrations_dir = "src/apps/codepop/migrations/",
    .routes = codepop_routes,
    .roles = codepop_roles,
    .jobs = codepop_jobs,
    .init = codepop_init,
    .seed = codepop_seed,
    .topic_allowed = topic_allowed,
};
