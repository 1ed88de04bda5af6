/* products.c -- suppliers and their products.
 *
 * Suppliers are managed by admins; a product belongs to one supplier and is
 * written by that supplier's users or an admin. Create takes a strict body;
 * PATCH takes any subset of the fields plus "active", merges it over the
 * stored product and validates the result as a whole (bulk <= unit after the
 * change), inside one transaction.
 *
 * Choices where the spec is silent: every reader sees every product and
 * supplier (inactive ones too; filter with ?active=); prices are at most
 * 1,000,000,000 cents and moq/per-trader limits at most 1,000,000, so that
 * quantity * price always fits; description may be empty; image_url and
 * max_per_trader may be null (none); supplier_id cannot be changed by PATCH;
 * a PATCH that changes nothing answers 200 and writes no audit row; a
 * supplier's contact_email must look like an address (one '@', a dot after
 * it, at most 254 characters). */
#include "groupbuy.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PRICE 1000000000LL
#define MAX_COUNT 1000000LL

#define PRODUCT_SELECT                                                                                               \
    "SELECT p.id, p.supplier_id, s.name AS supplier_name, p.name, p.description, p.unit, p.unit_price_cents, "     \
    "p.bulk_price_cents, p.currency, p.moq, p.min_per_trader, p.max_per_trader, p.image_url, p.active AS "         \
    "active__bool, p.created_at, p.updated_at FROM groupbuy_products p JOIN groupbuy_suppliers s ON s.id = "       \
    "p.supplier_id "

struct product {
    int64_t supplier_id, unit_price, bulk_price, moq, min_pt, max_pt;  /* max_pt 0: none */
    const char *name, *description, *unit, *currency, *image_url;     /* image_url NULL: none */
    bool active;
};

static int64_t jint(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static json_t *product_json(struct db *db, int64_t id)
{
    return db_json_one(db, PRODUCT_SELECT "WHERE p.id = $1", DB_I(id));
}

/* ------------------------------------------------------------- suppliers */

void groupbuy_suppliers_list(struct req *r)
{
    struct page pg;
    if (req_page(r, &pg) < 0) return;
    reply_page(r, &pg, "SELECT COUNT(*) FROM groupbuy_suppliers",
               "SELECT s.id, s.name, s.contact_email, s.created_at, (SELECT COUNT(*) FROM groupbuy_products p "
               "WHERE p.supplier_id = s.id AND p.active = 1) AS active_products FROM groupbuy_suppliers s "
               "ORDER BY s.id LIMIT $1 OFFSET $2");
}

static bool email_ok(const char *e)
{
    const char *at = strchr(e, '@');
    return at && at > e && !strchr(at + 1, '@') && strchr(at + 1, '.') && at[1] != '.' &&
           e[strlen(e) - 1] != '.' && strlen(e) <= 254 && !strpbrk(e, " \t\r\n");
}

void groupbuy_suppliers_create(struct req *r)
{
    const char *name, *email = NULL;
    if (req_unpack(r, "{s:s, s?s}", "name", &name, "contact_email", &email) < 0 ||
        req_text(r, "name", name, 120, true) < 0)
        return;
    if (email && !email_ok(email)) {
        reply_invalid(r, "contact_email", "must be an e-mail address");
        return;
    }
    int64_t id;
    if (db_begin(r->db) < 0) goto fail;
    if (db_int(r->db, &id, "INSERT INTO groupbuy_suppliers (name, contact_email) VALUES ($1, $2) RETURNING id",
               DB_S(name), DB_S(email)) != 1) {
        bool dup = db_constraint_failed(r->db);
        db_rollback(r->db);
        if (!dup) goto fail;
        reply_error(r, 409, "duplicate", "a supplier named %s exists", name);
        return;
    }
    json_t *s = db_json_one(r->db, "SELECT id, name, contact_email, created_at, 0 AS active_products "
                                   "FROM groupbuy_suppliers WHERE id = $1", DB_I(id));
    if (!s || audit_write(r->db, r, "groupbuy", "groupbuy.supplier.created", "supplier", id,
                          json_pack("{s:s, s:s?}", "name", name, "contact_email", email)) < 0 ||
        db_commit(r->db) < 0) {
        json_decref(s);
        db_rollback(r->db);
        goto fail;
    }
    reply_json(r, 201, s);
    return;
fail:
    reply_db_error(r);
}

/* ------------------------------------------------------------------ read */

void groupbuy_products_list(struct req *r)
{
    struct page pg;
    int64_t supplier_id;
    const char *active = req_query(r, "active");
    if (req_page(r, &pg) < 0 || req_query_int(r, "supplier_id", 0, &supplier_id) < 0) return;
    if (active && strcmp(active, "true") && strcmp(active, "false")) {
        reply_invalid(r, "active", "must be true or false");
        return;
    }
    int64_t want = !active ? -1 : !strcmp(active, "true");
#define LIST_WHERE "WHERE ($1 = 0 OR p.supplier_id = $1) AND ($2 < 0 OR p.active = $2) "
    reply_page(r, &pg, "SELECT COUNT(*) FROM groupbuy_products p " LIST_WHERE,
               PRODUCT_SELECT LIST_WHERE "ORDER BY p.id LIMIT $3 OFFSET $4", DB_I(supplier_id), DB_I(want));
}

void groupbuy_products_get(struct req *r)
{
    json_t *p = product_json(r->db, r->param_int[0]);
    if (!p) reply_not_found(r);
    else reply_json(r, 200, p);
}

/* ------------------------------------------------------------ validation */

static bool currency_ok(const char *c)
{
    return strlen(c) == 3 && isupper((unsigned char)c[0]) && isupper((unsigned char)c[1]) &&
           isupper((unsigned char)c[2]);
}

static bool url_ok(const char *u)
{
    size_t skip = !strncmp(u, "https://", 8) ? 8 : !strncmp(u, "http://", 7) ? 7 : 0;
    if (!skip || strlen(u) > 500 || !u[skip] || strchr("/?#:", u[skip])) return false;
    for (const unsigned char *s = (const unsigned char *)u; *s; s++)
        if (*s <= 0x20 || *s == 0x7f || *s == '"' || *s == '<' || *s == '>' || *s == '\\') return false;
    return true;
}

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

static int range(struct req *r, const char *field, int64_t v, int64_t min, int64_t max)
{
    if (v >= min && v <= max) return 0;
    reply_invalidf(r, field, "must be an integer from %lld to %lld", (long long)min, (long long)max);
    return -1;
}

/* The whole product, as it would be stored; replies 400 and returns -1. */
static int check_product(struct req *r, const struct product *p)
{
    if (req_text(r, "name", p->name, 120, true) < 0 || req_text(r, "unit", p->unit, 40, true) < 0)
        return -1;
    if (utf8_len(p->description) > 2000) {
        reply_invalid(r, "description", "must be at most 2000 characters");
        return -1;
    }
    if (range(r, "unit_price_cents", p->unit_price, 1, MAX_PRICE) < 0 ||
        range(r, "bulk_price_cents", p->bulk_price, 1, MAX_PRICE) < 0)
        return -1;
    if (p->bulk_price > p->unit_price) {
        reply_invalid(r, "bulk_price_cents", "must not be more than unit_price_cents");
        return -1;
    }
    if (!currency_ok(p->currency)) {
        reply_invalid(r, "currency", "must be a 3-letter uppercase ISO 4217 code");
        return -1;
    }
    if (range(r, "moq", p->moq, 1, MAX_COUNT) < 0 || range(r, "min_per_trader", p->min_pt, 1, MAX_COUNT) < 0 ||
        (p->max_pt && range(r, "max_per_trader", p->max_pt, p->min_pt, MAX_COUNT) < 0))
        return -1;
    if (p->image_url && !url_ok(p->image_url)) {
        reply_invalid(r, "image_url", "must be an http(s) URL of at most 500 characters");
        return -1;
    }
    return 0;
}

/* An optional integer-or-null field (max_per_trader): 0 = null. */
static int int_or_null(struct req *r, const char *field, json_t *v, int64_t *out)
{
    if (!v || json_is_null(v)) {
        *out = 0;
        return 0;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 1) {
        *out = json_integer_value(v);
        return 0;
    }
    reply_invalid(r, field, "must be a positive integer or null");
    return -1;
}

static int str_or_null(struct req *r, const char *field, json_t *v, const char **out)
{
    if (!v || json_is_null(v)) *out = NULL;
    else if (json_is_string(v)) *out = json_string_value(v);
    else {
        reply_invalid(r, field, "must be a string or null");
        return -1;
    }
    return 0;
}

/* --------------------------------------------------------- body fields */

static int body_str(struct req *r, const char *key, const char **out)
{
    json_t *v = json_object_get(r->body, key);
    if (!v) return 0;
    if (json_is_string(v)) {
        *out = json_string_value(v);
        return 0;
    }
    reply_invalid(r, key, "must be a string");
    return -1;
}

static int body_int(struct req *r, const char *key, int64_t *out)
{
    json_t *v = json_object_get(r->body, key);
    if (!v) return 0;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    reply_invalid(r, key, "must be an integer");
    return -1;
}

/* The body's fields over *p (types checked here, values by check_product). */
static int apply_body(struct req *r, struct product *p)
{
    json_t *v;
    if (body_str(r, "name", &p->name) < 0 || body_str(r, "description", &p->description) < 0 ||
        body_str(r, "unit", &p->unit) < 0 || body_str(r, "currency", &p->currency) < 0 ||
        body_int(r, "unit_price_cents", &p->unit_price) < 0 || body_int(r, "bulk_price_cents", &p->bulk_price) < 0 ||
        body_int(r, "moq", &p->moq) < 0 || body_int(r, "min_per_trader", &p->min_pt) < 0)
        return -1;
    if ((v = json_object_get(r->body, "max_per_trader")) && int_or_null(r, "max_per_trader", v, &p->max_pt) < 0)
        return -1;
    if ((v = json_object_get(r->body, "image_url")) && str_or_null(r, "image_url", v, &p->image_url) < 0)
        return -1;
    if ((v = json_object_get(r->body, "active"))) {
        if (!json_is_boolean(v)) {
            reply_invalid(r, "active", "must be true or false");
            return -1;
        }
        p->active = json_is_true(v);
    }
    return check_product(r, p);
}

/* ---------------------------------------------------------------- create */

/* supplier_id from the body, else the caller's one supplier account. */
static int64_t pick_supplier(struct req *r, int64_t given)
{
    if (!given) {
        bool global;
        size_t n;
        int64_t *ids = rbac_scopes(r, "groupbuy.products.write", "supplier", &global, &n);
        if (n != 1) {
            reply_invalid(r, "supplier_id", n ? "is required: you act for several suppliers" : "is required");
            return 0;
        }
        given = ids[0];
    }
    return groupbuy_require_supplier(r, "groupbuy.products.write", given) < 0 ? 0 : given;
}

/* -> the new product's id, or 0 */
static int64_t insert_product(struct db *db, const struct product *p)
{
    int64_t id;
    return db_int(db, &id, "INSERT INTO groupbuy_products (supplier_id, name, description, unit, unit_price_cents, "
                           "bulk_price_cents, currency, moq, min_per_trader, max_per_trader, image_url) VALUES ($1, $2, "
                           "$3, $4, $5, $6, $7, $8, $9, NULLIF($10, 0), $11) RETURNING id",
                  DB_I(p->supplier_id), DB_S(p->name), DB_S(p->description), DB_S(p->unit), DB_I(p->unit_price),
                  DB_I(p->bulk_price), DB_S(p->currency), DB_I(p->moq), DB_I(p->min_pt), DB_I(p->max_pt),
                  DB_S(p->image_url)) == 1 ? id : 0;
}

void groupbuy_products_create(struct req *r)
{
    struct product p = {.description = "", .currency = "USD", .min_pt = 1, .active = true};
    json_t *o, *prod = NULL;
    int64_t supplier_id = 0;
    /* only the keys here: which are known and which are required */
    if (req_unpack(r, "{s?o, s:o, s?o, s:o, s:o, s:o, s?o, s:o, s?o, s?o, s?o}", "supplier_id", &o, "name", &o,
                   "description", &o, "unit", &o, "unit_price_cents", &o, "bulk_price_cents", &o, "currency", &o,
                   "moq", &o, "min_per_trader", &o, "max_per_trader", &o, "image_url", &o) < 0 ||
        body_int(r, "supplier_id", &supplier_id) < 0 || apply_body(r, &p) < 0 ||
        !(p.supplier_id = pick_supplier(r, supplier_id)))
        return;
    if (db_begin(r->db) < 0) goto fail;
    int64_t id = insert_product(r->db, &p);
    if (!id) goto rollback;
    if (!(prod = product_json(r->db, id)) ||
        audit_write(r->db, r, "groupbuy", "groupbuy.product.created", "product", id, json_deep_copy(prod)) < 0 ||
        db_commit(r->db) < 0)
        goto rollback;
    reply_json(r, 201, prod);
    return;
rollback:
    db_rollback(r->db);
    json_decref(prod);
fail:
    reply_db_error(r);
}

/* ----------------------------------------------------------------- patch */

static const char *const patch_keys[] = {"name", "description", "unit", "unit_price_cents", "bulk_price_cents",
                                         "currency", "moq", "min_per_trader", "max_per_trader", "image_url",
                                         "active", NULL};

static int check_keys(struct req *r)
{
    const char *key;
    json_t *v;
    json_object_foreach (r->body, key, v) {
        const char *const *k = patch_keys;
        while (*k && strcmp(*k, key)) k++;
        if (!*k) {
            reply_invalid(r, key, !strcmp(key, "supplier_id") ? "cannot be changed" : "is not a known field");
            return -1;
        }
    }
    return 0;
}

/* The stored product (JSON) with the body's fields over it. */
static int merge(struct req *r, json_t *cur, struct product *p)
{
    p->supplier_id = jint(cur, "supplier_id");
    p->name = json_string_value(json_object_get(cur, "name"));
    p->description = json_string_value(json_object_get(cur, "description"));
    p->unit = json_string_value(json_object_get(cur, "unit"));
    p->currency = json_string_value(json_object_get(cur, "currency"));
    p->image_url = json_string_value(json_object_get(cur, "image_url"));
    p->unit_price = jint(cur, "unit_price_cents");
    p->bulk_price = jint(cur, "bulk_price_cents");
    p->moq = jint(cur, "moq");
    p->min_pt = jint(cur, "min_per_trader");
    p->max_pt = jint(cur, "max_per_trader");
    p->active = json_is_true(json_object_get(cur, "active"));
    return apply_body(r, p);
}

static int update_product(struct db *db, int64_t id, const struct product *p)
{
    return db_exec(db, "UPDATE groupbuy_products SET name = $2, description = $3, unit = $4, unit_price_cents = $5, "
                       "bulk_price_cents = $6, currency = $7, moq = $8, min_per_trader = $9, max_per_trader = "
                       "NULLIF($10, 0), image_url = $11, active = $12, updated_at = " GB_NOW_SQL " WHERE id = $1",
                   DB_I(id), DB_S(p->name), DB_S(p->description), DB_S(p->unit), DB_I(p->unit_price),
                   DB_I(p->bulk_price), DB_S(p->currency), DB_I(p->moq), DB_I(p->min_pt), DB_I(p->max_pt),
                   DB_S(p->image_url), DB_I(p->active)) == 1 ? 0 : -1;
}

/* {field: new value} for each field that differs between before and after. */
static json_t *changes(json_t *before, json_t *after)
{
    json_t *out = json_object();
    for (const char *const *k = patch_keys; *k; k++) {
        json_t *a = json_object_get(after, *k);
        if (!json_equal(json_object_get(before, *k), a)) json_object_set(out, *k, a);
    }
    return out;
}

void groupbuy_products_patch(struct req *r)
{
    int64_t id = r->param_int[0], supplier_id = 0;
    struct product p;
    json_t *cur = NULL, *next = NULL, *changed = NULL;
    if (req_unpack_loose(r, "{}") < 0 || check_keys(r) < 0) return;
    if (db_int(r->db, &supplier_id, "SELECT supplier_id FROM groupbuy_products WHERE id = $1", DB_I(id)) != 1) {
        reply_not_found(r);
        return;
    }
    if (groupbuy_require_supplier(r, "groupbuy.products.write", supplier_id) < 0) return;
    if (db_begin(r->db) < 0) goto fail;
    if (!(cur = product_json(r->db, id))) goto rollback;
    if (merge(r, cur, &p) < 0) {
        db_rollback(r->db);
        goto out;
    }
    if (update_product(r->db, id, &p) < 0 || !(next = product_json(r->db, id))) goto rollback;
    changed = changes(cur, next);
    if (!json_object_size(changed)) {
        db_rollback(r->db);
        reply_json(r, 200, cur);
        cur = NULL;
        goto out;
    }
    if (audit_write(r->db, r, "groupbuy", "groupbuy.product.updated", "product", id,
                    json_pack("{s:O}", "changed", changed)) < 0 ||
        db_commit(r->db) < 0)
        goto rollback;
    reply_json(r, 200, next);
    next = NULL;
    goto out;
rollback:
    db_rollback(r->db);
fail:
    reply_db_error(r);
out:
    json_decref(cur);
    json_decref(next);
    json_decref(changed);
}
