/* codepop.h -- shared by the files of the codepop app only (no other app, and
 * not the core, includes it). The route table in codepop.c names every
 * handler declared here; each handler lives in the file of its resource. */
#ifndef CODEPOP_H
#define CODEPOP_H
#include "atrium.h"

#define CODEPOP_PREFIX "/api/v1/codepop"

/* ------------------------------------------------------------- node config */

/* Read once by codepop_init() from the environment (docs/apps/codepop.md). */
/* This node's settings, read and checked by codepop_configure() (the app's
 * `configure` step, at config load) and read-only afterwards. */
struct codepop_node {
    const char *type;           /* ATRIUM_NODE_TYPE: "store", "hub" or NULL (single node) */
    const char *id;             /* ATRIUM_NODE_ID: this node's UUID */
    const char *url;            /* ATRIUM_NODE_URL: this node's own base URL */
    const char *hub_url;        /* ATRIUM_HUB_URL: the hub a store node talks to */
    bool p2p;                   /* ATRIUM_NODE_TYPE is set: events go to peers */
    bool is_store, is_hub;
    int64_t store_id;           /* ATRIUM_NODE_STORE_ID (store nodes) */
    int64_t hub_id;             /* ATRIUM_NODE_HUB_ID (hub nodes) */
    const char *secret;         /* ATRIUM_P2P_SECRET: bootstrap secret for registration */
    int max_backoff_s;          /* ATRIUM_P2P_MAX_BACKOFF, default 60 */
    int max_attempts;           /* ATRIUM_P2P_MAX_ATTEMPTS, default 10 */
};
extern struct codepop_node codepop_node;

/* ------------------------------------------------------------------ scope */

/* List queries scope with the core's helper over both of codepop's scope
 * types, rbac_scope_list(r, perm, &sc, CODEPOP_SCOPE_TYPES), bound as
 * CODEPOP_SCOPE_ARGS(&sc): $1 global, $2 the store ids, $3 the region ids:
 *   WHERE ($1 = 1 OR " DB_IN_IDS("s.id", 2) " OR " DB_IN_IDS("s.region_id", 3) ")  */
#define CODEPOP_SCOPE_TYPES "store", "region"
#define CODEPOP_SCOPE_ARGS(sc) DB_I((sc)->global), DB_S((sc)->ids[0]), DB_S((sc)->ids[1])

/* Store-level checks: a store role on the store, a region role on its region,
 * or a global role. *_require replies 404 (no such store) or 403 and returns -1. */
bool codepop_can_store(struct req *r, const char *perm, int64_t store_id);
int codepop_require_store(struct req *r, const char *perm, int64_t store_id);
int codepop_require_region(struct req *r, const char *perm, int64_t region_id);
int64_t codepop_store_region(struct db *db, int64_t store_id);     /* 0: no such store */
int64_t codepop_hub_region(struct db *db, int64_t hub_id);

/* ------------------------------------------------------- shared operations */

/* Minutes to prepare an order: the most complex drink counts (simple 2,
 * medium 3, complex 5) plus 1 per drink beyond the first two. */
int codepop_prep_minutes(int max_complexity_minutes, int total_drinks);
int codepop_complexity_minutes(const char *complexity);            /* -1 if unknown */
double codepop_haversine_miles(double lat1, double lon1, double lat2, double lon2);

/* Is `utc` (RFC 3339) within the store's opening hours in its time zone?
 * 1 yes, 0 no, -1 bad input. */
int codepop_store_open_at(const char *zone, const char *opens_at, const char *closes_at, const char *utc);

/* Change a store inventory item by delta inside the caller's transaction;
 * never below zero (returns -2 then, nothing changed). Sends the low-stock
 * notification and INVENTORY_LOW event once per threshold crossing. */
int codepop_inventory_adjust(struct db *db, int64_t store_id, const char *item_name, int64_t delta);
/* Adds delivered items to a store's inventory (creating rows as needed). */
int codepop_inventory_receive(struct db *db, int64_t store_id, const char *item_name, const char *item_type,
                              int64_t quantity);

/* The store's revenue changed: drop its cached analytics (same transaction). */
int codepop_analytics_invalidate(struct db *db, int64_t store_id);

/* Notify every user holding `role` on the store (or its region for region
 * roles) in-app, inside the caller's transaction. */
int codepop_notify_role(struct db *db, const char *role, int64_t store_id, const char *kind, const char *title,
                        json_t *data);

/* -------------------------------------------------------- events (events.c) */

/* A domain event: realtime on topic codepop.store.<store_id> (core outbox)
 * and, on P2P nodes, a codepop_p2p_events row for the peer that must hear it
 * (p2p_deliver.c sends it). Inside the caller's transaction; payload stolen. */
int codepop_emit(struct db *db, int64_t store_id, const char *event_type, json_t *payload);
/* Realtime only, never written for a peer (a hub showing a store's report). */
int codepop_emit_local(struct db *db, int64_t store_id, const char *event_type, json_t *payload);
/* Is this event type one a store node sends to its hub? */
bool codepop_event_store_to_hub(const char *event_type);
/* target_node_id of store -> hub rows written before the hub's id is known. */
#define CODEPOP_HUB_TARGET "hub"

/* ------------------------------------------------------------ P2P receiving */

/* P2P receiving side: apply one peer event inside the caller's transaction.
 * 0 applied, -1 error (the sender retries). */
int codepop_p2p_apply(struct db *db, const char *event_type, const char *source_node, json_t *payload);

/* --------------------- supply, deliveries, machines (supply.c, deliveries.c,
 * machines.c): the operations p2p.c applies for peer events, then helpers
 * shared by supply.c/deliveries.c and machines.c/repairs.c. All run inside
 * the caller's transaction (they nest their own begin/commit). The four peer
 * operations are idempotent and return 0, or -1 so that the sender retries. */

/* Hub side: insert a supply request + items from a SUPPLY_REQUEST_CREATED
 * payload {uuid, store_id, urgency, notes, items, created_at, requested_by}
 * unless its uuid exists (then 0 as well). */
int codepop_supply_mirror(struct db *db, json_t *request, const char *origin_node);
/* Store side: a pending request becomes approved ({reviewed_by, approved_at})
 * or rejected ({reviewed_by, rejected_reason}); already there: 0. */
int codepop_supply_mark(struct db *db, const char *uuid, const char *status, json_t *payload);
/* Store side: insert a delivery from a DELIVERY_SCHEDULED payload unless its
 * uuid exists; -1 while its supply request is unknown here. */
int codepop_delivery_mirror(struct db *db, json_t *delivery);
/* Store side: move a delivery forward (never back, never out of delivered or
 * cancelled); delivered raises the store's stock exactly once. */
int codepop_delivery_apply_status(struct db *db, const char *uuid, const char *status);
/* A delivery with its items (the request's), supply_request_id/uuid; NULL if none. */
json_t *codepop_delivery_json(struct db *db, int64_t delivery_id);
/* Set a machine's status: the update, a maintenance log row (log_status, or
 * status when NULL, as new_status; action_type, notes, duration_minutes < 0
 * for none), MACHINE_STATUS_CHANGED when it changed, and for `error` a
 * notification to the store's managers and the region's repair staff.
 * *log_id (may be NULL) gets the log row. -1 also when there is no machine. */
int codepop_machine_set_status(struct db *db, int64_t user_id, int64_t machine_id, const char *status,
                               const char *log_status, const char *action_type, const char *notes,
                               int64_t duration_minutes, int64_t *log_id);

/* ---------------------------------------------------------------- handlers */

/* reference.c */
void codepop_regions_list(struct req *r);
void codepop_regions_get(struct req *r);
void codepop_hubs_list(struct req *r);
void codepop_hubs_get(struct req *r);
void codepop_stores_list(struct req *r);
void codepop_stores_nearby(struct req *r);
void codepop_stores_get(struct req *r);
void codepop_drinks_list(struct req *r);
void codepop_drinks_get(struct req *r);

/* orders.c */
void codepop_orders_create(struct req *r);
void codepop_orders_list(struct req *r);
void codepop_orders_get(struct req *r);
void codepop_orders_pay(struct req *r);
void codepop_orders_cancel(struct req *r);
void codepop_orders_status(struct req *r);
void codepop_orders_location(struct req *r);
void codepop_store_orders(struct req *r);

/* inventory.c */
void codepop_store_inventory(struct req *r);
void codepop_store_inventory_patch(struct req *r);
void codepop_hub_inventory(struct req *r);

/* golden.c */
void codepop_golden_window(struct req *r);

/* supply.c */
void codepop_supply_create(struct req *r);
void codepop_supply_list(struct req *r);
void codepop_supply_get(struct req *r);
void codepop_supply_approve(struct req *r);
void codepop_supply_reject(struct req *r);

/* deliveries.c */
void codepop_deliveries_list(struct req *r);
void codepop_deliveries_get(struct req *r);
void codepop_deliveries_status(struct req *r);

/* machines.c */
void codepop_machines_list(struct req *r);
void codepop_machines_get(struct req *r);
void codepop_machines_status(struct req *r);
void codepop_maintenance_list(struct req *r);
void codepop_maintenance_get(struct req *r);

/* repairs.c */
void codepop_repairs_create(struct req *r);
void codepop_repairs_list(struct req *r);
void codepop_repairs_get(struct req *r);
void codepop_repairs_start(struct req *r);
void codepop_repairs_complete(struct req *r);
void codepop_repairs_cancel(struct req *r);

/* routeopt.c */
void codepop_routes_optimize(struct req *r);
/* Visiting order for n stops from a start point, never longer than the given
 * order: exact (Held-Karp) for n <= 12, 2-opt + Or-opt above. order[] gets a
 * permutation of 0..n-1; returns the open-path length in miles. */
double codepop_route_optimize(const double *lat, const double *lon, int n, double start_lat, double start_lon,
                              int *order);
double codepop_route_length(const double *lat, const double *lon, const int *order, int n, double start_lat,
                            double start_lon);

/* analytics.c */
void codepop_store_analytics(struct req *r);

/* preferences.c */
void codepop_preferences_get(struct req *r);
void codepop_preferences_put(struct req *r);

/* p2p.c, p2p_nodes.c */
void codepop_p2p_register(struct req *r);
void codepop_p2p_nodes_list(struct req *r);
void codepop_p2p_events_receive(struct req *r);
void codepop_p2p_events_list(struct req *r);
void codepop_p2p_events_retry(struct req *r);
void codepop_p2p_health(struct req *r);
int codepop_p2p_deliver_job(struct db *db, char **result);
int codepop_p2p_cleanup_job(struct db *db, char **result);
int codepop_p2p_init(void);                       /* a store node registers with its hub */

/* seed.c */
int codepop_seed(struct db *db, const struct seed_opts *opts);
bool codepop_scope_exists(struct db *db, const char *scope_type, int64_t id);   /* scopes.c */
#endif
