/* ledger.c -- STUB, being written. */
#include "groupbuy.h"
#include <string.h>

void groupbuy_supplier_balance(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_admin_ledger(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
json_t *groupbuy_ledger_report(struct db *db) { return json_pack("{s:b}", "balanced", 1); }
