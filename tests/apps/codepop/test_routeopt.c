/* Route optimization: codepop_route_optimize against brute force on small
 * instances, never worse than the given order on large ones, always a
 * permutation, timing for 200 stops; and POST /repair-routes/optimize. */
#include "support/fixture.h"
#include "apps/codepop/codepop.h"
#include <math.h>
#include <string.h>

TestSuite(codepop_routeopt_unit);
TestSuite(codepop_routeopt, .init = cp_start, .fini = srv_stop);

#define OPT "/api/v1/codepop/repair-routes/optimize"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static double uniform(void)          /* xorshift64*, fixed seed: repeatable */
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* n stops around New York; every fifth instance clustered, with repeats. */
static void instance(int k, int n, double *lat, double *lon, double *slat, double *slon)
{
    double spread = k % 5 == 4 ? 0.02 : 0.6;
    for (int i = 0; i < n; i++) {
        if (k % 5 == 4 && i && uniform() < 0.2) {
            lat[i] = lat[i - 1];
            lon[i] = lon[i - 1];
            continue;
        }
        lat[i] = 40.7 + (uniform() - 0.5) * spread;
        lon[i] = -74.0 + (uniform() - 0.5) * spread;
    }
    *slat = 40.7 + (uniform() - 0.5) * spread;
    *slon = -74.0 + (uniform() - 0.5) * spread;
}

static bool is_permutation(const int *order, int n)
{
    bool seen[512] = {0};
    for (int i = 0; i < n; i++) {
        if (order[i] < 0 || order[i] >= n || seen[order[i]]) return false;
        seen[order[i]] = true;
    }
    return true;
}

/* Shortest open path over every permutation (Heap's algorithm). */
static double brute_force(const double *lat, const double *lon, int n, double slat, double slon)
{
    int p[8], c[8] = {0};
    for (int i = 0; i < n; i++) p[i] = i;
    double best = codepop_route_length(lat, lon, p, n, slat, slon);
    for (int i = 1; i < n;) {
        if (c[i] < i) {
            int j = i % 2 ? c[i] : 0, t = p[j];
            p[j] = p[i];
            p[i] = t;
            best = fmin(best, codepop_route_length(lat, lon, p, n, slat, slon));
            c[i]++;
            i = 1;
        } else {
            c[i++] = 0;
        }
    }
    return best;
}

Test(codepop_routeopt_unit, exact_equals_brute_force)
{
    double lat[8], lon[8], slat, slon;
    int order[8];
    for (int k = 0; k < 200; k++) {
        int n = 1 + k % 8;
        instance(k, n, lat, lon, &slat, &slon);
        double got = codepop_route_optimize(lat, lon, n, slat, slon, order);
        double want = brute_force(lat, lon, n, slat, slon);
        cr_assert(is_permutation(order, n), "instance %d", k);
        cr_assert(fabs(got - want) < 1e-9, "instance %d (n=%d): %.12f vs brute force %.12f", k, n, got, want);
        cr_assert(fabs(got - codepop_route_length(lat, lon, order, n, slat, slon)) < 1e-9);
    }
}

Test(codepop_routeopt_unit, held_karp_at_twelve)
{
    double lat[12], lon[12], slat, slon;
    int order[12], given[12];
    for (int i = 0; i < 12; i++) given[i] = i;
    for (int k = 0; k < 5; k++) {
        instance(k, 12, lat, lon, &slat, &slon);
        double got = codepop_route_optimize(lat, lon, 12, slat, slon, order);
        cr_assert(is_permutation(order, 12));
        cr_assert(got <= codepop_route_length(lat, lon, given, 12, slat, slon));
    }
}

Test(codepop_routeopt_unit, never_worse_than_given_order)
{
    static double lat[200], lon[200];
    static int order[200], given[200];
    double slat, slon;
    for (int i = 0; i < 200; i++) given[i] = i;
    for (int k = 0; k < 30; k++) {
        int n = 13 + k * (200 - 13) / 29;
        instance(k, n, lat, lon, &slat, &slon);
        double original = codepop_route_length(lat, lon, given, n, slat, slon);
        double got = codepop_route_optimize(lat, lon, n, slat, slon, order);
        cr_assert(is_permutation(order, n), "instance %d (n=%d)", k, n);
        cr_assert(got <= original, "instance %d (n=%d): %.6f > original %.6f", k, n, got, original);
        cr_assert(fabs(got - codepop_route_length(lat, lon, order, n, slat, slon)) < 1e-9);
        if (k % 5 != 4 && n >= 50) cr_assert(got < 0.35 * original, "n=%d: %.2f of %.2f", n, got, original);
    }
    /* an order that is already good stays (no worse) */
    for (int i = 0; i < 100; i++) {
        lat[i] = 40.0 + i * 0.01;
        lon[i] = -74.0;
    }
    double got = codepop_route_optimize(lat, lon, 100, 39.99, -74.0, order);
    cr_assert(fabs(got - codepop_route_length(lat, lon, given, 100, 39.99, -74.0)) < 1e-9);
}

Test(codepop_routeopt_unit, edges_and_timing)
{
    int order[500];
    static double lat[500], lon[500];
    double slat, slon;
    cr_assert_eq(codepop_route_optimize(lat, lon, 0, 0, 0, order), 0);
    lat[0] = 41;
    lon[0] = -74;
    cr_assert(codepop_route_optimize(lat, lon, 1, 40, -74, order) > 69);
    cr_assert_eq(order[0], 0);
    for (int i = 0; i < 20; i++) lat[i] = 40, lon[i] = -74;
    cr_assert_eq(codepop_route_optimize(lat, lon, 20, 40, -74, order), 0);
    cr_assert(is_permutation(order, 20));
    int sizes[] = {200, 500};
    for (int s = 0; s < 2; s++) {
        instance(1, sizes[s], lat, lon, &slat, &slon);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        codepop_route_optimize(lat, lon, sizes[s], slat, slon, order);
        clock_gettime(CLOCK_MONOTONIC, &b);
        double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
        cr_assert(is_permutation(order, sizes[s]));
        cr_log_info("route optimization, %d stops: %.1f ms", sizes[s], ms);
        fprintf(stderr, "route optimization, %d stops: %.1f ms\n", sizes[s], ms);
    }
}

/* ------------------------------------------------------------------ HTTP */

static int64_t schedule(const char *as, int machine, const char *date, const char *time_)
{
    struct resp *r = api_post("/api/v1/codepop/repair-schedules", as, NULL,
                             "{\"machine_id\":%d,\"scheduled_date\":\"%s\",\"scheduled_time\":\"%s\","
                             "\"action_type\":\"INSPECTION\",\"estimated_duration_minutes\":30}", machine, date, time_);
    cr_assert_eq(r->status, 201, "%s", r->body);
    int64_t id = jint(r->json, "id");
    resp_free(r);
    return id;
}

Test(codepop_routeopt, optimize_endpoint)
{
    /* Midtown first by time, but the start is next to Downtown */
    int64_t mid = schedule("cp_rep_c", 2, date_in(0), "09:00");
    int64_t down = schedule("cp_rep_c", 1, date_in(0), "10:00");
    int64_t later = schedule("cp_rep_c", 1, date_in(1), "09:00");
    int64_t gone = schedule("cp_rep_c", 2, date_in(0), "11:00");
    int64_t east = schedule("cp_rep_e", 3, date_in(0), "09:00");
    char path[96];
    snprintf(path, sizeof path, "/api/v1/codepop/repair-schedules/%lld/cancel", (long long)gone);
    resp_free(api_post(path, "cp_rep_c", NULL, "{}"));
    (void)later;

    struct resp *r = api_post(OPT, "cp_rep_c", NULL, "{\"date\":\"%s\",\"start\":{\"lat\":40.70,\"lon\":-74.01}}", date_in(0));
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *order = json_object_get(r->json, "order"), *legs = json_object_get(r->json, "legs");
    cr_assert_eq(json_array_size(order), 2);
    cr_assert_eq(jint(json_array_get(order, 0), "schedule_id"), down);
    cr_assert_eq(jint(json_array_get(order, 0), "store_id"), 1);
    cr_assert_eq(jint(json_array_get(order, 1), "schedule_id"), mid);
    cr_assert_eq(json_array_size(legs), 2);
    cr_assert(json_is_null(json_object_get(json_array_get(legs, 0), "from")));
    cr_assert_eq(jint(json_array_get(legs, 1), "from"), down);
    cr_assert_eq(jint(json_array_get(legs, 1), "to"), mid);
    double total = json_real_value(json_object_get(r->json, "total_distance_miles"));
    double original = json_real_value(json_object_get(r->json, "original_distance_miles"));
    double sum = json_real_value(json_object_get(json_array_get(legs, 0), "distance_miles")) +
                 json_real_value(json_object_get(json_array_get(legs, 1), "distance_miles"));
    cr_assert(fabs(total - sum) < 1e-9);
    cr_assert(total < original, "%f vs %f", total, original);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "algorithm")), "held-karp");
    resp_free(r);

    /* by ids: the given order is the original */
    r = api_post(OPT, "cp_rep_c", NULL, "{\"schedule_ids\":[%lld,%lld],\"start\":{\"lat\":40.70,\"lon\":-74.01}}",
                (long long)down, (long long)mid);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(fabs(json_real_value(json_object_get(r->json, "total_distance_miles")) -
                   json_real_value(json_object_get(r->json, "original_distance_miles"))) < 1e-9);
    resp_free(r);
    r = api_post(OPT, "cp_rep_c", NULL, "{\"schedule_ids\":[%lld,%lld],\"start\":{\"lat\":40.70,\"lon\":-74.01}}",
                (long long)down, (long long)east);
    cr_assert_eq(r->status, 404, "someone else's schedule");
    resp_free(r);

    /* a day without schedules */
    r = api_post(OPT, "cp_rep_c", NULL, "{\"date\":\"2031-01-01\",\"start\":{\"lat\":40,\"lon\":-74}}");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(json_array_size(json_object_get(r->json, "order")), 0);
    cr_assert(json_number_value(json_object_get(r->json, "total_distance_miles")) == 0);
    cr_assert(json_number_value(json_object_get(r->json, "original_distance_miles")) == 0);
    resp_free(r);
}

Test(codepop_routeopt, validation_and_roles)
{
    const char *ok = "{\"date\":\"2031-01-01\",\"start\":{\"lat\":40,\"lon\":-74}}";
    const struct authz_case cases[] = {
        {"POST", OPT, NULL, 401, ok},
        {"POST", OPT, "cp_mgr1", 403, ok},
        {"POST", OPT, "cp_log_c", 403, ok},
        {"POST", OPT, "cp_user1", 403, ok},
        {"POST", OPT, "cp_rep_e", 200, ok},
        {"POST", OPT, "cp_admin", 200, ok},
        {"POST", OPT, "cp_rep_c", 400, "{\"date\":\"2031-01-01\"}"},
        {"POST", OPT, "cp_rep_c", 400, "{\"date\":\"2031-01-01\",\"start\":{\"lat\":91,\"lon\":-74}}"},
        {"POST", OPT, "cp_rep_c", 400, "{\"date\":\"2031-01-01\",\"start\":{\"lat\":40,\"lon\":-181}}"},
        {"POST", OPT, "cp_rep_c", 400, "{\"date\":\"2031-01-01\",\"start\":{\"lat\":\"40\",\"lon\":-74}}"},
        {"POST", OPT, "cp_rep_c", 400, "{\"date\":\"2031-01-01\",\"start\":{\"lat\":40,\"lon\":-74,\"alt\":3}}"},
        {"POST", OPT, "cp_rep_c", 400, "{\"start\":{\"lat\":40,\"lon\":-74}}"},
        {"POST", OPT, "cp_rep_c", 400, "{\"date\":\"2031-01-01\",\"schedule_ids\":[1],\"start\":{\"lat\":40,\"lon\":-74}}"},
        {"POST", OPT, "cp_rep_c", 400, "{\"date\":\"01/01/2031\",\"start\":{\"lat\":40,\"lon\":-74}}"},
        {"POST", OPT, "cp_rep_c", 400, "{\"date\":\"2031-02-30\",\"start\":{\"lat\":40,\"lon\":-74}}"},
        {"POST", OPT, "cp_rep_c", 400, "{\"schedule_ids\":[],\"start\":{\"lat\":40,\"lon\":-74}}"},
        {"POST", OPT, "cp_rep_c", 400, "{\"schedule_ids\":[0],\"start\":{\"lat\":40,\"lon\":-74}}"},
        {"POST", OPT, "cp_rep_c", 400, "{\"schedule_ids\":[\"1\"],\"start\":{\"lat\":40,\"lon\":-74}}"},
        {"POST", OPT, "cp_rep_c", 400, "{\"schedule_ids\":[3,3],\"start\":{\"lat\":40,\"lon\":-74}}"},
        {"POST", OPT, "cp_rep_c", 404, "{\"schedule_ids\":[12345],\"start\":{\"lat\":40,\"lon\":-74}}"},
        {0},
    };
    authz_run(cases);
}
