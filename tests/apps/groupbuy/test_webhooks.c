/* Provider webhooks over HTTP: a bad or missing signature is 401 and writes
 * nothing; the same event twice is applied once; a webhook racing the
 * client's own confirmation records one payment; unknown references,
 * amount mismatches and charge.failed; and Flutterwave through the fake API:
 * a pending charge settled by a verif-hash webhook after a verify call, a
 * claimed success the provider does not confirm, and a bad verif-hash. */
#include "support/fixture.h"
#include "support/fakeflw.h"
#include "apps/groupbuy/groupbuy.h"
#include <stdlib.h>
#include <string.h>

TestSuite(groupbuy_webhooks, .init = gb_start, .fini = gb_stop);

static struct resp *pay(int64_t id, const char *body)
{
    char path[96];
    snprintf(path, sizeof path, GB "/contributions/%lld/pay", (long long)id);
    return api_post(path, "gb_trader1", NULL, "%s", body);
}

/* A contribution of gb_trader1 with a sandbox payment in flight (GB-C<id>-1). */
static int64_t pending(int64_t group, int quantity)
{
    int64_t c = gb_contribution(group, "gb_trader1", quantity);
    struct resp *r = pay(c, "{\"payment_token\":\"tok_pending\"}");
    cr_assert_eq(r->status, 202, "%s", r->body);
    resp_free(r);
    return c;
}

static char *event(const char *id, const char *type, int64_t c, int attempt, int64_t amount)
{
    return xasprintf("{\"id\":\"%s\",\"type\":\"%s\",\"data\":{\"reference\":\"GB-C%lld-%d\",\"provider_ref\":"
                     "\"sbx_ch_wh%lld_%s\",\"amount_cents\":%lld,\"currency\":\"USD\"}}",
                     id, type, (long long)c, attempt, (long long)c, id, (long long)amount);
}

/* Post a signed sandbox event; its answer's status field must be `want`. */
static void expect_outcome(const char *body, const char *want)
{
    struct resp *r = gb_webhook(body, false);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), want, "%s", r->body);
    resp_free(r);
}

#define pay_state(c) test_text_of("SELECT payment_status FROM groupbuy_contributions WHERE id = $1", c)

#define PAYMENTS(c) test_scalar("SELECT COUNT(*) FROM groupbuy_payments WHERE contribution_id = $1", c)
#define LEDGER(c) test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE contribution_id = $1 AND " \
                            "entry_type = 'payment'", c)

GbTest(groupbuy_webhooks, bad_signature_writes_nothing)
{
    int64_t g = gb_group(1, 10, 60), c = pending(g, 2);
    char *body = event("evt_bad", "charge.succeeded", c, 1, 5000);
    resp_check(gb_webhook(body, true), 401, "invalid_signature");
    resp_check(api("POST", GB "/payments/webhook/sandbox", NULL, body), 401, "invalid_signature");
    const char *forged[] = {"X-Sandbox-Signature: not-hex", NULL};
    resp_check(api_h("POST", GB "/payments/webhook/sandbox", NULL, body, forged), 401, "invalid_signature");
    resp_check(gb_webhook("{\"id\":\"evt_x\"}", false), 401, "invalid_signature");
    resp_check(gb_webhook("not json", false), 401, "invalid_signature");
    resp_check(api("POST", GB "/payments/webhook/paypal", NULL, body), 404, "not_found");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_webhook_events"), 0);
    cr_assert_str_eq(pay_state(c), "pending");
    cr_assert_eq(PAYMENTS(c), 0);
    cr_assert_eq(LEDGER(c), 0);
    free(body);
}

GbTest(groupbuy_webhooks, same_event_twice_applies_once)
{
    int64_t g = gb_group(1, 10, 60), c = pending(g, 2);
    char *body = event("evt_once", "charge.succeeded", c, 1, 5000);
    expect_outcome(body, "applied");
    expect_outcome(body, "duplicate");
    cr_assert_str_eq(pay_state(c), "paid");
    cr_assert_eq(PAYMENTS(c), 1);
    cr_assert_eq(LEDGER(c), 1);
    cr_assert_eq(test_scalar("SELECT paid_amount_cents FROM groupbuy_contributions WHERE id = $1", c), 5000);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_webhook_events WHERE provider = 'sandbox' AND event_id = "
                            "'evt_once' AND type = 'charge.succeeded' AND outcome = 'applied'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.contribution.paid' AND user_id "
                            "IS NULL OR (action = 'groupbuy.contribution.paid' AND user_id = 0)"), 1);
    /* another event for the same charge: already paid, nothing changes */
    char *again = event("evt_twice", "charge.succeeded", c, 1, 5000);
    expect_outcome(again, "already_paid");
    cr_assert_eq(PAYMENTS(c), 1);
    free(body);
    free(again);
}

GbTest(groupbuy_webhooks, webhook_racing_the_client_records_one_payment)
{
    int64_t g = gb_group(2, 20, 60);
    char *token = test_token("gb_trader1");
    int by_webhook = 0;
    for (int round = 0; round < 10; round++) {
        int64_t c = gb_contribution(g, "gb_trader1", 2);    /* 2 x 1500 */
        char path[96], id[32];
        snprintf(path, sizeof path, GB "/contributions/%lld/pay", (long long)c);
        snprintf(id, sizeof id, "evt_race_%d", round);
        char *body = event(id, "charge.succeeded", c, 1, 3000);
        struct gb_race rc = {.pay_path = path, .token = token, .webhook = body, .delay_us = round * 700};
        gb_race_pay_webhook(&rc);
        cr_assert(rc.pay_status == 200 || rc.pay_status == 409, "round %d: pay %d", round, rc.pay_status);
        cr_assert(!strcmp(rc.outcome, "applied") || !strcmp(rc.outcome, "already_paid"), "round %d: %s", round,
                  rc.outcome);
        cr_assert_eq(PAYMENTS(c), 1, "round %d", round);
        cr_assert_eq(LEDGER(c), 1, "round %d", round);
        cr_assert_str_eq(pay_state(c), "paid");
        cr_assert_eq(test_scalar("SELECT paid_amount_cents FROM groupbuy_contributions WHERE id = $1", c), 3000);
        cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_payments WHERE contribution_id = $1 AND source = "
                               "'webhook'", c), !strcmp(rc.outcome, "applied"), "the webhook applied it, or the client");
        by_webhook += !strcmp(rc.outcome, "applied");
        free(body);
    }
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_payments p JOIN groupbuy_contributions c ON c.id = "
                           "p.contribution_id WHERE c.group_id = $1", g), 10);
    cr_log_info("webhook won %d of 10 rounds", by_webhook);
    free(token);
}

GbTest(groupbuy_webhooks, unknown_reference_and_mismatch)
{
    int64_t g = gb_group(1, 10, 60), c = pending(g, 3);
    char *unknown = event("evt_unknown", "charge.succeeded", 9999, 1, 5000);
    expect_outcome(unknown, "unknown_reference");
    expect_outcome(unknown, "duplicate");
    expect_outcome("{\"id\":\"evt_odd\",\"type\":\"charge.succeeded\",\"data\":{\"reference\":\"ORDER-17\","
                   "\"provider_ref\":\"sbx_ch_odd\",\"amount_cents\":100,\"currency\":\"USD\"}}",
                   "unknown_reference");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_webhook_events WHERE outcome = 'unknown_reference'"), 2);

    char *wrong = event("evt_wrong", "charge.succeeded", c, 1, 100);
    expect_outcome(wrong, "amount_mismatch");
    cr_assert_str_eq(pay_state(c), "pending");
    cr_assert_eq(PAYMENTS(c), 0);
    cr_assert_eq(LEDGER(c), 0);
    char *usd_eur = xasprintf("{\"id\":\"evt_eur\",\"type\":\"charge.succeeded\",\"data\":{\"reference\":"
                              "\"GB-C%lld-1\",\"provider_ref\":\"sbx_ch_eur\",\"amount_cents\":7500,\"currency\":"
                              "\"EUR\"}}", (long long)c);
    expect_outcome(usd_eur, "amount_mismatch");
    cr_assert_eq(PAYMENTS(c), 0);
    /* other event types are recorded and ignored */
    char *refund = event("evt_refund", "charge.refunded", c, 1, 7500);
    expect_outcome(refund, "ignored");
    cr_assert_str_eq(pay_state(c), "pending");
    free(unknown);
    free(wrong);
    free(usd_eur);
    free(refund);
}

GbTest(groupbuy_webhooks, charge_failed_marks_the_attempt_failed)
{
    int64_t g = gb_group(1, 10, 60), c = pending(g, 1);
    char *failed = event("evt_fail", "charge.failed", c, 1, 2500);
    expect_outcome(failed, "payment_failed");
    cr_assert_str_eq(pay_state(c), "failed");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.contribution.payment_failed' "
                           "AND target_id = $1", c), 1);
    char *stale = event("evt_fail_again", "charge.failed", c, 1, 2500);
    expect_outcome(stale, "ignored");
    /* the trader pays again; a late failure of the first attempt does not touch the second */
    struct resp *r = pay(c, "{\"payment_token\":\"tok_pending\"}");
    cr_assert_eq(r->status, 202, "%s", r->body);
    resp_free(r);
    char *late = event("evt_fail_late", "charge.failed", c, 1, 2500);
    expect_outcome(late, "ignored");
    cr_assert_str_eq(pay_state(c), "pending");
    char *ok = event("evt_ok2", "charge.succeeded", c, 2, 2500);
    expect_outcome(ok, "applied");
    cr_assert_str_eq(pay_state(c), "paid");
    free(failed);
    free(stale);
    free(late);
    free(ok);
}

static struct resp *flw_webhook(const char *body, const char *hash)
{
    char header[128];
    snprintf(header, sizeof header, "verif-hash: %s", hash);
    const char *headers[] = {header, NULL};
    return api_h("POST", GB "/payments/webhook/flutterwave", NULL, body, headers);
}

GbTest(groupbuy_webhooks, flutterwave_pending_settled_by_verified_webhook)
{
    fakeflw_start();
    int64_t g = gb_group(1, 10, 60), c = gb_contribution(g, "gb_trader1", 2);
    char ref[64];
    snprintf(ref, sizeof ref, "GB-C%lld-1", (long long)c);
    fakeflw_next_charge("pending");
    struct resp *r = pay(c, "{\"provider\":\"flutterwave\",\"payment_token\":\"flw-t0k-1\"}");
    cr_assert_eq(r->status, 202, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "payment_provider"), "flutterwave");
    resp_free(r);
    cr_assert_eq(fakeflw_count("charge"), 1);
    int64_t tx = fakeflw_tx_id(ref);
    cr_assert_gt(tx, 0);

    fakeflw_set_status(ref, "successful");
    char *body = fakeflw_webhook_body(ref);
    cr_assert(body);
    resp_check(flw_webhook(body, "wrong-hash"), 401, "invalid_signature");
    resp_check(api("POST", GB "/payments/webhook/flutterwave", NULL, body), 401, "invalid_signature");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_webhook_events"), 0);
    cr_assert_eq(fakeflw_count("verify"), 0, "nothing is verified before the signature checks out");

    r = flw_webhook(body, FAKEFLW_WEBHOOK_HASH);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "applied");
    resp_free(r);
    cr_assert_eq(fakeflw_count("verify"), 1);
    cr_assert_str_eq(pay_state(c), "paid");
    char want[64];
    snprintf(want, sizeof want, "%lld", (long long)tx);
    char *pref = db_text(test_db(), "SELECT provider || ':' || provider_ref || ':' || amount_cents FROM "
                                    "groupbuy_payments WHERE contribution_id = $1", DB_I(c));
    char *expect = xasprintf("flutterwave:%s:5000", want);
    cr_assert_str_eq(pref, expect);
    free(pref);
    free(expect);
    cr_assert_eq(LEDGER(c), 1);

    r = flw_webhook(body, FAKEFLW_WEBHOOK_HASH);
    cr_assert_str_eq(jstr(r->json, "status"), "duplicate");
    resp_free(r);
    cr_assert_eq(fakeflw_count("verify"), 1, "a duplicate is not verified again");
    cr_assert_eq(PAYMENTS(c), 1);
    free(body);
}

GbTest(groupbuy_webhooks, flutterwave_unconfirmed_success_is_not_applied)
{
    fakeflw_start();
    int64_t g = gb_group(1, 10, 60), c = gb_contribution(g, "gb_trader1", 1);
    char ref[64];
    snprintf(ref, sizeof ref, "GB-C%lld-1", (long long)c);
    fakeflw_next_charge("pending");
    resp_check(pay(c, "{\"provider\":\"flutterwave\",\"payment_token\":\"flw-t0k-2\"}"), 202, NULL);
    /* a body claiming success while the provider still says pending */
    fakeflw_set_status(ref, "successful");
    char *body = fakeflw_webhook_body(ref);
    fakeflw_set_status(ref, "pending");
    struct resp *r = flw_webhook(body, FAKEFLW_WEBHOOK_HASH);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "unverified");
    resp_free(r);
    cr_assert_str_eq(pay_state(c), "pending");
    cr_assert_eq(PAYMENTS(c), 0);
    cr_assert_eq(fakeflw_count("verify"), 1);
    /* the provider re-sends the event once the charge really settled */
    fakeflw_set_status(ref, "successful");
    r = flw_webhook(body, FAKEFLW_WEBHOOK_HASH);
    cr_assert_str_eq(jstr(r->json, "status"), "applied", "%s", r->body);
    resp_free(r);
    cr_assert_eq(fakeflw_count("verify"), 2);
    cr_assert_str_eq(pay_state(c), "paid");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_webhook_events WHERE provider = 'flutterwave'"), 1);
    free(body);
}

/* A charge whose answer was lost (the provider failed with a 500) stays
 * pending: the retry asks the provider first, finds no charge, and starts
 * attempt 2 — the trader is never charged twice nor stuck. */
GbTest(groupbuy_webhooks, flutterwave_lost_answer_is_checked_before_charging_again)
{
    fakeflw_start();
    int64_t g = gb_group(1, 10, 60), c = gb_contribution(g, "gb_trader1", 1);
    const char *body = "{\"provider\":\"flutterwave\",\"payment_token\":\"flw-t0k-3\"}";
    fakeflw_next_charge("error500");
    resp_check(pay(c, body), 502, "provider_unavailable");
    cr_assert_str_eq(pay_state(c), "pending", "the outcome is unknown, so the attempt stays open");
    struct resp *r = pay(c, body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "payment_status"), "paid");
    char want[64];
    snprintf(want, sizeof want, "GB-C%lld-2", (long long)c);
    cr_assert_str_eq(jstr(r->json, "payment_reference"), want);
    resp_free(r);
    cr_assert_eq(fakeflw_count("verify"), 1);
    cr_assert_eq(fakeflw_count("charge"), 2);
    cr_assert_eq(PAYMENTS(c), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.contribution.payment_failed'"), 1);
}

/* A pending charge that settled without its webhook reaching us: paying
 * again records it from the provider's own answer and charges nothing. */
GbTest(groupbuy_webhooks, flutterwave_pending_settled_by_asking_on_retry)
{
    fakeflw_start();
    int64_t g = gb_group(1, 10, 60), c = gb_contribution(g, "gb_trader1", 2);
    const char *body = "{\"provider\":\"flutterwave\",\"payment_token\":\"flw-t0k-4\"}";
    char ref[64];
    snprintf(ref, sizeof ref, "GB-C%lld-1", (long long)c);
    fakeflw_next_charge("pending");
    resp_check(pay(c, body), 202, NULL);
    resp_check(pay(c, body), 409, "payment_pending");        /* still pending at the provider */
    fakeflw_set_status(ref, "successful");
    struct resp *r = pay(c, body);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "payment_reference"), ref);
    resp_free(r);
    cr_assert_eq(fakeflw_count("charge"), 1);
    cr_assert_eq(fakeflw_count("verify"), 2);
    cr_assert_eq(PAYMENTS(c), 1);
    cr_assert_eq(LEDGER(c), 1);
}
