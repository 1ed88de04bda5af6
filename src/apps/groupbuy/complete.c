/* complete.c -- STUB, being written. */
#include "groupbuy.h"
#include <string.h>

void groupbuy_admin_complete(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
int groupbuy_auto_complete_job(struct db *db, char **result) { *result = strdup("not built"); return 0; }
int groupbuy_group_complete(struct db *db, int64_t group_id, int64_t actor_id, bool early, char *why, size_t whylen) { snprintf(why, whylen, "not built"); return 0; }
int groupbuy_group_fail(struct db *db, int64_t group_id, int64_t actor_id, char *why, size_t whylen) { return 0; }
