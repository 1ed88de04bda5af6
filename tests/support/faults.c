/* faults.c -- see faults.h. */
#include "faults.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STEPS 2000

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line per query: its text, row count and a BLAKE2b digest of its rows
 * (each row as sorted-key JSON, the rows sorted: a table's physical order
 * may differ between databases and after a rolled-back update). */
static void digest_query(struct db *db, const char *sql, char **out, size_t *len)
{
    json_t *rows = db_json_all(db, sql);
    cr_assert(rows, "snapshot: %s: %s", sql, db_errmsg(db));
    size_t n = json_array_size(rows), i;
    char **texts = xcalloc(n ? n : 1, sizeof *texts);
    json_t *row;
    json_array_foreach(rows, i, row) texts[i] = json_dumps(row, JSON_SORT_KEYS | JSON_COMPACT);
    qsort(texts, n, sizeof *texts, by_text);
    crypto_generichash_state state;
    unsigned char sum[16];
    char hex[33];
    crypto_generichash_init(&state, NULL, 0, sizeof sum);
    for (i = 0; i < n; i++) {
        crypto_generichash_update(&state, (const unsigned char *)texts[i], strlen(texts[i]) + 1);
        free(texts[i]);
    }
    free(texts);
    json_decref(rows);
    crypto_generichash_final(&state, sum, sizeof sum);
    sodium_bin2hex(hex, sizeof hex, sum, sizeof sum);
    size_t need = strlen(sql) + 64;
    *out = xrealloc(*out, *len + need);
    *len += (size_t)snprintf(*out + *len, need, "%s: %zu rows %s\n", sql, n, hex);
}

char *fault_snapshot(const char *tables)
{
    struct db *db = test_db();
    json_t *names = db_is_pg(db)
        ? db_json_all(db, "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() "
                          "AND table_type = 'BASE TABLE' AND table_name LIKE $1 ESCAPE '\\' ORDER BY table_name",
                      DB_S(tables))
        : db_json_all(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND "
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
        digest_query(db, sql, &out, &len);
        free(sql);
    }
    for (const char **q = fixed; *q; q++) digest_query(db, *q, &out, &len);
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
