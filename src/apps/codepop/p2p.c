/* STUB: replaced wholesale by its owner. */
#include "codepop.h"
void codepop_p2p_register(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_p2p_nodes_list(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_p2p_events_receive(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_p2p_events_list(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_p2p_events_retry(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_p2p_health(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
int codepop_p2p_deliver_job(struct db *db, char **result) { *result = xstrdup("stub"); return 0; }
int codepop_p2p_cleanup_job(struct db *db, char **result) { *result = xstrdup("stub"); return 0; }
int codepop_p2p_init(void) { return 0; }
int codepop_emit(struct db *db, int64_t store_id, const char *type, json_t *payload) { char topic[64]; snprintf(topic, sizeof topic, "codepop.store.%lld", (long long)store_id); return events_emit(db, topic, type, payload); }
int codepop_p2p_apply(struct db *db, const char *t, const char *s, json_t *p) { return -1; }
