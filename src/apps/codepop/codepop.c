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
static const char *const grant_only_perms[] = {"codepop.preferences.manage", NULL};

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
    {"GET", P "/regions", codepop_regions_list, PERM_USER, 0, "code,q,page,page_size"},
    {"GET", P "/regions/{id:int}", codepop_regions_get, PERM_USER, 0, NULL},
    {"GET", P "/hubs", codepop_hubs_list, PERM_USER, 0, "region,region_id,code,q,page,page_size"},
    {"GET", P "/hubs/{id:int}", codepop_hubs_get, PERM_USER, 0, NULL},
    {"GET", P "/stores", codepop_stores_list, PERM_USER, 0,
     "region,region_id,supply_hub_id,machine_status,q,page,page_size"},
    {"GET", P "/stores/nearby", codepop_stores_nearby, PERM_USER, 0, "lat,lon,radius_miles,page,page_size"},
    {"GET", P "/stores/{id:int}", codepop_stores_get, PERM_USER, 0, NULL},
    {"GET", P "/drinks", codepop_drinks_list, PERM_PUBLIC, 0, "complexity,q,page,page_size"},
    {"GET", P "/drinks/{id:int}", codepop_drinks_get, PERM_PUBLIC, 0, NULL},

    /* ordering */
    {"POST", P "/orders", codepop_orders_create, "codepop.orders.create", ROUTE_IDEMPOTENT | ROUTE_ROW_LOCKS, NULL},
    {"GET", P "/orders", codepop_orders_list, PERM_USER, 0, "mine,status,store_id,from,to,page,page_size"},
    {"GET", P "/orders/{id:int}", codepop_orders_get, PERM_USER, 0, NULL},
    {"POST", P "/orders/{id:int}/pay", codepop_orders_pay, PERM_USER, ROUTE_IDEMPOTENT, NULL},
    {"POST", P "/orders/{id:int}/cancel", codepop_orders_cancel, PERM_USER, ROUTE_IDEMPOTENT, NULL},
    {"POST", P "/orders/{id:int}/status", codepop_orders_status, "codepop.orders.manage", 0, NULL},
    {"POST", P "/orders/{id:int}/location", codepop_orders_location, PERM_USER, 0, NULL},
    {"GET", P "/stores/{id:int}/orders", codepop_store_orders, "codepop.orders.read", 0,
     "status,from,to,page,page_size"},
    {"GET", P "/golden-window", codepop_golden_window, PERM_USER, 0, "store_id,lat,lon,velocity_mph,complexity"},

    /* inventory */
    {"GET", P "/stores/{id:int}/inventory", codepop_store_inventory, "codepop.inventory.read", 0,
     "item_type,page,page_size"},
    {"PATCH", P "/stores/{id:int}/inventory/{item_id:int}", codepop_store_inventory_patch, "codepop.inventory.write", 0,
     NULL},
    {"GET", P "/hubs/{id:int}/inventory", codepop_hub_inventory, "codepop.hub_inventory.read", 0,
     "item_type,page,page_size"},

    /* supply chain */
    {"POST", P "/supply-requests", codepop_supply_create, "codepop.supply.create", ROUTE_IDEMPOTENT, NULL},
    {"GET", P "/supply-requests", codepop_supply_list, "codepop.supply.read", 0,
     "status,urgency,store_id,page,page_size"},
    {"GET", P "/supply-requests/{id:int}", codepop_supply_get, "codepop.supply.read", 0, NULL},
    {"POST", P "/supply-requests/{id:int}/approve", codepop_supply_approve, "codepop.supply.review", ROUTE_IDEMPOTENT,
     NULL},
    {"POST", P "/supply-requests/{id:int}/reject", codepop_supply_reject, "codepop.supply.review", 0, NULL},
    {"GET", P "/deliveries", codepop_deliveries_list, "codepop.deliveries.read", 0,
     "status,store_id,hub_id,supply_request_id,page,page_size"},
    {"GET", P "/deliveries/{id:int}", codepop_deliveries_get, "codepop.deliveries.read", 0, NULL},
    {"POST", P "/deliveries/{id:int}/status", codepop_deliveries_status, "codepop.deliveries.manage", ROUTE_IDEMPOTENT,
     NULL},

    /* machines and repairs */
    {"GET", P "/machines", codepop_machines_list, "codepop.machines.read", 0, "status,store_id,page,page_size"},
    {"GET", P "/machines/{id:int}", codepop_machines_get, "codepop.machines.read", 0, NULL},
    {"POST", P "/machines/{id:int}/status", codepop_machines_status, "codepop.machines.report", 0, NULL},
    {"GET", P "/maintenance-logs", codepop_maintenance_list, "codepop.machines.read", 0,
     "machine_id,store_id,page,page_size"},
    {"GET", P "/maintenance-logs/{id:int}", codepop_maintenance_get, "codepop.machines.read", 0, NULL},
    {"POST", P "/repair-schedules", codepop_repairs_create, "codepop.repairs.manage", 0, NULL},
    {"GET", P "/repair-schedules", codepop_repairs_list, "codepop.repairs.read", 0,
     "status,date,assigned_to,machine_id,store_id,page,page_size"},
    {"GET", P "/repair-schedules/{id:int}", codepop_repairs_get, "codepop.repairs.read", 0, NULL},
    {"POST", P "/repair-schedules/{id:int}/start", codepop_repairs_start, "codepop.repairs.manage", 0, NULL},
    {"POST", P "/repair-schedules/{id:int}/complete", codepop_repairs_complete, "codepop.repairs.manage", 0, NULL},
    {"POST", P "/repair-schedules/{id:int}/cancel", codepop_repairs_cancel, "codepop.repairs.manage", 0, NULL},
    {"POST", P "/repair-routes/optimize", codepop_routes_optimize, "codepop.routes.optimize", ROUTE_SLOW, NULL},

    /* analytics and preferences */
    {"GET", P "/stores/{id:int}/analytics", codepop_store_analytics, "codepop.analytics.read", ROUTE_SLOW,
     "period_days"},
    {"GET", P "/users/{id:int}/preferences", codepop_preferences_get, PERM_USER, 0, NULL},
    {"PUT", P "/users/{id:int}/preferences", codepop_preferences_put, PERM_USER, 0, NULL},

    /* nodes and peer-to-peer events (peers authenticate with HMAC, not tokens) */
    {"POST", P "/p2p/nodes/register", codepop_p2p_register, PERM_PUBLIC, 0, NULL},
    {"GET", P "/p2p/nodes", codepop_p2p_nodes_list, "codepop.nodes.manage", 0, "node_type,status,page,page_size"},
    {"POST", P "/p2p/events", codepop_p2p_events_receive, PERM_PUBLIC, ROUTE_NO_RATELIMIT, NULL},
    {"GET", P "/p2p/events", codepop_p2p_events_list, "codepop.p2p.read", 0,
     "status,event_type,target_node_id,page,page_size"},
    {"POST", P "/p2p/events/{id:int}/retry", codepop_p2p_events_retry, "codepop.nodes.manage", 0, NULL},
    {"GET", P "/p2p/health", codepop_p2p_health, PERM_PUBLIC, ROUTE_NO_RATELIMIT, NULL},
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

static const char *env_text(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int env_int(const char *name, int64_t dflt, int64_t min, int64_t max, int64_t *out, char *err, size_t errlen)
{
    const char *v = env_text(name);
    char *end = NULL;
    *out = v ? strtoll(v, &end, 10) : dflt;
    if (v && (*end || *out < min || *out > max)) {
        snprintf(err, errlen, "%s must be an integer in [%lld, %lld], got '%s'", name, (long long)min,
                 (long long)max, v);
        return -1;
    }
    return 0;
}

/* The app's `configure` step: every node setting is read and checked here,
 * once, so `atrium config check` refuses a half-configured node before it
 * serves. */
static int codepop_configure(char *err, size_t errlen)
{
    struct codepop_node *n = &codepop_node;
    int64_t store_id, hub_id, backoff, attempts;
    memset(n, 0, sizeof *n);
    n->type = env_text("ATRIUM_NODE_TYPE");
    n->id = env_text("ATRIUM_NODE_ID");
    n->url = env_text("ATRIUM_NODE_URL");
    n->hub_url = env_text("ATRIUM_HUB_URL");
    n->secret = env_text("ATRIUM_P2P_SECRET");
    if (env_int("ATRIUM_NODE_STORE_ID", 0, 0, INT64_MAX, &store_id, err, errlen) < 0 ||
        env_int("ATRIUM_NODE_HUB_ID", 0, 0, INT64_MAX, &hub_id, err, errlen) < 0 ||
        env_int("ATRIUM_P2P_MAX_BACKOFF", 60, 1, 86400, &backoff, err, errlen) < 0 ||
        env_int("ATRIUM_P2P_MAX_ATTEMPTS", 10, 1, 1000, &attempts, err, errlen) < 0)
        return -1;
    n->store_id = store_id;
    n->hub_id = hub_id;
    n->max_backoff_s = (int)backoff;
    n->max_attempts = (int)attempts;
    if (n->type && strcmp(n->type, "store") && strcmp(n->type, "hub")) {
        snprintf(err, errlen, "ATRIUM_NODE_TYPE must be store or hub, got '%s'", n->type);
        return -1;
    }
    n->p2p = n->type != NULL;
    n->is_store = n->p2p && !strcmp(n->type, "store");
    n->is_hub = n->p2p && !strcmp(n->type, "hub");
    if (n->p2p && (!n->id || !n->url)) {
        snprintf(err, errlen, "a codepop P2P node needs ATRIUM_NODE_ID and ATRIUM_NODE_URL");
        return -1;
    }
    if (n->is_store && (!n->store_id || !n->hub_url)) {
        snprintf(err, errlen, "a codepop store node needs ATRIUM_NODE_STORE_ID and ATRIUM_HUB_URL");
        return -1;
    }
    if (n->is_hub && !n->hub_id) {
        snprintf(err, errlen, "a codepop hub node needs ATRIUM_NODE_HUB_ID");
        return -1;
    }
    return 0;
}

static void codepop_config_print(FILE *out)
{
    const struct codepop_node *n = &codepop_node;
    fprintf(out, "%-26s %s\n", "ATRIUM_NODE_TYPE", n->type ? n->type : "(none: a single node)");
    fprintf(out, "%-26s %s\n", "ATRIUM_NODE_ID", n->id ? n->id : "(none)");
    fprintf(out, "%-26s %s\n", "ATRIUM_NODE_URL", n->url ? n->url : "(none)");
    fprintf(out, "%-26s %s\n", "ATRIUM_HUB_URL", n->hub_url ? n->hub_url : "(none)");
    fprintf(out, "%-26s %lld\n", "ATRIUM_NODE_STORE_ID", (long long)n->store_id);
    fprintf(out, "%-26s %lld\n", "ATRIUM_NODE_HUB_ID", (long long)n->hub_id);
    fprintf(out, "%-26s %s\n", "ATRIUM_P2P_SECRET", n->secret ? "********" : "(none)");
    fprintf(out, "%-26s %d\n", "ATRIUM_P2P_MAX_BACKOFF", n->max_backoff_s);
    fprintf(out, "%-26s %d\n", "ATRIUM_P2P_MAX_ATTEMPTS", n->max_attempts);
}

/* Node identity for /api/v1/health/detailed. */
static json_t *codepop_health(struct db *db)
{
    const struct codepop_node *n = &codepop_node;
    return json_pack("{s:{s:s?, s:s?, s:s?}}", "node", "type", n->type, "id", n->id, "hub_url", n->hub_url);
}

static int codepop_init(void)
{
    setenv("TZ", "UTC", 0);      /* see common.c: TZ must exist before threads read it */
    return codepop_p2p_init();
}

const struct app codepop_app = {
    .name = "codepop",
    .migrations_dir = "src/apps/codepop/migrations/",
    .routes = codepop_routes,
    .roles = codepop_roles,
    .grant_only_perms = grant_only_perms,
    .jobs = codepop_jobs,
    .init = codepop_init,
    .configure = codepop_configure,
    .config_print = codepop_config_print,
    .health = codepop_health,
    .seed = codepop_seed,
    .api_doc = "src/apps/codepop/api.json",
    .topic_allowed = topic_allowed,
    .scope_exists = codepop_scope_exists,
};
