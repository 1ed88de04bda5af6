/* authz.c -- see authz.h. */
#include "harness.h"
#include <stdlib.h>
#include <string.h>

void authz_run(const struct authz_case *cases)
{
    int failures = 0;
    for (const struct authz_case *c = cases; c->method; c++) {
        char *tok = c->as ? test_token(c->as) : NULL;
        const char *body = c->body;
        if (!body && (!strcmp(c->method, "POST") || !strcmp(c->method, "PATCH") || !strcmp(c->method, "PUT")))
            body = "{}";
        struct resp *r = api(c->method, c->path, tok, body);
        if (r->status != c->expect) {
            cr_log_error("authz: %s %s as %s -> %d, expected %d (%s)", c->method, c->path,
                         c->as ? c->as : "anonymous", r->status, c->expect, r->body);
            failures++;
        }
        resp_free(r);
        free(tok);
    }
    cr_assert_eq(failures, 0, "%d authorization case(s) failed", failures);
}

/* One path segment against one pattern segment: a literal, "{name}" (any
 * non-empty segment) or "{name:int}" (digits), as the router reads them. */
static bool segment_fits(const char *pat, size_t plen, const char *seg, size_t slen)
{
    if (plen < 2 || pat[0] != '{') return plen == slen && !memcmp(pat, seg, plen);
    if (!slen) return false;
    if (plen > 5 && !memcmp(pat + plen - 5, ":int}", 5))
        for (size_t i = 0; i < slen; i++)
            if (seg[i] < '0' || seg[i] > '9') return false;
    return true;
}

/* Does the row's path (query ignored) fit the route pattern? */
static bool path_fits(const char *pattern, const char *path)
{
    size_t left = strcspn(path, "?");
    while (*pattern == '/' && left && *path == '/') {
        pattern++, path++, left--;
        size_t plen = strcspn(pattern, "/"), slen = strcspn(path, "/?");
        if (!segment_fits(pattern, plen, path, slen)) return false;
        pattern += plen, path += slen, left -= slen;
    }
    return !*pattern && !left;
}

/* The caller a row stands for (see struct authz_gap); "" when the user holds
 * several roles of the app, since such a row shows no single role's answer. */
static void caller_of(const char *app, const struct authz_case *c, char *out, size_t n)
{
    if (!c->as) {
        snprintf(out, n, "anonymous");
        return;
    }
    cr_assert_gt(test_user_id(c->as), 0, "authz row as unknown user %s", c->as);
    int64_t roles = 0;
    db_int(test_db(), &roles, "SELECT COUNT(*) FROM user_roles ur JOIN users u ON u.id = ur.user_id "
                              "WHERE u.username = $1 AND ur.app = $2", DB_S(c->as), DB_S(app));
    if (roles != 1) {
        snprintf(out, n, "%s", roles ? "" : "no role");
        return;
    }
    char *role = db_text(test_db(), "SELECT ur.role FROM user_roles ur JOIN users u ON u.id = ur.user_id "
                                    "WHERE u.username = $1 AND ur.app = $2", DB_S(c->as), DB_S(app));
    const struct role *def = role ? app_role(app, role) : NULL;
    if (def && def->scope_type) snprintf(out, n, "%s %s", role, c->out ? "out of scope" : "in scope");
    else snprintf(out, n, "%s", role ? role : "");
    free(role);
}

struct cell {
    const struct route *route;
    char caller[96];
};

static bool filled(const struct cell *cells, size_t n, const struct route *route, const char *caller)
{
    for (size_t i = 0; i < n; i++)
        if (cells[i].route == route && !strcmp(cells[i].caller, caller)) return true;
    return false;
}

static void need(struct authz_gap **gaps, size_t *ngaps, const struct cell *cells, size_t ncells,
                 const struct route *route, const char *caller)
{
    if (filled(cells, ncells, route, caller)) return;
    *gaps = xrealloc(*gaps, (*ngaps + 1) * sizeof **gaps);
    (*gaps)[*ngaps].route = route;
    snprintf((*gaps)[*ngaps].caller, sizeof (*gaps)[*ngaps].caller, "%s", caller);
    (*ngaps)++;
}

size_t authz_gaps(const char *app, const struct authz_case *const *matrices, struct authz_gap **gaps)
{
    const struct app *a = app_find(app);
    cr_assert(a && a->routes, "no app %s with routes", app);
    size_t ncells = 0, ngaps = 0;
    struct cell *cells = NULL;
    *gaps = NULL;
    for (const struct authz_case *const *m = matrices; *m; m++)
        for (const struct authz_case *c = *m; c->method; c++)
            for (const struct route *rt = a->routes; rt->method; rt++) {
                if (strcmp(rt->method, c->method) || !path_fits(rt->pattern, c->path)) continue;
                cells = xrealloc(cells, (ncells + 1) * sizeof *cells);
                cells[ncells].route = rt;
                caller_of(app, c, cells[ncells].caller, sizeof cells[ncells].caller);
                ncells++;
                break;      /* the first route that fits is the one the router picks */
            }
    for (const struct route *rt = a->routes; rt->method; rt++) {
        need(gaps, &ngaps, cells, ncells, rt, "anonymous");
        need(gaps, &ngaps, cells, ncells, rt, "no role");
        for (const struct role *role = a->roles; role && role->name; role++) {
            char caller[96];
            if (!role->scope_type) {
                need(gaps, &ngaps, cells, ncells, rt, role->name);
                continue;
            }
            snprintf(caller, sizeof caller, "%s in scope", role->name);
            need(gaps, &ngaps, cells, ncells, rt, caller);
            snprintf(caller, sizeof caller, "%s out of scope", role->name);
            need(gaps, &ngaps, cells, ncells, rt, caller);
        }
    }
    free(cells);
    return ngaps;
}

void authz_complete(const char *app, const struct authz_case *const *matrices)
{
    struct authz_gap *gaps;
    size_t n = authz_gaps(app, matrices, &gaps);
    for (size_t i = 0; i < n; i++)
        cr_log_error("authz matrix of %s: no row for %s %s as %s", app, gaps[i].route->method, gaps[i].route->pattern,
                     gaps[i].caller);
    free(gaps);
    cr_assert_eq(n, 0, "the %s authorization matrix misses %zu route/caller cell(s)", app, n);
}

void grants_run(const char *as, int64_t user_id, const struct grant_case *cases)
{
    char *tok = test_token(as);
    for (const struct grant_case *c = cases; c->body; c++) {
        char path[96];
        snprintf(path, sizeof path, "/api/v1/admin/users/%lld/%s", (long long)user_id,
                 c->kind == GRANT_ROLE ? "roles" : "permissions");
        struct resp *r = api("POST", path, tok, c->body);
        cr_expect_eq(r->status, c->status, "%s -> %d: %s", c->body, r->status, r->body);
        resp_free(r);
    }
    free(tok);
}

void audit_app_reader_check(const char *app, const char *action, const char *admin, const char *other)
{
    char path[96], perm[96];
    snprintf(path, sizeof path, "/api/v1/audit?app=%s", app);
    snprintf(perm, sizeof perm, "%s.audit.read", app);
    test_audit_row(app, action, "thing", 1);
    test_audit_row("core", "core.user.created", "user", 1);
    struct resp *r = api_get(path, admin);
    resp_expect(r, 200, NULL);
    cr_assert_eq(jint(r->json, "total"), 1, "%s", r->body);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(r->json, "items"), 0), "action"), action);
    resp_free(r);
    r = api_get("/api/v1/audit", admin);
    resp_expect(r, 403, "forbidden");
    cr_assert_str_eq(resp_error_str(r, "permission"), "core.audit.read");
    resp_free(r);
    r = api_get(path, other);                   /* another role of the app is not its admin */
    resp_expect(r, 403, "forbidden");
    cr_assert_str_eq(resp_error_str(r, "permission"), perm);
    resp_free(r);
}
