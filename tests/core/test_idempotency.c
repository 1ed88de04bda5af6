/* Idempotency-Key: replay, conflict on another body, one effect under a race. */
#include "support/harness.h"
#include "support/testapp.h"
#include <string.h>

static char *token;
static void start(void)
{
    srv_start_with(testapp_routes, &testapp);
    test_user("alice", NULL, NULL, NULL, 0);
    token = test_token("alice");
}
static void stop(void) { free(token); srv_stop(); }
TestSuite(idem, .init = start, .fini = stop);

static int64_t counter_value(void)
{
    int64_t v = 0;
    db_int(test_db(), &v, "SELECT value FROM test_counter WHERE id = 1");
    return v;
}

static struct resp *bump(const char *key, const char *body)
{
    char h[300];
    snprintf(h, sizeof h, "Idempotency-Key: %s", key);
    const char *headers[] = {h, NULL};
    return api_h("POST", "/api/v1/testapp/counter", token, body, headers);
}

Test(idem, same_key_same_body_replays)
{
    struct resp *a = bump("k-1", "{\"n\":1}"), *b = bump("k-1", "{\"n\":1}");
    cr_assert_eq(a->status, 201);
    cr_assert_eq(b->status, 201);
    cr_assert_str_eq(a->body, b->body);
    cr_assert_str_eq(resp_header(b, "Idempotent-Replayed"), "true");
    cr_assert_eq(counter_value(), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'counter.bump'"), 1);
    resp_free(a);
    resp_free(b);
}

Test(idem, same_key_other_body_is_409)
{
    struct resp *a = bump("k-2", "{\"n\":1}"), *b = bump("k-2", "{\"n\":2}");
    cr_assert_eq(a->status, 201);
    cr_assert_eq(b->status, 409);
    cr_assert_str_eq(resp_error_code(b), "idempotency_key_reused");
    cr_assert_eq(counter_value(), 1);
    resp_free(a);
    resp_free(b);
}

Test(idem, different_keys_are_different_effects)
{
    struct resp *a = bump("k-3", "{}"), *b = bump("k-4", "{}");
    cr_assert_eq(counter_value(), 2);
    resp_free(a);
    resp_free(b);
}

Test(idem, bad_key_is_400)
{
    char key[300];
    memset(key, 'x', 299);
    key[299] = 0;
    struct resp *a = bump(key, "{}");
    cr_assert_eq(a->status, 400);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'test_counter'"), 0);
    resp_free(a);
}

static int statuses[50];
static char bodies[50][64];

static void racer(int i, void *arg)
{
    struct resp *r = bump("race-key", "{\"amount_cents\":500}");
    statuses[i] = r->status;
    snprintf(bodies[i], sizeof bodies[i], "%s", r->body);
    resp_free(r);
}

Test(idem, fifty_concurrent_requests_one_effect)
{
    run_concurrently(50, racer, NULL);
    for (int i = 0; i < 50; i++) {
        cr_assert_eq(statuses[i], 201, "request %d: %d", i, statuses[i]);
        cr_assert_str_eq(bodies[i], bodies[0]);
    }
    cr_assert_eq(counter_value(), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'counter.bump'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM idempotency_keys"), 1);
}
