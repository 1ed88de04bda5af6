/* The request pipeline: error shapes and codes, headers, CORS, limits, and a
 * slow route that must not stall the fast ones. */
#include "support/harness.h"
#include "support/testapp.h"
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static void start(void) { srv_start_with(testapp_routes, &testapp); }

TestSuite(http, .init = start, .fini = srv_stop);

static void assert_error(struct resp *r, int status, const char *code)
{
    cr_assert_eq(r->status, status, "status %d != %d: %s", r->status, status, r->body);
    cr_assert_str_eq(resp_error_code(r), code, "body: %s", r->body);
    cr_assert(json_is_string(json_object_get(json_object_get(r->json, "error"), "message")), "message present");
    cr_assert_str_eq(resp_header(r, "Content-Type"), "application/json; charset=utf-8");
}

Test(http, unknown_route_is_404_json)
{
    struct resp *r = api("GET", "/api/v1/nothing/here", NULL, NULL);
    assert_error(r, 404, "not_found");
    resp_free(r);
}

Test(http, wrong_method_is_405_with_allow)
{
    struct resp *r = api("DELETE", "/health/live", NULL, NULL);
    assert_error(r, 405, "method_not_allowed");
    cr_assert_str_eq(resp_header(r, "Allow"), "GET");
    resp_free(r);
}

Test(http, malformed_json_is_400)
{
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    struct resp *r = api("POST", "/api/v1/testapp/echo", tok, "{\"name\": ");
    assert_error(r, 400, "invalid_json");
    resp_free(r);
    r = api("POST", "/api/v1/testapp/echo", tok, "[1,2]");
    assert_error(r, 400, "invalid_json");
    resp_free(r);
    free(tok);
}

Test(http, strict_body_validation_names_the_field)
{
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    struct resp *r = api("POST", "/api/v1/testapp/echo", tok, "{\"name\":\"x\"}");
    assert_error(r, 400, "validation_failed");
    json_t *d = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(d, "field")), "quantity");
    resp_free(r);
    r = api("POST", "/api/v1/testapp/echo", tok, "{\"name\":\"x\",\"quantity\":1,\"extra\":true}");
    assert_error(r, 400, "validation_failed");
    d = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(d, "field")), "extra");
    resp_free(r);
    r = api("POST", "/api/v1/testapp/echo", tok, "{\"name\":\"x\",\"quantity\":0}");
    assert_error(r, 400, "validation_failed");
    d = json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(d, "field")), "quantity");
    cr_assert_str_eq(json_string_value(json_object_get(d, "problem")), "must be > 0");
    resp_free(r);
    r = api("POST", "/api/v1/testapp/echo", tok, "{\"name\":\"x\",\"quantity\":3}");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "quantity")), 3);
    resp_free(r);
    free(tok);
}

Test(http, wrong_content_type_is_415)
{
    test_user("alice", NULL, NULL, NULL, 0);
    char *tok = test_token("alice");
    const char *h[] = {"Content-Type: text/plain", NULL};
    struct resp *r = api_h("POST", "/api/v1/testapp/echo", tok, "{\"name\":\"x\",\"quantity\":1}", h);
    assert_error(r, 415, "unsupported_media_type");
    resp_free(r);
    free(tok);
}

Test(http, body_over_limit_is_413)
{
    size_t n = (1u << 20) + 10;
    char *big = xmalloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = 0;
    struct resp *r = api("POST", "/api/v1/auth/login", NULL, big);
    assert_error(r, 413, "payload_too_large");
    resp_free(r);
    free(big);
}

Test(http, no_token_401_bad_token_401)
{
    struct resp *r = api("POST", "/api/v1/testapp/echo", NULL, "{}");
    assert_error(r, 401, "unauthorized");
    resp_free(r);
    r = api("POST", "/api/v1/testapp/echo", "0000000000000000000000000000000000000000000000000000000000000000", "{}");
    assert_error(r, 401, "invalid_token");
    resp_free(r);
    r = api("GET", "/api/v1/me", "' OR 1=1 --", NULL);
    assert_error(r, 401, "invalid_token");
    resp_free(r);
}

Test(http, request_id_generated_or_echoed)
{
    struct resp *r = api("GET", "/health/live", NULL, NULL);
    const char *id = resp_header(r, "X-Request-Id");
    cr_assert(id && strlen(id) == 16, "generated id");
    resp_free(r);
    const char *h[] = {"X-Request-Id: trace-abc.123", NULL};
    r = api_h("GET", "/health/live", NULL, NULL, h);
    cr_assert_str_eq(resp_header(r, "X-Request-Id"), "trace-abc.123");
    resp_free(r);
    const char *bad[] = {"X-Request-Id: <script>", NULL};
    r = api_h("GET", "/health/live", NULL, NULL, bad);
    cr_assert_str_neq(resp_header(r, "X-Request-Id"), "<script>");
    resp_free(r);
}

Test(http, security_headers_on_every_response)
{
    const char *paths[] = {"/health/live", "/nope", "/api/v1/me"};
    for (size_t i = 0; i < 3; i++) {
        struct resp *r = api("GET", paths[i], NULL, NULL);
        cr_assert_str_eq(resp_header(r, "X-Content-Type-Options"), "nosniff");
        cr_assert_str_eq(resp_header(r, "X-Frame-Options"), "DENY");
        cr_assert_str_eq(resp_header(r, "Referrer-Policy"), "no-referrer");
        resp_free(r);
    }
}

Test(http, health_ready_on_migrated_db)
{
    struct resp *r = api("GET", "/health/ready", NULL, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(json_string_value(json_object_get(r->json, "status")), "ready");
    cr_assert(json_is_true(json_object_get(r->json, "migrations")));
    resp_free(r);
}

Test(http, paging_parameters_validated)
{
    test_user("adm", "core", "admin", NULL, 0);
    char *tok = test_token("adm");
    struct resp *r = api("GET", "/api/v1/audit?page_size=101", tok, NULL);
    assert_error(r, 400, "validation_failed");
    resp_free(r);
    r = api("GET", "/api/v1/audit?page=0", tok, NULL);
    assert_error(r, 400, "validation_failed");
    resp_free(r);
    r = api("GET", "/api/v1/audit?page=abc", tok, NULL);
    assert_error(r, 400, "validation_failed");
    resp_free(r);
    r = api("GET", "/api/v1/audit?page=1&page_size=5", tok, NULL);
    cr_assert_eq(r->status, 200);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "page_size")), 5);
    cr_assert(json_is_array(json_object_get(r->json, "items")));
    resp_free(r);
    free(tok);
}

/* ------------------------------------------------------------- CORS */

static void start_cors(void)
{
    setenv("ATRIUM_CORS_ORIGINS", "https://console.example", 1);
    srv_start_with(testapp_routes, &testapp);
}

Test(http_cors, allowed_origin_only, .init = start_cors, .fini = srv_stop)
{
    const char *ok[] = {"Origin: https://console.example", NULL};
    const char *bad[] = {"Origin: https://evil.example", NULL};
    struct resp *r = api_h("GET", "/health/live", NULL, NULL, ok);
    cr_assert_str_eq(resp_header(r, "Access-Control-Allow-Origin"), "https://console.example");
    resp_free(r);
    r = api_h("GET", "/health/live", NULL, NULL, bad);
    cr_assert_null(resp_header(r, "Access-Control-Allow-Origin"));
    resp_free(r);
    r = api_h("OPTIONS", "/api/v1/me", NULL, NULL, ok);
    cr_assert_eq(r->status, 204);
    cr_assert(strstr(resp_header(r, "Access-Control-Allow-Headers"), "Idempotency-Key"));
    resp_free(r);
    r = api_h("OPTIONS", "/api/v1/me", NULL, NULL, bad);
    cr_assert_eq(r->status, 403);
    resp_free(r);
}

/* ------------------------------------------------------ slow routes */

static atomic_int finish_seq;
static int slow_done_at[8];

static void call_slow(int i, void *arg)
{
    struct resp *r = api("GET", "/api/v1/testapp/slow", NULL, NULL);
    slow_done_at[i] = r->status == 200 ? atomic_fetch_add(&finish_seq, 1) + 1 : -1;
    resp_free(r);
}

static void *slow_clients(void *arg)
{
    run_concurrently(8, call_slow, NULL);
    return NULL;
}

/* Eight slow requests hold eight connections and workers; /health/live on a
 * ninth connection is answered before any of them is allowed to finish. */
Test(http, slow_routes_do_not_stall_fast_ones)
{
    pthread_t t;
    pthread_create(&t, NULL, slow_clients, NULL);
    for (int i = 0; i < 1000 && testapp_slow_started() < 8; i++) usleep(10000);
    cr_assert_eq(testapp_slow_started(), 8, "eight slow requests are in their handlers");
    struct resp *r = api("GET", "/health/live", NULL, NULL);
    cr_assert_eq(r->status, 200);
    int live_done_at = atomic_fetch_add(&finish_seq, 1) + 1;
    resp_free(r);
    testapp_release_slow();
    pthread_join(t, NULL);
    for (int i = 0; i < 8; i++) cr_assert_gt(slow_done_at[i], live_done_at, "slow %d finished after live", i);
}

/* A connection accepted before a stop whose request arrives after the
 * workers are gone: it was suspended for a worker that never came, and
 * MHD_stop_daemon() aborted the process on it (ops/shutdown_test.sh, about
 * one CI run in several). Now it is answered 503 and the stop is clean. */
Test(http, request_after_the_workers_stopped_is_503_and_the_stop_is_clean, .timeout = 30)
{
    http_stop_workers();
    struct resp *r = api("GET", "/api/v1/testapp/slow", NULL, NULL);
    assert_error(r, 503, "unavailable");
    cr_assert_eq(testapp_slow_started(), 0, "the handler never ran");
    resp_free(r);
    r = api("GET", "/health/live", NULL, NULL);    /* inline routes still answer */
    cr_assert_eq(r->status, 200);
    resp_free(r);
}

/* The acceptance case with the real thing: eight logins hashing with argon2id
 * at its production cost on eight connections; /health/live on a ninth is
 * answered before the last of them finishes. */
static atomic_int login_seq;
static int login_done_at[8];

static void call_login(int i, void *arg)
{
    struct resp *r = api("POST", "/api/v1/auth/login", NULL,
                         "{\"username\":\"hasher\",\"password\":\"" TEST_PASSWORD "\"}");
    login_done_at[i] = r->status == 200 ? atomic_fetch_add(&login_seq, 1) + 1 : -r->status;
    resp_free(r);
}

static void *login_clients(void *arg)
{
    run_concurrently(8, call_login, NULL);
    return NULL;
}

static void start_real_argon(void)
{
    setenv("ATRIUM_PWHASH_OPS", "2", 1);            /* libsodium "interactive" */
    setenv("ATRIUM_PWHASH_MEM", "67108864", 1);
    srv_start();
}

Test(http_slow, argon2_logins_do_not_stall_health, .init = start_real_argon, .fini = srv_stop, .timeout = 120)
{
    test_user("hasher", NULL, NULL, NULL, 0);
    pthread_t t;
    pthread_create(&t, NULL, login_clients, NULL);
    usleep(20000);                                   /* let the logins reach the workers */
    struct resp *r = api("GET", "/health/live", NULL, NULL);
    cr_assert_eq(r->status, 200);
    int live_done_at = atomic_fetch_add(&login_seq, 1) + 1;
    resp_free(r);
    pthread_join(t, NULL);
    int last = 0;
    for (int i = 0; i < 8; i++) {
        cr_assert_gt(login_done_at[i], 0, "login %d failed with %d", i, -login_done_at[i]);
        if (login_done_at[i] > last) last = login_done_at[i];
    }
    cr_assert_lt(live_done_at, last, "health answered before the last argon2id login finished");
}
