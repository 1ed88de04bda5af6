/* Audit action names: the old names groupbuy wrote before issue #9 map to
 * the new ones in audit_action_aliases (migration 004), exactly these. */
#include "support/fixture.h"
#include <string.h>

TestSuite(groupbuy_audit_names, .init = gb_start, .fini = gb_stop);

Test(groupbuy_audit_names, old_names_have_aliases)
{
    static const char *const want[][2] = {
        {"groupbuy.contribution.extra_charge", "groupbuy.contribution.extra_charged"},
        {"groupbuy.group.ready_for_collection", "groupbuy.group.marked_ready"},
        {"groupbuy.refunds.processed", "groupbuy.refund.processed"},
        {"groupbuy.refunds.requested", "groupbuy.refund.requested"},
        {"seed", "groupbuy.demo_data.seeded"},
    };
    json_t *rows = db_json_all(test_db(), "SELECT old_action, action FROM audit_action_aliases WHERE app = 'groupbuy' "
                                          "ORDER BY old_action");
    cr_assert_not_null(rows);
    cr_assert_eq(json_array_size(rows), sizeof want / sizeof *want);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        json_t *row = json_array_get(rows, i);
        cr_assert_str_eq(jstr(row, "old_action"), want[i][0]);
        cr_assert_str_eq(jstr(row, "action"), want[i][1]);
    }
    json_decref(rows);
}
