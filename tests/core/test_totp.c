/* test_totp.c -- TOTP setup, enable, login with a code (and its replay),
 * recovery codes (single use), disable. Codes are computed here with
 * liboath from the secret that setup returns. */
#include "support/harness.h"
#include <liboath/oath.h>
#include <stdlib.h>
#include <string.h>

/* The 6-digit code of `secret` (base32) for the time step `steps` away from now. */
static void code_at(const char *secret, int steps, char out[7])
{
    char *key = NULL;
    size_t len = 0;
    cr_assert_eq(oath_init(), OATH_OK);
    cr_assert_eq(oath_base32_decode(secret, strlen(secret), &key, &len), OATH_OK);
    cr_assert_eq(len, 20);
    cr_assert_eq(oath_totp_generate(key, len, time(NULL) + 30 * steps, 30, 0, 6, out), OATH_OK);
    free(key);
}

/* A 6-digit code that is certainly not `code`. */
static void wrong_code(const char *code, char out[7])
{
    memcpy(out, code, 7);
    out[0] = out[0] == '9' ? '0' : (char)(out[0] + 1);
}

static struct resp *login(const char *username, const char *code)
{
    return api_json("POST", "/api/v1/auth/login", NULL,
                code ? json_pack("{s:s, s:s, s:s}", "username", username, "password", TEST_PASSWORD, "totp_code", code)
                     : json_pack("{s:s, s:s}", "username", username, "password", TEST_PASSWORD));
}

static struct resp *with_code(const char *path, const char *token, const char *code)
{
    return api_json("POST", path, token, json_pack("{s:s}", "code", code));
}

struct totp_user {
    char *token;
    char secret[64];
    char codes[10][16];
};

/* A user "tina" with TOTP set up (enable = also turned on with the current code). */
static void totp_user(struct totp_user *u, bool enable)
{
    test_user("tina", NULL, NULL, NULL, 0);
    u->token = test_token("tina");
    struct resp *r = api("POST", "/api/v1/auth/totp/setup", u->token, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    snprintf(u->secret, sizeof u->secret, "%s", json_string_value(json_object_get(r->json, "secret")));
    json_t *codes = json_object_get(r->json, "recovery_codes");
    cr_assert_eq(json_array_size(codes), 10);
    for (size_t i = 0; i < 10; i++)
        snprintf(u->codes[i], sizeof u->codes[i], "%s", json_string_value(json_array_get(codes, i)));
    resp_free(r);
    if (!enable) return;
    char code[7];
    code_at(u->secret, 0, code);
    r = with_code("/api/v1/auth/totp/enable", u->token, code);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
}

Test(totp, setup_returns_secret_uri_and_codes)
{
    struct totp_user u;
    srv_start();
    totp_user(&u, false);
    cr_assert_eq(strlen(u.secret), 32, "20 bytes in base32: %s", u.secret);
    cr_assert_eq(strspn(u.secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), 32);
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(strlen(u.codes[i]), 11, "xxxxx-xxxxx: %s", u.codes[i]);
        cr_assert_eq(u.codes[i][5], '-');
        for (int j = 0; j < i; j++) cr_assert_str_neq(u.codes[i], u.codes[j]);
    }
    struct resp *r = api("POST", "/api/v1/auth/totp/setup", u.token, NULL);
    cr_assert_eq(r->status, 200, "setup again while pending replaces the secret");
    const char *uri = json_string_value(json_object_get(r->json, "otpauth_uri"));
    const char *secret = json_string_value(json_object_get(r->json, "secret"));
    char *want = xasprintf("otpauth://totp/atrium:tina?secret=%s&issuer=atrium&algorithm=SHA1&digits=6&period=30",
                           secret);
    cr_assert_str_eq(uri, want);
    cr_assert_str_neq(secret, u.secret);
    free(want);

    /* at rest: the secret sealed, only hashes of the recovery codes, not enabled yet */
    char *stored = db_text(test_db(), "SELECT totp_secret FROM users WHERE username = 'tina'");
    cr_assert(stored && !strstr(stored, secret), "sealed: %s", stored);
    free(stored);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE username = 'tina' AND totp_enabled = 0"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM totp_recovery_codes"), 10, "earlier codes replaced");
    char *sql = xasprintf("SELECT COUNT(*) FROM totp_recovery_codes WHERE code_hash LIKE '%%%.5s%%'",
                          json_string_value(json_array_get(json_object_get(r->json, "recovery_codes"), 0)));
    cr_assert_eq(test_count(sql), 0);
    free(sql);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'core.user.totp_set_up'"), 2);
    char *leak = xasprintf("SELECT COUNT(*) FROM audit_log WHERE summary LIKE '%%%s%%'", secret);
    cr_assert_eq(test_count(leak), 0);
    free(leak);
    resp_free(r);

    /* before setup is enabled, login needs no code */
    r = login("tina", NULL);
    cr_assert_eq(r->status, 200);
    resp_free(r);
    free(u.token);
    srv_stop();
}

Test(totp, enable_needs_a_valid_code)
{
    struct totp_user u;
    char code[7], bad[7];
    srv_start();
    test_user("nosetup", NULL, NULL, NULL, 0);
    char *tok = test_token("nosetup");
    struct resp *r = with_code("/api/v1/auth/totp/enable", tok, "123456");
    resp_expect(r, 409, "totp_not_set_up");
    resp_free(r);
    free(tok);

    totp_user(&u, false);
    code_at(u.secret, 0, code);
    wrong_code(code, bad);
    resp_expect(r = with_code("/api/v1/auth/totp/enable", u.token, bad), 400, "invalid_totp");
    resp_free(r);
    resp_expect(r = with_code("/api/v1/auth/totp/enable", u.token, "abc"), 400, "invalid_totp");
    resp_free(r);
    resp_expect(r = api("POST", "/api/v1/auth/totp/enable", u.token, "{}"), 400, "validation_failed");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE totp_enabled = 1"), 0);

    r = with_code("/api/v1/auth/totp/enable", u.token, code);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(json_is_true(json_object_get(r->json, "totp_enabled")));
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE username = 'tina' AND totp_enabled = 1 "
                            "AND totp_last_step > 0"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'core.user.totp_enabled'"), 1);
    resp_expect(r = with_code("/api/v1/auth/totp/enable", u.token, code), 409, "totp_already_enabled");
    resp_free(r);
    resp_expect(r = api("POST", "/api/v1/auth/totp/setup", u.token, NULL), 409, "totp_already_enabled");
    resp_free(r);
    r = api("GET", "/api/v1/me", u.token, NULL);
    cr_assert(json_is_true(json_object_get(r->json, "totp_enabled")));
    resp_free(r);
    free(u.token);
    srv_stop();
}

Test(totp, login_requires_a_fresh_code)
{
    struct totp_user u;
    char next[7], bad[7];
    srv_start();
    totp_user(&u, true);
    struct resp *r = login("tina", NULL);
    resp_expect(r, 401, "totp_required");
    resp_free(r);
    resp_expect(r = login("tina", ""), 401, "totp_required");
    resp_free(r);

    /* enable spent the current step; the next step's code is inside the window */
    code_at(u.secret, 1, next);
    wrong_code(next, bad);
    resp_expect(r = login("tina", bad), 401, "invalid_totp");
    resp_free(r);
    r = login("tina", next);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(strlen(json_string_value(json_object_get(r->json, "access_token"))), 64);
    resp_free(r);
    resp_expect(r = login("tina", next), 401, "invalid_totp");     /* replay inside its window */
    resp_free(r);
    code_at(u.secret, 0, next);
    resp_expect(r = login("tina", next), 401, "invalid_totp");     /* an older step after a newer one */
    resp_free(r);

    /* a wrong password never reaches the code check */
    r = api_json("POST", "/api/v1/auth/login", NULL,
             json_pack("{s:s, s:s, s:s}", "username", "tina", "password", "Wrong-Horse-42", "totp_code", next));
    resp_expect(r, 401, "invalid_credentials");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'core.user.logged_in'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'core.user.login_failed' "
                            "AND summary LIKE '%invalid_totp%'"), 3);
    free(u.token);
    srv_stop();
}

Test(totp, recovery_code_works_once)
{
    struct totp_user u;
    srv_start();
    totp_user(&u, true);
    struct resp *r = login("tina", u.codes[0]);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    resp_expect(r = login("tina", u.codes[0]), 401, "invalid_totp");
    resp_free(r);

    char loose[16];                          /* without the dash, upper case */
    size_t n = 0;
    for (const char *p = u.codes[1]; *p; p++)
        if (*p != '-') loose[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    loose[n] = 0;
    r = login("tina", loose);
    cr_assert_eq(r->status, 200, "%s: %s", loose, r->body);
    resp_free(r);
    resp_expect(r = login("tina", u.codes[1]), 401, "invalid_totp");
    resp_free(r);
    resp_expect(r = login("tina", "zzzzz-zzzzz"), 401, "invalid_totp");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM totp_recovery_codes WHERE used_at IS NOT NULL"), 2);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM totp_recovery_codes WHERE used_at IS NULL"), 8);
    free(u.token);
    srv_stop();
}

Test(totp, disable_with_a_code)
{
    struct totp_user u;
    char next[7], bad[7];
    srv_start();
    totp_user(&u, true);
    code_at(u.secret, 1, next);
    wrong_code(next, bad);
    struct resp *r = with_code("/api/v1/auth/totp/disable", u.token, bad);
    resp_expect(r, 400, "invalid_totp");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE totp_enabled = 1"), 1);

    r = with_code("/api/v1/auth/totp/disable", u.token, next);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(json_is_false(json_object_get(r->json, "totp_enabled")));
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE username = 'tina' AND totp_enabled = 0 "
                            "AND totp_secret IS NULL"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM totp_recovery_codes"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'core.user.totp_disabled'"), 1);
    resp_expect(r = with_code("/api/v1/auth/totp/disable", u.token, next), 409, "totp_not_enabled");
    resp_free(r);
    r = login("tina", NULL);
    cr_assert_eq(r->status, 200, "no code needed any more: %s", r->body);
    resp_free(r);
    free(u.token);
    srv_stop();
}

Test(totp, disable_with_a_recovery_code)
{
    struct totp_user u;
    srv_start();
    totp_user(&u, true);
    struct resp *r = with_code("/api/v1/auth/totp/disable", u.token, u.codes[9]);
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE totp_enabled = 1"), 0);
    resp_expect(r = api("POST", "/api/v1/auth/totp/disable", NULL, "{\"code\":\"123456\"}"), 401, "unauthorized");
    resp_free(r);
    free(u.token);
    srv_stop();
}
