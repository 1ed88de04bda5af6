/* faults.c -- see faults.h. */
#include "faults.h"
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STEPS 2000

/* SQLite-only: reads the values through the sqlite3 handle and lists tables
 * from sqlite_master; on PostgreSQL this needs the table list from
 * information_schema and the values through db_query.
 * One line per query: its text, row count and a BLAKE2b digest of every
 * value (type and bytes), read straight from SQLite (fast enough to run
 * twice per injected fault over a growing database). */
static void digest_query(struct db *db, const char *sql, char **out, size_t *len)
{
    sqlite3 *h = db_handle(db);
    sqlite3_stmt *st = NULL;
    crypto_generichash_state state;
    unsigned char sum[16];
    char hex[33];
    long rows = 0;
    cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "snapshot: %s: %s", sql, sqlite3_errmsg(h));
    crypto_generichash_init(&state, NULL, 0, sizeof sum);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rows++;
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            unsigned char type = (unsigned char)sqlite3_column_type(st, c);
            const void *p = sqlite3_column_blob(st, c);
            int n = sqlite3_column_bytes(st, c);
            crypto_generichash_update(&state, &type, 1);
            crypto_generichash_update(&state, (const unsigned char *)&n, sizeof n);
            if (p && n) crypto_generichash_update(&state, p, (unsigned long long)n);
        }
    }
    cr_assert_eq(rc, SQLITE_DONE, "snapshot: %s: %s", sql, sqlite3_errmsg(h));
    sqlite3_finalize(st);
    crypto_generichash_final(&state, sum, sizeof sum);
    sodium_bin2hex(hex, sizeof hex, sum, sizeof sum);
    size_t need = strlen(sql) + 64;
    *out = xrealloc(*out, *len + need);
    *len += (size_t)snprintf(*out + *len, need, "%s: %ld rows %s\n", sql, rows, hex);
}

char *fault_snapshot(const char *tables)
{
    json_t *names = db_json_all(test_db(), "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                           "name LIKE $1 ESCAPE '\\' ORDER BY name", DB_S(tables));
    cr_assert(names, "snapshot: table list");
    size_t i, len = 0;
    json_t *v;
    char *out = xstrdup("");
    const char *fixed[] = {"SELECT id, event_id, topic, type, payload FROM outbox ORDER BY id",
                           "SELECT * FROM audit_log ORDER BY id",
                           "SELECT user_id, key, route, status, response FROM idempotency_keys ORDER BY user_id, key",
                           "SELECT * FROM notifications ORDER BY id",
                           "SELECT * FROM user_roles ORDER BY id",
                           "SELECT id, username, email, status, language FROM users ORDER BY id",
                           NULL};
    json_array_foreach(names, i, v) {
        char *sql = xasprintf("SELECT * FROM \"%s\"", json_string_value(json_object_get(v, "name")));
        digest_query(test_db(), sql, &out, &len);
        free(sql);
    }
    for (const char **q = fixed; *q; q++) digest_query(test_db(), *q, &out, &len);
    json_decref(names);
    return out;
}

const char *fault_token(const char *username)
{
    static struct { char user[64]; char *token; } cache[16];
    size_t i;
    for (i = 0; i < 16 && cache[i].token; i++)
        if (!strcmp(cache[i].user, username)) return cache[i].token;
    cr_assert_lt(i, 16, "fault_token: too many users");
    snprintf(cache[i].user, sizeof cache[i].user, "%s", username);
    cache[i].token = test_token(username);
    return cache[i].token;
}

const char *const *fault_key_header(const char *key)
{
    static char line[300];
    static const char *headers[2] = {line, NULL};
    snprintf(line, sizeof line, "Idempotency-Key: %s", key);
    return headers;
}

/* The first line where a and b differ, for the failure message. */
static const char *first_diff(const char *a, const char *b, char *out, size_t n)
{
    const char *line = a;
    for (; *a && *a == *b; a++, b++)
        if (*a == '\n') line = a + 1;
    snprintf(out, n, "%.300s", line);
    return out;
}

static int walk(const struct fault_walk *w, unsigned ops, bool busy)
{
    int injected = 0;
    for (long n = 1; n <= MAX_STEPS; n++) {
        char key[96], where[320];
        snprintf(key, sizeof key, "fw-%s-%ld-%d", w->name, n, busy);
        if (w->prepare) w->prepare();
        char *before = fault_snapshot(w->tables);
        db_fault_arm(ops, n, busy);
        struct resp *r = w->send(key);
        bool fired = db_fault_fired();
        db_fault_disarm();
        if (!fired) {
            cr_assert_eq(r->status, w->ok, "%s: nothing injected at %ld, answered %d: %s", w->name, n, r->status,
                         r->body);
            resp_free(r);
            free(before);
            return injected;
        }
        injected++;
        cr_assert(r->status >= 500 && r->json && *resp_error_code(r), "%s: fault %s at operation %ld answered %d: %s",
                  w->name, busy ? "busy" : "error", n, r->status, r->body);
        char *after = fault_snapshot(w->tables);
        cr_assert(!strcmp(before, after), "%s: fault %s at operation %ld (%d %s) changed the database at:\n%s",
                  w->name, busy ? "busy" : "error", n, r->status, resp_error_code(r),
                  first_diff(after, before, where, sizeof where));
        int64_t checked = 0;
        cr_assert_eq(audit_verify(test_db(), &checked), 0, "%s: audit chain broken after fault %ld", w->name, n);
        resp_free(r);
        free(after);
        free(before);
        r = w->send(key);
        cr_assert_eq(r->status, w->ok, "%s: the retry after fault %ld answered %d: %s", w->name, n, r->status, r->body);
        resp_free(r);
    }
    cr_assert_fail("%s: still failing after %d injected faults", w->name, MAX_STEPS);
    return injected;
}

int fault_walk(const struct fault_walk *w)
{
    int n = walk(w, DB_OP_ALL, false);
    cr_log_info("%s: %d faults injected", w->name, n);
    cr_assert_gt(n, 0, "%s: no database operation was reached", w->name);
    /* SQLITE_BUSY comes when taking the write lock (BEGIN IMMEDIATE) or
     * committing past another process: those are walked as busy */
    return n + walk(w, DB_OP_BEGIN | DB_OP_COMMIT, true);
}

struct resp *fault_post(const char *path, const char *as, const char *key, const char *body)
{
    return api_h("POST", path, fault_token(as), body, key ? fault_key_header(key) : NULL);
}
