/* p2p_nodes.c -- the node registry: a store node registers with its hub
 * (signed with the bootstrap secret ATRIUM_P2P_SECRET) and gets a per-node
 * credential back; both sides keep the other in codepop_nodes with the
 * credential sealed (crypto_seal_text). Registering again rotates it.
 * Also the outbound signed POST (core httpc) that delivery uses. */
#include "p2p.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ peers, HTTP */

int p2p_peer(struct db *db, const char *node_id, char **url, char **key)
{
    struct db_rows rows;
    *url = *key = NULL;
    if (!node_id || db_query(db, &rows, "SELECT url, credential FROM codepop_nodes WHERE node_id = $1 "
                                        "AND status = 'active'", DB_S(node_id)) < 0)
        return -1;
    if (db_step(&rows)) {
        *url = xstrdup(db_col_text(&rows, 0));
        *key = crypto_open_text(db_col_text(&rows, 1));
    }
    db_rows_close(&rows);
    if (*key) return 0;
    free(*url);
    *url = NULL;
    return -1;
}

int p2p_post(const char *base_url, const char *path, const char *key, const char *body, long timeout_s,
             long *status, char **answer, char *err, size_t errlen)
{
    char url[1024], ts[24], sig[65], node[160], stamp[64], signature[96];
    size_t blen = strlen(base_url);
    while (blen && base_url[blen - 1] == '/') blen--;
    snprintf(url, sizeof url, "%.*s%s", (int)blen, base_url, path);
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    p2p_sign(key, "POST", path, ts, body, strlen(body), sig);
    snprintf(node, sizeof node, "X-Atrium-Node: %s", codepop_node.id ? codepop_node.id : "");
    snprintf(stamp, sizeof stamp, "X-Atrium-Timestamp: %s", ts);
    snprintf(signature, sizeof signature, "X-Atrium-Signature: %s", sig);
    const char *headers[] = {"Content-Type: application/json", node, stamp, signature, NULL};
    return httpc_request("POST", url, headers, body, timeout_s, status, answer, err, errlen);
}

/* ------------------------------------------ POST /p2p/nodes/register (hub) */

struct registration {
    const char *node_id, *node_type, *url;
    json_int_t store_id, hub_id, timestamp;
};

static int registration_check(struct req *r, const char *signer, struct registration *g)
{
    int64_t n = 0;
    g->store_id = g->hub_id = 0;
    if (req_unpack(r, "{s:s, s:s, s:s, s?I, s?I, s:I}", "node_id", &g->node_id, "node_type", &g->node_type, "url",
                   &g->url, "store_id", &g->store_id, "hub_id", &g->hub_id, "timestamp", &g->timestamp) < 0)
        return -1;
    bool store = !strcmp(g->node_type, "store");
    if (!p2p_is_uuid(g->node_id)) reply_invalid(r, "node_id", "must be a UUID");
    else if (strcmp(g->node_id, signer)) reply_invalid(r, "node_id", "must match X-Atrium-Node");
    else if (codepop_node.id && !strcasecmp(g->node_id, codepop_node.id)) reply_invalid(r, "node_id", "is this node's own id");
    else if (!store && strcmp(g->node_type, "hub")) reply_invalid(r, "node_type", "must be \"store\" or \"hub\"");
    else if ((strncmp(g->url, "http://", 7) && strncmp(g->url, "https://", 8)) || strlen(g->url) > 512)
        reply_invalid(r, "url", "must be an http(s) URL of at most 512 characters");
    else if (llabs((long long)g->timestamp - (long long)time(NULL)) > P2P_MAX_SKEW)
        reply_invalid(r, "timestamp", "is more than 5 minutes off");
    else if (store && (db_int(r->db, &n, "SELECT COUNT(*) FROM codepop_stores WHERE id = $1 AND supply_hub_id = $2",
                              DB_I(g->store_id), DB_I(codepop_node.hub_id)) != 1 || !n))
        reply_invalid(r, "store_id", "must be a store supplied by this hub");
    else if (!store && (db_int(r->db, &n, "SELECT COUNT(*) FROM codepop_hubs WHERE id = $1", DB_I(g->hub_id)) != 1 || !n))
        reply_invalid(r, "hub_id", "must be a known hub");
    else return 0;
    return -1;
}

void codepop_p2p_register(struct req *r)
{
    const char *signer;
    char sig[65], credential[65];
    struct registration g;
    int64_t id = 0;
    if (!codepop_node.secret || !*codepop_node.secret) {
        reply_error(r, 401, "invalid_signature", "this node accepts no registrations (no bootstrap secret)");
        return;
    }
    if (p2p_verify(r, codepop_node.secret, &signer, sig) < 0) return;
    if (!codepop_node.is_hub) {
        reply_error(r, 409, "not_a_hub", "only a hub node registers peers");
        return;
    }
    if (registration_check(r, signer, &g) < 0) return;
    crypto_random_token(credential, 32);
    char *sealed = crypto_seal_text(credential);
    int seen = -1;
    bool rotated = db_int(r->db, &id, "SELECT id FROM codepop_nodes WHERE node_id = $1", DB_S(g.node_id)) == 1;
    if (!sealed || db_begin(r->db) < 0) goto fail;
    if ((seen = p2p_mark_seen(r->db, sig)) <= 0) goto fail;
    if (db_exec(r->db, "INSERT INTO codepop_nodes (node_id, node_type, url, store_id, hub_id, credential, "
                       "last_contact_at) VALUES ($1, $2, $3, $4, $5, $6, " P2P_NOW_SQL ") ON CONFLICT (node_id) DO "
                       "UPDATE SET node_type = excluded.node_type, url = excluded.url, store_id = excluded.store_id, "
                       "hub_id = excluded.hub_id, credential = excluded.credential, status = 'active', "
                       "registered_at = " P2P_NOW_SQL ", last_contact_at = " P2P_NOW_SQL,
                DB_S(g.node_id), DB_S(g.node_type), DB_S(g.url), g.store_id ? DB_I(g.store_id) : DB_NULL,
                g.hub_id ? DB_I(g.hub_id) : DB_NULL, DB_S(sealed)) < 0 ||
        db_int(r->db, &id, "SELECT id FROM codepop_nodes WHERE node_id = $1", DB_S(g.node_id)) != 1 ||
        audit_write(r->db, r, "codepop", rotated ? "codepop.node.credential_rotated" : "codepop.node.registered", "node", id,
                    json_pack("{s:s, s:s, s:s, s:I}", "node_id", g.node_id, "node_type", g.node_type, "url", g.url,
                              "store_id", g.store_id)) < 0 ||
        db_commit(r->db) < 0)
        goto fail;
    free(sealed);
    reply_json(r, 201, json_pack("{s:s, s:s, s:I, s:s}", "node_id", codepop_node.id, "node_type", "hub", "hub_id",
                                 (json_int_t)codepop_node.hub_id, "credential", credential));
    sodium_memzero(credential, sizeof credential);
    return;
fail:
    db_rollback(r->db);
    free(sealed);
    sodium_memzero(credential, sizeof credential);
    if (seen == 0) reply_error(r, 401, "replayed", "this request was already received");
    else reply_db_error(r);
}

/* ------------------------------------------------------- GET /p2p/nodes */

void codepop_p2p_nodes_list(struct req *r)
{
    struct page pg;
    const char *type = req_query(r, "node_type"), *status = req_query(r, "status");
    if (req_page(r, &pg) < 0) return;
    if (type && strcmp(type, "store") && strcmp(type, "hub")) {
        reply_invalid(r, "node_type", "must be \"store\" or \"hub\"");
        return;
    }
    if (status && strcmp(status, "active") && strcmp(status, "disabled")) {
        reply_invalid(r, "status", "must be \"active\" or \"disabled\"");
        return;
    }
#define NODES_WHERE " FROM codepop_nodes WHERE (CAST($1 AS TEXT) IS NULL OR node_type = $1) AND (CAST($2 AS TEXT) IS NULL OR status = $2) "
    reply_page(r, &pg, "SELECT COUNT(*)" NODES_WHERE,
               "SELECT id, node_id, node_type, url, store_id, hub_id, status, registered_at, "
               "last_contact_at" NODES_WHERE "ORDER BY id LIMIT $3 OFFSET $4",
               DB_S(type), DB_S(status));
}

/* ------------------------------------------------- registering (store side) */

/* Record the hub the registration answered for, inside a transaction. */
static int save_hub(struct db *db, const char *hub_node, const char *credential, int64_t hub_id)
{
    int64_t id = 0;
    char *sealed = crypto_seal_text(credential);
    if (!hub_id) db_int(db, &hub_id, "SELECT supply_hub_id FROM codepop_stores WHERE id = $1",
                        DB_I(codepop_node.store_id));
    int rc = !sealed || db_begin(db) < 0 ? -1 : 0;
    if (rc == 0 &&
        (db_exec(db, "UPDATE codepop_p2p_events SET target_node_id = $1 WHERE status <> 'delivered' AND "
                     "(target_node_id = $2 OR target_node_id IN (SELECT node_id FROM codepop_nodes WHERE "
                     "node_type = 'hub'))", DB_S(hub_node), DB_S(P2P_HUB_TARGET)) < 0 ||
         db_exec(db, "UPDATE codepop_nodes SET status = 'disabled' WHERE node_type = 'hub' AND node_id <> $1",
                 DB_S(hub_node)) < 0 ||
         db_exec(db, "INSERT INTO codepop_nodes (node_id, node_type, url, hub_id, credential, last_contact_at) "
                     "VALUES ($1, 'hub', $2, $3, $4, " P2P_NOW_SQL ") ON CONFLICT (node_id) DO UPDATE SET "
                     "node_type = 'hub', url = excluded.url, hub_id = excluded.hub_id, credential = excluded.credential, "
                     "status = 'active', registered_at = " P2P_NOW_SQL ", last_contact_at = " P2P_NOW_SQL,
                 DB_S(hub_node), DB_S(codepop_node.hub_url), hub_id ? DB_I(hub_id) : DB_NULL, DB_S(sealed)) < 0 ||
         db_int(db, &id, "SELECT id FROM codepop_nodes WHERE node_id = $1", DB_S(hub_node)) != 1 ||
         audit_write_as(db, 0, "codepop", "codepop.node.registered_with_hub", "node", id,
                        json_pack("{s:s, s:s}", "node_id", hub_node, "url", codepop_node.hub_url)) < 0 ||
         db_commit(db) < 0))
        rc = -1;
    if (rc < 0) db_rollback(db);
    free(sealed);
    return rc;
}

int p2p_register_with_hub(struct db *db, char *err, size_t errlen)
{
    long status = 0;
    char *answer = NULL;
    if (!codepop_node.is_store || !codepop_node.hub_url) {
        snprintf(err, errlen, "not a store node");
        return -1;
    }
    if (!codepop_node.secret || !*codepop_node.secret) {
        snprintf(err, errlen, "ATRIUM_P2P_SECRET is not set");
        return -1;
    }
    json_t *req = json_pack("{s:s, s:s, s:s, s:I, s:I}", "node_id", codepop_node.id, "node_type", "store", "url",
                            codepop_node.url, "store_id", (json_int_t)codepop_node.store_id, "timestamp",
                            (json_int_t)time(NULL));
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    int rc = p2p_post(codepop_node.hub_url, P2P_REGISTER_PATH, codepop_node.secret, body, P2P_REG_TIMEOUT, &status,
                      &answer, err, errlen);
    free(body);
    if (rc < 0) return -1;
    json_t *got = answer ? json_loads(answer, 0, NULL) : NULL;
    const char *hub_node = json_string_value(json_object_get(got, "node_id"));
    const char *credential = json_string_value(json_object_get(got, "credential"));
    if (status != 201 || !p2p_is_uuid(hub_node) || !credential || strlen(credential) != 64) {
        snprintf(err, errlen, "hub answered %ld: %.200s", status, answer ? answer : "");
        rc = -1;
    } else if (save_hub(db, hub_node, credential, (int64_t)json_integer_value(json_object_get(got, "hub_id"))) < 0) {
        snprintf(err, errlen, "cannot record the hub");
        rc = -1;
    } else {
        log_json(LOG_INFO, json_pack("{s:s, s:s}", "hub_node_id", hub_node, "hub_url", codepop_node.hub_url),
                 "codepop: registered with hub %s", hub_node);
    }
    if (answer) sodium_memzero(answer, strlen(answer));
    json_decref(got);
    free(answer);
    return rc;
}

int codepop_p2p_init(void)
{
    char err[256];
    if (!codepop_node.p2p) return 0;
    if (!codepop_node.secret || !*codepop_node.secret)
        log_warn("codepop: ATRIUM_P2P_SECRET is not set: this node cannot register peers");
    if (!codepop_node.is_store) return 0;
    if (p2p_register_with_hub(db_thread(), err, sizeof err) < 0)
        log_warn("codepop: cannot register with hub %s yet (%s); the delivery job retries", codepop_node.hub_url, err);
    return 0;
}
