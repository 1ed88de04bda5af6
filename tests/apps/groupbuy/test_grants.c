/* test_grants.c -- groupbuy's side of what a newcomer ran into (issue #9,
 * section 6; the core's side is tests/core/test_newcomer.c): groupbuy's admin
 * reads groupbuy's audit rows, and supplier roles point at suppliers that
 * exist (groupbuy_scope_exists). */
#include "support/fixture.h"
#include <stdlib.h>

TestSuite(gb_grants, .init = gb_start, .fini = gb_stop);

GbTest(gb_grants, admin_reads_groupbuy_audit_rows)
{
    test_audit_row("groupbuy", "groupbuy.group.created", "group", 1);
    test_audit_row("core", "core.user.created", "user", 1);
    struct resp *r = api_get("/api/v1/audit?app=groupbuy", "gb_admin");
    resp_expect(r, 200, NULL);
    cr_assert_eq(jint(r->json, "total"), 1, "%s", r->body);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(r->json, "items"), 0), "action"), "groupbuy.group.created");
    resp_free(r);

    r = api_get("/api/v1/audit", "gb_admin");
    resp_expect(r, 403, "forbidden");
    cr_assert_str_eq(resp_error_str(r, "permission"), "core.audit.read");
    resp_free(r);
    r = api_get("/api/v1/audit?app=groupbuy", "gb_sup1");      /* a supplier is not the app's admin */
    resp_expect(r, 403, "forbidden");
    cr_assert_str_eq(resp_error_str(r, "permission"), "groupbuy.audit.read");
    resp_free(r);
}

/* A supplier role needs a supplier that exists. */
GbTest(gb_grants, supplier_roles_need_an_existing_supplier)
{
    test_user("root", "core", "admin", NULL, 0);
    int64_t bob = test_user("bob", NULL, NULL, NULL, 0);
    char *tok = test_token("root"), *roles = xasprintf("/api/v1/admin/users/%lld/roles", (long long)bob);
    struct { const char *body; int status; } cases[] = {
        {"{\"app\":\"groupbuy\",\"role\":\"supplier\"}", 400},                             /* scoped, no scope */
        {"{\"app\":\"groupbuy\",\"role\":\"supplier\",\"scope_type\":\"supplier\",\"scope_id\":99}", 404},
        {"{\"app\":\"groupbuy\",\"role\":\"supplier_staff\",\"scope_type\":\"supplier\",\"scope_id\":99}", 404},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct resp *r = api("POST", roles, tok, cases[i].body);
        cr_expect_eq(r->status, cases[i].status, "%s -> %d: %s", cases[i].body, r->status, r->body);
        resp_free(r);
    }
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM user_roles WHERE user_id = %lld", (long long)bob), 0,
                 "no refused grant left a row");
    /* the fixture's supplier 2 exists */
    resp_check(api("POST", roles, tok,
                   "{\"app\":\"groupbuy\",\"role\":\"supplier\",\"scope_type\":\"supplier\",\"scope_id\":2}"),
               201, NULL);
    test_expect_role("groupbuy", "bob", "supplier", "supplier", 2);
    free(roles);
    free(tok);
}
