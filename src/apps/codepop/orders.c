/* orders.c -- ordering ahead: create (stock checked and taken in the same
 * transaction), pay, cancel (stock back, refund when paid), the store's status
 * changes, the Golden Window (the customer's position starts preparation)
 * and the order detail. The lists are in orders_list.c.
 *
 * Visibility: an order is seen by its owner and by whoever reads its store's
 * orders; everyone else gets 404, so ids reveal nothing. Paying and location
 * updates are the owner's alone; cancelling is the owner's or a manager's.
 * Status: pending -> preparing -> ready -> picked_up, or cancelled before
 * preparing. Money is integer cents; times are UTC RFC 3339. */
#include "codepop.h"
#include <math.h>
#include <string.h>

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"
#define MAX_LINES 20
#define MAX_QTY 50
#define MAX_AHEAD_S (7 * 86400)   /* pickup at most a week ahead */

#define ORDER_COLUMNS "o.id, o.store_id, o.user_id, o.status, o.payment_status, o.total_cents, o.currency, " \
                      "o.pickup_time, o.preparation_minutes, o.created_at, o.updated_at"

struct order {
    int64_t id, store_id, user_id, total_cents, prep_minutes;
    char status[16], payment[16];
};

/* ---------------------------------------------------------------- helpers */

/* "2026-11-21T09:30:00Z" (fraction and "+00:00" accepted): UTC only.
 * canon gets the stored form "YYYY-MM-DDTHH:MM:SSZ". */
static bool parse_utc(const char *s, time_t *t, char canon[32])
{
    struct tm tm = {0};
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end || strlen(s) < 19) return false;
    if (*end == '.') {
        end++;
        if (*end < '0' || *end > '9') return false;
        while (*end >= '0' && *end <= '9') end++;
    }
    if (strcmp(end, "Z") && strcmp(end, "+00:00")) return false;
    *t = timegm(&tm);
    struct tm back;
    gmtime_r(t, &back);
    strftime(canon, 32, "%Y-%m-%dT%H:%M:%SZ", &back);
    return !strncmp(canon, s, 19);       /* rejects 2026-02-31 and friends */
}

static bool known_status(const char *s)
{
    static const char *const all[] = {"pending", "preparing", "ready", "picked_up", "cancelled", NULL};
    for (int i = 0; all[i]; i++)
        if (!strcmp(all[i], s)) return true;
    return false;
}

/* 1 found, 0 not found (or a database error: the caller answers 404/500 alike). */
static int order_load(struct db *db, int64_t id, struct order *o)
{
    struct db_rows rows;
    memset(o, 0, sizeof *o);
    if (db_query(db, &rows, "SELECT store_id, user_id, total_cents, preparation_minutes, status, payment_status "
                            "FROM codepop_orders WHERE id = $1", DB_I(id)) < 0)
        return 0;
    int found = db_step(&rows);
    if (found) {
        o->id = id;
        o->store_id = db_col_int(&rows, 0);
        o->user_id = db_col_int(&rows, 1);
        o->total_cents = db_col_int(&rows, 2);
        o->prep_minutes = db_col_int(&rows, 3);
        snprintf(o->status, sizeof o->status, "%s", db_col_text(&rows, 4));
        snprintf(o->payment, sizeof o->payment, "%s", db_col_text(&rows, 5));
    }
    db_rows_close(&rows);
    return found;
}

static json_t *order_json(struct db *db, int64_t id)
{
    return db_json_one(db, "SELECT " ORDER_COLUMNS ", (SELECT json_group_array(json(x)) FROM (SELECT json_object("
                           "'id', l.id, 'drink_id', l.drink_id, 'name', d.name, 'quantity', l.quantity, "
                           "'unit_price_cents', l.unit_price_cents, 'line_total_cents', l.line_total_cents) AS x "
                           "FROM codepop_order_lines l JOIN codepop_drinks d ON d.id = l.drink_id "
                           "WHERE l.order_id = o.id ORDER BY l.id) t) AS lines__json "
                           "FROM codepop_orders o WHERE o.id = $1", DB_I(id));
}

/* msg: a N_()-marked English text, translated here. */
static void rollback_reply(struct req *r, int status, const char *code, const char *msg)
{
    db_rollback(r->db);
    reply_error(r, status, code, "%s", tr(r, msg));
}

/* Audit, read the order back, commit and answer it; or roll back and 500.
 * summary is stolen. */
static void commit_order(struct req *r, int64_t id, const char *action, json_t *summary, int status)
{
    json_t *order = NULL;
    if (audit_write(r->db, r, "codepop", action, "order", id, summary) < 0 || !(order = order_json(r->db, id)) ||
        db_commit(r->db) < 0) {
        db_rollback(r->db);
        json_decref(order);
        reply_db_error(r);
        return;
    }
    reply_json(r, status, order);
}

/* Realtime for the store: the order's state after the change (o holds it before). */
static int emit_order(struct db *db, const struct order *o, const char *type, const char *status, const char *payment)
{
    return codepop_emit(db, o->store_id, type,
                        json_pack("{s:I, s:I, s:I, s:s, s:s, s:s}", "order_id", (json_int_t)o->id, "store_id",
                                  (json_int_t)o->store_id, "user_id", (json_int_t)o->user_id, "status", status,
                                  "previous_status", o->status, "payment_status", payment));
}

/* ----------------------------------------------------------------- create */

static int items_check(struct req *r, json_t *items)
{
    size_t i;
    json_t *v;
    char field[48];
    if (!json_is_array(items) || json_array_size(items) < 1 || json_array_size(items) > MAX_LINES) {
        reply_invalid(r, "items", "must be an array of 1 to 20 lines");
        return -1;
    }
    json_array_foreach(items, i, v) {
        json_t *d = json_object_get(v, "drink_id"), *q = json_object_get(v, "quantity");
        const char *sub = NULL, *problem = NULL;
        if (!json_is_object(v)) problem = N_("must be an object {drink_id, quantity}");
        else if (!json_is_integer(d) || json_integer_value(d) <= 0) sub = "drink_id", problem = N_("must be a drink id");
        else if (!json_is_integer(q) || json_integer_value(q) < 1 || json_integer_value(q) > MAX_QTY)
            sub = "quantity", problem = N_("must be an integer from 1 to 50");
        else if (json_object_size(v) != 2) problem = N_("has unknown fields (allowed: drink_id, quantity)");
        if (!problem) continue;
        snprintf(field, sizeof field, "items[%zu]%s%s", i, sub ? "." : "", sub ? sub : "");
        reply_invalid(r, field, problem);
        return -1;
    }
    return 0;
}

struct cart {
    int64_t total_cents;
    int max_minutes, drinks;
};

/* Prices the lines from the drinks table (inside the transaction); 400 names
 * the first unknown drink. */
static int cart_price(struct req *r, json_t *items, const char *items_text, struct cart *c)
{
    struct db_rows rows;
    memset(c, 0, sizeof *c);
    /* json_each/json_extract answer text on PostgreSQL: the CASTs make them numbers on both */
    if (db_query(r->db, &rows, "SELECT CAST(l.key AS INTEGER), CASE WHEN d.id IS NULL THEN 0 ELSE 1 END, "
                               "d.price_cents, d.complexity FROM json_each($1) l LEFT JOIN codepop_drinks d "
                               "ON d.id = CAST(json_extract(l.value, '$.drink_id') AS INTEGER) "
                               "ORDER BY CAST(l.key AS INTEGER)", DB_S(items_text)) < 0) {
        reply_db_error(r);
        return -1;
    }
    int64_t bad = -1;
    while (db_step(&rows)) {
        int64_t i = db_col_int(&rows, 0);
        if (!db_col_int(&rows, 1)) {
            bad = i;
            break;
        }
        int64_t qty = json_integer_value(json_object_get(json_array_get(items, (size_t)i), "quantity"));
        int minutes = codepop_complexity_minutes(db_col_text(&rows, 3));
        c->total_cents += db_col_int(&rows, 2) * qty;
        c->drinks += (int)qty;
        if (minutes > c->max_minutes) c->max_minutes = minutes;
    }
    db_rows_close(&rows);
    if (bad >= 0) {
        char field[48];
        snprintf(field, sizeof field, "items[%lld].drink_id", (long long)bad);
        reply_invalid(r, field, "is not a known drink");
        return -1;
    }
    return 0;
}

static void reply_out_of_stock(struct req *r, const char *item, int64_t needed)
{
    char msg[256];
    snprintf(msg, sizeof msg, tr(r, "out of stock: %s"), item);
    reply_json(r, 409, json_pack("{s:{s:s, s:s, s:[{s:s, s:s, s:s, s:I}]}}", "error", "code", "out_of_stock",
                                 "message", msg, "details", "field", "items", "problem", tr(r, "not enough in stock"),
                                 "item_name", item, "needed", (json_int_t)needed));
}

/* Takes what the recipes need from the store's stock, item by item (in name
 * order), each with a guarded decrement. Replies on failure. */
static int stock_take(struct req *r, int64_t store_id, const char *items_text)
{
    json_t *needs = db_json_all(r->db, "SELECT ri.item_name AS item, "
                                       "SUM(ri.amount * CAST(json_extract(l.value, '$.quantity') AS INTEGER)) "
                                       "AS needed FROM json_each($1) l JOIN codepop_recipe_items ri "
                                       "ON ri.drink_id = CAST(json_extract(l.value, '$.drink_id') AS INTEGER) "
                                       "GROUP BY ri.item_name ORDER BY ri.item_name", DB_S(items_text));
    size_t i;
    json_t *v;
    int rc = needs ? 0 : -1;
    json_array_foreach(needs, i, v) {
        const char *item = json_string_value(json_object_get(v, "item"));
        int64_t needed = json_integer_value(json_object_get(v, "needed")), stocked = 0;
        rc = codepop_inventory_adjust(r->db, store_id, item, -needed);
        if (rc == -1 && db_int(r->db, &stocked, "SELECT COUNT(*) FROM codepop_store_inventory WHERE store_id = $1 "
                                                "AND item_name = $2", DB_I(store_id), DB_S(item)) == 1 && !stocked)
            rc = -2;            /* the store does not carry it at all */
        if (rc == -2) reply_out_of_stock(r, item, needed);
        if (rc < 0) break;
    }
    json_decref(needs);
    if (rc == -1) reply_db_error(r);
    return rc < 0 ? -1 : 0;
}

/* Machine working, pickup within opening hours. Replies on failure. */
static int store_ready(struct req *r, int64_t store_id, const char *pickup)
{
    json_t *s = db_json_one(r->db, "SELECT s.timezone, s.opens_at, s.closes_at, m.status AS machine "
                                   "FROM codepop_stores s LEFT JOIN codepop_machines m ON m.store_id = s.id "
                                   "WHERE s.id = $1", DB_I(store_id));
    int rc = -1;
    const char *machine = json_string_value(json_object_get(s, "machine"));
    if (!s) {
        reply_error(r, 404, "not_found", "no store %lld", (long long)store_id);
    } else if (!machine || !strcmp(machine, "error") || !strcmp(machine, "offline")) {
        reply_error(r, 409, "machine_unavailable", "the store's drink machine is unavailable (%s)",
                    machine ? machine : "none");
    } else {
        int open = codepop_store_open_at(json_string_value(json_object_get(s, "timezone")),
                                         json_string_value(json_object_get(s, "opens_at")),
                                         json_string_value(json_object_get(s, "closes_at")), pickup);
        if (open < 0) reply_db_error(r);
        else if (!open) reply_error(r, 409, "store_closed", "the store is closed at the pickup time");
        else rc = 0;
    }
    json_decref(s);
    return rc;
}

/* ROUTE_ROW_LOCKS (codepop.c): on PostgreSQL orders run beside each other.
 * That is safe because stock is only taken by guarded decrements, in item
 * name order (stock_take: no deadlock between two orders), and the rest that
 * is read here (prices, recipes, the store and its machine) changes only in
 * transactions that run alone. */
void codepop_orders_create(struct req *r)
{
    json_int_t store_id = 0;
    json_t *items = NULL;
    const char *pickup_in = NULL;
    char pickup[32];
    time_t when, now = time(NULL);
    struct cart c;
    if (req_unpack(r, "{s:I, s:o, s:s}", "store_id", &store_id, "items", &items, "pickup_time", &pickup_in) < 0 ||
        items_check(r, items) < 0)
        return;
    if (!parse_utc(pickup_in, &when, pickup)) {
        reply_invalid(r, "pickup_time", "must be an RFC 3339 UTC time like 2026-11-21T09:30:00Z");
        return;
    }
    if (when <= now || when > now + MAX_AHEAD_S) {
        reply_invalid(r, "pickup_time", "must be in the future, at most 7 days ahead");
        return;
    }
    char *items_text = json_dumps(items, JSON_COMPACT);
    if (db_begin(r->db) < 0) {
        free(items_text);
        reply_db_error(r);
        return;
    }
    if (cart_price(r, items, items_text, &c) < 0 || store_ready(r, store_id, pickup) < 0 ||
        stock_take(r, store_id, items_text) < 0) {
        db_rollback(r->db);
        free(items_text);
        return;
    }
    struct order o = {.store_id = store_id, .user_id = r->user.id, .total_cents = c.total_cents,
                      .prep_minutes = codepop_prep_minutes(c.max_minutes, c.drinks)};
    int rc = db_int(r->db, &o.id, "INSERT INTO codepop_orders (store_id, user_id, total_cents, pickup_time, "
                                  "preparation_minutes) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    DB_I(o.store_id), DB_I(o.user_id), DB_I(o.total_cents), DB_S(pickup), DB_I(o.prep_minutes));
    if (rc == 1)
        rc = db_exec(r->db, "INSERT INTO codepop_order_lines (order_id, drink_id, quantity, unit_price_cents, "
                            "line_total_cents) SELECT $1, d.id, CAST(json_extract(l.value, '$.quantity') AS INTEGER), "
                            "d.price_cents, d.price_cents * CAST(json_extract(l.value, '$.quantity') AS INTEGER) "
                            "FROM json_each($2) l JOIN codepop_drinks d "
                            "ON d.id = CAST(json_extract(l.value, '$.drink_id') AS INTEGER) "
                            "ORDER BY CAST(l.key AS INTEGER)",
                     DB_I(o.id), DB_S(items_text));
    free(items_text);
    if (rc != (int)json_array_size(items) ||
        codepop_emit(r->db, o.store_id, "ORDER_CREATED",
                     json_pack("{s:I, s:I, s:I, s:s, s:I, s:i, s:s, s:I}", "order_id", (json_int_t)o.id, "store_id",
                               (json_int_t)o.store_id, "user_id", (json_int_t)o.user_id, "status", "pending",
                               "total_cents", (json_int_t)o.total_cents, "drinks", c.drinks, "pickup_time", pickup,
                               "preparation_minutes", (json_int_t)o.prep_minutes)) < 0) {
        db_rollback(r->db);
        reply_db_error(r);
        return;
    }
    commit_order(r, o.id, "codepop.order.created",
                 json_pack("{s:I, s:I, s:i, s:s, s:I}", "store_id", (json_int_t)o.store_id, "total_cents",
                           (json_int_t)o.total_cents, "drinks", c.drinks, "pickup_time", pickup,
                           "preparation_minutes", (json_int_t)o.prep_minutes), 201);
}

/* ------------------------------------------------------- pay, cancel, status */

/* Opens the transaction and loads the order for the owner (or, with perm, a
 * store role holding it). Replies 404 to anyone else. */
static int begin_with_order(struct req *r, struct order *o, const char *perm)
{
    if (db_begin(r->db) < 0) {
        reply_db_error(r);
        return -1;
    }
    if (order_load(r->db, r->param_int[0], o) != 1 ||
        (o->user_id != r->user.id && !(perm && codepop_can_store(r, perm, o->store_id)))) {
        rollback_reply(r, 404, "not_found", N_("no such order"));
        return -1;
    }
    return 0;
}

void codepop_orders_pay(struct req *r)
{
    struct order o;
    if ((r->body && req_unpack(r, "{}") < 0) || begin_with_order(r, &o, NULL) < 0) return;
    if (!strcmp(o.status, "cancelled")) {
        rollback_reply(r, 409, "invalid_state", N_("the order is cancelled"));
        return;
    }
    if (strcmp(o.payment, "unpaid")) {
        rollback_reply(r, 409, "already_paid", N_("the order is already paid"));
        return;
    }
    if (db_exec(r->db, "UPDATE codepop_orders SET payment_status = 'paid', updated_at = " NOW_SQL " "
                       "WHERE id = $1 AND payment_status = 'unpaid' AND status <> 'cancelled'", DB_I(o.id)) != 1 ||
        db_exec(r->db, "INSERT INTO codepop_revenue (store_id, order_id, amount_cents, is_refund) "
                       "VALUES ($1, $2, $3, 0)", DB_I(o.store_id), DB_I(o.id), DB_I(o.total_cents)) != 1 ||
        codepop_analytics_invalidate(r->db, o.store_id) < 0 ||
        emit_order(r->db, &o, "ORDER_PAID", o.status, "paid") < 0) {
        db_rollback(r->db);
        reply_db_error(r);
        return;
    }
    commit_order(r, o.id, "codepop.order.paid",
                 json_pack("{s:I, s:I}", "store_id", (json_int_t)o.store_id, "amount_cents", (json_int_t)o.total_cents),
                 200);
}

/* Gives back what the order's recipes took (recipes as they are now). */
static int stock_return(struct db *db, const struct order *o)
{
    json_t *back = db_json_all(db, "SELECT ri.item_name AS item, SUM(ri.amount * l.quantity) AS qty "
                                   "FROM codepop_order_lines l "
                                   "JOIN codepop_recipe_items ri ON ri.drink_id = l.drink_id "
                                   "WHERE l.order_id = $1 GROUP BY ri.item_name ORDER BY ri.item_name", DB_I(o->id));
    size_t i;
    json_t *v;
    int rc = back ? 0 : -1;
    json_array_foreach(back, i, v) {
        if (rc < 0) break;
        rc = codepop_inventory_adjust(db, o->store_id, json_string_value(json_object_get(v, "item")),
                                      json_integer_value(json_object_get(v, "qty")));
    }
    json_decref(back);
    return rc;
}

void codepop_orders_cancel(struct req *r)
{
    struct order o;
    const char *reason = NULL;
    if (r->body && req_unpack(r, "{s?s}", "reason", &reason) < 0) return;
    if (reason && strlen(reason) > 500) {
        reply_invalid(r, "reason", "must be at most 500 characters");
        return;
    }
    if (begin_with_order(r, &o, "codepop.orders.manage") < 0) return;
    if (strcmp(o.status, "pending")) {
        rollback_reply(r, 409, "invalid_state", N_("only a pending order can be cancelled"));
        return;
    }
    bool refund = !strcmp(o.payment, "paid");
    if (db_exec(r->db, "UPDATE codepop_orders SET status = 'cancelled', payment_status = CASE payment_status "
                       "WHEN 'paid' THEN 'refunded' ELSE payment_status END, updated_at = " NOW_SQL " "
                       "WHERE id = $1 AND status = 'pending'", DB_I(o.id)) != 1 ||
        stock_return(r->db, &o) < 0 ||
        (refund && (db_exec(r->db, "INSERT INTO codepop_revenue (store_id, order_id, amount_cents, is_refund) "
                                   "VALUES ($1, $2, $3, 1)", DB_I(o.store_id), DB_I(o.id), DB_I(o.total_cents)) != 1 ||
                    codepop_analytics_invalidate(r->db, o.store_id) < 0)) ||
        emit_order(r->db, &o, "ORDER_CANCELLED", "cancelled", refund ? "refunded" : o.payment) < 0) {
        db_rollback(r->db);
        reply_db_error(r);
        return;
    }
    json_t *summary = json_pack("{s:I, s:s, s:b, s:I}", "store_id", (json_int_t)o.store_id, "from", o.status,
                                "refunded", refund, "refund_cents", (json_int_t)(refund ? o.total_cents : 0));
    if (reason) json_object_set_new(summary, "reason", json_string(reason));
    commit_order(r, o.id, "codepop.order.cancelled", summary, 200);
}

static const char *next_status(const char *s)
{
    if (!strcmp(s, "pending")) return "preparing";
    if (!strcmp(s, "preparing")) return "ready";
    if (!strcmp(s, "ready")) return "picked_up";
    return "";
}

void codepop_orders_status(struct req *r)
{
    struct order o;
    const char *to = NULL;
    if (begin_with_order(r, &o, "codepop.orders.read") < 0) return;
    if (!codepop_can_store(r, "codepop.orders.manage", o.store_id)) {
        rollback_reply(r, 403, "forbidden", N_("missing permission codepop.orders.manage for this store"));
        return;
    }
    if (req_unpack(r, "{s:s}", "status", &to) < 0) {
        db_rollback(r->db);
        return;
    }
    if (!known_status(to)) {
        db_rollback(r->db);
        reply_invalid(r, "status", "must be one of pending, preparing, ready, picked_up, cancelled");
        return;
    }
    if (strcmp(next_status(o.status), to)) {
        db_rollback(r->db);
        reply_error(r, 409, "invalid_transition", "cannot go from %s to %s", o.status, to);
        return;
    }
    if (db_exec(r->db, "UPDATE codepop_orders SET status = $2, updated_at = " NOW_SQL " WHERE id = $1 AND status = $3",
                DB_I(o.id), DB_S(to), DB_S(o.status)) != 1 ||
        emit_order(r->db, &o, "ORDER_STATUS_CHANGED", to, o.payment) < 0 ||
        (!strcmp(to, "ready") && notify_user(r->db, o.user_id, "order.ready", "Your order is ready for pickup",
                                             json_pack("{s:I, s:I}", "order_id", (json_int_t)o.id, "store_id",
                                                       (json_int_t)o.store_id)) < 0)) {
        db_rollback(r->db);
        reply_db_error(r);
        return;
    }
    commit_order(r, o.id, "codepop.order.status_changed",
                 json_pack("{s:I, s:s, s:s}", "store_id", (json_int_t)o.store_id, "from", o.status, "to", to), 200);
}

/* ----------------------------------------------------------- golden window */

static double round3(double x) { return round(x * 1000.0) / 1000.0; }

/* pending -> preparing because the customer entered the window. 1 moved,
 * 0 someone else moved it first, -1 error. */
static int start_preparing(struct req *r, struct order *o, double distance)
{
    if (db_begin(r->db) < 0) return -1;
    int rc = db_exec(r->db, "UPDATE codepop_orders SET status = 'preparing', updated_at = " NOW_SQL " "
                            "WHERE id = $1 AND status = 'pending'", DB_I(o->id));
    if (rc != 1) {
        db_rollback(r->db);
        return rc == 0 ? 0 : -1;
    }
    json_t *data = json_pack("{s:I, s:I, s:I, s:I, s:f}", "order_id", (json_int_t)o->id, "store_id",
                             (json_int_t)o->store_id, "user_id", (json_int_t)o->user_id, "preparation_minutes",
                             (json_int_t)o->prep_minutes, "distance_miles", round3(distance));
    char title[128];
    snprintf(title, sizeof title, "Start preparing order #%lld: the customer is %.1f mi away", (long long)o->id,
             distance);
    if (codepop_emit(r->db, o->store_id, "ORDER_PREPARING", json_deep_copy(data)) < 0 ||
        codepop_notify_role(r->db, "manager", o->store_id, "order.preparing", title, json_incref(data)) < 0 ||
        audit_write(r->db, r, "codepop", "codepop.order.status_changed", "order", o->id,
                    json_pack("{s:I, s:s, s:s, s:s, s:O}", "store_id", (json_int_t)o->store_id, "from", "pending",
                              "to", "preparing", "via", "golden_window", "position", data)) < 0 ||
        db_commit(r->db) < 0) {
        json_decref(data);
        db_rollback(r->db);
        return -1;
    }
    json_decref(data);
    snprintf(o->status, sizeof o->status, "preparing");
    return 1;
}

void codepop_orders_location(struct req *r)
{
    double lat, lon, mph, slat = 0, slon = 0;
    struct order o;
    if (order_load(r->db, r->param_int[0], &o) != 1 || o.user_id != r->user.id) {
        reply_error(r, 404, "not_found", "no such order");
        return;
    }
    if (req_unpack(r, "{s:F, s:F, s:F}", "lat", &lat, "lon", &lon, "velocity_mph", &mph) < 0) return;
    if (!isfinite(lat) || lat < -90 || lat > 90) {
        reply_invalid(r, "lat", "must be between -90 and 90");
        return;
    }
    if (!isfinite(lon) || lon < -180 || lon > 180) {
        reply_invalid(r, "lon", "must be between -180 and 180");
        return;
    }
    if (!isfinite(mph) || mph <= 0 || mph > 500) {
        reply_invalid(r, "velocity_mph", "must be > 0 and <= 500");
        return;
    }
    if (!strcmp(o.status, "cancelled") || !strcmp(o.status, "picked_up")) {
        reply_error(r, 409, "invalid_state", "the order is %s", o.status);
        return;
    }
    json_t *s = db_json_one(r->db, "SELECT lat, lon FROM codepop_stores WHERE id = $1", DB_I(o.store_id));
    slat = json_number_value(json_object_get(s, "lat"));
    slon = json_number_value(json_object_get(s, "lon"));
    json_decref(s);
    double distance = codepop_haversine_miles(lat, lon, slat, slon);
    double window = (double)o.prep_minutes * mph / 60.0;
    bool inside = distance <= window;
    if (inside && !strcmp(o.status, "pending")) {
        int rc = start_preparing(r, &o, distance);
        if (rc < 0) {
            reply_db_error(r);
            return;
        }
        if (rc == 0 && order_load(r->db, o.id, &o) != 1) {
            reply_db_error(r);
            return;
        }
    }
    reply_json(r, 200, json_pack("{s:I, s:s, s:f, s:f, s:I, s:f, s:f, s:b}", "order_id", (json_int_t)o.id, "status",
                                 o.status, "current_distance_miles", round3(distance), "golden_window_distance_miles",
                                 round3(window), "preparation_minutes", (json_int_t)o.prep_minutes, "velocity_mph", mph,
                                 "estimated_arrival_minutes", round3(distance / mph * 60.0), "start_preparation",
                                 inside));
}

/* ------------------------------------------------------------------ reads */

void codepop_orders_get(struct req *r)
{
    struct order o;
    json_t *order;
    if (order_load(r->db, r->param_int[0], &o) != 1 ||
        (o.user_id != r->user.id && !codepop_can_store(r, "codepop.orders.read", o.store_id))) {
        reply_error(r, 404, "not_found", "no such order");
        return;
    }
    if (!(order = order_json(r->db, o.id))) {
        reply_db_error(r);
        return;
    }
    reply_json(r, 200, order);
}
