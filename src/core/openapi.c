/* openapi.c -- the API contract. The route tables stay the truth for method,
 * path, permission, flags and query-parameter names; each app's api.json
 * (embedded; format in docs/API.md, "api.json") only describes: summaries, parameter
 * types, body and answer schemas. This file joins the two into the OpenAPI
 * 3.1 document at /api/v1/openapi.json, adds what the core does to every
 * route (the common errors, bearer security, idempotency keys), serves the
 * ReDoc page that renders it, and prints the endpoint tables of
 * `atrium routes` that the docs pages hold. */
#include "atrium.h"
#include "internal.h"
#include "openapi.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMAS "#/components/schemas/"
#define MAX_PARAMS 8

/* ---------------------------------------------------------------- api.json */

/* The parsed api.json of app (new reference), or NULL: none declared, or
 * broken (logged; the app's routes are then published undescribed). */
static json_t *load_doc(const struct app *a)
{
    if (!a->api_doc) return NULL;
    const struct embedded_file *f = embed_find(a->api_doc);
    if (!f) {
        log_error("%s is not embedded in this binary", a->api_doc);
        return NULL;
    }
    json_error_t err;
    json_t *doc = json_loadb((const char *)f->data, (size_t)f->len, JSON_REJECT_DUPLICATES, &err);
    if (!doc) log_error("%s:%d: %s", a->api_doc, err.line, err.text);
    return doc;
}

/* The entry of doc's "routes" for rt, keyed "METHOD /pattern". */
static json_t *route_doc(json_t *doc, const struct route *rt)
{
    char key[512];
    snprintf(key, sizeof key, "%s %s", rt->method, rt->pattern);
    return json_object_get(json_object_get(doc, "routes"), key);
}

static const char *perm_label(const struct route *rt)
{
    return rt->perm == PERM_PUBLIC ? "public" : !strcmp(rt->perm, PERM_USER) ? "user" : rt->perm;
}

/* ---------------------------------------------------------------- paths */

struct param {
    char name[64];
    char type;                  /* 'i' {x:int}, 'u' {x:uuid}, 's' {x} */
};

/* The {..} segments of a pattern, in order. */
static int params_of(const char *pattern, struct param *p)
{
    int n = 0;
    for (const char *s = strchr(pattern, '{'); s && n < MAX_PARAMS; s = strchr(s + 1, '{')) {
        size_t len = strcspn(s + 1, ":}");
        const char *colon = s[1 + len] == ':' ? s + 1 + len : NULL;
        snprintf(p[n].name, sizeof p[n].name, "%.*s", (int)len, s + 1);
        p[n].type = colon && !strncmp(colon, ":int}", 5) ? 'i' : colon && !strncmp(colon, ":uuid}", 6) ? 'u' : 's';
        n++;
    }
    return n;
}

/* "/a/{id:int}/b" -> "/a/{id}/b", or "/a/{}/b" when shape (paths that differ
 * only in parameter names are one path item in OpenAPI). */
static void path_template(const char *pattern, bool shape, char *out, size_t n)
{
    size_t o = 0;
    for (const char *s = pattern; *s && o + 1 < n; s++) {
        out[o++] = *s;
        if (*s != '{') continue;
        size_t len = strcspn(s + 1, "}");
        size_t name = shape ? 0 : strcspn(s + 1, ":}");
        if (o + name + 1 >= n) break;
        memcpy(out + o, s + 1, name);
        o += name;
        s += len;               /* the loop copies the '}' */
    }
    out[o] = 0;
}

/* getAdminUsersById from GET /api/v1/admin/users/{id:int}; unique within ids. */
static void operation_id(const struct route *rt, json_t *ids, char *out, size_t n)
{
    size_t o = 0;
    for (const char *m = rt->method; *m && o + 1 < n; m++) out[o++] = (char)(*m | 0x20);
    const char *p = rt->pattern;
    if (!strncmp(p, "/api/v1/", 8)) p += 7;
    bool up = true;
    for (; *p && o + 3 < n; p++) {
        if (*p == '{') {
            memcpy(out + o, "By", 2);
            o += 2;
            up = true;
            continue;
        }
        if (*p == ':') {        /* skip the type */
            p += strcspn(p, "}") - 1;
            continue;
        }
        bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
        if (!alnum) {
            up = true;
            continue;
        }
        out[o++] = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
        up = false;
    }
    out[o] = 0;
    for (int k = 2; json_object_get(ids, out) && k < 100; k++) snprintf(out + o, n - o, "%d", k);
    json_object_set_new(ids, out, json_true());
}

static json_t *path_params(const struct route *rt, const char *canonical)
{
    struct param mine[MAX_PARAMS], names[MAX_PARAMS];
    int n = params_of(rt->pattern, mine);
    params_of(canonical, names);
    json_t *out = json_array();
    for (int i = 0; i < n; i++) {
        json_t *schema = mine[i].type == 'i' ? json_pack("{s:s, s:s, s:i}", "type", "integer", "format", "int64", "minimum", 1)
                       : mine[i].type == 'u' ? json_pack("{s:s, s:s}", "type", "string", "format", "uuid")
                                             : json_pack("{s:s}", "type", "string");
        json_array_append_new(out, json_pack("{s:s, s:s, s:b, s:o}", "name", names[i].name, "in", "path",
                                             "required", 1, "schema", schema));
    }
    return out;
}

/* "a,b,c" -> ["a","b","c"] (route query lists). */
static json_t *split(const char *list)
{
    json_t *out = json_array();
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        json_array_append_new(out, json_stringn(p, len));
        p += len + (p[len] == ',');
    }
    return out;
}

/* Exactly the route's .query names, typed from the route's api.json entry. */
static void query_params(const struct route *rt, json_t *rdoc, json_t *params)
{
    json_t *described = json_object_get(rdoc, "query"), *names = split(rt->query ? rt->query : ""), *v;
    size_t i;
    json_array_foreach(names, i, v) {
        const char *name = json_string_value(v);
        json_t *q = json_pack("{s:s, s:s}", "name", name, "in", "query"), *d = json_object_get(described, name);
        if (!strcmp(name, "page")) {
            json_object_set_new(q, "description", json_string("page number, from 1"));
            json_object_set_new(q, "schema", json_pack("{s:s, s:i, s:i}", "type", "integer", "minimum", 1, "default", 1));
        } else if (!strcmp(name, "page_size")) {
            json_object_set_new(q, "description", json_string("items per page"));
            json_object_set_new(q, "schema", json_pack("{s:s, s:i, s:i, s:i}", "type", "integer", "minimum", 1,
                                                       "maximum", 100, "default", 50));
        } else {
            if (json_is_string(json_object_get(d, "description")))
                json_object_set(q, "description", json_object_get(d, "description"));
            json_t *schema = json_object_get(d, "schema");
            json_object_set_new(q, "schema", schema ? json_deep_copy(schema) : json_pack("{s:s}", "type", "string"));
        }
        json_array_append_new(params, q);
    }
    json_decref(names);
}

/* ---------------------------------------------------------------- answers */

static json_t *json_content(const char *type, json_t *schema)
{
    return json_pack("{s:{s:o}}", type, "schema", schema);
}

/* An error answer: the core Error schema, the codes it may carry. */
static json_t *error_answer(const char *description, json_t *codes)
{
    return json_pack("{s:s, s:o, s:o}", "description", description, "x-error-codes", codes, "content",
                     json_content("application/json", json_pack("{s:s}", "$ref", SCHEMAS "Error")));
}

/* One api.json answer ({description, schema | list | content_type | codes, also?}). */
static json_t *answer(json_t *a)
{
    const char *desc = json_string_value(json_object_get(a, "description"));
    json_t *schema = json_object_get(a, "schema"), *item = json_object_get(a, "list");
    json_t *codes = json_object_get(a, "codes");
    const char *ctype = json_string_value(json_object_get(a, "content_type"));
    if (codes && !schema) return error_answer(desc ? desc : "", json_deep_copy(codes));
    json_t *out = json_pack("{s:s}", "description", desc ? desc : "");
    if (schema) {
        json_object_set_new(out, "content", json_content("application/json", json_deep_copy(schema)));
    } else if (item) {
        json_t *list = json_pack("{s:s, s:{s:{s:s, s:O}, s:{s:s}, s:{s:s}, s:{s:s}}, s:[ssss]}", "type", "object",
                                 "properties", "items", "type", "array", "items", item, "page", "type", "integer",
                                 "page_size", "type", "integer", "total", "type", "integer", "required", "items",
                                 "page", "page_size", "total");
        json_object_set_new(out, "content", json_content("application/json", list));
    } else if (ctype) {
        bool json = !strncmp(ctype, "application/json", 16);
        json_object_set_new(out, "content", json_content(ctype, json_pack("{s:s}", "type", json ? "object" : "string")));
    }
    /* "also": the same answer in other media types the caller can ask for
     * ({"application/json": {schema}, "image/png": {}}). */
    json_t *also = json_object_get(a, "also"), *content = json_object_get(out, "content"), *v;
    const char *type;
    json_object_foreach(also, type, v) {
        if (!content) json_object_set_new(out, "content", content = json_object());
        json_t *sch = json_object_size(v) ? json_deep_copy(v) : json_pack("{s:s, s:s}", "type", "string", "format", "binary");
        json_object_set_new(content, type, json_pack("{s:o}", "schema", sch));
    }
    return out;
}


/* The errors the core answers by itself. An app's own answer with the same
 * status keeps its description and gains the common codes. */
static void common_error(json_t *responses, const char *status, const char *description, const char *codes)
{
    json_t *have = json_object_get(responses, status), *list = json_object_get(have, "x-error-codes");
    if (have && list) {
        json_t *add = split(codes), *v, *w;
        size_t i, k;
        json_array_foreach(add, i, v) {
            bool dup = false;
            json_array_foreach(list, k, w) dup = dup || json_equal(v, w);
            if (!dup) json_array_append(list, v);
        }
        json_decref(add);
    } else if (!have) {
        json_object_set_new(responses, status, error_answer(description, split(codes)));
    }
}

static json_t *responses_of(const struct route *rt, json_t *rdoc, bool body, bool path_params)
{
    json_t *out = json_object(), *a;
    const char *status;
    json_object_foreach(json_object_get(rdoc, "responses"), status, a) json_object_set_new(out, status, answer(a));
    bool public = rt->perm == PERM_PUBLIC, user = !public && !strcmp(rt->perm, PERM_USER);
    common_error(out, "400", "invalid input", body ? "validation_failed,invalid_json,unknown_parameter"
                                                   : "validation_failed,unknown_parameter");
    if (!public) common_error(out, "401", "no valid access token", "unauthorized,invalid_token");
    if (!public && !user) {
        char desc[160];
        snprintf(desc, sizeof desc, "the caller lacks %s", rt->perm);
        common_error(out, "403", desc, "forbidden");
    }
    if (path_params) common_error(out, "404", "no such resource (or not visible to the caller)", "not_found");
    if (rt->flags & ROUTE_IDEMPOTENT)
        common_error(out, "409", "the Idempotency-Key was used with another request", "idempotency_key_reused");
    if (body) {
        common_error(out, "413", "the body is larger than ATRIUM_MAX_BODY", "payload_too_large");
        if (!(rt->flags & ROUTE_RAW_BODY))
            common_error(out, "415", "the body is not application/json", "unsupported_media_type");
    }
    if (!(rt->flags & ROUTE_NO_RATELIMIT)) {
        common_error(out, "429", "rate limited; retry after Retry-After seconds", "rate_limited");
        json_t *h = json_object_get(json_object_get(out, "429"), "headers");
        if (!h) json_object_set_new(json_object_get(out, "429"), "headers", h = json_object());
        const char *names[] = {"Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"};
        for (size_t i = 0; i < 4; i++) {
            char ref[64];
            snprintf(ref, sizeof ref, "#/components/headers/%s", names[i]);
            json_object_set_new(h, names[i], json_pack("{s:s}", "$ref", ref));
        }
    }
    common_error(out, "500", "internal error", "internal");
    json_t *sorted = json_object();     /* by status, as readers expect */
    for (int code = 100; code < 600; code++) {
        char key[8];
        snprintf(key, sizeof key, "%d", code);
        if ((a = json_object_get(out, key))) json_object_set(sorted, key, a);
    }
    json_decref(out);
    return sorted;
}

/* ---------------------------------------------------------------- document */

static json_t *operation(const struct route *rt, const char *app, json_t *rdoc, const char *canonical, json_t *ids)
{
    char id[160], summary[300];
    operation_id(rt, ids, id, sizeof id);
    json_t *s = json_object_get(rdoc, "summary");
    snprintf(summary, sizeof summary, "%s %s", rt->method, rt->pattern);
    json_t *op = json_pack("{s:s, s:[s], s:s}", "operationId", id, "tags", app, "summary",
                           json_is_string(s) ? json_string_value(s) : summary);
    if (json_is_string(json_object_get(rdoc, "description")))
        json_object_set(op, "description", json_object_get(rdoc, "description"));
    json_t *params = path_params(rt, canonical);
    query_params(rt, rdoc, params);
    if (rt->flags & ROUTE_IDEMPOTENT)
        json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:s, s:{s:s, s:i, s:i}}", "name", "Idempotency-Key",
                                                "in", "header", "required", 0, "description",
                                                "a retry with the same key replays the first answer instead of acting twice",
                                                "schema", "type", "string", "minLength", 1, "maxLength", 255));
    if (json_array_size(params)) json_object_set_new(op, "parameters", params);
    else json_decref(params);
    json_t *body = json_object_get(rdoc, "body");
    if (body) {
        const char *ctype = json_string_value(json_object_get(rdoc, "body_content_type"));
        json_object_set_new(op, "requestBody", json_pack("{s:b, s:o}", "required", 1, "content",
                                                         json_content(ctype ? ctype : "application/json",
                                                                      json_deep_copy(body))));
    }
    json_object_set_new(op, "responses", responses_of(rt, rdoc, body != NULL, strchr(rt->pattern, '{') != NULL));
    json_object_set_new(op, "security", rt->perm == PERM_PUBLIC ? json_array() : json_pack("[{s:[]}]", "bearer"));
    json_object_set_new(op, "x-permission", json_string(perm_label(rt)));
    if (rt->flags & ROUTE_IDEMPOTENT) json_object_set_new(op, "x-idempotent", json_true());
    if (rt->flags & ROUTE_SLOW) json_object_set_new(op, "x-slow", json_true());
    return op;
}

static json_t *components(void)
{
    json_t *detail = json_pack("{s:s, s:{s:{s:s}, s:{s:s}}, s:[ss]}", "type", "object", "properties", "field", "type",
                               "string", "problem", "type", "string", "required", "field", "problem");
    json_t *error = json_pack("{s:s, s:s, s:{s:{s:s, s:{s:{s:s, s:s}, s:{s:s}, s:{s:s, s:o}}, s:[ss]}}, s:[s]}",
                              "type", "object", "description",
                              "Every error answer: a stable code, a message in the caller's language, and for "
                              "invalid input the fields at fault.",
                              "properties", "error", "type", "object", "properties", "code", "type", "string",
                              "description", "stable, for programs", "message", "type", "string", "details", "type",
                              "array", "items", detail, "required", "code", "message", "required", "error");
    json_t *headers = json_object();
    const char *h[][2] = {{"Retry-After", "seconds until a request may succeed"},
                          {"RateLimit-Limit", "requests allowed in the window"},
                          {"RateLimit-Remaining", "requests left in the window"},
                          {"RateLimit-Reset", "seconds until the window is full again"}};
    for (size_t i = 0; i < 4; i++)
        json_object_set_new(headers, h[i][0], json_pack("{s:s, s:{s:s, s:i}}", "description", h[i][1], "schema",
                                                        "type", "integer", "minimum", 0));
    return json_pack("{s:{s:o}, s:o, s:{s:{s:s, s:s, s:s}}}", "schemas", "Error", error, "headers", headers,
                     "securitySchemes", "bearer", "type", "http", "scheme", "bearer", "description",
                     "an access token from POST /api/v1/auth/login");
}

/* The app whose table holds rt (the registered table holds copies). */
static int owner_of(const struct route *rt)
{
    for (int i = 0; atrium_apps[i]; i++) {
        if (!config_app_enabled(atrium_apps[i]->name)) continue;
        for (const struct route *x = atrium_apps[i]->routes; x && x->method; x++)
            if (!strcmp(x->method, rt->method) && !strcmp(x->pattern, rt->pattern)) return i;
    }
    return -1;
}

static json_t *build(void)
{
    size_t napps = 0, n;
    while (atrium_apps[napps]) napps++;
    json_t **docs = xcalloc(napps + 1, sizeof *docs);
    bool *tagged = xcalloc(napps + 1, sizeof *tagged);
    json_t *paths = json_object(), *tags = json_array(), *ids = json_object(), *shapes = json_object();
    json_t *comp = components(), *schemas = json_object_get(comp, "schemas");
    for (size_t i = 0; i < napps; i++) {
        if (!config_app_enabled(atrium_apps[i]->name) || !(docs[i] = load_doc(atrium_apps[i]))) continue;
        const char *name;
        json_t *s;
        json_object_foreach(json_object_get(docs[i], "schemas"), name, s) {
            if (json_object_get(schemas, name)) log_warn("openapi: schema %s is defined twice", name);
            else json_object_set(schemas, name, s);
        }
    }
    const struct route *routes = http_routes(&n);
    for (size_t k = 0; k < n; k++) {
        const struct route *rt = &routes[k];
        int owner = owner_of(rt);
        size_t slot = owner < 0 ? napps : (size_t)owner;
        const char *app = owner < 0 ? "other" : atrium_apps[owner]->name;
        if (!tagged[slot]) {
            json_t *d = json_object_get(json_object_get(docs[slot], "tag"), "description");
            char fallback[96];
            snprintf(fallback, sizeof fallback, owner < 0 ? "Routes no app declares." : "The %s app.", app);
            json_array_append_new(tags, json_pack("{s:s, s:s}", "name", app, "description",
                                                  json_is_string(d) ? json_string_value(d) : fallback));
            tagged[slot] = true;
        }
        char shape[512], path[512];
        path_template(rt->pattern, true, shape, sizeof shape);
        if (!json_object_get(shapes, shape)) json_object_set_new(shapes, shape, json_string(rt->pattern));
        const char *canonical = json_string_value(json_object_get(shapes, shape));
        path_template(canonical, false, path, sizeof path);
        json_t *item = json_object_get(paths, path);
        if (!item) json_object_set_new(paths, path, item = json_object());
        char method[16];
        size_t m = 0;
        for (; rt->method[m] && m + 1 < sizeof method; m++) method[m] = (char)(rt->method[m] | 0x20);
        method[m] = 0;
        json_object_set_new(item, method, operation(rt, app, route_doc(docs[slot], rt), canonical, ids));
    }
    json_t *doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:[{s:s}], s:o, s:o, s:o}", "openapi", "3.1.0", "info", "title",
                            "atrium API", "version", ATRIUM_VERSION, "description",
                            "The core and every enabled app of this atrium server. Every route names the permission "
                            "it needs in `x-permission` (`public`: anyone, `user`: any signed-in user). Lists answer "
                            "`{items, page, page_size, total}`; errors answer the `Error` shape. Built from the "
                            "server's route tables, so it is exactly what this server answers.",
                            "servers", "url", "/", "tags", tags, "paths", paths, "components", comp);
    for (size_t i = 0; i <= napps; i++) json_decref(docs[i]);
    free(docs);
    free(tagged);
    json_decref(ids);
    json_decref(shapes);
    return doc;
}

static pthread_once_t built = PTHREAD_ONCE_INIT;
static char *doc_text;
static size_t doc_len;

static void build_once(void)
{
    json_t *doc = build();
    doc_text = json_dumps(doc, JSON_COMPACT);
    doc_len = doc_text ? strlen(doc_text) : 0;
    json_decref(doc);
}

/* Built once per process: the route table does not change while serving. */
const char *openapi_text(size_t *len)
{
    pthread_once(&built, build_once);
    *len = doc_len;
    return doc_text;
}

/* ---------------------------------------------------------------- routes */

void openapi_json(struct req *r)
{
    size_t len;
    const char *text = openapi_text(&len);
    if (!text) {
        reply_error(r, 500, "internal", "internal error");
        return;
    }
    reply_raw(r, 200, "application/json; charset=utf-8", text, len);
}

/* No inline script (ReDoc finds the <redoc> element itself), so the policy
 * can forbid every script and connection that is not ours. ReDoc injects
 * its styles and runs its search index in a blob: worker. */
#define DOCS_CSP "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; " \
                 "font-src 'self'; connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; " \
                 "frame-ancestors 'none'"

static const char docs_page[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>atrium API</title>\n"
    "<style>body { margin: 0; }</style>\n</head>\n<body>\n"
    "<redoc spec-url=\"/api/v1/openapi.json\"></redoc>\n"
    "<script src=\"" REDOC_BUNDLE_PATH "\"></script>\n</body>\n</html>\n";

void openapi_docs_page(struct req *r)
{
    reply_header(r, "Content-Security-Policy", DOCS_CSP);
    reply_header(r, "Cache-Control", "no-cache");
    reply_raw(r, 200, "text/html; charset=utf-8", docs_page, sizeof docs_page - 1);
}

void openapi_docs_bundle(struct req *r)
{
    const struct embedded_file *f = embed_find("vendor/redoc/redoc.standalone.js");
    if (!f) {
        reply_not_found(r);
        return;
    }
    reply_header(r, "Cache-Control", "public, max-age=31536000, immutable");
    reply_raw(r, 200, "text/javascript; charset=utf-8", f->data, (size_t)f->len);
}

/* ---------------------------------------------------------------- tables */

/* "codepop.Order" from {"$ref": "#/components/schemas/codepop.Order"}. */
static const char *schema_name(json_t *s)
{
    const char *ref = json_string_value(json_object_get(s, "$ref"));
    if (ref && !strncmp(ref, SCHEMAS, strlen(SCHEMAS))) return ref + strlen(SCHEMAS);
    return s ? "JSON" : NULL;
}

static void answers_text(json_t *rdoc, char *out, size_t n)
{
    const char *status;
    json_t *a;
    size_t o = 0;
    out[0] = 0;
    json_object_foreach(json_object_get(rdoc, "responses"), status, a) {
        char what[256] = "";
        json_t *codes = json_object_get(a, "codes"), *v;
        size_t i;
        if (json_object_get(a, "schema")) snprintf(what, sizeof what, " %s", schema_name(json_object_get(a, "schema")));
        else if (json_object_get(a, "list")) snprintf(what, sizeof what, " list of %s", schema_name(json_object_get(a, "list")));
        else if (json_object_get(a, "content_type")) snprintf(what, sizeof what, " %s", json_string_value(json_object_get(a, "content_type")));
        const char *type;
        bool first = true;
        json_object_foreach(json_object_get(a, "also"), type, v) {     /* the other media types it answers */
            snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s", first ? " or " : ", ", type);
            first = false;
        }
        json_array_foreach(codes, i, v)
            snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s", i ? ", " : " ", json_string_value(v));
        o += (size_t)snprintf(out + o, o < n ? n - o : 0, "%s%s%s", o ? "; " : "", status, what);
        if (o >= n) break;
    }
    if (!rdoc) snprintf(out, n, "(not described)");
}

int openapi_print_routes(FILE *out, const char *name, bool markdown)
{
    const struct app *a = app_find(name);
    if (!a) return -1;
    json_t *doc = load_doc(a);
    int wm = 6, wp = 4, wperm = 10, wb = 4;
    for (const struct route *rt = a->routes; rt && rt->method; rt++) {
        json_t *rdoc = route_doc(doc, rt);
        const char *body = schema_name(json_object_get(rdoc, "body"));
        wm = (int)strlen(rt->method) > wm ? (int)strlen(rt->method) : wm;
        wp = (int)strlen(rt->pattern) > wp ? (int)strlen(rt->pattern) : wp;
        wperm = (int)strlen(perm_label(rt)) > wperm ? (int)strlen(perm_label(rt)) : wperm;
        wb = body && (int)strlen(body) > wb ? (int)strlen(body) : wb;
    }
    if (markdown) fprintf(out, "| Method | Path | Permission | Body | Answers |\n|---|---|---|---|---|\n");
    else fprintf(out, "%-*s  %-*s  %-*s  %-*s  %s\n", wm, "METHOD", wp, "PATH", wperm, "PERMISSION", wb, "BODY", "ANSWERS");
    for (const struct route *rt = a->routes; rt && rt->method; rt++) {
        json_t *rdoc = route_doc(doc, rt);
        const char *body = schema_name(json_object_get(rdoc, "body"));
        char answers[1024];
        answers_text(rdoc, answers, sizeof answers);
        if (markdown)   /* no cell holds a '|': names, codes and media types */
            fprintf(out, "| %s | `%s` | %s | %s | %s |\n", rt->method, rt->pattern, perm_label(rt), body ? body : "-", answers);
        else
            fprintf(out, "%-*s  %-*s  %-*s  %-*s  %s\n", wm, rt->method, wp, rt->pattern, wperm, perm_label(rt), wb,
                    body ? body : "-", answers);
    }
    json_decref(doc);
    return 0;
}
