/* STUB: replaced wholesale by its owner. */
#include "codepop.h"
void codepop_regions_list(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_regions_get(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_hubs_list(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_hubs_get(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_stores_list(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_stores_nearby(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_stores_get(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_drinks_list(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_drinks_get(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
