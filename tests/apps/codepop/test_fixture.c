/* The shared fixture loads and the codepop app is wired in: its migration is
 * applied, its routes answer, the store list needs a token. */
#include "support/fixture.h"

TestSuite(codepop_fixture, .init = cp_start, .fini = srv_stop);

Test(codepop_fixture, loads)
{
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_stores"), 3);
    cr_assert_eq(cp_stock(1, "Cups"), 500);
    cr_assert_eq(cp_hub_stock(2, "Cola Syrup"), 5000);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM schema_migrations WHERE app = 'codepop'"), 4);
    struct resp *r = api_get("/api/v1/codepop/stores", NULL);
    cr_assert_eq(r->status, 401);
    resp_free(r);
}
