/* Reference data: regions, hubs, stores (with nearby search) and drinks --
 * lists, paging, filters, details, 404s and who may read them. */
#include "support/fixture.h"
#include "apps/codepop/codepop.h"
#include <math.h>
#include <string.h>

TestSuite(codepop_reference, .init = cp_start, .fini = srv_stop);

#define P "/api/v1/codepop"

static json_t *items(struct resp *r)
{
    return json_object_get(r->json, "items");
}

static int64_t total(struct resp *r)
{
    return json_integer_value(json_object_get(r->json, "total"));
}

static int64_t item_int(struct resp *r, size_t i, const char *key)
{
    return json_integer_value(json_object_get(json_array_get(items(r), i), key));
}

static const char *item_str(struct resp *r, size_t i, const char *key)
{
    return json_string_value(json_object_get(json_array_get(items(r), i), key));
}

/* GET path as user; expect a 400 validation_failed naming field. */
static void expect_invalid(const char *path, const char *field)
{
    struct resp *r = api_get(path, "cp_user1");
    cr_expect_eq(r->status, 400, "%s -> %d", path, r->status);
    cr_expect_str_eq(resp_error_code(r), "validation_failed", "%s", path);
    cr_expect_str_eq(resp_error_field(r), field, "%s", path);
    resp_free(r);
}

static void expect_not_found(const char *path, const char *as)
{
    struct resp *r = api_get(path, as);
    cr_expect_eq(r->status, 404, "%s -> %d", path, r->status);
    cr_expect_str_eq(resp_error_code(r), "not_found", "%s", path);
    resp_free(r);
}

Test(codepop_reference, regions_list_filter_detail)
{
    struct resp *r = api_get(P "/regions", "cp_user1");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(total(r), 2);
    cr_assert_str_eq(item_str(r, 0, "code"), "C");
    cr_assert_str_eq(item_str(r, 1, "code"), "E");
    cr_assert_str_eq(item_str(r, 0, "name"), "Central");
    resp_free(r);

    r = api_get(P "/regions?page=2&page_size=1", "cp_user1");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(total(r), 2);
    cr_assert_eq(json_array_size(items(r)), 1);
    cr_assert_str_eq(item_str(r, 0, "code"), "E");
    cr_assert_eq(json_integer_value(json_object_get(r->json, "page")), 2);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "page_size")), 1);
    resp_free(r);

    r = api_get(P "/regions?code=E", "cp_user1");
    cr_assert_eq(total(r), 1);
    cr_assert_eq(item_int(r, 0, "id"), 2);
    resp_free(r);

    r = api_get(P "/regions/1", "cp_mgr3");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "code")), "C");
    cr_assert_eq(json_integer_value(json_object_get(r->json, "store_count")), 2);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "hub_id")), 1);
    resp_free(r);

    expect_not_found(P "/regions/99", "cp_user1");
}

Test(codepop_reference, hubs_list_filter_detail)
{
    struct resp *r = api_get(P "/hubs", "cp_rep_c");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(total(r), 2);
    resp_free(r);

    r = api_get(P "/hubs?region=E", "cp_user1");
    cr_assert_eq(total(r), 1);
    cr_assert_eq(item_int(r, 0, "id"), 2);
    cr_assert_str_eq(item_str(r, 0, "code"), "HUB-E");
    cr_assert_str_eq(item_str(r, 0, "region"), "E");
    resp_free(r);

    r = api_get(P "/hubs?region=Z", "cp_user1");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(total(r), 0);
    cr_assert_eq(json_array_size(items(r)), 0);
    resp_free(r);

    r = api_get(P "/hubs/1", "cp_user1");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "name")), "Central Hub");
    cr_assert_eq(json_integer_value(json_object_get(r->json, "region_id")), 1);
    cr_assert_float_eq(json_real_value(json_object_get(r->json, "lat")), 40.75, 1e-9);
    resp_free(r);

    expect_not_found(P "/hubs/42", "cp_user1");
    expect_invalid(P "/hubs?region_id=x", "region_id");
}

Test(codepop_reference, stores_need_a_signed_in_user)
{
    struct resp *r = api_get(P "/stores", NULL);
    cr_assert_eq(r->status, 401);
    resp_free(r);
    r = api_get(P "/stores/1", NULL);
    cr_assert_eq(r->status, 401);
    resp_free(r);
    r = api_get(P "/regions", NULL);
    cr_assert_eq(r->status, 401);
    resp_free(r);
    /* any signed-in user, even one without a codepop role */
    const char *users[] = {"cp_nobody", "cp_user1", "cp_mgr1", "cp_log_e", "cp_rep_c", "cp_admin", NULL};
    for (const char **u = users; *u; u++) {
        r = api_get(P "/stores", *u);
        cr_expect_eq(r->status, 200, "%s -> %d", *u, r->status);
        cr_expect_eq(total(r), 3, "%s sees every store", *u);
        resp_free(r);
    }
}

Test(codepop_reference, stores_list_paging_filters)
{
    struct resp *r = api_get(P "/stores?page_size=2", "cp_user1");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(total(r), 3);
    cr_assert_eq(json_array_size(items(r)), 2);
    cr_assert_eq(item_int(r, 0, "id"), 1);
    cr_assert_eq(item_int(r, 1, "id"), 2);
    resp_free(r);

    r = api_get(P "/stores?page_size=2&page=2", "cp_user1");
    cr_assert_eq(json_array_size(items(r)), 1);
    cr_assert_eq(item_int(r, 0, "id"), 3);
    resp_free(r);

    r = api_get(P "/stores?page=9", "cp_user1");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(total(r), 3);
    cr_assert_eq(json_array_size(items(r)), 0);
    resp_free(r);

    r = api_get(P "/stores?region=C", "cp_user1");
    cr_assert_eq(total(r), 2);
    cr_assert_eq(item_int(r, 0, "id"), 1);
    cr_assert_eq(item_int(r, 1, "id"), 2);
    resp_free(r);

    r = api_get(P "/stores?region=E", "cp_user1");
    cr_assert_eq(total(r), 1);
    cr_assert_str_eq(item_str(r, 0, "name"), "Eastside");
    resp_free(r);

    r = api_get(P "/stores?region_id=1&q=MID", "cp_user1");
    cr_assert_eq(total(r), 1);
    cr_assert_eq(item_int(r, 0, "id"), 2);
    resp_free(r);

    r = api_get(P "/stores?supply_hub_id=2", "cp_user1");
    cr_assert_eq(total(r), 1);
    cr_assert_eq(item_int(r, 0, "id"), 3);
    resp_free(r);

    r = api_get(P "/stores?machine_status=error", "cp_user1");
    cr_assert_eq(total(r), 0);
    resp_free(r);

    expect_invalid(P "/stores?page_size=0", "page_size");
    expect_invalid(P "/stores?page_size=101", "page_size");
    expect_invalid(P "/stores?page=0", "page");
}

Test(codepop_reference, store_detail_shows_machine_hub_region)
{
    struct resp *r = api_get(P "/stores/3", "cp_user2");
    cr_assert_eq(r->status, 200);
    json_t *s = r->json;
    cr_assert_eq(json_integer_value(json_object_get(s, "id")), 3);
    cr_assert_str_eq(json_string_value(json_object_get(s, "name")), "Eastside");
    cr_assert_eq(json_integer_value(json_object_get(s, "region_id")), 2);
    cr_assert_str_eq(json_string_value(json_object_get(s, "region")), "E");
    cr_assert_eq(json_integer_value(json_object_get(s, "supply_hub_id")), 2);
    cr_assert_eq(json_integer_value(json_object_get(s, "machine_id")), 3);
    cr_assert_str_eq(json_string_value(json_object_get(s, "machine_status")), "normal");
    cr_assert_str_eq(json_string_value(json_object_get(s, "timezone")), "America/Chicago");
    cr_assert_str_eq(json_string_value(json_object_get(s, "opens_at")), "06:00");
    cr_assert_str_eq(json_string_value(json_object_get(s, "closes_at")), "22:00");
    cr_assert_str_eq(json_string_value(json_object_get(s, "address")), "3 Lake St");
    cr_assert_float_eq(json_real_value(json_object_get(s, "lat")), 41.8781, 1e-9);
    cr_assert_float_eq(json_real_value(json_object_get(s, "lon")), -87.6298, 1e-9);
    resp_free(r);

    cr_assert_eq(db_exec(test_db(), "UPDATE codepop_machines SET status = 'error' WHERE id = 2"), 1);
    r = api_get(P "/stores?machine_status=error", "cp_user1");
    cr_assert_eq(total(r), 1);
    cr_assert_eq(item_int(r, 0, "machine_id"), 2);
    cr_assert_str_eq(item_str(r, 0, "machine_status"), "error");
    resp_free(r);

    expect_not_found(P "/stores/99", "cp_user1");
}

Test(codepop_reference, drinks_are_public_with_recipes)
{
    struct resp *r = api_get(P "/drinks", NULL);
    cr_assert_eq(r->status, 200);
    cr_assert_eq(total(r), 3);
    json_t *d = json_array_get(items(r), 0);
    cr_assert_str_eq(json_string_value(json_object_get(d, "name")), "Cherry Cola");
    cr_assert_eq(json_integer_value(json_object_get(d, "price_cents")), 350);
    cr_assert_str_eq(json_string_value(json_object_get(d, "complexity")), "simple");
    cr_assert_eq(json_integer_value(json_object_get(d, "preparation_minutes")), 2);
    json_t *recipe = json_object_get(d, "recipe");
    cr_assert(json_is_array(recipe));
    cr_assert_eq(json_array_size(recipe), 3);
    /* ordered by item name */
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(recipe, 0), "item_name")), "Cherry Syrup");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(recipe, 1), "item_name")), "Cola Syrup");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(recipe, 2), "item_name")), "Cups");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(recipe, 0), "amount")), 1);
    resp_free(r);

    r = api_get(P "/drinks/2", NULL);
    cr_assert_eq(r->status, 200);
    recipe = json_object_get(r->json, "recipe");
    cr_assert_eq(json_array_size(recipe), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(recipe, 1), "item_name")), "Vanilla Syrup");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(recipe, 1), "amount")), 2);
    resp_free(r);

    r = api_get(P "/drinks?complexity=complex", "cp_user1");
    cr_assert_eq(total(r), 1);
    cr_assert_str_eq(item_str(r, 0, "name"), "Triple Layer");
    cr_assert_eq(json_array_size(json_object_get(json_array_get(items(r), 0), "recipe")), 4);
    resp_free(r);

    r = api_get(P "/drinks?q=vanilla", NULL);
    cr_assert_eq(total(r), 1);
    cr_assert_eq(item_int(r, 0, "id"), 2);
    resp_free(r);

    expect_invalid(P "/drinks?complexity=spicy", "complexity");
    expect_not_found(P "/drinks/99", NULL);
}

Test(codepop_reference, nearby_sorted_by_distance)
{
    /* From Downtown (store 1): Midtown is ~3 miles away, Chicago ~710. */
    struct resp *r = api_get(P "/stores/nearby?lat=40.7128&lon=-74.0060&radius_miles=10", "cp_user1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(total(r), 2);
    cr_assert_eq(item_int(r, 0, "id"), 1);
    cr_assert_eq(item_int(r, 1, "id"), 2);
    double d0 = json_number_value(json_object_get(json_array_get(items(r), 0), "distance_miles"));
    double d1 = json_number_value(json_object_get(json_array_get(items(r), 1), "distance_miles"));
    cr_assert_float_eq(d0, 0.0, 1e-9);
    cr_assert_float_eq(d1, codepop_haversine_miles(40.7128, -74.0060, 40.7549, -73.9840), 0.006);
    cr_assert_eq(item_int(r, 1, "machine_id"), 2);
    cr_assert_str_eq(item_str(r, 1, "region"), "C");
    resp_free(r);

    /* From Cleveland: Chicago (~308 mi) first, then Downtown (~405) before
     * Midtown (it lies farther east along the way). */
    cr_assert_lt(codepop_haversine_miles(41.4993, -81.6944, 40.7128, -74.0060),
                 codepop_haversine_miles(41.4993, -81.6944, 40.7549, -73.9840));
    r = api_get(P "/stores/nearby?lat=41.4993&lon=-81.6944&radius_miles=500", "cp_user1");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(total(r), 3);
    cr_assert_eq(item_int(r, 0, "id"), 3);
    cr_assert_eq(item_int(r, 1, "id"), 1);
    cr_assert_eq(item_int(r, 2, "id"), 2);
    double prev = 0;
    for (size_t i = 0; i < 3; i++) {
        double d = json_number_value(json_object_get(json_array_get(items(r), i), "distance_miles"));
        cr_assert_geq(d, prev);
        cr_assert_leq(d, 500);
        prev = d;
    }
    resp_free(r);

    /* paged: the second nearest alone */
    r = api_get(P "/stores/nearby?lat=41.4993&lon=-81.6944&radius_miles=500&page=2&page_size=1", "cp_user1");
    cr_assert_eq(total(r), 3);
    cr_assert_eq(json_array_size(items(r)), 1);
    cr_assert_eq(item_int(r, 0, "id"), 1);
    resp_free(r);

    /* a radius just short of Midtown leaves Downtown only */
    r = api_get(P "/stores/nearby?lat=40.7128&lon=-74.0060&radius_miles=2.5", "cp_user1");
    cr_assert_eq(total(r), 1);
    cr_assert_eq(item_int(r, 0, "id"), 1);
    resp_free(r);

    r = api_get(P "/stores/nearby?lat=0&lon=0&radius_miles=100", "cp_user1");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(total(r), 0);
    resp_free(r);

    r = api_get(P "/stores/nearby?lat=40.7&lon=-74&radius_miles=5", NULL);
    cr_assert_eq(r->status, 401);
    resp_free(r);
}

Test(codepop_reference, nearby_validation)
{
    expect_invalid(P "/stores/nearby?lon=-74&radius_miles=5", "lat");
    expect_invalid(P "/stores/nearby?lat=40.7&radius_miles=5", "lon");
    expect_invalid(P "/stores/nearby?lat=40.7&lon=-74", "radius_miles");
    expect_invalid(P "/stores/nearby?lat=91&lon=-74&radius_miles=5", "lat");
    expect_invalid(P "/stores/nearby?lat=-90.5&lon=-74&radius_miles=5", "lat");
    expect_invalid(P "/stores/nearby?lat=abc&lon=-74&radius_miles=5", "lat");
    expect_invalid(P "/stores/nearby?lat=40.7&lon=180.1&radius_miles=5", "lon");
    expect_invalid(P "/stores/nearby?lat=40.7&lon=-181&radius_miles=5", "lon");
    expect_invalid(P "/stores/nearby?lat=40.7&lon=-74&radius_miles=0", "radius_miles");
    expect_invalid(P "/stores/nearby?lat=40.7&lon=-74&radius_miles=-3", "radius_miles");
    expect_invalid(P "/stores/nearby?lat=40.7&lon=-74&radius_miles=500.5", "radius_miles");
    expect_invalid(P "/stores/nearby?lat=40.7&lon=-74&radius_miles=nan", "radius_miles");
    /* the edges are allowed */
    struct resp *r = api_get(P "/stores/nearby?lat=90&lon=180&radius_miles=500", "cp_user1");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(total(r), 0);
    resp_free(r);
}
