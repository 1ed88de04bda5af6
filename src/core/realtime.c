/* STUB: replaced wholesale by its owner. */
#include "atrium.h"
#include "internal.h"
void realtime_sse(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
void realtime_ws(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
int realtime_init(void) { return 0; }
void realtime_cleanup(void) {}
