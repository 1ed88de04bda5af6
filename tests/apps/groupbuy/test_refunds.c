/* Refunds: request + run (pending -> processing -> refunded | failed); a
 * declined refund fails with backoff and the job retries it only when due,
 * until its attempts run out (an admin's run still retries); a flaky provider
 * succeeds on the retry; two refund runs at once refund each contribution once
 * (over HTTP and directly); a refund after acceptance debits the supplier;
 * stuck refunds are reported, never retried; the admin routes' roles, bodies,
 * states and list filters. */
#include "support/fixture.h"
#include "apps/groupbuy/groupbuy.h"
#include "support/fakeflw.h"
#include <stdlib.h>
#include <string.h>

TestSuite(groupbuy_refunds, .init = gb_start, .fini = gb_stop);

/* A past-deadline group of product 1 (MOQ 10) failed by the fail step:
 * refunds are requested for whatever was paid before. */
static void fail_group(int64_t g)
{
    char why[128];
    cr_assert_eq(groupbuy_group_fail(test_db(), g, 0, why, sizeof why), 1, "%s", why);
}

static struct groupbuy_refund_run run_refunds(int64_t g, enum groupbuy_refund_mode mode)
{
    struct groupbuy_refund_run run;
    cr_assert_eq(groupbuy_refunds_process(test_db(), g, mode, &run), 0);
    return run;
}

static char *refund_job(void)
{
    char *result = NULL;
    cr_assert_eq(jobs_run(test_db(), "groupbuy.refunds", &result), 0, "%s", result ? result : "");
    return result;
}

static void expect_job(const char *want)
{
    char *result = refund_job();
    cr_assert_str_eq(result, want);
    free(result);
}

static int64_t refund_of(int64_t contribution)
{
    return test_scalar("SELECT id FROM groupbuy_refunds WHERE contribution_id = $1", contribution);
}

static void make_due(int64_t contribution)
{
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_refunds SET next_attempt_at = 0 WHERE contribution_id = $1",
                         DB_I(contribution)), 1);
}

GbTest(groupbuy_refunds, request_then_run)
{
    int64_t g = gb_group(1, 10, -5);
    int64_t a = gb_paid(g, "gb_trader1", 2), b = gb_paid(g, "gb_trader2", 3);
    int64_t unpaid = gb_contribution(g, "gb_trader3", 1);
    fail_group(g);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_refunds WHERE group_id = $1 AND status = 'pending' AND "
                           "attempts = 0 AND reason = 'MOQ not met: 5 of 10' AND provider = 'sandbox'", g), 2);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_refunds WHERE contribution_id = $1 AND amount_cents = 5000 "
                           "AND charge_ref = 'sbx_ch_fixture' || $1 AND reference = 'GB-R' || $1", a), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE group_id = $1 AND refund_status = "
                           "'pending'", g), 2);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_refunds WHERE contribution_id = $1", unpaid), 0);
    cr_assert_eq(db_begin(test_db()), 0);
    cr_assert_eq(groupbuy_refunds_request(test_db(), g, 0, "again", 0), 0, "one refund per contribution, ever");
    cr_assert_eq(db_commit(test_db()), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.refund.requested'"), 1);

    int calls = pay_sandbox_refund_calls();
    struct groupbuy_refund_run run = run_refunds(g, GB_REFUNDS_PENDING);
    cr_assert_eq(run.refunded, 2);
    cr_assert_eq(run.failed + run.skipped, 0);
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 2);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_refunds WHERE group_id = $1 AND status = 'refunded' AND "
                           "attempts = 1 AND provider_ref LIKE 'sbx_rf_%' AND refunded_at IS NOT NULL AND "
                           "last_error IS NULL", g), 2);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE id = $1 AND refund_status = 'refunded' "
                           "AND refunded_at IS NOT NULL", b), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE contribution_id = $1 AND entry_type = 'refund' "
                           "AND account = 'escrow' AND amount_cents = -7500 AND reference = 'GB-R' || $1", b), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE group_id = $1 AND entry_type IN "
                           "('refund_debit', 'escrow_return')", g), 0, "the supplier was never credited");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.refund.refunded'"), 2);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM notifications WHERE kind = 'groupbuy.refund.refunded' AND user_id = "
                           "(SELECT trader_id FROM groupbuy_contributions WHERE id = $1)", a), 1);

    run = run_refunds(0, GB_REFUNDS_ALL);
    cr_assert_eq(run.refunded + run.failed + run.skipped, 0, "nothing left to do");
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 2);
}

GbTest(groupbuy_refunds, declined_refunds_back_off_until_attempts_run_out)
{
    int64_t g = gb_group(1, 10, -5);
    int64_t bad = gb_paid_ref(g, "gb_trader1", 1, "sbx_chrf_decl1");
    gb_paid(g, "gb_trader2", 1);
    fail_group(g);
    int calls = pay_sandbox_refund_calls();
    struct groupbuy_refund_run run = run_refunds(g, GB_REFUNDS_PENDING);
    cr_assert_eq(run.refunded, 1);
    cr_assert_eq(run.failed, 1);
    int64_t now = time(NULL), rid = refund_of(bad);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_refunds WHERE id = $1 AND status = 'failed' AND attempts = 1 "
                           "AND last_error LIKE 'provider declined: %'", rid), 1);
    int64_t next = test_scalar("SELECT next_attempt_at FROM groupbuy_refunds WHERE id = $1", rid);
    cr_assert(next >= now + 50 && next <= now + 70, "first backoff is a minute: %lld", (long long)(next - now));
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE id = $1 AND refund_status = 'failed'", bad),
                 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.refund.failed' AND target_id = $1",
                           rid), 1);

    expect_job("refunded 0, failed 0, skipped 0");     /* not due yet */
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 2);
    make_due(bad);
    expect_job("refunded 0, failed 1, skipped 0");
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 3);
    now = time(NULL);
    next = test_scalar("SELECT next_attempt_at FROM groupbuy_refunds WHERE id = $1 AND attempts = 2", rid);
    cr_assert(next >= now + 110 && next <= now + 130, "doubles: %lld", (long long)(next - now));

    /* the last attempt the job makes, then it stops */
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_refunds SET attempts = 7, next_attempt_at = 0 WHERE id = $1",
                         DB_I(rid)), 1);
    expect_job("refunded 0, failed 1, skipped 0");
    now = time(NULL);
    next = test_scalar("SELECT next_attempt_at FROM groupbuy_refunds WHERE id = $1 AND attempts = 8", rid);
    cr_assert(next >= now + 7670 && next <= now + 7690, "60 * 2^7: %lld", (long long)(next - now));
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.refund.failed' AND target_id = $1 "
                           "AND CAST(json_extract(summary, '$.final') AS TEXT) IN ('1', 'true')", rid), 1);
    make_due(bad);
    int before = pay_sandbox_refund_calls();
    expect_job("refunded 0, failed 0, skipped 0");
    cr_assert_eq(pay_sandbox_refund_calls(), before, "no attempts left: the job leaves it");

    /* an admin's run still tries; the backoff is capped at six hours */
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_refunds SET attempts = 11 WHERE id = $1", DB_I(rid)), 1);
    struct resp *r = api_post(pathf(GB "/admin/groups/%lld/process-refunds", g), "gb_admin", "adm-1",
                             "{\"reason\":\"retry by hand\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "requested"), 0);
    cr_assert_eq(jint(r->json, "failed"), 1);
    cr_assert_eq(jint(r->json, "refunded"), 0);
    json_t *list = json_object_get(r->json, "refunds");
    cr_assert_eq(json_array_size(list), 2);
    json_t *f = json_array_get(list, 0);
    cr_assert_eq(jint(f, "id"), rid);
    cr_assert_str_eq(jstr(f, "status"), "failed");
    cr_assert(json_is_null(json_object_get(f, "next_attempt_at")), "no attempts left for the job");
    cr_assert_str_eq(jstr(json_array_get(list, 1), "status"), "refunded");
    resp_free(r);
    now = time(NULL);
    next = test_scalar("SELECT next_attempt_at FROM groupbuy_refunds WHERE id = $1 AND attempts = 12", rid);
    cr_assert(next >= now + 21590 && next <= now + 21610, "capped: %lld", (long long)(next - now));
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_groups WHERE id = $1 AND status = 'failed' AND status_reason "
                           "= 'MOQ not met: 2 of 10'", g), 1);
}

GbTest(groupbuy_refunds, flaky_provider_succeeds_on_retry)
{
    int64_t g = gb_group(1, 10, -5);
    int64_t c = gb_paid_ref(g, "gb_trader1", 2, "sbx_chfl_flaky1");
    fail_group(g);
    struct groupbuy_refund_run run = run_refunds(g, GB_REFUNDS_PENDING);
    cr_assert_eq(run.failed, 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_refunds WHERE contribution_id = $1 AND status = 'failed' AND "
                           "last_error LIKE 'provider error: %'", c), 1);
    make_due(c);
    expect_job("refunded 1, failed 0, skipped 0");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_refunds WHERE contribution_id = $1 AND status = 'refunded' "
                           "AND attempts = 2 AND last_error IS NULL", c), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE id = $1 AND refund_status = 'refunded'", c),
                 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE contribution_id = $1 AND entry_type = 'refund'", c),
                 1);
}

GbTest(groupbuy_refunds, unconfigured_provider_fails_without_a_call)
{
    int64_t g = gb_group(1, 10, -5);
    int64_t c = gb_paid(g, "gb_trader1", 1);
    fail_group(g);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_refunds SET provider = 'nowhere' WHERE contribution_id = $1",
                         DB_I(c)), 1);
    int calls = pay_sandbox_refund_calls();
    cr_assert_eq(run_refunds(g, GB_REFUNDS_PENDING).failed, 1);
    cr_assert_eq(pay_sandbox_refund_calls(), calls);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_refunds WHERE contribution_id = $1 AND status = 'failed' AND "
                           "last_error = 'provider not configured'", c), 1);
    /* back to a configured provider: the retry succeeds and the ledger reconciles */
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_refunds SET provider = 'sandbox', next_attempt_at = 0 "
                                    "WHERE contribution_id = $1", DB_I(c)), 1);
    expect_job("refunded 1, failed 0, skipped 0");
}

GbTest(groupbuy_refunds, stuck_refunds_are_reported_not_retried)
{
    int64_t g = gb_group(1, 10, -5);
    int64_t c = gb_paid(g, "gb_trader1", 1);
    fail_group(g);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_refunds SET status = 'processing', attempts = 1, claimed_at = $2 "
                                    "WHERE contribution_id = $1", DB_I(c), DB_I((int64_t)time(NULL) - 16 * 60)), 1);
    int calls = pay_sandbox_refund_calls();
    expect_job("refunded 0, failed 0, skipped 0, 1 stuck in processing");
    cr_assert_eq(run_refunds(g, GB_REFUNDS_ALL).refunded, 0);
    cr_assert_eq(pay_sandbox_refund_calls(), calls);
    /* finish it as an operator would after checking the provider, for the ledger check */
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_refunds SET status = 'failed' WHERE contribution_id = $1", DB_I(c)),
                 1);
    cr_assert_eq(run_refunds(g, GB_REFUNDS_ALL).refunded, 1);
}

/* ------------------------------------------------------------ concurrency */

struct race {
    char *token;
    int64_t group;
    int status[2], refunded[2];
};

static void process_over_http(int i, void *arg)
{
    struct race *rc = arg;
    char url[128], header[64];
    snprintf(url, sizeof url, GB "/admin/groups/%lld/process-refunds", (long long)rc->group);
    snprintf(header, sizeof header, "Idempotency-Key: race-%d", i);
    const char *headers[] = {header, NULL};
    struct resp *r = api_h("POST", url, rc->token, "{\"reason\":\"double click\"}", headers);
    rc->status[i] = r->status;
    rc->refunded[i] = (int)jint(r->json, "refunded");
    resp_free(r);
}

static void process_direct(int i, void *arg)
{
    struct race *rc = arg;
    struct groupbuy_refund_run run;
    rc->status[i] = groupbuy_refunds_process(db_thread(), rc->group, GB_REFUNDS_ALL, &run);
    rc->refunded[i] = run.refunded;
}

static void expect_each_refunded_once(int64_t g, int n, int calls)
{
    cr_assert_eq(pay_sandbox_refund_calls() - calls, n, "one provider call per contribution");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_refunds WHERE group_id = $1 AND status = 'refunded'", g), n);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions c WHERE group_id = $1 AND (SELECT COUNT(*) "
                           "FROM groupbuy_ledger l WHERE l.contribution_id = c.id AND l.entry_type = 'refund') = 1", g), n);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.refund.refunded' AND "
                           "CAST(json_extract(summary, '$.group_id') AS INTEGER) = $1", g), n);
}

GbTest(groupbuy_refunds, overlapping_runs_refund_each_contribution_once)
{
    static const char *traders[] = {"gb_trader1", "gb_trader2", "gb_trader3"};
    char why[128];
    int64_t g = gb_group(2, 10, -5);
    for (int i = 0; i < 6; i++) gb_paid(g, traders[i % 3], 2);
    cr_assert_eq(groupbuy_group_complete(test_db(), g, 0, false, why, sizeof why), 1, "%s", why);
    struct race rc = {.token = test_token("gb_admin"), .group = g};
    int calls = pay_sandbox_refund_calls();
    run_concurrently(2, process_over_http, &rc);
    cr_assert_eq(rc.status[0], 200);
    cr_assert_eq(rc.status[1], 200);
    cr_assert_eq(rc.refunded[0] + rc.refunded[1], 6);
    expect_each_refunded_once(g, 6, calls);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_groups WHERE id = $1 AND status = 'cancelled' AND "
                           "status_reason = 'double click'", g), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_supplier_orders WHERE group_id = $1 AND status = 'rejected' "
                           "AND rejection_reason = 'cancelled by admin: double click'", g), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.refund.processed' AND target_id = $1",
                           g), 2, "each run is audited");
    free(rc.token);

    /* straight into the runner, past any HTTP layer */
    int64_t f = gb_group(1, 20, -5);
    for (int i = 0; i < 6; i++) gb_paid(f, traders[i % 3], 1);
    fail_group(f);
    struct race direct = {.group = f};
    calls = pay_sandbox_refund_calls();
    run_concurrently(2, process_direct, &direct);
    cr_assert_eq(direct.status[0], 0);
    cr_assert_eq(direct.status[1], 0);
    cr_assert_eq(direct.refunded[0] + direct.refunded[1], 6);
    expect_each_refunded_once(f, 6, calls);
}

/* -------------------------------------------------- after the supplier */

GbTest(groupbuy_refunds, refund_after_acceptance_debits_the_supplier)
{
    char why[128];
    int64_t g = gb_group(1, 3, -5);
    int64_t a = gb_paid(g, "gb_trader1", 1), b = gb_paid(g, "gb_trader2", 2);
    cr_assert_eq(groupbuy_group_complete(test_db(), g, 0, false, why, sizeof why), 1, "%s", why);
    int64_t o = test_scalar("SELECT id FROM groupbuy_supplier_orders WHERE group_id = $1", g);
    cr_assert_eq(groupbuy_order_accept(test_db(), o, test_user_id("gb_sup1"), NULL), 1);
    cr_assert_eq(test_count("SELECT SUM(amount_cents) FROM groupbuy_ledger WHERE account = 'supplier'"), 7500);

    struct resp *r = api_post(pathf(GB "/admin/groups/%lld/process-refunds", g), "gb_admin", NULL,
                             "{\"reason\":\"goods spoiled\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "group_id"), g);
    cr_assert_eq(jint(r->json, "requested"), 2);
    cr_assert_eq(jint(r->json, "refunded"), 2);
    cr_assert_eq(jint(r->json, "failed"), 0);
    cr_assert_eq(jint(r->json, "skipped"), 0);
    resp_free(r);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_supplier_orders WHERE id = $1 AND status = 'accepted'", o), 1,
                 "an accepted order stays accepted");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_groups WHERE id = $1 AND status = 'cancelled' AND "
                           "status_reason = 'goods spoiled'", g), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE contribution_id = $1 AND account = 'supplier' "
                           "AND entry_type = 'refund_debit' AND amount_cents = -2500 AND order_id IS NOT NULL", a), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE contribution_id = $1 AND account = 'escrow' "
                           "AND entry_type = 'escrow_return' AND amount_cents = 5000", b), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE contribution_id = $1 AND account = 'escrow' "
                           "AND entry_type = 'refund' AND amount_cents = -5000", b), 1);
    /* the debit comes before the refund, in the refund's own transaction */
    cr_assert_eq(test_scalar("SELECT (SELECT id FROM groupbuy_ledger WHERE contribution_id = $1 AND entry_type = "
                           "'refund_debit') < (SELECT id FROM groupbuy_ledger WHERE contribution_id = $1 AND "
                           "entry_type = 'refund')", b), 1);
    cr_assert_eq(test_count("SELECT SUM(amount_cents) FROM groupbuy_ledger WHERE account = 'supplier'"), 0);
    cr_assert_eq(test_count("SELECT SUM(amount_cents) FROM groupbuy_ledger WHERE account = 'escrow'"), 0);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.refund.processed' AND target_id = $1 "
                           "AND json_extract(summary, '$.previous_status') = 'completed'", g), 1);
}

GbTest(groupbuy_refunds, late_payment_refund_never_touches_the_supplier)
{
    char why[128];
    int64_t g = gb_group(1, 2, -5);
    gb_paid(g, "gb_trader1", 2);
    int64_t late = gb_contribution(g, "gb_trader2", 1);
    cr_assert_eq(groupbuy_group_complete(test_db(), g, 0, false, why, sizeof why), 1, "%s", why);
    int64_t o = test_scalar("SELECT id FROM groupbuy_supplier_orders WHERE group_id = $1", g);
    cr_assert_eq(groupbuy_order_accept(test_db(), o, 0, NULL), 1);
    /* the cancelled contribution's payment arrives after all: refunded, not credited */
    struct groupbuy_payment p = {"sandbox", "sbx_ch_late1", "GB-C-late", 2500, "USD", "webhook"};
    cr_assert_eq(groupbuy_payment_apply(test_db(), late, &p, 0), 1);
    expect_job("refunded 1, failed 0, skipped 0");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE contribution_id = $1 AND account = 'supplier'",
                           late), 0);
    cr_assert_eq(test_count("SELECT SUM(amount_cents) FROM groupbuy_ledger WHERE account = 'supplier'"), 5000);
}

/* ---------------------------------------------------------------- admin */

GbTest(groupbuy_refunds, admin_process_refunds_guards)
{
    int64_t open = gb_group(1, 10, 60);
    gb_paid(open, "gb_trader1", 1);
    const char *url = pathf(GB "/admin/groups/%lld/process-refunds", open);
    resp_check(api_post(url, "gb_admin", NULL, "{\"reason\":\"x\"}"), 409, "invalid_state");
    resp_check(api_post(GB "/admin/groups/9999/process-refunds", "gb_admin", NULL, "{\"reason\":\"x\"}"), 404, "not_found");
    resp_check(api_post(url, "gb_admin", NULL, "{}"), 400, "validation_failed");
    resp_check(api_post(url, "gb_admin", NULL, "{\"reason\":\"  \"}"), 400, "validation_failed");
    resp_check(api_post(url, "gb_admin", NULL, "{\"reason\":\"%0501d\"}", 0), 400, "validation_failed");
    resp_check(api_post(url, "gb_admin", NULL, "{\"reason\":\"x\",\"all\":true}"), 400, "validation_failed");
    resp_check(api_post(url, "gb_sup1", NULL, "{\"reason\":\"x\"}"), 403, NULL);
    resp_check(api_post(url, "gb_staff1", NULL, "{\"reason\":\"x\"}"), 403, NULL);
    resp_check(api_post(url, "gb_trader1", NULL, "{\"reason\":\"x\"}"), 403, NULL);
    resp_check(api_post(url, NULL, NULL, "{\"reason\":\"x\"}"), 401, NULL);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_groups WHERE id = $1 AND status = 'open'", open), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_refunds"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.refund.processed'"), 0);
}

GbTest(groupbuy_refunds, refunds_list_filters)
{
    int64_t g1 = gb_group(1, 10, -5), g2 = gb_group(3, 10, -5);
    gb_paid(g1, "gb_trader1", 1);
    gb_paid(g1, "gb_trader2", 1);
    int64_t bad = gb_paid_ref(g2, "gb_trader3", 1, "sbx_chrf_list1");
    fail_group(g1);
    fail_group(g2);
    run_refunds(0, GB_REFUNDS_PENDING);

    struct resp *r = api_get(GB "/admin/refunds", "gb_admin");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "total"), 3);
    json_t *first = json_array_get(json_object_get(r->json, "items"), 0);
    cr_assert_eq(jint(first, "contribution_id"), bad, "newest first");
    cr_assert_eq(jint(first, "group_id"), g2);
    cr_assert_eq(jint(first, "trader_id"), test_user_id("gb_trader3"));
    cr_assert_eq(jint(first, "amount_cents"), 3500);
    cr_assert_str_eq(jstr(first, "currency"), "USD");
    cr_assert_str_eq(jstr(first, "provider"), "sandbox");
    cr_assert_str_eq(jstr(first, "status"), "failed");
    cr_assert_eq(jint(first, "attempts"), 1);
    cr_assert(json_is_null(json_object_get(first, "provider_ref")));
    cr_assert(json_is_null(json_object_get(first, "refunded_at")));
    cr_assert(jstr(first, "last_error") && jstr(first, "reason") && jstr(first, "created_at"));
    const char *next = jstr(first, "next_attempt_at");
    cr_assert(next && strlen(next) == 20 && next[10] == 'T' && next[19] == 'Z', "RFC 3339: %s", next ? next : "null");
    char ref[32];
    snprintf(ref, sizeof ref, "GB-R%lld", (long long)bad);
    cr_assert_str_eq(jstr(first, "reference"), ref);
    resp_free(r);

    r = api_get(pathf(GB "/admin/refunds?group_id=%lld", g1), "gb_admin");
    cr_assert_eq(jint(r->json, "total"), 2);
    json_t *it = json_array_get(json_object_get(r->json, "items"), 0);
    cr_assert_str_eq(jstr(it, "status"), "refunded");
    cr_assert(json_is_null(json_object_get(it, "next_attempt_at")));
    cr_assert(jstr(it, "provider_ref") && jstr(it, "refunded_at"));
    resp_free(r);
    r = api_get(GB "/admin/refunds?status=failed", "gb_admin");
    cr_assert_eq(jint(r->json, "total"), 1);
    resp_free(r);
    r = api_get(pathf(GB "/admin/refunds?status=refunded&group_id=%lld", g2), "gb_admin");
    cr_assert_eq(jint(r->json, "total"), 0);
    resp_free(r);
    r = api_get(GB "/admin/refunds?page_size=1&page=2", "gb_admin");
    cr_assert_eq(json_array_size(json_object_get(r->json, "items")), 1);
    cr_assert_eq(jint(r->json, "total"), 3);
    resp_free(r);
    resp_check(api_get(GB "/admin/refunds?status=lost", "gb_admin"), 400, "validation_failed");
    resp_check(api_get(GB "/admin/refunds?group_id=abc", "gb_admin"), 400, "validation_failed");
    resp_check(api_get(GB "/admin/refunds", "gb_sup1"), 403, NULL);
    resp_check(api_get(GB "/admin/refunds", "gb_trader3"), 403, NULL);

    /* leave the ledger whole: the declined one goes through by hand */
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_refunds SET charge_ref = 'sbx_ch_fixed1' WHERE contribution_id = $1",
                         DB_I(bad)), 1);
    cr_assert_eq(run_refunds(g2, GB_REFUNDS_ALL).refunded, 1);
}

/* Flutterwave does not deduplicate refunds: when its answer is lost the
 * refund is failed with its attempts used up, the job never resends it, and
 * only an admin's run (after checking with the provider) tries again. */
GbTest(groupbuy_refunds, unknown_outcome_without_provider_dedup_is_not_resent_by_the_job)
{
    fakeflw_start();
    int64_t g = gb_group(1, 10, -5);
    int64_t c = gb_paid(g, "gb_trader1", 2);                  /* 5000 cents */
    const struct pay_provider *flw = pay_provider("flutterwave");
    cr_assert(flw);
    struct pay_charge ch = {5000, "USD", "GB-C-flw-refund", "flw-tok", NULL};
    struct pay_result res;
    cr_assert_eq(flw->charge(&ch, &res), 0);
    cr_assert_eq(res.status, PAY_SUCCEEDED);
    fail_group(g);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_refunds SET provider = 'flutterwave', charge_ref = $2 "
                                    "WHERE contribution_id = $1", DB_I(c), DB_S(res.provider_ref)), 1);
    fakeflw_next_refund("error500");
    cr_assert_eq(run_refunds(g, GB_REFUNDS_PENDING).failed, 1);
    char *state = db_text(test_db(), "SELECT status || ' ' || attempts || ' ' || last_error FROM groupbuy_refunds "
                                     "WHERE contribution_id = $1", DB_I(c));
    cr_assert(state && !strncmp(state, "failed 8 outcome unknown", 24), "%s", state);
    free(state);
    make_due(c);
    expect_job("refunded 0, failed 0, skipped 0");
    cr_assert_eq(fakeflw_count("refund"), 1, "the job never resends an unknown outcome");
    struct groupbuy_refund_run run = run_refunds(g, GB_REFUNDS_ALL);
    cr_assert_eq(run.refunded, 1);
    cr_assert_eq(fakeflw_count("refund"), 2);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_ledger WHERE contribution_id = $1 AND entry_type = 'refund'", c),
                 1);
}
