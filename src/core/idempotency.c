/* idempotency.c -- Idempotency-Key handling for routes flagged
 * ROUTE_IDEMPOTENT (money and stock). http.c runs such routes on the worker
 * pool and calls idem_begin() before and idem_end() after the handler.
 *
 * The same (user, key) is serialized by a striped in-process mutex held from
 * lookup to store, so 50 concurrent requests with one key run the handler once
 * and the other 49 replay its answer. With several instances on PostgreSQL,
 * the lookup runs inside the request's held write transaction (db.c: its
 * advisory lock admits one writer at a time across instances), so a
 * duplicate on another instance looks only after the first one's key row
 * has committed, and replays it.
 *
 * The key row commits with the handler's last transaction, or neither does:
 * http.c holds a handler's transactions until its answer is known (db_hold,
 * see db.c), idem_end() writes the answer inside what is held, and the
 * commit after it takes both. The stripe is released only after that commit
 * (idem_release), so a duplicate never looks before the row is there. A
 * failure of ours (500, 503) rolls back what is held, key row included, so
 * the retry runs afresh. A handler with several transactions (claim,
 * provider call, record: ARCHITECTURE "Payments") has the earlier ones
 * committed before an outbound call (httpc.c flushes what is held), so a
 * provider is never called with the write lock taken; a crash between them
 * leaves the claim, which the handler's own state checks resolve on retry.
 * Keys live 24 h (core.cleanup * job). */
#include "atrium.h"
#include "internal.h"
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 64
#define KEY_TTL 86400

static pthread_mutex_t stripes[STRIPES] = {[0 ... STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER};

struct idem {
    pthread_mutex_t *lock;
    const char *key;
    const char *route;
    char body_hash[65];
};

static bool key_is_sane(const char *k)
{
    size_t n = strlen(k);
    if (!n || n > 255) return false;
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e) return false;
    return true;
}

static pthread_mutex_t *stripe_for(int64_t user_id, const char *key)
{
    uint32_t h = 2166136261u ^ (uint32_t)user_id;
    for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    return &stripes[h % STRIPES];
}

static void replay(struct req *r, struct db_rows *rows)
{
    size_t len;
    const void *body = db_col_blob(rows, 4, &len);
    reply_raw(r, (int)db_col_int(rows, 2), pool_strdup(r->pool, db_col_text(rows, 3)), body, len);
    reply_header(r, "Idempotent-Replayed", "true");
}

int idem_begin(struct req *r)
{
    const char *key = req_header(r, "Idempotency-Key");
    if (!key) return 0;
    if (!key_is_sane(key)) {
        reply_invalid(r, "Idempotency-Key", "must be 1-255 visible ASCII characters");
        return 1;
    }
    struct idem *st = pool_alloc(r->pool, sizeof *st);
    st->key = key;
    st->route = pool_printf(r->pool, "%s %s", r->route->method, r->path);
    crypto_sha256_hex(r->raw_body, r->raw_len, st->body_hash);
    st->lock = stripe_for(r->user.id, key);
    pthread_mutex_lock(st->lock);

    struct db_rows rows;
    bool locked = db_is_pg(r->db);      /* held by run_handler until the answer commits */
    char *name = locked ? pool_printf(r->pool, "%lld:%s", (long long)r->user.id, key) : NULL;
    if ((locked && (db_begin(r->db) < 0 || db_lock_idempotency(r->db, name) < 0)) ||   /* row locks: one request per key */
        db_query(r->db, &rows, "SELECT route, body_hash, status, content_type, response FROM idempotency_keys "
                               "WHERE user_id = $1 AND key = $2 AND created_at > $3",
                 DB_I(r->user.id), DB_S(key), DB_I((int64_t)time(NULL) - KEY_TTL)) < 0) {
        if (locked && db_in_tx(r->db)) db_rollback(r->db);
        pthread_mutex_unlock(st->lock);
        reply_db_error(r);
        return 1;
    }
    int rc = 0;
    if (db_step(&rows)) {
        rc = 1;
        if (strcmp(db_col_text(&rows, 0), st->route) || strcmp(db_col_text(&rows, 1), st->body_hash))
            reply_error(r, 409, "idempotency_key_reused", "this Idempotency-Key was used with another request");
        else
            replay(r, &rows);
    } else if (rows.last_rc != SQLITE_DONE) {  /* unknown is not "none": running again could pay twice */
        rc = 1;
        reply_db_error(r);
    }
    db_rows_close(&rows);
    if (locked && db_commit(r->db) < 0 && !rc) {
        rc = 1;
        reply_db_error(r);
    }
    if (rc) {
        pthread_mutex_unlock(st->lock);
    } else {
        r->idem = st;           /* run_handler() already holds the request's transactions */
    }
    return rc;
}

/* Inside the held transaction: the answer, stored for replay. */
static int store(struct req *r, struct idem *st)
{
    if (db_begin(r->db) < 0) return -1;
    /* an expired row of the same key may still be there until core.cleanup runs */
    if (db_exec(r->db, "INSERT INTO idempotency_keys "
                       "(user_id, key, route, body_hash, status, content_type, response, created_at) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id, key) DO UPDATE SET "
                       "route = excluded.route, body_hash = excluded.body_hash, status = excluded.status, "
                       "content_type = excluded.content_type, response = excluded.response, "
                       "created_at = excluded.created_at",
                DB_I(r->user.id), DB_S(st->key), DB_S(st->route), DB_S(st->body_hash), DB_I(r->status),
                DB_S(r->resp_type ? r->resp_type : "application/json; charset=utf-8"),
                DB_B(r->resp_body ? r->resp_body : "", r->resp_len), DB_I((int64_t)time(NULL))) != 1) {
        db_rollback(r->db);
        return -1;
    }
    return db_commit(r->db);
}

void idem_end(struct req *r)
{
    struct idem *st = r->idem;
    /* server errors and rate limits are not answers worth replaying */
    if (st && r->status && r->status < 500 && r->status != 429 && store(r, st) < 0) reply_db_error(r);
}

void idem_release(struct req *r)
{
    struct idem *st = r->idem;
    if (!st) return;
    r->idem = NULL;
    pthread_mutex_unlock(st->lock);
}

/* core.cleanup job calls this. */
int idem_expire(struct db *db)
{
    return db_exec(db, "DELETE FROM idempotency_keys WHERE created_at <= $1", DB_I((int64_t)time(NULL) - KEY_TTL));
}
