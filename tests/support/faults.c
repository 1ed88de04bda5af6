/* faults.c -- see faults.h. */
#include "faults.h"
#include <stdlib.h>
#include <string.h>

#define MAX_STEPS 2000

static char *table_text(const char *sql)
{
    json_t *rows = db_json_all(test_db(), sql);
    cr_assert(rows, "snapshot query failed: %s", sql);
    char *text = json_dumps(rows, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(rows);
    return text;
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
                           NULL};
    json_array_foreach(names, i, v) {
        char *sql = xasprintf("SELECT * FROM \"%s\"", json_string_value(json_object_get(v, "name")));
        char *t = table_text(sql);
        out = xrealloc(out, len + strlen(sql) + strlen(t) + 3);
        len += (size_t)sprintf(out + len, "%s\n%s\n", sql, t);
        free(t);
        free(sql);
    }
    for (const char **q = fixed; *q; q++) {
        char *t = table_text(*q);
        out = xrealloc(out, len + strlen(*q) + strlen(t) + 3);
        len += (size_t)sprintf(out + len, "%s\n%s\n", *q, t);
        free(t);
    }
    json_decref(names);
    return out;
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
    cr_assert_gt(n, 0, "%s: no database operation was reached", w->name);
    return n + walk(w, DB_OP_BEGIN | DB_OP_STEP, true);
}
