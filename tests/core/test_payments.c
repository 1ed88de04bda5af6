/* The payment-provider layer: the sandbox's test tokens, refund behaviours
 * and webhook signatures; amount conversion; the Flutterwave adapter against
 * the in-process fake (tests/support/fakeflw); httpc transport failures.
 * Providers are called directly; only the webhook tests start the server, for
 * a test route that hands a real request to parse_webhook. */
#include "support/harness.h"
#include "support/fakeflw.h"
#include <stdlib.h>
#include <string.h>

#define SBX_SECRET "whsec_test_sandbox"

static const struct pay_provider *sandbox(void)
{
    const struct pay_provider *p = pay_provider("sandbox");
    cr_assert(p, "sandbox is always available");
    return p;
}

static void sbx_charge(const char *token, const char *reference, int64_t cents, struct pay_result *out, int want_rc)
{
    struct pay_charge c = {.amount_cents = cents, .currency = "USD", .reference = reference, .token = token};
    cr_assert_eq(sandbox()->charge(&c, out), want_rc, "charge with %s", token ? token : "(null)");
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ------------------------------------------------------------- registry */

Test(payments, registry_follows_the_environment)
{
    unsetenv("ATRIUM_FLUTTERWAVE_SECRET_KEY");
    unsetenv("ATRIUM_PAYMENT_PROVIDER");
    cr_assert_str_eq(pay_provider("sandbox")->name, "sandbox");
    cr_assert_null(pay_provider("flutterwave"), "not configured without a key");
    cr_assert_null(pay_provider("stripe"));
    cr_assert_null(pay_provider(NULL));
    cr_assert_str_eq(pay_default(), "sandbox");
    const char *const *names = pay_providers();
    cr_assert_str_eq(names[0], "sandbox");
    cr_assert_null(names[1]);
    setenv("ATRIUM_FLUTTERWAVE_SECRET_KEY", "FLWSECK_TEST-x", 1);
    setenv("ATRIUM_PAYMENT_PROVIDER", "flutterwave", 1);
    cr_assert_str_eq(pay_provider("flutterwave")->name, "flutterwave");
    cr_assert_str_eq(pay_default(), "flutterwave");
    /* a deployment taking real money never lets a client pick the sandbox */
    cr_assert_null(pay_provider("sandbox"));
    names = pay_providers();
    cr_assert_str_eq(names[0], "flutterwave");
    cr_assert_null(names[1]);
    setenv("ATRIUM_SANDBOX_ENABLED", "1", 1);                /* staging: both */
    cr_assert_str_eq(pay_provider("sandbox")->name, "sandbox");
    names = pay_providers();
    cr_assert_str_eq(names[0], "sandbox");
    cr_assert_str_eq(names[1], "flutterwave");
    cr_assert_null(names[2]);
    unsetenv("ATRIUM_SANDBOX_ENABLED");
    cr_assert_not_null(pay_provider("flutterwave")->verify);
    cr_assert(!pay_provider("flutterwave")->refund_dedup, "Flutterwave does not deduplicate refunds");
    unsetenv("ATRIUM_PAYMENT_PROVIDER");
    setenv("ATRIUM_SANDBOX_WEBHOOK_SECRET", SBX_SECRET, 1);
    cr_assert_null(sandbox()->verify, "with a secret, sandbox webhooks are authoritative");
    cr_assert_null(pay_webhooks_disabled(sandbox()));
    cr_assert(sandbox()->refund_dedup);
    unsetenv("ATRIUM_SANDBOX_WEBHOOK_SECRET");
    cr_assert_not_null(sandbox()->verify, "without one, the sandbox can be asked");
    cr_assert_str_eq(pay_webhooks_disabled(sandbox()), "ATRIUM_SANDBOX_WEBHOOK_SECRET");
    cr_assert(sandbox()->refund_dedup);
    unsetenv("ATRIUM_FLUTTERWAVE_WEBHOOK_HASH");
    cr_assert_str_eq(pay_webhooks_disabled(pay_provider("flutterwave")), "ATRIUM_FLUTTERWAVE_WEBHOOK_HASH");
    setenv("ATRIUM_FLUTTERWAVE_WEBHOOK_HASH", "h", 1);
    cr_assert_null(pay_webhooks_disabled(pay_provider("flutterwave")));
}

/* -------------------------------------------------------------- amounts */

Test(payments, major_units_round_trip)
{
    static const struct { int64_t cents; const char *text; } cases[] = {
        {0, "0.00"}, {1, "0.01"}, {10, "0.10"}, {1230, "12.30"}, {123450, "1234.50"}, {123456789, "1234567.89"},
    };
    char out[32];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        pay_major(cases[i].cents, out);
        cr_assert_str_eq(out, cases[i].text);
        cr_assert_eq(pay_cents_from_major(strtod(out, NULL)), cases[i].cents, "%s", out);
    }
    cr_assert_eq(pay_cents_from_major(0.01), 1);
    cr_assert_eq(pay_cents_from_major(12.30), 1230);
    cr_assert_eq(pay_cents_from_major(1234567.89), 123456789);
    cr_assert_eq(pay_cents_from_major(12.300000000000001), 1230);
    cr_assert_eq(pay_cents_from_major(0.005000001), 1, "rounds to the nearest cent");
    for (int64_t c = 0; c < 200000; c += 7) {
        pay_major(c, out);
        cr_assert_eq(pay_cents_from_major(strtod(out, NULL)), c, "%s", out);
    }
}

/* -------------------------------------------------------------- sandbox */

/* No webhook secret: a pending charge says how to settle it, and asking the
 * sandbox (verify) settles it; declined and unknown charges stay refused. */
Test(payments, sandbox_without_webhooks_settles_a_pending_charge_when_asked)
{
    struct pay_result ch, v;
    unsetenv("ATRIUM_SANDBOX_WEBHOOK_SECRET");
    sbx_charge("tok_pending", "GB-C40-1", 2500, &ch, 0);
    cr_assert_eq(ch.status, PAY_PENDING);
    cr_assert(strstr(ch.message, "webhooks are disabled") && strstr(ch.message, "ATRIUM_SANDBOX_WEBHOOK_SECRET"),
              "%s", ch.message);
    for (int i = 0; i < 2; i++) {               /* settled once, the same answer after */
        cr_assert_eq(sandbox()->verify(NULL, "GB-C40-1", &v), 0);
        cr_assert_eq(v.status, PAY_SUCCEEDED);
        cr_assert_str_eq(v.provider_ref, ch.provider_ref);
        cr_assert_str_eq(v.reference, "GB-C40-1");
        cr_assert_eq(v.amount_cents, 2500);
        cr_assert_str_eq(v.currency, "USD");
    }
    cr_assert_eq(sandbox()->verify(ch.provider_ref, NULL, &v), 0);
    cr_assert_eq(v.status, PAY_SUCCEEDED, "by the sandbox's id too");
    sbx_charge(NULL, "GB-C41-1", 1000, &ch, 0);
    cr_assert_eq(sandbox()->verify(NULL, "GB-C41-1", &v), 0);
    cr_assert_eq(v.status, PAY_SUCCEEDED);
    sbx_charge("tok_declined", "GB-C42-1", 1000, &ch, 0);
    cr_assert_eq(sandbox()->verify(NULL, "GB-C42-1", &v), 0);
    cr_assert_eq(v.status, PAY_DECLINED);
    sbx_charge("tok_error", "GB-C43-1", 1000, &ch, -1);
    cr_assert_eq(sandbox()->verify(NULL, "GB-C43-1", &v), 0);
    cr_assert_eq(v.status, PAY_DECLINED, "an outage charged nothing");
    cr_assert_str_eq(v.message, "no such charge");

    setenv("ATRIUM_SANDBOX_WEBHOOK_SECRET", SBX_SECRET, 1);
    sbx_charge("tok_pending", "GB-C44-1", 2500, &ch, 0);
    cr_assert_str_eq(ch.message, "pending: settles by webhook");
    cr_assert_null(sandbox()->verify);
    unsetenv("ATRIUM_SANDBOX_WEBHOOK_SECRET");
}

Test(payments, sandbox_charge_outcomes_by_token)
{
    struct pay_result r;
    sbx_charge(NULL, "GB-C1-1", 2500, &r, 0);
    cr_assert_eq(r.status, PAY_SUCCEEDED);
    cr_assert(starts(r.provider_ref, "sbx_ch_") && strlen(r.provider_ref) == 7 + 24, "%s", r.provider_ref);
    cr_assert_str_eq(r.reference, "GB-C1-1");
    cr_assert_str_eq(r.currency, "USD");
    cr_assert_eq(r.amount_cents, 2500);

    struct pay_result again;
    sbx_charge("", "GB-C1-2", 2500, &again, 0);
    cr_assert_eq(again.status, PAY_SUCCEEDED);
    cr_assert_str_neq(again.provider_ref, r.provider_ref, "fresh id per charge");
    sbx_charge("tok_success", "GB-C1-3", 1, &r, 0);
    cr_assert_eq(r.status, PAY_SUCCEEDED);

    sbx_charge("tok_declined", "GB-C2-1", 2500, &r, 0);
    cr_assert_eq(r.status, PAY_DECLINED);
    cr_assert_str_eq(r.message, "card declined");

    sbx_charge("tok_pending", "GB-C3-1", 2500, &r, 0);
    cr_assert_eq(r.status, PAY_PENDING);
    cr_assert(starts(r.provider_ref, "sbx_ch_"));

    sbx_charge("tok_error", "GB-C4-1", 2500, &r, -1);
    cr_assert_eq(r.status, PAY_ERROR);
    cr_assert(r.message[0]);

    sbx_charge("tok_refund_fail", "GB-C5-1", 2500, &r, 0);
    cr_assert_eq(r.status, PAY_SUCCEEDED);
    cr_assert(starts(r.provider_ref, "sbx_chrf_"), "%s", r.provider_ref);

    sbx_charge("tok_refund_flaky", "GB-C6-1", 2500, &r, 0);
    cr_assert_eq(r.status, PAY_SUCCEEDED);
    cr_assert(starts(r.provider_ref, "sbx_chfl_"), "%s", r.provider_ref);

    sbx_charge("tok_success", "GB-C8-1", 0, &r, 0);
    cr_assert_eq(r.status, PAY_DECLINED, "nothing to charge");

    sbx_charge("tok_visa", "GB-C7-1", 2500, &r, 0);
    cr_assert_eq(r.status, PAY_DECLINED);
    cr_assert_str_eq(r.message, "unknown test token");
}

Test(payments, sandbox_refund_behaviours)
{
    struct pay_result ch, rf, rf2;
    int calls = pay_sandbox_refund_calls();
    sbx_charge("tok_success", "GB-C1-1", 2500, &ch, 0);
    cr_assert_eq(sandbox()->refund(ch.provider_ref, 1000, "USD", "GB-R1-1", &rf), 0);
    cr_assert_eq(rf.status, PAY_SUCCEEDED);
    cr_assert(starts(rf.provider_ref, "sbx_rf_"), "%s", rf.provider_ref);
    cr_assert_eq(rf.amount_cents, 1000);

    /* the same reference again: the provider deduplicates, same refund id */
    cr_assert_eq(sandbox()->refund(ch.provider_ref, 1000, "USD", "GB-R1-1", &rf2), 0);
    cr_assert_eq(rf2.status, PAY_SUCCEEDED);
    cr_assert_str_eq(rf2.provider_ref, rf.provider_ref);
    /* a new reference is a new refund */
    cr_assert_eq(sandbox()->refund(ch.provider_ref, 500, "USD", "GB-R1-2", &rf2), 0);
    cr_assert_str_neq(rf2.provider_ref, rf.provider_ref);

    sbx_charge("tok_refund_fail", "GB-C2-1", 2500, &ch, 0);
    cr_assert_eq(sandbox()->refund(ch.provider_ref, 2500, "USD", "GB-R2-1", &rf), 0);
    cr_assert_eq(rf.status, PAY_DECLINED);
    cr_assert_eq(sandbox()->refund(ch.provider_ref, 2500, "USD", "GB-R2-2", &rf), 0);
    cr_assert_eq(rf.status, PAY_DECLINED, "every refund of that charge declines");

    sbx_charge("tok_refund_flaky", "GB-C3-1", 2500, &ch, 0);
    cr_assert_eq(sandbox()->refund(ch.provider_ref, 2500, "USD", "GB-R3-1", &rf), -1);
    cr_assert_eq(rf.status, PAY_ERROR);
    cr_assert_eq(sandbox()->refund(ch.provider_ref, 2500, "USD", "GB-R3-1", &rf), 0, "the retry succeeds");
    cr_assert_eq(rf.status, PAY_SUCCEEDED);
    cr_assert(starts(rf.provider_ref, "sbx_rf_"));

    cr_assert_eq(sandbox()->refund("ch_other_provider", 100, "USD", "GB-R4-1", &rf), 0);
    cr_assert_eq(rf.status, PAY_DECLINED);
    cr_assert_str_eq(rf.message, "no such charge");
    cr_assert_eq(sandbox()->refund(NULL, 100, "USD", "GB-R4-2", &rf), 0);
    cr_assert_eq(rf.status, PAY_DECLINED);

    cr_assert_eq(pay_sandbox_refund_calls() - calls, 9, "every call counts, failed ones too");
}

static void refund_same_ref(int i, void *arg)
{
    struct pay_result rf;
    cr_assert_eq(sandbox()->refund(arg, 100, "USD", "GB-R9-1", &rf), 0);
    cr_assert_eq(rf.status, PAY_SUCCEEDED);
}

Test(payments, sandbox_refund_dedup_under_concurrency)
{
    struct pay_result ch, rf;
    sbx_charge("tok_success", "GB-C9-1", 2500, &ch, 0);
    run_concurrently(8, refund_same_ref, ch.provider_ref);
    char first[128];
    cr_assert_eq(sandbox()->refund(ch.provider_ref, 100, "USD", "GB-R9-1", &rf), 0);
    snprintf(first, sizeof first, "%s", rf.provider_ref);
    cr_assert_eq(sandbox()->refund(ch.provider_ref, 100, "USD", "GB-R9-1", &rf), 0);
    cr_assert_str_eq(rf.provider_ref, first);
}

/* ------------------------------------------------------------- webhooks */

/* POST /api/v1/test/paywebhook/{provider}: parse_webhook on a real request;
 * 200 with the event, or 400 rejected. */
static void webhook_route(struct req *r)
{
    const struct pay_provider *p = pay_provider(r->param[0]);
    struct pay_webhook ev;
    if (!p || p->parse_webhook(r, &ev) < 0) {
        reply_error(r, 400, "rejected", "webhook rejected");
        return;
    }
    reply_json(r, 200, json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:s}", "event_id", ev.event_id, "type", ev.type,
                                 "reference", ev.reference, "provider_ref", ev.provider_ref, "status", (int)ev.status,
                                 "amount_cents", (json_int_t)ev.amount_cents, "currency", ev.currency));
}

static const struct route routes[] = {
    {"POST", "/api/v1/test/paywebhook/{provider}", webhook_route, PERM_PUBLIC, ROUTE_RAW_BODY},
    {0},
};

static void hooks_start(void)
{
    setenv("ATRIUM_SANDBOX_WEBHOOK_SECRET", SBX_SECRET, 1);
    fakeflw_start();
    srv_start_with(routes, NULL);
}

static void hooks_stop(void)
{
    srv_stop();
    fakeflw_stop();
}

TestSuite(webhooks, .init = hooks_start, .fini = hooks_stop);

static struct resp *post_hook(const char *provider, const char *body, const char *header)
{
    char path[128];
    const char *headers[] = {"Content-Type: application/json", header, NULL};
    snprintf(path, sizeof path, "/api/v1/test/paywebhook/%s", provider);
    return api_h("POST", path, NULL, body, headers);
}

static struct resp *post_sandbox(const char *body, const char *signature)
{
    char line[128];
    snprintf(line, sizeof line, "X-Sandbox-Signature: %s", signature);
    return post_hook("sandbox", body, signature ? line : NULL);
}

#define SBX_BODY "{\"id\":\"evt_1\",\"type\":\"charge.succeeded\",\"data\":{\"reference\":\"GB-C12-1\"," \
                 "\"provider_ref\":\"sbx_ch_abc\",\"amount_cents\":2500,\"currency\":\"USD\"}}"

static int64_t field_int(struct resp *r, const char *name)
{
    return json_integer_value(json_object_get(r->json, name));
}

static const char *field(struct resp *r, const char *name)
{
    return json_string_value(json_object_get(r->json, name));
}

Test(webhooks, sandbox_good_signature_parses)
{
    char sig[65];
    pay_sandbox_sign(SBX_BODY, strlen(SBX_BODY), sig);
    cr_assert_eq(strlen(sig), 64);
    struct resp *r = post_sandbox(SBX_BODY, sig);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(field(r, "event_id"), "evt_1");
    cr_assert_str_eq(field(r, "type"), "charge.succeeded");
    cr_assert_str_eq(field(r, "reference"), "GB-C12-1");
    cr_assert_str_eq(field(r, "provider_ref"), "sbx_ch_abc");
    cr_assert_eq(field_int(r, "status"), PAY_SUCCEEDED);
    cr_assert_eq(field_int(r, "amount_cents"), 2500);
    cr_assert_str_eq(field(r, "currency"), "USD");
    resp_free(r);

    const char *failed = "{\"id\":\"evt_2\",\"type\":\"charge.failed\",\"data\":{\"reference\":\"GB-C12-2\","
                         "\"provider_ref\":\"sbx_ch_def\",\"amount_cents\":2500,\"currency\":\"USD\"}}";
    pay_sandbox_sign(failed, strlen(failed), sig);
    r = post_sandbox(failed, sig);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(field(r, "type"), "charge.failed");
    cr_assert_eq(field_int(r, "status"), PAY_DECLINED);
    resp_free(r);
}

Test(webhooks, sandbox_bad_or_missing_signature_is_refused)
{
    char sig[65];
    pay_sandbox_sign(SBX_BODY, strlen(SBX_BODY), sig);
    sig[0] = sig[0] == 'a' ? 'b' : 'a';
    struct resp *r = post_sandbox(SBX_BODY, sig);
    cr_assert_eq(r->status, 400);
    resp_free(r);
    r = post_sandbox(SBX_BODY, NULL);
    cr_assert_eq(r->status, 400);
    resp_free(r);
    r = post_sandbox(SBX_BODY, "");
    cr_assert_eq(r->status, 400);
    resp_free(r);
    /* signed for another body */
    pay_sandbox_sign("{}", 2, sig);
    r = post_sandbox(SBX_BODY, sig);
    cr_assert_eq(r->status, 400);
    resp_free(r);
}

Test(webhooks, sandbox_secret_unset_refuses_everything)
{
    char sig[65];
    crypto_hmac_sha256_hex(SBX_SECRET, SBX_BODY, strlen(SBX_BODY), sig);
    unsetenv("ATRIUM_SANDBOX_WEBHOOK_SECRET");
    char none[65];
    pay_sandbox_sign(SBX_BODY, strlen(SBX_BODY), none);
    cr_assert_str_eq(none, "");
    struct resp *r = post_sandbox(SBX_BODY, sig);
    cr_assert_eq(r->status, 400);
    resp_free(r);
    crypto_hmac_sha256_hex("", SBX_BODY, strlen(SBX_BODY), sig);
    r = post_sandbox(SBX_BODY, sig);
    cr_assert_eq(r->status, 400, "an empty secret is no secret");
    resp_free(r);
}

Test(webhooks, sandbox_malformed_body_is_refused)
{
    static const char *bodies[] = {
        "not json",
        "{\"id\":\"evt_1\",\"type\":\"charge.succeeded\"}",
        "{\"id\":\"evt_1\",\"type\":\"charge.succeeded\",\"data\":{\"reference\":\"GB-C12-1\","
        "\"provider_ref\":\"sbx_ch_abc\",\"amount_cents\":\"25\",\"currency\":\"USD\"}}",
        "{\"type\":\"charge.succeeded\",\"data\":{\"reference\":\"GB-C12-1\","
        "\"provider_ref\":\"sbx_ch_abc\",\"amount_cents\":2500,\"currency\":\"USD\"}}",
        NULL,
    };
    char sig[65];
    for (int i = 0; bodies[i]; i++) {
        pay_sandbox_sign(bodies[i], strlen(bodies[i]), sig);
        struct resp *r = post_sandbox(bodies[i], sig);
        cr_assert_eq(r->status, 400, "body %d: %s", i, r->body);
        resp_free(r);
    }
}

Test(webhooks, flutterwave_verif_hash)
{
    struct pay_charge c = {.amount_cents = 1230, .currency = "NGN", .reference = "GB-C20-1", .token = "flw-t1"};
    struct pay_result res;
    cr_assert_eq(pay_provider("flutterwave")->charge(&c, &res), 0);
    char *body = fakeflw_webhook_body("GB-C20-1");
    cr_assert_not_null(body);
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)fakeflw_tx_id("GB-C20-1"));

    struct resp *r = post_hook("flutterwave", body, "verif-hash: " FAKEFLW_WEBHOOK_HASH);
    cr_assert_eq(r->status, 200, "%s", r->body);
    char want[64];
    snprintf(want, sizeof want, "charge.completed:%s", id);
    cr_assert_str_eq(field(r, "event_id"), want);
    cr_assert_str_eq(field(r, "type"), "charge.succeeded");
    cr_assert_str_eq(field(r, "reference"), "GB-C20-1");
    cr_assert_str_eq(field(r, "provider_ref"), id);
    cr_assert_eq(field_int(r, "status"), PAY_SUCCEEDED);
    cr_assert_eq(field_int(r, "amount_cents"), 1230);
    cr_assert_str_eq(field(r, "currency"), "NGN");
    resp_free(r);

    r = post_hook("flutterwave", body, "verif-hash: wrong-hash");
    cr_assert_eq(r->status, 400);
    resp_free(r);
    r = post_hook("flutterwave", body, NULL);
    cr_assert_eq(r->status, 400);
    resp_free(r);
    unsetenv("ATRIUM_FLUTTERWAVE_WEBHOOK_HASH");
    r = post_hook("flutterwave", body, "verif-hash: " FAKEFLW_WEBHOOK_HASH);
    cr_assert_eq(r->status, 400, "no configured hash: refuse all");
    resp_free(r);
    free(body);
}

Test(webhooks, flutterwave_failed_and_other_events)
{
    struct pay_charge c = {.amount_cents = 500, .currency = "NGN", .reference = "GB-C21-1", .token = "flw-t1"};
    struct pay_result res;
    fakeflw_next_charge("failed");
    cr_assert_eq(pay_provider("flutterwave")->charge(&c, &res), 0);
    char *body = fakeflw_webhook_body("GB-C21-1");
    struct resp *r = post_hook("flutterwave", body, "verif-hash: " FAKEFLW_WEBHOOK_HASH);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(field(r, "type"), "charge.failed");
    cr_assert_eq(field_int(r, "status"), PAY_DECLINED);
    resp_free(r);
    free(body);

    const char *other = "{\"event\":\"transfer.completed\",\"data\":{\"id\":77,\"status\":\"SUCCESSFUL\"}}";
    r = post_hook("flutterwave", other, "verif-hash: " FAKEFLW_WEBHOOK_HASH);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(field(r, "type"), "transfer.completed");
    cr_assert_str_eq(field(r, "event_id"), "transfer.completed:77");
    cr_assert_eq(field_int(r, "status"), PAY_PENDING);
    resp_free(r);

    r = post_hook("flutterwave", "{\"event\":\"charge.completed\"}", "verif-hash: " FAKEFLW_WEBHOOK_HASH);
    cr_assert_eq(r->status, 400, "no data");
    resp_free(r);
}

/* ---------------------------------------------------------- flutterwave */

static void fake_start(void)
{
    fakeflw_start();
}

TestSuite(flutterwave, .init = fake_start, .fini = fakeflw_stop);

static const struct pay_provider *flw(void)
{
    const struct pay_provider *p = pay_provider("flutterwave");
    cr_assert(p, "configured by fakeflw_start");
    return p;
}

static int flw_charge(const char *reference, int64_t cents, struct pay_result *out)
{
    struct pay_charge c = {.amount_cents = cents, .currency = "NGN", .reference = reference, .token = "flw-t1nf-x",
                           .email = "trader@example.com"};
    return flw()->charge(&c, out);
}

Test(flutterwave, charge_outcomes)
{
    struct pay_result r;
    char id[32];
    cr_assert_eq(flw_charge("GB-C1-1", 2500, &r), 0);
    cr_assert_eq(r.status, PAY_SUCCEEDED, "%s", r.message);
    snprintf(id, sizeof id, "%lld", (long long)fakeflw_tx_id("GB-C1-1"));
    cr_assert_str_eq(r.provider_ref, id);
    cr_assert_str_eq(r.provider_ref, "1001");
    cr_assert_str_eq(r.reference, "GB-C1-1");
    cr_assert_eq(r.amount_cents, 2500);
    cr_assert_str_eq(r.currency, "NGN");

    fakeflw_next_charge("pending");
    cr_assert_eq(flw_charge("GB-C2-1", 2500, &r), 0);
    cr_assert_eq(r.status, PAY_PENDING);
    cr_assert_str_eq(r.provider_ref, "1002");

    fakeflw_next_charge("failed");
    cr_assert_eq(flw_charge("GB-C3-1", 2500, &r), 0);
    cr_assert_eq(r.status, PAY_DECLINED);
    cr_assert_str_eq(r.message, "Declined");

    fakeflw_next_charge("error500");
    cr_assert_eq(flw_charge("GB-C4-1", 2500, &r), -1);
    cr_assert_eq(r.status, PAY_ERROR);
    cr_assert(strstr(r.message, "500"), "%s", r.message);
    cr_assert_eq(fakeflw_tx_id("GB-C4-1"), 0);
    cr_assert_eq(flw_charge("GB-C4-1", 2500, &r), 0, "the retry with the same reference goes through");
    cr_assert_eq(r.status, PAY_SUCCEEDED);
    cr_assert_eq(fakeflw_count("charge"), 5);
}

Test(flutterwave, wrong_key_is_declined)
{
    struct pay_result r;
    setenv("ATRIUM_FLUTTERWAVE_SECRET_KEY", "FLWSECK_TEST-wrong", 1);
    cr_assert_eq(flw_charge("GB-C1-1", 2500, &r), 0);
    cr_assert_eq(r.status, PAY_DECLINED);
    cr_assert_str_eq(r.message, "Invalid authorization key");
    cr_assert_eq(fakeflw_count("charge"), 1);
    cr_assert_eq(fakeflw_tx_id("GB-C1-1"), 0);
    cr_assert_eq(flw()->verify(NULL, "GB-C1-1", &r), 0);
    cr_assert_eq(r.status, PAY_DECLINED);
}

Test(flutterwave, verify_by_id_and_by_reference)
{
    struct pay_result r, v;
    fakeflw_next_charge("pending");
    cr_assert_eq(flw_charge("GB-C7-1", 4999, &r), 0);
    cr_assert_eq(r.status, PAY_PENDING);

    cr_assert_eq(flw()->verify(r.provider_ref, NULL, &v), 0);
    cr_assert_eq(v.status, PAY_PENDING);
    fakeflw_set_status("GB-C7-1", "successful");
    cr_assert_eq(flw()->verify(r.provider_ref, NULL, &v), 0);
    cr_assert_eq(v.status, PAY_SUCCEEDED);
    cr_assert_str_eq(v.provider_ref, r.provider_ref);
    cr_assert_str_eq(v.reference, "GB-C7-1");
    cr_assert_eq(v.amount_cents, 4999);
    cr_assert_str_eq(v.currency, "NGN");

    memset(&v, 0, sizeof v);
    cr_assert_eq(flw()->verify(NULL, "GB-C7-1", &v), 0);
    cr_assert_eq(v.status, PAY_SUCCEEDED);
    cr_assert_str_eq(v.provider_ref, r.provider_ref);
    cr_assert_eq(v.amount_cents, 4999);

    fakeflw_set_status("GB-C7-1", "failed");
    cr_assert_eq(flw()->verify("", "GB-C7-1", &v), 0);
    cr_assert_eq(v.status, PAY_DECLINED);

    cr_assert_eq(flw()->verify(NULL, "GB-none-1", &v), 0);
    cr_assert_eq(v.status, PAY_DECLINED, "unknown reference");
    cr_assert_eq(flw()->verify("999999", NULL, &v), 0);
    cr_assert_eq(v.status, PAY_DECLINED, "unknown id");
    cr_assert_eq(fakeflw_count("verify"), 6);

    /* a reference that needs escaping, and an id that is not one */
    cr_assert_eq(flw_charge("GB C8&x=1", 100, &r), 0);
    cr_assert_eq(flw()->verify("../1001", "GB C8&x=1", &v), 0);
    cr_assert_eq(v.status, PAY_SUCCEEDED, "%s", v.message);
    cr_assert_str_eq(v.reference, "GB C8&x=1");
}

Test(flutterwave, refund_mapping)
{
    struct pay_result ch, r;
    cr_assert_eq(flw_charge("GB-C1-1", 10000, &ch), 0);
    cr_assert_eq(flw()->refund(ch.provider_ref, 1000, "NGN", "GB-R1-1", &r), 0);
    cr_assert_eq(r.status, PAY_SUCCEEDED, "%s", r.message);
    cr_assert_str_eq(r.provider_ref, "5001");
    cr_assert_eq(r.amount_cents, 1000);

    fakeflw_next_refund("pending");
    cr_assert_eq(flw()->refund(ch.provider_ref, 1000, "NGN", "GB-R1-2", &r), 0);
    cr_assert_eq(r.status, PAY_PENDING);
    fakeflw_next_refund("failed");
    cr_assert_eq(flw()->refund(ch.provider_ref, 1000, "NGN", "GB-R1-3", &r), 0);
    cr_assert_eq(r.status, PAY_DECLINED);
    fakeflw_next_refund("error500");
    cr_assert_eq(flw()->refund(ch.provider_ref, 1000, "NGN", "GB-R1-4", &r), -1);
    cr_assert_eq(r.status, PAY_ERROR);

    /* 2000 of 10000 refunded so far (the failed one does not count) */
    cr_assert_eq(flw()->refund(ch.provider_ref, 8001, "NGN", "GB-R1-5", &r), 0);
    cr_assert_eq(r.status, PAY_DECLINED, "more than is left");
    cr_assert_eq(flw()->refund(ch.provider_ref, 8000, "NGN", "GB-R1-6", &r), 0);
    cr_assert_eq(r.status, PAY_SUCCEEDED);

    cr_assert_eq(flw()->refund("sbx_ch_abc", 100, "NGN", "GB-R1-7", &r), 0);
    cr_assert_eq(r.status, PAY_DECLINED, "not a Flutterwave id: never sent");
    cr_assert_eq(fakeflw_count("refund"), 6);
}

Test(flutterwave, amounts_are_exact)
{
    static const int64_t cents[] = {1, 1230, 1999, 123456789, 100000001};
    struct pay_result r, v;
    for (size_t i = 0; i < sizeof cents / sizeof *cents; i++) {
        char ref[32];
        snprintf(ref, sizeof ref, "GB-A%zu-1", i);
        cr_assert_eq(flw_charge(ref, cents[i], &r), 0);
        cr_assert_eq(r.amount_cents, cents[i]);
        cr_assert_eq(flw()->verify(r.provider_ref, NULL, &v), 0);
        cr_assert_eq(v.amount_cents, cents[i], "verify of %lld", (long long)cents[i]);
        cr_assert_eq(flw()->refund(r.provider_ref, cents[i], "NGN", ref, &v), 0);
        cr_assert_eq(v.status, PAY_SUCCEEDED);
        cr_assert_eq(v.amount_cents, cents[i], "refund of %lld", (long long)cents[i]);
    }
}

Test(flutterwave, unreachable_provider_is_a_retryable_error)
{
    struct pay_result r;
    setenv("ATRIUM_FLUTTERWAVE_BASE_URL", "http://127.0.0.1:1/", 1);
    cr_assert_eq(flw_charge("GB-C1-1", 2500, &r), -1);
    cr_assert_eq(r.status, PAY_ERROR);
    cr_assert(strstr(r.message, "flutterwave:"), "%s", r.message);
    cr_assert_eq(flw()->refund("1001", 100, "NGN", "GB-R1-1", &r), -1);
    cr_assert_eq(r.status, PAY_ERROR);
    cr_assert_eq(flw()->verify("1001", NULL, &r), -1);
    cr_assert_eq(r.status, PAY_ERROR);
}

/* ---------------------------------------------------------------- httpc */

Test(httpc, unreachable_port_fails_with_a_message)
{
    long status = -5;
    char *resp = (char *)"untouched", err[256];
    cr_assert_eq(httpc_request("GET", "http://127.0.0.1:1/", NULL, NULL, 5, &status, &resp, err, sizeof err), -1);
    cr_assert_null(resp);
    cr_assert_eq(status, 0);
    cr_assert(err[0], "a message");
}

Test(httpc, only_http_and_https)
{
    long status;
    char *resp, err[256];
    cr_assert_eq(httpc_request("GET", "file:///etc/passwd", NULL, NULL, 5, &status, &resp, err, sizeof err), -1);
    cr_assert(err[0]);
    cr_assert_null(resp);
}

Test(httpc, answers_any_status_with_the_body)
{
    long status;
    char *resp, err[256];
    char url[128];
    snprintf(url, sizeof url, "%s/v3/nothing", fakeflw_start());
    cr_assert_eq(httpc_request("GET", url, NULL, NULL, 5, &status, &resp, err, sizeof err), 0, "%s", err);
    cr_assert_eq(status, 404);
    cr_assert(strstr(resp, "Not found"), "%s", resp);
    free(resp);
    snprintf(url, sizeof url, "%s/v3/tokenized-charges", fakeflw_start());
    const char *h[] = {"Authorization: Bearer " FAKEFLW_SECRET_KEY, NULL};
    cr_assert_eq(httpc_request("POST", url, h, NULL, 5, &status, &resp, err, sizeof err), 0, "%s", err);
    cr_assert_eq(status, 400, "empty body: %s", resp);
    free(resp);
    fakeflw_stop();
}
