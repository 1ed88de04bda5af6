/* events.c -- codepop's domain events, as resources emit them: realtime on
 * the store's topic (core outbox) and, on a P2P node, a row in the
 * codepop_p2p_events outbox for the peer that must hear it. Delivering
 * that row is p2p_deliver.c's job; this file only decides who must hear
 * what, so resource files emit without depending on the P2P code.
 *
 * Which events cross nodes is fixed by direction: a store node sends its
 * supply requests, low stock, machine reports and repairs to its hub; a hub
 * sends approvals, rejections and deliveries to the store node they concern.
 * Everything else (orders, ...) stays local. */
#include "codepop.h"
#include <stdlib.h>
#include <string.h>

static const char *const store_to_hub[] = {
    "SUPPLY_REQUEST_CREATED", "INVENTORY_LOW", "MACHINE_STATUS_CHANGED", "REPAIR_SCHEDULED", NULL};
static const char *const hub_to_store[] = {
    "SUPPLY_REQUEST_APPROVED", "SUPPLY_REQUEST_REJECTED", "DELIVERY_SCHEDULED", "DELIVERY_STATUS_CHANGED", NULL};

static bool listed(const char *const *list, const char *type)
{
    for (; type && *list; list++)
        if (!strcmp(*list, type)) return true;
    return false;
}

bool codepop_event_store_to_hub(const char *type)
{
    return listed(store_to_hub, type);
}

/* Who must hear an event of this node: a node id, the hub placeholder, or
 * NULL (nobody). */
static char *peer_target(struct db *db, int64_t store_id, const char *type)
{
    if (codepop_node.is_store && listed(store_to_hub, type)) {
        char *hub = db_text(db, "SELECT node_id FROM codepop_nodes WHERE node_type = 'hub' AND status = 'active' "
                                "ORDER BY registered_at DESC, id DESC LIMIT 1");
        return hub ? hub : xstrdup(CODEPOP_HUB_TARGET);
    }
    if (codepop_node.is_hub && listed(hub_to_store, type))
        return db_text(db, "SELECT node_id FROM codepop_nodes WHERE node_type = 'store' AND store_id = $1 "
                           "AND status = 'active' ORDER BY registered_at DESC, id DESC LIMIT 1", DB_I(store_id));
    return NULL;
}

int codepop_emit_local(struct db *db, int64_t store_id, const char *type, json_t *payload)
{
    char topic[64];
    snprintf(topic, sizeof topic, "codepop.store.%lld", (long long)store_id);
    return events_emit(db, topic, type, payload);     /* steals payload */
}

int codepop_emit(struct db *db, int64_t store_id, const char *type, json_t *payload)
{
    char event_id[37];
    int rc = 0;
    if (!payload) payload = json_object();
    char *target = codepop_node.p2p && type ? peer_target(db, store_id, type) : NULL;
    if (target) {
        char *text = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);
        uuid_v4(event_id);
        rc = !text || db_exec(db, "INSERT INTO codepop_p2p_events (event_id, event_type, source_node_id, "
                                  "target_node_id, payload, status, next_attempt_at) VALUES ($1, $2, $3, $4, $5, "
                                  "'pending', $6)", DB_S(event_id), DB_S(type), DB_S(codepop_node.id), DB_S(target),
                                  DB_S(text), DB_I((int64_t)time(NULL))) < 0 ? -1 : 0;
        free(text);
        free(target);
    }
    if (codepop_emit_local(db, store_id, type, payload) < 0) rc = -1;
    return rc;
}
