/* supplier_orders.c -- STUB, being written. */
#include "groupbuy.h"
#include <string.h>

void groupbuy_supplier_orders_list(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_supplier_orders_get(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_supplier_orders_accept(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_supplier_orders_reject(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
int groupbuy_order_accept(struct db *db, int64_t order_id, int64_t actor_id, const char *notes) { return -1; }
int groupbuy_order_reject(struct db *db, int64_t order_id, int64_t actor_id, const char *reason) { return -1; }
json_t *groupbuy_order_json(struct db *db, int64_t order_id) { return NULL; }
