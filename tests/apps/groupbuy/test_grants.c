/* test_grants.c -- groupbuy's side of what a newcomer ran into (issue #9,
 * section 6; the core's side is tests/core/test_newcomer.c): groupbuy's admin
 * reads groupbuy's audit rows, and supplier roles point at suppliers that
 * exist (groupbuy_scope_exists). */
#include "support/fixture.h"
#include <stdlib.h>

TestSuite(gb_grants, .init = gb_start, .fini = gb_stop);

GbTest(gb_grants, admin_reads_groupbuy_audit_rows)
{
    audit_app_reader_check("groupbuy", "groupbuy.group.created", "gb_admin", "gb_sup1");
}

/* A supplier role needs a supplier that exists. */
GbTest(gb_grants, supplier_roles_need_an_existing_supplier)
{
    test_user("root", "core", "admin", NULL, 0);
    int64_t bob = test_user("bob", NULL, NULL, NULL, 0);
    grants_run("root", bob, (const struct grant_case[]){
        {GRANT_ROLE, "{\"app\":\"groupbuy\",\"role\":\"supplier\"}", 400},                             /* scoped, no scope */
        {GRANT_ROLE, "{\"app\":\"groupbuy\",\"role\":\"supplier\",\"scope_type\":\"supplier\",\"scope_id\":99}", 404},
        {GRANT_ROLE, "{\"app\":\"groupbuy\",\"role\":\"supplier_staff\",\"scope_type\":\"supplier\",\"scope_id\":99}", 404},
        {0},
    });
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM user_roles WHERE user_id = %lld", (long long)bob), 0,
                 "no refused grant left a row");
    /* the fixture's supplier 2 exists */
    grants_run("root", bob, (const struct grant_case[]){
        {GRANT_ROLE, "{\"app\":\"groupbuy\",\"role\":\"supplier\",\"scope_type\":\"supplier\",\"scope_id\":2}", 201},
        {0},
    });
    test_expect_role("groupbuy", "bob", "supplier", "supplier", 2);
}
