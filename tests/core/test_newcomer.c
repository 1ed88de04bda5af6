/* test_newcomer.c -- what a person trying atrium for the first time ran into
 * (issue #9, section 6), one test per item: an app admin reads its app's
 * audit rows, the audit filters and renamed actions, grant validation and the
 * role catalog, a 403 that names the permission, JSON reals without noise,
 * Accept-Language for users who chose no language, the health aliases, and
 * the RateLimit-* headers. */
#include "support/harness.h"
#include <stdlib.h>
#include <string.h>

TestSuite(newcomer, .init = srv_start, .fini = srv_stop);

static struct resp *get(const char *path, const char *token)
{
    return api("GET", path, token, NULL);
}

static const json_t *err(struct resp *r)
{
    return json_object_get(r->json, "error");
}

static const char *err_str(struct resp *r, const char *key)
{
    return json_string_value(json_object_get(err(r), key));
}

/* One audit row written as the CLI would, in its own transaction. */
static void audit_row(const char *app, const char *action, const char *ttype, int64_t tid)
{
    struct db *db = test_db();
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(audit_write_as(db, 0, app, action, ttype, tid, NULL), 0);
    cr_assert_eq(db_commit(db), 0);
}

/* Item 1: an app's admin reads that app's rows, and only with ?app=<app>. */
Test(newcomer, app_admin_reads_its_app_audit_rows)
{
    test_user("cpadmin", "codepop", "admin", NULL, 0);
    test_user("cpmanager", "codepop", "manager", "store", 1);
    audit_row("codepop", "codepop.order.created", "order", 1);
    audit_row("groupbuy", "groupbuy.group.created", "group", 1);
    char *tok = test_token("cpadmin");
    struct resp *r = get("/api/v1/audit?app=codepop", tok);
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *items = json_object_get(r->json, "items");
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "action")), "codepop.order.created");
    resp_free(r);

    r = get("/api/v1/audit", tok);
    cr_assert_eq(r->status, 403, "%s", r->body);
    cr_assert_str_eq(err_str(r, "permission"), "core.audit.read");
    resp_free(r);
    r = get("/api/v1/audit?app=groupbuy", tok);
    cr_assert_eq(r->status, 403, "%s", r->body);
    cr_assert_str_eq(err_str(r, "permission"), "groupbuy.audit.read");
    resp_free(r);
    r = get("/api/v1/audit?app=core", tok);
    cr_assert_eq(r->status, 403, "%s", r->body);
    resp_free(r);
    free(tok);

    tok = test_token("cpmanager");          /* a manager is not the app's admin */
    r = get("/api/v1/audit?app=codepop", tok);
    cr_assert_eq(r->status, 403, "%s", r->body);
    resp_free(r);
    free(tok);
}

/* Item 3: target_id, target_type, until, sort; renamed actions answered under
 * their new name, old rows found by it, recorded_action kept. */
Test(newcomer, audit_filters_and_renamed_actions)
{
    test_user("root", "core", "admin", NULL, 0);
    audit_row("core", "role.assign", "user", 7);            /* written before the rename */
    audit_row("core", "core.user.role_granted", "user", 8);
    audit_row("core", "core.user.created", "user", 7);
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

/* Item 4: grants name a real role, a scope exactly when the role is scoped,
 * an existing target, and a known permission. */
Test(newcomer, grants_are_validated)
{
    test_user("root", "core", "admin", NULL, 0);
    int64_t bob = test_user("bob", NULL, NULL, NULL, 0);
    char *tok = test_token("root"), *roles = xasprintf("/api/v1/admin/users/%lld/roles", (long long)bob);
    char *perms = xasprintf("/api/v1/admin/users/%lld/permissions", (long long)bob);
    struct { const char *path, *body; int status; } cases[] = {
        {roles, "{\"app\":\"codepop\",\"role\":\"wizard\"}", 400},
        {roles, "{\"app\":\"codepop\",\"role\":\"manager\"}", 400},                       /* scoped, no scope */
        {roles, "{\"app\":\"codepop\",\"role\":\"admin\",\"scope_type\":\"store\",\"scope_id\":1}", 400},
        {roles, "{\"app\":\"codepop\",\"role\":\"manager\",\"scope_type\":\"store\",\"scope_id\":99}", 404},
        {roles, "{\"app\":\"codepop\",\"role\":\"logistics_manager\",\"scope_type\":\"region\",\"scope_id\":99}", 404},
        {roles, "{\"app\":\"groupbuy\",\"role\":\"supplier\",\"scope_type\":\"supplier\",\"scope_id\":99}", 404},
        {perms, "{\"permission\":\"codepop.bogus.thing\",\"effect\":\"grant\"}", 400},
        {perms, "{\"permission\":\"codepop.bogus.*\",\"effect\":\"grant\"}", 400},
        {perms, "{\"permission\":\"*\",\"effect\":\"grant\"}", 400},
        {perms, "{\"permission\":\"codepop.supply.read\",\"effect\":\"grant\"}", 200},
        {perms, "{\"permission\":\"codepop.audit.read\",\"effect\":\"grant\"}", 200},
        {perms, "{\"permission\":\"codepop.*\",\"effect\":\"revoke\"}", 200},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct resp *r = api("POST", cases[i].path, tok, cases[i].body);
        cr_expect_eq(r->status, cases[i].status, "%s -> %d: %s", cases[i].body, r->status, r->body);
        resp_free(r);
    }
    cr_assert_eq(test_count("SELECT COUNT(*) FROM user_roles WHERE user_id IN (SELECT id FROM users "
                            "WHERE username = 'bob')"), 0, "no refused grant left a row");
    free(roles);
    free(perms);
    free(tok);
}

/* Item 4: the role catalog. */
Test(newcomer, admin_roles_lists_the_catalog)
{
    test_user("root", "core", "admin", NULL, 0);
    test_user("plain", NULL, NULL, NULL, 0);
    char *tok = test_token("root");
    struct resp *r = get("/api/v1/admin/roles", tok);
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *apps = json_object_get(r->json, "apps"), *app, *cp = NULL;
    size_t i;
    json_array_foreach(apps, i, app)
        if (!strcmp(json_string_value(json_object_get(app, "name")), "codepop")) cp = app;
    cr_assert_not_null(cp, "%s", r->body);
    json_t *types = json_object_get(cp, "scope_types");
    cr_assert_eq(json_array_size(types), 2);
    cr_assert_str_eq(json_string_value(json_array_get(types, 0)), "region");
    cr_assert_str_eq(json_string_value(json_array_get(types, 1)), "store");
    json_t *role, *manager = NULL, *admin = NULL;
    json_array_foreach(json_object_get(cp, "roles"), i, role) {
        const char *name = json_string_value(json_object_get(role, "name"));
        if (!strcmp(name, "manager")) manager = role;
        if (!strcmp(name, "admin")) admin = role;
    }
    cr_assert_str_eq(json_string_value(json_object_get(manager, "scope_type")), "store");
    cr_assert(json_is_null(json_object_get(manager, "inherits")));
    bool audit = false;
    json_t *p;
    json_array_foreach(json_object_get(admin, "effective_permissions"), i, p)
        audit |= !strcmp(json_string_value(p), "codepop.audit.read");
    cr_assert(audit, "codepop's admin reads codepop's audit rows");
    resp_free(r);
    free(tok);
    tok = test_token("plain");
    r = get("/api/v1/admin/roles", tok);
    cr_assert_eq(r->status, 403);
    resp_free(r);
    free(tok);
}

/* Item 5: a 403 names the permission; a user with no role is told why. */
Test(newcomer, forbidden_names_the_permission)
{
    test_user("staff", "codepop", "manager", "store", 1);
    test_user("newbie", NULL, NULL, NULL, 0);
    char *tok = test_token("staff");
    struct resp *r = get("/api/v1/admin/users", tok);
    cr_assert_eq(r->status, 403);
    cr_assert_str_eq(err_str(r, "code"), "forbidden");
    cr_assert_str_eq(err_str(r, "permission"), "core.users.read");
    cr_assert_str_eq(err_str(r, "message"), "missing permission core.users.read");
    resp_free(r);
    free(tok);
    tok = test_token("newbie");
    r = get("/api/v1/codepop/supply-requests", tok);
    cr_assert_eq(r->status, 403);
    cr_assert_str_eq(err_str(r, "permission"), "codepop.supply.read");
    cr_assert(strstr(err_str(r, "message"), "an administrator must grant you one"), "%s", r->body);
    resp_free(r);
    free(tok);
}

/* Item 6: a stored 40.704 comes back as 40.704. */
Test(newcomer, json_reals_have_no_float_noise)
{
    test_user("u", NULL, NULL, NULL, 0);
    struct db *db = test_db();
    cr_assert_eq(db_exec(db, "INSERT INTO codepop_regions (id, code, name) VALUES (90, 'Z', 'Test')"), 1);
    cr_assert_eq(db_exec(db, "INSERT INTO codepop_hubs (id, region_id, code, name, lat, lon) "
                             "VALUES (90, 90, 'HZ', 'Hub', 40.704, -73.9)"), 1);
    cr_assert_eq(db_exec(db, "INSERT INTO codepop_stores (id, name, region_id, supply_hub_id, lat, lon, timezone, "
                             "opens_at, closes_at) VALUES (90, 'S', 90, 90, 40.704, -74.0059, 'UTC', '06:00', '22:00')"), 1);
    char *tok = test_token("u");
    struct resp *r = get("/api/v1/codepop/stores/90", tok);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(strstr(r->body, "\"lat\":40.704,"), "%s", r->body);
    cr_assert(strstr(r->body, "\"lon\":-74.0059,"), "%s", r->body);
    resp_free(r);
    free(tok);
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
    cr_assert_str_eq(err_str(r, "message"),
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
    cr_assert(strstr(err_str(r, "message"), "missing permission"), "%s", r->body);
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
    srv_start();
    for (int i = 0; i < 3; i++) {
        struct resp *r = get("/api/v1/codepop/drinks", NULL);
        cr_assert_eq(r->status, 200, "%s", r->body);
        cr_assert_str_eq(resp_header(r, "RateLimit-Limit"), "3");
        char want[8];
        snprintf(want, sizeof want, "%d", 2 - i);
        cr_assert_str_eq(resp_header(r, "RateLimit-Remaining"), want);
        int reset = atoi(resp_header(r, "RateLimit-Reset"));
        cr_assert(reset >= 1 && reset <= 60, "reset %d", reset);
        resp_free(r);
    }
    struct resp *r = get("/api/v1/codepop/drinks", NULL);
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
