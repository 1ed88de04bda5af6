/* audit.c -- the append-only, hash-chained audit log.
 *
 * Every successful state change writes one row inside the caller's own
 * transaction, so the row commits with the change and never without it. Each
 * row's hash is SHA-256 over the previous row's hash and the row's canonical
 * content; the database refuses UPDATE and DELETE (triggers in 001_core.sql),
 * and audit_verify() finds the first row whose chain does not hold. Writers
 * are serialized by the write transaction (BEGIN IMMEDIATE; on PostgreSQL its
 * advisory lock; in row-lock mode the row is appended at the commit under the
 * tail lock, db_append), so reading the last hash and appending cannot
 * interleave. */
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

/* One row of the chain, appended by chain_append (now, or at the commit in
 * row-lock mode: db_append). */
struct chain_row {
    int64_t user_id, tid;
    char *app, *action, *ttype, *rid, *ip, *summary;
    char at[32];
};

static void chain_row_free(void *arg)
{
    struct chain_row *row = arg;
    free(row->app);
    free(row->action);
    free(row->ttype);
    free(row->rid);
    free(row->ip);
    free(row->summary);
    free(row);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static int chain_append(struct db *db, void *arg)
{
    struct chain_row *row = arg;
    char hash[65];
    /* always one row, so NULL is a failed read, never "first row" (which
     * would restart the chain) */
    char *prev = db_text(db, "SELECT COALESCE((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), $1)",
                         DB_S(GENESIS));
    if (!prev) return -1;
    char *content = canonical(row->at, row->user_id, row->app, row->action, row->ttype, row->tid, row->rid, row->ip,
                              row->summary);
    chain_hash(prev, content, hash);
    int rc = db_exec(db, "INSERT INTO audit_log (at, user_id, app, action, target_type, target_id, request_id, "
                         "client_ip, summary, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
                     DB_S(row->at), row->user_id ? DB_I(row->user_id) : DB_NULL, DB_S(row->app), DB_S(row->action),
                     DB_S(row->ttype), DB_I(row->tid), DB_S(row->rid), DB_S(row->ip), DB_S(row->summary), DB_S(prev),
                     DB_S(hash)) < 0 ? -1 : 0;
    free(prev);
    free(content);
    return rc;
}

static int write_row(struct db *db, int64_t user_id, const char *rid, const char *ip, const char *app,
                     const char *action, const char *ttype, int64_t tid, json_t *summary)
{
    if (!db_in_tx(db)) {
        log_error("audit_write(%s) outside a transaction", action);
        json_decref(summary);
        return -1;
    }
    if (!summary) summary = json_object();
    scrub(summary);
    struct chain_row *row = xcalloc(1, sizeof *row);
    row->user_id = user_id;
    row->tid = tid;
    row->app = dup_or_null(app);
    row->action = dup_or_null(action);
    row->ttype = dup_or_null(ttype);
    row->rid = dup_or_null(rid);
    row->ip = dup_or_null(ip);
    row->summary = json_dumps(summary, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(summary);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(row->at, sizeof row->at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return db_append(db, chain_append, row, chain_row_free);
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

/* Who may read which rows: core.audit.read reads every row; <app>.audit.read
 * (an app's admin role holds it) reads that app's rows, asked with ?app=<app>.
 * Sets *app to the app the caller is confined to (NULL: any). */
static int audit_access(struct req *r, const char **app)
{
    if (rbac_can(r, "core.audit.read", NULL, 0)) return 0;
    if (*app && app_find(*app) && strcmp(*app, "core") && config_app_enabled(*app)) {
        char perm[APP_PERM_MAX];
        bool global = false;
        size_t n;
        /* held without scope: a scoped role never reads a whole app's log */
        rbac_scopes(r, app_audit_perm(*app, perm), "", &global, &n);
        if (global) return 0;
        rbac_reply_forbidden(r, perm);
        return -1;
    }
    rbac_reply_forbidden(r, "core.audit.read");
    return -1;
}

/* since/until: an RFC 3339 time or a date; a date as until covers its whole day. */
static int time_param(struct req *r, const char *name, bool end, const char **out)
{
    const char *v = req_query(r, name);
    *out = NULL;
    if (!v) return 0;
    if (strlen(v) < 10 || v[4] != '-' || v[7] != '-' || (v[10] && v[10] != 'T')) {
        reply_invalid(r, name, "must be an RFC 3339 time or date (2026-11-21T09:30:00Z)");
        return -1;
    }
    *out = end && !v[10] ? pool_printf(r->pool, "%sT23:59:59Z", v) : v;
    return 0;
}

/* Rows keep the action they were hashed with; each is answered under its
 * current name (audit_action_aliases), with recorded_action when that differs,
 * and ?action= matches either name. */
void audit_list(struct req *r)
{
    struct page pg;
    int64_t user_id, target_id, total = 0;
    const char *app = req_query(r, "app"), *action = req_query(r, "action"), *ttype = req_query(r, "target_type");
    const char *since, *until, *sort = req_query(r, "sort");
    json_t *items = NULL, *v;
    size_t i;
    if (audit_access(r, &app) < 0 || req_page(r, &pg) < 0 || req_query_int(r, "user_id", 0, &user_id) < 0 ||
        req_query_int(r, "target_id", 0, &target_id) < 0 || time_param(r, "since", false, &since) < 0 ||
        time_param(r, "until", true, &until) < 0)
        return;
    if (sort && strcmp(sort, "at") && strcmp(sort, "-at")) {
        reply_invalid(r, "sort", "must be \"at\" or \"-at\"");
        return;
    }
#define AUDIT_FROM "FROM audit_log a LEFT JOIN audit_action_aliases al ON al.app = a.app AND al.old_action = a.action " \
                   "WHERE (CAST($1 AS TEXT) IS NULL OR a.app = $1) AND ($2 = 0 OR a.user_id = $2) " \
                   "AND (CAST($3 AS TEXT) IS NULL OR a.action = $3 OR al.action = $3) AND (CAST($4 AS TEXT) IS NULL OR a.at >= $4) " \
                   "AND (CAST($5 AS TEXT) IS NULL OR a.at <= $5) AND (CAST($6 AS TEXT) IS NULL OR a.target_type = $6) " \
                   "AND ($7 = 0 OR a.target_id = $7) "
#define AUDIT_SELECT "SELECT a.id, a.at, a.user_id, a.app, COALESCE(al.action, a.action) AS action, " \
                     "CASE WHEN al.action IS NULL THEN NULL ELSE a.action END AS recorded_action, a.target_type, " \
                     "a.target_id, a.request_id, a.client_ip, a.summary AS summary__json, a.hash " AUDIT_FROM
#define AUDIT_ARGS DB_S(app), DB_I(user_id), DB_S(action), DB_S(since), DB_S(until), DB_S(ttype), DB_I(target_id)
    if (db_int(r->db, &total, "SELECT COUNT(*) " AUDIT_FROM, AUDIT_ARGS) < 0 ||
        !(items = db_json_all(r->db, sort && !strcmp(sort, "at")
                  ? AUDIT_SELECT "ORDER BY a.id LIMIT $8 OFFSET $9"
                  : AUDIT_SELECT "ORDER BY a.id DESC LIMIT $8 OFFSET $9",
                  AUDIT_ARGS, DB_I(pg.size), DB_I(pg.offset)))) {
        reply_db_error(r);
        return;
    }
    json_array_foreach(items, i, v)
        if (json_is_null(json_object_get(v, "recorded_action"))) json_object_del(v, "recorded_action");
    reply_list(r, items, &pg, total);
}
