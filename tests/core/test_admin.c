/* test_admin.c -- user and access administration: the core authorization
 * matrix, role assignment rules, per-user grants and revokes, disabling,
 * password resets, self-lockout, lists, and the audit row of every write. */
#include "support/harness.h"
#include "support/testapp.h"
#include <stdlib.h>
#include <string.h>

#define GOOD_PW "Zebra-Quantum-81"

/* A call that must answer `status` (and error `code` when not NULL); freed. */
static void check(const char *method, const char *path, const char *token, json_t *body, int status, const char *code)
{
    struct resp *r = api_json(method, path, token, body);
    resp_expect(r, status, code);
    resp_free(r);
}

static char *user_path(int64_t id, const char *rest)
{
    return xasprintf("/api/v1/admin/users/%lld%s", (long long)id, rest);
}

static int64_t role_row(int64_t user_id, const char *app, const char *role)
{
    int64_t id = 0;
    db_int(test_db(), &id, "SELECT id FROM user_roles WHERE user_id = $1 AND app = $2 AND role = $3", DB_I(user_id),
           DB_S(app), DB_S(role));
    return id;
}

/* root (core admin), aud (core auditor), plain (no role), target. */
static int64_t start(void)
{
    srv_start_with(testapp_routes, &testapp);
    test_user("root", "core", "admin", NULL, 0);
    test_user("aud", "core", "auditor", NULL, 0);
    test_user("plain", NULL, NULL, NULL, 0);
    return test_user("target", NULL, NULL, NULL, 0);
}

Test(admin, authorization_matrix)
{
    int64_t target = start();
    int64_t victim = test_user("victim", "core", "auditor", NULL, 0);
    char *one = user_path(target, ""), *roles = user_path(target, "/roles"), *perms = user_path(target, "/permissions");
    char *del = xasprintf("/api/v1/admin/users/%lld/roles/%lld", (long long)victim,
                          (long long)role_row(victim, "core", "auditor"));
    const char *create = "{\"username\":\"newbie\",\"password\":\"" GOOD_PW "\",\"email\":\"newbie@example.com\"}";
    const char *patch = "{\"display_name\":\"Target T\"}";
    const char *role = "{\"app\":\"core\",\"role\":\"auditor\"}";
    const char *grant = "{\"permission\":\"core.audit.read\",\"effect\":\"grant\"}";
    struct { const char *method, *path, *body; int admin, auditor; } routes[] = {
        {"GET", "/api/v1/admin/users", NULL, 200, 403},
        {"POST", "/api/v1/admin/users", create, 201, 403},
        {"GET", one, NULL, 200, 403},
        {"PATCH", one, patch, 200, 403},
        {"POST", roles, role, 201, 403},
        {"DELETE", del, NULL, 200, 403},
        {"POST", perms, grant, 200, 403},
        {"GET", "/api/v1/admin/jobs", NULL, 200, 403},
        {"GET", "/api/v1/audit", NULL, 200, 200},
        {"GET", "/api/v1/health/detailed", NULL, 200, 200},
    };
    enum { N = sizeof routes / sizeof routes[0] };
    struct authz_case cases[4 * N + 1];
    memset(cases, 0, sizeof cases);
    for (size_t i = 0; i < N; i++) {        /* the admin row last: its writes change state */
        cases[i] = (struct authz_case){routes[i].method, routes[i].path, NULL, 401, routes[i].body};
        cases[N + i] = (struct authz_case){routes[i].method, routes[i].path, "plain", 403, routes[i].body};
        cases[2 * N + i] = (struct authz_case){routes[i].method, routes[i].path, "aud", routes[i].auditor, routes[i].body};
        cases[3 * N + i] = (struct authz_case){routes[i].method, routes[i].path, "root", routes[i].admin, routes[i].body};
    }
    authz_run(cases);
    cr_assert_eq(test_audit_count("core", "core.user.created"), 1);
    cr_assert_eq(test_audit_count("core", "core.user.updated"), 1);
    cr_assert_eq(test_audit_count("core", "core.user.role_granted"), 1);
    cr_assert_eq(test_audit_count("core", "core.user.role_removed"), 1);
    cr_assert_eq(test_audit_count("core", "core.user.permission_set"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log a JOIN users u ON u.id = a.user_id "
                            "WHERE u.username = 'root' AND a.action IN ('core.user.created', 'core.user.updated', "
                            "'core.user.role_granted', 'core.user.role_removed', 'core.user.permission_set')"), 5, "the admin is the actor");
    free(one);
    free(roles);
    free(perms);
    free(del);
    srv_stop();
}

Test(admin, role_assignment_rules)
{
    int64_t target = start();
    char *tok = test_token("root"), *roles = user_path(target, "/roles");
    static const struct { const char *body, *field; } bad[] = {
        {"{\"app\":\"nope\",\"role\":\"admin\"}", "app"},
        {"{\"app\":\"core\",\"role\":\"nope\"}", "role"},
        {"{\"app\":\"core\",\"role\":\"admin\",\"scope_type\":\"store\",\"scope_id\":7}", "scope_type"},
        {"{\"app\":\"testapp\",\"role\":\"manager\",\"scope_type\":\"region\",\"scope_id\":7}", "scope_type"},
        {"{\"app\":\"testapp\",\"role\":\"manager\",\"scope_id\":7}", "scope_type"},
        {"{\"app\":\"testapp\",\"role\":\"manager\",\"scope_type\":\"store\"}", "scope_id"},
        {"{\"app\":\"testapp\",\"role\":\"manager\",\"scope_type\":\"store\",\"scope_id\":0}", "scope_id"},
        {"{\"app\":\"testapp\",\"role\":\"manager\",\"scope_type\":\"store\",\"scope_id\":\"7\"}", "scope_id"},
        {"{\"app\":\"testapp\",\"role\":\"manager\",\"scope\":\"store:7\"}", "scope"},
        {"{\"role\":\"manager\"}", "app"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct resp *r = api("POST", roles, tok, bad[i].body);
        resp_expect(r, 400, "validation_failed");
        cr_assert_str_eq(resp_error_field(r), bad[i].field, "%s -> %s", bad[i].body, r->body);
        resp_free(r);
    }
    cr_assert_eq(test_count("SELECT COUNT(*) FROM user_roles WHERE user_id NOT IN "
                            "(SELECT id FROM users WHERE username IN ('root', 'aud'))"), 0);

    /* a scoped assignment grants inside its scope only */
    struct resp *r = api_json("POST", roles, tok, json_pack("{s:s, s:s, s:s, s:i}", "app", "testapp", "role", "manager",
                                                        "scope_type", "store", "scope_id", 7));
    resp_expect(r, 201, NULL);
    cr_assert_gt(json_integer_value(json_object_get(r->json, "id")), 0);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "app")), "testapp");
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "role")), "manager");
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "scope_type")), "store");
    cr_assert_eq(json_integer_value(json_object_get(r->json, "scope_id")), 7);
    resp_free(r);
    char *ttok = test_token("target");
    check("GET", "/api/v1/testapp/stores/7/stock", ttok, NULL, 200, NULL);
    check("GET", "/api/v1/testapp/stores/8/stock", ttok, NULL, 403, "forbidden");
    check("POST", roles, tok, json_pack("{s:s, s:s, s:s, s:i}", "app", "testapp", "role", "manager", "scope_type",
                                        "store", "scope_id", 7), 409, "role_exists");
    check("POST", roles, tok, json_pack("{s:s, s:s, s:s, s:i}", "app", "testapp", "role", "manager", "scope_type",
                                        "store", "scope_id", 8), 201, NULL);

    /* a scoped role is only ever given with its scope (issue #9: a scope exactly when the role is scoped) */
    r = api_json("POST", roles, tok, json_pack("{s:s, s:s}", "app", "testapp", "role", "staff"));
    resp_expect(r, 400, "validation_failed");
    cr_assert_str_eq(resp_error_field(r), "scope_type");
    resp_free(r);
    check("GET", "/api/v1/testapp/stores/99/stock", ttok, NULL, 403, "forbidden");
    check("POST", "/api/v1/admin/users/9999/roles", tok, json_pack("{s:s, s:s}", "app", "core", "role", "auditor"),
          404, "not_found");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM user_roles WHERE app = 'testapp'"), 2);
    cr_assert_eq(test_audit_count("core", "core.user.role_granted"), 2);
    free(ttok);
    free(roles);
    free(tok);
    srv_stop();
}

Test(admin, role_removal)
{
    int64_t target = start();
    int64_t plain = test_user_id("plain");
    char *tok = test_token("root"), *aud_tok = test_token("aud");
    int64_t aud = test_user_id("aud"), role = role_row(aud, "core", "auditor");
    char *path = xasprintf("/api/v1/admin/users/%lld/roles/%lld", (long long)aud, (long long)role);
    char *wrong_user = xasprintf("/api/v1/admin/users/%lld/roles/%lld", (long long)target, (long long)role);
    check("DELETE", wrong_user, tok, NULL, 404, "not_found");
    check("GET", "/api/v1/audit", aud_tok, NULL, 200, NULL);
    struct resp *r = api("DELETE", path, tok, NULL);
    resp_expect(r, 200, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "removed");
    resp_free(r);
    check("DELETE", path, tok, NULL, 404, "not_found");
    check("GET", "/api/v1/audit", aud_tok, NULL, 403, "forbidden");
    cr_assert_eq(test_audit_count("core", "core.user.role_removed"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'core.user.role_removed' "
                            "AND summary LIKE '%auditor%'"), 1);
    (void)plain;
    free(path);
    free(wrong_user);
    free(aud_tok);
    free(tok);
    srv_stop();
}

Test(admin, user_revoke_beats_role_grant)
{
    int64_t target = start();
    int64_t boss = test_user("boss", "core", "admin", NULL, 0);
    char *tok = test_token("root"), *boss_tok = test_token("boss");
    char *perms = user_path(boss, "/permissions"), *one = user_path(target, ""), *roles = user_path(target, "/roles");
    check("GET", "/api/v1/admin/users", boss_tok, NULL, 200, NULL);
    struct resp *r = api_json("POST", perms, tok, json_pack("{s:s, s:s}", "permission", "core.users.read", "effect", "revoke"));
    resp_expect(r, 200, NULL);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "user_id")), boss);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "effect")), "revoke");
    resp_free(r);
    check("GET", "/api/v1/admin/users", boss_tok, NULL, 403, "forbidden");
    check("GET", one, boss_tok, NULL, 403, "forbidden");
    check("POST", roles, boss_tok, json_pack("{s:s, s:s}", "app", "core", "role", "auditor"), 201, NULL);
    check("GET", "/api/v1/audit", boss_tok, NULL, 200, NULL);
    r = api("GET", "/api/v1/me", boss_tok, NULL);
    cr_assert(strstr(r->body, "\"overrides\":[{\"permission\":\"core.users.read\",\"effect\":\"revoke\"}]"), "%s", r->body);
    resp_free(r);

    /* the same permission set again is an update, not a second row */
    check("POST", perms, tok, json_pack("{s:s, s:s}", "permission", "core.users.read", "effect", "grant"), 200, NULL);
    check("GET", "/api/v1/admin/users", boss_tok, NULL, 200, NULL);
    char *sql = xasprintf("SELECT COUNT(*) FROM user_permissions WHERE user_id = %lld AND effect = 'grant'", (long long)boss);
    cr_assert_eq(test_count(sql), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM user_permissions"), 1);
    cr_assert_eq(test_audit_count("core", "core.user.permission_set"), 2);
    free(sql);
    free(perms);
    free(one);
    free(roles);
    free(boss_tok);
    free(tok);
    srv_stop();
}

Test(admin, grant_one_permission)
{
    int64_t target = start();
    int64_t plain = test_user_id("plain");
    char *tok = test_token("root"), *plain_tok = test_token("plain"), *perms = user_path(plain, "/permissions");
    check("GET", "/api/v1/admin/users", plain_tok, NULL, 403, "forbidden");
    check("POST", perms, tok, json_pack("{s:s, s:s}", "permission", "core.users.read", "effect", "grant"), 200, NULL);
    check("GET", "/api/v1/admin/users", plain_tok, NULL, 200, NULL);
    char *one = user_path(target, "");
    check("GET", one, plain_tok, NULL, 200, NULL);
    check("PATCH", one, plain_tok, json_pack("{s:s}", "display_name", "x"), 403, "forbidden");
    check("POST", "/api/v1/admin/users", plain_tok, NULL, 403, "forbidden");
    static const char *bad_perms[] = {"nonsense", "core..read", "core.users.", ".core.users", "unknown.x.read",
                                      "core.us*rs", "Core.Users.Read", "core.users.read;", "", NULL};
    for (const char **p = bad_perms; *p; p++)
        check("POST", perms, tok, json_pack("{s:s, s:s}", "permission", *p, "effect", "grant"), 400, "validation_failed");
    check("POST", perms, tok, json_pack("{s:s, s:s}", "permission", "core.users.read", "effect", "maybe"), 400,
          "validation_failed");
    check("POST", perms, tok, json_pack("{s:s}", "permission", "core.users.read"), 400, "validation_failed");
    check("POST", "/api/v1/admin/users/9999/permissions", tok,
          json_pack("{s:s, s:s}", "permission", "core.users.read", "effect", "grant"), 404, "not_found");
    check("POST", perms, tok, json_pack("{s:s, s:s}", "permission", "testapp.*", "effect", "grant"), 200, NULL);
    check("GET", "/api/v1/testapp/stores/3/stock", plain_tok, NULL, 200, NULL);
    cr_assert_eq(test_audit_count("core", "core.user.permission_set"), 2);
    free(one);
    free(perms);
    free(plain_tok);
    free(tok);
    srv_stop();
}

Test(admin, disabling_ends_sessions)
{
    int64_t target = start();
    char *tok = test_token("root"), *direct = test_token("target"), *one = user_path(target, "");
    struct resp *pair = api_login("target", TEST_PASSWORD);
    resp_expect(pair, 200, NULL);
    const char *access = json_string_value(json_object_get(pair->json, "access_token"));
    check("GET", "/api/v1/me", access, NULL, 200, NULL);

    struct resp *r = api_json("PATCH", one, tok, json_pack("{s:s}", "status", "disabled"));
    resp_expect(r, 200, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "disabled");
    resp_free(r);
    check("GET", "/api/v1/me", access, NULL, 401, "invalid_token");
    check("GET", "/api/v1/me", direct, NULL, 401, "invalid_token");
    check("POST", "/api/v1/auth/refresh", NULL,
          json_pack("{s:s}", "refresh_token", json_string_value(json_object_get(pair->json, "refresh_token"))), 401,
          "invalid_token");
    resp_expect(r = api_login("target", TEST_PASSWORD), 401, "invalid_credentials");
    resp_free(r);
    char *sql = xasprintf("SELECT COUNT(*) FROM token_families WHERE user_id = %lld AND revoked_at IS NULL", (long long)target);
    cr_assert_eq(test_count(sql), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'core.user.updated' "
                            "AND summary LIKE '%\"status\":\"disabled\"%'"), 1);

    check("GET", "/api/v1/admin/users?status=disabled", tok, NULL, 200, NULL);
    check("PATCH", one, tok, json_pack("{s:s}", "status", "active"), 200, NULL);
    resp_expect(r = api_login("target", TEST_PASSWORD), 200, NULL);
    resp_free(r);
    free(sql);
    resp_free(pair);
    free(one);
    free(direct);
    free(tok);
    srv_stop();
}

Test(admin, no_self_lockout)
{
    start();
    int64_t root = test_user_id("root");
    char *tok = test_token("root"), *self = user_path(root, ""), *perms = user_path(root, "/permissions");
    char *own_role = xasprintf("/api/v1/admin/users/%lld/roles/%lld", (long long)root,
                               (long long)role_row(root, "core", "admin"));
    check("PATCH", self, tok, json_pack("{s:s}", "status", "disabled"), 409, "cannot_lock_out_self");
    check("DELETE", own_role, tok, NULL, 409, "cannot_lock_out_self");
    static const char *needed[] = {"core.roles.manage", "core.users.manage", "core.*", NULL};   /* "*" is not a known permission */
    for (const char **p = needed; *p; p++)
        check("POST", perms, tok, json_pack("{s:s, s:s}", "permission", *p, "effect", "revoke"), 409,
              "cannot_lock_out_self");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE username = 'root' AND status = 'active'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM user_permissions"), 0);

    /* what does not lock out is allowed: own display name, a non-admin role, an unrelated revoke */
    check("PATCH", self, tok, json_pack("{s:s}", "display_name", "Root"), 200, NULL);
    char *roles = user_path(root, "/roles");
    struct resp *r = api_json("POST", roles, tok, json_pack("{s:s, s:s}", "app", "core", "role", "auditor"));
    resp_expect(r, 201, NULL);
    char *aud_role = xasprintf("/api/v1/admin/users/%lld/roles/%lld", (long long)root,
                               (long long)json_integer_value(json_object_get(r->json, "id")));
    resp_free(r);
    check("DELETE", aud_role, tok, NULL, 200, NULL);
    check("POST", perms, tok, json_pack("{s:s, s:s}", "permission", "core.jobs.read", "effect", "revoke"), 200, NULL);

    /* another admin may remove root's admin role */
    test_user("root2", "core", "admin", NULL, 0);
    char *tok2 = test_token("root2");
    check("DELETE", own_role, tok2, NULL, 200, NULL);
    check("GET", "/api/v1/admin/users", tok, NULL, 403, "forbidden");
    free(tok2);
    free(roles);
    free(aud_role);
    free(own_role);
    free(perms);
    free(self);
    free(tok);
    srv_stop();
}

Test(admin, patch_fields_and_password_reset)
{
    int64_t target = start();
    test_user("other", NULL, NULL, NULL, 0);
    cr_assert_eq(db_exec(test_db(), "UPDATE users SET email = 'other@example.com' WHERE username = 'other'"), 1);
    char *tok = test_token("root"), *one = user_path(target, "");
    struct resp *r = api_json("PATCH", one, tok, json_pack("{s:s, s:s, s:s}", "display_name", "Tara Get", "email",
                                                       "tara@example.com", "language", "es"));
    resp_expect(r, 200, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "display_name")), "Tara Get");
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "email")), "tara@example.com");
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "language")), "es");
    cr_assert(json_is_array(json_object_get(r->json, "roles")));
    resp_free(r);

    check("PATCH", one, tok, json_pack("{s:s}", "nickname", "x"), 400, "validation_failed");
    check("PATCH", one, tok, json_pack("{s:s}", "status", "gone"), 400, "validation_failed");
    check("PATCH", one, tok, json_pack("{s:s}", "language", "fr"), 400, "validation_failed");
    check("PATCH", one, tok, json_pack("{s:i}", "status", 1), 400, "validation_failed");
    check("PATCH", one, tok, json_pack("{s:s}", "email", "not-an-email"), 400, "validation_failed");
    check("PATCH", one, tok, json_pack("{s:s}", "email", "OTHER@example.com"), 409, "email_taken");
    r = api_json("PATCH", one, tok, json_pack("{s:s}", "password", "password123"));
    resp_expect(r, 400, "validation_failed");
    cr_assert(strstr(r->body, "\"problem\":\"password_common\""), "%s", r->body);
    resp_free(r);
    check("PATCH", one, tok, json_pack("{s:s}", "password", "Target-99-x"), 400, "validation_failed");
    check("PATCH", "/api/v1/admin/users/9999", tok, json_pack("{s:s}", "display_name", "x"), 404, "not_found");
    check("PATCH", one, tok, json_pack("{}"), 200, NULL);

    /* a reset: the new password works, the old does not, sessions end */
    char *ttok = test_token("target");
    check("PATCH", one, tok, json_pack("{s:s}", "password", "Brand-New-Pass-77"), 200, NULL);
    check("GET", "/api/v1/me", ttok, NULL, 401, "invalid_token");
    resp_expect(r = api_login("target", TEST_PASSWORD), 401, "invalid_credentials");
    resp_free(r);
    resp_expect(r = api_login("target", "Brand-New-Pass-77"), 200, NULL);
    resp_free(r);
    cr_assert_eq(test_audit_count("core", "core.user.updated"), 2);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'core.user.updated' "
                            "AND summary LIKE '%\"password\"%'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE summary LIKE '%Brand-New%'"), 0);

    check("PATCH", one, tok, json_pack("{s:s}", "email", ""), 200, NULL);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE username = 'target' AND email IS NULL"), 1);
    free(ttok);
    free(one);
    free(tok);
    srv_stop();
}

Test(admin, list_get_and_create)
{
    int64_t target = start();
    char *tok = test_token("root");
    struct resp *r = api_json("POST", "/api/v1/admin/users", tok,
                          json_pack("{s:s, s:s, s:s, s:s}", "username", "alina", "password", GOOD_PW, "email",
                                    "alina@example.com", "display_name", "Alina"));
    resp_expect(r, 201, NULL);
    int64_t alina = json_integer_value(json_object_get(r->json, "id"));
    cr_assert_null(json_object_get(r->json, "password_hash"));
    resp_free(r);
    check("POST", "/api/v1/admin/users", tok,
          json_pack("{s:s, s:s, s:s}", "username", "alina", "password", GOOD_PW, "email", "x@example.com"), 409,
          "username_taken");
    check("POST", "/api/v1/admin/users", tok,
          json_pack("{s:s, s:s, s:s}", "username", "bertha", "password", "12345678", "email", "b@example.com"), 400,
          "validation_failed");
    cr_assert_eq(test_audit_count("core", "core.user.created"), 1);

    r = api("GET", "/api/v1/admin/users?page_size=2", tok, NULL);
    resp_expect(r, 200, NULL);
    cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 2);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 5);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "page")), 1);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "page_size")), 2);
    cr_assert_null(strstr(r->body, "password_hash"));
    resp_free(r);
    r = api("GET", "/api/v1/admin/users?page=3&page_size=2", tok, NULL);
    cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 1);
    resp_free(r);
    r = api("GET", "/api/v1/admin/users?q=ALI", tok, NULL);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 1, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(json_object_get(r->json, "items"), 0), "id")), alina);
    resp_free(r);
    r = api("GET", "/api/v1/admin/users?q=example.com", tok, NULL);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 1, "q also searches emails");
    resp_free(r);
    r = api("GET", "/api/v1/admin/users?q=%25", tok, NULL);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 0, "q is a substring, not a pattern");
    resp_free(r);
    r = api("GET", "/api/v1/admin/users?status=disabled", tok, NULL);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 0);
    resp_free(r);
    check("GET", "/api/v1/admin/users?status=bogus", tok, NULL, 400, "validation_failed");
    check("GET", "/api/v1/admin/users?page_size=500", tok, NULL, 400, "validation_failed");

    char *one = user_path(test_user_id("aud"), "");
    r = api("GET", one, tok, NULL);
    resp_expect(r, 200, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "username")), "aud");
    cr_assert_eq(json_array_size(json_object_get(r->json, "roles")), 1);
    cr_assert(strstr(r->body, "\"core.audit.read\""), "%s", r->body);
    resp_free(r);
    check("GET", "/api/v1/admin/users/9999", tok, NULL, 404, "not_found");
    (void)target;
    free(one);
    free(tok);
    srv_stop();
}
