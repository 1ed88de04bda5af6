/* STUB: replaced wholesale by its owner. */
#include "atrium.h"
#include "internal.h"
void auth_totp_setup(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void auth_totp_enable(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void auth_totp_disable(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
int totp_check_login(struct db *db, int64_t user_id, const char *code) { return -1; }
