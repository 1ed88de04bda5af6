/* supplier_orders.c -- STUB, being written. */
#include "groupbuy.h"
#include <string.h>

void groupbuy_supplier_orders_list(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_supplier_orders_get(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_supplier_orders_accept(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_supplier_orders_reject(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
