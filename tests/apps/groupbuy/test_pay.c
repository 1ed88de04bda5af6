/* Paying a contribution through the sandbox provider over HTTP: success
 * (payment row, escrow ledger row, audit, counted toward the MOQ), declined
 * (402, failed, a second attempt gets a new reference), pending (202, then the
 * webhook settles it), provider outage (502), already paid, another trader's
 * contribution, closed groups and dead contributions, unknown providers and
 * bodies, and Idempotency-Key replay (one payment). */
#include "support/fixture.h"
#include "apps/groupbuy/groupbuy.h"
#include <stdlib.h>
#include <string.h>

TestSuite(groupbuy_pay, .init = gb_start, .fini = gb_stop);

static struct resp *pay(int64_t id, const char *as, const char *key, const char *body)
{
    char path[96];
    snprintf(path, sizeof path, GB "/contributions/%lld/pay", (long long)id);
    return api_post(path, as, key, "%s", body);
}

static struct resp *pay_token(int64_t id, const char *token)
{
    char body[96];
    snprintf(body, sizeof body, "{\"payment_token\":\"%s\"}", token);
    return pay(id, "gb_trader1", NULL, body);
}

/* One text value from SQL with integer argument $1 (static buffer). */
static const char *text(const char *sql, int64_t arg)
{
    static char out[256];
    char *t = db_text(test_db(), sql, DB_I(arg));
    snprintf(out, sizeof out, "%s", t ? t : "(null)");
    free(t);
    return out;
}

static const char *ref(int64_t c, int attempt)
{
    static char out[2][64];
    snprintf(out[attempt & 1], sizeof out[0], "GB-C%lld-%d", (long long)c, attempt);
    return out[attempt & 1];
}

#define STATE(c) text("SELECT payment_status || ' ' || COALESCE(payment_reference, '-') || ' ' || payment_attempts " \
                      "FROM groupbuy_contributions WHERE id = $1", c)
#define PAYMENTS(c) test_scalar("SELECT COUNT(*) FROM groupbuy_payments WHERE contribution_id = $1", c)
#define LEDGER(c) test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE contribution_id = $1 AND " \
                            "entry_type = 'payment' AND account = 'escrow'", c)
#define AUDITS(action, c) test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = '" action "' AND target_id = $1", c)

GbTest(groupbuy_pay, pay_succeeds)
{
    int64_t g = gb_group(1, 10, 60), c = gb_contribution(g, "gb_trader1", 2);
    char path[96], want[128];
    snprintf(path, sizeof path, GB "/contributions/%lld/pay", (long long)c);
    char *tok = test_token("gb_trader1");
    struct resp *r = api("POST", path, tok, NULL);           /* no body: the default provider */
    free(tok);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "id"), c);
    cr_assert_str_eq(jstr(r->json, "payment_status"), "paid");
    cr_assert_eq(jint(r->json, "paid_amount_cents"), 5000);
    cr_assert_str_eq(jstr(r->json, "payment_provider"), "sandbox");
    cr_assert_str_eq(jstr(r->json, "payment_reference"), ref(c, 1));
    cr_assert(jstr(r->json, "paid_at"));
    resp_free(r);
    cr_assert_eq(PAYMENTS(c), 1);
    snprintf(want, sizeof want, "client 5000 USD %s sbx_ch_", ref(c, 1));
    cr_assert_str_eq(text("SELECT source || ' ' || amount_cents || ' ' || currency || ' ' || reference || ' ' || "
                          "substr(provider_ref, 1, 7) FROM groupbuy_payments WHERE contribution_id = $1", c), want);
    cr_assert_eq(LEDGER(c), 1);
    cr_assert_eq(test_scalar("SELECT amount_cents FROM groupbuy_ledger WHERE contribution_id = $1", c), 5000);
    cr_assert_eq(AUDITS("groupbuy.contribution.payment_started", c), 1);
    cr_assert_eq(AUDITS("groupbuy.contribution.paid", c), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.contribution.payment_started' "
                           "AND user_id = $1", test_user_id("gb_trader1")), 1);
    cr_assert_eq(test_scalar("SELECT " GB_COMMITTED_SQL("$1"), g), 2, "paid counts toward the MOQ");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM outbox WHERE type = 'contribution.paid' AND topic = "
                           "'groupbuy.group.' || $1", g), 1);

    /* explicit provider, then paying again */
    resp_check(pay(c, "gb_trader1", NULL, "{\"provider\":\"sandbox\"}"), 409, "already_paid");
    cr_assert_eq(PAYMENTS(c), 1);
    cr_assert_eq(test_scalar("SELECT payment_attempts FROM groupbuy_contributions WHERE id = $1", c), 1);
}

GbTest(groupbuy_pay, declined_then_paid_with_a_new_reference)
{
    int64_t g = gb_group(1, 10, 60), c = gb_contribution(g, "gb_trader1", 1);
    struct resp *r = pay_token(c, "tok_declined");
    cr_assert_eq(r->status, 402, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "payment_declined");
    cr_assert_str_eq(jstr(json_object_get(r->json, "error"), "message"), "card declined");
    resp_free(r);
    char want[96];
    snprintf(want, sizeof want, "failed %s 1", ref(c, 1));
    cr_assert_str_eq(STATE(c), want);
    cr_assert_eq(PAYMENTS(c), 0);
    cr_assert_eq(LEDGER(c), 0);
    cr_assert_eq(AUDITS("groupbuy.contribution.payment_failed", c), 1);
    cr_assert_eq(test_scalar("SELECT " GB_COMMITTED_SQL("$1"), g), 0);

    r = pay_token(c, "tok_success");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "payment_reference"), ref(c, 2));
    resp_free(r);
    snprintf(want, sizeof want, "paid %s 2", ref(c, 2));
    cr_assert_str_eq(STATE(c), want);
    cr_assert_eq(PAYMENTS(c), 1);
    cr_assert_eq(AUDITS("groupbuy.contribution.payment_started", c), 2);
    /* the business counters the payment alerts watch */
    r = api("GET", "/metrics", NULL, NULL);
    cr_assert_eq(r->status, 200);
    cr_assert(strstr(r->body, "atrium_payment_failures_total{provider=\"sandbox\"} 1\n"), "%s", r->body);
    cr_assert(strstr(r->body, "atrium_payments_total{provider=\"sandbox\"} 1\n"), "%s", r->body);
    resp_free(r);
}

GbTest(groupbuy_pay, pending_then_the_webhook_settles)
{
    int64_t g = gb_group(1, 10, 60), c = gb_contribution(g, "gb_trader1", 3);
    struct resp *r = pay_token(c, "tok_pending");
    cr_assert_eq(r->status, 202, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "payment_status"), "pending");
    cr_assert_str_eq(jstr(r->json, "payment_reference"), ref(c, 1));
    resp_free(r);
    resp_check(pay_token(c, "tok_success"), 409, "payment_pending");
    cr_assert_eq(PAYMENTS(c), 0);
    cr_assert_eq(test_scalar("SELECT " GB_COMMITTED_SQL("$1"), g), 0, "pending does not count");

    char body[256];
    snprintf(body, sizeof body, "{\"id\":\"evt_pend_%lld\",\"type\":\"charge.succeeded\",\"data\":{\"reference\":"
                                "\"%s\",\"provider_ref\":\"sbx_ch_pend%lld\",\"amount_cents\":7500,\"currency\":\"USD\"}}",
             (long long)c, ref(c, 1), (long long)c);
    r = gb_webhook(body, false);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "applied");
    resp_free(r);
    char want[96];
    snprintf(want, sizeof want, "paid %s 1", ref(c, 1));
    cr_assert_str_eq(STATE(c), want);
    cr_assert_str_eq(text("SELECT source FROM groupbuy_payments WHERE contribution_id = $1", c), "webhook");
    cr_assert_eq(LEDGER(c), 1);
    cr_assert_eq(test_scalar("SELECT " GB_COMMITTED_SQL("$1"), g), 3);
}

GbTest(groupbuy_pay, provider_outage_is_502_and_retryable)
{
    int64_t g = gb_group(1, 10, 60), c = gb_contribution(g, "gb_trader1", 1);
    resp_check(pay_token(c, "tok_error"), 502, "provider_unavailable");
    char want[96];
    snprintf(want, sizeof want, "failed %s 1", ref(c, 1));
    cr_assert_str_eq(STATE(c), want);
    resp_check(pay_token(c, "tok_success"), 200, NULL);
    cr_assert_eq(PAYMENTS(c), 1);
}

GbTest(groupbuy_pay, whose_and_which_state)
{
    int64_t g = gb_group(1, 10, 60), mine = gb_contribution(g, "gb_trader1", 1);
    int64_t theirs = gb_contribution(g, "gb_trader2", 1);
    resp_check(pay(theirs, "gb_trader1", NULL, "{}"), 404, "not_found");
    resp_check(pay(999, "gb_trader1", NULL, "{}"), 404, "not_found");
    resp_check(pay(mine, "gb_admin", NULL, "{}"), 403, "forbidden");
    resp_check(pay(mine, "gb_sup1", NULL, "{}"), 403, "forbidden");
    resp_check(pay(mine, NULL, NULL, "{}"), 401, NULL);

    gb_set_deadline(g, -1);
    resp_check(pay(mine, "gb_trader1", NULL, "{}"), 409, "group_closed");
    gb_set_deadline(g, 30);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_groups SET status = 'failed' WHERE id = $1", DB_I(g)), 1);
    resp_check(pay(mine, "gb_trader1", NULL, "{}"), 409, "group_closed");
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_groups SET status = 'open' WHERE id = $1", DB_I(g)), 1);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_contributions SET status = 'cancelled' WHERE id = $1",
                         DB_I(mine)), 1);
    resp_check(pay(mine, "gb_trader1", NULL, "{}"), 409, "invalid_state");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_contributions WHERE payment_attempts > 0"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_payments"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'groupbuy.contribution.%'"), 0);
}

GbTest(groupbuy_pay, providers_and_bodies)
{
    int64_t g = gb_group(1, 10, 60), c = gb_contribution(g, "gb_trader1", 1);
    struct resp *r = pay(c, "gb_trader1", NULL, "{\"provider\":\"paypal\"}");
    cr_assert_eq(r->status, 400, "%s", r->body);
    cr_assert_str_eq(jstr(json_array_get(json_object_get(json_object_get(r->json, "error"), "details"), 0), "field"),
                     "provider");
    resp_free(r);
    unsetenv("ATRIUM_FLUTTERWAVE_SECRET_KEY");
    resp_check(pay(c, "gb_trader1", NULL, "{\"provider\":\"flutterwave\"}"), 400, "validation_failed");
    resp_check(pay(c, "gb_trader1", NULL, "{\"card\":\"4242\"}"), 400, "validation_failed");
    resp_check(pay(c, "gb_trader1", NULL, "{\"payment_token\":5}"), 400, "validation_failed");
    resp_check(pay(c, "gb_trader1", NULL, "[]"), 400, "invalid_json");
    /* once a real provider is the default, the sandbox cannot be picked */
    setenv("ATRIUM_FLUTTERWAVE_SECRET_KEY", "FLWSECK_TEST-x", 1);
    setenv("ATRIUM_PAYMENT_PROVIDER", "flutterwave", 1);
    resp_check(pay(c, "gb_trader1", NULL, "{\"provider\":\"sandbox\"}"), 400, "validation_failed");
    unsetenv("ATRIUM_PAYMENT_PROVIDER");
    unsetenv("ATRIUM_FLUTTERWAVE_SECRET_KEY");
    cr_assert_str_eq(STATE(c), "unpaid - 0");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_payments"), 0);
}

GbTest(groupbuy_pay, idempotent_replay_pays_once)
{
    int64_t g = gb_group(1, 10, 60), c = gb_contribution(g, "gb_trader1", 2);
    struct resp *a = pay(c, "gb_trader1", "pay-key-1", "{\"payment_token\":\"tok_success\"}");
    struct resp *b = pay(c, "gb_trader1", "pay-key-1", "{\"payment_token\":\"tok_success\"}");
    cr_assert_eq(a->status, 200, "%s", a->body);
    cr_assert_eq(b->status, 200, "%s", b->body);
    cr_assert_str_eq(a->body, b->body);
    cr_assert_str_eq(resp_header(b, "Idempotent-Replayed"), "true");
    resp_free(a);
    resp_free(b);
    resp_check(pay(c, "gb_trader1", "pay-key-1", "{\"payment_token\":\"tok_pending\"}"), 409, NULL);
    resp_check(pay(c, "gb_trader1", "pay-key-2", "{\"payment_token\":\"tok_success\"}"), 409, "already_paid");
    cr_assert_eq(PAYMENTS(c), 1);
    cr_assert_eq(LEDGER(c), 1);
    cr_assert_eq(test_scalar("SELECT payment_attempts FROM groupbuy_contributions WHERE id = $1", c), 1);

    /* a declined answer replays too, without a second charge attempt */
    int64_t d = gb_contribution(g, "gb_trader1", 1);
    resp_check(pay(d, "gb_trader1", "pay-key-3", "{\"payment_token\":\"tok_declined\"}"), 402, "payment_declined");
    resp_check(pay(d, "gb_trader1", "pay-key-3", "{\"payment_token\":\"tok_declined\"}"), 402, "payment_declined");
    cr_assert_eq(test_scalar("SELECT payment_attempts FROM groupbuy_contributions WHERE id = $1", d), 1);
}

/* A new user's setup: no sandbox webhook secret. The pending answer says
 * webhooks are off and names the variable, the webhook says the same, and
 * paying again asks the sandbox, which settles the charge: one payment. */
GbTest(groupbuy_pay, pending_without_webhooks_is_settled_by_paying_again)
{
    int64_t g = gb_group(1, 10, 60), c = gb_contribution(g, "gb_trader1", 2);
    unsetenv("ATRIUM_SANDBOX_WEBHOOK_SECRET");
    struct resp *r = pay(c, "gb_trader1", "nohook-1", "{\"payment_token\":\"tok_pending\"}");
    cr_assert_eq(r->status, 202, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "payment_status"), "pending");
    const char *msg = jstr(r->json, "provider_message");
    cr_assert(msg && strstr(msg, "webhooks are disabled") && strstr(msg, "ATRIUM_SANDBOX_WEBHOOK_SECRET") &&
              strstr(msg, "pay again"), "%s", r->body);
    resp_free(r);

    char body[256];
    snprintf(body, sizeof body, "{\"id\":\"evt_nohook_%lld\",\"type\":\"charge.succeeded\",\"data\":{\"reference\":"
                                "\"%s\",\"provider_ref\":\"sbx_ch_x\",\"amount_cents\":5000,\"currency\":\"USD\"}}",
             (long long)c, ref(c, 1));
    r = gb_webhook(body, false);
    cr_assert_eq(r->status, 503, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "webhooks_disabled");
    cr_assert(strstr(jstr(json_object_get(r->json, "error"), "message"), "ATRIUM_SANDBOX_WEBHOOK_SECRET"), "%s",
              r->body);
    resp_free(r);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_webhook_events WHERE reference = (SELECT payment_reference "
                           "FROM groupbuy_contributions WHERE id = $1)", c), 0, "nothing written");

    r = pay(c, "gb_trader1", "nohook-2", "{}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "payment_status"), "paid");
    cr_assert_str_eq(jstr(r->json, "payment_reference"), ref(c, 1), "the pending attempt, not a new one");
    resp_free(r);
    char want[96];
    snprintf(want, sizeof want, "client 5000 USD %s sbx_ch_", ref(c, 1));
    cr_assert_str_eq(text("SELECT source || ' ' || amount_cents || ' ' || currency || ' ' || reference || ' ' || "
                          "substr(provider_ref, 1, 7) FROM groupbuy_payments WHERE contribution_id = $1", c), want);
    cr_assert_eq(LEDGER(c), 1);
    cr_assert_eq(AUDITS("groupbuy.contribution.payment_started", c), 1);
    cr_assert_eq(AUDITS("groupbuy.contribution.paid", c), 1);
    resp_check(pay(c, "gb_trader1", "nohook-3", "{}"), 409, "already_paid");
    cr_assert_eq(PAYMENTS(c), 1);
    setenv("ATRIUM_SANDBOX_WEBHOOK_SECRET", GB_WEBHOOK_SECRET, 1);
}
