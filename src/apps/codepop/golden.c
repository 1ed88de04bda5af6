/* STUB: replaced wholesale by its owner. */
#include "codepop.h"
void codepop_golden_window(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
