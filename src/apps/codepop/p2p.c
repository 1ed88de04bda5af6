/* p2p.c -- peer-to-peer delivery between store and hub nodes: signing and
 * checking requests, and receiving events (POST /p2p/events) into the inbox,
 * applied exactly once. Which events a node writes for its peers is
 * events.c's (codepop_emit); registration and the node list are in
 * p2p_nodes.c; the delivery job, event list, retry and health in
 * p2p_deliver.c; the wire protocol is described in p2p.h. */
#include "p2p.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- signing */

void p2p_sign(const char *key, const char *method, const char *path, const char *ts, const char *body,
              size_t body_len, char out[65])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)method, strlen(method));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"\n", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)path, strlen(path));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"\n", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"\n", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
}

bool p2p_is_uuid(const char *s)
{
    if (!s || strlen(s) != 36) return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i])) return false;
    }
    return true;
}

static int refuse(struct req *r, const char *why)
{
    metrics_count("auth_failures", "p2p_signature", 1);
    log_json(LOG_WARN, json_pack("{s:s, s:s}", "path", r->path, "reason", why), "p2p: refused request: %s", why);
    reply_error(r, 401, "invalid_signature", "request signature is invalid");
    return -1;
}

int p2p_verify(struct req *r, const char *secret, const char **node, char sig[65])
{
    const char *who = req_header(r, "X-Atrium-Node"), *ts = req_header(r, "X-Atrium-Timestamp");
    const char *given = req_header(r, "X-Atrium-Signature");
    unsigned char want[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
    char expect[65], *end, *key = NULL;
    size_t n = 0;
    if (!who || !ts || !given || !*ts) return refuse(r, "missing signature headers");
    long long t = strtoll(ts, &end, 10);
    long long now = (long long)time(NULL);
    if (*end || t < now - P2P_MAX_SKEW || t > now + P2P_MAX_SKEW) return refuse(r, "timestamp out of range");
    if (sodium_hex2bin(got, sizeof got, given, strlen(given), NULL, &n, NULL) || n != sizeof got)
        return refuse(r, "malformed signature");
    if (!secret) {
        char *url = NULL;
        if (p2p_peer(r->db, who, &url, &key) < 0) return refuse(r, "unknown node");
        free(url);
    }
    p2p_sign(secret ? secret : key, "POST", r->path, ts, r->raw_body, r->raw_len, expect);
    if (key) sodium_memzero(key, strlen(key));
    free(key);
    sodium_hex2bin(want, sizeof want, expect, 64, NULL, NULL, NULL);
    if (sodium_memcmp(want, got, sizeof want)) return refuse(r, "signature mismatch");
    sodium_bin2hex(sig, 65, got, sizeof got);   /* canonical lower case: replays match */
    *node = pool_strdup(r->pool, who);
    return 0;
}

int p2p_mark_seen(struct db *db, const char *sig)
{
    return db_exec(db, "INSERT INTO codepop_p2p_seen (signature, seen_at) VALUES ($1, $2) "
                       "ON CONFLICT (signature) DO NOTHING", DB_S(sig), DB_I((int64_t)time(NULL)));
}

/* ----------------------------------------------------------------- apply */

static const char *str_field(json_t *payload, const char *a, const char *b)
{
    const char *v = json_string_value(json_object_get(payload, a));
    return v ? v : json_string_value(json_object_get(payload, b));
}

/* Store -> hub reports the hub only shows: realtime on the store's topic. */
static int reemit(struct db *db, const char *type, json_t *payload)
{
    json_int_t store = json_integer_value(json_object_get(payload, "store_id"));
    if (store <= 0) return 0;                   /* nothing to address it to: recorded only */
    return codepop_emit_local(db, store, type, json_deep_copy(payload));
}

int codepop_p2p_apply(struct db *db, const char *type, const char *source, json_t *payload)
{
    bool hub = codepop_node.is_hub, store = codepop_node.is_store;
    if (!type || !json_is_object(payload)) return -1;
    if (hub && !strcmp(type, "SUPPLY_REQUEST_CREATED")) return codepop_supply_mirror(db, payload, source);
    if (hub && codepop_event_store_to_hub(type)) return reemit(db, type, payload);
    if (store && (!strcmp(type, "SUPPLY_REQUEST_APPROVED") || !strcmp(type, "SUPPLY_REQUEST_REJECTED"))) {
        const char *uuid = str_field(payload, "uuid", "supply_request_uuid");
        const char *status = !strcmp(type, "SUPPLY_REQUEST_APPROVED") ? "approved" : "rejected";
        return uuid ? codepop_supply_mark(db, uuid, status, payload) : -1;
    }
    if (store && !strcmp(type, "DELIVERY_SCHEDULED")) return codepop_delivery_mirror(db, payload);
    if (store && !strcmp(type, "DELIVERY_STATUS_CHANGED")) {
        const char *uuid = str_field(payload, "uuid", "delivery_uuid"), *status = str_field(payload, "status", NULL);
        return uuid && status ? codepop_delivery_apply_status(db, uuid, status) : -1;
    }
    return 0;                                   /* unknown here: recorded in the inbox, ignored */
}

/* ------------------------------------------------------- POST /p2p/events */

struct incoming {
    const char *event_id, *type, *source, *created_at;
    json_t *payload;
};

static int incoming_check(struct req *r, const char *node, struct incoming *ev)
{
    if (req_unpack(r, "{s:s, s:s, s:s, s:s, s:o}", "event_id", &ev->event_id, "event_type", &ev->type,
                   "source_node_id", &ev->source, "created_at", &ev->created_at, "payload", &ev->payload) < 0)
        return -1;
    if (!p2p_is_uuid(ev->event_id)) reply_invalid(r, "event_id", "must be a UUID");
    else if (!*ev->type || strlen(ev->type) > 64) reply_invalid(r, "event_type", "must be 1..64 characters");
    else if (strcmp(ev->source, node)) reply_invalid(r, "source_node_id", "must be the sending node");
    else if (!json_is_object(ev->payload)) reply_invalid(r, "payload", "must be an object");
    else return 0;
    return -1;
}

void codepop_p2p_events_receive(struct req *r)
{
    const char *node;
    char sig[65];
    struct incoming ev;
    if (p2p_verify(r, NULL, &node, sig) < 0 || incoming_check(r, node, &ev) < 0) return;
    char *text = json_dumps(ev.payload, JSON_COMPACT);
    int seen = -1, fresh = -1, applied = 0;
    if (db_begin(r->db) < 0) goto fail;
    if ((seen = p2p_mark_seen(r->db, sig)) <= 0) goto fail;
    fresh = db_exec(r->db, "INSERT INTO codepop_p2p_inbox (event_id, event_type, source_node_id, payload) "
                           "VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
                    DB_S(ev.event_id), DB_S(ev.type), DB_S(node), DB_S(text));
    if (fresh < 0 || (fresh == 1 && (applied = codepop_p2p_apply(r->db, ev.type, node, ev.payload)) < 0)) goto fail;
    if (db_exec(r->db, "UPDATE codepop_nodes SET last_contact_at = " P2P_NOW_SQL " WHERE node_id = $1",
                DB_S(node)) < 0 || db_commit(r->db) < 0)
        goto fail;
    free(text);
    reply_json(r, 200, json_pack("{s:s, s:s}", "status", fresh ? "applied" : "duplicate", "event_id", ev.event_id));
    return;
fail:
    db_rollback(r->db);
    free(text);
    if (seen == 0) {
        metrics_count("auth_failures", "p2p_replay", 1);
        reply_error(r, 401, "replayed", "this request was already received");
    } else if (applied < 0) {
        log_json(LOG_WARN, json_pack("{s:s, s:s, s:s}", "event_id", ev.event_id, "event_type", ev.type, "source", node),
                 "p2p: event %s could not be applied", ev.event_id);
        reply_error(r, 500, "apply_failed", "the event could not be applied; retry later");
    } else {
        reply_db_error(r);
    }
}
