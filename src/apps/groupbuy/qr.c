/* qr.c -- STUB, being written. */
#include "groupbuy.h"
#include <string.h>

void groupbuy_admin_mark_ready(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_qr_code(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_admin_qr_verify(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
int groupbuy_qr_token(int64_t contribution_id, const char *nonce, char out[65]) { return -1; }
