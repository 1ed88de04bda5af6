/* STUB: replaced wholesale by its owner. */
#include "codepop.h"
void codepop_preferences_get(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void codepop_preferences_put(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
