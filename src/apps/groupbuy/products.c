/* products.c -- STUB, being written. */
#include "groupbuy.h"
#include <string.h>

void groupbuy_suppliers_list(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_suppliers_create(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_products_list(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_products_get(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_products_create(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_products_patch(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
