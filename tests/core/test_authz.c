/* The core's authorization matrix: every route of src/core/core.c for every
 * caller, checked complete by authz_complete(). One ROW per route gives the
 * status of anonymous, plain (no core role), aud (auditor) and root (admin).
 * The targets are user `target` (no role) and, for DELETE, a role row that
 * does not exist: the matrix checks who gets in, test_admin.c what the
 * writes do. POST bodies are empty, so allowed callers mostly get 400. */
#include "support/harness.h"

#define ROW(m, path, anon, plain, aud, root)                                                                  \
    {m, path, NULL, anon}, {m, path, "plain", plain}, {m, path, "aud", aud}, {m, path, "root", root}

static void start(void)
{
    srv_start();
    test_user("root", "core", "admin", NULL, 0);
    test_user("aud", "core", "auditor", NULL, 0);
    test_user("plain", NULL, NULL, NULL, 0);
    test_user("target", NULL, NULL, NULL, 0);
}

TestSuite(core_authz, .init = start, .fini = srv_stop);

Test(core_authz, every_route_and_caller)
{
    char one[64], roles[80], perms[80], role[96];
    long long target = (long long)test_user_id("target");
    snprintf(one, sizeof one, "/api/v1/admin/users/%lld", target);
    snprintf(roles, sizeof roles, "%s/roles", one);
    snprintf(perms, sizeof perms, "%s/permissions", one);
    snprintf(role, sizeof role, "%s/roles/999", one);
    const struct authz_case cases[] = {
        ROW("GET", "/health/live", 200, 200, 200, 200),
        ROW("GET", "/health/ready", 200, 200, 200, 200),
        ROW("GET", "/metrics", 200, 200, 200, 200),
        ROW("GET", "/api/v1/health/detailed", 401, 403, 200, 200),
        ROW("GET", "/api/v1/health", 200, 200, 200, 200),
        ROW("GET", "/api/v1/readiness", 200, 200, 200, 200),
        ROW("GET", "/api/v1/liveness", 200, 200, 200, 200),
        ROW("GET", "/api/v1/openapi.json", 200, 200, 200, 200),
        ROW("GET", "/api/docs", 200, 200, 200, 200),
        ROW("GET", "/api/docs/redoc-2.5.2.standalone.js", 200, 200, 200, 200),
        ROW("POST", "/api/v1/auth/register", 400, 400, 400, 400),
        ROW("POST", "/api/v1/auth/login", 400, 400, 400, 400),
        ROW("POST", "/api/v1/auth/refresh", 400, 400, 400, 400),
        ROW("POST", "/api/v1/auth/totp/setup", 401, 200, 200, 200),
        ROW("POST", "/api/v1/auth/totp/enable", 401, 400, 400, 400),
        ROW("POST", "/api/v1/auth/totp/disable", 401, 400, 400, 400),
        ROW("GET", "/api/v1/me", 401, 200, 200, 200),
        ROW("POST", "/api/v1/me/language", 401, 400, 400, 400),
        ROW("POST", "/api/v1/me/password", 401, 400, 400, 400),
        ROW("GET", "/api/v1/admin/users", 401, 403, 403, 200),
        ROW("POST", "/api/v1/admin/users", 401, 403, 403, 400),
        ROW("GET", one, 401, 403, 403, 200),
        ROW("PATCH", one, 401, 403, 403, 200),
        ROW("POST", roles, 401, 403, 403, 400),
        ROW("DELETE", role, 401, 403, 403, 404),
        ROW("POST", perms, 401, 403, 403, 400),
        ROW("GET", "/api/v1/admin/jobs", 401, 403, 403, 200),
        ROW("GET", "/api/v1/admin/roles", 401, 403, 403, 200),
        ROW("GET", "/api/v1/audit", 401, 403, 200, 200),
        ROW("GET", "/api/v1/notifications", 401, 200, 200, 200),
        ROW("POST", "/api/v1/notifications/999/read", 401, 404, 404, 404),
        ROW("GET", "/api/v1/realtime/sse?topics=nope.1", 401, 403, 403, 403),
        ROW("GET", "/api/v1/realtime/ws", 401, 400, 400, 400),
        ROW("POST", "/api/v1/auth/logout", 401, 200, 200, 200),
        {0},
    };
    authz_run(cases);
    const struct authz_case *const all[] = {cases, NULL};
    authz_complete("core", all);
}
