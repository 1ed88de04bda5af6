/* admin.c -- user and access administration: list, create, read and change
 * users (disable, reset password), assign and remove roles, per-user grants
 * and revokes.
 *
 * The route table (core.c) already checked core.users.* / core.roles.manage;
 * these handlers validate everything else. An administrator cannot lock
 * themselves out: disabling their own account, removing their own core admin
 * role or revoking their own user/role management answers 409. */
#include "atrium.h"
#include "internal.h"
#include <stdlib.h>
#include <string.h>

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

static bool user_exists(struct req *r, int64_t id)
{
    int64_t n = 0;
    if (db_int(r->db, &n, "SELECT COUNT(*) FROM users WHERE id = $1", DB_I(id)) == 1 && n) return true;
    reply_not_found(r);
    return false;
}

/* message: a N_()-marked English text, translated here; whole sentences, not
 * a verb spliced into one, so each language can order its own words. */
static void lockout(struct req *r, const char *message)
{
    reply_error(r, 409, "cannot_lock_out_self", "%s", tr(r, message));
}

/* Commit after the audit row, or roll back and answer 500; steals summary. */
static int commit_audited(struct req *r, const char *action, int64_t user_id, json_t *summary)
{
    if (audit_write(r->db, r, "core", action, "user", user_id, summary) < 0 || db_commit(r->db) < 0) {
        db_rollback(r->db);
        reply_db_error(r);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- users */

void admin_users_list(struct req *r)
{
    struct page pg;
    if (req_page(r, &pg) < 0) return;
    const char *status = req_query(r, "status"), *q = req_query(r, "q");
    if (status && strcmp(status, "active") && strcmp(status, "disabled")) {
        reply_invalid(r, "status", "must be \"active\" or \"disabled\"");
        return;
    }
    if (q && !*q) q = NULL;
#define USERS_WHERE "WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) AND (CAST($2 AS TEXT) IS NULL OR instr(lower(username), lower($2)) > 0 " \
                    "OR instr(lower(COALESCE(email, '')), lower($2)) > 0) "
    reply_page(r, &pg, "SELECT COUNT(*) FROM users " USERS_WHERE,
               "SELECT " AUTH_USER_COLUMNS " FROM users " USERS_WHERE
               "ORDER BY id LIMIT $3 OFFSET $4",
               DB_S(status), DB_S(q));
}

void admin_users_create(struct req *r)
{
    auth_register_user(r, "core.user.created");
}

void admin_users_get(struct req *r)
{
    json_t *user = auth_user_json(r->db, r->param_int[0], true);
    if (!user) reply_not_found(r);
    else reply_json(r, 200, user);
}

struct patch {
    const char *status, *password, *display_name, *email, *language;
    char hash[128];
};

/* Everything that needs no transaction: values, policy, the password hash. */
static int patch_check(struct req *r, int64_t id, struct patch *p)
{
    const char *problem = NULL;
    if (p->status && strcmp(p->status, "active") && strcmp(p->status, "disabled")) {
        reply_invalid(r, "status", "must be \"active\" or \"disabled\"");
        return -1;
    }
    if (p->language && strcmp(p->language, "en") && strcmp(p->language, "es")) {
        reply_invalid(r, "language", "must be \"en\" or \"es\"");
        return -1;
    }
    if (p->status && !strcmp(p->status, "disabled") && id == r->user.id) {
        lockout(r, N_("you cannot disable yourself"));
        return -1;
    }
    if ((problem = auth_user_problem(NULL, NULL, p->email && *p->email ? p->email : NULL, p->display_name))) {
        auth_reply_user_problem(r, problem);
        return -1;
    }
    if (!p->password) return 0;
    char *username = db_text(r->db, "SELECT username FROM users WHERE id = $1", DB_I(id));
    char *email = p->email ? NULL : db_text(r->db, "SELECT email FROM users WHERE id = $1", DB_I(id));
    problem = auth_password_problem(p->password, username, p->email ? p->email : email);
    free(username);
    free(email);
    if (problem) {
        auth_reply_user_problem(r, problem);
        return -1;
    }
    if (auth_hash_password(p->password, p->hash) < 0) {
        reply_db_error(r);
        return -1;
    }
    return 0;
}

/* PATCH {status?, password?, display_name?, email?, language?}; an email of
 * "" removes it. Disabling or a password reset ends every session. */
void admin_users_patch(struct req *r)
{
    int64_t id = r->param_int[0], taken = 0;
    struct patch p = {0};
    if (req_unpack(r, "{s?s, s?s, s?s, s?s, s?s}", "status", &p.status, "password", &p.password, "display_name",
                   &p.display_name, "email", &p.email, "language", &p.language) < 0 ||
        !user_exists(r, id) || patch_check(r, id, &p) < 0)
        return;
    if (db_begin(r->db) < 0) {
        reply_db_error(r);
        return;
    }
    if (p.email && *p.email &&
        (db_int(r->db, &taken, "SELECT COUNT(*) FROM users WHERE email = $1 AND id <> $2", DB_S(p.email), DB_I(id)) != 1 ||
         taken)) {
        db_rollback(r->db);
        auth_reply_user_problem(r, taken ? "email_taken" : NULL);
        return;
    }
    json_t *changed = json_array(), *summary = json_pack("{s:o}", "changed", changed), *user = NULL;
    const char *fields[] = {"status", "password", "display_name", "email", "language"};
    const char *values[] = {p.status, p.password, p.display_name, p.email, p.language};
    for (size_t i = 0; i < 5; i++)
        if (values[i]) json_array_append_new(changed, json_string(fields[i]));
    if (p.status) json_object_set_new(summary, "status", json_string(p.status));
    bool revoke = (p.status && !strcmp(p.status, "disabled")) || p.password;
    if (!json_array_size(changed)) {        /* nothing to change: answer the user as it is */
        db_rollback(r->db);
        json_decref(summary);
        admin_users_get(r);
        return;
    }
    if (db_exec(r->db, "UPDATE users SET status = COALESCE($2, status), password_hash = COALESCE($3, password_hash), "
                       "display_name = COALESCE($4, display_name), "
                       "email = CASE WHEN CAST($5 AS TEXT) IS NULL THEN email WHEN $5 = '' THEN NULL ELSE $5 END, "
                       "language = COALESCE($6, language), updated_at = " NOW_SQL " WHERE id = $1",
                DB_I(id), DB_S(p.status), DB_S(p.password ? p.hash : NULL), DB_S(p.display_name), DB_S(p.email),
                DB_S(p.language)) != 1 ||
        (revoke && session_revoke_user(r->db, id, p.password ? "password_reset" : "disabled") < 0) ||
        !(user = auth_user_json(r->db, id, true))) {
        bool taken_now = db_constraint_failed(r->db);
        db_rollback(r->db);
        json_decref(summary);
        auth_reply_user_problem(r, taken_now ? "email_taken" : NULL);
        return;
    }
    if (commit_audited(r, "core.user.updated", id, summary) < 0) json_decref(user);
    else reply_json(r, 200, user);
}

/* ------------------------------------------------------------- roles */

/* A role's scope: none for a global role, (role->scope_type, id) of an
 * existing target for a scoped one (the app's scope_exists says; 404 if not). */
static int role_scope(struct req *r, const struct app *app, const struct role *role, json_t *type, json_t *id,
                      const char **scope_type, int64_t *scope_id)
{
    bool has_type = type && !json_is_null(type), has_id = id && !json_is_null(id);
    *scope_type = "";
    *scope_id = 0;
    if ((has_type && !json_is_string(type)) || (has_id && !json_is_integer(id))) {
        reply_invalid(r, has_type && !json_is_string(type) ? "scope_type" : "scope_id", "has the wrong type");
        return -1;
    }
    if (!has_type && !has_id && !role->scope_type) return 0;
    if (!role->scope_type) {
        reply_invalid(r, "scope_type", "this role is global only; give no scope");
        return -1;
    }
    if (!has_type || strcmp(json_string_value(type), role->scope_type)) {
        reply_invalidf(r, "scope_type", "must be \"%s\" for this role", role->scope_type);
        return -1;
    }
    if (!has_id || json_integer_value(id) <= 0) {
        reply_invalid(r, "scope_id", "must be a positive integer");
        return -1;
    }
    *scope_type = role->scope_type;
    *scope_id = json_integer_value(id);
    if (app->scope_exists && !app->scope_exists(r->db, *scope_type, *scope_id)) {
        reply_error(r, 404, "not_found", "%s %lld does not exist", *scope_type, (long long)*scope_id);
        return -1;
    }
    return 0;
}

void admin_roles_add(struct req *r)
{
    int64_t user_id = r->param_int[0], scope_id, dup = 0, role_id = 0;
    const char *app, *role_name, *scope_type;
    json_t *type = NULL, *id = NULL;
    const struct role *role;
    const struct app *a;
    if (req_unpack(r, "{s:s, s:s, s?o, s?o}", "app", &app, "role", &role_name, "scope_type", &type, "scope_id", &id) < 0)
        return;
    if (!(a = app_find(app)) || !config_app_enabled(app)) {
        reply_invalid(r, "app", "is not a known app");
        return;
    }
    if (!(role = app_role(app, role_name))) {
        reply_invalid(r, "role", "is not a role of this app");
        return;
    }
    if (role_scope(r, a, role, type, id, &scope_type, &scope_id) < 0 || !user_exists(r, user_id)) return;
    if (db_begin(r->db) < 0) {
        reply_db_error(r);
        return;
    }
    if (db_int(r->db, &dup, "SELECT COUNT(*) FROM user_roles WHERE user_id = $1 AND app = $2 AND role = $3 "
                            "AND scope_type = $4 AND scope_id = $5",
               DB_I(user_id), DB_S(app), DB_S(role_name), DB_S(scope_type), DB_I(scope_id)) != 1 || dup ||
        db_int(r->db, &role_id, "INSERT INTO user_roles (user_id, app, role, scope_type, scope_id) "
                                "VALUES ($1, $2, $3, $4, $5) RETURNING id",
               DB_I(user_id), DB_S(app), DB_S(role_name), DB_S(scope_type), DB_I(scope_id)) != 1) {
        bool exists = dup || db_constraint_failed(r->db);
        db_rollback(r->db);
        if (exists) reply_error(r, 409, "role_exists", "the user already has this role");
        else reply_db_error(r);
        return;
    }
    json_t *out = json_pack("{s:I, s:s, s:s, s:s?, s:o}", "id", (json_int_t)role_id, "app", app, "role",
                            role_name, "scope_type", *scope_type ? scope_type : NULL, "scope_id",
                            *scope_type ? json_integer(scope_id) : json_null());
    if (commit_audited(r, "core.user.role_granted", user_id, json_deep_copy(out)) < 0) json_decref(out);
    else reply_json(r, 201, out);
}

void admin_roles_remove(struct req *r)
{
    int64_t user_id = r->param_int[0], role_id = r->param_int[1], admins = 0;
    if (db_begin(r->db) < 0) {
        reply_db_error(r);
        return;
    }
    json_t *row = db_json_one(r->db, "SELECT id, app, role, NULLIF(scope_type, '') AS scope_type, "
                                     "CASE WHEN scope_type = '' THEN NULL ELSE scope_id END AS scope_id "
                                     "FROM user_roles WHERE id = $1 AND user_id = $2", DB_I(role_id), DB_I(user_id));
    if (!row) {
        db_rollback(r->db);
        reply_not_found(r);
        return;
    }
    bool core_admin = !strcmp(json_string_value(json_object_get(row, "app")), "core") &&
                      !strcmp(json_string_value(json_object_get(row, "role")), "admin");
    if (core_admin && user_id == r->user.id &&
        db_int(r->db, &admins, "SELECT COUNT(*) FROM user_roles WHERE user_id = $1 AND app = 'core' "
                               "AND role = 'admin'", DB_I(user_id)) == 1 && admins <= 1) {
        db_rollback(r->db);
        json_decref(row);
        lockout(r, N_("you cannot remove the last core admin role from yourself"));
        return;
    }
    if (db_exec(r->db, "DELETE FROM user_roles WHERE id = $1", DB_I(role_id)) != 1) {
        db_rollback(r->db);
        json_decref(row);
        reply_db_error(r);
        return;
    }
    if (commit_audited(r, "core.user.role_removed", user_id, json_deep_copy(row)) < 0) json_decref(row);
    else reply_json(r, 200, json_pack("{s:s, s:o}", "status", "removed", "role", row));
}

/* -------------------------------------------------------- permissions */

/* Would revoking perm take away what the caller needs to undo it? */
static bool revokes_admin(const char *perm)
{
    static const char *const needed[] = {"core.users.manage", "core.roles.manage", NULL};
    size_t n = strlen(perm);
    for (const char *const *w = needed; *w; w++)
        if (perm[n - 1] == '*' ? !strncmp(perm, *w, n - 1) : !strcmp(perm, *w)) return true;
    return false;
}

void admin_permissions_set(struct req *r)
{
    int64_t user_id = r->param_int[0];
    const char *perm, *effect;
    if (req_unpack(r, "{s:s, s:s}", "permission", &perm, "effect", &effect) < 0) return;
    if (!roles_perm_known(perm)) {
        reply_invalid(r, "permission", "is not a permission of an enabled app (GET /api/v1/admin/roles lists them)");
        return;
    }
    if (strcmp(effect, "grant") && strcmp(effect, "revoke")) {
        reply_invalid(r, "effect", "must be \"grant\" or \"revoke\"");
        return;
    }
    if (!user_exists(r, user_id)) return;
    if (user_id == r->user.id && !strcmp(effect, "revoke") && revokes_admin(perm)) {
        lockout(r, N_("you cannot revoke user or role management from yourself"));
        return;
    }
    if (db_begin(r->db) < 0) {
        reply_db_error(r);
        return;
    }
    if (db_exec(r->db, "INSERT INTO user_permissions (user_id, permission, effect) VALUES ($1, $2, $3) "
                       "ON CONFLICT (user_id, permission) DO UPDATE SET effect = excluded.effect, created_at = " NOW_SQL,
                DB_I(user_id), DB_S(perm), DB_S(effect)) != 1) {
        db_rollback(r->db);
        reply_db_error(r);
        return;
    }
    if (commit_audited(r, "core.user.permission_set", user_id, json_pack("{s:s, s:s}", "permission", perm, "effect", effect)) == 0)
        reply_json(r, 200, json_pack("{s:I, s:s, s:s}", "user_id", (json_int_t)user_id, "permission", perm,
                                     "effect", effect));
}
