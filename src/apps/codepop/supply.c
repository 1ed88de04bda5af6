/* supply.c -- supply requests. A store manager asks the region's hub for
 * stock; a logistics manager of the region approves it (hub stock taken and a
 * delivery scheduled, in one transaction) or rejects it.
 *
 * On a P2P store node the request is created here and mirrored at the hub
 * (SUPPLY_REQUEST_CREATED carries the whole request); the hub's decision comes
 * back by uuid (codepop_supply_mark). Approving and rejecting on a store node
 * answer 409 not_owner: the hub owns its stock. Choices where the spec is
 * silent: an item name may appear once per request (400 otherwise); item
 * names and types are 1..100 characters, notes up to 1000; hub stock is matched
 * by item_name; dates are UTC. */
#include "codepop.h"
#include <string.h>

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"
#define MAX_ITEMS 50
#define MAX_QTY 10000

#define ITEMS_OF(req) \
    "(SELECT json_group_array(json_object('id', i.id, 'item_name', i.item_name, 'item_type', i.item_type, " \
    "'quantity', i.quantity)) FROM (SELECT * FROM codepop_supply_request_items WHERE request_id = " req      \
    " ORDER BY id) i)"
#define REQUEST_SELECT \
    "SELECT r.id, r.uuid, r.store_id, s.name AS store_name, s.region_id, s.supply_hub_id AS hub_id, "          \
    "r.requested_by, r.status, r.urgency, r.notes, r.reviewed_by, r.approved_at, r.rejected_reason, "           \
    "r.origin_node_id, r.created_at, r.updated_at, " ITEMS_OF("r.id") " AS items__json, "                       \
    "(SELECT d.id FROM codepop_deliveries d WHERE d.supply_request_id = r.id) AS delivery_id "                 \
    "FROM codepop_supply_requests r JOIN codepop_stores s ON s.id = r.store_id "
#define SCOPE_WHERE \
    "($1 = 1 OR " DB_IN_IDS("r.store_id", 2) " OR " DB_IN_IDS("s.region_id", 3) ") "

static const char *const urgencies[] = {"LOW", "NORMAL", "HIGH", "CRITICAL", NULL};
static const char *const statuses[] = {"pending", "approved", "rejected", NULL};

static bool one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (!strcmp(s, *set)) return true;
    return false;
}

/* Characters (UTF-8 code points) of s, and whether it has anything but blanks. */
static size_t text_len(const char *s, bool *blank)
{
    size_t n = 0;
    *blank = true;
    for (; *s; s++) {
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
        if (!strchr(" \t\r\n", *s)) *blank = false;
    }
    return n;
}

static json_t *request_json(struct db *db, int64_t id)
{
    return db_json_one(db, REQUEST_SELECT "WHERE r.id = $1", DB_I(id));
}

/* What a peer needs to mirror the request (local ids stay local). */
static json_t *mirror_payload(json_t *req)
{
    json_t *items = json_deep_copy(json_object_get(req, "items")), *it;
    size_t i;
    json_array_foreach (items, i, it) json_object_del(it, "id");
    return json_pack("{s:O, s:O, s:O, s:O, s:O, s:o, s:O, s:O}", "uuid", json_object_get(req, "uuid"), "store_id",
                     json_object_get(req, "store_id"), "status", json_object_get(req, "status"), "urgency",
                     json_object_get(req, "urgency"), "notes", json_object_get(req, "notes"), "items", items,
                     "created_at", json_object_get(req, "created_at"), "requested_by",
                     json_object_get(req, "requested_by"));
}

/* ---------------------------------------------------------------- create */

static int check_name(struct req *r, json_t *item, size_t i, const char *key)
{
    json_t *v = json_object_get(item, key);
    bool blank;
    const char *field = pool_printf(r->pool, "items[%zu].%s", i, key);
    if (!v) reply_invalid(r, field, "is required");
    else if (!json_is_string(v)) reply_invalid(r, field, "must be a string");
    else if (text_len(json_string_value(v), &blank) > 100 || blank)
        reply_invalid(r, field, "must be 1 to 100 characters");
    else return 0;
    return -1;
}

static int check_items(struct req *r, json_t *items)
{
    size_t i, j;
    json_t *it, *q;
    if (!json_is_array(items) || !json_array_size(items) || json_array_size(items) > MAX_ITEMS) {
        reply_invalid(r, "items", "must be an array of 1 to 50 items");
        return -1;
    }
    json_array_foreach (items, i, it) {
        const char *key;
        json_t *v;
        if (!json_is_object(it)) {
            reply_invalid(r, pool_printf(r->pool, "items[%zu]", i), "must be an object");
            return -1;
        }
        json_object_foreach (it, key, v) {
            if (strcmp(key, "item_name") && strcmp(key, "item_type") && strcmp(key, "quantity")) {
                reply_invalid(r, pool_printf(r->pool, "items[%zu].%s", i, key), "is not a known field");
                return -1;
            }
        }
        if (check_name(r, it, i, "item_name") < 0 || check_name(r, it, i, "item_type") < 0) return -1;
        q = json_object_get(it, "quantity");
        if (!json_is_integer(q) || json_integer_value(q) < 1 || json_integer_value(q) > MAX_QTY) {
            reply_invalid(r, pool_printf(r->pool, "items[%zu].quantity", i), "must be an integer from 1 to 10000");
            return -1;
        }
        for (j = 0; j < i; j++) {
            if (!strcmp(json_string_value(json_object_get(it, "item_name")),
                        json_string_value(json_object_get(json_array_get(items, j), "item_name")))) {
                reply_invalid(r, pool_printf(r->pool, "items[%zu].item_name", i), "is listed twice");
                return -1;
            }
        }
    }
    return 0;
}

/* The store the request is for: the body's, this store node's, or the one
 * store the caller manages. Replies and returns 0 when there is none. */
static int64_t pick_store(struct req *r, int64_t given)
{
    if (codepop_node.is_store && given && given != codepop_node.store_id) {
        reply_error(r, 409, "not_owner", "this node serves store %lld only", (long long)codepop_node.store_id);
        return 0;
    }
    if (!given && codepop_node.is_store) given = codepop_node.store_id;
    if (!given) {
        bool global;
        size_t n;
        int64_t *ids = rbac_scopes(r, "codepop.supply.create", "store", &global, &n);
        if (n != 1) {
            reply_invalid(r, "store_id", n ? "is required: you manage several stores" : "is required");
            return 0;
        }
        given = ids[0];
    }
    return codepop_require_store(r, "codepop.supply.create", given) < 0 ? 0 : given;
}

void codepop_supply_create(struct req *r)
{
    json_int_t store_id = 0;
    json_t *items, *req = NULL, *it;
    const char *urgency, *notes = "";
    char uuid[37];
    bool blank;
    size_t i;
    if (req_unpack(r, "{s?I, s:o, s:s, s?s}", "store_id", &store_id, "items", &items, "urgency", &urgency,
                   "notes", &notes) < 0 ||
        check_items(r, items) < 0)
        return;
    if (!one_of(urgency, urgencies)) {
        reply_invalid(r, "urgency", "must be LOW, NORMAL, HIGH or CRITICAL");
        return;
    }
    if (text_len(notes, &blank) > 1000) {
        reply_invalid(r, "notes", "must be at most 1000 characters");
        return;
    }
    if (!(store_id = pick_store(r, store_id))) return;
    int64_t id;
    uuid_v4(uuid);
    if (db_begin(r->db) < 0) goto fail;
    if (db_int(r->db, &id, "INSERT INTO codepop_supply_requests (uuid, store_id, requested_by, urgency, notes) "
                           "VALUES ($1, $2, $3, $4, $5) RETURNING id",
               DB_S(uuid), DB_I(store_id), DB_I(r->user.id), DB_S(urgency), DB_S(notes)) != 1)
        goto rollback;
    json_array_foreach (items, i, it) {
        if (db_exec(r->db, "INSERT INTO codepop_supply_request_items (request_id, item_name, item_type, quantity) "
                           "VALUES ($1, $2, $3, $4)",
                    DB_I(id), DB_S(json_string_value(json_object_get(it, "item_name"))),
                    DB_S(json_string_value(json_object_get(it, "item_type"))),
                    DB_I(json_integer_value(json_object_get(it, "quantity")))) != 1)
            goto rollback;
    }
    if (!(req = request_json(r->db, id)) ||
        audit_write(r->db, r, "codepop", "codepop.supply_request.created", "supply_request", id,
                    json_pack("{s:s, s:I, s:s, s:O}", "uuid", uuid, "store_id", store_id, "urgency", urgency, "items",
                              json_object_get(req, "items"))) < 0 ||
        codepop_emit(r->db, store_id, "SUPPLY_REQUEST_CREATED", mirror_payload(req)) < 0 || db_commit(r->db) < 0)
        goto rollback;
    reply_json(r, 201, req);
    return;
rollback:
    db_rollback(r->db);
    json_decref(req);
fail:
    reply_db_error(r);
}

/* ------------------------------------------------------------------ read */

void codepop_supply_list(struct req *r)
{
    struct scope_list sc;
    struct page pg;
    int64_t store_id;
    const char *status = req_query(r, "status"), *urgency = req_query(r, "urgency");
    if (req_page(r, &pg) < 0 || req_query_int(r, "store_id", 0, &store_id) < 0) return;
    if (status && !one_of(status, statuses)) {
        reply_invalid(r, "status", "must be pending, approved or rejected");
        return;
    }
    if (urgency && !one_of(urgency, urgencies)) {
        reply_invalid(r, "urgency", "must be LOW, NORMAL, HIGH or CRITICAL");
        return;
    }
    rbac_scope_list(r, "codepop.supply.read", &sc, CODEPOP_SCOPE_TYPES);
#define LIST_WHERE "WHERE " SCOPE_WHERE "AND (CAST($4 AS TEXT) IS NULL OR r.status = $4) AND (CAST($5 AS TEXT) IS NULL OR r.urgency = $5) " \
                   "AND ($6 = 0 OR r.store_id = $6) "
    reply_page(r, &pg, "SELECT COUNT(*) FROM codepop_supply_requests r JOIN codepop_stores s ON s.id = r.store_id " LIST_WHERE,
               REQUEST_SELECT LIST_WHERE "ORDER BY r.id DESC LIMIT $7 OFFSET $8",
               CODEPOP_SCOPE_ARGS(&sc), DB_S(status), DB_S(urgency), DB_I(store_id));
}

void codepop_supply_get(struct req *r)
{
    struct scope_list sc;
    rbac_scope_list(r, "codepop.supply.read", &sc, CODEPOP_SCOPE_TYPES);
    json_t *req = db_json_one(r->db, REQUEST_SELECT "WHERE " SCOPE_WHERE "AND r.id = $4", CODEPOP_SCOPE_ARGS(&sc),
                              DB_I(r->param_int[0]));
    if (!req) reply_not_found(r);
    else reply_json(r, 200, req);
}

/* ---------------------------------------------------------------- review */

/* The request's store, once the caller may review there; 0 after a reply. */
static int64_t review_target(struct req *r)
{
    int64_t store_id = 0;
    if (codepop_node.is_store) {
        reply_error(r, 409, "not_owner", "supply requests are reviewed at the hub node");
        return 0;
    }
    if (db_int(r->db, &store_id, "SELECT store_id FROM codepop_supply_requests WHERE id = $1",
               DB_I(r->param_int[0])) != 1) {
        reply_not_found(r);
        return 0;
    }
    return codepop_require_store(r, "codepop.supply.review", store_id) < 0 ? 0 : store_id;
}

/* Inside the transaction: pending -> status, or reply 409 and return -1. */
static int leave_pending(struct req *r, int64_t id, const char *status, const char *reason)
{
    int n = db_exec(r->db, "UPDATE codepop_supply_requests SET status = $2, reviewed_by = $3, rejected_reason = $4, "
                           "approved_at = CASE WHEN $2 = 'approved' THEN " NOW_SQL " END, updated_at = " NOW_SQL
                           " WHERE id = $1 AND status = 'pending'",
                    DB_I(id), DB_S(status), DB_I(r->user.id), DB_S(reason));
    if (n == 1) return 0;
    char *now = n == 0 ? db_text(r->db, "SELECT status FROM codepop_supply_requests WHERE id = $1", DB_I(id)) : NULL;
    db_rollback(r->db);
    if (now) reply_error(r, 409, "invalid_state", "the supply request is %s, not pending", now);
    else reply_db_error(r);
    free(now);
    return -1;
}

/* Take every item from the hub with a guarded update. On a shortfall replies
 * 409 insufficient_hub_stock (the caller rolls back) and returns -2. */
static int take_hub_stock(struct req *r, int64_t id, int64_t hub_id)
{
    json_t *items = db_json_all(r->db, "SELECT item_name, quantity FROM codepop_supply_request_items "
                                       "WHERE request_id = $1 ORDER BY id", DB_I(id)), *it;
    size_t i;
    int rc = items ? 0 : -1;
    json_array_foreach (items, i, it) {
        const char *name = json_string_value(json_object_get(it, "item_name"));
        json_int_t need = json_integer_value(json_object_get(it, "quantity"));
        int n = db_exec(r->db, "UPDATE codepop_hub_inventory SET quantity = quantity - $3, updated_at = " NOW_SQL
                               " WHERE hub_id = $1 AND item_name = $2 AND quantity >= $3",
                        DB_I(hub_id), DB_S(name), DB_I(need));
        if (n == 1) continue;
        rc = -1;
        if (n < 0) break;
        int64_t have = 0;
        db_int(r->db, &have, "SELECT quantity FROM codepop_hub_inventory WHERE hub_id = $1 AND item_name = $2",
               DB_I(hub_id), DB_S(name));
        char msg[256];
        snprintf(msg, sizeof msg, tr(r, "the hub has %lld of %s, %lld needed"), (long long)have, name, (long long)need);
        reply_json(r, 409, json_pack("{s:{s:s, s:s, s:[{s:s, s:s, s:I, s:I}]}}", "error", "code",
                                     "insufficient_hub_stock", "message", msg, "details", "item_name", name, "field",
                                     pool_printf(r->pool, "items[%zu].quantity", i), "needed", need,
                                     "available", (json_int_t)have));
        rc = -2;
        break;
    }
    json_decref(items);
    return rc;
}

static const char *delivery_offset(const char *urgency)
{
    if (!strcmp(urgency, "CRITICAL")) return "+0 days";
    if (!strcmp(urgency, "HIGH")) return "+1 days";
    return "+2 days";
}

void codepop_supply_approve(struct req *r)
{
    int64_t id = r->param_int[0], store_id, hub_id = 0, did;
    json_t *req = NULL, *delivery = NULL;
    char uuid[37];
    int rc;
    if (req_no_fields(r) < 0) return;                  /* approve takes no fields */
    if (!(store_id = review_target(r))) return;
    if (db_begin(r->db) < 0) goto fail;
    if (leave_pending(r, id, "approved", NULL) < 0) return;
    if (db_int(r->db, &hub_id, "SELECT supply_hub_id FROM codepop_stores WHERE id = $1", DB_I(store_id)) != 1 ||
        (rc = take_hub_stock(r, id, hub_id)) == -1)
        goto rollback;
    if (rc == -2) {
        db_rollback(r->db);
        return;
    }
    uuid_v4(uuid);
    if (!(req = request_json(r->db, id)))
        goto rollback;
    const char *urgency = json_string_value(json_object_get(req, "urgency"));
    if (db_int(r->db, &did, "INSERT INTO codepop_deliveries (uuid, supply_request_id, supply_request_uuid, hub_id, "
                            "store_id, scheduled_date) VALUES ($1, $2, $3, $4, $5, date('now', $6)) RETURNING id",
               DB_S(uuid), DB_I(id), DB_S(json_string_value(json_object_get(req, "uuid"))), DB_I(hub_id),
               DB_I(store_id), DB_S(delivery_offset(urgency))) != 1)
        goto rollback;
    json_object_set_new(req, "delivery_id", json_integer(did));
    if (!(delivery = codepop_delivery_json(r->db, did)) ||
        audit_write(r->db, r, "codepop", "codepop.supply_request.approved", "supply_request", id,
                    json_pack("{s:O, s:I, s:s, s:I, s:O}", "uuid", json_object_get(req, "uuid"), "hub_id",
                              (json_int_t)hub_id, "delivery_uuid", uuid, "delivery_id", (json_int_t)did, "items",
                              json_object_get(req, "items"))) < 0 ||
        codepop_emit(r->db, store_id, "SUPPLY_REQUEST_APPROVED",
                     json_pack("{s:O, s:s, s:I, s:O, s:s}", "uuid", json_object_get(req, "uuid"), "status", "approved",
                               "reviewed_by", (json_int_t)r->user.id, "approved_at",
                               json_object_get(req, "approved_at"), "delivery_uuid", uuid)) < 0 ||
        codepop_emit(r->db, store_id, "DELIVERY_SCHEDULED", json_deep_copy(delivery)) < 0 || db_commit(r->db) < 0)
        goto rollback;
    json_object_set_new(req, "delivery", delivery);
    reply_json(r, 200, req);
    return;
rollback:
    db_rollback(r->db);
    json_decref(req);
    json_decref(delivery);
fail:
    reply_db_error(r);
}

void codepop_supply_reject(struct req *r)
{
    int64_t id = r->param_int[0], store_id;
    const char *reason;
    json_t *req = NULL;
    bool blank;
    if (req_unpack(r, "{s:s}", "reason", &reason) < 0) return;
    if (text_len(reason, &blank) > 500 || blank) {
        reply_invalid(r, "reason", "must be 1 to 500 characters");
        return;
    }
    if (!(store_id = review_target(r))) return;
    if (db_begin(r->db) < 0) goto fail;
    if (leave_pending(r, id, "rejected", reason) < 0) return;
    if (!(req = request_json(r->db, id)) ||
        audit_write(r->db, r, "codepop", "codepop.supply_request.rejected", "supply_request", id,
                    json_pack("{s:O, s:s}", "uuid", json_object_get(req, "uuid"), "reason", reason)) < 0 ||
        codepop_emit(r->db, store_id, "SUPPLY_REQUEST_REJECTED",
                     json_pack("{s:O, s:s, s:I, s:s, s:O}", "uuid", json_object_get(req, "uuid"), "status", "rejected",
                               "reviewed_by", (json_int_t)r->user.id, "rejected_reason", reason, "reviewed_at",
                               json_object_get(req, "updated_at"))) < 0 ||
        db_commit(r->db) < 0)
        goto rollback;
    reply_json(r, 200, req);
    return;
rollback:
    db_rollback(r->db);
    json_decref(req);
fail:
    reply_db_error(r);
}

/* ------------------------------------------------------------ peer events */

int codepop_supply_mirror(struct db *db, json_t *request, const char *origin_node)
{
    const char *uuid = NULL, *urgency = NULL, *notes = "", *created_at = NULL;
    json_int_t store_id = 0;
    json_t *items = NULL, *by = NULL, *it;
    int64_t exists = 0, id;
    size_t i;
    if (json_unpack(request, "{s:s, s:I, s:s, s?s, s:o, s?s, s?o}", "uuid", &uuid, "store_id", &store_id, "urgency",
                    &urgency, "notes", &notes, "items", &items, "created_at", &created_at, "requested_by", &by) < 0 ||
        !one_of(urgency, urgencies) || !json_is_array(items)) {
        log_warn("codepop: supply mirror: malformed payload");
        return -1;
    }
    if (db_begin(db) < 0) return -1;
    if (db_int(db, &exists, "SELECT COUNT(*) FROM codepop_supply_requests WHERE uuid = $1", DB_S(uuid)) != 1)
        goto fail;
    if (exists) return db_commit(db);
    if (db_int(db, &id, "INSERT INTO codepop_supply_requests (uuid, store_id, requested_by, urgency, notes, "
                        "origin_node_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, " NOW_SQL ")) "
                        "RETURNING id",
               DB_S(uuid), DB_I(store_id), json_is_integer(by) ? DB_I(json_integer_value(by)) : DB_NULL,
               DB_S(urgency), DB_S(notes), DB_S(origin_node), DB_S(created_at)) != 1)
        goto fail;
    json_array_foreach (items, i, it) {
        const char *name = NULL, *type = NULL;
        json_int_t qty = 0;
        if (json_unpack(it, "{s:s, s:s, s:I}", "item_name", &name, "item_type", &type, "quantity", &qty) < 0 ||
            db_exec(db, "INSERT INTO codepop_supply_request_items (request_id, item_name, item_type, quantity) "
                        "VALUES ($1, $2, $3, $4)", DB_I(id), DB_S(name), DB_S(type), DB_I(qty)) != 1)
            goto fail;
    }
    if (audit_write_as(db, 0, "codepop", "codepop.supply_request.mirrored", "supply_request", id,
                       json_pack("{s:s, s:s?}", "uuid", uuid, "origin_node", origin_node)) < 0)
        goto fail;
    return db_commit(db);
fail:
    db_rollback(db);
    return -1;
}

int codepop_supply_mark(struct db *db, const char *uuid, const char *status, json_t *payload)
{
    json_t *by = json_object_get(payload, "reviewed_by");
    const char *at = json_string_value(json_object_get(payload, "approved_at"));
    const char *reason = json_string_value(json_object_get(payload, "rejected_reason"));
    int64_t id = 0;
    if (!uuid || !status || (strcmp(status, "approved") && strcmp(status, "rejected"))) return -1;
    if (!reason) reason = json_string_value(json_object_get(payload, "reason"));
    if (db_begin(db) < 0) return -1;
    if (db_int(db, &id, "SELECT id FROM codepop_supply_requests WHERE uuid = $1", DB_S(uuid)) != 1) {
        log_warn("codepop: supply mark: unknown request %s", uuid);
        goto fail;
    }
    int n = db_exec(db, "UPDATE codepop_supply_requests SET status = $2, reviewed_by = $3, "
                        "approved_at = CASE WHEN $2 = 'approved' THEN COALESCE($4, " NOW_SQL ") END, "
                        "rejected_reason = CASE WHEN $2 = 'rejected' THEN COALESCE($5, '') END, "
                        "updated_at = " NOW_SQL " WHERE id = $1 AND status = 'pending'",
                    DB_I(id), DB_S(status), json_is_integer(by) ? DB_I(json_integer_value(by)) : DB_NULL, DB_S(at),
                    DB_S(reason));
    if (n < 0) goto fail;
    const char *action = !strcmp(status, "approved") ? "codepop.supply_request.approved"
                                                     : "codepop.supply_request.rejected";
    if (n == 1 && audit_write_as(db, 0, "codepop", action, "supply_request", id,
                                 json_pack("{s:s, s:s}", "uuid", uuid, "status", status)) < 0)
        goto fail;
    return db_commit(db);         /* n == 0: already decided, nothing to do */
fail:
    db_rollback(db);
    return -1;
}
