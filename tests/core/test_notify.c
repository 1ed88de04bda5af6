/* test_notify.c -- in-app notifications, their routes, and outbound channels. */
#include "support/harness.h"
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int64_t notify_committed(int64_t user, const char *kind, const char *title, json_t *data)
{
    struct db *db = test_db();
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(notify_user(db, user, kind, title, data), 0);
    int64_t id = 0;
    cr_assert_eq(db_int(db, &id, "SELECT MAX(id) FROM notifications"), 1);
    cr_assert_eq(db_commit(db), 0);
    return id;
}

Test(notify, notify_user_creates_row_and_event) {
    srv_start();
    events_stop();                      /* keep the outbox row pending to inspect it */
    int64_t alice = test_user("alice", NULL, NULL, NULL, 0);
    int64_t id = notify_committed(alice, "order.shipped", "Your order shipped", json_pack("{s:i}", "order", 7));
    cr_assert_gt(id, 0);
    json_t *row = db_json_one(test_db(), "SELECT user_id, kind, title, data, read_at FROM notifications WHERE id = $1",
                              DB_I(id));
    cr_assert(row);
    cr_assert_eq(json_integer_value(json_object_get(row, "user_id")), alice);
    cr_assert_str_eq(json_string_value(json_object_get(row, "kind")), "order.shipped");
    cr_assert_str_eq(json_string_value(json_object_get(row, "title")), "Your order shipped");
    cr_assert_str_eq(json_string_value(json_object_get(row, "data")), "{\"order\":7}");
    cr_assert(json_is_null(json_object_get(row, "read_at")));
    json_decref(row);
    char topic[32];
    snprintf(topic, sizeof topic, "user.%lld", (long long)alice);
    json_t *ev = db_json_one(test_db(), "SELECT topic, type, payload AS payload__json FROM outbox");
    cr_assert(ev);
    cr_assert_str_eq(json_string_value(json_object_get(ev, "topic")), topic);
    cr_assert_str_eq(json_string_value(json_object_get(ev, "type")), "notification.created");
    json_t *want = json_pack("{s:I, s:s, s:s, s:{s:i}}", "id", (json_int_t)id, "kind", "order.shipped", "title",
                             "Your order shipped", "data", "order", 7);
    cr_assert(json_equal(json_object_get(ev, "payload"), want), "payload");
    json_decref(want);
    json_decref(ev);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox"), 1);
    srv_stop();
}

Test(notify, notify_user_needs_a_transaction_and_rolls_back) {
    srv_start();
    int64_t alice = test_user("alice", NULL, NULL, NULL, 0);
    struct db *db = test_db();
    cr_assert_eq(notify_user(db, alice, "k", "t", json_object()), -1);
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(notify_user(db, alice, "k", "t", NULL), 0);
    db_rollback(db);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notifications"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox"), 0);
    srv_stop();
}

Test(notify, list_shows_only_the_callers) {
    srv_start();
    int64_t alice = test_user("alice", NULL, NULL, NULL, 0), bob = test_user("bob", NULL, NULL, NULL, 0);
    int64_t a1 = notify_committed(alice, "a", "first", json_pack("{s:s}", "x", "y"));
    int64_t a2 = notify_committed(alice, "a", "second", NULL);
    int64_t b1 = notify_committed(bob, "b", "bob's", NULL);
    char *tok = test_token("alice");
    struct resp *r = api("GET", "/api/v1/notifications", tok, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 2);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "page")), 1);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "page_size")), 50);
    json_t *items = json_object_get(r->json, "items");
    cr_assert_eq(json_array_size(items), 2);
    json_t *first = json_array_get(items, 0), *second = json_array_get(items, 1);
    cr_assert_eq(json_integer_value(json_object_get(first, "id")), a2, "newest first");
    cr_assert_eq(json_integer_value(json_object_get(second, "id")), a1);
    cr_assert_str_eq(json_string_value(json_object_get(second, "kind")), "a");
    cr_assert_str_eq(json_string_value(json_object_get(second, "title")), "first");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(second, "data"), "x")), "y", "data is an object");
    cr_assert(json_is_object(json_object_get(first, "data")));
    cr_assert(json_is_string(json_object_get(first, "created_at")));
    cr_assert(json_is_null(json_object_get(first, "read_at")));
    resp_free(r);
    cr_assert_neq(b1, a1);
    /* unread filter and paging */
    r = api("POST", "/api/v1/notifications/" "0/read", tok, "{}");
    cr_assert_eq(r->status, 404);
    resp_free(r);
    char path[64];
    snprintf(path, sizeof path, "/api/v1/notifications/%lld/read", (long long)a1);
    r = api("POST", path, tok, "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    resp_free(r);
    r = api("GET", "/api/v1/notifications?unread=1", tok, NULL);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 1);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(json_object_get(r->json, "items"), 0), "id")), a2);
    resp_free(r);
    r = api("GET", "/api/v1/notifications?page=2&page_size=1", tok, NULL);
    cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 1);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(json_object_get(r->json, "items"), 0), "id")), a1);
    resp_free(r);
    r = api("GET", "/api/v1/notifications?unread=2", tok, NULL);
    cr_assert_eq(r->status, 400);
    resp_free(r);
    free(tok);
    tok = test_token("bob");
    r = api("GET", "/api/v1/notifications", tok, NULL);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), 1);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(json_object_get(r->json, "items"), 0), "id")), b1);
    resp_free(r);
    free(tok);
    r = api("GET", "/api/v1/notifications", NULL, NULL);
    cr_assert_eq(r->status, 401);
    resp_free(r);
    srv_stop();
}

Test(notify, reading_anothers_notification_is_404) {
    srv_start();
    int64_t alice = test_user("alice", NULL, NULL, NULL, 0);
    test_user("bob", NULL, NULL, NULL, 0);
    int64_t a1 = notify_committed(alice, "a", "secret title", NULL);
    char *tok = test_token("bob"), path[64];
    snprintf(path, sizeof path, "/api/v1/notifications/%lld/read", (long long)a1);
    struct resp *r = api("POST", path, tok, "{}");
    cr_assert_eq(r->status, 404);
    cr_assert_str_eq(resp_error_code(r), "not_found");
    cr_assert_null(strstr(r->body, "secret"));
    resp_free(r);
    snprintf(path, sizeof path, "/api/v1/notifications/%lld/read", (long long)a1 + 1000);
    r = api("POST", path, tok, "{}");
    cr_assert_eq(r->status, 404);
    resp_free(r);
    free(tok);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notifications WHERE read_at IS NULL"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'core.notification.read'"), 0);
    srv_stop();
}

Test(notify, read_marks_once_and_audits) {
    srv_start();
    int64_t alice = test_user("alice", NULL, NULL, NULL, 0);
    int64_t a1 = notify_committed(alice, "a", "hello", json_pack("{s:i}", "n", 1));
    char *tok = test_token("alice"), path[64];
    snprintf(path, sizeof path, "/api/v1/notifications/%lld/read", (long long)a1);
    struct resp *r = api("POST", path, tok, "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "id")), a1);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(r->json, "data"), "n")), 1);
    char *read_at = xstrdup(json_string_value(json_object_get(r->json, "read_at")));
    cr_assert_eq(strlen(read_at), 20);
    resp_free(r);
    sleep(1);
    r = api("POST", path, tok, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "read_at")), read_at, "read once");
    resp_free(r);
    char *stored = db_text(test_db(), "SELECT read_at FROM notifications WHERE id = $1", DB_I(a1));
    cr_assert_str_eq(stored, read_at);
    free(stored);
    json_t *audit = db_json_one(test_db(), "SELECT user_id, app, target_type, target_id FROM audit_log "
                                           "WHERE action = 'core.notification.read'");
    cr_assert(audit);
    cr_assert_eq(json_integer_value(json_object_get(audit, "user_id")), alice);
    cr_assert_str_eq(json_string_value(json_object_get(audit, "app")), "core");
    cr_assert_str_eq(json_string_value(json_object_get(audit, "target_type")), "notification");
    cr_assert_eq(json_integer_value(json_object_get(audit, "target_id")), a1);
    json_decref(audit);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'core.notification.read'"), 1, "audited once");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE type = 'notification.read'"), 1);
    free(read_at);
    free(tok);
    srv_stop();
}

/* Run notify_send with stdout captured into a file; returns what was logged. */
static char *send_captured(const char *channel, const char *to, int *rc)
{
    char file[300];
    snprintf(file, sizeof file, "%s/stdout.log", srv_dir());
    fflush(stdout);
    int saved = dup(1), fd = open(file, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    cr_assert(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    *rc = notify_send(test_db(), channel, to, "Your code", "Hello Alice, your order is ready");
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *f = fopen(file, "r");
    char *buf = xcalloc(1, 8192);
    size_t n = fread(buf, 1, 8191, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

Test(notify, send_through_log_adapter) {
    setenv("ATRIUM_LOG_LEVEL", "info", 1);
    srv_start();
    int rc;
    char *logged = send_captured("email", "alice@example.com", &rc);
    cr_assert_eq(rc, 0);
    cr_assert(strstr(logged, "\"channel\":\"email\""), "%s", logged);
    cr_assert(strstr(logged, "recipient_hash"), "%s", logged);
    cr_assert_null(strstr(logged, "alice@example.com"), "no personal data in logs: %s", logged);
    cr_assert_null(strstr(logged, "Hello Alice"), "no message text in logs: %s", logged);
    free(logged);
    json_t *row = db_json_one(test_db(), "SELECT channel, recipient, subject, body, adapter FROM notification_log");
    cr_assert(row);
    cr_assert_str_eq(json_string_value(json_object_get(row, "channel")), "email");
    cr_assert_str_eq(json_string_value(json_object_get(row, "recipient")), "alice@example.com");
    cr_assert_str_eq(json_string_value(json_object_get(row, "subject")), "Your code");
    cr_assert_str_eq(json_string_value(json_object_get(row, "body")), "Hello Alice, your order is ready");
    cr_assert_str_eq(json_string_value(json_object_get(row, "adapter")), "log");
    json_decref(row);
    cr_assert_eq(notify_send(test_db(), "sms", "+15550100", NULL, "hi"), 0);
    cr_assert_eq(notify_send(test_db(), "push", "device-token-1", "t", "hi"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notification_log WHERE adapter = 'log'"), 3);
    /* refused */
    cr_assert_eq(notify_send(test_db(), "fax", "123", "s", "t"), -1);
    cr_assert_eq(notify_send(test_db(), NULL, "123", "s", "t"), -1);
    cr_assert_eq(notify_send(test_db(), "email", NULL, "s", "t"), -1);
    cr_assert_eq(notify_send(test_db(), "email", "", "s", "t"), -1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notification_log"), 3);
    /* inside a caller's transaction it joins it */
    cr_assert_eq(db_begin(test_db()), 0);
    cr_assert_eq(notify_send(test_db(), "email", "bob@example.com", "s", "t"), 0);
    db_rollback(test_db());
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notification_log"), 3);
    srv_stop();
}

Test(notify, unknown_adapter_refuses) {
    setenv("ATRIUM_NOTIFY_ADAPTER", "carrier-pigeon", 1);
    srv_start();
    cr_assert_eq(notify_send(test_db(), "email", "a@example.com", "s", "t"), -1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notification_log"), 0);
    srv_stop();
}
