/* STUB: replaced wholesale by its owner. */
#include "atrium.h"
#include "internal.h"
void auth_register(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void auth_login(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void auth_refresh(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void auth_logout(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void me_get(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void me_language(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
int auth_hash_password(const char *p, char out[128]) { return -1; }
bool auth_verify_password(const char *h, const char *p) { return false; }
const char *auth_password_problem(const char *p, const char *u, const char *e) { return NULL; }
int auth_create_user(struct db *db, const char *u, const char *p, const char *e, const char *d, int64_t *id, const char **pr) { return -1; }
