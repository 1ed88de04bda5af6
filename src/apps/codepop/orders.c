/* STUB: replaced wholesale by its owner. */
#include "codepop.h"
void codepop_orders_create(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_orders_list(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_orders_get(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_orders_pay(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_orders_cancel(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_orders_status(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_orders_location(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_store_orders(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
