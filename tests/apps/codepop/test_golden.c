/* Golden Window: the spec example, a customer inside the window, every
 * invalid parameter, an unknown store, and no token. Store 1 of the fixture
 * is at 40.7128, -74.0060. */
#include "support/fixture.h"
#include <math.h>

TestSuite(codepop_golden, .init = cp_start, .fini = srv_stop);

#define GW "/api/v1/codepop/golden-window"

static double num(struct resp *r, const char *key)
{
    json_t *v = json_object_get(r->json, key);
    cr_assert(json_is_number(v), "%s is a number in %s", key, r->body);
    return json_number_value(v);
}

static const char *error_field(struct resp *r)
{
    json_t *d = json_object_get(json_object_get(r->json, "error"), "details");
    const char *f = json_string_value(json_object_get(json_array_get(d, 0), "field"));
    return f ? f : "";
}

static void expect_invalid(const char *query, const char *field)
{
    char path[512];
    snprintf(path, sizeof path, GW "?%s", query);
    struct resp *r = api_get(path, "cp_user1");
    cr_expect_eq(r->status, 400, "%s -> %d", query, r->status);
    cr_expect_str_eq(resp_error_code(r), "validation_failed", "%s", query);
    cr_expect_str_eq(error_field(r), field, "%s: %s", query, r->body);
    resp_free(r);
}

Test(codepop_golden, spec_example)
{
    /* 0.073 degrees of latitude north of the store, 30 mph, a medium drink */
    struct resp *r = api_get(GW "?store_id=1&lat=40.7858&lon=-74.0060&velocity_mph=30&complexity=medium", "cp_user1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "store_id")), 1);
    double d = num(r, "current_distance_miles");
    cr_assert_lt(fabs(d - 5.04), 0.01, "distance %f", d);
    cr_assert_float_eq(num(r, "velocity_mph"), 30.0, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "preparation_time_minutes")), 3);
    cr_assert_float_eq(num(r, "golden_window_distance_miles"), 1.5, 1e-9);
    double a = num(r, "estimated_arrival_minutes");
    cr_assert_lt(fabs(a - 10.1), 0.2, "arrival %f", a);
    cr_assert(json_is_false(json_object_get(r->json, "start_preparation")));
    /* rounded for display: 2 decimals for miles, 1 for minutes */
    cr_assert_float_eq(d * 100, round(d * 100), 1e-6);
    cr_assert_float_eq(a * 10, round(a * 10), 1e-6);
    resp_free(r);
}

Test(codepop_golden, inside_the_window_starts_preparation)
{
    /* 0.01 degrees (~0.69 mi) away at 30 mph: inside a 1.5-mile window */
    struct resp *r = api_get(GW "?store_id=1&lat=40.7228&lon=-74.0060&velocity_mph=30&complexity=medium", "cp_mgr2");
    cr_assert_eq(r->status, 200);
    cr_assert_lt(fabs(num(r, "current_distance_miles") - 0.69), 0.01);
    cr_assert_lt(fabs(num(r, "estimated_arrival_minutes") - 1.4), 0.11);
    cr_assert(json_is_true(json_object_get(r->json, "start_preparation")));
    resp_free(r);

    /* at the store */
    r = api_get(GW "?store_id=1&lat=40.7128&lon=-74.0060&velocity_mph=3&complexity=simple", "cp_user1");
    cr_assert_eq(r->status, 200);
    cr_assert_float_eq(num(r, "current_distance_miles"), 0.0, 1e-9);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "preparation_time_minutes")), 2);
    cr_assert_float_eq(num(r, "golden_window_distance_miles"), 0.1, 1e-9);
    cr_assert(json_is_true(json_object_get(r->json, "start_preparation")));
    resp_free(r);
}

Test(codepop_golden, complexity_sets_the_window)
{
    /* complex: 5 minutes at 60 mph = 5 miles; the spec customer (5.04) is just outside */
    struct resp *r = api_get(GW "?store_id=1&lat=40.7858&lon=-74.0060&velocity_mph=60&complexity=complex", "cp_user1");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "preparation_time_minutes")), 5);
    cr_assert_float_eq(num(r, "golden_window_distance_miles"), 5.0, 1e-9);
    cr_assert(json_is_false(json_object_get(r->json, "start_preparation")));
    resp_free(r);
    /* 0.072 degrees (~4.97 mi) is inside it */
    r = api_get(GW "?store_id=1&lat=40.7848&lon=-74.0060&velocity_mph=60&complexity=complex", "cp_user1");
    cr_assert_eq(r->status, 200);
    cr_assert(json_is_true(json_object_get(r->json, "start_preparation")));
    resp_free(r);
}

Test(codepop_golden, invalid_parameters)
{
    expect_invalid("lat=40.7&lon=-74&velocity_mph=30&complexity=medium", "store_id");
    expect_invalid("store_id=abc&lat=40.7&lon=-74&velocity_mph=30&complexity=medium", "store_id");
    expect_invalid("store_id=0&lat=40.7&lon=-74&velocity_mph=30&complexity=medium", "store_id");
    expect_invalid("store_id=1&lon=-74&velocity_mph=30&complexity=medium", "lat");
    expect_invalid("store_id=1&lat=north&lon=-74&velocity_mph=30&complexity=medium", "lat");
    expect_invalid("store_id=1&lat=90.01&lon=-74&velocity_mph=30&complexity=medium", "lat");
    expect_invalid("store_id=1&lat=-91&lon=-74&velocity_mph=30&complexity=medium", "lat");
    expect_invalid("store_id=1&lat=40.7&velocity_mph=30&complexity=medium", "lon");
    expect_invalid("store_id=1&lat=40.7&lon=180.5&velocity_mph=30&complexity=medium", "lon");
    expect_invalid("store_id=1&lat=40.7&lon=-200&velocity_mph=30&complexity=medium", "lon");
    expect_invalid("store_id=1&lat=40.7&lon=-74&complexity=medium", "velocity_mph");
    expect_invalid("store_id=1&lat=40.7&lon=-74&velocity_mph=0&complexity=medium", "velocity_mph");
    expect_invalid("store_id=1&lat=40.7&lon=-74&velocity_mph=-10&complexity=medium", "velocity_mph");
    expect_invalid("store_id=1&lat=40.7&lon=-74&velocity_mph=fast&complexity=medium", "velocity_mph");
    expect_invalid("store_id=1&lat=40.7&lon=-74&velocity_mph=inf&complexity=medium", "velocity_mph");
    expect_invalid("store_id=1&lat=40.7&lon=-74&velocity_mph=30", "complexity");
    expect_invalid("store_id=1&lat=40.7&lon=-74&velocity_mph=30&complexity=spicy", "complexity");
    expect_invalid("store_id=1&lat=40.7&lon=-74&velocity_mph=30&complexity=MEDIUM", "complexity");
}

Test(codepop_golden, unknown_store_and_no_token)
{
    struct resp *r = api_get(GW "?store_id=999&lat=40.7&lon=-74&velocity_mph=30&complexity=medium", "cp_user1");
    cr_assert_eq(r->status, 404);
    cr_assert_str_eq(resp_error_code(r), "not_found");
    resp_free(r);
    r = api_get(GW "?store_id=1&lat=40.7&lon=-74&velocity_mph=30&complexity=medium", NULL);
    cr_assert_eq(r->status, 401);
    resp_free(r);
}
