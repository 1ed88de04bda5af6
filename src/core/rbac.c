/* rbac.c -- roles and permissions.
 *
 * A user's role assignments and per-user grants/revokes are read with one
 * indexed query the first time a request asks, and kept on the request. Role
 * definitions (which permissions a role grants, which role it inherits) live in
 * code, in each app's role table (app.h), so they are reviewed with the routes
 * that need them. Rules: a per-user revoke beats everything; a per-user grant
 * is global; a role assigned without scope is global; a scoped role grants only
 * within its (scope_type, scope_id).
 *
 * The audit log is the core's: every app has the permission <app>.audit.read
 * (read that app's rows of GET /api/v1/audit), held by the app's role named
 * "admin" without the app having to list it. */
#include "atrium.h"
#include "internal.h"
#include <stdlib.h>
#include <string.h>

struct assignment {
    const struct role *role;    /* NULL for grant/revoke rows */
    const char *app;
    char scope_type[32];
    int64_t scope_id;
    char perm[96];              /* grant/revoke rows */
    bool revoke;
};

struct perms {
    size_t n;
    struct assignment a[];
};

/* Does the permission pattern p (possibly "app.*" or "*") cover want? */
static bool perm_covers(const char *p, const char *want)
{
    size_t n = strlen(p);
    if (n && p[n - 1] == '*') return !strncmp(p, want, n - 1);
    return !strcmp(p, want);
}

static bool role_grants(const char *app, const struct role *role, const char *want)
{
    char audit[APP_PERM_MAX];
    if (app_role_reads_audit(app, role) && !strcmp(want, app_audit_perm(app, audit))) return true;
    for (int depth = 0; role && depth < 8; depth++) {
        for (const char *const *p = role->perms; p && *p; p++)
            if (perm_covers(*p, want)) return true;
        role = role->inherits ? app_role(app, role->inherits) : NULL;
    }
    return false;
}

static struct perms *load(struct req *r)
{
    if (r->perms) return r->perms;
    struct db_rows rows;
    size_t cap = 8;
    struct perms *p = xcalloc(1, sizeof *p + cap * sizeof p->a[0]);
    r->perms = p;
    if (!r->user.id || !r->db) return p;
    if (db_query(r->db, &rows,
                 "SELECT 0, app, role, scope_type, scope_id FROM user_roles WHERE user_id = $1 "
                 "UNION ALL SELECT 1, '', permission, effect, 0 FROM user_permissions WHERE user_id = $1",
                 DB_I(r->user.id)) < 0)
        return p;
    while (db_step(&rows)) {
        if (p->n == cap) {
            cap *= 2;
            p = xrealloc(p, sizeof *p + cap * sizeof p->a[0]);
            r->perms = p;
        }
        struct assignment *a = &p->a[p->n];
        memset(a, 0, sizeof *a);
        if (db_col_int(&rows, 0) == 0) {
            a->role = app_role(db_col_text(&rows, 1), db_col_text(&rows, 2));
            if (!a->role) continue;        /* role of a disabled or removed app */
            a->app = app_find(db_col_text(&rows, 1))->name;
            snprintf(a->scope_type, sizeof a->scope_type, "%s", db_col_text(&rows, 3));
            a->scope_id = db_col_int(&rows, 4);
        } else {
            snprintf(a->perm, sizeof a->perm, "%s", db_col_text(&rows, 2));
            a->revoke = !strcmp(db_col_text(&rows, 3), "revoke");
        }
        p->n++;
    }
    db_rows_close(&rows);
    return p;
}

void rbac_release(struct req *r)
{
    free(r->perms);
    r->perms = NULL;
}

static bool scope_matches(const struct assignment *a, const char *scope_type, int64_t scope_id)
{
    if (!a->scope_type[0] || !scope_type) return true;
    return !strcmp(a->scope_type, scope_type) && a->scope_id == scope_id;
}

bool rbac_can(struct req *r, const char *perm, const char *scope_type, int64_t scope_id)
{
    struct perms *p = load(r);
    bool granted = false;
    for (size_t i = 0; i < p->n; i++) {
        const struct assignment *a = &p->a[i];
        if (a->role) {
            if (!granted && scope_matches(a, scope_type, scope_id) && role_grants(a->app, a->role, perm))
                granted = true;
        } else if (perm_covers(a->perm, perm)) {
            if (a->revoke) return false;
            granted = true;
        }
    }
    return granted;
}

/* 403 naming the permission, in the message and as error.permission; a user
 * with no role and no grant at all is told that an administrator must give
 * one (a self-registered account starts that way). */
void rbac_reply_forbidden(struct req *r, const char *perm)
{
    const char *fmt = load(r)->n ? N_("missing permission %s")
                                 : N_("missing permission %s: your account has no role yet; "
                                      "an administrator must grant you one");
    char msg[512];
    snprintf(msg, sizeof msg, tr(r, fmt), perm);
    metrics_count("auth_failures", "forbidden", 1);
    reply_json(r, 403, json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "forbidden", "message", msg,
                                 "permission", perm));
}

int rbac_require(struct req *r, const char *perm, const char *scope_type, int64_t scope_id)
{
    if (rbac_can(r, perm, scope_type, scope_id)) return 0;
    rbac_reply_forbidden(r, perm);
    return -1;
}

int64_t *rbac_scopes(struct req *r, const char *perm, const char *scope_type, bool *global, size_t *n)
{
    struct perms *p = load(r);
    int64_t *ids = pool_alloc(r->pool, (p->n + 1) * sizeof *ids);
    *n = 0;
    *global = false;
    for (size_t i = 0; i < p->n; i++) {
        const struct assignment *a = &p->a[i];
        if (!a->role && perm_covers(a->perm, perm) && a->revoke) {   /* a revoke beats every grant */
            *n = 0;
            *global = false;
            return ids;
        }
        if (!a->role && perm_covers(a->perm, perm)) *global = true;
        if (!a->role || !role_grants(a->app, a->role, perm)) continue;
        if (!a->scope_type[0]) *global = true;
        else if (!strcmp(a->scope_type, scope_type)) ids[(*n)++] = a->scope_id;
    }
    return ids;
}

/* JSON array text of ids ("[7,9]"), in pool memory: bound as one parameter. */
static const char *ids_json(struct req *r, const int64_t *ids, size_t n)
{
    size_t cap = 3 + n * 21;
    char *out = pool_alloc(r->pool, cap), *p = out;
    *p++ = '[';
    for (size_t i = 0; i < n; i++) p += snprintf(p, cap - (size_t)(p - out), "%s%lld", i ? "," : "", (long long)ids[i]);
    *p++ = ']';
    *p = 0;
    return out;
}

void rbac_scope_list_(struct req *r, const char *perm, const char *const *types, struct scope_list *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; types[i] && i < SCOPE_TYPES_MAX; i++) {
        bool global = false;
        size_t n = 0;
        int64_t *ids = rbac_scopes(r, perm, types[i], &global, &n);
        out->global |= global;
        out->ids[i] = ids_json(r, ids, n);
    }
}

void rbac_role_perms(json_t *set, const char *app, const struct role *role)
{
    char audit[APP_PERM_MAX];
    if (app_role_reads_audit(app, role)) json_object_set_new(set, app_audit_perm(app, audit), json_true());
    for (int depth = 0; role && depth < 8; depth++) {
        for (const char *const *p = role->perms; p && *p; p++) json_object_set_new(set, *p, json_true());
        role = role->inherits ? app_role(app, role->inherits) : NULL;
    }
}

json_t *rbac_user_json(struct db *db, int64_t user_id)
{
    json_t *roles = db_json_all(db, "SELECT id, app, role, NULLIF(scope_type, '') AS scope_type, "
                                    "CASE WHEN scope_type = '' THEN NULL ELSE scope_id END AS scope_id "
                                    "FROM user_roles WHERE user_id = $1 ORDER BY id", DB_I(user_id));
    json_t *overrides = db_json_all(db, "SELECT permission, effect FROM user_permissions WHERE user_id = $1 "
                                        "ORDER BY permission", DB_I(user_id));
    if (!roles || !overrides) {
        json_decref(roles);
        json_decref(overrides);
        return NULL;
    }
    json_t *set = json_object(), *v;
    size_t i;
    json_array_foreach(roles, i, v) {
        const char *app = json_string_value(json_object_get(v, "app"));
        rbac_role_perms(set, app, app_role(app, json_string_value(json_object_get(v, "role"))));
    }
    json_array_foreach(overrides, i, v) {
        const char *perm = json_string_value(json_object_get(v, "permission"));
        if (!strcmp(json_string_value(json_object_get(v, "effect")), "grant")) json_object_set_new(set, perm, json_true());
        else json_object_del(set, perm);
    }
    json_t *perms = json_array();
    const char *key;
    json_object_foreach(set, key, v) json_array_append_new(perms, json_string(key));
    json_decref(set);
    return json_pack("{s:o, s:o, s:o}", "roles", roles, "permissions", perms, "overrides", overrides);
}

int rbac_grant_role(struct db *db, struct req *r, int64_t user_id, const char *app, const char *role,
                    const char *scope_type, int64_t scope_id)
{
    const struct role *def = app && role ? app_role(app, role) : NULL;
    const struct app *a = def ? app_find(app) : NULL;
    bool scoped = scope_type && *scope_type;
    if (!def || !a || !db_in_tx(db) || user_id <= 0 || scoped != !!def->scope_type ||
        (scoped && (strcmp(scope_type, def->scope_type) || scope_id <= 0 ||
                    (a->scope_exists && !a->scope_exists(db, scope_type, scope_id))))) {
        log_error("rbac_grant_role(%s.%s): unknown role or scope target, a scope that does not fit, or no "
                  "transaction", app ? app : "?", role ? role : "?");
        return -1;
    }
    if (!scoped) {
        scope_type = "";
        scope_id = 0;
    }
    int64_t id = 0;
    int n = db_int(db, &id, "INSERT INTO user_roles (user_id, app, role, scope_type, scope_id) VALUES ($1, $2, $3, "
                            "$4, $5) ON CONFLICT (user_id, app, role, scope_type, scope_id) DO NOTHING RETURNING id",
                   DB_I(user_id), DB_S(app), DB_S(role), DB_S(scope_type), DB_I(scope_id));
    if (n <= 0) return n;       /* 0: already held */
    return audit_write(db, r, "core", "core.user.role_granted", "user", user_id,
                       json_pack("{s:I, s:s, s:s, s:s?, s:o}", "id", (json_int_t)id, "app", app, "role", role,
                                 "scope_type", scoped ? scope_type : NULL, "scope_id",
                                 scoped ? json_integer(scope_id) : json_null()));
}
