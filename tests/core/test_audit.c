/* The audit log: written in the caller's transaction, append-only in the
 * database, hash-chained so tampering is found and named. */
#include "support/harness.h"
#include "support/testapp.h"
#include <sqlite3.h>
#include <string.h>

static void start(void) { srv_start_with(testapp_routes, &testapp); }
TestSuite(audit, .init = start, .fini = srv_stop);

static int64_t rows(const char *action)
{
    int64_t n = -1;
    db_int(test_db(), &n, "SELECT COUNT(*) FROM audit_log WHERE action = $1", DB_S(action));
    return n;
}

Test(audit, row_commits_with_the_change)
{
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    struct resp *r = api("POST", "/api/v1/testapp/counter", tok, "{}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    cr_assert_eq(rows("counter.bump"), 1);
    json_t *row = db_json_one(test_db(), "SELECT user_id, app, target_type, target_id, request_id, client_ip, "
                                         "summary AS summary__json FROM audit_log WHERE action = 'counter.bump'");
    cr_assert_eq(json_integer_value(json_object_get(row, "user_id")), test_user_id("alice"));
    cr_assert_str_eq(json_string_value(json_object_get(row, "app")), "testapp");
    cr_assert_str_eq(json_string_value(json_object_get(row, "client_ip")), "127.0.0.1");
    cr_assert_eq(strlen(json_string_value(json_object_get(row, "request_id"))), 16);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(row, "summary"), "value")), 1);
    json_decref(row);
    free(tok);
}

Test(audit, row_rolls_back_with_the_change)
{
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    struct resp *r = api("POST", "/api/v1/testapp/doomed", tok, "{}");
    cr_assert_eq(r->status, 409);
    resp_free(r);
    cr_assert_eq(rows("doomed"), 0);
    free(tok);
}

Test(audit, refused_outside_a_transaction)
{
    cr_assert_eq(audit_write(test_db(), NULL, "core", "loose", "x", 1, NULL), -1);
    cr_assert_eq(rows("loose"), 0);
}

Test(audit, update_and_delete_are_refused)
{
    struct db *db = test_db();
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(audit_write_as(db, 0, "core", "probe", "x", 1, NULL), 0);
    cr_assert_eq(db_commit(db), 0);
    cr_assert_eq(db_exec(db, "UPDATE audit_log SET action = 'changed'"), -1);
    cr_assert(strstr(db_errmsg(db), "append-only"));
    cr_assert_eq(db_exec(db, "DELETE FROM audit_log"), -1);
    cr_assert_eq(rows("probe"), 1);
}

Test(audit, secrets_are_redacted)
{
    struct db *db = test_db();
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(audit_write_as(db, 0, "core", "secretive", "x", 1,
                                json_pack("{s:s, s:{s:s}, s:s}", "password", "hunter2", "nested", "refresh_token",
                                          "abc", "name", "ok")), 0);
    cr_assert_eq(db_commit(db), 0);
    char *summary = db_text(db, "SELECT summary FROM audit_log WHERE action = 'secretive'");
    cr_assert(!strstr(summary, "hunter2") && !strstr(summary, "abc"), "%s", summary);
    cr_assert(strstr(summary, "\"name\":\"ok\""), "%s", summary);
    free(summary);
}

Test(audit, verify_finds_the_altered_row)
{
    struct db *db = test_db();
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(db_begin(db), 0);
        cr_assert_eq(audit_write_as(db, 0, "core", "step", "x", i, json_pack("{s:i}", "i", i)), 0);
        cr_assert_eq(db_commit(db), 0);
    }
    int64_t checked = 0;
    cr_assert_eq(audit_verify(db, &checked), 0);
    cr_assert_eq(checked, 5);
    int64_t third = 0;
    db_int(db, &third, "SELECT id FROM audit_log WHERE action = 'step' AND target_id = 2");
    /* an attacker with file access drops the guard and edits a row */
    cr_assert_eq(db_exec_script(db, test_on_pg() ? "DROP TRIGGER audit_log_no_update ON audit_log"
                                                  : "DROP TRIGGER audit_log_no_update"), 0);
    cr_assert_eq(db_exec(db, "UPDATE audit_log SET summary = '{\"i\":99}' WHERE id = $1", DB_I(third)), 1);
    cr_assert_eq(audit_verify(db, &checked), third);
}

Test(audit, list_filters)
{
    test_user("adm", "core", "admin", NULL, 0);
    test_user("aud", "core", "auditor", NULL, 0);
    test_user("alice", NULL, NULL, NULL, 0);
    char *alice = test_token("alice");
    struct resp *r = api("POST", "/api/v1/testapp/counter", alice, "{}");
    resp_free(r);
    char *aud = test_token("aud");
    r = api("GET", "/api/v1/audit?app=testapp&action=counter.bump", aud, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 1);
    json_t *item = json_array_get(json_object_get(r->json, "items"), 0);
    cr_assert_eq(json_integer_value(json_object_get(item, "user_id")), test_user_id("alice"));
    resp_free(r);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/audit?user_id=%lld", (long long)test_user_id("alice"));
    r = api("GET", path, aud, NULL);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 1);
    resp_free(r);
    r = api("GET", "/api/v1/audit?since=2999-01-01T00:00:00Z", aud, NULL);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 0);
    resp_free(r);
    r = api("GET", "/api/v1/audit?since=yesterday", aud, NULL);
    cr_assert_eq(r->status, 400);
    resp_free(r);
    r = api("GET", "/api/v1/audit", alice, NULL);
    cr_assert_eq(r->status, 403);
    resp_free(r);
    free(alice);
    free(aud);
}

static const char *audited_ip(void)
{
    static char ip[64];
    char *v = db_text(test_db(), "SELECT client_ip FROM audit_log WHERE action = 'counter.bump' ORDER BY id DESC LIMIT 1");
    snprintf(ip, sizeof ip, "%s", v ? v : "");
    free(v);
    return ip;
}

static void bump_with_xff(const char *xff)
{
    char h[128];
    snprintf(h, sizeof h, "X-Forwarded-For: %s", xff);
    const char *headers[] = {h, NULL};
    char *tok = test_token("alice");
    struct resp *r = api_h("POST", "/api/v1/testapp/counter", tok, "{}", headers);
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    free(tok);
}

Test(audit, forwarded_for_is_ignored_from_untrusted_peers)
{
    test_user("alice", NULL, NULL, NULL, 0);
    bump_with_xff("203.0.113.9");
    cr_assert_str_eq(audited_ip(), "127.0.0.1");
}

static void start_behind_proxy(void)
{
    setenv("ATRIUM_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.2", 1);
    srv_start_with(testapp_routes, &testapp);
}

Test(audit_proxy, client_ip_from_trusted_proxy, .init = start_behind_proxy, .fini = srv_stop)
{
    test_user("alice", NULL, NULL, NULL, 0);
    bump_with_xff("203.0.113.9");
    cr_assert_str_eq(audited_ip(), "203.0.113.9");
    bump_with_xff("198.51.100.7, 203.0.113.9, 10.0.0.2");     /* rightmost untrusted hop */
    cr_assert_str_eq(audited_ip(), "203.0.113.9");
    bump_with_xff("not-an-ip");
    cr_assert_str_eq(audited_ip(), "127.0.0.1");
}
