/* core.c -- the core as an app: every core route with the permission it needs
 * and its flags, the core roles, and the core jobs. This table is the one place
 * to read who may call what in the hall. */
#include "atrium.h"
#include "internal.h"
#include "openapi.h"

/* Streams: browsers' EventSource and WebSocket cannot set headers, so the
 * token, topics and resume point also come in the query string. */
#define RT_QUERY "access_token,topics,last_event_id"

static const struct route core_routes[] = {
    {"GET", "/health/live", health_live, PERM_PUBLIC, ROUTE_NO_RATELIMIT | ROUTE_NO_DB},
    {"GET", "/health/ready", health_ready, PERM_PUBLIC, ROUTE_NO_RATELIMIT | ROUTE_NO_DB},
    {"GET", "/metrics", metrics_endpoint, PERM_PUBLIC, ROUTE_NO_RATELIMIT},
    {"GET", "/api/v1/health/detailed", health_detailed, "core.health.read", 0},
    /* Aliases deployments of the seed systems probe (a trailing slash matches too). */
    {"GET", "/api/v1/health", health_ready, PERM_PUBLIC, ROUTE_NO_RATELIMIT | ROUTE_NO_DB},
    {"GET", "/api/v1/readiness", health_ready, PERM_PUBLIC, ROUTE_NO_RATELIMIT | ROUTE_NO_DB},
    {"GET", "/api/v1/liveness", health_live, PERM_PUBLIC, ROUTE_NO_RATELIMIT | ROUTE_NO_DB},

    {"POST", "/api/v1/auth/register", auth_register, PERM_PUBLIC, ROUTE_SLOW},
    {"POST", "/api/v1/auth/login", auth_login, PERM_PUBLIC, ROUTE_SLOW},
    {"POST", "/api/v1/auth/refresh", auth_refresh, PERM_PUBLIC, 0},
    {"POST", "/api/v1/auth/logout", auth_logout, PERM_USER, 0},
    {"POST", "/api/v1/auth/totp/setup", auth_totp_setup, PERM_USER, 0},
    {"POST", "/api/v1/auth/totp/enable", auth_totp_enable, PERM_USER, 0},
    {"POST", "/api/v1/auth/totp/disable", auth_totp_disable, PERM_USER, 0},
    {"GET", "/api/v1/me", me_get, PERM_USER, 0},
    {"POST", "/api/v1/me/language", me_language, PERM_USER, 0},
    {"POST", "/api/v1/me/password", me_password, PERM_USER, ROUTE_SLOW},

    {"GET", "/api/v1/admin/users", admin_users_list, "core.users.read", 0, "status,q,page,page_size"},
    {"POST", "/api/v1/admin/users", admin_users_create, "core.users.manage", ROUTE_SLOW},
    {"GET", "/api/v1/admin/users/{id:int}", admin_users_get, "core.users.read", 0},
    {"PATCH", "/api/v1/admin/users/{id:int}", admin_users_patch, "core.users.manage", ROUTE_SLOW},
    {"POST", "/api/v1/admin/users/{id:int}/roles", admin_roles_add, "core.roles.manage", 0},
    {"DELETE", "/api/v1/admin/users/{id:int}/roles/{role_id:int}", admin_roles_remove, "core.roles.manage", 0},
    {"POST", "/api/v1/admin/users/{id:int}/permissions", admin_permissions_set, "core.roles.manage", 0},
    {"GET", "/api/v1/admin/jobs", admin_jobs_list, "core.jobs.read", 0, "page,page_size"},
    {"GET", "/api/v1/admin/roles", admin_roles_list, "core.users.read", 0},

    /* core.audit.read for every row, or <app>.audit.read with ?app=<app>: the handler checks */
    {"GET", "/api/v1/audit", audit_list, PERM_USER, 0,
     "app,user_id,action,target_type,target_id,since,until,sort,page,page_size"},

    {"GET", "/api/v1/notifications", notifications_list, PERM_USER, 0, "unread,page,page_size"},
    {"POST", "/api/v1/notifications/{id:int}/read", notifications_read, PERM_USER, 0},

    {"GET", "/api/v1/realtime/sse", realtime_sse, PERM_USER, ROUTE_STREAM, RT_QUERY},
    {"GET", "/api/v1/realtime/ws", realtime_ws, PERM_USER, ROUTE_STREAM, RT_QUERY},

    {"GET", "/api/v1/openapi.json", openapi_json, PERM_PUBLIC, 0},
    {"GET", "/api/docs", openapi_docs_page, PERM_PUBLIC, 0},
    {"GET", REDOC_BUNDLE_PATH, openapi_docs_bundle, PERM_PUBLIC, 0},
    {0},
};

static const char *const admin_perms[] = {"core.*", NULL};
static const char *const auditor_perms[] = {"core.audit.read", "core.health.read", NULL};

static const struct role core_roles[] = {
    {"admin", "auditor", NULL, admin_perms},
    {"auditor", NULL, NULL, auditor_perms},
    {0},
};

static const struct job core_jobs[] = {
    {"core.cleanup", 3600, core_cleanup_job},
    {"core.backup", 86400, core_backup_job},
    {0},
};

const struct app core_app = {
    .name = "core",
    .migrations_dir = "src/core/migrations/",
    .routes = core_routes,
    .roles = core_roles,
    .jobs = core_jobs,
    .api_doc = "src/core/api.json",
};
