/* STUB: replaced wholesale by its owner. */
#include "codepop.h"
void codepop_machines_list(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_machines_get(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_machines_status(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_maintenance_list(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_maintenance_get(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
