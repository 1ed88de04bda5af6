/* test_newcomer.c -- what a person trying atrium for the first time ran into
 * (issue #9, section 6), one test per item, as the core's behaviour shown
 * through the test app (support/testapp.h): an app admin reads its app's
 * audit rows, the audit filters and renamed actions, grant validation and the
 * role catalog, a 403 that names the permission, JSON reals without noise,
 * Accept-Language for users who chose no language, the health aliases, and
 * the RateLimit-* headers. What the real apps add (their scope targets, their
 * admins' audit rows, their coordinates) is in tests/apps/<app>/test_grants.c. */
#include "support/harness.h"
#include "support/testapp.h"
#include <stdlib.h>
#include <string.h>

/* A second app, only so that another app's audit rows exist. */
static const struct app other = {.name = "otherapp"};

static void start(void)
{
    app_register_test(&other);
    srv_start_with(testapp_routes, &testapp);
}

TestSuite(newcomer, .init = start, .fini = srv_stop);

static struct resp *get(const char *path, const char *token)
{
    return api("GET", path, token, NULL);
}

/* Item 1: an app's admin reads that app's rows, and only with ?app=<app>. */
Test(newcomer, app_admin_reads_its_app_audit_rows)
{
    test_user("taadmin", "testapp", "admin", NULL, 0);
    test_user("tamanager", "testapp", "manager", "store", 1);
    test_audit_row("otherapp", "otherapp.thing.created", "thing", 1);
    audit_app_reader_check("testapp", "testapp.counter.bumped", "taadmin", "tamanager");
    struct resp *r = api_get("/api/v1/audit?app=otherapp", "taadmin");
    resp_expect(r, 403, "forbidden");
    cr_assert_str_eq(resp_error_str(r, "permission"), "otherapp.audit.read");
    resp_free(r);
    r = api_get("/api/v1/audit?app=core", "taadmin");
    resp_expect(r, 403, "forbidden");
    cr_assert_str_eq(resp_error_str(r, "permission"), "core.audit.read");
    resp_free(r);
}

/* Item 3: target_id, target_type, until, sort; renamed actions answered under
 * their new name, old rows found by it, recorded_action kept. */
Test(newcomer, audit_filters_and_renamed_actions)
{
    test_user("root", "core", "admin", NULL, 0);
    test_audit_row("core", "role.assign", "user", 7);            /* written before the rename */
    test_audit_row("core", "core.user.role_granted", "user", 8);
    test_audit_row("core", "core.user.created", "user", 7);
    char *tok = test_token("root");

    struct resp *r = get("/api/v1/audit?app=core&action=core.user.role_granted&sort=at", tok);
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *items = json_object_get(r->json, "items");
    cr_assert_eq(json_array_size(items), 2, "%s", r->body);
    json_t *old = json_array_get(items, 0), *now = json_array_get(items, 1);
    cr_assert_str_eq(json_string_value(json_object_get(old, "action")), "core.user.role_granted");
    cr_assert_str_eq(json_string_value(json_object_get(old, "recorded_action")), "role.assign");
    cr_assert_eq(json_integer_value(json_object_get(old, "target_id")), 7);
    cr_assert_null(json_object_get(now, "recorded_action"), "a row under its own name has no recorded_action");
    resp_free(r);

    r = get("/api/v1/audit?target_type=user&target_id=7", tok);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 2, "%s", r->body);
    resp_free(r);

    r = get("/api/v1/audit?target_id=7&until=2000-01-01", tok);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 0, "%s", r->body);
    resp_free(r);
    r = get("/api/v1/audit?target_id=7&until=2999-12-31&since=2000-01-01", tok);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 2, "%s", r->body);
    resp_free(r);

    r = get("/api/v1/audit?until=yesterday", tok);
    cr_assert_eq(r->status, 400);
    resp_free(r);
    r = get("/api/v1/audit?sort=size", tok);
    cr_assert_eq(r->status, 400);
    resp_free(r);
    free(tok);
}

/* Item 3: the core's own writes use <app>.<resource>.<past-tense verb>. */
Test(newcomer, core_actions_use_the_new_names)
{
    test_user("root", "core", "admin", NULL, 0);
    int64_t bob = test_user("bob", NULL, NULL, NULL, 0);
    char *tok = test_token("root"), *path = xasprintf("/api/v1/admin/users/%lld/roles", (long long)bob);
    struct resp *r = api("POST", path, tok, "{\"app\":\"core\",\"role\":\"auditor\"}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'core.user.role_granted'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE app = 'core' AND action NOT LIKE 'core.%'"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_action_aliases WHERE app = 'core' AND old_action = 'role.assign' "
                            "AND action = 'core.user.role_granted'"), 1);
    free(path);
    free(tok);
}

/* Item 4: grants name a real app and role, a scope exactly when the role is
 * scoped, a target the app's scope_exists knows, and a known permission. */
_Static_assert(TESTAPP_STORES < 101, "store 101 must not exist");
Test(newcomer, grants_are_validated)
{
    test_user("root", "core", "admin", NULL, 0);
    int64_t bob = test_user("bob", NULL, NULL, NULL, 0);
    grants_run("root", bob, (const struct grant_case[]){
        {GRANT_ROLE, "{\"app\":\"nosuchapp\",\"role\":\"admin\"}", 400},
        {GRANT_ROLE, "{\"app\":\"testapp\",\"role\":\"wizard\"}", 400},
        {GRANT_ROLE, "{\"app\":\"testapp\",\"role\":\"manager\"}", 400},                       /* scoped, no scope */
        {GRANT_ROLE, "{\"app\":\"testapp\",\"role\":\"admin\",\"scope_type\":\"store\",\"scope_id\":1}", 400},
        {GRANT_ROLE, "{\"app\":\"testapp\",\"role\":\"manager\",\"scope_type\":\"store\",\"scope_id\":101}", 404},
        {GRANT_PERM, "{\"permission\":\"testapp.bogus.thing\",\"effect\":\"grant\"}", 400},
        {GRANT_PERM, "{\"permission\":\"testapp.bogus.*\",\"effect\":\"grant\"}", 400},
        {GRANT_PERM, "{\"permission\":\"*\",\"effect\":\"grant\"}", 400},
        {GRANT_PERM, "{\"permission\":\"testapp.stock.read\",\"effect\":\"grant\"}", 200},
        {GRANT_PERM, "{\"permission\":\"testapp.audit.read\",\"effect\":\"grant\"}", 200},
        {GRANT_PERM, "{\"permission\":\"testapp.*\",\"effect\":\"revoke\"}", 200},
        {0},
    });
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM user_roles WHERE user_id = %lld", (long long)bob), 0,
                 "no refused grant left a row");
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM user_permissions WHERE user_id = %lld", (long long)bob), 3);
    /* the 404 came from scope_exists: a store it knows is granted */
    grants_run("root", bob, (const struct grant_case[]){
        {GRANT_ROLE, "{\"app\":\"testapp\",\"role\":\"manager\",\"scope_type\":\"store\",\"scope_id\":100}", 201},
        {0},
    });
    test_expect_role("testapp", "bob", "manager", "store", 100);
}

/* Item 4: the role catalog. */
Test(newcomer, admin_roles_lists_the_catalog)
{
    test_user("root", "core", "admin", NULL, 0);
    test_user("plain", NULL, NULL, NULL, 0);
    struct resp *r = api_get("/api/v1/admin/roles", "root");
    resp_expect(r, 200, NULL);
    json_t *app = jfind(json_object_get(r->json, "apps"), "name", "testapp");
    cr_assert_not_null(app, "%s", r->body);
    json_t *types = json_object_get(app, "scope_types");
    cr_assert_eq(json_array_size(types), 1, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_array_get(types, 0)), "store");
    json_t *roles = json_object_get(app, "roles");
    json_t *manager = jfind(roles, "name", "manager"), *staff = jfind(roles, "name", "staff");
    json_t *admin = jfind(roles, "name", "admin");
    cr_assert(manager && staff && admin, "%s", r->body);
    cr_assert_str_eq(jstr(manager, "scope_type"), "store");
    cr_assert_str_eq(jstr(manager, "inherits"), "staff");
    cr_assert(json_is_null(json_object_get(staff, "inherits")));
    cr_assert(json_is_null(json_object_get(admin, "scope_type")));
    cr_assert(jhas(json_object_get(manager, "effective_permissions"), "testapp.stock.read"), "inherited from staff");
    cr_assert_not(jhas(json_object_get(manager, "permissions"), "testapp.stock.read"), "not its own");
    cr_assert(jhas(json_object_get(admin, "effective_permissions"), "testapp.audit.read"),
              "the app's admin reads the app's audit rows");
    cr_assert_not(jhas(json_object_get(admin, "permissions"), "testapp.audit.read"), "without listing it");
    cr_assert(jhas(json_object_get(app, "permissions"), "testapp.audit.read"), "a permission a grant may name");
    resp_free(r);
    resp_check(api_get("/api/v1/admin/roles", "plain"), 403, "forbidden");
}

/* Item 5: a 403 names the permission; a user with no role is told why. */
Test(newcomer, forbidden_names_the_permission)
{
    test_user("staff", "testapp", "manager", "store", 1);
    test_user("newbie", NULL, NULL, NULL, 0);
    struct resp *r = api_get("/api/v1/admin/users", "staff");
    resp_expect(r, 403, "forbidden");
    cr_assert_str_eq(resp_error_str(r, "permission"), "core.users.read");
    cr_assert_str_eq(resp_error_str(r, "message"), "missing permission core.users.read");
    resp_free(r);
    r = api_get("/api/v1/testapp/stores/1/stock", "newbie");
    resp_expect(r, 403, "forbidden");
    cr_assert_str_eq(resp_error_str(r, "permission"), "testapp.stock.read");
    cr_assert(strstr(resp_error_str(r, "message"), "an administrator must grant you one"), "%s", r->body);
    resp_free(r);
}

/* Item 6: a real read back from the database as 40.704 comes out as 40.704. */
Test(newcomer, json_reals_have_no_float_noise)
{
    struct resp *r = api_get("/api/v1/testapp/point", NULL);
    resp_expect(r, 200, NULL);
    cr_assert_str_eq(r->body, "{\"lat\":40.704,\"lon\":-74.0059}");
    resp_free(r);
}

/* Item 7: registration stores no language unless given; Accept-Language then
 * speaks for the signed-in user. */
Test(newcomer, accept_language_for_users_without_a_choice)
{
    const char *es[] = {"Accept-Language: es-ES,es;q=0.9", NULL};
    struct resp *r = api("POST", "/api/v1/auth/register", NULL,
                         "{\"username\":\"ana\",\"password\":\"Lantern-Quiet-93\",\"email\":\"ana@example.com\"}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert(json_is_null(json_object_get(r->json, "language")), "%s", r->body);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE username = 'ana' AND language IS NULL"), 1);
    char *tok = test_token("ana");
    r = api_h("GET", "/api/v1/admin/users", tok, NULL, es);
    cr_assert_eq(r->status, 403);
    cr_assert_str_eq(resp_error_str(r, "message"),
                     "falta el permiso core.users.read: tu cuenta aún no tiene ningún rol; un administrador debe "
                     "asignarte uno");
    resp_free(r);
    free(tok);

    r = api("POST", "/api/v1/auth/register", NULL,
            "{\"username\":\"eva\",\"password\":\"Lantern-Quiet-93\",\"email\":\"eva@example.com\",\"language\":\"en\"}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    tok = test_token("eva");
    r = api_h("GET", "/api/v1/admin/users", tok, NULL, es);     /* a stored choice wins over the header */
    cr_assert(strstr(resp_error_str(r, "message"), "missing permission"), "%s", r->body);
    resp_free(r);
    free(tok);
    r = api("POST", "/api/v1/auth/register", NULL,
            "{\"username\":\"fay\",\"password\":\"Lantern-Quiet-93\",\"email\":\"fay@example.com\",\"language\":\"fr\"}");
    cr_assert_eq(r->status, 400);
    resp_free(r);
}

/* Item 8: the health aliases deployments probe, with or without a slash. */
Test(newcomer, health_aliases)
{
    static const struct { const char *path, *status; } cases[] = {
        {"/api/v1/health/", "ready"}, {"/api/v1/health", "ready"}, {"/api/v1/readiness/", "ready"},
        {"/api/v1/readiness", "ready"}, {"/api/v1/liveness/", "ok"}, {"/api/v1/liveness", "ok"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct resp *r = get(cases[i].path, NULL);
        cr_expect_eq(r->status, 200, "%s: %d %s", cases[i].path, r->status, r->body);
        cr_expect_str_eq(json_string_value(json_object_get(r->json, "status")), cases[i].status, "%s", cases[i].path);
        resp_free(r);
    }
    test_user("root", "core", "admin", NULL, 0);
    char *tok = test_token("root");
    struct resp *r = get("/api/v1/health/detailed/", tok);
    cr_assert_eq(r->status, 200);
    cr_assert_not_null(json_object_get(r->json, "checks"));
    resp_free(r);
    free(tok);
}

/* Item 9: every limited answer carries RateLimit-*, the 429 Retry-After too;
 * probes are not limited and carry none. */
Test(newcomer_rate, ratelimit_headers)
{
    setenv("ATRIUM_RATE_ANON", "3/minute", 1);
    srv_start_with(testapp_routes, &testapp);
    for (int i = 0; i < 3; i++) {
        struct resp *r = get("/api/v1/testapp/point", NULL);
        cr_assert_eq(r->status, 200, "%s", r->body);
        cr_assert_str_eq(resp_header(r, "RateLimit-Limit"), "3");
        char want[8];
        snprintf(want, sizeof want, "%d", 2 - i);
        cr_assert_str_eq(resp_header(r, "RateLimit-Remaining"), want);
        int reset = atoi(resp_header(r, "RateLimit-Reset"));
        cr_assert(reset >= 1 && reset <= 60, "reset %d", reset);
        resp_free(r);
    }
    struct resp *r = get("/api/v1/testapp/point", NULL);
    cr_assert_eq(r->status, 429);
    cr_assert_str_eq(resp_header(r, "RateLimit-Limit"), "3");
    cr_assert_str_eq(resp_header(r, "RateLimit-Remaining"), "0");
    cr_assert_not_null(resp_header(r, "RateLimit-Reset"));
    int retry = atoi(resp_header(r, "Retry-After"));
    cr_assert(retry >= 1 && retry <= 20, "one token of 3/minute comes within 20 s, got %d", retry);
    resp_free(r);
    r = get("/health/live", NULL);
    cr_assert_eq(r->status, 200);
    cr_assert_null(resp_header(r, "RateLimit-Limit"));
    resp_free(r);
    srv_stop();
}
