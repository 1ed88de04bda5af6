/* test_authz_complete.c -- authz_gaps() on a small fake app: a route lacking
 * rows is reported for exactly the callers it lacks, a row only counts for
 * the route the router would pick, and a complete matrix has no gaps. */
#include "support/harness.h"
#include <stdlib.h>
#include <string.h>

static void never_called(struct req *r)
{
    reply_json(r, 200, json_object());
}

static const char *const perms[] = {"fake.*", NULL};
static const struct role roles[] = {
    {"clerk", NULL, "shop", perms},
    {"boss", NULL, NULL, perms},
    {0},
};
static const struct route routes[] = {
    {"GET", "/api/v1/fake/shops/{id:int}", never_called, "fake.shops.read", 0},
    {"GET", "/api/v1/fake/shops/mine", never_called, PERM_USER, 0},
    {"POST", "/api/v1/fake/shops/{id:int}/close", never_called, "fake.shops.close", 0},
    {0},
};
static const struct app fake = {.name = "fake", .routes = routes, .roles = roles};

static void start(void)
{
    srv_start_with(NULL, &fake);
    test_user("boss", "fake", "boss", NULL, 0);
    test_user("clerk1", "fake", "clerk", "shop", 1);
    test_user("nobody", NULL, NULL, NULL, 0);
}

TestSuite(authz_complete, .init = start, .fini = srv_stop);

/* Every caller of the two GET routes; `?x=1` and the literal "mine" (not an
 * int) must land on the right route. */
#define READS                                                                                                \
    {"GET", "/api/v1/fake/shops/1?x=1", NULL, 401}, {"GET", "/api/v1/fake/shops/1", "nobody", 403},          \
    {"GET", "/api/v1/fake/shops/1", "boss", 200}, {"GET", "/api/v1/fake/shops/1", "clerk1", 200},            \
    {"GET", "/api/v1/fake/shops/2", "clerk1", 403, .out = true},                                              \
    {"GET", "/api/v1/fake/shops/mine", NULL, 401}, {"GET", "/api/v1/fake/shops/mine", "nobody", 200},        \
    {"GET", "/api/v1/fake/shops/mine", "boss", 200}, {"GET", "/api/v1/fake/shops/mine", "clerk1", 200},      \
    {"GET", "/api/v1/fake/shops/mine", "clerk1", 200, .out = true}

#define CLOSE_BUT_CLERK_OUT                                                                                  \
    {"POST", "/api/v1/fake/shops/1/close", NULL, 401}, {"POST", "/api/v1/fake/shops/1/close", "nobody", 403}, \
    {"POST", "/api/v1/fake/shops/1/close", "boss", 200}, {"POST", "/api/v1/fake/shops/1/close", "clerk1", 200}

static const char *gap_text(const struct authz_gap *g)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s %s: %s", g->route->method, g->route->pattern, g->caller);
    return buf;
}

Test(authz_complete, a_route_lacking_one_caller_is_named)
{
    static const struct authz_case cases[] = {READS, CLOSE_BUT_CLERK_OUT, {0}};
    const struct authz_case *const matrix[] = {cases, NULL};
    struct authz_gap *gaps;
    cr_assert_eq(authz_gaps("fake", matrix, &gaps), 1);
    cr_assert_str_eq(gap_text(&gaps[0]), "POST /api/v1/fake/shops/{id:int}/close: clerk out of scope");
    free(gaps);
}

Test(authz_complete, a_route_without_rows_lacks_every_caller)
{
    static const struct authz_case cases[] = {READS, {0}};
    /* right path, wrong method: not a row of the POST route */
    static const struct authz_case other[] = {{"GET", "/api/v1/fake/shops/1/close", NULL, 404}, {0}};
    const struct authz_case *const matrix[] = {cases, other, NULL};
    static const char *const want[] = {"anonymous", "no role", "clerk in scope", "clerk out of scope", "boss"};
    struct authz_gap *gaps;
    cr_assert_eq(authz_gaps("fake", matrix, &gaps), 5);
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(gaps[i].route, &routes[2]);
        cr_assert_str_eq(gaps[i].caller, want[i]);
    }
    free(gaps);
}

Test(authz_complete, a_complete_matrix_has_no_gaps)
{
    static const struct authz_case reads[] = {READS, {0}};
    static const struct authz_case close[] = {
        CLOSE_BUT_CLERK_OUT, {"POST", "/api/v1/fake/shops/2/close", "clerk1", 403, .out = true}, {0},
    };
    const struct authz_case *const matrix[] = {reads, close, NULL};
    struct authz_gap *gaps;
    cr_assert_eq(authz_gaps("fake", matrix, &gaps), 0);
    free(gaps);
    authz_complete("fake", matrix);
}

Test(authz_complete, a_user_with_two_roles_stands_for_neither)
{
    test_user("both", "fake", "boss", NULL, 0);
    struct db *db = test_db();
    cr_assert_eq(db_exec(db, "INSERT INTO user_roles (user_id, app, role, scope_type, scope_id) VALUES ($1, 'fake', "
                             "'clerk', 'shop', 1)", DB_I(test_user_id("both"))), 1);
    static const struct authz_case cases[] = {
        {"GET", "/api/v1/fake/shops/1", NULL, 401}, {"GET", "/api/v1/fake/shops/1", "nobody", 403},
        {"GET", "/api/v1/fake/shops/1", "both", 200}, {"GET", "/api/v1/fake/shops/1", "both", 200, .out = true},
        {0},
    };
    const struct authz_case *const matrix[] = {cases, NULL};
    struct authz_gap *gaps;
    size_t n = authz_gaps("fake", matrix, &gaps);
    cr_assert_eq(n, 3 + 5 + 5, "the first route lacks its three role cells, the others all five");
    cr_assert_str_eq(gap_text(&gaps[0]), "GET /api/v1/fake/shops/{id:int}: clerk in scope");
    cr_assert_str_eq(gap_text(&gaps[2]), "GET /api/v1/fake/shops/{id:int}: boss");
    free(gaps);
}
