/* The API contract: /api/v1/openapi.json holds exactly the registered routes
 * with their permission, security, typed path parameters and query names;
 * unknown query parameters are refused before the handler; each app's
 * api.json describes exactly its route table; /api/docs serves ReDoc. */
#include "support/harness.h"
#include "openapi.h"
#include <string.h>

static const char *perm_label(const struct route *rt)
{
    return rt->perm == PERM_PUBLIC ? "public" : !strcmp(rt->perm, PERM_USER) ? "user" : rt->perm;
}

/* "/a/{id:int}" -> "/a/{}": paths compared up to parameter names. */
static char *shape_of(const char *path)
{
    char *out = xstrdup(path), *o = out;
    for (const char *s = path; *s; s++) {
        *o++ = *s;
        if (*s == '{') s += strcspn(s, "}") - 1;
    }
    *o = 0;
    return out;
}

static json_t *fetch_doc(void)
{
    struct resp *r = api("GET", "/api/v1/openapi.json", NULL, NULL);
    cr_assert_eq(r->status, 200, "openapi.json: %d %s", r->status, r->body);
    cr_assert_str_eq(resp_header(r, "Content-Type"), "application/json; charset=utf-8");
    json_t *doc = json_incref(r->json);
    resp_free(r);
    cr_assert(json_is_object(doc));
    return doc;
}

/* The operation of doc for rt, found by path shape and method; NULL if none. */
static json_t *op_of(json_t *doc, const struct route *rt, json_t **item_out)
{
    char *want = shape_of(rt->pattern), method[16];
    size_t m = 0;
    for (; rt->method[m] && m + 1 < sizeof method; m++) method[m] = (char)(rt->method[m] | 0x20);
    method[m] = 0;
    const char *path;
    json_t *item = NULL, *op = NULL;
    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        char *have = shape_of(path);
        if (!strcmp(have, want)) op = json_object_get(item, method);
        free(have);
        if (op) break;
    }
    free(want);
    if (item_out) *item_out = item;
    return op;
}

static size_t count_ops(json_t *doc)
{
    const char *path, *method;
    json_t *item, *op;
    size_t n = 0;
    json_object_foreach(json_object_get(doc, "paths"), path, item) json_object_foreach(item, method, op) n++;
    return n;
}

static bool listed(const char *list, const char *name, size_t len)
{
    for (const char *p = list; p && *p;) {
        size_t l = strcspn(p, ",");
        if (l == len && !strncmp(p, name, len)) return true;
        p += l + (p[l] == ',');
    }
    return false;
}

Test(openapi, document_is_the_route_table)
{
    srv_start();
    json_t *doc = fetch_doc();
    cr_expect_str_eq(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(doc, "info"), "version")), ATRIUM_VERSION);
    size_t n;
    const struct route *routes = http_routes(&n);
    cr_expect_eq(count_ops(doc), n, "the document has %zu operations, the route table %zu", count_ops(doc), n);
    json_t *ids = json_object();
    for (size_t i = 0; i < n; i++) {
        const struct route *rt = &routes[i];
        json_t *op = op_of(doc, rt, NULL);
        cr_expect(op, "%s %s is missing from the document", rt->method, rt->pattern);
        if (!op) continue;
        const char *id = json_string_value(json_object_get(op, "operationId"));
        cr_expect(id && !json_object_get(ids, id), "%s %s: operationId %s missing or repeated", rt->method, rt->pattern, id);
        if (id) json_object_set_new(ids, id, json_true());
        cr_expect(json_is_string(json_object_get(op, "summary")), "%s %s has no summary", rt->method, rt->pattern);
        cr_expect_str_eq(json_string_value(json_object_get(op, "x-permission")), perm_label(rt), "%s %s", rt->method,
                         rt->pattern);
        json_t *sec = json_object_get(op, "security");
        if (rt->perm == PERM_PUBLIC) cr_expect(json_is_array(sec) && !json_array_size(sec), "%s: public, security []", rt->pattern);
        else cr_expect(json_is_array(json_object_get(json_array_get(sec, 0), "bearer")), "%s: bearer", rt->pattern);
        cr_expect(json_is_object(json_object_get(json_object_get(op, "responses"), "500")), "%s: 500", rt->pattern);
        if (rt->flags & ROUTE_IDEMPOTENT) cr_expect(json_is_true(json_object_get(op, "x-idempotent")), "%s", rt->pattern);

        /* path parameters in order, typed by the pattern; query names exactly .query */
        const char *s = strchr(rt->pattern, '{');
        size_t k, nquery = 0;
        json_t *p;
        json_array_foreach(json_object_get(op, "parameters"), k, p) {
            const char *in = json_string_value(json_object_get(p, "in"));
            const char *name = json_string_value(json_object_get(p, "name"));
            json_t *schema = json_object_get(p, "schema");
            const char *type = json_string_value(json_object_get(schema, "type"));
            if (!strcmp(in, "query")) {
                nquery++;
                cr_expect(listed(rt->query, name, strlen(name)), "%s: query %s is not in .query", rt->pattern, name);
            } else if (!strcmp(in, "path")) {
                cr_expect(s, "%s: path parameter %s beyond the pattern's", rt->pattern, name);
                if (!s) continue;
                const char *colon = strchr(s, ':'), *end = strchr(s, '}');
                bool is_int = colon && colon < end && !strncmp(colon, ":int}", 5);
                bool is_uuid = colon && colon < end && !strncmp(colon, ":uuid}", 6);
                cr_expect(json_is_true(json_object_get(p, "required")), "%s: %s required", rt->pattern, name);
                if (is_int) {
                    cr_expect_str_eq(type, "integer", "%s: %s", rt->pattern, name);
                    cr_expect_eq(json_integer_value(json_object_get(schema, "minimum")), 1, "%s: %s", rt->pattern, name);
                } else {
                    cr_expect_str_eq(type, "string", "%s: %s", rt->pattern, name);
                    cr_expect_eq(is_uuid, json_is_string(json_object_get(schema, "format")), "%s: %s", rt->pattern, name);
                }
                s = strchr(end, '{');
            }
        }
        cr_expect_null(s, "%s: a path parameter is not in the document", rt->pattern);
        size_t listed_n = 0;
        for (const char *q = rt->query; q && *q; q += strcspn(q, ",") + (q[strcspn(q, ",")] == ',')) listed_n++;
        cr_expect_eq(nquery, listed_n, "%s %s: %zu query parameters published, %zu in .query", rt->method, rt->pattern,
                     nquery, listed_n);
    }
    json_decref(ids);
    json_decref(doc);
    srv_stop();
}

Test(openapi, tags_and_components)
{
    srv_start();
    json_t *doc = fetch_doc();
    json_t *tags = json_object_get(doc, "tags"), *t;
    size_t i;
    bool core = false;
    json_array_foreach(tags, i, t) {
        core = core || !strcmp(json_string_value(json_object_get(t, "name")), "core");
        cr_expect(json_is_string(json_object_get(t, "description")));
    }
    cr_expect(core, "the core has a tag");
    json_t *comp = json_object_get(doc, "components");
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(comp, "securitySchemes"), "bearer"),
                                                       "scheme")), "bearer");
    cr_expect(json_is_object(json_object_get(json_object_get(comp, "schemas"), "Error")));
    json_decref(doc);
    srv_stop();
}

Test(openapi, disabled_app_is_absent)
{
    setenv("ATRIUM_APPS", "core", 1);
    srv_start();
    json_t *doc = fetch_doc();
    size_t ncore = 0;
    for (const struct route *rt = atrium_apps[0]->routes; rt->method; rt++) {
        cr_expect(op_of(doc, rt, NULL), "core route %s is published", rt->pattern);
        ncore++;
    }
    cr_expect_eq(count_ops(doc), ncore, "only the core's %zu routes, got %zu", ncore, count_ops(doc));
    for (const struct app *const *a = atrium_apps + 1; *a; a++) {
        for (const struct route *rt = (*a)->routes; rt && rt->method; rt++)
            cr_expect_null(op_of(doc, rt, NULL), "disabled %s: %s %s published", (*a)->name, rt->method, rt->pattern);
        json_t *t;
        size_t i;
        json_array_foreach(json_object_get(doc, "tags"), i, t)
            cr_expect_str_neq(json_string_value(json_object_get(t, "name")), (*a)->name);
    }
    json_decref(doc);
    srv_stop();
}

/* Every "$ref" under node names a schema of the app's own api.json or the core's. */
static void refs_resolve(const char *file, json_t *node, json_t *own, json_t *core)
{
    const char *key, *prefix = "#/components/schemas/";
    json_t *v;
    size_t i;
    if (json_is_array(node)) json_array_foreach(node, i, v) refs_resolve(file, v, own, core);
    if (!json_is_object(node)) return;
    json_object_foreach(node, key, v) {
        if (strcmp(key, "$ref")) {
            refs_resolve(file, v, own, core);
            continue;
        }
        const char *ref = json_string_value(v);
        cr_assert(ref && !strncmp(ref, prefix, strlen(prefix)), "%s: bad $ref %s", file, ref ? ref : "(not text)");
        ref += strlen(prefix);
        cr_expect(json_object_get(own, ref) || json_object_get(core, ref), "%s: $ref %s names no schema", file, ref);
    }
}

static json_t *load_api_json(const char *path)
{
    const struct embedded_file *f = path ? embed_find(path) : NULL;
    json_error_t err;
    json_t *doc = f ? json_loadb((const char *)f->data, (size_t)f->len, JSON_REJECT_DUPLICATES, &err) : NULL;
    cr_assert(!f || doc, "%s:%d: %s", path, err.line, err.text);
    return doc;
}

/* api.json and the route table agree both ways, for every app that has one;
 * its schemas carry the app's prefix (the core's none), its $refs resolve and
 * its tag is the app. */
Test(openapi, api_json_describes_exactly_the_route_table)
{
    json_t *core = load_api_json("src/core/api.json");
    cr_assert(core, "the core has its api.json");
    json_t *core_schemas = json_object_get(core, "schemas");
    for (const struct app *const *a = atrium_apps; *a; a++) {
        json_t *doc = load_api_json((*a)->api_doc);
        if (!doc) continue;
        json_t *routes = json_object_get(doc, "routes"), *schemas = json_object_get(doc, "schemas");
        bool is_core = !strcmp((*a)->name, "core");
        size_t plen = strlen((*a)->name);
        const char *name;
        json_t *sv;
        json_object_foreach(schemas, name, sv)
            cr_expect(is_core ? !strchr(name, '.') : !strncmp(name, (*a)->name, plen) && name[plen] == '.',
                      "%s: schema %s is not named for %s", (*a)->api_doc, name, (*a)->name);
        refs_resolve((*a)->api_doc, doc, schemas, core_schemas);
        if (!is_core)
            cr_expect_str_eq(json_string_value(json_object_get(json_object_get(doc, "tag"), "name")), (*a)->name);
        size_t nroutes = 0;
        for (const struct route *rt = (*a)->routes; rt && rt->method; rt++, nroutes++) {
            char key[512];
            snprintf(key, sizeof key, "%s %s", rt->method, rt->pattern);
            json_t *e = json_object_get(routes, key), *v;
            cr_expect(e, "%s: no entry for \"%s\"", (*a)->api_doc, key);
            if (!e) continue;
            cr_expect(json_is_string(json_object_get(e, "summary")), "%s: \"%s\" has no summary", (*a)->api_doc, key);
            const char *status, *q;
            bool success = false;
            json_object_foreach(json_object_get(e, "responses"), status, v)
                success = success || status[0] == '2' || (!strcmp(status, "101") && (rt->flags & ROUTE_STREAM));
            cr_expect(success, "%s: \"%s\" has no success answer", (*a)->api_doc, key);
            json_object_foreach(json_object_get(e, "query"), q, v)
                cr_expect(listed(rt->query, q, strlen(q)), "%s: \"%s\" describes query %s, not in .query", (*a)->api_doc, key, q);
            if (listed(rt->query, "page", 4))
                cr_expect(listed(rt->query, "page_size", 9), "\"%s\": page without page_size", key);
        }
        const char *key;
        json_t *e;
        json_object_foreach(routes, key, e) {
            bool found = false;
            for (const struct route *rt = (*a)->routes; rt && rt->method && !found; rt++) {
                size_t m = strlen(rt->method);
                found = !strncmp(key, rt->method, m) && key[m] == ' ' && !strcmp(key + m + 1, rt->pattern);
            }
            cr_expect(found, "%s: \"%s\" is not a route of %s", (*a)->api_doc, key, (*a)->name);
        }
        cr_expect(nroutes > 0);
        json_decref(doc);
    }
    json_decref(core);
}

Test(openapi, unknown_query_parameter_is_400)
{
    srv_start();
    test_user("root", "core", "admin", NULL, 0);
    test_user("plain", NULL, NULL, NULL, 0);
    char *tok = test_token("root"), *plain = test_token("plain");

    struct resp *r = api("GET", "/api/v1/admin/users?page=1&stauts=active", tok, NULL);
    cr_expect_eq(r->status, 400, "%s", r->body);
    cr_expect_str_eq(resp_error_code(r), "unknown_parameter");
    json_t *err = json_object_get(r->json, "error");
    cr_expect_str_eq(json_string_value(json_object_get(err, "message")), "unknown query parameter stauts");
    json_t *want = json_pack("[{s:s, s:s}]", "field", "stauts", "problem", "is not a known parameter");
    cr_expect(json_equal(json_object_get(err, "details"), want), "details: %s", r->body);
    json_decref(want);
    resp_free(r);

    static const char *const es[] = {"Accept-Language: es", NULL};
    r = api_h("GET", "/api/v1/admin/users?bogus=", plain, NULL, es);   /* no permission: 403 first */
    cr_expect_eq(r->status, 403, "%s", r->body);
    resp_free(r);
    r = api_h("GET", "/health/ready?bogus=1", NULL, NULL, es);
    cr_expect_eq(r->status, 400, "%s", r->body);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(r->json, "error"), "message")),
                     "parámetro de consulta desconocido: bogus");
    resp_free(r);

    r = api("GET", "/api/v1/admin/users?status=active&q=roo&page=1&page_size=5", tok, NULL);   /* known ones pass */
    cr_expect_eq(r->status, 200, "%s", r->body);
    cr_expect_eq(json_integer_value(json_object_get(r->json, "total")), 1);
    resp_free(r);
    r = api("GET", "/health/live?verbose=1", NULL, NULL);      /* a route without .query takes none */
    cr_expect_eq(r->status, 400);
    cr_expect_str_eq(resp_error_code(r), "unknown_parameter");
    resp_free(r);
    r = api("GET", "/api/v1/admin/users?bogus=1", NULL, NULL); /* anonymous: 401 first */
    cr_expect_eq(r->status, 401);
    resp_free(r);
    r = api("GET", "/api/v1/nowhere?bogus=1", tok, NULL);      /* 404 and 405 stay */
    cr_expect_eq(r->status, 404);
    resp_free(r);
    r = api("DELETE", "/health/live?bogus=1", NULL, NULL);
    cr_expect_eq(r->status, 405);
    resp_free(r);

    /* refused before the handler: nothing changes */
    r = api("POST", "/api/v1/me/language?lang=es", plain, "{\"language\":\"es\"}");
    cr_expect_eq(r->status, 400, "%s", r->body);
    cr_expect_str_eq(resp_error_code(r), "unknown_parameter");
    resp_free(r);
    cr_expect_eq(test_count("SELECT COUNT(*) FROM users WHERE username = 'plain' AND language = 'es'"), 0);
    r = api("POST", "/api/v1/me/language", plain, "{\"language\":\"es\"}");
    cr_expect_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_expect_eq(test_count("SELECT COUNT(*) FROM users WHERE username = 'plain' AND language = 'es'"), 1);
    free(tok);
    free(plain);
    srv_stop();
}

Test(openapi, docs_page_and_bundle)
{
    srv_start();
    struct resp *r = api("GET", "/api/docs", NULL, NULL);
    cr_expect_eq(r->status, 200);
    cr_expect_str_eq(resp_header(r, "Content-Type"), "text/html; charset=utf-8");
    cr_expect(strstr(r->body, "spec-url=\"/api/v1/openapi.json\""), "%s", r->body);
    cr_expect(strstr(r->body, "src=\"" REDOC_BUNDLE_PATH "\""), "%s", r->body);
    cr_expect_null(strstr(r->body, "http"), "the page loads nothing from elsewhere");
    cr_expect(strstr(resp_header(r, "Content-Security-Policy"), "script-src 'self'"));
    resp_free(r);
    r = api("GET", REDOC_BUNDLE_PATH, NULL, NULL);
    const struct embedded_file *f = embed_find("vendor/redoc/redoc.standalone.js");
    cr_assert(f);
    cr_expect_eq(r->status, 200);
    cr_expect_eq(r->len, (size_t)f->len);
    cr_expect_str_eq(resp_header(r, "Content-Type"), "text/javascript; charset=utf-8");
    cr_expect_str_eq(resp_header(r, "Cache-Control"), "public, max-age=31536000, immutable");
    resp_free(r);
    srv_stop();
}
