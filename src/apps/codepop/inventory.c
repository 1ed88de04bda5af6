/* STUB: replaced wholesale by its owner. */
#include "codepop.h"
void codepop_store_inventory(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_store_inventory_patch(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_hub_inventory(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
int codepop_inventory_adjust(struct db *db, int64_t s, const char *n, int64_t d) { return -1; }
int codepop_inventory_receive(struct db *db, int64_t s, const char *n, const char *t, int64_t q) { return -1; }
