/* orders_list.c -- the order lists (split from orders.c to keep files small):
 * GET /orders (?mine=1: the caller's own, otherwise the stores where the
 * caller reads orders, scope inside the query) and GET /stores/{id}/orders.
 * Filters: ?status, ?from and ?to on created_at (a date covers the whole
 * day; a UTC time is exact), ?store_id on /orders; newest first, paginated.
 * List items carry no lines (the detail has them). */
#include "codepop.h"
#include <string.h>

#define LIST_COLUMNS "o.id, o.store_id, o.user_id, o.status, o.payment_status, o.total_cents, o.currency, " \
                     "o.pickup_time, o.preparation_minutes, o.created_at, o.updated_at"

struct filters {
    const char *status, *from, *to;
    char from_buf[32], to_buf[32];
};

/* A date (YYYY-MM-DD) or a UTC time (YYYY-MM-DDTHH:MM:SS[.fff]Z) into the
 * bound on created_at: from -> created_at >= out, to -> created_at < out. */
static int date_bound(struct req *r, const char *name, bool upper, char out[32], const char **bound)
{
    const char *v = req_query(r, name), *end;
    struct tm tm = {0};
    char back[32];
    *bound = NULL;
    if (!v) return 0;
    bool day = strlen(v) == 10;
    end = strptime(v, day ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%S", &tm);
    if (end && *end == '.')
        for (end++; *end >= '0' && *end <= '9'; end++)
            ;
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    strftime(back, sizeof back, day ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || (day ? *end != 0 : strcmp(end, "Z") != 0) || strncmp(back, v, strlen(back))) {
        reply_invalid(r, name, "must be a date (YYYY-MM-DD) or a UTC time (RFC 3339, Z)");
        return -1;
    }
    t += upper ? (day ? 86400 : 1) : 0;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    *bound = out;
    return 0;
}

static int filters_read(struct req *r, struct filters *f)
{
    static const char *const statuses[] = {"pending", "preparing", "ready", "picked_up", "cancelled", NULL};
    f->status = req_query(r, "status");
    int i = 0;
    while (f->status && statuses[i] && strcmp(statuses[i], f->status)) i++;
    if (f->status && !statuses[i]) {
        reply_invalid(r, "status", "must be one of pending, preparing, ready, picked_up, cancelled");
        return -1;
    }
    if (date_bound(r, "from", false, f->from_buf, &f->from) < 0 || date_bound(r, "to", true, f->to_buf, &f->to) < 0)
        return -1;
    return 0;
}

/* The store's page rides the (store_id, created_at DESC, id DESC) index: the
 * date bounds are range constraints on it (COALESCE keeps them usable) and
 * the order needs no sort. Not static: a test checks its query plan. */
#define STORE_ORDERS_WHERE "WHERE o.store_id = $1 AND o.created_at >= COALESCE($2, '') " \
                           "AND o.created_at < COALESCE($3, '9999') AND (CAST($4 AS TEXT) IS NULL OR o.status = $4) "
const char codepop_store_orders_sql[] = "SELECT " LIST_COLUMNS " FROM codepop_orders o " STORE_ORDERS_WHERE
                                        "ORDER BY o.created_at DESC, o.id DESC LIMIT $5 OFFSET $6";

void codepop_store_orders(struct req *r)
{
    struct page pg;
    struct filters f;
    int64_t store_id = r->param_int[0], total = 0;
    json_t *items;
    if (codepop_require_store(r, "codepop.orders.read", store_id) < 0 || req_page(r, &pg) < 0 ||
        filters_read(r, &f) < 0)
        return;
    /* Without a date range the total comes from the trigger-kept counts
     * (003_order_counts.sql); with one, the count reads one index only:
     * (store_id, created_at) or, with a status, (store_id, status, created_at). */
    int counted = !f.from && !f.to
                      ? db_int(r->db, &total, "SELECT COALESCE(SUM(n), 0) FROM codepop_store_order_counts "
                                              "WHERE store_id = $1 AND (CAST($2 AS TEXT) IS NULL OR status = $2)",
                               DB_I(store_id), DB_S(f.status))
                  : f.status ? db_int(r->db, &total, "SELECT COUNT(*) FROM codepop_orders o WHERE o.store_id = $1 "
                                                   "AND o.status = $4 AND o.created_at >= COALESCE($2, '') "
                                                   "AND o.created_at < COALESCE($3, '9999')",
                                    DB_I(store_id), DB_S(f.from), DB_S(f.to), DB_S(f.status))
                           : db_int(r->db, &total, "SELECT COUNT(*) FROM codepop_orders o WHERE o.store_id = $1 "
                                                   "AND o.created_at >= COALESCE($2, '') "
                                                   "AND o.created_at < COALESCE($3, '9999')",
                                    DB_I(store_id), DB_S(f.from), DB_S(f.to));
    if (counted != 1 ||
        !(items = db_json_all(r->db, codepop_store_orders_sql, DB_I(store_id), DB_S(f.from), DB_S(f.to),
                              DB_S(f.status), DB_I(pg.size), DB_I(pg.offset)))) {
        reply_db_error(r);
        return;
    }
    reply_list(r, items, &pg, total);
}

#define LIST_FILTERS "(CAST($1 AS TEXT) IS NULL OR o.status = $1) AND ($2 = 0 OR o.store_id = $2) " \
                     "AND o.created_at >= COALESCE($3, '') AND o.created_at < COALESCE($4, '9999') "
#define MINE_WHERE   "WHERE o.user_id = $5 AND " LIST_FILTERS
#define SCOPE_WHERE  "WHERE ($5 = 1 OR " DB_IN_IDS("o.store_id", 6) " OR o.store_id IN " \
                     "(SELECT id FROM codepop_stores WHERE " DB_IN_IDS("region_id", 7) ")) AND " \
                     LIST_FILTERS
#define LIST_ORDER   "ORDER BY o.created_at DESC, o.id DESC "

void codepop_orders_list(struct req *r)
{
    struct page pg;
    struct filters f;
    int64_t store = 0, total = 0;
    json_t *items = NULL;
    const char *mine = req_query(r, "mine");
    if (mine && strcmp(mine, "1") && strcmp(mine, "0") && strcmp(mine, "true") && strcmp(mine, "false")) {
        reply_invalid(r, "mine", "must be 1 or 0");
        return;
    }
    if (req_page(r, &pg) < 0 || filters_read(r, &f) < 0 || req_query_int(r, "store_id", 0, &store) < 0) return;
    if (store < 0) {
        reply_invalid(r, "store_id", "must be a store id");
        return;
    }
    if (mine && (!strcmp(mine, "1") || !strcmp(mine, "true"))) {
        if (db_int(r->db, &total, "SELECT COUNT(*) FROM codepop_orders o " MINE_WHERE, DB_S(f.status), DB_I(store),
                   DB_S(f.from), DB_S(f.to), DB_I(r->user.id)) == 1)
            items = db_json_all(r->db, "SELECT " LIST_COLUMNS " FROM codepop_orders o " MINE_WHERE LIST_ORDER
                                       "LIMIT $6 OFFSET $7", DB_S(f.status), DB_I(store), DB_S(f.from), DB_S(f.to),
                                DB_I(r->user.id), DB_I(pg.size), DB_I(pg.offset));
    } else {
        struct scope_list sc;
        rbac_scope_list(r, "codepop.orders.read", &sc, CODEPOP_SCOPE_TYPES);
        if (db_int(r->db, &total, "SELECT COUNT(*) FROM codepop_orders o " SCOPE_WHERE, DB_S(f.status), DB_I(store),
                   DB_S(f.from), DB_S(f.to), CODEPOP_SCOPE_ARGS(&sc)) == 1)
            items = db_json_all(r->db, "SELECT " LIST_COLUMNS " FROM codepop_orders o " SCOPE_WHERE LIST_ORDER
                                       "LIMIT $8 OFFSET $9", DB_S(f.status), DB_I(store), DB_S(f.from), DB_S(f.to),
                                CODEPOP_SCOPE_ARGS(&sc), DB_I(pg.size), DB_I(pg.offset));
    }
    if (!items) {
        reply_db_error(r);
        return;
    }
    reply_list(r, items, &pg, total);
}
