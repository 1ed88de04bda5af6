/* roles.c -- what the role tables mean, for people and for grant checks:
 * GET /api/v1/admin/roles (every enabled app's roles, scope types,
 * inheritance and permissions) and the permissions an app knows (those its
 * roles list, its routes need or it declares grant-only, and
 * <app>.audit.read, which the core
 * gives every app), the only ones a per-user grant or revoke may name. Roles
 * live in code (app.h); this only reads the tables. */
#include "atrium.h"
#include "internal.h"
#include <stdlib.h>
#include <string.h>

static bool real_perm(const char *p)
{
    return p && strcmp(p, PERM_USER) && !strchr(p, '*');
}

/* The permissions `a` knows, as the keys of a JSON object. */
static json_t *known_perms(const struct app *a)
{
    json_t *set = json_object();
    size_t n = strlen(a->name);
    char audit[APP_PERM_MAX];
    for (const struct role *role = a->roles; role && role->name; role++)
        for (const char *const *p = role->perms; p && *p; p++)
            if (real_perm(*p)) json_object_set_new(set, *p, json_true());
    for (const char *const *p = a->grant_only_perms; p && *p; p++) json_object_set_new(set, *p, json_true());
    for (const struct route *rt = a->routes; rt && rt->method; rt++)
        if (real_perm(rt->perm) && !strncmp(rt->perm, a->name, n) && rt->perm[n] == '.')
            json_object_set_new(set, rt->perm, json_true());
    json_object_set_new(set, app_audit_perm(a->name, audit), json_true());
    return set;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of set as a sorted JSON array; steals set. */
static json_t *sorted_keys(json_t *set)
{
    const char **keys = xcalloc(json_object_size(set) + 1, sizeof *keys);
    size_t n = 0;
    const char *k;
    json_t *v, *out = json_array();
    json_object_foreach(set, k, v) keys[n++] = k;
    qsort(keys, n, sizeof *keys, cmp_str);
    for (size_t i = 0; i < n; i++) json_array_append_new(out, json_string(keys[i]));
    free(keys);
    json_decref(set);
    return out;
}

bool roles_perm_known(const char *perm)
{
    char app[64];
    size_t n = strcspn(perm, ".");
    if (!perm[n] || n >= sizeof app) return false;
    snprintf(app, sizeof app, "%.*s", (int)n, perm);
    const struct app *a = app_find(app);
    if (!a || !config_app_enabled(app)) return false;
    if (!strcmp(perm + n, ".*")) return true;
    json_t *set = known_perms(a);
    bool known = json_object_get(set, perm) != NULL;
    size_t len = strlen(perm);
    if (!known && len > 2 && !strcmp(perm + len - 2, ".*")) {     /* a prefix must cover a known one */
        const char *k;
        json_t *v;
        json_object_foreach(set, k, v)
            if (!strncmp(k, perm, len - 1)) known = true;
    }
    json_decref(set);
    return known;
}

static json_t *role_json(const struct app *a, const struct role *role)
{
    json_t *own = json_object(), *all = json_object();
    for (const char *const *p = role->perms; p && *p; p++) json_object_set_new(own, *p, json_true());
    rbac_role_perms(all, a->name, role);
    return json_pack("{s:s, s:s?, s:s?, s:o, s:o}", "name", role->name, "inherits", role->inherits, "scope_type",
                     role->scope_type, "permissions", sorted_keys(own), "effective_permissions", sorted_keys(all));
}

static json_t *app_json(const struct app *a)
{
    json_t *roles = json_array(), *types = json_object();
    for (const struct role *role = a->roles; role && role->name; role++) {
        json_array_append_new(roles, role_json(a, role));
        if (role->scope_type) json_object_set_new(types, role->scope_type, json_true());
    }
    return json_pack("{s:s, s:o, s:o, s:o}", "name", a->name, "scope_types", sorted_keys(types), "permissions",
                     sorted_keys(known_perms(a)), "roles", roles);
}

/* GET /api/v1/admin/roles: {"apps": [{name, scope_types, permissions, roles: [...]}]} */
void admin_roles_list(struct req *r)
{
    json_t *apps = json_array();
    const struct app *test;
    for (const struct app *const *a = atrium_apps; *a; a++)
        if (config_app_enabled((*a)->name)) json_array_append_new(apps, app_json(*a));
    for (size_t i = 0; (test = app_test(i)); i++)       /* none outside tests */
        if (config_app_enabled(test->name)) json_array_append_new(apps, app_json(test));
    reply_json(r, 200, json_pack("{s:o}", "apps", apps));
}
