/* golden.c -- GET /golden-window: should the store start preparing now?
 *
 *   golden_window_distance_miles = preparation_time_minutes * velocity_mph / 60
 *   estimated_arrival_minutes    = current_distance_miles / velocity_mph * 60
 *   start_preparation            = current distance <= window distance
 *
 * The decision is taken on the exact values; the JSON answer rounds distances
 * to 2 decimals (0.01 mile, about 50 ft) and minutes to 1 decimal (6 s), which
 * is what a screen shows and keeps the numbers stable for clients. */
#include "codepop.h"
#include <math.h>
#include <stdlib.h>

static double round_to(double x, double scale)
{
    return round(x * scale) / scale;
}

void codepop_golden_window(struct req *r)
{
    int64_t store_id;
    double lat, lon, velocity, store_lat = 0, store_lon = 0;
    const char *complexity = req_query(r, "complexity");
    struct db_rows rows;

    if (!req_query(r, "store_id")) {
        reply_invalid(r, "store_id", "is required");
        return;
    }
    if (req_query_int(r, "store_id", 0, &store_id) < 0) return;
    if (store_id <= 0) {
        reply_invalid(r, "store_id", "must be a positive integer");
        return;
    }
    if (req_query_real(r, "lat", -90, 90, false, &lat) < 0 || req_query_real(r, "lon", -180, 180, false, &lon) < 0 ||
        req_query_real(r, "velocity_mph", 0, 1000, true, &velocity) < 0)
        return;
    int minutes = codepop_complexity_minutes(complexity);
    if (minutes < 0) {
        reply_invalid(r, "complexity", complexity ? "must be one of simple, medium, complex" : "is required");
        return;
    }

    if (db_query(r->db, &rows, "SELECT lat, lon FROM codepop_stores WHERE id = $1", DB_I(store_id)) < 0) {
        reply_db_error(r);
        return;
    }
    bool found = db_step(&rows);
    if (found) {
        store_lat = db_col_real(&rows, 0);
        store_lon = db_col_real(&rows, 1);
    }
    db_rows_close(&rows);
    if (!found) {
        reply_error(r, 404, "not_found", "no store %lld", (long long)store_id);
        return;
    }

    int prep = codepop_prep_minutes(minutes, 1);
    double distance = codepop_haversine_miles(lat, lon, store_lat, store_lon);
    double window = prep * velocity / 60.0;
    double arrival = distance / velocity * 60.0;
    reply_json(r, 200, json_pack("{s:I, s:f, s:f, s:i, s:f, s:f, s:b}",
                                 "store_id", (json_int_t)store_id,
                                 "current_distance_miles", round_to(distance, 100),
                                 "velocity_mph", velocity,
                                 "preparation_time_minutes", prep,
                                 "golden_window_distance_miles", round_to(window, 100),
                                 "estimated_arrival_minutes", round_to(arrival, 10),
                                 "start_preparation", distance <= window));
}
