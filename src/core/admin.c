/* STUB: replaced wholesale by its owner. */
#include "atrium.h"
#include "internal.h"
void admin_users_list(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void admin_users_create(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void admin_users_get(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void admin_users_patch(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void admin_roles_add(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void admin_roles_remove(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void admin_permissions_set(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
