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
    cr_assert_eq(test_audit_count("testapp", "counter.bump"), 0, "the handler never ran");
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

/* The key row commits with the handler's writes or neither does. Commits of
 * a keyed counter request: 1 the handler's own (held), 2 the key row's,
 * 3 the real one at the end. */
static void commit_fails(long nth, const char *key)
{
    int64_t before = test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'counter.bump'");
    db_fault_arm(DB_OP_COMMIT, nth, false);
    struct resp *a = bump(key, "{}");
    cr_assert(db_fault_fired());
    db_fault_disarm();
    cr_assert_eq(a->status, 500, "%d %s", a->status, a->body);
    cr_assert_str_eq(resp_error_code(a), "internal");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'counter.bump'"), before);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM idempotency_keys"), 0);
    resp_free(a);
    /* the retry runs afresh and is kept */
    a = bump(key, "{}");
    cr_assert_eq(a->status, 201, "%d %s", a->status, a->body);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'counter.bump'"), before + 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM idempotency_keys"), 1);
    resp_free(a);
    a = bump(key, "{}");
    cr_assert_str_eq(resp_header(a, "Idempotent-Replayed"), "true");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'counter.bump'"), before + 1);
    resp_free(a);
}

Test(idem, key_row_failing_undoes_the_handler)
{
    commit_fails(2, "k-store");
}

Test(idem, final_commit_failing_keeps_neither)
{
    commit_fails(3, "k-final");
}

Test(idem, handler_commit_failing_keeps_neither)
{
    commit_fails(1, "k-handler");
}

/* A lookup that fails is not "no such key": the handler must not run. */
Test(idem, failed_lookup_does_not_run_the_handler)
{
    struct resp *a = bump("k-look", "{}");
    cr_assert_eq(a->status, 201);
    resp_free(a);
    db_fault_arm(DB_OP_STEP, 1, false);        /* the lookup's step */
    a = bump("k-look", "{}");
    cr_assert(db_fault_fired());
    db_fault_disarm();
    cr_assert_eq(a->status, 500, "%d %s", a->status, a->body);
    cr_assert_eq(counter_value(), 1);
    resp_free(a);
}
