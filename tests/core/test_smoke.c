#include "support/harness.h"
Test(smoke, live) {
    srv_start();
    struct resp *r = api("GET", "/health/live", NULL, NULL);
    cr_assert_eq(r->status, 200);
    resp_free(r);
    srv_stop();
}
