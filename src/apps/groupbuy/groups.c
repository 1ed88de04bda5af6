/* groups.c -- STUB, being written. */
#include "groupbuy.h"
#include <string.h>

void groupbuy_groups_create(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_groups_list(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_groups_get(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_groups_join(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
json_t *groupbuy_group_json(struct db *db, int64_t group_id) { return NULL; }
