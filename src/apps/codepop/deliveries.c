/* deliveries.c -- deliveries from a hub to a store, created when a supply
 * request is approved (supply.c). Status moves scheduled -> in_transit ->
 * delivered, or scheduled|in_transit -> cancelled, by a logistics manager of
 * the region.
 *
 * delivered raises the store's stock by the request's items exactly once: the
 * guard is the stock_applied flag, flipped with a conditional UPDATE in the
 * same transaction. cancelled gives the hub its items back. On a P2P hub node
 * the store's stock lives at the store node, which raises it when
 * DELIVERY_STATUS_CHANGED arrives (codepop_delivery_apply_status); on a store
 * node deliveries are the hub's to change (409 not_owner). */
#include "codepop.h"
#include <string.h>
#include <strings.h>

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

#define DELIVERY_SELECT \
    "SELECT d.id, d.uuid, d.supply_request_id, d.supply_request_uuid, d.hub_id, d.store_id, s.name AS store_name, " \
    "s.region_id, d.status, d.scheduled_date, d.delivered_at, d.stock_applied AS stock_applied__bool, "             \
    "r.urgency, d.created_at, d.updated_at, "                                                                       \
    "(SELECT json_group_array(json_object('item_name', i.item_name, 'item_type', i.item_type, "                    \
    "'quantity', i.quantity)) FROM (SELECT * FROM codepop_supply_request_items WHERE request_id = "                \
    "d.supply_request_id ORDER BY id) i) AS items__json "                                                           \
    "FROM codepop_deliveries d JOIN codepop_stores s ON s.id = d.store_id "                                        \
    "JOIN codepop_supply_requests r ON r.id = d.supply_request_id "
#define SCOPE_WHERE \
    "($1 = 1 OR " DB_IN_IDS("d.store_id", 2) " OR " DB_IN_IDS("s.region_id", 3) ") "

static const char *const statuses[] = {"scheduled", "in_transit", "delivered", "cancelled", NULL};

/* Position in the life of a delivery: the end states are both 2. */
static int rank(const char *status)
{
    for (int i = 0; statuses[i]; i++)
        if (!strcmp(status, statuses[i])) return i < 2 ? i : 2;
    return -1;
}

/* A status as a peer sent it: events written before statuses were lowercased
 * (migration 004) say SCHEDULED, IN_TRANSIT, ...; NULL when unknown. */
static const char *peer_status(const char *s)
{
    for (int i = 0; s && statuses[i]; i++)
        if (!strcasecmp(s, statuses[i])) return statuses[i];
    return NULL;
}

/* The states a delivery may move to `to` from, as a JSON array for json_each. */
static const char *allowed_from(const char *to)
{
    if (!strcmp(to, "in_transit")) return "[\"scheduled\"]";
    if (!strcmp(to, "delivered")) return "[\"in_transit\"]";
    if (!strcmp(to, "cancelled")) return "[\"scheduled\",\"in_transit\"]";
    return NULL;
}

json_t *codepop_delivery_json(struct db *db, int64_t delivery_id)
{
    return db_json_one(db, DELIVERY_SELECT "WHERE d.id = $1", DB_I(delivery_id));
}

/* Raise the store's stock by the delivery's items unless already done. */
static int raise_store_stock(struct db *db, int64_t id)
{
    int n = db_exec(db, "UPDATE codepop_deliveries SET stock_applied = 1 WHERE id = $1 AND stock_applied = 0",
                    DB_I(id));
    if (n <= 0) return n;
    json_t *items = db_json_all(db, "SELECT d.store_id, i.item_name, i.item_type, i.quantity FROM codepop_deliveries d "
                                    "JOIN codepop_supply_request_items i ON i.request_id = d.supply_request_id "
                                    "WHERE d.id = $1 ORDER BY i.id", DB_I(id)), *it;
    size_t i;
    int rc = items ? 0 : -1;
    json_array_foreach (items, i, it) {
        if (codepop_inventory_receive(db, json_integer_value(json_object_get(it, "store_id")),
                                      json_string_value(json_object_get(it, "item_name")),
                                      json_string_value(json_object_get(it, "item_type")),
                                      json_integer_value(json_object_get(it, "quantity"))) < 0) {
            rc = -1;
            break;
        }
    }
    json_decref(items);
    return rc;
}

static int return_hub_stock(struct db *db, int64_t id)
{
    return db_exec(db, "INSERT INTO codepop_hub_inventory (hub_id, item_type, item_name, quantity) "
                       "SELECT d.hub_id, i.item_type, i.item_name, i.quantity FROM codepop_deliveries d "
                       "JOIN codepop_supply_request_items i ON i.request_id = d.supply_request_id WHERE d.id = $1 "
                       "ON CONFLICT (hub_id, item_name) DO UPDATE SET "
                       "quantity = codepop_hub_inventory.quantity + excluded.quantity, "
                       "updated_at = " NOW_SQL, DB_I(id)) < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ read */

void codepop_deliveries_list(struct req *r)
{
    struct scope_list sc;
    struct page pg;
    int64_t store_id, hub_id, request_id;
    const char *status = req_query(r, "status");
    if (req_page(r, &pg) < 0 || req_query_int(r, "store_id", 0, &store_id) < 0 ||
        req_query_int(r, "hub_id", 0, &hub_id) < 0 || req_query_int(r, "supply_request_id", 0, &request_id) < 0)
        return;
    if (status && rank(status) < 0) {
        reply_invalid(r, "status", "must be scheduled, in_transit, delivered or cancelled");
        return;
    }
    rbac_scope_list(r, "codepop.deliveries.read", &sc, CODEPOP_SCOPE_TYPES);
#define LIST_WHERE "WHERE " SCOPE_WHERE "AND (CAST($4 AS TEXT) IS NULL OR d.status = $4) AND ($5 = 0 OR d.store_id = $5) " \
                   "AND ($6 = 0 OR d.hub_id = $6) AND ($7 = 0 OR d.supply_request_id = $7) "
    reply_page(r, &pg, "SELECT COUNT(*) FROM codepop_deliveries d JOIN codepop_stores s ON s.id = d.store_id " LIST_WHERE,
               DELIVERY_SELECT LIST_WHERE "ORDER BY d.id DESC LIMIT $8 OFFSET $9",
               CODEPOP_SCOPE_ARGS(&sc), DB_S(status), DB_I(store_id), DB_I(hub_id), DB_I(request_id));
}

void codepop_deliveries_get(struct req *r)
{
    struct scope_list sc;
    rbac_scope_list(r, "codepop.deliveries.read", &sc, CODEPOP_SCOPE_TYPES);
    json_t *d = db_json_one(r->db, DELIVERY_SELECT "WHERE " SCOPE_WHERE "AND d.id = $4", CODEPOP_SCOPE_ARGS(&sc),
                            DB_I(r->param_int[0]));
    if (!d) reply_not_found(r);
    else reply_json(r, 200, d);
}

/* ---------------------------------------------------------------- status */

static json_t *status_event(json_t *d)
{
    return json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "uuid", json_object_get(d, "uuid"), "supply_request_uuid",
                     json_object_get(d, "supply_request_uuid"), "status", json_object_get(d, "status"), "store_id",
                     json_object_get(d, "store_id"), "hub_id", json_object_get(d, "hub_id"), "delivered_at",
                     json_object_get(d, "delivered_at"), "items", json_object_get(d, "items"));
}

void codepop_deliveries_status(struct req *r)
{
    int64_t id = r->param_int[0], store_id = 0;
    const char *to, *from;
    json_t *d = NULL;
    if (req_unpack(r, "{s:s}", "status", &to) < 0) return;
    if (!allowed_from(to)) {
        reply_invalid(r, "status", "must be in_transit, delivered or cancelled");
        return;
    }
    if (codepop_node.is_store) {
        reply_error(r, 409, "not_owner", "deliveries are changed at the hub node");
        return;
    }
    if (db_int(r->db, &store_id, "SELECT store_id FROM codepop_deliveries WHERE id = $1", DB_I(id)) != 1) {
        reply_not_found(r);
        return;
    }
    if (codepop_require_store(r, "codepop.deliveries.manage", store_id) < 0) return;
    if (db_begin(r->db) < 0) goto fail;
    char *was = db_text(r->db, "SELECT status FROM codepop_deliveries WHERE id = $1", DB_I(id));
    from = was ? pool_strdup(r->pool, was) : NULL;
    free(was);
    int n = db_exec(r->db, "UPDATE codepop_deliveries SET status = $2, updated_at = " NOW_SQL ", "
                           "delivered_at = CASE WHEN $2 = 'delivered' THEN " NOW_SQL " ELSE delivered_at END "
                           "WHERE id = $1 AND status IN (SELECT value FROM json_each($3))",
                    DB_I(id), DB_S(to), DB_S(allowed_from(to)));
    if (n == 0 && from) {
        db_rollback(r->db);
        reply_error(r, 409, "invalid_transition", "a %s delivery cannot become %s", from, to);
        return;
    }
    if (n != 1) goto rollback;
    if (!strcmp(to, "delivered") && !codepop_node.is_hub && raise_store_stock(r->db, id) < 0) goto rollback;
    if (!strcmp(to, "cancelled") && return_hub_stock(r->db, id) < 0) goto rollback;
    if (!(d = codepop_delivery_json(r->db, id)) ||
        audit_write(r->db, r, "codepop", "codepop.delivery.status_changed", "delivery", id,
                    json_pack("{s:O, s:s, s:s, s:O}", "uuid", json_object_get(d, "uuid"), "from", from, "to", to,
                              "stock_applied", json_object_get(d, "stock_applied"))) < 0 ||
        codepop_emit(r->db, store_id, "DELIVERY_STATUS_CHANGED", status_event(d)) < 0 || db_commit(r->db) < 0)
        goto rollback;
    reply_json(r, 200, d);
    return;
rollback:
    db_rollback(r->db);
    json_decref(d);
fail:
    reply_db_error(r);
}

/* ------------------------------------------------------------ peer events */

int codepop_delivery_mirror(struct db *db, json_t *delivery)
{
    const char *uuid = NULL, *request_uuid = NULL, *date = NULL, *status = "scheduled";
    json_int_t hub_id = 0, store_id = 0;
    int64_t exists = 0, request_id = 0, id;
    if (json_unpack(delivery, "{s:s, s:s, s:I, s:I, s:s, s?s}", "uuid", &uuid, "supply_request_uuid", &request_uuid,
                    "hub_id", &hub_id, "store_id", &store_id, "scheduled_date", &date, "status", &status) < 0 ||
        !(status = peer_status(status))) {
        log_warn("codepop: delivery mirror: malformed payload");
        return -1;
    }
    if (db_begin(db) < 0) return -1;
    if (db_int(db, &exists, "SELECT COUNT(*) FROM codepop_deliveries WHERE uuid = $1", DB_S(uuid)) != 1) goto fail;
    if (exists) return db_commit(db);
    if (db_int(db, &request_id, "SELECT id FROM codepop_supply_requests WHERE uuid = $1", DB_S(request_uuid)) != 1) {
        log_warn("codepop: delivery %s: unknown supply request %s", uuid, request_uuid);
        goto fail;
    }
    if (db_int(db, &id, "INSERT INTO codepop_deliveries (uuid, supply_request_id, supply_request_uuid, hub_id, "
                        "store_id, scheduled_date) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
               DB_S(uuid), DB_I(request_id), DB_S(request_uuid), DB_I(hub_id), DB_I(store_id), DB_S(date)) != 1 ||
        audit_write_as(db, 0, "codepop", "codepop.delivery.mirrored", "delivery", id,
                       json_pack("{s:s, s:s}", "uuid", uuid, "supply_request_uuid", request_uuid)) < 0)
        goto fail;
    if (strcmp(status, "scheduled") && codepop_delivery_apply_status(db, uuid, status) < 0) goto fail;
    return db_commit(db);
fail:
    db_rollback(db);
    return -1;
}

int codepop_delivery_apply_status(struct db *db, const char *uuid, const char *status)
{
    int64_t id = 0;
    char *now = NULL;
    if (!uuid || !(status = peer_status(status))) return -1;
    if (db_begin(db) < 0) return -1;
    if (db_int(db, &id, "SELECT id FROM codepop_deliveries WHERE uuid = $1", DB_S(uuid)) != 1 ||
        !(now = db_text(db, "SELECT status FROM codepop_deliveries WHERE id = $1", DB_I(id)))) {
        log_warn("codepop: delivery status: unknown delivery %s", uuid);
        goto fail;
    }
    bool forward = rank(status) > rank(now);
    if (!forward && strcmp(status, now)) {       /* late or conflicting: the delivery has moved on */
        log_warn("codepop: delivery %s is %s; ignoring %s", uuid, now, status);
        free(now);
        return db_commit(db);
    }
    if (forward && (db_exec(db, "UPDATE codepop_deliveries SET status = $2, updated_at = " NOW_SQL ", delivered_at = "
                                "CASE WHEN $2 = 'delivered' THEN " NOW_SQL " ELSE delivered_at END WHERE id = $1",
                            DB_I(id), DB_S(status)) != 1 ||
                    audit_write_as(db, 0, "codepop", "codepop.delivery.status_changed", "delivery", id,
                                   json_pack("{s:s, s:s, s:s}", "uuid", uuid, "from", now, "to", status)) < 0))
        goto fail;
    if (!strcmp(status, "delivered") && raise_store_stock(db, id) < 0) goto fail;
    free(now);
    return db_commit(db);
fail:
    free(now);
    db_rollback(db);
    return -1;
}
