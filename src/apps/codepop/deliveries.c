/* STUB: replaced wholesale by its owner. */
#include "codepop.h"
void codepop_deliveries_list(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_deliveries_get(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_deliveries_status(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
