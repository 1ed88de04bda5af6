/* audit.c -- the append-only, hash-chained audit log.
 *
 * Every successful state change writes one row inside the caller's own
 * transaction, so the row commits with the change and never without it. Each
 * row's hash is SHA-256 over the previous row's hash and the row's canonical
 * content; the database refuses UPDATE and DELETE (triggers in 001_core.sql),
 * and audit_verify() finds the first row whose chain does not hold. Writers
 * are serialized by the write transaction (BEGIN IMMEDIATE), so reading the
 * last hash and appending cannot interleave. */
#include "atrium.h"
#include "internal.h"
#include <stdlib.h>
#include <string.h>

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* Keys that must never reach the log, at any depth. */
static bool secret_key(const char *k)
{
    static const char *bad[] = {"password", "token", "secret", "card", "cvv", "totp", "code", NULL};
    for (const char **b = bad; *b; b++)
        if (strstr(k, *b)) return true;
    return false;
}

static void scrub(json_t *j)
{
    const char *k;
    json_t *v;
    void *tmp;
    size_t i;
    if (json_is_object(j)) {
        json_object_foreach_safe(j, tmp, k, v) {
            if (secret_key(k)) json_object_set_new(j, k, json_string("[redacted]"));
            else scrub(v);
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v) scrub(v);
    }
}

/* The canonical text hashed for a row: a compact JSON array of its fields. */
static char *canonical(const char *at, int64_t user_id, const char *app, const char *action, const char *ttype,
                       int64_t tid, const char *rid, const char *ip, const char *summary)
{
    json_t *a = json_pack("[s, I, s, s, s?, I, s?, s?, s]", at, (json_int_t)user_id, app, action, ttype,
                          (json_int_t)tid, rid, ip, summary);
    char *out = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return out;
}

static void chain_hash(const char *prev, const char *content, char out[65])
{
    char *buf = xasprintf("%s%s", prev, content);
    crypto_sha256_hex(buf, strlen(buf), out);
    free(buf);
}

static int write_row(struct db *db, int64_t user_id, const char *rid, const char *ip, const char *app,
                     const char *action, const char *ttype, int64_t tid, json_t *summary)
{
    int rc = -1;
    char *prev = NULL, *content = NULL, *text = NULL;
    if (!db_in_tx(db)) {
        log_error("audit_write(%s) outside a transaction", action);
        goto out;
    }
    if (!summary) summary = json_object();
    scrub(summary);
    text = json_dumps(summary, JSON_COMPACT | JSON_SORT_KEYS);
    /* always one row, so NULL is a failed read, never "first row" (which
     * would restart the chain) */
    prev = db_text(db, "SELECT COALESCE((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), $1)", DB_S(GENESIS));
    if (!prev) goto out;
    char at[32], hash[65];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    content = canonical(at, user_id, app, action, ttype, tid, rid, ip, text);
    chain_hash(prev, content, hash);
    rc = db_exec(db, "INSERT INTO audit_log (at, user_id, app, action, target_type, target_id, request_id, "
                     "client_ip, summary, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
                 DB_S(at), user_id ? DB_I(user_id) : DB_NULL, DB_S(app), DB_S(action), DB_S(ttype), DB_I(tid),
                 DB_S(rid), DB_S(ip), DB_S(text), DB_S(prev), DB_S(hash)) < 0 ? -1 : 0;
out:
    json_decref(summary);
    free(prev);
    free(content);
    free(text);
    return rc;
}

int audit_write(struct db *db, struct req *r, const char *app, const char *action, const char *target_type,
                int64_t target_id, json_t *summary)
{
    return write_row(db, r ? r->user.id : 0, r ? r->request_id : NULL, r ? r->client_ip : NULL, app, action,
                     target_type, target_id, summary);
}

int audit_write_as(struct db *db, int64_t actor_id, const char *app, const char *action, const char *target_type,
                   int64_t target_id, json_t *summary)
{
    return write_row(db, actor_id, NULL, "cli", app, action, target_type, target_id, summary);
}

int64_t audit_verify(struct db *db, int64_t *rows_checked)
{
    struct db_rows rows;
    char prev[65] = GENESIS, hash[65];
    int64_t bad = 0;
    *rows_checked = 0;
    if (db_query(db, &rows, "SELECT id, at, COALESCE(user_id, 0), app, action, target_type, COALESCE(target_id, 0), "
                            "request_id, client_ip, summary, prev_hash, hash FROM audit_log ORDER BY id") < 0)
        return -1;
    while (!bad && db_step(&rows)) {
        (*rows_checked)++;
        char *content = canonical(db_col_text(&rows, 1), db_col_int(&rows, 2), db_col_text(&rows, 3),
                                  db_col_text(&rows, 4), db_col_text(&rows, 5), db_col_int(&rows, 6),
                                  db_col_text(&rows, 7), db_col_text(&rows, 8), db_col_text(&rows, 9));
        chain_hash(prev, content, hash);
        free(content);
        if (strcmp(prev, db_col_text(&rows, 10)) || strcmp(hash, db_col_text(&rows, 11))) bad = db_col_int(&rows, 0);
        snprintf(prev, sizeof prev, "%s", db_col_text(&rows, 11));
    }
    db_rows_close(&rows);
    return bad;
}

/* ------------------------------------------------------------ GET /audit */

void audit_list(struct req *r)
{
    struct page pg;
    int64_t user_id;
    if (req_page(r, &pg) < 0 || req_query_int(r, "user_id", 0, &user_id) < 0) return;
    const char *app = req_query(r, "app"), *action = req_query(r, "action"), *since = req_query(r, "since");
#define AUDIT_WHERE "WHERE ($1 IS NULL OR app = $1) AND ($2 = 0 OR user_id = $2) " \
                    "AND ($3 IS NULL OR action = $3) AND ($4 IS NULL OR at >= $4) "
    int64_t total = 0;
    json_t *items = NULL;
    if (since && (strlen(since) < 10 || since[4] != '-' || since[7] != '-')) {
        reply_invalid(r, "since", "must be an RFC 3339 time or date (2026-11-21T09:30:00Z)");
        return;
    }
    if (db_int(r->db, &total, "SELECT COUNT(*) FROM audit_log " AUDIT_WHERE, DB_S(app), DB_I(user_id),
               DB_S(action), DB_S(since)) < 0 ||
        !(items = db_json_all(r->db, "SELECT id, at, user_id, app, action, target_type, target_id, request_id, "
                                     "client_ip, summary AS summary__json, hash FROM audit_log " AUDIT_WHERE
                                     "ORDER BY id DESC LIMIT $5 OFFSET $6",
                              DB_S(app), DB_I(user_id), DB_S(action), DB_S(since), DB_I(pg.size), DB_I(pg.offset))))
        reply_db_error(r);
    else
        reply_list(r, items, &pg, total);
}
