/* Extra charges: a success of another charge for a contribution already paid
 * (a late success of an earlier attempt, or the client's charge after a
 * webhook recorded another) is recorded once, held in escrow and refunded:
 * by the webhook right after its transaction, else by the refunds job. The
 * same charge twice (same provider_ref, or the same attempt) stays
 * already_paid; a refund the provider declines backs off and is retried only
 * when due; an unknown outcome at a provider without refund dedup is never
 * resent by the job, nor one left processing; two runs at once refund each
 * once; the client racing a late webhook ends with one payment and every
 * extra charge refunded; GET /admin/ledger stays balanced with the
 * extra charges counted, and names an extra charge marked refunded without
 * its ledger row. */
#include "support/fixture.h"
#include "support/fakeflw.h"
#include "apps/groupbuy/groupbuy.h"
#include <stdlib.h>
#include <string.h>

TestSuite(groupbuy_extra_charges, .init = gb_start, .fini = gb_stop);

static struct resp *pay(int64_t c, const char *token)
{
    return api_post(pathf(GB "/contributions/%lld/pay", c), "gb_trader1", NULL, "{\"payment_token\":\"%s\"}", token);
}

static char *event(const char *id, const char *type, int64_t c, int attempt, const char *provider_ref, int64_t amount)
{
    return xasprintf("{\"id\":\"%s\",\"type\":\"%s\",\"data\":{\"reference\":\"GB-C%lld-%d\",\"provider_ref\":"
                     "\"%s\",\"amount_cents\":%lld,\"currency\":\"USD\"}}",
                     id, type, (long long)c, attempt, provider_ref, (long long)amount);
}

/* Post a signed sandbox event; its answer's status must be `want`. Frees body. */
static void expect_outcome(char *body, const char *want)
{
    struct resp *r = gb_webhook(body, false);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), want, "%s", r->body);
    resp_free(r);
    free(body);
}

/* A contribution of gb_trader1 whose first attempt failed (by webhook) and
 * whose second one is paid by the pay route. */
static int64_t paid_on_second_attempt(int64_t g, int quantity)
{
    int64_t c = gb_contribution(g, "gb_trader1", quantity);
    struct resp *r = pay(c, "tok_pending");
    cr_assert_eq(r->status, 202, "%s", r->body);
    resp_free(r);
    char id[64];
    snprintf(id, sizeof id, "evt_fail_%lld", (long long)c);
    expect_outcome(event(id, "charge.failed", c, 1, "sbx_ch_first", quantity * 2500), "payment_failed");
    r = pay(c, "tok_success");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "payment_status"), "paid");
    cr_assert_str_eq(jstr(r->json, "payment_reference"), pathf("GB-C%lld-2", c));
    resp_free(r);
    return c;
}

/* The text `sql` gives for id must be want (freed). */
static void expect_text(const char *sql, int64_t id, char *want)
{
    char *got = db_text(test_db(), sql, DB_I(id));
    cr_assert_str_eq(got ? got : "(none)", want, "%s", sql);
    free(got);
    free(want);
}

/* The column "e" of every row, joined with ", " (no group_concat on PostgreSQL). */
static void expect_rows(const char *sql, int64_t id, char *want)
{
    json_t *rows = db_json_all(test_db(), sql, DB_I(id)), *row;
    char got[1024] = "";
    size_t i, n = 0;
    cr_assert(rows, "%s", sql);
    json_array_foreach (rows, i, row)
        n += (size_t)snprintf(got + n, sizeof got - n, "%s%s", i ? ", " : "", jstr(row, "e"));
    cr_assert_str_eq(got, want, "%s", sql);
    json_decref(rows);
    free(want);
}

#define EXTRAS(c) test_scalar("SELECT COUNT(*) FROM groupbuy_extra_charges WHERE contribution_id = $1", c)
#define LEDGER_ROWS(c, type) test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE contribution_id = $1 AND " \
                                       "entry_type = '" type "'", c)
#define AUDITS(action, id) test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = '" action "' AND target_id = $1", id)

/* "status attempts last_error" of the contribution's extra charge starts with prefix. */
static void expect_state(int64_t c, const char *prefix)
{
    char *s = db_text(test_db(), "SELECT status || ' ' || attempts || ' ' || COALESCE(last_error, '-') FROM "
                                 "groupbuy_extra_charges WHERE contribution_id = $1", DB_I(c));
    cr_assert(s && !strncmp(s, prefix, strlen(prefix)), "extra charge of %lld: %s, want %s...", (long long)c,
              s ? s : "(none)", prefix);
    free(s);
}

/* GET /admin/ledger: balanced, with these totals. */
static void expect_ledger(int64_t paid, int64_t extra, int64_t extra_refunded)
{
    struct resp *r = api_get(GB "/admin/ledger", "gb_admin");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(json_is_true(json_object_get(r->json, "balanced")), "%s", r->body);
    cr_assert_eq(jint(r->json, "payments_cents"), paid, "%s", r->body);
    cr_assert_eq(jint(r->json, "extra_charges_cents"), extra, "%s", r->body);
    cr_assert_eq(jint(r->json, "extra_refunded_cents"), extra_refunded, "%s", r->body);
    cr_assert_eq(jint(r->json, "ledger_payment_cents"), paid + extra, "%s", r->body);
    cr_assert_eq(jint(r->json, "ledger_refund_cents"), jint(r->json, "refunded_cents") + extra_refunded, "%s",
                 r->body);
    resp_free(r);
}

static void expect_job(const char *want)
{
    char *result = NULL;
    cr_assert_eq(jobs_run(test_db(), "groupbuy.refunds", &result), 0, "%s", result ? result : "");
    cr_assert_str_eq(result, want);
    free(result);
}

GbTest(groupbuy_extra_charges, late_success_of_an_earlier_attempt_is_refunded_at_once)
{
    int64_t g = gb_group(1, 10, 60), c = paid_on_second_attempt(g, 2);      /* 5000 */
    expect_ledger(5000, 0, 0);
    int calls = pay_sandbox_refund_calls();
    char *late = event("evt_late", "charge.succeeded", c, 1, "sbx_ch_late", 5000);
    char *again = xasprintf("%s", late);
    expect_outcome(late, "extra_charge");
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 1, "refunded right after the webhook's transaction");

    int64_t x = test_scalar("SELECT id FROM groupbuy_extra_charges WHERE contribution_id = $1", c);
    cr_assert_eq(EXTRAS(c), 1);
    expect_text("SELECT group_id || ' ' || supplier_id || ' ' || provider || ' ' || provider_ref || ' ' || reference "
                "|| ' ' || amount_cents || ' ' || currency || ' ' || status || ' ' || attempts || ' ' || "
                "refund_reference || ' ' || CASE WHEN refunded_at IS NULL THEN 0 ELSE 1 END || ' ' || substr(refund_provider_ref, 1, 7) "
                "FROM groupbuy_extra_charges WHERE id = $1", x,
                xasprintf("%lld 1 sandbox sbx_ch_late GB-C%lld-1 5000 USD refunded 1 GB-X%lld 1 sbx_rf_", (long long)g,
                          (long long)c, (long long)x));
    /* the contribution stays paid by its own payment, counted, with no refund of its own */
    expect_text("SELECT payment_status || ' ' || paid_amount_cents || ' ' || COALESCE(refund_status, '-') || ' ' || "
                "payment_reference || ' ' || (SELECT COUNT(*) FROM groupbuy_payments WHERE contribution_id = c.id) || "
                "' ' || (SELECT COUNT(*) FROM groupbuy_refunds WHERE contribution_id = c.id) FROM "
                "groupbuy_contributions c WHERE id = $1", c, xasprintf("paid 5000 - GB-C%lld-2 1 0", (long long)c));
    /* escrow +5000 twice (the payment, the extra charge) and -5000 for the refund; the supplier untouched */
    expect_rows("SELECT account || ' ' || entry_type || ' ' || amount_cents || ' ' || CASE WHEN "
                "reference LIKE 'sbx_ch_%' AND reference <> 'sbx_ch_late' THEN 'charge' ELSE reference END AS e "
                "FROM groupbuy_ledger WHERE contribution_id = $1 ORDER BY id", c,
                xasprintf("escrow payment 5000 charge, escrow payment 5000 sbx_ch_late, escrow refund -5000 GB-X%lld",
                          (long long)x));
    cr_assert_eq(AUDITS("groupbuy.contribution.extra_charged", c), 1);
    cr_assert_eq(AUDITS("groupbuy.extra_charge.refunded", x), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.contribution.extra_charged' AND "
                           "CAST(json_extract(summary, '$.extra_charge_id') AS INTEGER) = $1 AND json_extract(summary, '$.source') = "
                           "'webhook'", x), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND kind = "
                           "'groupbuy.extra_charge.refunded'", test_user_id("gb_trader1")), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_webhook_events WHERE event_id = 'evt_late' AND outcome = "
                            "'extra_charge'"), 1);
    expect_ledger(5000, 5000, 5000);

    /* the contribution shows it to its trader */
    struct resp *r = api_get(pathf(GB "/contributions/%lld", c), "gb_trader1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *xs = json_object_get(r->json, "extra_charges");
    cr_assert_eq(json_array_size(xs), 1, "%s", r->body);
    json_t *e = json_array_get(xs, 0);
    cr_assert_eq(jint(e, "id"), x);
    cr_assert_str_eq(jstr(e, "provider"), "sandbox");
    cr_assert_str_eq(jstr(e, "provider_ref"), "sbx_ch_late");
    cr_assert_eq(jint(e, "amount_cents"), 5000);
    cr_assert_str_eq(jstr(e, "status"), "refunded");
    cr_assert_str_eq(jstr(e, "refund_reference"), pathf("GB-X%lld", x));
    resp_free(r);
    resp_check(api_get(pathf(GB "/contributions/%lld", c), "gb_trader2"), 404, "not_found");

    /* the same event again, and another event for the same extra charge: nothing new */
    expect_outcome(again, "duplicate");
    expect_outcome(event("evt_late_resent", "charge.succeeded", c, 1, "sbx_ch_late", 5000), "already_paid");
    cr_assert_eq(EXTRAS(c), 1);
    cr_assert_eq(LEDGER_ROWS(c, "payment"), 2);
    cr_assert_eq(LEDGER_ROWS(c, "refund"), 1);
    cr_assert_eq(AUDITS("groupbuy.contribution.extra_charged", c), 1);
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 1);
    expect_job("refunded 0, failed 0, skipped 0");
    expect_ledger(5000, 5000, 5000);
}

GbTest(groupbuy_extra_charges, the_same_charge_twice_stays_already_paid)
{
    int64_t g = gb_group(1, 10, 60), c = gb_contribution(g, "gb_trader1", 1);
    struct resp *r = pay(c, "tok_success");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(json_array_size(json_object_get(r->json, "extra_charges")), 0, "%s", r->body);
    resp_free(r);
    char *charge = db_text(test_db(), "SELECT provider_ref FROM groupbuy_payments WHERE contribution_id = $1", DB_I(c));
    cr_assert(charge && !strncmp(charge, "sbx_ch_", 7));
    /* the provider's webhook for the charge the client confirmed */
    expect_outcome(event("evt_same", "charge.succeeded", c, 1, charge, 2500), "already_paid");
    expect_outcome(event("evt_same_again", "charge.succeeded", c, 1, charge, 2500), "already_paid");
    /* another report of the same attempt, or of the same charge id under another reference */
    expect_outcome(event("evt_same_attempt", "charge.succeeded", c, 1, "sbx_ch_other_id", 2500), "already_paid");
    struct groupbuy_payment p = {"sandbox", charge, pathf("GB-C%lld-7", c), 2500, "USD", "job"};
    cr_assert_eq(groupbuy_payment_apply(test_db(), c, &p, 0), 0);
    cr_assert_eq(EXTRAS(c), 0);
    cr_assert_eq(LEDGER_ROWS(c, "payment"), 1);
    cr_assert_eq(AUDITS("groupbuy.contribution.extra_charged", c), 0);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_payments WHERE contribution_id = $1", c), 1);
    expect_ledger(2500, 0, 0);
    free(charge);
}

GbTest(groupbuy_extra_charges, any_amount_is_recorded_and_returned_by_the_job)
{
    int64_t g = gb_group(1, 10, 60), c = gb_paid(g, "gb_trader1", 1);      /* 2500 */
    struct groupbuy_payment odd = {"sandbox", "sbx_ch_odd", pathf("GB-C%lld-2", c), 1234, "EUR", "client"};
    struct groupbuy_payment none = {"sandbox", "sbx_ch_none", pathf("GB-C%lld-3", c), 0, "USD", "client"};
    cr_assert_eq(groupbuy_payment_apply(test_db(), c, &none, 0), -2, "nothing was charged");
    cr_assert_eq(groupbuy_payment_apply(test_db(), c, &odd, test_user_id("gb_trader1")), 2);
    cr_assert_eq(groupbuy_payment_apply(test_db(), c, &odd, test_user_id("gb_trader1")), 0, "recorded once");
    cr_assert_eq(EXTRAS(c), 1);
    expect_state(c, "pending 0 -");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_extra_charges WHERE contribution_id = $1 AND amount_cents = "
                           "1234 AND currency = 'EUR' AND refund_reference = 'GB-X' || id", c), 1);
    cr_assert_eq(AUDITS("groupbuy.contribution.extra_charged", c), 1);
    cr_assert_eq(test_scalar("SELECT user_id FROM audit_log WHERE action = 'groupbuy.contribution.extra_charged' AND "
                           "target_id = $1", c), test_user_id("gb_trader1"));
    expect_ledger(2500, 1234, 0);           /* held in escrow until refunded */
    /* marked refunded without its ledger row: the report names it */
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_extra_charges SET status = 'refunded' WHERE contribution_id = $1",
                         DB_I(c)), 1);
    json_t *rep = groupbuy_ledger_report(test_db());
    char *problems = json_dumps(json_object_get(rep, "problems"), JSON_COMPACT);
    cr_assert(json_is_false(json_object_get(rep, "balanced")));
    cr_assert(problems && strstr(problems, "refunded_cents 0 != ledger_refund_cents 0 - extra_refunded_cents 1234"),
              "%s", problems);
    free(problems);
    json_decref(rep);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_extra_charges SET status = 'pending' WHERE contribution_id = $1",
                         DB_I(c)), 1);
    int calls = pay_sandbox_refund_calls();
    expect_job("refunded 1, failed 0, skipped 0");
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 1);
    expect_state(c, "refunded 1 -");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE contribution_id = $1 AND entry_type = 'refund' "
                           "AND amount_cents = -1234 AND currency = 'EUR'", c), 1);
    expect_ledger(2500, 1234, 1234);
    expect_job("refunded 0, failed 0, skipped 0");
}

GbTest(groupbuy_extra_charges, declined_refund_is_retried_only_when_due)
{
    int64_t g = gb_group(1, 10, 60), c = gb_paid(g, "gb_trader1", 1);      /* 2500 */
    int calls = pay_sandbox_refund_calls();
    expect_outcome(event("evt_rf", "charge.succeeded", c, 2, "sbx_chrf_late", 2500), "extra_charge");
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 1);
    int64_t x = test_scalar("SELECT id FROM groupbuy_extra_charges WHERE contribution_id = $1", c);
    expect_state(c, "failed 1 provider declined: refund declined");
    int64_t next = test_scalar("SELECT next_attempt_at FROM groupbuy_extra_charges WHERE id = $1", x);
    cr_assert(next > (int64_t)time(NULL), "backs off");
    cr_assert_eq(AUDITS("groupbuy.extra_charge.failed", x), 1);
    cr_assert_eq(test_scalar("SELECT refund_status IS NULL FROM groupbuy_contributions WHERE id = $1", c), 1,
                 "the contribution's own refund status is not touched");
    expect_ledger(2500, 2500, 0);

    expect_job("refunded 0, failed 0, skipped 0");
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 1, "not due yet");
    struct groupbuy_refund_run run;
    cr_assert_eq(groupbuy_refunds_process(test_db(), g, GB_REFUNDS_PENDING, &run), 0);
    cr_assert_eq(run.refunded + run.failed + run.skipped, 0, "a fresh-only run leaves failed ones alone");
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_extra_charges SET next_attempt_at = 0 WHERE id = $1", DB_I(x)), 1);
    expect_job("refunded 0, failed 1, skipped 0");
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 2);
    expect_state(c, "failed 2 provider declined");
    cr_assert_eq(AUDITS("groupbuy.extra_charge.failed", x), 2);
    cr_assert(test_scalar("SELECT next_attempt_at FROM groupbuy_extra_charges WHERE id = $1", x) > next, "longer backoff");
    cr_assert_eq(LEDGER_ROWS(c, "refund"), 0);
    expect_ledger(2500, 2500, 0);
    /* one whose run died during the provider call is reported, never resent */
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_extra_charges SET status = 'processing', next_attempt_at = 0, "
                                    "claimed_at = $2 WHERE id = $1", DB_I(x), DB_I((int64_t)time(NULL) - 16 * 60)), 1);
    expect_job("refunded 0, failed 0, skipped 0, 1 stuck in processing");
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 2);
}

static void process_direct(int i, void *arg)
{
    struct groupbuy_refund_run *out = arg;
    if (groupbuy_refunds_process(db_thread(), 0, GB_REFUNDS_ALL, &out[i]) < 0) out[i].failed = 100;
}

GbTest(groupbuy_extra_charges, overlapping_runs_refund_each_extra_charge_once)
{
    int64_t g = gb_group(1, 10, 60);
    for (int i = 0; i < 4; i++) {
        int64_t c = gb_paid(g, "gb_trader2", 1);
        struct groupbuy_payment p = {"sandbox", pathf("sbx_ch_extra%lld", c), pathf("GB-C%lld-2", c), 2500, "USD",
                                     "webhook"};
        cr_assert_eq(groupbuy_payment_apply(test_db(), c, &p, 0), 2);
    }
    int calls = pay_sandbox_refund_calls();
    struct groupbuy_refund_run runs[2];
    run_concurrently(2, process_direct, runs);
    cr_assert_eq(runs[0].refunded + runs[1].refunded, 4);
    cr_assert_eq(runs[0].failed + runs[1].failed, 0);
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 4, "one provider call per extra charge");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_extra_charges x WHERE group_id = $1 AND status = 'refunded' "
                           "AND attempts = 1 AND (SELECT COUNT(*) FROM groupbuy_ledger l WHERE l.reference = "
                           "x.refund_reference AND l.entry_type = 'refund') = 1", g), 4);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.extra_charge.refunded' AND "
                           "CAST(json_extract(summary, '$.group_id') AS INTEGER) = $1", g), 4);
    expect_ledger(10000, 10000, 10000);
}

/* Flutterwave does not deduplicate refunds: a lost answer leaves the extra
 * charge failed with its attempts used up; only an admin's run resends it. */
GbTest(groupbuy_extra_charges, unknown_outcome_without_provider_dedup_is_not_resent_by_the_job)
{
    fakeflw_start();
    int64_t g = gb_group(1, 10, 60), c = gb_paid(g, "gb_trader1", 2);      /* 5000 by the sandbox */
    const struct pay_provider *flw = pay_provider("flutterwave");
    cr_assert(flw);
    struct pay_charge ch = {5000, "USD", pathf("GB-C%lld-2", c), "flw-tok", NULL};
    struct pay_result res;
    cr_assert_eq(flw->charge(&ch, &res), 0);
    cr_assert_eq(res.status, PAY_SUCCEEDED);
    struct groupbuy_payment p = {"flutterwave", res.provider_ref, ch.reference, 5000, "USD", "webhook"};
    cr_assert_eq(groupbuy_payment_apply(test_db(), c, &p, 0), 2, "another provider's charge");
    fakeflw_next_refund("error500");
    struct groupbuy_refund_run run;
    cr_assert_eq(groupbuy_refunds_process(test_db(), g, GB_REFUNDS_PENDING, &run), 0);
    cr_assert_eq(run.failed, 1);
    expect_state(c, "failed 8 outcome unknown");
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_extra_charges SET next_attempt_at = 0 WHERE contribution_id = $1",
                         DB_I(c)), 1);
    expect_job("refunded 0, failed 0, skipped 0");
    cr_assert_eq(fakeflw_count("refund"), 1, "the job never resends an unknown outcome");
    cr_assert_eq(groupbuy_refunds_process(test_db(), g, GB_REFUNDS_ALL, &run), 0);
    cr_assert_eq(run.refunded, 1);
    cr_assert_eq(fakeflw_count("refund"), 2);
    expect_state(c, "refunded 9");
    cr_assert_eq(LEDGER_ROWS(c, "refund"), 1);
    expect_ledger(5000, 5000, 5000);
}

/* ------------------------------------------------------------------- race */

/* The client pays a second attempt while the first one's late success
 * arrives: whoever is first is the payment; the other charge, if there was
 * one, is an extra charge, refunded at once (webhook) or by the job (client). */
GbTest(groupbuy_extra_charges, client_racing_a_late_success_keeps_one_payment)
{
    int64_t g = gb_group(2, 20, 60);
    char *token = test_token("gb_trader1");
    int outcomes[3] = {0};              /* client refused, client's charge extra, webhook's charge extra */
    for (int round = 0; round < 10; round++) {
        int64_t c = gb_contribution(g, "gb_trader1", 2);        /* 2 x 1500 */
        struct resp *r = pay(c, "tok_pending");
        cr_assert_eq(r->status, 202, "%s", r->body);
        resp_free(r);
        char id[32];
        snprintf(id, sizeof id, "evt_fail_%d", round);
        expect_outcome(event(id, "charge.failed", c, 1, "sbx_ch_first", 3000), "payment_failed");
        snprintf(id, sizeof id, "evt_late_%d", round);
        char ref[32];
        snprintf(ref, sizeof ref, "sbx_ch_late_%d", round);
        char *late = event(id, "charge.succeeded", c, 1, ref, 3000);
        struct gb_race rc = {.pay_path = pathf(GB "/contributions/%lld/pay", c), .token = token, .webhook = late,
                             .delay_us = round * 700};
        gb_race_pay_webhook(&rc);
        free(late);
        cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_payments WHERE contribution_id = $1", c), 1);
        cr_assert_eq(test_scalar("SELECT paid_amount_cents FROM groupbuy_contributions WHERE id = $1 AND payment_status "
                               "= 'paid'", c), 3000);
        if (rc.pay_status == 409) {
            cr_assert_str_eq(rc.outcome, "applied", "round %d", round);
            cr_assert_eq(EXTRAS(c), 0, "round %d: the client was refused before any charge", round);
            outcomes[0]++;
        } else if (!strcmp(rc.outcome, "applied")) {
            cr_assert_eq(rc.pay_status, 200, "round %d", round);
            expect_state(c, "pending 0");
            cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_extra_charges WHERE contribution_id = $1 AND "
                                   "reference = 'GB-C' || $1 || '-2'", c), 1);
            outcomes[1]++;
        } else {
            cr_assert_eq(rc.pay_status, 200, "round %d", round);
            cr_assert_str_eq(rc.outcome, "extra_charge", "round %d", round);
            expect_state(c, "refunded 1");
            outcomes[2]++;
        }
        gb_ledger_ok();
    }
    /* a client's extra charge may already have gone with a later round's webhook run */
    char *result = NULL;
    cr_assert_eq(jobs_run(test_db(), "groupbuy.refunds", &result), 0, "%s", result ? result : "");
    free(result);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_extra_charges WHERE group_id = $1 AND status <> 'refunded'",
                           g), 0);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_extra_charges WHERE group_id = $1", g),
                 outcomes[1] + outcomes[2]);
    cr_log_info("client refused %d, client's charge extra %d, webhook's charge extra %d", outcomes[0], outcomes[1],
                outcomes[2]);
    free(token);
}
