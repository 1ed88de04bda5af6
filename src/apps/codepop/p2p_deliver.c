/* p2p_deliver.c -- the sending side: the codepop.p2p_deliver job POSTs
 * pending outbox rows to their peers (signed, libcurl, no transaction held
 * during the call), retries with exponential backoff and jitter, marks failed
 * after codepop_node.max_attempts; the admin list and retry of those rows,
 * /p2p/health, and the cleanup of remembered signatures.
 *
 * Order per peer: a row is only sent when no earlier pending row of the same
 * target is waiting out a backoff, and the first failure to a target in a
 * round holds back that target's later rows, so a peer sees its events in
 * the order they were written. */
#include "p2p.h"
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 100

struct outgoing {
    int64_t id;
    int attempts;
    char *event_id, *type, *source, *target, *payload, *created_at;
};

/* ---------------------------------------------------- hub registration */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t reg_next_try;
static int reg_delay;

/* A store node without a hub credential (or told by the hub that its
 * credential is no longer valid: force) registers again, backing off
 * between failed tries like event delivery does. */
static void ensure_hub(struct db *db, bool force)
{
    int64_t known = 0;
    char err[256];
    if (!codepop_node.is_store) return;
    if (!force && db_int(db, &known, "SELECT COUNT(*) FROM codepop_nodes WHERE node_type = 'hub' "
                                     "AND status = 'active'") == 1 && known)
        return;
    int64_t now = (int64_t)time(NULL);
    pthread_mutex_lock(&reg_lock);
    if (!force && now < reg_next_try) {
        pthread_mutex_unlock(&reg_lock);
        return;
    }
    if (p2p_register_with_hub(db, err, sizeof err) == 0) {
        reg_delay = 0;
        reg_next_try = 0;
    } else {
        reg_delay = reg_delay ? reg_delay * 2 : 2;
        if (reg_delay > codepop_node.max_backoff_s) reg_delay = codepop_node.max_backoff_s;
        reg_next_try = now + reg_delay;
        log_warn("codepop: registration with hub %s failed: %s (next try in %d s)", codepop_node.hub_url, err, reg_delay);
    }
    pthread_mutex_unlock(&reg_lock);
}

/* ------------------------------------------------------------- one event */

/* Seconds before try number attempts+1: min(max_backoff, 2^attempts), +-25% jitter. */
static int64_t backoff(int attempts)
{
    int64_t cap = codepop_node.max_backoff_s > 0 ? codepop_node.max_backoff_s : 60, d = 1;
    for (int i = 0; i < attempts && d < cap; i++) d *= 2;
    if (d > cap) d = cap;
    int64_t j = d / 4;
    if (j > 0) d += (int64_t)randombytes_uniform((uint32_t)(2 * j + 1)) - j;
    return d < 1 ? 1 : d;
}

static char *event_body(const struct outgoing *e)
{
    json_t *payload = json_loads(e->payload, JSON_DECODE_ANY, NULL);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o}", "event_id", e->event_id, "event_type", e->type,
                          "source_node_id", e->source, "created_at", e->created_at, "payload",
                          payload ? payload : json_object());
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return body;
}

/* POST the event to its peer. 0 on a 2xx; else -1 with err and *status (0 when
 * no HTTP answer came back). */
static int send_event(struct db *db, const struct outgoing *e, long *status, char *err, size_t errlen)
{
    char *url = NULL, *key = NULL, *answer = NULL;
    *status = 0;
    if (!strcmp(e->target, P2P_HUB_TARGET)) {
        snprintf(err, errlen, "not registered with the hub yet");
        return -1;
    }
    if (p2p_peer(db, e->target, &url, &key) < 0) {
        snprintf(err, errlen, "unknown or disabled peer %s", e->target);
        return -1;
    }
    char *body = event_body(e);
    int rc = body ? p2p_post(url, P2P_EVENTS_PATH, key, body, P2P_SEND_TIMEOUT, status, &answer, err, errlen) : -1;
    if (!body) snprintf(err, errlen, "cannot encode the event");
    if (rc == 0 && (*status < 200 || *status > 299)) {
        snprintf(err, errlen, "HTTP %ld: %.200s", *status, answer ? answer : "");
        rc = -1;
    }
    sodium_memzero(key, strlen(key));
    free(key);
    free(url);
    free(body);
    free(answer);
    return rc;
}

/* Record the outcome in its own short transaction. 1 delivered, 0 retried
 * later, 2 given up (failed), -1 database error. */
static int record(struct db *db, const struct outgoing *e, bool ok, const char *err)
{
    int attempts = e->attempts + 1;
    bool give_up = !ok && attempts >= codepop_node.max_attempts;
    int64_t next = (int64_t)time(NULL) + backoff(attempts);
    if (db_begin(db) < 0) return -1;
    int rc = ok ? db_exec(db, "UPDATE codepop_p2p_events SET status = 'delivered', attempts = $2, last_error = NULL, "
                              "processed_at = " P2P_NOW_SQL " WHERE id = $1 AND status = 'pending'",
                          DB_I(e->id), DB_I(attempts))
                : db_exec(db, "UPDATE codepop_p2p_events SET status = $2, attempts = $3, last_error = $4, "
                              "next_attempt_at = $5 WHERE id = $1 AND status = 'pending'",
                          DB_I(e->id), DB_S(give_up ? "failed" : "pending"), DB_I(attempts), DB_S(err), DB_I(next));
    if (rc >= 0 && ok)
        rc = db_exec(db, "UPDATE codepop_nodes SET last_contact_at = " P2P_NOW_SQL " WHERE node_id = $1",
                     DB_S(e->target));
    if (rc >= 0 && give_up)
        rc = audit_write_as(db, 0, "codepop", "codepop.p2p_event.failed", "p2p_event", e->id,
                            json_pack("{s:s, s:s, s:s, s:i, s:s}", "event_id", e->event_id, "event_type", e->type,
                                      "target_node_id", e->target, "attempts", attempts, "last_error", err));
    if (rc < 0 || db_commit(db) < 0) {
        db_rollback(db);
        return -1;
    }
    return ok ? 1 : give_up ? 2 : 0;
}

/* ------------------------------------------------------------- the job */

static size_t load_batch(struct db *db, struct outgoing *out)
{
    struct db_rows rows;
    size_t n = 0;
    if (db_query(db, &rows, "SELECT e.id, e.attempts, e.event_id, e.event_type, e.source_node_id, e.target_node_id, "
                            "e.payload, e.created_at FROM codepop_p2p_events e WHERE e.status = 'pending' AND "
                            "e.next_attempt_at <= $1 AND NOT EXISTS (SELECT 1 FROM codepop_p2p_events b WHERE "
                            "b.status = 'pending' AND b.next_attempt_at > $1 AND b.target_node_id = e.target_node_id "
                            "AND b.id < e.id) ORDER BY e.id LIMIT $2",
                 DB_I((int64_t)time(NULL)), DB_I(BATCH)) < 0)
        return 0;
    while (n < BATCH && db_step(&rows)) {
        struct outgoing *e = &out[n++];
        e->id = db_col_int(&rows, 0);
        e->attempts = (int)db_col_int(&rows, 1);
        e->event_id = xstrdup(db_col_text(&rows, 2));
        e->type = xstrdup(db_col_text(&rows, 3));
        e->source = xstrdup(db_col_text(&rows, 4));
        e->target = xstrdup(db_col_text(&rows, 5));
        e->payload = xstrdup(db_col_text(&rows, 6));
        e->created_at = xstrdup(db_col_text(&rows, 7));
    }
    db_rows_close(&rows);
    return n;
}

static void free_batch(struct outgoing *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(b[i].event_id), free(b[i].type), free(b[i].source);
        free(b[i].target), free(b[i].payload), free(b[i].created_at);
    }
}

static bool held(char **blocked, size_t nblocked, const char *target)
{
    for (size_t i = 0; i < nblocked; i++)
        if (!strcmp(blocked[i], target)) return true;
    return false;
}

int codepop_p2p_deliver_job(struct db *db, char **result)
{
    static struct outgoing batch[BATCH];        /* one run at a time (the job's lease) */
    char *blocked[BATCH], err[512];
    size_t nblocked = 0;
    int count[3] = {0}, skipped = 0, rc = 0;
    bool reregister = false;
    if (!codepop_node.p2p) {
        *result = xstrdup("not a P2P node");
        return 0;
    }
    ensure_hub(db, false);
    size_t n = load_batch(db, batch);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct outgoing *e = &batch[i];
        long status = 0;
        if (held(blocked, nblocked, e->target)) {
            skipped++;
            continue;
        }
        int sent = send_event(db, e, &status, err, sizeof err);
        if (sent < 0) blocked[nblocked++] = e->target;
        if (sent < 0 && status == 401 && codepop_node.is_store && strstr(err, "invalid_signature")) reregister = true;
        int outcome = record(db, e, sent == 0, err);
        if (outcome < 0) rc = -1;
        else count[outcome == 1 ? 0 : outcome == 0 ? 1 : 2]++;
    }
    if (reregister) ensure_hub(db, true);
    free_batch(batch, n);
    int64_t pending = 0;
    if (db_int(db, &pending, "SELECT COUNT(*) FROM codepop_p2p_events WHERE status = 'pending'") == 1)
        metrics_gauge("p2p_outbox_pending", pending);       /* atrium_p2p_outbox_pending */
    *result = xasprintf("delivered %d, retried %d, failed %d%s", count[0], count[1], count[2],
                        skipped ? ", later events of failing peers held back" : "");
    return rc;
}

int codepop_p2p_cleanup_job(struct db *db, char **result)
{
    int n = db_exec(db, "DELETE FROM codepop_p2p_seen WHERE seen_at < $1", DB_I((int64_t)time(NULL) - P2P_SEEN_KEEP));
    *result = n < 0 ? xstrdup("database error") : xasprintf("forgot %d seen signatures", n);
    return n < 0 ? -1 : 0;
}

/* -------------------------------------------------------- admin routes */

#define EVENT_COLUMNS "id, event_id, event_type, source_node_id, target_node_id, status, attempts, " \
    "strftime('%Y-%m-%dT%H:%M:%SZ', next_attempt_at, 'unixepoch') AS next_attempt_at, last_error, created_at, " \
    "processed_at, payload AS payload__json"

void codepop_p2p_events_list(struct req *r)
{
    struct page pg;
    const char *status = req_query(r, "status"), *type = req_query(r, "event_type");
    const char *target = req_query(r, "target_node_id");
    if (req_page(r, &pg) < 0) return;
    if (status && strcmp(status, "pending") && strcmp(status, "delivered") && strcmp(status, "failed")) {
        reply_invalid(r, "status", "must be pending, delivered or failed");
        return;
    }
#define EVENTS_WHERE " FROM codepop_p2p_events WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) AND (CAST($2 AS TEXT) IS NULL OR event_type = $2) " \
                     "AND (CAST($3 AS TEXT) IS NULL OR target_node_id = $3) "
    reply_page(r, &pg, "SELECT COUNT(*)" EVENTS_WHERE,
               "SELECT " EVENT_COLUMNS EVENTS_WHERE "ORDER BY id DESC LIMIT $4 OFFSET $5",
               DB_S(status), DB_S(type), DB_S(target));
}

void codepop_p2p_events_retry(struct req *r)
{
    int64_t id = r->param_int[0];
    char *status = NULL;
    json_t *row = NULL;
    if (db_begin(r->db) < 0) goto fail;
    status = db_text(r->db, "SELECT status FROM codepop_p2p_events WHERE id = $1", DB_I(id));
    if (!status || strcmp(status, "failed")) {
        db_rollback(r->db);
        if (!status) reply_not_found(r);
        else reply_error(r, 409, "invalid_state", "the event is %s; only failed events are retried", status);
        free(status);
        return;
    }
    if (db_exec(r->db, "UPDATE codepop_p2p_events SET status = 'pending', attempts = 0, next_attempt_at = $2 "
                       "WHERE id = $1", DB_I(id), DB_I((int64_t)time(NULL))) != 1 ||
        !(row = db_json_one(r->db, "SELECT " EVENT_COLUMNS " FROM codepop_p2p_events WHERE id = $1", DB_I(id))) ||
        audit_write(r->db, r, "codepop", "codepop.p2p_event.retried", "p2p_event", id,
                    json_pack("{s:O, s:O}", "event_id", json_object_get(row, "event_id"), "target_node_id",
                              json_object_get(row, "target_node_id"))) < 0 ||
        db_commit(r->db) < 0)
        goto fail;
    free(status);
    reply_json(r, 200, row);
    return;
fail:
    db_rollback(r->db);
    free(status);
    json_decref(row);
    reply_db_error(r);
}

void codepop_p2p_health(struct req *r)
{
    /* public (probes): peers' ids and last contact, never their URLs */
    json_t *peers = db_json_all(r->db, "SELECT node_id, node_type, store_id, hub_id, status, last_contact_at "
                                       "FROM codepop_nodes ORDER BY id");
    json_t *outbox = json_pack("{s:i, s:i, s:i}", "pending", 0, "failed", 0, "delivered", 0);
    struct db_rows rows;
    if (!peers || db_query(r->db, &rows, "SELECT lower(status), COUNT(*) FROM codepop_p2p_events GROUP BY status") < 0) {
        json_decref(peers);
        json_decref(outbox);
        reply_db_error(r);
        return;
    }
    while (db_step(&rows)) json_object_set_new(outbox, db_col_text(&rows, 0), json_integer(db_col_int(&rows, 1)));
    db_rows_close(&rows);
    int64_t inbox = 0;
    db_int(r->db, &inbox, "SELECT COUNT(*) FROM codepop_p2p_inbox");
    json_t *o = json_pack("{s:s?, s:s, s:o, s:o, s:{s:I}}", "node_id", codepop_node.id, "node_type",
                          codepop_node.type ? codepop_node.type : "single", "peers", peers, "outbox", outbox, "inbox",
                          "received", (json_int_t)inbox);
    if (codepop_node.is_store) json_object_set_new(o, "store_id", json_integer(codepop_node.store_id));
    if (codepop_node.is_hub) json_object_set_new(o, "hub_id", json_integer(codepop_node.hub_id));
    reply_json(r, 200, o);
}
