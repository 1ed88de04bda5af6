/* routeopt.c -- the visiting order of a repair technician's stops: an open
 * path from a start point through every stop, no return.
 *
 * n <= 12: exact, Held-Karp dynamic programming over subsets (O(n^2 2^n)).
 * Above: nearest neighbour and the given order are each improved with 2-opt
 * (segment reversal) and Or-opt (moving a run of 1-3 stops elsewhere, either
 * way round) until neither finds a gain (bounded rounds); the shorter wins.
 * Whatever the method, the answer is compared with the given order and never
 * longer. 200 stops take a few milliseconds.
 *
 * POST /repair-routes/optimize {date, start} or {schedule_ids, start} orders
 * the caller's schedules (assigned to them; for a date those scheduled or
 * in_progress, in scheduled_time order as the "original"). In legs, `from` is
 * null for the start point. */
#include "codepop.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EXACT_MAX 12
#define MAX_STOPS 500
#define MAX_ROUNDS 1000
#define GAIN 1e-9               /* a move must shorten the path by more than this */

/* Distances between node 0 (the start) and nodes 1..n (the stops). */
struct dist {
    int w;
    double *d;
};
#define D(m, a, b) ((m)->d[(size_t)(a) * (size_t)(m)->w + (size_t)(b)])

static void dist_init(struct dist *m, const double *lat, const double *lon, int n, double slat, double slon)
{
    m->w = n + 1;
    m->d = xmalloc((size_t)m->w * (size_t)m->w * sizeof *m->d);
    for (int a = 0; a <= n; a++)
        for (int b = 0; b <= n; b++) {
            double la = a ? lat[a - 1] : slat, oa = a ? lon[a - 1] : slon;
            double lb = b ? lat[b - 1] : slat, ob = b ? lon[b - 1] : slon;
            D(m, a, b) = a == b ? 0 : codepop_haversine_miles(la, oa, lb, ob);
        }
}

double codepop_route_length(const double *lat, const double *lon, const int *order, int n, double start_lat,
                            double start_lon)
{
    double total = 0, plat = start_lat, plon = start_lon;
    for (int i = 0; i < n; i++) {
        total += codepop_haversine_miles(plat, plon, lat[order[i]], lon[order[i]]);
        plat = lat[order[i]];
        plon = lon[order[i]];
    }
    return total;
}

/* ------------------------------------------------------------ Held-Karp */

/* best[mask * n + j]: shortest path from the start through the stops in mask,
 * ending at stop j (j in mask). */
static void held_karp(const struct dist *m, int n, int *order)
{
    size_t states = (size_t)1 << n;
    double *best = xmalloc(states * (size_t)n * sizeof *best);
    signed char *prev = xmalloc(states * (size_t)n);
    for (size_t i = 0; i < states * (size_t)n; i++) best[i] = INFINITY;
    for (int j = 0; j < n; j++) {
        best[((size_t)1 << j) * (size_t)n + (size_t)j] = D(m, 0, j + 1);
        prev[((size_t)1 << j) * (size_t)n + (size_t)j] = -1;
    }
    for (size_t mask = 1; mask < states; mask++) {
        for (int j = 0; j < n; j++) {
            double here = best[mask * (size_t)n + (size_t)j];
            if (!(mask & ((size_t)1 << j)) || here == INFINITY) continue;
            for (int k = 0; k < n; k++) {
                if (mask & ((size_t)1 << k)) continue;
                size_t to = (mask | ((size_t)1 << k)) * (size_t)n + (size_t)k;
                double len = here + D(m, j + 1, k + 1);
                if (len < best[to]) {
                    best[to] = len;
                    prev[to] = (signed char)j;
                }
            }
        }
    }
    size_t mask = states - 1;
    int last = 0;
    for (int j = 1; j < n; j++)
        if (best[mask * (size_t)n + (size_t)j] < best[mask * (size_t)n + (size_t)last]) last = j;
    for (int i = n - 1; i >= 0; i--) {
        order[i] = last;
        int p = prev[mask * (size_t)n + (size_t)last];
        mask &= ~((size_t)1 << last);
        last = p;
    }
    free(best);
    free(prev);
}

/* ------------------------------------------------------------ heuristic */

/* p[0] is the start (node 0), p[1..n] the stops as nodes 1..n. */

static void nearest_neighbour(const struct dist *m, int n, int *p)
{
    bool *used = xcalloc((size_t)n + 1, sizeof *used);
    p[0] = 0;
    for (int i = 1; i <= n; i++) {
        int pick = -1;
        for (int c = 1; c <= n; c++)
            if (!used[c] && (pick < 0 || D(m, p[i - 1], c) < D(m, p[i - 1], pick))) pick = c;
        used[pick] = true;
        p[i] = pick;
    }
    free(used);
}

/* Reverse p[i..k] when it shortens the path; the path is open at p[n]. */
static bool two_opt(const struct dist *m, int n, int *p)
{
    bool improved = false;
    for (int i = 1; i < n; i++) {
        for (int k = i + 1; k <= n; k++) {
            int a = p[i - 1], b = p[i], c = p[k];
            double delta = D(m, a, c) - D(m, a, b);
            if (k < n) delta += D(m, b, p[k + 1]) - D(m, c, p[k + 1]);
            if (delta >= -GAIN) continue;
            for (int x = i, y = k; x < y; x++, y--) {
                int t = p[x];
                p[x] = p[y];
                p[y] = t;
            }
            improved = true;
        }
    }
    return improved;
}

/* Move p[i..i+len-1] to just after p[j] (j outside the run), reversed or not. */
static void move_run(int *p, int n, int i, int len, int j, bool reverse, int *tmp)
{
    int k = 0;
    for (int x = 0; x <= n; x++) {
        if (x >= i && x < i + len) continue;
        tmp[k++] = p[x];
        if (x == j)
            for (int y = 0; y < len; y++) tmp[k++] = p[reverse ? i + len - 1 - y : i + y];
    }
    memcpy(p, tmp, ((size_t)n + 1) * sizeof *p);
}

static bool or_opt(const struct dist *m, int n, int *p, int *tmp)
{
    bool improved = false;
    for (int len = 1; len <= 3; len++) {
        for (int i = 1; i + len - 1 <= n; i++) {
            int first = p[i], last = p[i + len - 1], before = p[i - 1], after = i + len <= n ? p[i + len] : -1;
            double removed = -D(m, before, first);
            if (after >= 0) removed += D(m, before, after) - D(m, last, after);
            int best_j = -1;
            bool best_rev = false;
            double best = -GAIN;
            for (int j = 0; j <= n; j++) {
                if (j >= i - 1 && j <= i + len - 1) continue;
                int u = p[j], v = j < n ? p[j + 1] : -1;
                double fwd = D(m, u, first), rev = D(m, u, last);
                if (v >= 0) {
                    fwd += D(m, last, v) - D(m, u, v);
                    rev += D(m, first, v) - D(m, u, v);
                }
                if (removed + fwd < best) best = removed + fwd, best_j = j, best_rev = false;
                if (len > 1 && removed + rev < best) best = removed + rev, best_j = j, best_rev = true;
            }
            if (best_j < 0) continue;
            move_run(p, n, i, len, best_j, best_rev, tmp);
            improved = true;
        }
    }
    return improved;
}

static void improve(const struct dist *m, int n, int *p, int *tmp)
{
    for (int round = 0; round < MAX_ROUNDS; round++) {
        bool a = two_opt(m, n, p);
        bool b = or_opt(m, n, p, tmp);
        if (!a && !b) break;
    }
}

static void heuristic(const struct dist *m, int n, int *order)
{
    int *p = xmalloc(((size_t)n + 1) * sizeof *p), *q = xmalloc(((size_t)n + 1) * sizeof *q);
    int *tmp = xmalloc(((size_t)n + 1) * sizeof *tmp);
    nearest_neighbour(m, n, p);
    improve(m, n, p, tmp);
    for (int i = 0; i <= n; i++) q[i] = i;
    improve(m, n, q, tmp);
    double lp = 0, lq = 0;
    for (int i = 1; i <= n; i++) {
        lp += D(m, p[i - 1], p[i]);
        lq += D(m, q[i - 1], q[i]);
    }
    int *win = lq < lp ? q : p;
    for (int i = 0; i < n; i++) order[i] = win[i + 1] - 1;
    free(p);
    free(q);
    free(tmp);
}

double codepop_route_optimize(const double *lat, const double *lon, int n, double start_lat, double start_lon,
                              int *order)
{
    struct dist m;
    if (n <= 0) return 0;
    int *given = xmalloc((size_t)n * sizeof *given);
    for (int i = 0; i < n; i++) given[i] = i;
    dist_init(&m, lat, lon, n, start_lat, start_lon);
    if (n <= EXACT_MAX) held_karp(&m, n, order);
    else heuristic(&m, n, order);
    free(m.d);
    double found = codepop_route_length(lat, lon, order, n, start_lat, start_lon);
    double original = codepop_route_length(lat, lon, given, n, start_lat, start_lon);
    if (original <= found) {
        memcpy(order, given, (size_t)n * sizeof *order);
        found = original;
    }
    free(given);
    return found;
}

/* ------------------------------------------------------------------ HTTP */

struct stops {
    int n;
    int64_t *id, *store;
    double *lat, *lon;
};

static void stops_add(struct req *r, struct stops *s, int64_t id, int64_t store, double lat, double lon)
{
    if (!s->id) {
        s->id = pool_alloc(r->pool, MAX_STOPS * sizeof *s->id);
        s->store = pool_alloc(r->pool, MAX_STOPS * sizeof *s->store);
        s->lat = pool_alloc(r->pool, MAX_STOPS * sizeof *s->lat);
        s->lon = pool_alloc(r->pool, MAX_STOPS * sizeof *s->lon);
    }
    s->id[s->n] = id;
    s->store[s->n] = store;
    s->lat[s->n] = lat;
    s->lon[s->n] = lon;
    s->n++;
}

#define STOP_SELECT \
    "SELECT rs.id, rs.store_id, s.lat, s.lon FROM codepop_repair_schedules rs " \
    "JOIN codepop_stores s ON s.id = rs.store_id "

static int load_by_date(struct req *r, const char *date, struct stops *s)
{
    struct db_rows rows;
    if (req_date(r, "date", date, NULL) < 0) return -1;
    if (db_query(r->db, &rows, STOP_SELECT "WHERE rs.assigned_to = $1 AND rs.scheduled_date = $2 "
                                           "AND rs.status IN ('scheduled', 'in_progress') "
                                           "ORDER BY rs.scheduled_time, rs.id LIMIT $3",
                 DB_I(r->user.id), DB_S(date), DB_I(MAX_STOPS + 1)) < 0) {
        reply_db_error(r);
        return -1;
    }
    bool too_many = false;
    while (!too_many && db_step(&rows)) {
        if (!(too_many = s->n == MAX_STOPS))
            stops_add(r, s, db_col_int(&rows, 0), db_col_int(&rows, 1), db_col_real(&rows, 2), db_col_real(&rows, 3));
    }
    db_rows_close(&rows);
    if (too_many) {
        reply_invalid(r, "date", "has more than 500 schedules; give schedule_ids");
        return -1;
    }
    return 0;
}

static int load_by_ids(struct req *r, json_t *ids, struct stops *s)
{
    size_t i, j;
    json_t *v;
    if (!json_is_array(ids) || !json_array_size(ids) || json_array_size(ids) > MAX_STOPS) {
        reply_invalid(r, "schedule_ids", "must be an array of 1 to 500 ids");
        return -1;
    }
    json_array_foreach (ids, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0) {
            reply_invalid(r, pool_printf(r->pool, "schedule_ids[%zu]", i), "must be a positive integer");
            return -1;
        }
        for (j = 0; j < i; j++)
            if (json_integer_value(json_array_get(ids, j)) == json_integer_value(v)) {
                reply_invalid(r, pool_printf(r->pool, "schedule_ids[%zu]", i), "is listed twice");
                return -1;
            }
    }
    json_array_foreach (ids, i, v) {
        json_t *row = db_json_one(r->db, STOP_SELECT "WHERE rs.id = $1 AND rs.assigned_to = $2",
                                  DB_I(json_integer_value(v)), DB_I(r->user.id));
        if (!row) {
            reply_error(r, 404, "not_found", "no schedule %lld of yours", (long long)json_integer_value(v));
            return -1;
        }
        stops_add(r, s, json_integer_value(v), json_integer_value(json_object_get(row, "store_id")),
                  json_number_value(json_object_get(row, "lat")), json_number_value(json_object_get(row, "lon")));
        json_decref(row);
    }
    return 0;
}

static json_t *route_json(const struct stops *s, const int *order, double slat, double slon, double total,
                          double original)
{
    json_t *stops = json_array(), *legs = json_array();
    double plat = slat, plon = slon;
    for (int i = 0; i < s->n; i++) {
        int k = order[i];
        json_array_append_new(stops, json_pack("{s:I, s:I, s:f, s:f}", "schedule_id", (json_int_t)s->id[k], "store_id",
                                               (json_int_t)s->store[k], "lat", s->lat[k], "lon", s->lon[k]));
        json_array_append_new(legs, json_pack("{s:o, s:I, s:f}", "from",
                                              i ? json_integer(s->id[order[i - 1]]) : json_null(), "to",
                                              (json_int_t)s->id[k], "distance_miles",
                                              codepop_haversine_miles(plat, plon, s->lat[k], s->lon[k])));
        plat = s->lat[k];
        plon = s->lon[k];
    }
    return json_pack("{s:o, s:o, s:f, s:f, s:s, s:{s:f, s:f}}", "order", stops, "legs", legs, "total_distance_miles",
                     total, "original_distance_miles", original, "algorithm",
                     s->n <= EXACT_MAX ? "held-karp" : "2opt-oropt", "start", "lat", slat, "lon", slon);
}

void codepop_routes_optimize(struct req *r)
{
    const char *date = NULL;
    json_t *ids = NULL;
    double slat, slon;
    struct stops s = {0};
    if (req_unpack(r, "{s?s, s?o, s:{s:F, s:F}}", "date", &date, "schedule_ids", &ids, "start", "lat", &slat, "lon",
                   &slon) < 0)
        return;
    if (!isfinite(slat) || slat < -90 || slat > 90) {
        reply_invalid(r, "start.lat", "must be between -90 and 90");
        return;
    }
    if (!isfinite(slon) || slon < -180 || slon > 180) {
        reply_invalid(r, "start.lon", "must be between -180 and 180");
        return;
    }
    if (!date == !ids) {
        if (date) reply_invalid(r, "schedule_ids", "cannot be given with date");
        else reply_invalid(r, "date", "or schedule_ids is required");
        return;
    }
    if ((date ? load_by_date(r, date, &s) : load_by_ids(r, ids, &s)) < 0) return;
    int *order = pool_alloc(r->pool, ((size_t)s.n + 1) * sizeof *order);
    int *given = pool_alloc(r->pool, ((size_t)s.n + 1) * sizeof *given);
    for (int i = 0; i < s.n; i++) given[i] = i;
    double total = codepop_route_optimize(s.lat, s.lon, s.n, slat, slon, order);
    double original = codepop_route_length(s.lat, s.lon, given, s.n, slat, slon);
    reply_json(r, 200, route_json(&s, order, slat, slon, total, original));
}
