/* supplier_orders.c -- the supplier's side of a completed group: its orders
 * (list, get) and its answer (accept, reject).
 *
 * groupbuy_order_accept/_reject are the state changes (the seeder calls them
 * too); the handlers add scope, validation and, for a rejection, the refund run
 * after the commit.
 *
 * Choices where the spec is silent:
 *   - an order outside the caller's read scope is 404; readable but not
 *     answerable (a supplier's staff) is 403;
 *   - accept's notes are optional, 1..1000 characters when given, and become
 *     the group's supplier_notes;
 *   - a rejection sets the group's status_reason to "rejected by supplier:
 *     <reason>" and requests refunds with that reason;
 *   - accept notifies the group's counted traders; reject notifies every
 *     trader of the group; lists are newest first. */
#include "groupbuy.h"
#include <stdlib.h>
#include <string.h>

#define ORDER_SELECT                                                                                             \
    "SELECT o.id, o.order_number, o.group_id, o.supplier_id, "                                                   \
    "json_object('id', p.id, 'name', p.name, 'unit', p.unit) AS product__json, o.quantity, o.total_cents, "      \
    "o.currency, o.status, o.rejection_reason, o.responded_at, o.admin_verification_status, o.admin_verified_at, " \
    "o.qr_codes_generated AS qr_codes_generated__bool, g.pickup_location, g.status AS group_status, "            \
    "g.supplier_status, o.created_at FROM groupbuy_supplier_orders o "                                           \
    "JOIN groupbuy_groups g ON g.id = o.group_id JOIN groupbuy_products p ON p.id = g.product_id "
#define SCOPE_WHERE "($1 = 1 OR " DB_IN_IDS("o.supplier_id", 2) ") "

struct order_row {
    int64_t id, group_id, supplier_id, total_cents;
    char number[64], currency[8];
};

json_t *groupbuy_order_json(struct db *db, int64_t order_id)
{
    return db_json_one(db, ORDER_SELECT "WHERE o.id = $1", DB_I(order_id));
}

/* -------------------------------------------------------------- answers */

static int load_order(struct db *db, int64_t id, struct order_row *o)
{
    struct db_rows rows;
    int found = 0;
    if (db_query(db, &rows, "SELECT id, group_id, supplier_id, total_cents, order_number, currency "
                            "FROM groupbuy_supplier_orders WHERE id = $1", DB_I(id)) < 0)
        return -1;
    if (db_step(&rows)) {
        found = 1;
        o->id = db_col_int(&rows, 0);
        o->group_id = db_col_int(&rows, 1);
        o->supplier_id = db_col_int(&rows, 2);
        o->total_cents = db_col_int(&rows, 3);
        snprintf(o->number, sizeof o->number, "%s", db_col_text(&rows, 4));
        snprintf(o->currency, sizeof o->currency, "%s", db_col_text(&rows, 5));
    }
    db_rows_close(&rows);
    return found;
}

/* Load the order and move it out of pending, guarded by the group awaiting
 * the supplier. 1 moved, 0 not pending, -3 none, -1 error. */
static int answer(struct db *db, int64_t order_id, int64_t actor_id, const char *status, const char *reason,
                  struct order_row *o)
{
    int found = load_order(db, order_id, o);
    if (found <= 0) return found == 0 ? -3 : -1;
    int changed = db_exec(db, "UPDATE groupbuy_supplier_orders SET status = $2, rejection_reason = $3, "
                              "responded_by = NULLIF($4, 0), responded_at = " GB_NOW_SQL ", updated_at = " GB_NOW_SQL
                              " WHERE id = $1 AND status = 'pending' AND EXISTS (SELECT 1 FROM groupbuy_groups g "
                              "WHERE g.id = group_id AND g.status = 'completed' AND g.supplier_status = "
                              "'pending_supplier')",
                          DB_I(order_id), DB_S(status), DB_S(reason), DB_I(actor_id));
    return changed < 0 ? -1 : changed;
}

/* Nothing was written unless rc is 1: only an error rolls back (an inner
 * rollback would fail the caller's transaction). */
static int finish(struct db *db, int rc)
{
    if (rc == -1) {
        db_rollback(db);
        return -1;
    }
    return db_commit(db) < 0 ? -1 : rc;
}

static int accept_writes(struct db *db, struct req *r, const struct order_row *o, int64_t actor_id, const char *notes)
{
    int changed = db_exec(db, "UPDATE groupbuy_groups SET supplier_status = 'supplier_accepted', "
                              "supplier_response_at = " GB_NOW_SQL ", supplier_notes = $2, updated_at = " GB_NOW_SQL
                              " WHERE id = $1 AND status = 'completed' AND supplier_status = 'pending_supplier'",
                          DB_I(o->group_id), DB_S(notes));
    if (changed != 1) return -1;
    json_t *data = json_pack("{s:I, s:I, s:s}", "group_id", (json_int_t)o->group_id, "order_id", (json_int_t)o->id,
                             "order_number", o->number);
    if (groupbuy_ledger_add(db, "escrow", o->supplier_id, o->group_id, 0, o->id, "escrow_release", -o->total_cents,
                            o->currency, o->number) < 0 ||
        groupbuy_ledger_add(db, "supplier", o->supplier_id, o->group_id, 0, o->id, "order_credit", o->total_cents,
                            o->currency, o->number) < 0 ||
        groupbuy_notify_traders(db, o->group_id, true, "groupbuy.order.accepted", "The supplier accepted your group order",
                       json_deep_copy(data)) < 0 ||
        groupbuy_audit(db, r, actor_id, "groupbuy.order.accepted", "order", o->id,
              json_pack("{s:I, s:s, s:I, s:s, s:s?}", "group_id", (json_int_t)o->group_id, "order_number", o->number,
                        "total_cents", (json_int_t)o->total_cents, "currency", o->currency, "notes", notes)) < 0) {
        json_decref(data);
        return -1;
    }
    return groupbuy_emit(db, o->group_id, "order.accepted", data) < 0 ? -1 : 1;
}

static int order_accept(struct db *db, struct req *r, int64_t order_id, int64_t actor_id, const char *notes)
{
    struct order_row o;
    if (db_begin(db) < 0) return -1;
    int rc = answer(db, order_id, actor_id, "accepted", NULL, &o);
    if (rc == 1) rc = accept_writes(db, r, &o, actor_id, notes);
    return finish(db, rc);
}

int groupbuy_order_accept(struct db *db, int64_t order_id, int64_t actor_id, const char *notes)
{
    return order_accept(db, NULL, order_id, actor_id, notes);
}

static int reject_writes(struct db *db, struct req *r, const struct order_row *o, int64_t actor_id,
                         const char *reason, int *requested)
{
    char *why = xasprintf("rejected by supplier: %s", reason);
    int rc = -1;
    int changed = db_exec(db, "UPDATE groupbuy_groups SET status = 'cancelled', supplier_status = 'supplier_rejected', "
                              "supplier_response_at = " GB_NOW_SQL ", supplier_notes = $2, status_reason = $3, "
                              "closed_at = " GB_NOW_SQL ", updated_at = " GB_NOW_SQL
                              " WHERE id = $1 AND status = 'completed' AND supplier_status = 'pending_supplier'",
                          DB_I(o->group_id), DB_S(reason), DB_S(why));
    if (changed != 1 ||
        (*requested = groupbuy_refunds_request(db, o->group_id, 0, why, actor_id)) < 0 ||
        groupbuy_notify_traders(db, o->group_id, false, "groupbuy.order.rejected", "The supplier rejected your group order",
                       json_pack("{s:I, s:I, s:s, s:s}", "group_id", (json_int_t)o->group_id, "order_id",
                                 (json_int_t)o->id, "order_number", o->number, "reason", reason)) < 0 ||
        groupbuy_audit(db, r, actor_id, "groupbuy.order.rejected", "order", o->id,
              json_pack("{s:I, s:s, s:s, s:i}", "group_id", (json_int_t)o->group_id, "order_number", o->number,
                        "reason", reason, "refunds_requested", *requested)) < 0 ||
        groupbuy_emit(db, o->group_id, "order.rejected",
                      json_pack("{s:I, s:I, s:s, s:s}", "group_id", (json_int_t)o->group_id, "order_id",
                                (json_int_t)o->id, "order_number", o->number, "reason", reason)) < 0)
        goto out;
    rc = 1;
out:
    free(why);
    return rc;
}

static int order_reject(struct db *db, struct req *r, int64_t order_id, int64_t actor_id, const char *reason,
                        int *requested)
{
    struct order_row o;
    *requested = 0;
    if (db_begin(db) < 0) return -1;
    int rc = answer(db, order_id, actor_id, "rejected", reason, &o);
    if (rc == 1) rc = reject_writes(db, r, &o, actor_id, reason, requested);
    return finish(db, rc);
}

int groupbuy_order_reject(struct db *db, int64_t order_id, int64_t actor_id, const char *reason)
{
    int requested;
    return order_reject(db, NULL, order_id, actor_id, reason, &requested);
}

/* ------------------------------------------------------------- handlers */

void groupbuy_supplier_orders_list(struct req *r)
{
    struct scope_list sc;
    struct page pg;
    int64_t group_id;
    const char *status = req_query(r, "status");
    if (req_page(r, &pg) < 0 || req_query_int(r, "group_id", 0, &group_id) < 0) return;
    if (status && strcmp(status, "pending") && strcmp(status, "accepted") && strcmp(status, "rejected")) {
        reply_invalid(r, "status", "must be pending, accepted or rejected");
        return;
    }
    rbac_scope_list(r, "groupbuy.supplier_orders.read", &sc, "supplier");
#define LIST_WHERE "WHERE " SCOPE_WHERE "AND (CAST($3 AS TEXT) IS NULL OR o.status = $3) AND ($4 = 0 OR o.group_id = $4) "
    reply_page(r, &pg, "SELECT COUNT(*) FROM groupbuy_supplier_orders o " LIST_WHERE,
               ORDER_SELECT LIST_WHERE "ORDER BY o.id DESC LIMIT $5 OFFSET $6", GROUPBUY_SCOPE_ARGS(&sc),
               DB_S(status), DB_I(group_id));
#undef LIST_WHERE
}

void groupbuy_supplier_orders_get(struct req *r)
{
    struct scope_list sc;
    rbac_scope_list(r, "groupbuy.supplier_orders.read", &sc, "supplier");
    json_t *o = db_json_one(r->db, ORDER_SELECT "WHERE " SCOPE_WHERE "AND o.id = $3", GROUPBUY_SCOPE_ARGS(&sc),
                            DB_I(r->param_int[0]));
    if (!o) reply_not_found(r);
    else reply_json(r, 200, o);
}

/* The order when the caller may answer it: 404 outside their read scope,
 * 403 when they may read but not answer; 0 after a reply. */
static int64_t answerable(struct req *r)
{
    int64_t supplier_id = 0, id = r->param_int[0];
    if (db_int(r->db, &supplier_id, "SELECT supplier_id FROM groupbuy_supplier_orders WHERE id = $1", DB_I(id)) != 1 ||
        !groupbuy_can_supplier(r, "groupbuy.supplier_orders.read", supplier_id)) {
        reply_not_found(r);
        return 0;
    }
    if (groupbuy_require_supplier(r, "groupbuy.supplier_orders.answer", supplier_id) < 0) return 0;
    return id;
}

static void reply_answered(struct req *r, int rc, int64_t id)
{
    json_t *o = rc == 1 ? groupbuy_order_json(r->db, id) : NULL;
    if (rc == 0) reply_error(r, 409, "invalid_state", "order %lld is not pending", (long long)id);
    else if (rc == -3) reply_not_found(r);
    else if (!o) reply_db_error(r);
    else reply_json(r, 200, o);
}

void groupbuy_supplier_orders_accept(struct req *r)
{
    const char *notes = NULL;
    int64_t id;
    if (r->body && json_object_size(r->body) && req_unpack(r, "{s?s}", "notes", &notes) < 0) return;
    if (req_text(r, "notes", notes, 1000, false) < 0 || !(id = answerable(r))) return;
    reply_answered(r, order_accept(r->db, r, id, r->user.id, notes), id);
}

/* After the commit the rejection stands; refunds that cannot run now are left
 * to the retry job. */
void groupbuy_supplier_orders_reject(struct req *r)
{
    const char *reason;
    int64_t id;
    int requested;
    struct groupbuy_refund_run run = {0};
    if (req_unpack(r, "{s:s}", "reason", &reason) < 0 || req_text(r, "reason", reason, 1000, true) < 0 ||
        !(id = answerable(r)))
        return;
    int rc = order_reject(r->db, r, id, r->user.id, reason, &requested);
    json_t *o = rc == 1 ? groupbuy_order_json(r->db, id) : NULL;
    if (!o) {
        reply_answered(r, rc, id);
        return;
    }
    if (groupbuy_refunds_process(r->db, json_integer_value(json_object_get(o, "group_id")), GB_REFUNDS_PENDING,
                                 &run) < 0)
        log_warn("order %lld rejected; its refunds are left to the retry job", (long long)id);
    json_object_set_new(o, "refunds", json_pack("{s:i, s:i, s:i}", "requested", requested, "refunded", run.refunded,
                                                "failed", run.failed));
    reply_json(r, 200, o);
}
