/* Authorization: 401/403/2xx by permission, scoped roles, inheritance, and
 * per-user grants and revokes, through the route table and rbac_require(). */
#include "support/harness.h"
#include "support/testapp.h"
#include <string.h>

static void start(void)
{
    srv_start_with(testapp_routes, &testapp);
    test_user("nobody", NULL, NULL, NULL, 0);
    test_user("staff7", "testapp", "staff", "store", 7);
    test_user("manager7", "testapp", "manager", "store", 7);
    test_user("manager8", "testapp", "manager", "store", 8);
    test_user("global", "testapp", "staff", NULL, 0);
}

TestSuite(rbac, .init = start, .fini = srv_stop);

Test(rbac, matrix_by_role_and_scope)
{
    static const struct authz_case cases[] = {
        {"GET", "/api/v1/testapp/stores/7/stock", NULL, 401},
        {"GET", "/api/v1/testapp/stores/7/stock", "nobody", 403},
        {"GET", "/api/v1/testapp/stores/7/stock", "staff7", 200},
        {"GET", "/api/v1/testapp/stores/8/stock", "staff7", 403},
        {"GET", "/api/v1/testapp/stores/7/stock", "manager7", 200},   /* inherits staff */
        {"GET", "/api/v1/testapp/stores/8/stock", "manager7", 403},
        {"GET", "/api/v1/testapp/stores/8/stock", "manager8", 200},
        {"GET", "/api/v1/testapp/stores/7/stock", "global", 200},     /* unscoped role */
        {"GET", "/api/v1/testapp/stores/8/stock", "global", 200},
        {0},
    };
    authz_run(cases);
}

Test(rbac, user_revoke_beats_role_grant)
{
    int64_t id = test_user_id("manager7");
    cr_assert_eq(db_exec(test_db(), "INSERT INTO user_permissions (user_id, permission, effect) VALUES ($1, $2, 'revoke')",
                         DB_I(id), DB_S("testapp.stock.read")), 1);
    char *tok = test_token("manager7");
    struct resp *r = api("GET", "/api/v1/testapp/stores/7/stock", tok, NULL);
    cr_assert_eq(r->status, 403, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "forbidden");
    resp_free(r);
    free(tok);
}

Test(rbac, user_grant_without_role)
{
    int64_t id = test_user_id("nobody");
    cr_assert_eq(db_exec(test_db(), "INSERT INTO user_permissions (user_id, permission, effect) VALUES ($1, $2, 'grant')",
                         DB_I(id), DB_S("testapp.stock.read")), 1);
    char *tok = test_token("nobody");
    struct resp *r = api("GET", "/api/v1/testapp/stores/99/stock", tok, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    free(tok);
}

Test(rbac, wildcard_permission_covers_app)
{
    static const char *const all[] = {"testapp.*", NULL};
    static const struct role r = {"root", NULL, NULL, all};
    cr_assert(strcmp(r.perms[0], "testapp.*") == 0);
    int64_t id = test_user_id("nobody");
    cr_assert_eq(db_exec(test_db(), "INSERT INTO user_permissions (user_id, permission, effect) VALUES ($1, 'testapp.*', 'grant')",
                         DB_I(id)), 1);
    char *tok = test_token("nobody");
    struct resp *resp = api("GET", "/api/v1/testapp/stores/3/stock", tok, NULL);
    cr_assert_eq(resp->status, 200);
    resp_free(resp);
    free(tok);
}

Test(rbac, me_lists_roles_and_permissions)
{
    char *tok = test_token("manager7");
    struct resp *r = api("GET", "/api/v1/me", tok, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *roles = json_object_get(r->json, "roles");
    cr_assert_eq(json_array_size(roles), 1);
    json_t *role = json_array_get(roles, 0);
    cr_assert_str_eq(json_string_value(json_object_get(role, "role")), "manager");
    cr_assert_str_eq(json_string_value(json_object_get(role, "scope_type")), "store");
    cr_assert_eq(json_integer_value(json_object_get(role, "scope_id")), 7);
    json_t *perms = json_object_get(r->json, "permissions");
    bool read = false, write = false;
    size_t i;
    json_t *p;
    json_array_foreach(perms, i, p) {
        read |= !strcmp(json_string_value(p), "testapp.stock.read");
        write |= !strcmp(json_string_value(p), "testapp.stock.write");
    }
    cr_assert(read && write, "inherited and own permissions listed");
    resp_free(r);
    free(tok);
}

/* The list-query scope (rbac_scope_list) of one user, as the handlers see it. */
static void scope_of(const char *username, struct scope_list *sc, struct pool **pool)
{
    static struct req r;
    memset(&r, 0, sizeof r);
    r.pool = *pool = pool_new();
    r.db = test_db();
    r.user.id = test_user_id(username);
    rbac_scope_list(&r, "testapp.stock.read", sc, "store");
    rbac_release(&r);
}

Test(rbac, a_revoke_empties_the_list_scope_of_a_global_role)
{
    struct scope_list sc;
    struct pool *pool;
    scope_of("global", &sc, &pool);
    cr_assert(sc.global, "an unscoped role lists every row");
    pool_free(pool);
    scope_of("manager7", &sc, &pool);
    cr_assert(!sc.global);
    cr_assert_str_eq(sc.ids[0], "[7]", "inherits staff's permission in its store");
    pool_free(pool);
    cr_assert_eq(db_exec(test_db(), "INSERT INTO user_permissions (user_id, permission, effect) VALUES ($1, $2, 'revoke')",
                         DB_I(test_user_id("global")), DB_S("testapp.stock.read")), 1);
    scope_of("global", &sc, &pool);
    cr_assert(!sc.global, "a revoke beats the global role in lists too");
    cr_assert_str_eq(sc.ids[0], "[]");
    pool_free(pool);
}

Test(rbac, an_apps_audit_rows_need_its_permission_without_scope)
{
    char *mgr = test_token("manager7"), *plain = test_token("nobody");
    struct resp *r = api("GET", "/api/v1/audit?app=testapp", mgr, NULL);
    cr_assert_eq(r->status, 403, "a scoped role holding testapp.audit.read: %s", r->body);
    cr_assert_str_eq(jstr(json_object_get(r->json, "error"), "permission"), "testapp.audit.read");
    resp_free(r);
    cr_assert_eq(db_exec(test_db(), "INSERT INTO user_permissions (user_id, permission, effect) VALUES ($1, $2, 'grant')",
                         DB_I(test_user_id("nobody")), DB_S("testapp.audit.read")), 1);
    r = api("GET", "/api/v1/audit?app=testapp", plain, NULL);
    cr_assert_eq(r->status, 200, "a global grant reads the app's rows: %s", r->body);
    resp_free(r);
    r = api("GET", "/api/v1/audit", plain, NULL);
    cr_assert_eq(r->status, 403, "but only that app's: %s", r->body);
    resp_free(r);
    free(mgr);
    free(plain);
}

/* rbac_grant_role (what an app calls when its workflow makes an account):
 * inside a transaction only, the role must exist and its scope fit; a grant
 * is audited once and a repeat changes nothing. */
Test(rbac, grant_role_from_code)
{
    struct db *db = test_db();
    int64_t id = test_user_id("nobody");
    cr_assert_eq(rbac_grant_role(db, NULL, id, "testapp", "staff", "store", 9), -1, "outside a transaction");
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(rbac_grant_role(db, NULL, id, "testapp", "cook", NULL, 0), -1, "no such role");
    cr_assert_eq(rbac_grant_role(db, NULL, id, "testapp", "staff", NULL, 0), -1, "staff is scoped");
    cr_assert_eq(rbac_grant_role(db, NULL, id, "testapp", "admin", "store", 9), -1, "admin is global");
    cr_assert_eq(rbac_grant_role(db, NULL, id, "testapp", "staff", "store", TESTAPP_STORES + 1), -1, "no such store");
    cr_assert_eq(rbac_grant_role(db, NULL, id, "testapp", "staff", "store", 9), 0);
    cr_assert_eq(rbac_grant_role(db, NULL, id, "testapp", "staff", "store", 9), 0, "already held");
    cr_assert_eq(rbac_grant_role(db, NULL, id, "testapp", "admin", NULL, 0), 0);
    cr_assert_eq(db_commit(db), 0);
    test_expect_role("testapp", "nobody", "staff", "store", 9);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM user_roles WHERE app = 'testapp' AND role IN ('staff', 'admin') AND "
                            "user_id = (SELECT id FROM users WHERE username = 'nobody')"), 2);
    cr_assert_eq(test_audit_count("core", "core.user.role_granted"), 2);
    authz_run((const struct authz_case[]){{"GET", "/api/v1/testapp/stores/9/stock", "nobody", 200}, {0}});
}
