/* notify.c -- notifications: in-app ones per user (a row plus a realtime event
 * on topic "user.<id>", in the caller's transaction) and outbound channels
 * (email, SMS, push) through a provider adapter.
 *
 * Adapters are a small table {name, send}; ATRIUM_NOTIFY_ADAPTER picks one
 * (default "log"). The built-in "log" adapter only records what would be sent
 * in notification_log, so the system runs offline. Log lines never carry the
 * recipient's personal data: only the channel and a short hash of the
 * recipient, enough to correlate lines without revealing the address. */
#include "atrium.h"
#include "internal.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct notify_adapter {
    const char *name;
    /* Hand the message to the provider; 0 when accepted. */
    int (*send)(struct db *db, const char *channel, const char *to, const char *subject, const char *text);
};

static int log_send(struct db *db, const char *channel, const char *to, const char *subject, const char *text);

static const struct notify_adapter adapters[] = {
    {"log", log_send},
    {0},
};

static const struct notify_adapter *adapter;
static pthread_once_t adapter_once = PTHREAD_ONCE_INIT;

static void adapter_init(void)
{
    const char *want = getenv("ATRIUM_NOTIFY_ADAPTER");
    if (!want || !*want) want = "log";
    for (const struct notify_adapter *a = adapters; a->name; a++)
        if (!strcmp(a->name, want)) adapter = a;
    if (!adapter) log_error("ATRIUM_NOTIFY_ADAPTER: unknown adapter '%s'; outbound notifications disabled", want);
}

/* ---------------------------------------------------------------- in-app */

int notify_user(struct db *db, int64_t user_id, const char *kind, const char *title, json_t *data)
{
    char *text = NULL, topic[48];
    int rc = -1;
    if (!data) data = json_object();
    if (!db_in_tx(db)) {
        log_error("notify_user(%s) outside a transaction", kind ? kind : "?");
        goto out;
    }
    if (user_id <= 0 || !kind || !*kind || !title) {
        log_error("notify_user: bad arguments");
        goto out;
    }
    text = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
    int64_t id;
    if (db_int(db, &id, "INSERT INTO notifications (user_id, kind, title, data) VALUES ($1, $2, $3, $4) RETURNING id",
               DB_I(user_id), DB_S(kind), DB_S(title), DB_S(text ? text : "{}")) != 1)
        goto out;
    snprintf(topic, sizeof topic, "user.%lld", (long long)user_id);
    rc = events_emit(db, topic, "notification.created",
                     json_pack("{s:I, s:s, s:s, s:O}", "id", (json_int_t)id, "kind", kind, "title", title, "data", data));
out:
    json_decref(data);
    free(text);
    return rc;
}

/* -------------------------------------------------------------- channels */

static bool valid_channel(const char *c)
{
    return c && (!strcmp(c, "email") || !strcmp(c, "sms") || !strcmp(c, "push"));
}

static int log_send(struct db *db, const char *channel, const char *to, const char *subject, const char *text)
{
    char hash[65];
    int64_t id;
    if (db_begin(db) < 0) return -1;
    if (db_int(db, &id, "INSERT INTO notification_log (channel, recipient, subject, body, adapter) "
                        "VALUES ($1, $2, $3, $4, 'log') RETURNING id",
               DB_S(channel), DB_S(to), DB_S(subject), DB_S(text)) != 1) {
        db_rollback(db);
        return -1;
    }
    if (db_commit(db) < 0) return -1;
    crypto_sha256_hex(to, strlen(to), hash);
    hash[12] = 0;
    log_json(LOG_INFO, json_pack("{s:s, s:s, s:I}", "channel", channel, "recipient_hash", hash,
                                 "notification_log_id", (json_int_t)id),
             "notification recorded by the log adapter");
    return 0;
}

int notify_send(struct db *db, const char *channel, const char *to, const char *subject, const char *text)
{
    if (!valid_channel(channel)) {
        log_error("notify_send: unknown channel '%s'", channel ? channel : "(null)");
        return -1;
    }
    if (!to || !*to) {
        log_error("notify_send(%s) without a recipient", channel);
        return -1;
    }
    pthread_once(&adapter_once, adapter_init);
    if (!adapter) return -1;
    int rc = adapter->send(db, channel, to, subject ? subject : "", text ? text : "");
    if (rc == 0) metrics_count("notifications_sent", channel, 1);
    else log_warn("notify_send: adapter %s failed on channel %s", adapter->name, channel);
    return rc < 0 ? -1 : 0;
}

/* ------------------------------------------------------------- handlers */

#define NOTIFICATION_COLS "id, kind, title, data AS data__json, created_at, read_at"

void notifications_list(struct req *r)
{
    struct page pg;
    int64_t unread, total = 0;
    json_t *items = NULL;
    if (req_page(r, &pg) < 0 || req_query_int(r, "unread", 0, &unread) < 0) return;
    if (unread != 0 && unread != 1) {
        reply_invalid(r, "unread", "must be 0 or 1");
        return;
    }
    if (db_int(r->db, &total, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND ($2 = 0 OR read_at IS NULL)",
               DB_I(r->user.id), DB_I(unread)) < 0 ||
        !(items = db_json_all(r->db, "SELECT " NOTIFICATION_COLS " FROM notifications "
                                     "WHERE user_id = $1 AND ($2 = 0 OR read_at IS NULL) "
                                     "ORDER BY id DESC LIMIT $3 OFFSET $4",
                              DB_I(r->user.id), DB_I(unread), DB_I(pg.size), DB_I(pg.offset))))
        reply_db_error(r);
    else
        reply_list(r, items, &pg, total);
}

void notifications_read(struct req *r)
{
    int64_t id = r->param_int[0];
    json_t *n = NULL;
    char topic[48];
    if (db_begin(r->db) < 0) {
        reply_db_error(r);
        return;
    }
    int changed = db_exec(r->db, "UPDATE notifications SET read_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
                                 "WHERE id = $1 AND user_id = $2 AND read_at IS NULL", DB_I(id), DB_I(r->user.id));
    if (changed < 0) goto fail;
    n = db_json_one(r->db, "SELECT " NOTIFICATION_COLS " FROM notifications WHERE id = $1 AND user_id = $2",
                    DB_I(id), DB_I(r->user.id));
    if (!n) {                   /* missing or someone else's: the same answer */
        db_rollback(r->db);
        reply_not_found(r);
        return;
    }
    if (changed > 0) {          /* only the first call changes state */
        snprintf(topic, sizeof topic, "user.%lld", (long long)r->user.id);
        if (audit_write(r->db, r, "core", "core.notification.read", "notification", id, NULL) < 0 ||
            events_emit(r->db, topic, "notification.read", json_pack("{s:I}", "id", (json_int_t)id)) < 0)
            goto fail;
    }
    if (db_commit(r->db) < 0) {
        json_decref(n);
        reply_db_error(r);
        return;
    }
    reply_json(r, 200, n);
    return;
fail:
    json_decref(n);
    db_rollback(r->db);
    reply_db_error(r);
}
