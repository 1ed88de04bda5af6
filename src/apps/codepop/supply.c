/* STUB: replaced wholesale by its owner. */
#include "codepop.h"
void codepop_supply_create(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_supply_list(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_supply_get(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_supply_approve(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_supply_reject(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
