/* testapp.h -- a small app used by core tests: a global admin and scoped
 * roles on stores 1..TESTAPP_STORES (its scope_exists), a permission-guarded
 * route per scope, a public route answering reals read from the database,
 * an idempotent counter, a blocking slow route. */
#ifndef ATRIUM_TESTAPP_H
#define ATRIUM_TESTAPP_H
#include "harness.h"

#define TESTAPP_STORES 100
extern const struct app testapp;
extern const struct route testapp_routes[];
void testapp_release_slow(void);        /* let every blocked /slow request finish */
int testapp_slow_started(void);         /* how many /slow requests are blocked */
#endif
