/* qr.c -- STUB, being written. */
#include "groupbuy.h"
#include <string.h>

void groupbuy_admin_mark_ready(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_qr_code(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_admin_qr_verify(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
int groupbuy_qr_token(int64_t contribution_id, const char *nonce, char out[65]) { return -1; }
int groupbuy_mark_ready(struct db *db, int64_t group_id, int64_t actor_id, int *issued) { return -1; }
int groupbuy_qr_collect(struct db *db, int64_t contribution_id, int64_t actor_id) { return -1; }
