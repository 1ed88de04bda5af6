/* STUB: replaced wholesale by its owner. */
#include "atrium.h"
#include "internal.h"
void notifications_list(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void notifications_read(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
int notify_user(struct db *db, int64_t u, const char *k, const char *t, json_t *d) { json_decref(d); return 0; }
int notify_send(struct db *db, const char *c, const char *to, const char *s, const char *t) { return 0; }
