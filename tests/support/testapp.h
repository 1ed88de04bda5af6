/* testapp.h -- a small app used by core tests: scoped roles, a permission-
 * guarded route per scope, an idempotent counter, a blocking slow route. */
#ifndef ATRIUM_TESTAPP_H
#define ATRIUM_TESTAPP_H
#include "harness.h"

extern const struct app testapp;
extern const struct route testapp_routes[];
void testapp_release_slow(void);        /* let every blocked /slow request finish */
int testapp_slow_started(void);         /* how many /slow requests are blocked */
#endif
