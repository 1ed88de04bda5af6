/* analytics.c -- a store's sales analytics, computed in SQL and cached.
 *
 * The period is the last `period_days` UTC days, today included. Everything
 * is derived from revenue entries, so the cache (codepop_analytics_cache,
 * keyed by store and period, valid for the UTC day it was computed on) is
 * exact until the store's revenue changes; pay and cancel drop it in their
 * own transaction (codepop_analytics_invalidate).
 *
 *   revenue_trends  total_revenue_cents = sum of the period's non-refund
 *                   entries, refunds_cents = sum of its refund entries; daily
 *                   has every day of the period (zeros included) with its
 *                   revenue, refunds and payments (orders).
 *   peak_hours      24 entries: per UTC hour 0-23, the orders paid in that
 *                   hour of the period and not refunded ("sold").
 *   inventory_usage what the sold orders' recipes consumed, most used first.
 *   drink_popularity per drink: quantity and line revenue of sold orders.
 *   forecast        next 7 days (tomorrow on): the average daily revenue of
 *                   the same weekday within the period; when the period has
 *                   no such weekday (period < 7), the period's daily average.
 *
 * All parts are subqueries of ONE statement, so they read one snapshot; the
 * same statement returns a marker (the store's last revenue id). The cache is
 * written only if the marker is unchanged, so a pay that commits while the
 * answer is computed can never leave a stale answer behind. */
#include "codepop.h"
#include <stdlib.h>
#include <string.h>

/* $1 store, $2 first day, $3 today (UTC dates). The CTEs are materialized
 * once: the period's revenue entries (one index range), then per-day sums,
 * the sold orders (paid in the period, not refunded) and their drinks. */
static const char analytics_sql[] =
    "WITH RECURSIVE "
    "days(d) AS (SELECT CAST($2 AS TEXT) UNION ALL SELECT date(d, '+1 day') FROM days WHERE d < $3), "
    "hours(h) AS (SELECT 0 UNION ALL SELECT h + 1 FROM hours WHERE h < 23), "
    "ahead(d) AS (SELECT date($3, '+1 day') UNION ALL SELECT date(d, '+1 day') FROM ahead "
    "  WHERE d < date($3, '+7 day')), "
    "rev AS MATERIALIZED (SELECT substr(created_at, 1, 10) AS d, CAST(substr(created_at, 12, 2) AS INTEGER) AS h, "
    "  amount_cents AS amt, is_refund, order_id FROM codepop_revenue WHERE store_id = $1 "
    "  AND created_at >= $2 || 'T00:00:00Z' AND created_at < date($3, '+1 day') || 'T00:00:00Z'), "
    "daily AS MATERIALIZED (SELECT days.d AS d, COALESCE(p.revenue, 0) AS revenue, COALESCE(p.refunds, 0) AS refunds, "
    "  COALESCE(p.orders, 0) AS orders FROM days LEFT JOIN (SELECT d, SUM(CASE WHEN is_refund = 0 THEN amt ELSE 0 END) "
    "  AS revenue, SUM(CASE WHEN is_refund = 0 THEN 0 ELSE amt END) AS refunds, "
    "  SUM(CASE WHEN is_refund = 0 THEN 1 ELSE 0 END) AS orders "
    "  FROM rev GROUP BY d) p ON p.d = days.d), "
    "sold AS MATERIALIZED (SELECT order_id, h FROM rev WHERE is_refund = 0 "
    "  AND order_id NOT IN (SELECT order_id FROM rev WHERE is_refund <> 0)), "
    "drinks AS MATERIALIZED (SELECT l.drink_id, SUM(l.quantity) AS quantity, SUM(l.line_total_cents) AS revenue_cents "
    "  FROM sold JOIN codepop_order_lines l ON l.order_id = sold.order_id GROUP BY l.drink_id) "
    "SELECT "
    /* revenue trends */
    "json_object('total_revenue_cents', (SELECT SUM(revenue) FROM daily), "
    "  'refunds_cents', (SELECT SUM(refunds) FROM daily), "
    "  'daily', json((SELECT json_group_array(json_object('date', d, 'revenue_cents', revenue, 'refunds_cents', "
    "  refunds, 'orders', orders)) FROM (SELECT * FROM daily ORDER BY d) t))) AS revenue_trends__json, "
    /* peak hours */
    "(SELECT json_group_array(json_object('hour', h, 'orders', n)) FROM (SELECT hours.h AS h, COALESCE(c.n, 0) AS n "
    "  FROM hours LEFT JOIN (SELECT h, COUNT(*) AS n FROM sold GROUP BY h) c ON c.h = hours.h ORDER BY hours.h) t) "
    "  AS peak_hours__json, "
    /* inventory usage */
    "(SELECT json_group_array(json_object('item_name', item_name, 'used', used)) FROM (SELECT ri.item_name "
    "  AS item_name, SUM(ri.amount * x.quantity) AS used FROM drinks x "
    "  JOIN codepop_recipe_items ri ON ri.drink_id = x.drink_id "
    "  GROUP BY ri.item_name ORDER BY used DESC, ri.item_name) t) AS inventory_usage__json, "
    /* drink popularity */
    "(SELECT json_group_array(json_object('drink_id', drink_id, 'name', name, 'quantity', quantity, 'revenue_cents', "
    "  revenue_cents)) FROM (SELECT x.drink_id, d.name, x.quantity, x.revenue_cents FROM drinks x "
    "  JOIN codepop_drinks d ON d.id = x.drink_id ORDER BY x.quantity DESC, x.drink_id) t) AS drink_popularity__json, "
    /* forecast */
    "json_object('method', 'same-weekday average over the period', 'next_7_days', json((SELECT json_group_array("
    "  json_object('date', d, 'revenue_cents', cents)) FROM (SELECT a.d AS d, "
    "  COALESCE((SELECT CAST(ROUND(AVG(revenue)) AS INTEGER) FROM daily "
    "            WHERE strftime('%w', daily.d) = strftime('%w', a.d)), "
    "           (SELECT CAST(ROUND(AVG(revenue)) AS INTEGER) FROM daily), 0) AS cents "
    "  FROM ahead a ORDER BY a.d) t))) AS forecast__json, "
    "(SELECT COALESCE(MAX(id), 0) FROM codepop_revenue WHERE store_id = $1) AS marker";

int codepop_analytics_invalidate(struct db *db, int64_t store_id)
{
    return db_exec(db, "DELETE FROM codepop_analytics_cache WHERE store_id = $1", DB_I(store_id)) < 0 ? -1 : 0;
}

/* Keep the answer unless the store's revenue changed since it was read. */
static void cache_store(struct db *db, int64_t store_id, int64_t period, const char *day, const char *body,
                        int64_t marker)
{
    if (db_begin(db) < 0) return;
    if (db_exec(db, "INSERT INTO codepop_analytics_cache (store_id, period_days, day, body) "
                    "SELECT $1, $2, $3, $4 WHERE (SELECT COALESCE(MAX(id), 0) FROM codepop_revenue "
                    "WHERE store_id = $1) = $5 "
                    "ON CONFLICT (store_id, period_days) DO UPDATE SET day = excluded.day, body = excluded.body",
                DB_I(store_id), DB_I(period), DB_S(day), DB_S(body), DB_I(marker)) < 0 ||
        db_commit(db) < 0)
        db_rollback(db);
}

static json_t *compute(struct db *db, int64_t store_id, const char *first, const char *today, int64_t *marker)
{
    json_t *row = db_json_one(db, analytics_sql, DB_I(store_id), DB_S(first), DB_S(today));
    if (!row) return NULL;
    *marker = json_integer_value(json_object_get(row, "marker"));
    json_object_del(row, "marker");
    return row;
}

void codepop_store_analytics(struct req *r)
{
    int64_t store_id = r->param_int[0], period = 30, marker = 0;
    char today[16], first[16], stamp[32];
    if (codepop_require_store(r, "codepop.analytics.read", store_id) < 0 ||
        req_query_int(r, "period_days", 30, &period) < 0)
        return;
    if (period < 1 || period > 365) {
        reply_invalid(r, "period_days", "must be between 1 and 365");
        return;
    }
    time_t now = time(NULL), start = now - (time_t)(period - 1) * 86400;
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    gmtime_r(&start, &tm);
    strftime(first, sizeof first, "%Y-%m-%d", &tm);

    char *cached = db_text(r->db, "SELECT body FROM codepop_analytics_cache WHERE store_id = $1 AND period_days = $2 "
                                  "AND day = $3", DB_I(store_id), DB_I(period), DB_S(today));
    if (cached) {
        reply_raw(r, 200, "application/json; charset=utf-8", cached, strlen(cached));
        reply_header(r, "X-Cache", "hit");
        free(cached);
        return;
    }
    json_t *parts = compute(r->db, store_id, first, today, &marker);
    if (!parts) {
        reply_db_error(r);
        return;
    }
    json_t *body = json_pack("{s:I, s:I, s:s, s:s, s:s}", "store_id", (json_int_t)store_id, "period_days",
                             (json_int_t)period, "from", first, "to", today, "computed_at", stamp);
    json_object_update(body, parts);
    json_decref(parts);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text) {
        reply_db_error(r);
        return;
    }
    cache_store(r->db, store_id, period, today, text, marker);
    reply_raw(r, 200, "application/json; charset=utf-8", text, strlen(text));
    reply_header(r, "X-Cache", "miss");
    free(text);
}
