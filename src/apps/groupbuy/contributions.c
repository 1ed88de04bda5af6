/* contributions.c -- STUB, being written. */
#include "groupbuy.h"
#include <string.h>

void groupbuy_contributions_list(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_contributions_get(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_contributions_pay(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_webhook(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
json_t *groupbuy_contribution_json(struct db *db, int64_t contribution_id) { return NULL; }
