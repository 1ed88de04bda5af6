/* STUB: replaced wholesale by its owner. */
#include "codepop.h"
void codepop_repairs_create(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_repairs_list(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_repairs_get(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_repairs_start(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_repairs_complete(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_repairs_cancel(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
