/* groups.c -- group buys: create, list with progress, get, and join.
 *
 * A group snapshots its product's bulk price and currency when it is made;
 * progress (quantity_committed, percent_to_moq, contributors, time left) is
 * computed in SQL from paid contributions without a refund (GB_COMMITTED_SQL).
 * Joining checks the group's state, the product's minimum and the group's
 * per-trader maximum and inserts the contribution in one BEGIN IMMEDIATE
 * transaction, so concurrent joins by one trader never pass the maximum.
 *
 * Choices where the spec is silent: every reader sees every group; lists are
 * ordered by deadline, latest first, then newest id; a deadline is exactly
 * "YYYY-MM-DDTHH:MM:SSZ"; moq is 1..1,000,000 and target_quantity
 * moq..10,000,000; a group's max_per_trader (null = none) must lie between the
 * product's min and max per trader; the per-trader maximum counts a trader's
 * active contributions of the group, paid or not, without a refund started. */
#include "groupbuy.h"
#include <stdlib.h>
#include <string.h>

#define MAX_MOQ 1000000LL
#define MAX_TARGET 10000000LL
#define MAX_JOIN 100000LL
#define MAX_AHEAD (365LL * 86400)

#define SECS_LEFT "MAX(0, CAST(strftime('%s', g.deadline) AS INTEGER) - CAST(strftime('%s', 'now') AS INTEGER))"
/* "2d 05h 07m": no printf() on PostgreSQL, so the zero padding is a CASE */
#define TWO_DIGITS(x) "CASE WHEN " x " < 10 THEN '0' ELSE '' END || CAST(" x " AS TEXT)"
#define TIME_LEFT                                                                                      \
    "CASE WHEN " SECS_LEFT " = 0 THEN 'closed' ELSE CAST(" SECS_LEFT " / 86400 AS TEXT) || 'd ' || " \
    TWO_DIGITS(SECS_LEFT " % 86400 / 3600") " || 'h ' || " TWO_DIGITS(SECS_LEFT " % 3600 / 60") " || 'm' END"
#define GROUP_SELECT                                                                                                 \
    "SELECT g.id, json_object('id', p.id, 'name', p.name, 'unit', p.unit, 'unit_price_cents', p.unit_price_cents, " \
    "'bulk_price_cents', p.bulk_price_cents, 'image_url', p.image_url) AS product__json, g.supplier_id, "            \
    "g.creator_id, g.moq, g.target_quantity, p.min_per_trader, g.max_per_trader, g.unit_price_cents, g.currency, "  \
    "g.deadline, g.pickup_location, g.status, g.status_reason, g.supplier_status, g.supplier_response_at, "          \
    "g.ready_for_collection_at, g.supplier_notes, g.completed_at, g.closed_at, g.quantity_committed, "             \
    "g.quantity_committed * 100 / g.moq AS percent_to_moq, " SECS_LEFT                                                \
    " AS seconds_left, " TIME_LEFT " AS time_left, "                                                                  \
    "g.contributors, "                                                                                               \
    "(SELECT json_object('id', o.id, 'order_number', o.order_number, 'status', o.status) FROM "                     \
    "groupbuy_supplier_orders o WHERE o.group_id = g.id) AS order__json, g.created_at, g.updated_at "                \
    "FROM groupbuy_groups g JOIN groupbuy_products p ON p.id = g.product_id "

static const char *const statuses[] = {"open", "completed", "failed", "cancelled", NULL};

json_t *groupbuy_group_json(struct db *db, int64_t group_id)
{
    return db_json_one(db, GROUP_SELECT "WHERE g.id = $1", DB_I(group_id));
}

/* ------------------------------------------------------------------ read */

void groupbuy_groups_list(struct req *r)
{
    struct page pg;
    int64_t product_id, supplier_id;
    const char *status = req_query(r, "status");
    const char *const *s = statuses;
    if (req_page(r, &pg) < 0 || req_query_int(r, "product_id", 0, &product_id) < 0 ||
        req_query_int(r, "supplier_id", 0, &supplier_id) < 0)
        return;
    while (status && *s && strcmp(*s, status)) s++;
    if (status && !*s) {
        reply_invalid(r, "status", "must be open, completed, failed or cancelled");
        return;
    }
#define LIST_WHERE "WHERE (CAST($1 AS TEXT) IS NULL OR g.status = $1) AND ($2 = 0 OR g.product_id = $2) AND ($3 = 0 OR g.supplier_id = $3) "
    /* The page's ids first, so progress is computed for 50 groups, not for
     * every group the sort has to see. */
    reply_page(r, &pg, "SELECT COUNT(*) FROM groupbuy_groups g " LIST_WHERE,
               GROUP_SELECT "JOIN (SELECT g.id FROM groupbuy_groups g " LIST_WHERE "ORDER BY g.deadline DESC, g.id "
               "DESC LIMIT $4 OFFSET $5) page ON page.id = g.id ORDER BY g.deadline DESC, g.id DESC",
               DB_S(status), DB_I(product_id), DB_I(supplier_id));
}

void groupbuy_groups_get(struct req *r)
{
    json_t *g = groupbuy_group_json(r->db, r->param_int[0]);
    if (!g) reply_not_found(r);
    else reply_json(r, 200, g);
}

/* ---------------------------------------------------------------- create */

struct product_row {
    int64_t supplier_id, bulk_price, min_pt, max_pt;        /* max_pt 0: none */
    bool active;
    char currency[8];
};

/* 1 found, 0 none, -1 error. */
static int load_product(struct db *db, int64_t id, struct product_row *p)
{
    struct db_rows rows;
    int found = 0;
    if (db_query(db, &rows, "SELECT supplier_id, bulk_price_cents, min_per_trader, COALESCE(max_per_trader, 0), "
                            "active, currency FROM groupbuy_products WHERE id = $1", DB_I(id)) < 0)
        return -1;
    if (db_step(&rows)) {
        found = 1;
        p->supplier_id = db_col_int(&rows, 0);
        p->bulk_price = db_col_int(&rows, 1);
        p->min_pt = db_col_int(&rows, 2);
        p->max_pt = db_col_int(&rows, 3);
        p->active = db_col_int(&rows, 4) != 0;
        snprintf(p->currency, sizeof p->currency, "%s", db_col_text(&rows, 5));
    }
    db_rows_close(&rows);
    return found;
}

/* "YYYY-MM-DDTHH:MM:SSZ", a real date, in (now, now + 365 days]. */
static int check_deadline(struct req *r, const char *text)
{
    struct tm tm = {0};
    char back[32];
    const char *end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    time_t t = end && !*end ? timegm(&tm) : (time_t)-1, now = time(NULL);
    if (t != (time_t)-1) strftime(back, sizeof back, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    if (t == (time_t)-1 || strcmp(back, text)) {
        reply_invalid(r, "deadline", "must be an RFC 3339 UTC time like 2026-11-21T09:30:00Z");
        return -1;
    }
    if (t <= now) {
        reply_invalid(r, "deadline", "must be in the future");
        return -1;
    }
    if ((long long)(t - now) > MAX_AHEAD) {
        reply_invalid(r, "deadline", "must be at most 365 days ahead");
        return -1;
    }
    return 0;
}

static int check_range(struct req *r, const char *field, int64_t v, int64_t min, int64_t max)
{
    if (v >= min && v <= max) return 0;
    reply_invalidf(r, field, "must be an integer from %lld to %lld", (long long)min, (long long)max);
    return -1;
}

/* The group's max per trader: the body's (null = none) or the product's. */
static int pick_max(struct req *r, json_t *v, const struct product_row *p, int64_t *out)
{
    if (!v) {
        *out = p->max_pt;
        return 0;
    }
    if (json_is_null(v)) {
        *out = 0;
    } else if (!json_is_integer(v)) {
        reply_invalid(r, "max_per_trader", "must be an integer or null");
        return -1;
    } else {
        *out = json_integer_value(v);
    }
    if (p->max_pt && !*out) {
        reply_invalidf(r, "max_per_trader", "must be at most %lld, the product's maximum", (long long)p->max_pt);
        return -1;
    }
    return *out ? check_range(r, "max_per_trader", *out, p->min_pt, p->max_pt ? p->max_pt : MAX_JOIN) : 0;
}

/* The product's supplier once it exists, is active and is the caller's. */
static int product_for_group(struct req *r, int64_t product_id, struct product_row *p)
{
    int found = load_product(r->db, product_id, p);
    if (found < 0) reply_db_error(r);
    else if (!found) reply_error(r, 404, "not_found", "no product %lld", (long long)product_id);
    else if (groupbuy_require_supplier(r, "groupbuy.groups.create", p->supplier_id) < 0) return -1;
    else if (!p->active) reply_error(r, 409, "product_inactive", "product %lld is not active", (long long)product_id);
    else return 0;
    return -1;
}

void groupbuy_groups_create(struct req *r)
{
    json_int_t product_id, moq, target = 0;
    int64_t max_pt;
    const char *deadline, *pickup;
    json_t *maxv = NULL, *g = NULL;
    struct product_row p;
    if (req_unpack(r, "{s:I, s:I, s:s, s:s, s?o, s?I}", "product_id", &product_id, "moq", &moq, "deadline", &deadline,
                   "pickup_location", &pickup, "max_per_trader", &maxv, "target_quantity", &target) < 0 ||
        check_range(r, "moq", moq, 1, MAX_MOQ) < 0 || check_deadline(r, deadline) < 0 ||
        req_text(r, "pickup_location", pickup, 200, true) < 0)
        return;
    if (!target) target = moq;
    if (check_range(r, "target_quantity", target, moq, MAX_TARGET) < 0 ||
        product_for_group(r, product_id, &p) < 0 || pick_max(r, maxv, &p, &max_pt) < 0)
        return;
    int64_t id;
    if (db_begin(r->db) < 0) goto fail;
    if (db_int(r->db, &id, "INSERT INTO groupbuy_groups (product_id, supplier_id, creator_id, moq, target_quantity, "
                           "max_per_trader, unit_price_cents, currency, deadline, pickup_location) VALUES ($1, $2, "
                           "$3, $4, $5, NULLIF($6, 0), $7, $8, $9, $10) RETURNING id",
               DB_I(product_id), DB_I(p.supplier_id), DB_I(r->user.id), DB_I(moq), DB_I(target), DB_I(max_pt),
               DB_I(p.bulk_price), DB_S(p.currency), DB_S(deadline), DB_S(pickup)) != 1)
        goto rollback;
    if (!(g = groupbuy_group_json(r->db, id)) ||
        audit_write(r->db, r, "groupbuy", "groupbuy.group.created", "group", id,
                    json_pack("{s:I, s:I, s:I, s:I, s:O, s:I, s:s, s:s, s:s}", "product_id", product_id, "supplier_id",
                              (json_int_t)p.supplier_id, "moq", moq, "target_quantity", target, "max_per_trader",
                              json_object_get(g, "max_per_trader"), "unit_price_cents", (json_int_t)p.bulk_price,
                              "currency", p.currency, "deadline", deadline, "pickup_location", pickup)) < 0 ||
        groupbuy_emit(r->db, id, "group.created", json_deep_copy(g)) < 0 || db_commit(r->db) < 0)
        goto rollback;
    reply_json(r, 201, g);
    return;
rollback:
    db_rollback(r->db);
    json_decref(g);
fail:
    reply_db_error(r);
}

/* ------------------------------------------------------------------ join */

struct join_target {
    int64_t unit_price, min_pt, max_pt, already;            /* max_pt 0: none */
    char currency[8];
    bool open;
};

/* Inside the transaction: the group as the join sees it. 1, 0 none, -1. */
static int load_join_target(struct db *db, int64_t group_id, int64_t trader_id, struct join_target *t)
{
    struct db_rows rows;
    int found = 0;
    if (db_query(db, &rows, "SELECT g.unit_price_cents, p.min_per_trader, COALESCE(g.max_per_trader, 0), "
                            "g.currency, g.status = 'open' AND g.deadline > " GB_NOW_SQL ", "
                            "(SELECT COALESCE(SUM(c.quantity), 0) FROM groupbuy_contributions c WHERE c.group_id = g.id "
                            "AND c.trader_id = $2 AND c.status = 'active' AND c.refund_status IS NULL) "
                            "FROM groupbuy_groups g JOIN groupbuy_products p ON p.id = g.product_id WHERE g.id = $1",
                 DB_I(group_id), DB_I(trader_id)) < 0)
        return -1;
    if (db_step(&rows)) {
        found = 1;
        t->unit_price = db_col_int(&rows, 0);
        t->min_pt = db_col_int(&rows, 1);
        t->max_pt = db_col_int(&rows, 2);
        snprintf(t->currency, sizeof t->currency, "%s", db_col_text(&rows, 3));
        t->open = db_col_int(&rows, 4) != 0;
        t->already = db_col_int(&rows, 5);
    }
    db_rows_close(&rows);
    return found;
}

/* Replies the reason the join cannot happen (the caller rolls back) and
 * returns -1; 0 when it may. */
static int join_refused(struct req *r, const struct join_target *t, int64_t quantity)
{
    if (!t->open) {
        reply_error(r, 409, "group_closed", "the group is not open for joining");
    } else if (quantity < t->min_pt) {
        reply_invalidf(r, "quantity", "must be at least %lld", (long long)t->min_pt);
    } else if (t->max_pt && t->already + quantity > t->max_pt) {
        char msg[160];
        snprintf(msg, sizeof msg, tr(r, "at most %lld per trader; you already have %lld"), (long long)t->max_pt,
                 (long long)t->already);
        reply_json(r, 409, json_pack("{s:{s:s, s:s, s:{s:I, s:I}}}", "error", "code", "max_per_trader_exceeded",
                                     "message", msg, "details", "max", (json_int_t)t->max_pt, "already",
                                     (json_int_t)t->already));
    } else {
        return 0;
    }
    return -1;
}

void groupbuy_groups_join(struct req *r)
{
    int64_t group_id = r->param_int[0];
    json_int_t quantity;
    struct join_target t;
    json_t *c = NULL;
    int found;
    if (req_unpack(r, "{s:I}", "quantity", &quantity) < 0 || check_range(r, "quantity", quantity, 1, MAX_JOIN) < 0)
        return;
    char lock[48];
    snprintf(lock, sizeof lock, "groupbuy.group:%lld", (long long)group_id);
    /* ROUTE_ROW_LOCKS: joins of one group one at a time, so the state and
     * per-trader checks below hold until the commit */
    if (db_begin(r->db) < 0) goto fail;
    if (db_lock(r->db, lock) < 0 || (found = load_join_target(r->db, group_id, r->user.id, &t)) < 0) goto rollback;
    if (!found || join_refused(r, &t, quantity) < 0) {
        db_rollback(r->db);
        if (!found) reply_not_found(r);
        return;
    }
    int64_t amount = quantity * t.unit_price, id;
    if (db_int(r->db, &id, "INSERT INTO groupbuy_contributions (group_id, trader_id, quantity, amount_cents, "
                           "currency) VALUES ($1, $2, $3, $4, $5) RETURNING id",
               DB_I(group_id), DB_I(r->user.id), DB_I(quantity), DB_I(amount), DB_S(t.currency)) != 1)
        goto rollback;
    if (!(c = groupbuy_contribution_json(r->db, id)) ||
        audit_write(r->db, r, "groupbuy", "groupbuy.contribution.created", "contribution", id,
                    json_pack("{s:I, s:I, s:I, s:s}", "group_id", (json_int_t)group_id, "quantity", quantity,
                              "amount_cents", (json_int_t)amount, "currency", t.currency)) < 0 ||
        groupbuy_emit(r->db, group_id, "contribution.created",
                      json_pack("{s:I, s:I, s:I}", "group_id", (json_int_t)group_id, "contribution_id",
                                (json_int_t)id, "quantity", quantity)) < 0 ||
        db_commit(r->db) < 0)
        goto rollback;
    reply_json(r, 201, c);
    return;
rollback:
    db_rollback(r->db);
    json_decref(c);
fail:
    reply_db_error(r);
}
