/* test_auth.c -- register, login, refresh (rotation and reuse detection),
 * logout, /me, language, login rate limits, closed registration and disabled
 * accounts, through the real HTTP API. */
#include "support/harness.h"
#include <stdlib.h>
#include <string.h>

#define GOOD_PW "Zebra-Quantum-81"

/* One call with a JSON body built by json_pack (stolen); NULL body allowed. */

static struct resp *do_register(const char *username, const char *password, const char *email, const char *token)
{
    return api_json("POST", "/api/v1/auth/register", token,
                json_pack("{s:s, s:s, s:s}", "username", username, "password", password, "email", email));
}

static const char *str(struct resp *r, const char *key)
{
    return json_string_value(json_object_get(r->json, key));
}

Test(auth, register_returns_the_user)
{
    srv_start();
    struct resp *r = api_json("POST", "/api/v1/auth/register", NULL,
                          json_pack("{s:s, s:s, s:s, s:s}", "username", "alice", "password", GOOD_PW, "email",
                                    "alice@example.com", "display_name", "Alice A."));
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_gt(json_integer_value(json_object_get(r->json, "id")), 0);
    cr_assert_str_eq(str(r, "username"), "alice");
    cr_assert_str_eq(str(r, "email"), "alice@example.com");
    cr_assert_str_eq(str(r, "display_name"), "Alice A.");
    cr_assert(json_is_null(json_object_get(r->json, "language")), "no language until one is chosen: %s", r->body);
    cr_assert_str_eq(str(r, "status"), "active");
    cr_assert_not_null(str(r, "created_at"));
    cr_assert_null(json_object_get(r->json, "password_hash"));
    cr_assert_null(strstr(r->body, GOOD_PW));
    cr_assert_null(strstr(r->body, "argon2"));
    resp_free(r);

    r = do_register("bob", GOOD_PW, "bob@example.com", NULL);
    cr_assert_eq(r->status, 201);
    cr_assert_str_eq(str(r, "display_name"), "bob", "display_name defaults to the username");
    resp_free(r);

    char *hash = db_text(test_db(), "SELECT password_hash FROM users WHERE username = 'alice'");
    cr_assert(hash && !strncmp(hash, "$argon2id$", 10), "stored as argon2id: %s", hash);
    free(hash);
    cr_assert_eq(test_audit_count("core", "core.user.registered"), 2);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE summary LIKE '%" GOOD_PW "%'"), 0);
    srv_stop();
}

Test(auth, register_refuses_weak_passwords)
{
    static const struct { const char *password, *problem; } cases[] = {
        {"Ab3$xyz", "password_too_short"},
        {"1234567890", "password_all_digits"},
        {"password123", "password_common"},
        {"iloveyou", "password_common"},
        {"Maria2024!x", "password_similar"},
        {"mariaa...", "password_similar"},
    };
    srv_start();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct resp *r = do_register("maria", cases[i].password, "maria@example.com", NULL);
        resp_expect(r, 400, "validation_failed");
        json_t *d = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
        cr_assert_str_eq(json_string_value(json_object_get(d, "field")), "password");
        cr_assert_str_eq(json_string_value(json_object_get(d, "problem")), cases[i].problem, "%s: %s",
                         cases[i].password, r->body);
        const char *msg = json_string_value(json_object_get(json_object_get(r->json, "error"), "message"));
        cr_assert(msg && strstr(msg, "password"), "a clear message: %s", msg);
        resp_free(r);
    }
    struct resp *r = do_register("maria", "password123", "maria@example.com", NULL);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r->json, "error"), "message")),
                     "password is too common");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users"), 0);
    srv_stop();
}

Test(auth, register_validates_fields)
{
    static const struct { const char *body, *field, *problem; } cases[] = {
        {"{\"username\":\"ab\",\"password\":\"" GOOD_PW "\",\"email\":\"ab@example.com\"}", "username", "username_invalid"},
        {"{\"username\":\"a b c\",\"password\":\"" GOOD_PW "\",\"email\":\"x@example.com\"}", "username", "username_invalid"},
        {"{\"username\":\"abcdefghijklmnopqrstuvwxyz0123456\",\"password\":\"" GOOD_PW "\",\"email\":\"x@example.com\"}",
         "username", "username_invalid"},
        {"{\"username\":\"carol\",\"password\":\"" GOOD_PW "\",\"email\":\"nope\"}", "email", "email_invalid"},
        {"{\"username\":\"carol\",\"password\":\"" GOOD_PW "\",\"email\":\"carol@localhost\"}", "email", "email_invalid"},
        {"{\"username\":\"carol\",\"password\":\"" GOOD_PW "\",\"email\":\"@example.com\"}", "email", "email_invalid"},
        {"{\"username\":\"carol\",\"password\":\"" GOOD_PW "\"}", "email", "is required"},
        {"{\"username\":\"carol\",\"password\":\"" GOOD_PW "\",\"email\":\"c@example.com\",\"admin\":true}", "admin",
         "is not a known field"},
    };
    srv_start();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct resp *r = api("POST", "/api/v1/auth/register", NULL, cases[i].body);
        resp_expect(r, 400, "validation_failed");
        json_t *d = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
        cr_assert_str_eq(json_string_value(json_object_get(d, "field")), cases[i].field, "%s", r->body);
        cr_assert_str_eq(json_string_value(json_object_get(d, "problem")), cases[i].problem, "%s", r->body);
        resp_free(r);
    }
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users"), 0);
    srv_stop();
}

Test(auth, register_duplicate_409)
{
    srv_start();
    struct resp *r = do_register("alice", GOOD_PW, "alice@example.com", NULL);
    cr_assert_eq(r->status, 201);
    resp_free(r);
    resp_expect(r = do_register("alice", GOOD_PW, "other@example.com", NULL), 409, "username_taken");
    resp_free(r);
    resp_expect(r = do_register("ALICE", GOOD_PW, "other@example.com", NULL), 409, "username_taken");
    resp_free(r);
    resp_expect(r = do_register("alice2", GOOD_PW, "Alice@Example.com", NULL), 409, "email_taken");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users"), 1);
    srv_stop();
}

Test(auth, login_returns_a_token_pair)
{
    srv_start();
    test_user("alice", NULL, NULL, NULL, 0);
    struct resp *r = api_login("alice", TEST_PASSWORD);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(strlen(str(r, "access_token")), 64);
    cr_assert_eq(strlen(str(r, "refresh_token")), 64);
    cr_assert_str_neq(str(r, "access_token"), str(r, "refresh_token"));
    cr_assert_str_eq(str(r, "token_type"), "Bearer");
    cr_assert_eq(json_integer_value(json_object_get(r->json, "expires_in")), 900);
    json_t *user = json_object_get(r->json, "user");
    cr_assert_str_eq(json_string_value(json_object_get(user, "username")), "alice");
    cr_assert_null(json_object_get(user, "password_hash"));
    struct resp *me = api("GET", "/api/v1/me", str(r, "access_token"), NULL);
    cr_assert_eq(me->status, 200);
    resp_free(me);
    resp_free(r);
    r = api_login("ALICE", TEST_PASSWORD);
    cr_assert_eq(r->status, 200, "usernames are case-insensitive");
    resp_free(r);
    cr_assert_eq(test_audit_count("core", "core.user.logged_in"), 2);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM auth_tokens"), 4);
    srv_stop();
}

Test(auth, login_wrong_password_and_unknown_user_401)
{
    srv_start();
    test_user("alice", NULL, NULL, NULL, 0);
    struct resp *r = api_login("alice", "Wrong-Horse-42");
    resp_expect(r, 401, "invalid_credentials");
    resp_free(r);
    resp_expect(r = api_login("nobody", TEST_PASSWORD), 401, "invalid_credentials");
    resp_free(r);
    resp_expect(r = api_json("POST", "/api/v1/auth/login", NULL, json_pack("{s:s}", "username", "alice")), 400,
                 "validation_failed");
    resp_free(r);
    cr_assert_eq(test_audit_count("core", "core.user.login_failed"), 1, "failures of existing accounts are audited");
    cr_assert_eq(test_audit_count("core", "core.user.logged_in"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM auth_tokens"), 0);
    size_t len;
    char *text = metrics_render(&len);
    cr_assert(strstr(text, "atrium_auth_failures_total{reason=\"bad_password\"} 1"), "%s", text);
    cr_assert(strstr(text, "atrium_auth_failures_total{reason=\"unknown_user\"} 1"));
    free(text);
    srv_stop();
}

Test(auth, login_sql_injection_is_just_a_wrong_username)
{
    static const char *names[] = {"' OR 1=1 --", "alice' --", "alice'; DROP TABLE users; --", "\" OR \"\"=\"", NULL};
    srv_start();
    test_user("alice", NULL, NULL, NULL, 0);
    for (const char **n = names; *n; n++) {
        struct resp *r = api_login(*n, "' OR '1'='1");
        resp_expect(r, 401, "invalid_credentials");
        resp_free(r);
        resp_expect(r = api_login(*n, TEST_PASSWORD), 401, "invalid_credentials");
        resp_free(r);
    }
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE username = 'alice' AND status = 'active'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM auth_tokens"), 0);
    srv_stop();
}

Test(auth, me_needs_a_token)
{
    srv_start();
    test_user("alice", "core", "auditor", NULL, 0);
    char *tok = test_token("alice");
    struct resp *r = api("GET", "/api/v1/me", tok, NULL);
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(str(r, "username"), "alice");
    cr_assert(json_is_null(json_object_get(r->json, "language")), "no language until one is chosen: %s", r->body);
    cr_assert(json_is_false(json_object_get(r->json, "totp_enabled")));
    cr_assert_not_null(str(r, "created_at"));
    cr_assert_eq(json_array_size(json_object_get(r->json, "roles")), 1);
    json_t *role = json_array_get(json_object_get(r->json, "roles"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(role, "app")), "core");
    cr_assert_str_eq(json_string_value(json_object_get(role, "role")), "auditor");
    cr_assert(strstr(r->body, "\"core.audit.read\""), "permissions listed: %s", r->body);
    cr_assert_null(json_object_get(r->json, "password_hash"));
    resp_free(r);
    resp_expect(r = api("GET", "/api/v1/me", NULL, NULL), 401, "unauthorized");
    resp_free(r);
    resp_expect(r = api("GET", "/api/v1/me", "0000000000000000000000000000000000000000000000000000000000000000", NULL),
                 401, "invalid_token");
    resp_free(r);
    free(tok);
    srv_stop();
}

static struct resp *do_refresh(const char *refresh_token)
{
    return api_json("POST", "/api/v1/auth/refresh", NULL, json_pack("{s:s}", "refresh_token", refresh_token));
}

Test(auth, refresh_rotates_and_reuse_revokes_the_family)
{
    srv_start();
    test_user("alice", NULL, NULL, NULL, 0);
    struct resp *first = api_login("alice", TEST_PASSWORD);
    cr_assert_eq(first->status, 200);
    struct resp *second = do_refresh(str(first, "refresh_token"));
    cr_assert_eq(second->status, 200, "%s", second->body);
    cr_assert_eq(strlen(str(second, "access_token")), 64);
    cr_assert_str_neq(str(second, "access_token"), str(first, "access_token"));
    cr_assert_str_neq(str(second, "refresh_token"), str(first, "refresh_token"));
    cr_assert_str_eq(str(second, "token_type"), "Bearer");
    struct resp *r = api("GET", "/api/v1/me", str(second, "access_token"), NULL);
    cr_assert_eq(r->status, 200);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM auth_tokens WHERE kind = 'refresh' AND spent_at IS NOT NULL"), 1);
    cr_assert_eq(test_audit_count("core", "core.token.refreshed"), 1);

    /* the old refresh token is spent: presenting it again revokes everything */
    resp_expect(r = do_refresh(str(first, "refresh_token")), 401, "refresh_token_reused");
    resp_free(r);
    resp_expect(r = api("GET", "/api/v1/me", str(second, "access_token"), NULL), 401, "invalid_token");
    resp_free(r);
    resp_expect(r = do_refresh(str(second, "refresh_token")), 401, "invalid_token");
    resp_free(r);
    cr_assert_eq(test_audit_count("core", "core.token.reuse_detected"), 1, "the reuse is audited and committed");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM token_families WHERE revoked_at IS NOT NULL "
                            "AND revoke_reason = 'refresh_token_reuse'"), 1);
    resp_expect(r = do_refresh("not-a-token"), 401, "invalid_token");
    resp_free(r);

    /* another login is a new family, untouched */
    struct resp *third = api_login("alice", TEST_PASSWORD);
    cr_assert_eq(third->status, 200);
    r = api("GET", "/api/v1/me", str(third, "access_token"), NULL);
    cr_assert_eq(r->status, 200);
    resp_free(r);
    resp_free(third);
    resp_free(second);
    resp_free(first);
    srv_stop();
}

Test(auth, logout_revokes_the_family)
{
    srv_start();
    test_user("alice", NULL, NULL, NULL, 0);
    struct resp *pair = api_login("alice", TEST_PASSWORD), *other = api_login("alice", TEST_PASSWORD);
    const char *access = str(pair, "access_token");
    struct resp *r = api("POST", "/api/v1/auth/logout", access, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(str(r, "status"), "logged_out");
    resp_free(r);
    resp_expect(r = api("GET", "/api/v1/me", access, NULL), 401, "invalid_token");
    resp_free(r);
    resp_expect(r = do_refresh(str(pair, "refresh_token")), 401, "invalid_token");
    resp_free(r);
    resp_expect(r = api("POST", "/api/v1/auth/logout", NULL, NULL), 401, "unauthorized");
    resp_free(r);
    r = api("GET", "/api/v1/me", str(other, "access_token"), NULL);
    cr_assert_eq(r->status, 200, "the other session stays");
    resp_free(r);
    cr_assert_eq(test_audit_count("core", "core.user.logged_out"), 1);
    resp_free(other);
    resp_free(pair);
    srv_stop();
}

Test(auth, login_rate_limit)
{
    setenv("ATRIUM_RATE_LOGIN", "3/minute", 1);
    srv_start();
    test_user("alice", NULL, NULL, NULL, 0);
    struct resp *r;
    for (int i = 0; i < 3; i++) {
        resp_expect(r = api_login("alice", "Wrong-Horse-42"), 401, "invalid_credentials");
        resp_free(r);
    }
    r = api_login("alice", TEST_PASSWORD);
    resp_expect(r, 429, "rate_limited");
    const char *retry = resp_header(r, "Retry-After");
    cr_assert_not_null(retry, "Retry-After header: %s", r->headers);
    cr_assert_geq(atoi(retry), 1);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM auth_tokens"), 0, "a refused attempt issues nothing");
    srv_stop();
}

Test(auth, login_rate_limit_per_ip_across_usernames)
{
    setenv("ATRIUM_RATE_LOGIN", "3/minute", 1);
    srv_start();
    static const char *names[] = {"u1", "u2", "u3"};
    struct resp *r;
    for (int i = 0; i < 3; i++) {
        resp_expect(r = api_login(names[i], "Wrong-Horse-42"), 401, "invalid_credentials");
        resp_free(r);
    }
    resp_expect(r = api_login("u4", "Wrong-Horse-42"), 429, "rate_limited");
    cr_assert_not_null(resp_header(r, "Retry-After"));
    resp_free(r);
    srv_stop();
}

/* The per-username bucket is shared by every IP: attempts from elsewhere
 * (taken from the bucket directly here) block the name from this IP too. */
Test(auth, login_rate_limit_per_username)
{
    setenv("ATRIUM_RATE_LOGIN", "3/minute", 1);
    srv_start();
    test_user("carol", NULL, NULL, NULL, 0);
    test_user("dave", NULL, NULL, NULL, 0);
    /* the bucket is in the database: what one instance spends, every instance sees */
    for (int i = 0; i < 3; i++) cr_assert(ratelimit_take_db(test_db(), "login-user:carol", &cfg.rate_login, NULL));
    cr_assert_eq(test_scalar("SELECT allowed FROM rate_buckets WHERE key = 'login-user:carol' AND $1 = 1", 1), 1);
    struct resp *r = api_login("Carol", TEST_PASSWORD);
    resp_expect(r, 429, "rate_limited");
    cr_assert_not_null(resp_header(r, "Retry-After"));
    resp_free(r);
    cr_assert_eq(test_scalar("SELECT allowed FROM rate_buckets WHERE key = 'login-user:carol' AND $1 = 1", 1), 0,
                 "the refused take is recorded");
    r = api_login("dave", TEST_PASSWORD);
    cr_assert_eq(r->status, 200, "other usernames from this IP still work: %s", r->body);
    resp_free(r);
    srv_stop();
}

Test(auth, language_change_persists)
{
    srv_start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    struct resp *r = api_json("POST", "/api/v1/me/language", tok, json_pack("{s:s}", "language", "es"));
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(str(r, "language"), "es");
    resp_free(r);
    r = api("GET", "/api/v1/me", tok, NULL);
    cr_assert_str_eq(str(r, "language"), "es");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE username = 'alice' AND language = 'es'"), 1);
    cr_assert_eq(test_audit_count("core", "core.user.language_changed"), 1);
    static const char *bad[] = {"{\"language\":\"fr\"}", "{\"language\":\"EN\"}", "{\"language\":1}", "{}",
                                "{\"language\":\"en\",\"x\":1}", NULL};
    for (const char **b = bad; *b; b++) {
        resp_expect(r = api("POST", "/api/v1/me/language", tok, *b), 400, "validation_failed");
        resp_free(r);
    }
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE username = 'alice' AND language = 'es'"), 1);
    cr_assert_eq(test_audit_count("core", "core.user.language_changed"), 1);
    free(tok);
    srv_stop();
}

/* A user changes their own password: the current one must match, the new
 * one meets the policy; every session ends; audited once. */
Test(auth, changing_ones_own_password_ends_every_session)
{
    srv_start();
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    static const struct {
        const char *body, *field, *problem;
    } bad[] = {
        {"{\"current_password\":\"wrong-one-123\",\"new_password\":\"Quiet-Lantern-99\"}", "current_password", NULL},
        {"{\"current_password\":\"" TEST_PASSWORD "\",\"new_password\":\"" TEST_PASSWORD "\"}", "new_password", NULL},
        {"{\"current_password\":\"" TEST_PASSWORD "\",\"new_password\":\"short\"}", "new_password",
         "password_too_short"},
        {"{\"current_password\":\"" TEST_PASSWORD "\",\"new_password\":\"alice-alice\"}", "new_password",
         "password_similar"},
        {"{\"current_password\":\"" TEST_PASSWORD "\"}", "new_password", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct resp *r = api("POST", "/api/v1/me/password", tok, bad[i].body);
        resp_expect(r, 400, "validation_failed");
        json_t *d = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
        cr_assert_str_eq(json_string_value(json_object_get(d, "field")), bad[i].field, "%s", r->body);
        if (bad[i].problem)
            cr_assert_str_eq(json_string_value(json_object_get(d, "problem")), bad[i].problem, "%s", r->body);
        resp_free(r);
    }
    cr_assert_eq(test_audit_count("core", "core.user.password_changed"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'core.user.login_failed' AND summary LIKE "
                            "'%wrong_current_password%'"), 1, "a wrong current password is audited like a login");
    char *other = test_token("alice");                          /* another session */
    struct resp *r = api("POST", "/api/v1/me/password", tok,
                         "{\"current_password\":\"" TEST_PASSWORD "\",\"new_password\":\"Quiet-Lantern-99\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(test_audit_count("core", "core.user.password_changed"), 1);
    r = api("GET", "/api/v1/me", tok, NULL);                    /* this session ended too */
    cr_assert_eq(r->status, 401, "%s", r->body);
    resp_free(r);
    r = api("GET", "/api/v1/me", other, NULL);                  /* and every other */
    cr_assert_eq(r->status, 401, "%s", r->body);
    resp_free(r);
    free(other);
    r = api_login("alice", TEST_PASSWORD);
    cr_assert_eq(r->status, 401, "the old password no longer signs in");
    resp_free(r);
    r = api_login("alice", "Quiet-Lantern-99");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    free(tok);
    srv_stop();
}

Test(auth, closed_registration)
{
    setenv("ATRIUM_OPEN_REGISTRATION", "0", 1);
    srv_start();
    test_user("root", "core", "admin", NULL, 0);
    test_user("plain", NULL, NULL, NULL, 0);
    char *admin = test_token("root"), *plain = test_token("plain");
    struct resp *r = do_register("newbie", GOOD_PW, "newbie@example.com", NULL);
    resp_expect(r, 403, "registration_closed");
    resp_free(r);
    resp_expect(r = do_register("newbie", GOOD_PW, "newbie@example.com", plain), 403, "registration_closed");
    resp_free(r);
    r = do_register("newbie", GOOD_PW, "newbie@example.com", admin);
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE username = 'newbie'"), 1);
    free(admin);
    free(plain);
    srv_stop();
}

Test(auth, disabled_user_cannot_log_in)
{
    srv_start();
    int64_t id = test_user("alice", NULL, NULL, NULL, 0);
    cr_assert_eq(db_exec(test_db(), "UPDATE users SET status = 'disabled' WHERE id = $1", DB_I(id)), 1);
    struct resp *r = api_login("alice", TEST_PASSWORD);
    resp_expect(r, 401, "invalid_credentials");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'core.user.login_failed' "
                            "AND summary LIKE '%disabled%'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM auth_tokens"), 0);
    srv_stop();
}

/* auth_create_user_hashed: the hash is made before the caller's transaction;
 * the fields are checked as for any user, and the account signs in. */
Test(auth, create_user_with_a_hash_made_beforehand)
{
    srv_start();
    struct db *db = test_db();
    char hash[128];
    const char *problem = NULL;
    int64_t id = 0;
    cr_assert_eq(auth_hash_password(GOOD_PW, hash), 0);
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(auth_create_user_hashed(db, "x", hash, "x@example.com", NULL, &id, &problem), -1);
    cr_assert_str_eq(problem, "username_invalid");
    cr_assert_eq(auth_create_user_hashed(db, "hashed", "plain-text", "h@example.com", NULL, &id, &problem), -1,
                 "only an argon2 hash");
    cr_assert_eq(auth_create_user_hashed(db, "hashed", hash, "H@example.com", "Hashed H.", &id, &problem), 0);
    cr_assert_gt(id, 0);
    cr_assert_eq(auth_create_user_hashed(db, "hashed2", hash, "h@EXAMPLE.com", NULL, &id, &problem), -1);
    cr_assert_str_eq(problem, "email_taken");
    cr_assert_eq(db_commit(db), 0);
    struct resp *r = api_login("hashed", GOOD_PW);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
}
