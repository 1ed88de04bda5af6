/* inventory.c -- store and hub stock.
 *
 * Every stock change of a store goes through codepop_inventory_adjust()
 * inside the caller's transaction: one guarded UPDATE that never takes a
 * quantity below zero, then the low-stock bookkeeping. low_notified is 1 while
 * an item sits at or below its threshold, so the managers hear about it once
 * per crossing, not once per order; rising above the threshold again clears
 * it, and the next crossing notifies again. */
#include "codepop.h"
#include <string.h>

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

/* At or below the threshold for the first time since it was last above:
 * mark it, tell the store's managers and the realtime topic. */
static int low_crossed(struct db *db, int64_t store_id, int64_t item_id, const char *item_name, int64_t qty,
                       int64_t threshold)
{
    if (db_exec(db, "UPDATE codepop_store_inventory SET low_notified = 1 WHERE id = $1", DB_I(item_id)) != 1)
        return -1;
    json_t *data = json_pack("{s:I, s:s, s:I, s:I}", "store_id", (json_int_t)store_id, "item_name", item_name,
                             "quantity", (json_int_t)qty, "threshold_level", (json_int_t)threshold);
    char title[200];
    snprintf(title, sizeof title, "Low stock: %s (%lld left)", item_name, (long long)qty);
    if (codepop_notify_role(db, "manager", store_id, "inventory.low", title, json_deep_copy(data)) < 0) {
        json_decref(data);
        return -1;
    }
    return codepop_emit(db, store_id, "INVENTORY_LOW", data);
}

int codepop_inventory_adjust(struct db *db, int64_t store_id, const char *item_name, int64_t delta)
{
    if (!db_in_tx(db) || !item_name) return -1;
    json_t *row = db_json_one(db,
                              "UPDATE codepop_store_inventory SET quantity = quantity + $3, updated_at = " NOW_SQL " "
                              "WHERE store_id = $1 AND item_name = $2 AND quantity + $3 >= 0 "
                              "RETURNING id, quantity, threshold_level, low_notified",
                              DB_I(store_id), DB_S(item_name), DB_I(delta));
    if (!row) {     /* short of stock (-2), or no such item / an error (-1) */
        int64_t short_of = 0;
        int found = db_int(db, &short_of, "SELECT quantity + $3 < 0 FROM codepop_store_inventory "
                                          "WHERE store_id = $1 AND item_name = $2",
                           DB_I(store_id), DB_S(item_name), DB_I(delta));
        return found == 1 && short_of ? -2 : -1;
    }
    int64_t id = json_integer_value(json_object_get(row, "id"));
    int64_t qty = json_integer_value(json_object_get(row, "quantity"));
    int64_t threshold = json_integer_value(json_object_get(row, "threshold_level"));
    bool notified = json_integer_value(json_object_get(row, "low_notified")) != 0;
    json_decref(row);
    if (delta < 0 && qty <= threshold && !notified) return low_crossed(db, store_id, id, item_name, qty, threshold);
    if (qty > threshold && notified)
        return db_exec(db, "UPDATE codepop_store_inventory SET low_notified = 0 WHERE id = $1", DB_I(id)) == 1 ? 0 : -1;
    return 0;
}

int codepop_inventory_receive(struct db *db, int64_t store_id, const char *item_name, const char *item_type,
                              int64_t quantity)
{
    if (!db_in_tx(db) || !item_name || !*item_name || quantity < 0) return -1;
    if (db_exec(db,
                "INSERT INTO codepop_store_inventory (store_id, item_type, item_name, quantity, threshold_level) "
                "VALUES ($1, $2, $3, $4, 0) ON CONFLICT (store_id, item_name) DO UPDATE SET "
                "quantity = codepop_store_inventory.quantity + excluded.quantity, updated_at = " NOW_SQL,
                DB_I(store_id), DB_S(item_type && *item_type ? item_type : "Other"), DB_S(item_name),
                DB_I(quantity)) != 1)
        return -1;
    return db_exec(db, "UPDATE codepop_store_inventory SET low_notified = 0 "
                       "WHERE store_id = $1 AND item_name = $2 AND low_notified = 1 AND quantity > threshold_level",
                   DB_I(store_id), DB_S(item_name)) < 0 ? -1 : 0;
}

/* ----------------------------------------------------------------- routes */

#define ITEM_COLUMNS "id, store_id, item_type, item_name, quantity, threshold_level, " \
                     "quantity <= threshold_level AS low__bool, updated_at"

void codepop_store_inventory(struct req *r)
{
    struct page pg;
    int64_t store_id = r->param_int[0];
    if (codepop_require_store(r, "codepop.inventory.read", store_id) < 0 || req_page(r, &pg) < 0) return;
    const char *type = req_query(r, "item_type");
#define INV_WHERE "WHERE store_id = $1 AND (CAST($2 AS TEXT) IS NULL OR item_type = $2) "
    reply_page(r, &pg, "SELECT COUNT(*) FROM codepop_store_inventory " INV_WHERE,
               "SELECT " ITEM_COLUMNS " FROM codepop_store_inventory " INV_WHERE
               "ORDER BY item_type, item_name LIMIT $3 OFFSET $4",
               DB_I(store_id), DB_S(type));
}

/* Characters (UTF-8 code points) in s, ignoring surrounding blanks. */
static size_t text_chars(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    size_t n = strlen(s), chars = 0;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) chars++;
    return chars;
}

/* PATCH {quantity_delta, reason}: a manager's correction (breakage, count). */
void codepop_store_inventory_patch(struct req *r)
{
    int64_t store_id = r->param_int[0], item_id = r->param_int[1];
    json_int_t delta = 0;
    const char *reason = NULL;
    if (codepop_require_store(r, "codepop.inventory.write", store_id) < 0) return;
    if (req_unpack(r, "{s:I, s:s}", "quantity_delta", &delta, "reason", &reason) < 0) return;
    if (delta == 0 || delta < -100000 || delta > 100000) {
        reply_invalid(r, "quantity_delta", "must be non-zero and between -100000 and 100000");
        return;
    }
    size_t chars = text_chars(reason);
    if (chars < 1 || chars > 200) {
        reply_invalid(r, "reason", "must be 1 to 200 characters");
        return;
    }
    if (db_begin(r->db) < 0) {
        reply_db_error(r);
        return;
    }
    char *name = db_text(r->db, "SELECT item_name FROM codepop_store_inventory WHERE id = $1 AND store_id = $2",
                         DB_I(item_id), DB_I(store_id));
    if (!name) {
        db_rollback(r->db);
        reply_error(r, 404, "not_found", "no inventory item %lld in store %lld", (long long)item_id,
                    (long long)store_id);
        return;
    }
    int rc = codepop_inventory_adjust(r->db, store_id, name, delta);
    if (rc == -2) {
        db_rollback(r->db);
        reply_error(r, 409, "insufficient_stock", "%s would go below zero", name);
        free(name);
        return;
    }
    json_t *item = rc == 0 ? db_json_one(r->db, "SELECT " ITEM_COLUMNS " FROM codepop_store_inventory WHERE id = $1",
                                         DB_I(item_id)) : NULL;
    json_t *summary = json_pack("{s:I, s:s, s:I, s:s, s:O}", "store_id", (json_int_t)store_id, "item_name", name,
                                "quantity_delta", delta, "reason", reason, "quantity",
                                item ? json_object_get(item, "quantity") : json_null());
    free(name);
    if (!item || audit_write(r->db, r, "codepop", "codepop.store_inventory.adjusted", "store_inventory", item_id, summary) < 0 ||
        db_commit(r->db) < 0) {
        if (!item) json_decref(summary);
        db_rollback(r->db);
        json_decref(item);
        reply_db_error(r);
        return;
    }
    reply_json(r, 200, item);
}

void codepop_hub_inventory(struct req *r)
{
    struct page pg;
    int64_t hub_id = r->param_int[0];
    int64_t region = codepop_hub_region(r->db, hub_id);
    if (!region) {
        reply_error(r, 404, "not_found", "no hub %lld", (long long)hub_id);
        return;
    }
    if (codepop_require_region(r, "codepop.hub_inventory.read", region) < 0 || req_page(r, &pg) < 0) return;
    const char *type = req_query(r, "item_type");
#define HUB_WHERE "WHERE hub_id = $1 AND (CAST($2 AS TEXT) IS NULL OR item_type = $2) "
    reply_page(r, &pg, "SELECT COUNT(*) FROM codepop_hub_inventory " HUB_WHERE,
               "SELECT id, hub_id, item_type, item_name, quantity, updated_at "
               "FROM codepop_hub_inventory " HUB_WHERE
               "ORDER BY item_type, item_name LIMIT $3 OFFSET $4",
               DB_I(hub_id), DB_S(type));
}
