/* GET/PUT /users/{id}/preferences: the user themself, or a holder of
 * codepop.preferences.manage; nobody else (admins included). */
#include "support/fixture.h"
#include <stdlib.h>
#include <string.h>

TestSuite(preferences, .init = cp_start, .fini = srv_stop);

static struct resp *prefs(const char *method, int64_t user_id, const char *as, const char *body)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/codepop/users/%lld/preferences", (long long)user_id);
    char *tok = as ? test_token(as) : NULL;
    struct resp *r = api(method, path, tok, body);
    free(tok);
    return r;
}

static const char *good = "{\"favourite_drinks\":[2,1],\"default_store_id\":3,"
                          "\"notifications\":{\"order_ready\":true,\"promotions\":false}}";

Test(preferences, defaults_then_round_trip_for_the_user_themself)
{
    int64_t me = test_user_id("cp_user1");
    struct resp *r = prefs("GET", me, "cp_user1", NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "user_id")), me);
    cr_assert_eq(json_array_size(json_object_get(r->json, "favourite_drinks")), 0);
    cr_assert(json_is_null(json_object_get(r->json, "default_store_id")));
    cr_assert(json_is_object(json_object_get(r->json, "notifications")));
    resp_free(r);

    r = prefs("PUT", me, "cp_user1", good);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    r = prefs("GET", me, "cp_user1", NULL);
    cr_assert_eq(r->status, 200);
    json_t *fav = json_object_get(r->json, "favourite_drinks");
    cr_assert_eq(json_array_size(fav), 2);
    cr_assert_eq(json_integer_value(json_array_get(fav, 0)), 2);
    cr_assert_eq(json_integer_value(json_array_get(fav, 1)), 1);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "default_store_id")), 3);
    cr_assert(json_is_true(json_object_get(json_object_get(r->json, "notifications"), "order_ready")));
    cr_assert(json_is_string(json_object_get(r->json, "updated_at")));
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.preferences.updated'"), 1);

    /* PUT replaces the document: what is left out goes back to its default */
    r = prefs("PUT", me, "cp_user1", "{\"default_store_id\":null,\"favourite_drinks\":[3]}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(json_is_null(json_object_get(r->json, "default_store_id")));
    cr_assert_eq(json_object_size(json_object_get(r->json, "notifications")), 0);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_preferences"), 1);
}

Test(preferences, others_are_refused_admins_included)
{
    int64_t me = test_user_id("cp_user1");
    test_user("core_admin", "core", "admin", NULL, 0);
    const char *others[] = {"cp_user2", "cp_admin", "cp_mgr1", "cp_log_c", "cp_nobody", "core_admin"};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        struct resp *r = prefs("GET", me, others[i], NULL);
        cr_assert_eq(r->status, 403, "GET as %s -> %d", others[i], r->status);
        resp_free(r);
        r = prefs("PUT", me, others[i], good);
        cr_assert_eq(r->status, 403, "PUT as %s -> %d", others[i], r->status);
        resp_free(r);
    }
    struct resp *r = prefs("GET", me, NULL, NULL);
    cr_assert_eq(r->status, 401);
    resp_free(r);
    r = prefs("GET", 99999, "cp_user2", NULL);      /* no hint whether the user exists */
    cr_assert_eq(r->status, 403);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_preferences"), 0);
}

Test(preferences, a_holder_of_the_manage_permission_may)
{
    int64_t me = test_user_id("cp_user1"), helper = test_user("cp_support", NULL, NULL, NULL, 0);
    cr_assert_eq(db_exec(test_db(), "INSERT INTO user_permissions (user_id, permission, effect) "
                                    "VALUES ($1, 'codepop.preferences.manage', 'grant')", DB_I(helper)), 1);
    struct resp *r = prefs("PUT", me, "cp_support", good);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    r = prefs("GET", me, "cp_support", NULL);
    cr_assert_eq(r->status, 200);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "default_store_id")), 3);
    resp_free(r);
    r = prefs("GET", 99999, "cp_support", NULL);
    cr_assert_eq(r->status, 404);
    resp_free(r);
    /* the grant also lifts the codepop admin: granted through the admin API */
    int64_t cp_admin = test_user_id("cp_admin");
    test_user("core_admin", "core", "admin", NULL, 0);
    char path[96], *tok = test_token("core_admin");
    snprintf(path, sizeof path, "/api/v1/admin/users/%lld/permissions", (long long)cp_admin);
    r = api("POST", path, tok, "{\"permission\":\"codepop.preferences.manage\",\"effect\":\"grant\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    free(tok);
    r = prefs("GET", me, "cp_admin", NULL);
    cr_assert_eq(r->status, 200);
    resp_free(r);
}

Test(preferences, invalid_bodies_change_nothing)
{
    int64_t me = test_user_id("cp_user1");
    const char *cases[][2] = {
        {"{\"favourite_drinks\":[1,99]}", "favourite_drinks[1]"},
        {"{\"favourite_drinks\":[1,1]}", "favourite_drinks[1]"},
        {"{\"favourite_drinks\":[\"x\"]}", "favourite_drinks[0]"},
        {"{\"favourite_drinks\":5}", "favourite_drinks"},
        {"{\"default_store_id\":42}", "default_store_id"},
        {"{\"default_store_id\":\"3\"}", "default_store_id"},
        {"{\"notifications\":[true]}", "notifications"},
        {"{\"colour\":\"red\"}", "colour"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct resp *r = prefs("PUT", me, "cp_user1", cases[i][0]);
        cr_assert_eq(r->status, 400, "%s -> %d %s", cases[i][0], r->status, r->body);
        json_t *detail = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
        cr_assert_str_eq(json_string_value(json_object_get(detail, "field")), cases[i][1], "%s", r->body);
        resp_free(r);
    }
    struct resp *r = prefs("PUT", me, "cp_user1", "[1]");
    cr_assert_eq(r->status, 400);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_preferences"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.preferences.updated'"), 0);
}
