/* groupbuy's api.json against its route table: it is embedded and parses,
 * every route has exactly one entry and no entry is not a route, each
 * described query parameter is one the route accepts and each accepted one
 * (but page/page_size) is described, and every $ref names a schema of the
 * file. openapi.c publishes what this checks. */
#include "support/harness.h"
#include "embed.h"
#include <string.h>

extern const struct app groupbuy_app;

static json_t *doc(void)
{
    const struct embedded_file *f = embed_find(groupbuy_app.api_doc);
    cr_assert_not_null(f, "%s is embedded", groupbuy_app.api_doc);
    json_error_t err;
    json_t *d = json_loadb((const char *)f->data, (size_t)f->len, 0, &err);
    cr_assert_not_null(d, "api.json line %d: %s", err.line, err.text);
    return d;
}

static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 1 : 0))
        if (strncmp(p, name, n) == 0 && (p[n] == ',' || !p[n])) return true;
    return false;
}

static void refs_resolve(json_t *schemas, json_t *v)
{
    const char *key;
    json_t *x;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach (v, key, x) {
            if (!strcmp(key, "$ref")) {
                const char *want = "#/components/schemas/", *ref = json_string_value(x);
                cr_assert(ref && !strncmp(ref, want, strlen(want)), "%s", ref);
                cr_assert_not_null(json_object_get(schemas, ref + strlen(want)), "no schema %s", ref);
            } else {
                refs_resolve(schemas, x);
            }
        }
    } else if (json_is_array(v)) {
        json_array_foreach (v, i, x) refs_resolve(schemas, x);
    }
}

Test(groupbuy_api_doc, matches_the_route_table)
{
    json_t *d = doc(), *routes = json_object_get(d, "routes"), *e, *q;
    size_t n = 0;
    char key[256];
    const char *name, *p;
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(d, "tag"), "name")), "groupbuy");
    for (const struct route *rt = groupbuy_app.routes; rt->method; rt++, n++) {
        snprintf(key, sizeof key, "%s %s", rt->method, rt->pattern);
        cr_assert_not_null(e = json_object_get(routes, key), "no entry for %s", key);
        cr_assert(json_string_value(json_object_get(e, "summary")), "%s has a summary", key);
        cr_assert(json_object_size(json_object_get(e, "responses")) > 0, "%s has answers", key);
        json_object_foreach (json_object_get(e, "query"), name, q)
            cr_assert(listed(rt->query, name), "%s describes ?%s, which it does not accept", key, name);
        for (p = rt->query; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 1 : 0)) {
            char one[64];
            snprintf(one, sizeof one, "%.*s", (int)strcspn(p, ","), p);
            if (strcmp(one, "page") && strcmp(one, "page_size"))
                cr_assert_not_null(json_object_get(json_object_get(e, "query"), one), "%s: ?%s undescribed", key, one);
        }
        cr_assert_eq(!!(rt->flags & ROUTE_RAW_BODY), !!json_object_get(e, "body_content_type"), "%s", key);
    }
    cr_assert_eq(json_object_size(routes), n, "an entry that is not a route");
    refs_resolve(json_object_get(d, "schemas"), d);
    json_decref(d);
}
