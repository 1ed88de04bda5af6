/* preferences.c -- a user's codepop preferences: favourite drinks, default
 * store, notification settings. Only the user themself may read or change
 * them, or someone given codepop.preferences.manage explicitly (no role has
 * it, admins included); everyone else gets 403 whether or not the user exists.
 *
 * PUT replaces the whole document: a field left out goes back to its default
 * ([] / null / {}). Choices where the spec is silent: at most 50 favourite
 * drinks, no drink twice; notifications is any JSON object up to 4 KiB. */
#include "codepop.h"
#include <stdlib.h>
#include <string.h>

#define MAX_FAVOURITES 50
#define MAX_NOTIFICATIONS_BYTES 4096
#define PREFS_NOW "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

/* May the caller see and change user `id`'s preferences? Replies 403/404. */
static bool allowed(struct req *r, int64_t id)
{
    int64_t n = 0;
    if (r->user.id != id && !rbac_can(r, "codepop.preferences.manage", NULL, 0)) {
        reply_error(r, 403, "forbidden", "only the user may see or change their preferences");
        return false;
    }
    if (db_int(r->db, &n, "SELECT COUNT(*) FROM users WHERE id = $1", DB_I(id)) != 1 || !n) {
        reply_not_found(r);
        return false;
    }
    return true;
}

static json_t *prefs_json(struct db *db, int64_t id)
{
    json_t *p = db_json_one(db, "SELECT user_id, favourite_drinks AS favourite_drinks__json, default_store_id, "
                                "notifications AS notifications__json, updated_at FROM codepop_preferences "
                                "WHERE user_id = $1", DB_I(id));
    if (p) return p;
    return json_pack("{s:I, s:[], s:n, s:{}, s:n}", "user_id", (json_int_t)id, "favourite_drinks",
                     "default_store_id", "notifications", "updated_at");
}

void codepop_preferences_get(struct req *r)
{
    if (!allowed(r, r->param_int[0])) return;
    json_t *p = prefs_json(r->db, r->param_int[0]);
    if (p) reply_json(r, 200, p);
    else reply_db_error(r);
}

static int check_drinks(struct req *r, json_t *drinks)
{
    size_t i, j;
    json_t *d;
    int64_t n;
    if (!json_is_array(drinks) || json_array_size(drinks) > MAX_FAVOURITES) {
        reply_invalid(r, "favourite_drinks", "must be an array of at most 50 drink ids");
        return -1;
    }
    json_array_foreach (drinks, i, d) {
        const char *field = pool_printf(r->pool, "favourite_drinks[%zu]", i);
        if (!json_is_integer(d) || json_integer_value(d) <= 0) {
            reply_invalid(r, field, "must be a drink id");
            return -1;
        }
        for (j = 0; j < i; j++) {
            if (json_integer_value(json_array_get(drinks, j)) == json_integer_value(d)) {
                reply_invalid(r, field, "is listed twice");
                return -1;
            }
        }
        n = 0;
        if (db_int(r->db, &n, "SELECT COUNT(*) FROM codepop_drinks WHERE id = $1", DB_I(json_integer_value(d))) != 1 ||
            !n) {
            reply_invalid(r, field, "is not a known drink");
            return -1;
        }
    }
    return 0;
}

static int check_body(struct req *r, json_t *drinks, json_t *store, json_t *notes)
{
    int64_t n = 0;
    if (drinks && check_drinks(r, drinks) < 0) return -1;
    if (store && !json_is_null(store)) {
        if (!json_is_integer(store) || json_integer_value(store) <= 0) {
            reply_invalid(r, "default_store_id", "must be a store id or null");
            return -1;
        }
        if (db_int(r->db, &n, "SELECT COUNT(*) FROM codepop_stores WHERE id = $1", DB_I(json_integer_value(store))) != 1 ||
            !n) {
            reply_invalid(r, "default_store_id", "is not a known store");
            return -1;
        }
    }
    if (notes) {
        char *text = json_is_object(notes) ? json_dumps(notes, JSON_COMPACT) : NULL;
        size_t len = text ? strlen(text) : 0;
        free(text);
        if (!json_is_object(notes) || len > MAX_NOTIFICATIONS_BYTES) {
            reply_invalid(r, "notifications", "must be an object of at most 4096 bytes");
            return -1;
        }
    }
    return 0;
}

void codepop_preferences_put(struct req *r)
{
    int64_t id = r->param_int[0];
    json_t *drinks = NULL, *store = NULL, *notes = NULL, *p = NULL;
    if (!allowed(r, id) ||
        req_unpack(r, "{s?o, s?o, s?o}", "favourite_drinks", &drinks, "default_store_id", &store, "notifications",
                   &notes) < 0 ||
        check_body(r, drinks, store, notes) < 0)
        return;
    char *drinks_text = drinks ? json_dumps(drinks, JSON_COMPACT) : xstrdup("[]");
    char *notes_text = notes ? json_dumps(notes, JSON_COMPACT) : xstrdup("{}");
    bool has_store = store && json_is_integer(store);
    if (db_begin(r->db) < 0) goto fail;
    if (db_exec(r->db, "INSERT INTO codepop_preferences (user_id, favourite_drinks, default_store_id, notifications, "
                       "updated_at) VALUES ($1, $2, $3, $4, " PREFS_NOW ") ON CONFLICT (user_id) DO UPDATE SET "
                       "favourite_drinks = excluded.favourite_drinks, default_store_id = excluded.default_store_id, "
                       "notifications = excluded.notifications, updated_at = excluded.updated_at",
                DB_I(id), DB_S(drinks_text), has_store ? DB_I(json_integer_value(store)) : DB_NULL,
                DB_S(notes_text)) < 0 ||
        !(p = prefs_json(r->db, id)) ||
        audit_write(r->db, r, "codepop", "codepop.preferences.updated", "user", id,
                    json_pack("{s:O, s:O, s:O}", "favourite_drinks", json_object_get(p, "favourite_drinks"),
                              "default_store_id", json_object_get(p, "default_store_id"), "notifications",
                              json_object_get(p, "notifications"))) < 0 ||
        db_commit(r->db) < 0)
        goto fail;
    free(drinks_text);
    free(notes_text);
    reply_json(r, 200, p);
    return;
fail:
    db_rollback(r->db);
    free(drinks_text);
    free(notes_text);
    json_decref(p);
    reply_db_error(r);
}
