/* The groupbuy fixture itself: its world loads, and gb_paid() counts toward the MOQ. */
#include "support/fixture.h"
#include "apps/groupbuy/groupbuy.h"

TestSuite(groupbuy_fixture, .init = gb_start, .fini = gb_stop);

GbTest(groupbuy_fixture, world_loads_and_paid_counts)
{
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_products"), 3);
    int64_t g = gb_group(1, 10, 60);
    gb_contribution(g, "gb_trader1", 2);
    gb_paid(g, "gb_trader2", 3);
    cr_assert_eq(test_scalar("SELECT " GB_COMMITTED_SQL("$1"), g), 3);
}
