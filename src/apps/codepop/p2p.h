/* p2p.h -- private to p2p.c, p2p_nodes.c and p2p_deliver.c: request signing,
 * the outbound HTTP call to a peer, registration with the hub.
 *
 * Wire protocol (docs/apps/codepop-p2p.md). Every P2P POST carries
 *     X-Atrium-Node:      the sender's node id
 *     X-Atrium-Timestamp: unix seconds
 *     X-Atrium-Signature: hex(HMAC-SHA256(key, METHOD "\n" PATH "\n" TIMESTAMP "\n" BODY))
 * where key is the bytes of the per-node credential (64 hex characters, as
 * text) or, for registration, of ATRIUM_P2P_SECRET. A request more than
 * P2P_MAX_SKEW seconds off, or whose signature was seen before, is refused. */
#ifndef CODEPOP_P2P_H
#define CODEPOP_P2P_H
#include "codepop.h"

#define P2P_EVENTS_PATH   CODEPOP_PREFIX "/p2p/events"
#define P2P_REGISTER_PATH CODEPOP_PREFIX "/p2p/nodes/register"
#define P2P_MAX_SKEW      300         /* seconds either way */
#define P2P_SEEN_KEEP     600         /* signatures are remembered this long */
#define P2P_SEND_TIMEOUT  5           /* seconds for one event POST */
#define P2P_REG_TIMEOUT   3           /* seconds for a registration call */
#define P2P_HUB_TARGET    CODEPOP_HUB_TARGET
#define P2P_NOW_SQL       "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

/* out = hex(HMAC-SHA256(key, method \n path \n ts \n body)). */
void p2p_sign(const char *key, const char *method, const char *path, const char *ts, const char *body,
              size_t body_len, char out[65]);

/* Check the signature headers of an incoming request against `secret` (the
 * bootstrap secret) or, when secret is NULL, the credential of the node named
 * in X-Atrium-Node. Writes nothing. On success fills *node (pool memory) and
 * sig; otherwise replies 401 invalid_signature and returns -1. */
int p2p_verify(struct req *r, const char *secret, const char **node, char sig[65]);

/* Remember a verified signature inside the caller's transaction:
 * 1 first time, 0 seen before (a replay), -1 database error. */
int p2p_mark_seen(struct db *db, const char *sig);

/* Is s a UUID (8-4-4-4-12 hex)? */
bool p2p_is_uuid(const char *s);

/* The opened credential of an active peer (malloc'd) and its URL (malloc'd),
 * or -1 when the node is unknown, disabled or its credential cannot be opened. */
int p2p_peer(struct db *db, const char *node_id, char **url, char **key);

/* One signed POST of body to base_url + path. 0 when an HTTP answer came back
 * (*status set, *answer malloc'd, may be NULL), -1 on a transport error (err). */
int p2p_post(const char *base_url, const char *path, const char *key, const char *body, long timeout_s,
             long *status, char **answer, char *err, size_t errlen);

/* A store node registers with codepop_node.hub_url and records the hub's id and its
 * credential; pending hub-bound events are re-targeted to the hub's id.
 * 0 ok, -1 failed (err says why). Must not be called inside a transaction. */
int p2p_register_with_hub(struct db *db, char *err, size_t errlen);
#endif
