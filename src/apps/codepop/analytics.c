/* STUB: replaced wholesale by its owner. */
#include "codepop.h"
void codepop_store_analytics(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
int codepop_analytics_invalidate(struct db *db, int64_t s) { return db_exec(db, "DELETE FROM codepop_analytics_cache WHERE store_id = $1", DB_I(s)) < 0 ? -1 : 0; }
