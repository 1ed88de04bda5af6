/* codepop's API description (src/apps/codepop/api.json) matches its route
 * table: one entry per route and none other, query parameters documented only
 * when the route accepts them, every $ref names a schema of the file, and
 * every route that reads query parameters declares them. */
#include "support/harness.h"
#include <string.h>

static json_t *api_doc(void)
{
    const struct app *a = app_find("codepop");
    cr_assert_not_null(a);
    cr_assert_str_eq(a->api_doc, "src/apps/codepop/api.json");
    const struct embedded_file *f = embed_find(a->api_doc);
    cr_assert_not_null(f, "api.json is embedded");
    json_error_t e;
    json_t *doc = json_loads((const char *)f->data, 0, &e);
    cr_assert_not_null(doc, "api.json parses: %s (line %d)", e.text, e.line);
    return doc;
}

static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !strncmp(p, name, n)) return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

Test(codepop_api_doc, every_route_and_nothing_else)
{
    json_t *doc = api_doc(), *routes = json_object_get(doc, "routes");
    size_t n = 0;
    for (const struct route *rt = app_find("codepop")->routes; rt->method; rt++, n++) {
        char key[256];
        snprintf(key, sizeof key, "%s %s", rt->method, rt->pattern);
        json_t *entry = json_object_get(routes, key);
        cr_expect_not_null(entry, "%s is not described", key);
        cr_expect(json_is_string(json_object_get(entry, "summary")), "%s has no summary", key);
        cr_expect_not_null(json_object_get(entry, "responses"), "%s has no responses", key);
        const char *name;
        json_t *v;
        json_object_foreach (json_object_get(entry, "query"), name, v)
            cr_expect(listed(rt->query, name), "%s documents ?%s but does not accept it", key, name);
        if (rt->query && listed(rt->query, "page"))
            cr_expect(listed(rt->query, "page_size"), "%s: page without page_size", key);
    }
    cr_expect_eq(json_object_size(routes), n, "api.json describes %zu routes, the table has %zu",
                 json_object_size(routes), n);
    json_decref(doc);
}

/* Every "$ref" in the document, checked against its schemas. */
static void refs_resolve(json_t *node, json_t *schemas)
{
    const char *key;
    json_t *v;
    size_t i;
    if (json_is_array(node)) json_array_foreach (node, i, v) refs_resolve(v, schemas);
    if (!json_is_object(node)) return;
    json_object_foreach (node, key, v) {
        if (!strcmp(key, "$ref")) {
            const char *ref = json_string_value(v), *prefix = "#/components/schemas/";
            cr_assert(ref && !strncmp(ref, prefix, strlen(prefix)), "bad $ref %s", ref ? ref : "(not text)");
            cr_expect_not_null(json_object_get(schemas, ref + strlen(prefix)), "$ref %s names no schema", ref);
        } else {
            refs_resolve(v, schemas);
        }
    }
}

Test(codepop_api_doc, refs_resolve_and_schemas_are_prefixed)
{
    json_t *doc = api_doc(), *schemas = json_object_get(doc, "schemas"), *v;
    const char *name;
    json_object_foreach (schemas, name, v) cr_expect(!strncmp(name, "codepop.", 8), "schema %s has no prefix", name);
    refs_resolve(doc, schemas);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "tag"), "name")), "codepop");
    json_decref(doc);
}
