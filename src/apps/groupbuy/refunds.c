/* refunds.c -- STUB, being written. */
#include "groupbuy.h"
#include <string.h>

void groupbuy_admin_process_refunds(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
void groupbuy_admin_refunds_list(struct req *r) { reply_error(r, 500, "internal", "not built yet"); }
int groupbuy_refunds_job(struct db *db, char **result) { *result = strdup("not built"); return 0; }
int groupbuy_refunds_request(struct db *db, int64_t group_id, int64_t contribution_id, const char *reason, int64_t actor_id) { return 0; }
int groupbuy_refunds_process(struct db *db, int64_t group_id, enum groupbuy_refund_mode mode, struct groupbuy_refund_run *out) { memset(out, 0, sizeof *out); return 0; }

