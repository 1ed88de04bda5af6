/* reference.c -- regions, supply hubs, stores and drinks: the reference data
 * every node shares. Lists answer the platform list shape and filter by field
 * (?region=C by region code, ?region_id=, ?q= name substring, ...); details
 * answer 404 not_found for unknown ids. Regions, hubs and stores are for any
 * signed-in user; drinks (with their recipes) for anyone.
 *
 * GET /stores/nearby?lat=&lon=&radius_miles= prefilters with a lat/lon
 * bounding box in SQL and computes the exact great-circle distance in C for
 * the few candidates left. */
#include "codepop.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MILES_PER_DEG_LAT 69.09     /* 3958.8 * pi / 180 */
#define NEARBY_MAX_RADIUS 500.0

/* ----------------------------------------------------------------- helpers */

/* Optional text filter: absent or empty means "no filter" (binds NULL). */
static const char *filter(struct req *r, const char *name)
{
    const char *v = req_query(r, name);
    return v && *v ? v : NULL;
}

/* Optional integer filter: 0 when absent (ids are positive). */
static int filter_id(struct req *r, const char *name, int64_t *out)
{
    if (req_query_int(r, name, 0, out) < 0) return -1;
    if (*out < 0) {
        reply_invalid(r, name, "must be a positive integer");
        return -1;
    }
    return 0;
}

static void reply_one(struct req *r, json_t *row)
{
    if (row) reply_json(r, 200, row);
    else reply_not_found(r);
}

/* ----------------------------------------------------------------- regions */

#define REGION_COLUMNS                                                                                  \
    "rg.id, rg.code, rg.name, "                                                                         \
    "(SELECT MIN(h.id) FROM codepop_hubs h WHERE h.region_id = rg.id) AS hub_id, "                      \
    "(SELECT COUNT(*) FROM codepop_stores s WHERE s.region_id = rg.id) AS store_count "
#define REGION_WHERE "WHERE (CAST($1 AS TEXT) IS NULL OR rg.code = $1) AND (CAST($2 AS TEXT) IS NULL OR instr(lower(rg.name), lower($2)) > 0) "

void codepop_regions_list(struct req *r)
{
    struct page pg;
    if (req_page(r, &pg) < 0) return;
    const char *code = filter(r, "code"), *q = filter(r, "q");
    reply_page(r, &pg, "SELECT COUNT(*) FROM codepop_regions rg " REGION_WHERE,
               "SELECT " REGION_COLUMNS "FROM codepop_regions rg " REGION_WHERE
               "ORDER BY rg.id LIMIT $3 OFFSET $4",
               DB_S(code), DB_S(q));
}

void codepop_regions_get(struct req *r)
{
    reply_one(r, db_json_one(r->db, "SELECT " REGION_COLUMNS "FROM codepop_regions rg WHERE rg.id = $1",
                             DB_I(r->param_int[0])));
}

/* -------------------------------------------------------------------- hubs */

#define HUB_COLUMNS                                                                                     \
    "h.id, h.region_id, rg.code AS region, h.code, h.name, h.lat, h.lon, "                              \
    "(SELECT COUNT(*) FROM codepop_stores s WHERE s.supply_hub_id = h.id) AS store_count "
#define HUB_FROM "FROM codepop_hubs h JOIN codepop_regions rg ON rg.id = h.region_id "
#define HUB_WHERE                                                                                       \
    "WHERE (CAST($1 AS TEXT) IS NULL OR rg.code = $1) AND ($2 = 0 OR h.region_id = $2) AND (CAST($3 AS TEXT) IS NULL OR h.code = $3) " \
    "AND (CAST($4 AS TEXT) IS NULL OR instr(lower(h.name), lower($4)) > 0) "

void codepop_hubs_list(struct req *r)
{
    struct page pg;
    int64_t region_id;
    if (req_page(r, &pg) < 0 || filter_id(r, "region_id", &region_id) < 0) return;
    const char *region = filter(r, "region"), *code = filter(r, "code"), *q = filter(r, "q");
    reply_page(r, &pg, "SELECT COUNT(*) " HUB_FROM HUB_WHERE,
               "SELECT " HUB_COLUMNS HUB_FROM HUB_WHERE "ORDER BY h.id LIMIT $5 OFFSET $6",
               DB_S(region), DB_I(region_id), DB_S(code), DB_S(q));
}

void codepop_hubs_get(struct req *r)
{
    reply_one(r, db_json_one(r->db, "SELECT " HUB_COLUMNS HUB_FROM "WHERE h.id = $1", DB_I(r->param_int[0])));
}

/* ------------------------------------------------------------------ stores */

#define STORE_COLUMNS                                                                                   \
    "s.id, s.name, s.region_id, rg.code AS region, s.supply_hub_id, m.id AS machine_id, "               \
    "m.status AS machine_status, s.lat, s.lon, s.address, s.timezone, s.opens_at, s.closes_at "
#define STORE_FROM                                                                                      \
    "FROM codepop_stores s JOIN codepop_regions rg ON rg.id = s.region_id "                             \
    "LEFT JOIN codepop_machines m ON m.store_id = s.id "
#define STORE_WHERE                                                                                     \
    "WHERE (CAST($1 AS TEXT) IS NULL OR rg.code = $1) AND ($2 = 0 OR s.region_id = $2) AND ($3 = 0 OR s.supply_hub_id = $3) " \
    "AND (CAST($4 AS TEXT) IS NULL OR m.status = $4) AND (CAST($5 AS TEXT) IS NULL OR instr(lower(s.name), lower($5)) > 0) "

void codepop_stores_list(struct req *r)
{
    struct page pg;
    int64_t region_id, hub_id;
    if (req_page(r, &pg) < 0 || filter_id(r, "region_id", &region_id) < 0 ||
        filter_id(r, "supply_hub_id", &hub_id) < 0)
        return;
    const char *region = filter(r, "region"), *status = filter(r, "machine_status"), *q = filter(r, "q");
    reply_page(r, &pg, "SELECT COUNT(*) " STORE_FROM STORE_WHERE,
               "SELECT " STORE_COLUMNS STORE_FROM STORE_WHERE "ORDER BY s.id LIMIT $6 OFFSET $7",
               DB_S(region), DB_I(region_id), DB_I(hub_id), DB_S(status), DB_S(q));
}

void codepop_stores_get(struct req *r)
{
    reply_one(r, db_json_one(r->db, "SELECT " STORE_COLUMNS STORE_FROM "WHERE s.id = $1", DB_I(r->param_int[0])));
}

struct near {
    double miles;
    json_t *store;
};

static int near_cmp(const void *a, const void *b)
{
    const struct near *x = a, *y = b;
    if (x->miles != y->miles) return x->miles < y->miles ? -1 : 1;
    return json_integer_value(json_object_get(x->store, "id")) < json_integer_value(json_object_get(y->store, "id"))
               ? -1 : 1;
}

/* Bounding box of a circle of `miles` around (lat, lon). The longitude span
 * uses the latitude of the box edge farthest from the equator, so the box
 * always contains the circle; near a pole or across the antimeridian the
 * longitude is not constrained (*any_lon). */
static void bounding_box(double lat, double lon, double miles, double box[4], bool *any_lon)
{
    double dlat = miles / MILES_PER_DEG_LAT, edge = fabs(lat) + dlat;
    box[0] = lat - dlat;
    box[1] = lat + dlat;
    *any_lon = edge >= 89.0;
    double dlon = *any_lon ? 180.0 : miles / (MILES_PER_DEG_LAT * cos(edge * M_PI / 180.0));
    box[2] = lon - dlon;
    box[3] = lon + dlon;
    if (box[2] < -180.0 || box[3] > 180.0) *any_lon = true;
}

void codepop_stores_nearby(struct req *r)
{
    struct page pg;
    double lat, lon, radius, box[4];
    bool any_lon;
    json_t *rows, *store;
    size_t i, n = 0;
    if (req_query_real(r, "lat", -90, 90, false, &lat) < 0 || req_query_real(r, "lon", -180, 180, false, &lon) < 0 ||
        req_query_real(r, "radius_miles", 0, NEARBY_MAX_RADIUS, true, &radius) < 0 || req_page(r, &pg) < 0)
        return;
    bounding_box(lat, lon, radius, box, &any_lon);
    if (!(rows = db_json_all(r->db, "SELECT " STORE_COLUMNS STORE_FROM "WHERE s.lat BETWEEN $1 AND $2 "
                                    "AND ($5 = 1 OR s.lon BETWEEN $3 AND $4)",
                             DB_D(box[0]), DB_D(box[1]), DB_D(box[2]), DB_D(box[3]), DB_I(any_lon)))) {
        reply_db_error(r);
        return;
    }
    struct near *near = xcalloc(json_array_size(rows) + 1, sizeof *near);
    json_array_foreach(rows, i, store) {
        double d = codepop_haversine_miles(lat, lon, json_number_value(json_object_get(store, "lat")),
                                           json_number_value(json_object_get(store, "lon")));
        if (d <= radius) near[n++] = (struct near){d, store};
    }
    qsort(near, n, sizeof *near, near_cmp);
    json_t *items = json_array();
    for (i = (size_t)pg.offset; i < n && i < (size_t)(pg.offset + pg.size); i++) {
        json_object_set_new(near[i].store, "distance_miles", json_real(round(near[i].miles * 100) / 100));
        json_array_append(items, near[i].store);
    }
    free(near);
    json_decref(rows);
    reply_list(r, items, &pg, (int64_t)n);
}

/* ------------------------------------------------------------------ drinks */

#define DRINK_COLUMNS                                                                                   \
    "d.id, d.name, d.price_cents, 'USD' AS currency, d.complexity, "                                    \
    "CASE d.complexity WHEN 'simple' THEN 2 WHEN 'medium' THEN 3 ELSE 5 END AS preparation_minutes, "   \
    "(SELECT json_group_array(json_object('item_name', ri.item_name, 'amount', ri.amount)) "            \
    " FROM (SELECT item_name, amount FROM codepop_recipe_items WHERE drink_id = d.id ORDER BY item_name) ri" \
    ") AS recipe__json "
#define DRINK_WHERE "WHERE (CAST($1 AS TEXT) IS NULL OR d.complexity = $1) AND (CAST($2 AS TEXT) IS NULL OR instr(lower(d.name), lower($2)) > 0) "

void codepop_drinks_list(struct req *r)
{
    struct page pg;
    if (req_page(r, &pg) < 0) return;
    const char *complexity = filter(r, "complexity"), *q = filter(r, "q");
    if (complexity && codepop_complexity_minutes(complexity) < 0) {
        reply_invalid(r, "complexity", "must be one of simple, medium, complex");
        return;
    }
    reply_page(r, &pg, "SELECT COUNT(*) FROM codepop_drinks d " DRINK_WHERE,
               "SELECT " DRINK_COLUMNS "FROM codepop_drinks d " DRINK_WHERE
               "ORDER BY d.id LIMIT $3 OFFSET $4",
               DB_S(complexity), DB_S(q));
}

void codepop_drinks_get(struct req *r)
{
    reply_one(r, db_json_one(r->db, "SELECT " DRINK_COLUMNS "FROM codepop_drinks d WHERE d.id = $1",
                             DB_I(r->param_int[0])));
}
