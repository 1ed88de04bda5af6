/* Suppliers and products over HTTP: create (supplier inferred from the
 * caller's one supplier account, required from an admin), patch validated
 * against the merged product, list filters and get, roles and scope (another
 * supplier, staff, traders), invalid bodies changing nothing, audit rows. */
#include "support/fixture.h"
#include <stdlib.h>
#include <string.h>

TestSuite(groupbuy_products, .init = gb_start, .fini = gb_stop);

#define RICE "\"name\":\"Maize 90kg\",\"unit\":\"bag\",\"unit_price_cents\":5000,\"bulk_price_cents\":4200,\"moq\":8"

static struct resp *patch(int64_t id, const char *as, const char *body)
{
    char path[96];
    snprintf(path, sizeof path, GB "/products/%lld", (long long)id);
    char *tok = test_token(as);
    struct resp *r = api("PATCH", path, tok, body);
    free(tok);
    return r;
}

static void expect_invalid(struct resp *r, const char *field)
{
    cr_assert_eq(r->status, 400, "%d %s", r->status, r->body);
    cr_assert_str_eq(resp_error_code(r), "validation_failed");
    json_t *d = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
    cr_assert_str_eq(jstr(d, "field"), field, "%s", r->body);
    resp_free(r);
}

static int64_t audits(const char *action, int64_t target)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM audit_log WHERE action = '%s' AND target_id = %lld", action,
             (long long)target);
    return test_count(sql);
}

GbTest(groupbuy_products, supplier_creates_with_inferred_supplier_and_defaults)
{
    struct resp *r = api_post(GB "/products", "gb_sup1", NULL, "{" RICE "}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    int64_t id = jint(r->json, "id");
    cr_assert_eq(id, 4);
    cr_assert_eq(jint(r->json, "supplier_id"), 1, "gb_sup1 acts for supplier 1 only");
    cr_assert_str_eq(jstr(r->json, "supplier_name"), "Acme Grains");
    cr_assert_str_eq(jstr(r->json, "name"), "Maize 90kg");
    cr_assert_str_eq(jstr(r->json, "description"), "");
    cr_assert_str_eq(jstr(r->json, "currency"), "USD");
    cr_assert_eq(jint(r->json, "unit_price_cents"), 5000);
    cr_assert_eq(jint(r->json, "bulk_price_cents"), 4200);
    cr_assert_eq(jint(r->json, "moq"), 8);
    cr_assert_eq(jint(r->json, "min_per_trader"), 1);
    cr_assert(json_is_null(json_object_get(r->json, "max_per_trader")));
    cr_assert(json_is_null(json_object_get(r->json, "image_url")));
    cr_assert(json_is_true(json_object_get(r->json, "active")));
    cr_assert(jstr(r->json, "created_at") && jstr(r->json, "updated_at"));
    resp_free(r);
    cr_assert_eq(audits("groupbuy.product.created", id), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.product.created' AND "
                            "CAST(json_extract(summary, '$.supplier_id') AS INTEGER) = 1 AND user_id = (SELECT id FROM users WHERE "
                            "username = 'gb_sup1')"), 1);

    /* every field given */
    r = api_post(GB "/products", "gb_sup2", NULL,
                "{\"name\":\"Shea butter\",\"description\":\"Grade A\",\"unit\":\"tub\",\"unit_price_cents\":900,"
                "\"bulk_price_cents\":900,\"currency\":\"NGN\",\"moq\":40,\"min_per_trader\":2,\"max_per_trader\":10,"
                "\"image_url\":\"https://img.example.com/shea.png\"}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_eq(jint(r->json, "supplier_id"), 2);
    cr_assert_str_eq(jstr(r->json, "currency"), "NGN");
    cr_assert_eq(jint(r->json, "max_per_trader"), 10);
    cr_assert_eq(jint(r->json, "min_per_trader"), 2);
    cr_assert_str_eq(jstr(r->json, "image_url"), "https://img.example.com/shea.png");
    resp_free(r);
}

GbTest(groupbuy_products, admin_names_the_supplier)
{
    expect_invalid(api_post(GB "/products", "gb_admin", NULL, "{" RICE "}"), "supplier_id");
    resp_check(api_post(GB "/products", "gb_admin", NULL, "{\"supplier_id\":99," RICE "}"), 404, "not_found");
    struct resp *r = api_post(GB "/products", "gb_admin", NULL, "{\"supplier_id\":2," RICE "}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_eq(jint(r->json, "supplier_id"), 2);
    cr_assert_str_eq(jstr(r->json, "supplier_name"), "Baobab Oils");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_products"), 4);
}

GbTest(groupbuy_products, roles_and_scope)
{
    resp_check(api_post(GB "/products", "gb_sup2", NULL, "{\"supplier_id\":1," RICE "}"), 403, "forbidden");
    resp_check(api_post(GB "/products", "gb_staff1", NULL, "{" RICE "}"), 403, "forbidden");
    resp_check(api_post(GB "/products", "gb_trader1", NULL, "{\"supplier_id\":1," RICE "}"), 403, "forbidden");
    resp_check(api_post(GB "/products", "gb_nobody", NULL, "{\"supplier_id\":1," RICE "}"), 403, "forbidden");
    resp_check(api_post(GB "/products", NULL, NULL, "{\"supplier_id\":1," RICE "}"), 401, NULL);
    resp_check(patch(1, "gb_sup2", "{\"name\":\"Mine now\"}"), 403, "forbidden");
    resp_check(patch(3, "gb_sup1", "{\"active\":false}"), 403, "forbidden");
    resp_check(patch(1, "gb_trader1", "{\"name\":\"x\"}"), 403, "forbidden");
    resp_check(patch(1, "gb_staff1", "{\"name\":\"x\"}"), 403, "forbidden");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_products"), 3);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_products WHERE name = 'Rice 50kg' AND active = 1"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'groupbuy.product.%'"), 0);

    /* every reader sees every product */
    resp_check(api_get(GB "/products/3", "gb_trader1"), 200, NULL);
    resp_check(api_get(GB "/products/3", "gb_sup1"), 200, NULL);
    resp_check(api_get(GB "/products/3", "gb_staff1"), 200, NULL);
    resp_check(api_get(GB "/products", "gb_nobody"), 403, "forbidden");
}

GbTest(groupbuy_products, invalid_bodies_change_nothing)
{
#define BAD(field, body) expect_invalid(api_post(GB "/products", "gb_sup1", NULL, "%s", body), field)
    BAD("bulk_price_cents", "{\"name\":\"A\",\"unit\":\"bag\",\"unit_price_cents\":100,\"bulk_price_cents\":101,\"moq\":1}");
    BAD("moq", "{\"name\":\"A\",\"unit\":\"bag\",\"unit_price_cents\":100,\"bulk_price_cents\":90,\"moq\":0}");
    BAD("colour", "{" RICE ",\"colour\":\"red\"}");
    BAD("image_url", "{" RICE ",\"image_url\":\"ftp://img.example.com/a.png\"}");
    BAD("image_url", "{" RICE ",\"image_url\":\"javascript:alert(1)\"}");
    BAD("image_url", "{" RICE ",\"image_url\":\"https://\"}");
    BAD("currency", "{" RICE ",\"currency\":\"usd\"}");
    BAD("currency", "{" RICE ",\"currency\":\"US\"}");
    BAD("name", "{\"name\":\"   \",\"unit\":\"bag\",\"unit_price_cents\":100,\"bulk_price_cents\":90,\"moq\":1}");
    BAD("unit", "{\"name\":\"A\",\"unit_price_cents\":100,\"bulk_price_cents\":90,\"moq\":1}");
    BAD("unit_price_cents", "{\"name\":\"A\",\"unit\":\"bag\",\"unit_price_cents\":0,\"bulk_price_cents\":0,\"moq\":1}");
    BAD("unit_price_cents", "{\"name\":\"A\",\"unit\":\"bag\",\"unit_price_cents\":\"100\",\"bulk_price_cents\":90,\"moq\":1}");
    BAD("max_per_trader", "{" RICE ",\"min_per_trader\":4,\"max_per_trader\":3}");
    BAD("min_per_trader", "{" RICE ",\"min_per_trader\":0}");
    char body[512], name[130];
    memset(name, 'n', 121);
    name[121] = 0;
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"unit\":\"bag\",\"unit_price_cents\":100,\"bulk_price_cents\":90,"
                                "\"moq\":1}", name);
    BAD("name", body);
    resp_check(api_post(GB "/products", "gb_sup1", NULL, "[1]"), 400, "invalid_json");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_products"), 3);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'groupbuy.product.%'"), 0);
}

GbTest(groupbuy_products, patch_validates_the_merged_product)
{
    struct resp *r = patch(1, "gb_sup1", "{\"bulk_price_cents\":2800,\"description\":\"Long grain\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "bulk_price_cents"), 2800);
    cr_assert_eq(jint(r->json, "unit_price_cents"), 3000, "untouched fields stay");
    cr_assert_str_eq(jstr(r->json, "description"), "Long grain");
    cr_assert_eq(jint(r->json, "max_per_trader"), 5);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.product.updated' AND "
                            "target_id = 1 AND CAST(json_extract(summary, '$.changed.bulk_price_cents') AS INTEGER) = 2800 AND "
                            "json_extract(summary, '$.changed.description') = 'Long grain' AND "
                            "json_extract(summary, '$.changed.name') IS NULL"), 1);

    /* bulk above the stored unit price, then a unit price under the stored bulk */
    expect_invalid(patch(1, "gb_sup1", "{\"bulk_price_cents\":3100}"), "bulk_price_cents");
    expect_invalid(patch(1, "gb_sup1", "{\"unit_price_cents\":2000}"), "bulk_price_cents");
    expect_invalid(patch(1, "gb_sup1", "{\"min_per_trader\":6}"), "max_per_trader");
    expect_invalid(patch(1, "gb_sup1", "{\"colour\":\"red\"}"), "colour");
    expect_invalid(patch(1, "gb_sup1", "{\"supplier_id\":2}"), "supplier_id");
    expect_invalid(patch(1, "gb_sup1", "{\"active\":\"no\"}"), "active");
    expect_invalid(patch(1, "gb_sup1", "{\"moq\":1.5}"), "moq");
    expect_invalid(patch(1, "gb_sup1", "{\"image_url\":\"not a url\"}"), "image_url");
    resp_check(patch(1, "gb_sup1", "[]"), 400, "invalid_json");
    cr_assert_eq(test_scalar("SELECT bulk_price_cents FROM groupbuy_products WHERE id = $1", 1), 2800);
    cr_assert_eq(test_scalar("SELECT unit_price_cents FROM groupbuy_products WHERE id = $1", 1), 3000);

    /* both prices at once are checked together */
    r = patch(1, "gb_sup1", "{\"unit_price_cents\":2000,\"bulk_price_cents\":1900,\"max_per_trader\":null,"
                            "\"image_url\":\"http://cdn.example.com/rice.jpg\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "unit_price_cents"), 2000);
    cr_assert(json_is_null(json_object_get(r->json, "max_per_trader")));
    cr_assert_str_eq(jstr(r->json, "image_url"), "http://cdn.example.com/rice.jpg");
    resp_free(r);

    /* deactivate; a patch that changes nothing writes no audit row */
    r = patch(1, "gb_sup1", "{\"active\":false}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(json_is_false(json_object_get(r->json, "active")));
    resp_free(r);
    resp_check(patch(1, "gb_sup1", "{\"active\":false}"), 200, NULL);
    resp_check(patch(1, "gb_sup1", "{}"), 200, NULL);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.product.updated'"), 3);

    /* admins patch any product; unknown ids are 404 */
    resp_check(patch(3, "gb_admin", "{\"name\":\"Palm oil 20L\"}"), 200, NULL);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_products WHERE id = 3 AND name = 'Palm oil 20L'"), 1);
    resp_check(patch(999, "gb_admin", "{\"name\":\"x\"}"), 404, "not_found");
}

GbTest(groupbuy_products, list_and_get)
{
    struct resp *r = api_get(GB "/products", "gb_trader1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "total"), 3);
    cr_assert_eq(jint(r->json, "page_size"), 50);
    json_t *first = json_array_get(json_object_get(r->json, "items"), 0);
    cr_assert_eq(jint(first, "id"), 1);
    cr_assert_str_eq(jstr(first, "supplier_name"), "Acme Grains");
    resp_free(r);

    r = api_get(GB "/products?supplier_id=1&page_size=1&page=2", "gb_trader1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "total"), 2);
    cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 1);
    cr_assert_eq(jint(json_array_get(json_object_get(r->json, "items"), 0), "id"), 2);
    resp_free(r);

    resp_check(patch(2, "gb_sup1", "{\"active\":false}"), 200, NULL);
    r = api_get(GB "/products?active=false", "gb_sup2");
    cr_assert_eq(jint(r->json, "total"), 1);
    cr_assert_eq(jint(json_array_get(json_object_get(r->json, "items"), 0), "id"), 2);
    resp_free(r);
    r = api_get(GB "/products?active=true", "gb_sup2");
    cr_assert_eq(jint(r->json, "total"), 2);
    resp_free(r);
    resp_check(api_get(GB "/products?active=maybe", "gb_sup2"), 400, "validation_failed");
    resp_check(api_get(GB "/products?supplier_id=x", "gb_sup2"), 400, "validation_failed");

    r = api_get(GB "/products/2", "gb_trader2");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "name"), "Beans 25kg");
    cr_assert_eq(jint(r->json, "min_per_trader"), 2);
    cr_assert(json_is_null(json_object_get(r->json, "max_per_trader")));
    cr_assert(json_is_false(json_object_get(r->json, "active")));
    resp_free(r);
    resp_check(api_get(GB "/products/999", "gb_trader2"), 404, "not_found");
}

GbTest(groupbuy_products, suppliers)
{
    struct resp *r = api_get(GB "/suppliers", "gb_trader1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "total"), 2);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(r->json, "items"), 1), "name"), "Baobab Oils");
    resp_free(r);

    r = api_post(GB "/suppliers", "gb_admin", NULL, "{\"name\":\"Cassava Co\",\"contact_email\":\"hi@cassava.test\"}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    int64_t id = jint(r->json, "id");
    cr_assert_str_eq(jstr(r->json, "contact_email"), "hi@cassava.test");
    resp_free(r);
    cr_assert_eq(audits("groupbuy.supplier.created", id), 1);

    resp_check(api_post(GB "/suppliers", "gb_admin", NULL, "{\"name\":\"Cassava Co\"}"), 409, "duplicate");
    expect_invalid(api_post(GB "/suppliers", "gb_admin", NULL, "{\"name\":\"\"}"), "name");
    expect_invalid(api_post(GB "/suppliers", "gb_admin", NULL, "{\"name\":\"D\",\"contact_email\":\"nope\"}"),
                   "contact_email");
    expect_invalid(api_post(GB "/suppliers", "gb_admin", NULL, "{\"name\":\"D\",\"phone\":\"1\"}"), "phone");
    resp_check(api_post(GB "/suppliers", "gb_sup1", NULL, "{\"name\":\"Mine\"}"), 403, "forbidden");
    resp_check(api_post(GB "/suppliers", "gb_trader1", NULL, "{\"name\":\"Mine\"}"), 403, "forbidden");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_suppliers"), 3);
}
