/* codepop ordering over HTTP: the whole flow, refunds, wrong roles, scopes and
 * states, invalid bodies, machine and opening-hours checks, idempotent pay,
 * the inventory race, the Golden Window, the lists and their query plan, and
 * the authorization matrix of every orders route. */
#include "support/fixture.h"
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define P "/api/v1/codepop"

TestSuite(orders, .init = cp_start, .fini = srv_stop);

extern const char codepop_store_orders_sql[];     /* orders_list.c */

static struct resp *create(const char *as, int64_t store, const char *items, const char *pickup)
{
    return api_post(P "/orders", as, NULL, "{\"store_id\":%lld,\"items\":%s,\"pickup_time\":\"%s\"}", (long long)store, items,
                   pickup ? pickup : time_in(30));
}

static int64_t new_order(const char *as, int64_t store, const char *items)
{
    struct resp *r = create(as, store, items, NULL);
    cr_assert_eq(r->status, 201, "create: %s", r->body);
    int64_t id = json_integer_value(json_object_get(r->json, "id"));
    resp_free(r);
    return id;
}

/* POST P/orders/<id>/<what> with body; asserts status (and code when given). */
static void act(const char *as, int64_t id, const char *what, const char *body, int status, const char *code)
{
    char path[128];
    snprintf(path, sizeof path, P "/orders/%lld/%s", (long long)id, what);
    struct resp *r = api_post(path, as, NULL, "%s", body ? body : "{}");
    cr_assert_eq(r->status, status, "%s %s as %s: %d %s", what, body ? body : "", as, r->status, r->body);
    if (code) cr_assert_str_eq(resp_error_code(r), code, "%s", r->body);
    resp_free(r);
}

static void set_status(const char *as, int64_t id, const char *to, int status, const char *code)
{
    char body[64];
    snprintf(body, sizeof body, "{\"status\":\"%s\"}", to);
    act(as, id, "status", body, status, code);
}

/* ------------------------------------------------------------ end to end */

Test(orders, create_pay_prepare_ready_pickup)
{
    struct resp *r = create("cp_user1", 1, "[{\"drink_id\":1,\"quantity\":1},{\"drink_id\":2,\"quantity\":2}]", NULL);
    cr_assert_eq(r->status, 201, "%s", r->body);
    int64_t id = jint(r->json, "id");
    cr_assert_str_eq(jstr(r->json, "status"), "pending");
    cr_assert_str_eq(jstr(r->json, "payment_status"), "unpaid");
    cr_assert_eq(jint(r->json, "total_cents"), 350 + 2 * 450);
    cr_assert_str_eq(jstr(r->json, "currency"), "USD");
    cr_assert_eq(jint(r->json, "preparation_minutes"), 3 + 1, "medium (3) + 1 for the third drink");
    cr_assert_eq(jint(r->json, "user_id"), test_user_id("cp_user1"));
    cr_assert_eq(json_array_size(json_object_get(r->json, "lines")), 2);
    cr_assert_eq(jint(json_array_get(json_object_get(r->json, "lines"), 1), "line_total_cents"), 900);
    resp_free(r);
    cr_assert_eq(cp_stock(1, "Cherry Syrup"), 99);
    cr_assert_eq(cp_stock(1, "Vanilla Syrup"), 96);
    cr_assert_eq(cp_stock(1, "Cups"), 497);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.order.created' AND target_id = %lld", (long long)id), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE topic = 'codepop.store.1' AND type = 'ORDER_CREATED'"), 1);

    act("cp_user1", id, "pay", NULL, 200, NULL);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM codepop_revenue WHERE order_id = %lld AND is_refund = 0 "
                       "AND amount_cents = 1250", (long long)id), 1);
    set_status("cp_mgr1", id, "preparing", 200, NULL);
    set_status("cp_mgr1", id, "ready", 200, NULL);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM notifications WHERE user_id = %lld AND kind = 'order.ready'",
                       (long long)test_user_id("cp_user1")), 1);
    set_status("cp_admin", id, "picked_up", 200, NULL);
    set_status("cp_mgr1", id, "ready", 409, "invalid_transition");
    r = api_get(P "/orders/1", "cp_user1");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(jstr(r->json, "status"), "picked_up");
    cr_assert_str_eq(jstr(r->json, "payment_status"), "paid");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.order.status_changed'"), 3);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE type = 'ORDER_STATUS_CHANGED'"), 3);
}

Test(orders, cancel_unpaid_returns_stock)
{
    int64_t id = new_order("cp_user1", 1, "[{\"drink_id\":3,\"quantity\":2}]");
    cr_assert_eq(cp_stock(1, "Cola Syrup"), 98);
    act("cp_user1", id, "cancel", "{\"reason\":\"changed my mind\"}", 200, NULL);
    cr_assert_eq(cp_stock(1, "Cola Syrup"), 100);
    cr_assert_eq(cp_stock(1, "Cups"), 500);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_revenue"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders WHERE status = 'cancelled' AND payment_status = 'unpaid'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.order.cancelled'"), 1);
    act("cp_user1", id, "cancel", NULL, 409, "invalid_state");
    act("cp_user1", id, "pay", NULL, 409, "invalid_state");
}

Test(orders, pay_then_cancel_refunds)
{
    int64_t id = new_order("cp_user1", 2, "[{\"drink_id\":2,\"quantity\":3}]");
    cr_assert_eq(cp_stock(2, "Vanilla Syrup"), 94);
    act("cp_user1", id, "pay", NULL, 200, NULL);
    act("cp_mgr2", id, "cancel", NULL, 200, NULL);        /* the store's manager may cancel */
    cr_assert_eq(cp_stock(2, "Vanilla Syrup"), 100);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM codepop_revenue WHERE order_id = %lld AND is_refund = 1 "
                       "AND amount_cents = 1350", (long long)id), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders WHERE payment_status = 'refunded'"), 1);
    act("cp_user1", id, "pay", NULL, 409, "invalid_state");
}

/* ------------------------------------------------------- roles and states */

Test(orders, wrong_role_and_scope)
{
    struct resp *r = create("cp_nobody", 1, "[{\"drink_id\":1,\"quantity\":1}]", NULL);
    cr_assert_eq(r->status, 403);
    resp_free(r);
    r = create("cp_mgr1", 1, "[{\"drink_id\":1,\"quantity\":1}]", NULL);
    cr_assert_eq(r->status, 403, "managers do not order");
    resp_free(r);
    r = create(NULL, 1, "[{\"drink_id\":1,\"quantity\":1}]", NULL);
    cr_assert_eq(r->status, 401);
    resp_free(r);
    int64_t id = new_order("cp_user1", 1, "[{\"drink_id\":1,\"quantity\":1}]");
    set_status("cp_mgr2", id, "preparing", 404, "not_found");      /* another store's manager */
    act("cp_mgr2", id, "cancel", NULL, 404, "not_found");
    act("cp_user2", id, "pay", NULL, 404, "not_found");
    act("cp_mgr1", id, "pay", NULL, 404, "not_found");              /* paying is the owner's */
    act("cp_user2", id, "cancel", NULL, 404, "not_found");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders WHERE status = 'pending' AND payment_status = 'unpaid'"), 1);
}

Test(orders, wrong_states)
{
    int64_t id = new_order("cp_user1", 1, "[{\"drink_id\":1,\"quantity\":1}]");
    set_status("cp_mgr1", id, "ready", 409, "invalid_transition");
    set_status("cp_mgr1", id, "picked_up", 409, "invalid_transition");
    set_status("cp_mgr1", id, "pending", 409, "invalid_transition");
    set_status("cp_mgr1", id, "cancelled", 409, "invalid_transition");
    set_status("cp_mgr1", id, "done", 400, "validation_failed");
    act("cp_mgr1", id, "status", "{}", 400, "validation_failed");
    act("cp_user1", id, "pay", NULL, 200, NULL);
    act("cp_user1", id, "pay", NULL, 409, "already_paid");
    act("cp_user1", id, "pay", "{\"x\":1}", 400, "validation_failed");
    set_status("cp_mgr1", id, "preparing", 200, NULL);
    act("cp_user1", id, "cancel", NULL, 409, "invalid_state");
    act("cp_mgr1", id, "cancel", NULL, 409, "invalid_state");
    set_status("cp_mgr1", id, "preparing", 409, "invalid_transition");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_revenue"), 1);
}

Test(orders, invalid_bodies)
{
    static const struct { const char *body, *field; } bad[] = {
        {"{\"items\":[{\"drink_id\":1,\"quantity\":1}],\"pickup_time\":\"%s\"}", "store_id"},
        {"{\"store_id\":\"1\",\"items\":[{\"drink_id\":1,\"quantity\":1}],\"pickup_time\":\"%s\"}", "body"},
        {"{\"store_id\":1,\"pickup_time\":\"%s\"}", "items"},
        {"{\"store_id\":1,\"items\":[],\"pickup_time\":\"%s\"}", "items"},
        {"{\"store_id\":1,\"items\":{},\"pickup_time\":\"%s\"}", "items"},
        {"{\"store_id\":1,\"items\":[1],\"pickup_time\":\"%s\"}", "items[0]"},
        {"{\"store_id\":1,\"items\":[{\"quantity\":1}],\"pickup_time\":\"%s\"}", "items[0].drink_id"},
        {"{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":1},{\"drink_id\":99,\"quantity\":1}],"
         "\"pickup_time\":\"%s\"}", "items[1].drink_id"},
        {"{\"store_id\":1,\"items\":[{\"drink_id\":1}],\"pickup_time\":\"%s\"}", "items[0].quantity"},
        {"{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":0}],\"pickup_time\":\"%s\"}", "items[0].quantity"},
        {"{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":51}],\"pickup_time\":\"%s\"}", "items[0].quantity"},
        {"{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":1.5}],\"pickup_time\":\"%s\"}", "items[0].quantity"},
        {"{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":1,\"x\":1}],\"pickup_time\":\"%s\"}", "items[0]"},
        {"{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":1}]}", "pickup_time"},
        {"{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":1}],\"pickup_time\":\"tomorrow\"}", "pickup_time"},
        {"{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":1}],\"pickup_time\":\"2030-01-01T10:00:00+02:00\"}",
         "pickup_time"},
        {"{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":1}],\"pickup_time\":\"2020-01-01T10:00:00Z\"}",
         "pickup_time"},
        {"{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":1}],\"pickup_time\":\"%s\",\"note\":\"x\"}", "note"},
        {0},
    };
    for (int i = 0; bad[i].body; i++) {
        struct resp *r = api_post(P "/orders", "cp_user1", NULL, bad[i].body, time_in(30));
        cr_expect_eq(r->status, 400, "case %d: %d %s", i, r->status, r->body);
        const char *field = jstr(json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0), "field");
        cr_expect(field && !strcmp(field, bad[i].field), "case %d: field %s, want %s", i, field, bad[i].field);
        resp_free(r);
    }
    char items[2048] = "[";
    for (int i = 0; i < 21; i++) strcat(items, i ? ",{\"drink_id\":1,\"quantity\":1}" : "{\"drink_id\":1,\"quantity\":1}");
    strcat(items, "]");
    struct resp *r = create("cp_user1", 1, items, NULL);
    cr_assert_eq(r->status, 400, "21 lines");
    resp_free(r);
    r = create("cp_user1", 1, "[{\"drink_id\":1,\"quantity\":1}]", time_in(8 * 24 * 60));
    cr_assert_eq(r->status, 400, "more than a week ahead");
    resp_free(r);
    r = create("cp_user1", 99, "[{\"drink_id\":1,\"quantity\":1}]", NULL);
    cr_assert_eq(r->status, 404, "unknown store: %s", r->body);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders"), 0);
    cr_assert_eq(cp_stock(1, "Cups"), 500);
}

/* The next 03:00 (and 12:00) in Chicago, as UTC: store 3 opens 06:00-22:00. */
static const char *chicago_at(int hour, char buf[32])
{
    time_t now = time(NULL);
    struct tm tm;
    setenv("TZ", "America/Chicago", 1);
    tzset();
    localtime_r(&now, &tm);
    tm.tm_mday += 1;
    tm.tm_hour = hour;
    tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    setenv("TZ", "UTC", 1);
    tzset();
    gmtime_r(&t, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Test(orders, machine_and_hours)
{
    char when[32];
    struct resp *r = create("cp_user1", 3, "[{\"drink_id\":1,\"quantity\":1}]", chicago_at(3, when));
    cr_assert_eq(r->status, 409, "%s: %s", when, r->body);
    cr_assert_str_eq(resp_error_code(r), "store_closed");
    resp_free(r);
    r = create("cp_user1", 3, "[{\"drink_id\":1,\"quantity\":1}]", chicago_at(12, when));
    cr_assert_eq(r->status, 201, "%s: %s", when, r->body);
    resp_free(r);
    cr_assert_eq(db_exec(test_db(), "UPDATE codepop_machines SET status = 'error' WHERE store_id = 1"), 1);
    r = create("cp_user1", 1, "[{\"drink_id\":1,\"quantity\":1}]", NULL);
    cr_assert_eq(r->status, 409);
    cr_assert_str_eq(resp_error_code(r), "machine_unavailable");
    resp_free(r);
    cr_assert_eq(db_exec(test_db(), "UPDATE codepop_machines SET status = 'offline' WHERE store_id = 1"), 1);
    r = create("cp_user1", 1, "[{\"drink_id\":1,\"quantity\":1}]", NULL);
    cr_assert_eq(r->status, 409);
    resp_free(r);
    cr_assert_eq(db_exec(test_db(), "UPDATE codepop_machines SET status = 'warning' WHERE store_id = 1"), 1);
    r = create("cp_user1", 1, "[{\"drink_id\":1,\"quantity\":1}]", NULL);
    cr_assert_eq(r->status, 201, "a warning does not block orders");
    resp_free(r);
    cr_assert_eq(cp_stock(1, "Cups"), 499);
}

Test(orders, out_of_stock_names_item_and_changes_nothing)
{
    cp_set_stock(1, "Vanilla Syrup", 0);
    struct resp *r = create("cp_user1", 1, "[{\"drink_id\":3,\"quantity\":1}]", NULL);
    cr_assert_eq(r->status, 409);
    cr_assert_str_eq(resp_error_code(r), "out_of_stock");
    json_t *err = json_object_get(r->json, "error");
    cr_assert(strstr(jstr(err, "message"), "Vanilla Syrup"));
    cr_assert_str_eq(jstr(json_array_get(json_object_get(err, "details"), 0), "item_name"), "Vanilla Syrup");
    resp_free(r);
    cr_assert_eq(cp_stock(1, "Cherry Syrup"), 100, "taken before Vanilla, rolled back");
    cr_assert_eq(cp_stock(1, "Cups"), 500);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders"), 0);
}

static const char *idem_headers(const char *key)
{
    static char h[64];
    snprintf(h, sizeof h, "Idempotency-Key: %s", key);
    return h;
}

Test(orders, idempotent_pay_and_create)
{
    char *tok = test_token("cp_user1");
    char body[256];
    snprintf(body, sizeof body, "{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":1}],\"pickup_time\":\"%s\"}",
             time_in(30));
    const char *h1[] = {idem_headers("create-1"), NULL};
    struct resp *a = api_h("POST", P "/orders", tok, body, h1), *b = api_h("POST", P "/orders", tok, body, h1);
    cr_assert_eq(a->status, 201);
    cr_assert_eq(b->status, 201);
    cr_assert_str_eq(a->body, b->body);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders"), 1);
    cr_assert_eq(cp_stock(1, "Cups"), 499);
    char path[64];
    snprintf(path, sizeof path, P "/orders/%lld/pay", (long long)jint(a->json, "id"));
    resp_free(a);
    resp_free(b);
    const char *h2[] = {idem_headers("pay-1"), NULL};
    a = api_h("POST", path, tok, NULL, h2);
    b = api_h("POST", path, tok, NULL, h2);
    cr_assert_eq(a->status, 200, "%s", a->body);
    cr_assert_eq(b->status, 200, "replayed, not 409: %s", b->body);
    cr_assert_str_eq(resp_header(b, "Idempotent-Replayed"), "true");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_revenue"), 1);
    resp_free(a);
    resp_free(b);
    const char *h3[] = {idem_headers("pay-2"), NULL};
    a = api_h("POST", path, tok, NULL, h3);
    cr_assert_eq(a->status, 409, "a new key on a paid order");
    cr_assert_str_eq(resp_error_code(a), "already_paid");
    resp_free(a);
    free(tok);
}

/* ------------------------------------------------------------ the race */

static char *race_tok, race_body[256];
static int race_status[50];
static char race_code[50][32];

static void racer(int i, void *arg)
{
    struct resp *r = api("POST", P "/orders", race_tok, race_body);
    race_status[i] = r->status;
    snprintf(race_code[i], sizeof race_code[i], "%s", resp_error_code(r));
    resp_free(r);
}

Test(orders, inventory_race_never_oversells)
{
    cp_set_stock(1, "Cherry Syrup", 20);
    race_tok = test_token("cp_user1");
    snprintf(race_body, sizeof race_body, "{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":1}],"
             "\"pickup_time\":\"%s\"}", time_in(30));
    run_concurrently(50, racer, NULL);
    int created = 0, out = 0;
    for (int i = 0; i < 50; i++) {
        if (race_status[i] == 201) created++;
        else if (race_status[i] == 409 && !strcmp(race_code[i], "out_of_stock")) out++;
    }
    cr_assert_eq(created, 20);
    cr_assert_eq(out, 30);
    cr_assert_eq(cp_stock(1, "Cherry Syrup"), 0);
    cr_assert_eq(cp_stock(1, "Cola Syrup"), 80);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders"), 20);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_store_inventory WHERE quantity < 0"), 0);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM notifications WHERE kind = 'inventory.low' AND user_id = %lld",
                       (long long)test_user_id("cp_mgr1")), 1, "one low-stock notice for the crossing");
    free(race_tok);
}

/* PostgreSQL, row-lock mode: an order waits for the tail lock at its commit
 * while holding its stock rows. A transaction holding the tail that then
 * wants one of those rows is a deadlock; PostgreSQL aborts the order (its
 * deadlock check fires first: the other side waits 20 s before checking),
 * and the order must be run again, not answered 500. */
static PGconn *tail_holder;
static int deadlock_status;

static bool pg_ok(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(res);
    PQclear(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

static bool order_waits_for_tail(PGconn *c)
{
    PGresult *res = PQexec(c, "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 846111 "
                              "AND objid = 1 AND NOT granted");
    bool waiting = PQresultStatus(res) == PGRES_TUPLES_OK && atoi(PQgetvalue(res, 0, 0)) > 0;
    PQclear(res);
    return waiting;
}

static void deadlocker(int i, void *arg)
{
    (void)arg;
    if (i == 0) {
        struct resp *r = api("POST", P "/orders", race_tok, race_body);
        deadlock_status = r->status;
        resp_free(r);
        return;
    }
    for (int n = 0; n < 200 && !order_waits_for_tail(tail_holder); n++) usleep(25000);
    /* blocks on the order's row until PostgreSQL breaks the deadlock */
    pg_ok(tail_holder, "UPDATE codepop_store_inventory SET quantity = quantity WHERE store_id = 1 "
                       "AND item_name = 'Cherry Syrup'");
    pg_ok(tail_holder, "COMMIT");
}

Test(orders, deadlock_at_the_commit_runs_the_order_again)
{
    if (!test_on_pg()) cr_skip_test("PostgreSQL only: SQLite has one writer and no row locks");
    cp_set_stock(1, "Cherry Syrup", 20);
    race_tok = test_token("cp_user1");
    snprintf(race_body, sizeof race_body, "{\"store_id\":1,\"items\":[{\"drink_id\":1,\"quantity\":1}],"
             "\"pickup_time\":\"%s\"}", time_in(30));
    tail_holder = PQconnectdb(getenv("ATRIUM_DB"));
    cr_assert_eq(PQstatus(tail_holder), CONNECTION_OK);
    cr_assert(pg_ok(tail_holder, "BEGIN"));
    cr_assert(pg_ok(tail_holder, "SET LOCAL deadlock_timeout = '20s'"));
    cr_assert(pg_ok(tail_holder, "SELECT pg_advisory_xact_lock(846111, 1)"), "the tail (db_pg.h DB_PG_TAIL_LOCK)");
    run_concurrently(2, deadlocker, NULL);
    PQfinish(tail_holder);
    cr_assert_eq(deadlock_status, 201, "the order ran again after the deadlock");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM codepop_orders"), 1, "once");
    cr_assert_eq(cp_stock(1, "Cherry Syrup"), 19);
    struct resp *m = api("GET", "/metrics", NULL, NULL);
    cr_assert_not_null(strstr(m->body, "db_conflict_retries"), "the retry is counted");
    resp_free(m);
    int64_t checked = 0;
    cr_assert_eq(audit_verify(test_db(), &checked), 0, "one chain");
    free(race_tok);
}

/* ----------------------------------------------------------- golden window */

Test(orders, location_starts_preparation_inside_window)
{
    int64_t id = new_order("cp_user1", 1, "[{\"drink_id\":1,\"quantity\":1}]");    /* simple: 2 minutes */
    char path[64];
    snprintf(path, sizeof path, P "/orders/%lld/location", (long long)id);
    struct resp *r = api_post(path, "cp_user1", NULL, "{\"lat\":%.4f,\"lon\":-74.0060,\"velocity_mph\":30}", 40.7128 + 0.073);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "pending");
    cr_assert(json_is_false(json_object_get(r->json, "start_preparation")));
    cr_assert_float_eq(json_number_value(json_object_get(r->json, "golden_window_distance_miles")), 1.0, 1e-9);
    cr_assert_float_eq(json_number_value(json_object_get(r->json, "current_distance_miles")), 5.04, 0.01);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM notifications WHERE kind = 'order.preparing'"), 0);

    r = api_post(path, "cp_user1", NULL, "{\"lat\":40.7200,\"lon\":-74.0060,\"velocity_mph\":30}");   /* ~0.5 mi */
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "preparing");
    cr_assert(json_is_true(json_object_get(r->json, "start_preparation")));
    cr_assert_eq(jint(r->json, "order_id"), id);
    resp_free(r);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM notifications WHERE kind = 'order.preparing' AND user_id = %lld",
                       (long long)test_user_id("cp_mgr1")), 1);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM notifications WHERE user_id = %lld", (long long)test_user_id("cp_mgr2")), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE topic = 'codepop.store.1' AND type = 'ORDER_PREPARING'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'codepop.order.status_changed'"), 1);

    r = api_post(path, "cp_user1", NULL, "{\"lat\":40.7128,\"lon\":-74.0060,\"velocity_mph\":30}");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(jstr(r->json, "status"), "preparing");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox WHERE type = 'ORDER_PREPARING'"), 1, "once");

    static const char *const bad[] = {"{\"lat\":91,\"lon\":0,\"velocity_mph\":30}", "{\"lat\":0,\"lon\":-181,\"velocity_mph\":30}",
                                      "{\"lat\":0,\"lon\":0,\"velocity_mph\":0}", "{\"lat\":0,\"lon\":0,\"velocity_mph\":-5}",
                                      "{\"lat\":\"x\",\"lon\":0,\"velocity_mph\":5}", "{\"lat\":0,\"lon\":0}", NULL};
    for (int i = 0; bad[i]; i++) {
        r = api_post(path, "cp_user1", NULL, "%s", bad[i]);
        cr_expect_eq(r->status, 400, "%s -> %d", bad[i], r->status);
        resp_free(r);
    }
    r = api_post(path, "cp_user2", NULL, "{\"lat\":40.7128,\"lon\":-74.0060,\"velocity_mph\":30}");
    cr_assert_eq(r->status, 404);
    resp_free(r);
}

/* ------------------------------------------------------------------ lists */

static json_t *list(const char *path, const char *as, int64_t *total)
{
    struct resp *r = api_get(path, as);
    cr_assert_eq(r->status, 200, "%s: %s", path, r->body);
    *total = jint(r->json, "total");
    json_t *items = json_incref(json_object_get(r->json, "items"));
    resp_free(r);
    return items;
}

Test(orders, lists_are_scoped)
{
    int64_t total, u1 = test_user_id("cp_user1");
    new_order("cp_user1", 1, "[{\"drink_id\":1,\"quantity\":1}]");
    int64_t second = new_order("cp_user1", 2, "[{\"drink_id\":2,\"quantity\":1}]");
    new_order("cp_user2", 1, "[{\"drink_id\":1,\"quantity\":1}]");
    act("cp_user1", second, "pay", NULL, 200, NULL);

    json_t *items = list(P "/orders?mine=1", "cp_user1", &total);
    cr_assert_eq(total, 2);
    size_t i;
    json_t *v;
    json_array_foreach(items, i, v) cr_assert_eq(jint(v, "user_id"), u1);
    cr_assert_eq(jint(json_array_get(items, 0), "id"), second, "newest first");
    cr_assert_null(json_object_get(json_array_get(items, 0), "lines"));
    json_decref(items);
    json_decref(list(P "/orders?mine=1", "cp_user2", &total));
    cr_assert_eq(total, 1);
    json_decref(list(P "/orders?mine=1&store_id=2", "cp_user1", &total));
    cr_assert_eq(total, 1);
    json_decref(list(P "/orders", "cp_user1", &total));
    cr_assert_eq(total, 0, "without mine=1 only stores the caller reads");
    items = list(P "/orders", "cp_mgr1", &total);
    cr_assert_eq(total, 2);
    json_array_foreach(items, i, v) cr_assert_eq(jint(v, "store_id"), 1);
    json_decref(items);
    json_decref(list(P "/orders", "cp_admin", &total));
    cr_assert_eq(total, 3);
    json_decref(list(P "/orders?status=pending", "cp_admin", &total));
    cr_assert_eq(total, 3);
    json_decref(list(P "/orders?status=ready", "cp_admin", &total));
    cr_assert_eq(total, 0);
    json_decref(list(P "/orders?store_id=2", "cp_mgr1", &total));
    cr_assert_eq(total, 0, "a filter never widens the scope");
    json_decref(list(P "/orders?from=2000-01-01&to=2999-12-31", "cp_admin", &total));
    cr_assert_eq(total, 3);
    json_decref(list(P "/orders?to=2000-01-01", "cp_admin", &total));
    cr_assert_eq(total, 0);
    json_decref(list(P "/orders", "cp_log_c", &total));
    cr_assert_eq(total, 0);

    static const char *const bad[] = {P "/orders?status=lost", P "/orders?from=2026-02-31", P "/orders?to=yesterday",
                                      P "/orders?mine=maybe", P "/orders?page_size=101", P "/stores/1/orders?status=x",
                                      P "/stores/1/orders?from=2026-13-01", NULL};
    for (int k = 0; bad[k]; k++) {
        struct resp *r = api_get(bad[k], "cp_mgr1");
        cr_expect_eq(r->status, 400, "%s -> %d", bad[k], r->status);
        resp_free(r);
    }
    struct resp *r = api_get(P "/orders/2", "cp_user2");
    cr_assert_eq(r->status, 404, "another customer's order");
    resp_free(r);
    r = api_get(P "/orders/1", "cp_mgr2");
    cr_assert_eq(r->status, 404, "another store's order");
    resp_free(r);
}

static double ms_since(struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* SQLite-only: reads SQLite's query plan (EXPLAIN QUERY PLAN after ANALYZE) */
Test(orders, store_orders_page_uses_index)
{
    SQLITE_ONLY("reads SQLite's query plan");
    cr_assert_eq(db_exec_script(test_db(),
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) "
        "INSERT INTO codepop_orders (store_id, user_id, total_cents, status, payment_status, pickup_time, "
        "preparation_minutes, created_at) SELECT 1, 999, 350, CASE WHEN i % 10 = 0 THEN 'pending' ELSE 'picked_up' END, "
        "'paid', '2026-01-01T00:00:00Z', 2, strftime('%Y-%m-%dT%H:%M:%SZ', 1700000000 + i * 30, 'unixepoch') FROM n;"
        "ANALYZE;"), 0);
    char *sql = xasprintf("EXPLAIN QUERY PLAN %s", codepop_store_orders_sql);
    const char *bounds[][2] = {{NULL, NULL}, {"2023-11-20T00:00:00Z", "2023-11-25T00:00:00Z"}};
    for (int k = 0; k < 2; k++) {
        json_t *rows = db_json_all(test_db(), sql, DB_I(1), DB_S(bounds[k][0]), DB_S(bounds[k][1]), DB_S(k ? "pending" : NULL),
                                   DB_I(50), DB_I(50));
        cr_assert(rows);
        char detail[2048] = "";
        size_t i;
        json_t *v;
        json_array_foreach(rows, i, v) snprintf(detail + strlen(detail), sizeof detail - strlen(detail), "%s; ", jstr(v, "detail"));
        cr_log_info("plan: %s", detail);
        cr_assert(strstr(detail, "USING INDEX codepop_orders_store (store_id=?"), "plan: %s", detail);
        cr_assert_null(strstr(detail, "TEMP B-TREE"), "plan: %s", detail);
        json_decref(rows);
    }
    free(sql);

    double best = 1e9;
    char *tok = test_token("cp_mgr1");
    for (int k = 0; k < 3; k++) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct resp *r = api("GET", P "/stores/1/orders?page=3&page_size=50", tok, NULL);
        double ms = ms_since(&t0);
        best = ms < best ? ms : best;
        cr_assert_eq(r->status, 200, "%s", r->body);
        cr_assert_eq(jint(r->json, "total"), 100000);
        json_t *items = json_object_get(r->json, "items");
        cr_assert_eq(json_array_size(items), 50);
        cr_assert_eq(jint(json_array_get(items, 0), "id"), 100000 - 100, "newest first, page 3");
        cr_assert_str_gt(jstr(json_array_get(items, 0), "created_at"), jstr(json_array_get(items, 49), "created_at"));
        resp_free(r);
    }
    free(tok);
    cr_log_info("GET /stores/1/orders page of 50 from 100,000: %.2f ms", best);
    /* the target (well under 50 ms) is measured in bench/; this only catches
     * a plan gone wrong (a sort of 100,000 rows) on a busy test machine */
    cr_assert_lt(best, 250.0, "a page took %.2f ms", best);

    struct resp *r = api_get(P "/stores/1/orders?status=pending&from=2023-11-15&to=2023-11-15", "cp_mgr1");
    cr_assert_eq(r->status, 200);
    cr_assert_gt(jint(r->json, "total"), 0);
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(r->json, "items"), i, v) {
        cr_assert_str_eq(jstr(v, "status"), "pending");
        cr_assert(!strncmp(jstr(v, "created_at"), "2023-11-15", 10));
    }
    resp_free(r);
}

/* ------------------------------------------------- authorization matrix */

Test(orders, authorization_matrix)
{
    int64_t a = new_order("cp_user1", 1, "[{\"drink_id\":1,\"quantity\":1}]");     /* pay matrix */
    int64_t b = new_order("cp_user1", 1, "[{\"drink_id\":1,\"quantity\":1}]");     /* cancel matrix */
    static char o[5][64];
    snprintf(o[0], 64, P "/orders/%lld", (long long)a);
    snprintf(o[1], 64, P "/orders/%lld/pay", (long long)a);
    snprintf(o[2], 64, P "/orders/%lld/cancel", (long long)b);
    snprintf(o[3], 64, P "/orders/%lld/status", (long long)a);
    snprintf(o[4], 64, P "/orders/%lld/location", (long long)a);
    const char *bad_status = "{\"status\":\"bogus\"}";
    const struct authz_case cases[] = {
        {"POST", P "/orders", NULL, 401}, {"POST", P "/orders", "cp_nobody", 403}, {"POST", P "/orders", "cp_user1", 400},
        {"POST", P "/orders", "cp_mgr1", 403}, {"POST", P "/orders", "cp_mgr2", 403}, {"POST", P "/orders", "cp_log_c", 403},
        {"POST", P "/orders", "cp_admin", 400},
        {"GET", P "/orders", NULL, 401}, {"GET", P "/orders", "cp_nobody", 200}, {"GET", P "/orders", "cp_user1", 200},
        {"GET", P "/orders", "cp_mgr1", 200}, {"GET", P "/orders", "cp_mgr2", 200}, {"GET", P "/orders", "cp_log_c", 200},
        {"GET", P "/orders", "cp_admin", 200},
        {"GET", o[0], NULL, 401}, {"GET", o[0], "cp_nobody", 404}, {"GET", o[0], "cp_user1", 200},
        {"GET", o[0], "cp_user2", 404}, {"GET", o[0], "cp_mgr1", 200}, {"GET", o[0], "cp_mgr2", 404},
        {"GET", o[0], "cp_log_c", 404}, {"GET", o[0], "cp_admin", 200}, {"GET", P "/orders/999", "cp_admin", 404},
        {"POST", o[1], NULL, 401}, {"POST", o[1], "cp_nobody", 404}, {"POST", o[1], "cp_user2", 404},
        {"POST", o[1], "cp_mgr1", 404}, {"POST", o[1], "cp_mgr2", 404}, {"POST", o[1], "cp_log_c", 404},
        {"POST", o[1], "cp_admin", 404}, {"POST", o[1], "cp_user1", 200},
        {"POST", o[2], NULL, 401}, {"POST", o[2], "cp_nobody", 404}, {"POST", o[2], "cp_user2", 404},
        {"POST", o[2], "cp_mgr2", 404}, {"POST", o[2], "cp_log_c", 404}, {"POST", o[2], "cp_mgr1", 200},
        {"POST", o[2], "cp_user1", 409}, {"POST", o[2], "cp_admin", 409},
        {"POST", o[3], NULL, 401, bad_status}, {"POST", o[3], "cp_nobody", 403, bad_status},
        {"POST", o[3], "cp_user1", 403, bad_status}, {"POST", o[3], "cp_log_c", 403, bad_status},
        {"POST", o[3], "cp_mgr2", 404, bad_status}, {"POST", o[3], "cp_mgr1", 400, bad_status},
        {"POST", o[3], "cp_admin", 400, bad_status},
        {"POST", o[4], NULL, 401}, {"POST", o[4], "cp_nobody", 404}, {"POST", o[4], "cp_user2", 404},
        {"POST", o[4], "cp_mgr1", 404}, {"POST", o[4], "cp_mgr2", 404}, {"POST", o[4], "cp_log_c", 404},
        {"POST", o[4], "cp_admin", 404}, {"POST", o[4], "cp_user1", 400},
        {"GET", P "/stores/1/orders", NULL, 401}, {"GET", P "/stores/1/orders", "cp_nobody", 403},
        {"GET", P "/stores/1/orders", "cp_user1", 403}, {"GET", P "/stores/1/orders", "cp_mgr1", 200},
        {"GET", P "/stores/1/orders", "cp_mgr2", 403}, {"GET", P "/stores/1/orders", "cp_log_c", 403},
        {"GET", P "/stores/1/orders", "cp_admin", 200}, {"GET", P "/stores/9/orders", "cp_admin", 404},
        {0},
    };
    authz_run(cases);
}
