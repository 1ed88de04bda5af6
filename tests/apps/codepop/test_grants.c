/* test_grants.c -- codepop's side of what a newcomer ran into (issue #9,
 * section 6; the core's side is tests/core/test_newcomer.c): codepop's admin
 * reads codepop's audit rows, grants point at stores and regions that exist
 * (codepop_scope_exists), the role catalog shows codepop's roles and scopes,
 * a 403 names codepop's permission, and store coordinates come back as
 * written. */
#include "support/fixture.h"
#include <stdlib.h>
#include <string.h>

TestSuite(cp_grants, .init = cp_start, .fini = srv_stop);

Test(cp_grants, admin_reads_codepop_audit_rows)
{
    audit_app_reader_check("codepop", "codepop.order.created", "cp_admin", "cp_mgr1");
    resp_check(api_get("/api/v1/audit?app=core", "cp_admin"), 403, "forbidden");
}

/* Scoped roles need an existing store or region; codepop's permissions, and
 * only real ones, may be granted. */
Test(cp_grants, grants_name_codepop_roles_targets_and_permissions)
{
    test_user("root", "core", "admin", NULL, 0);
    int64_t bob = test_user("bob", NULL, NULL, NULL, 0);
    grants_run("root", bob, (const struct grant_case[]){
        {GRANT_ROLE, "{\"app\":\"codepop\",\"role\":\"wizard\"}", 400},
        {GRANT_ROLE, "{\"app\":\"codepop\",\"role\":\"manager\"}", 400},                       /* scoped, no scope */
        {GRANT_ROLE, "{\"app\":\"codepop\",\"role\":\"admin\",\"scope_type\":\"store\",\"scope_id\":1}", 400},
        {GRANT_ROLE, "{\"app\":\"codepop\",\"role\":\"manager\",\"scope_type\":\"region\",\"scope_id\":1}", 400},
        {GRANT_ROLE, "{\"app\":\"codepop\",\"role\":\"manager\",\"scope_type\":\"store\",\"scope_id\":99}", 404},
        {GRANT_ROLE, "{\"app\":\"codepop\",\"role\":\"logistics_manager\",\"scope_type\":\"region\",\"scope_id\":99}", 404},
        {GRANT_PERM, "{\"permission\":\"codepop.bogus.thing\",\"effect\":\"grant\"}", 400},
        {GRANT_PERM, "{\"permission\":\"codepop.bogus.*\",\"effect\":\"grant\"}", 400},
        {GRANT_PERM, "{\"permission\":\"codepop.supply.read\",\"effect\":\"grant\"}", 200},
        {GRANT_PERM, "{\"permission\":\"codepop.audit.read\",\"effect\":\"grant\"}", 200},
        {GRANT_PERM, "{\"permission\":\"codepop.*\",\"effect\":\"revoke\"}", 200},
        {0},
    });
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM user_roles WHERE user_id = %lld", (long long)bob), 0,
                 "no refused grant left a row");
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM user_permissions WHERE user_id = %lld", (long long)bob), 3);

    /* the fixture's store 3 and region 2 exist */
    grants_run("root", bob, (const struct grant_case[]){
        {GRANT_ROLE, "{\"app\":\"codepop\",\"role\":\"manager\",\"scope_type\":\"store\",\"scope_id\":3}", 201},
        {GRANT_ROLE, "{\"app\":\"codepop\",\"role\":\"logistics_manager\",\"scope_type\":\"region\",\"scope_id\":2}", 201},
        {0},
    });
    test_expect_role("codepop", "bob", "manager", "store", 3);
    test_expect_role("codepop", "bob", "logistics_manager", "region", 2);
}

Test(cp_grants, catalog_lists_codepop_roles)
{
    test_user("root", "core", "admin", NULL, 0);
    struct resp *r = api_get("/api/v1/admin/roles", "root");
    resp_expect(r, 200, NULL);
    json_t *cp = jfind(json_object_get(r->json, "apps"), "name", "codepop");
    cr_assert_not_null(cp, "%s", r->body);
    json_t *types = json_object_get(cp, "scope_types");
    cr_assert_eq(json_array_size(types), 2);
    cr_assert_str_eq(json_string_value(json_array_get(types, 0)), "region");
    cr_assert_str_eq(json_string_value(json_array_get(types, 1)), "store");
    json_t *roles = json_object_get(cp, "roles");
    json_t *manager = jfind(roles, "name", "manager"), *admin = jfind(roles, "name", "admin");
    cr_assert(manager && admin, "%s", r->body);
    cr_assert_str_eq(jstr(manager, "scope_type"), "store");
    cr_assert(json_is_null(json_object_get(manager, "inherits")));
    cr_assert(jhas(json_object_get(admin, "effective_permissions"), "codepop.audit.read"),
              "codepop's admin reads codepop's audit rows");
    resp_free(r);
}

/* A user with no role at all is told which codepop permission is missing and why. */
Test(cp_grants, forbidden_names_codepop_permission)
{
    struct resp *r = api_get("/api/v1/codepop/supply-requests", "cp_nobody");
    resp_expect(r, 403, "forbidden");
    cr_assert_str_eq(resp_error_str(r, "permission"), "codepop.supply.read");
    cr_assert(strstr(resp_error_str(r, "message"), "an administrator must grant you one"), "%s", r->body);
    resp_free(r);
}

/* A stored 40.704 comes back as 40.704. */
Test(cp_grants, coordinates_have_no_float_noise)
{
    struct db *db = test_db();
    cr_assert_eq(db_exec(db, "INSERT INTO codepop_regions (id, code, name) VALUES (90, 'Z', 'Test')"), 1);
    cr_assert_eq(db_exec(db, "INSERT INTO codepop_hubs (id, region_id, code, name, lat, lon) "
                             "VALUES (90, 90, 'HZ', 'Hub', 40.704, -73.9)"), 1);
    cr_assert_eq(db_exec(db, "INSERT INTO codepop_stores (id, name, region_id, supply_hub_id, lat, lon, timezone, "
                             "opens_at, closes_at) VALUES (90, 'S', 90, 90, 40.704, -74.0059, 'UTC', '06:00', '22:00')"), 1);
    struct resp *r = api_get("/api/v1/codepop/stores/90", "cp_user1");
    resp_expect(r, 200, NULL);
    cr_assert(strstr(r->body, "\"lat\":40.704,"), "%s", r->body);
    cr_assert(strstr(r->body, "\"lon\":-74.0059,"), "%s", r->body);
    resp_free(r);
}
