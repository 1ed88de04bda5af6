/* Closing group buys: the auto-complete job completes a past-deadline group
 * whose MOQ is met (order ORD-{group}-{time}, unpaid contributions cancelled,
 * supplier and traders notified), fails one without its MOQ and refunds it,
 * skips groups before their deadline or with payments pending and says why;
 * a second run changes nothing; two runs at once complete a group once. The
 * admin's early completion: happy path, every 409, 404, roles, body. */
#include "support/fixture.h"
#include "apps/groupbuy/groupbuy.h"
#include "support/fakeflw.h"
#include <regex.h>
#include <stdlib.h>
#include <string.h>

TestSuite(groupbuy_complete, .init = gb_start, .fini = gb_stop);

static char *run_job(void)
{
    char *result = NULL;
    cr_assert_eq(jobs_run(test_db(), "groupbuy.auto_complete", &result), 0, "job: %s", result ? result : "");
    cr_assert(result);
    return result;
}

static bool matches(const char *text, const char *pattern)
{
    regex_t re;
    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0, "%s", pattern);
    bool ok = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static int64_t notified(const char *user, const char *kind)
{
    int64_t n = -1;
    db_int(test_db(), &n, "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND kind = $2",
           DB_I(test_user_id(user)), DB_S(kind));
    return n;
}

/* Every row count and state a run could change, as one text. */
static char *snapshot(void)
{
    char *s = db_text(test_db(),
                      "SELECT (SELECT COUNT(*) FROM groupbuy_groups) || '/' || (SELECT COUNT(*) FROM groupbuy_contributions)"
                      " || '/' || (SELECT COUNT(*) FROM groupbuy_payments) || '/' || (SELECT COUNT(*) FROM groupbuy_refunds)"
                      " || '/' || (SELECT COUNT(*) FROM groupbuy_supplier_orders) || '/' || "
                      "(SELECT COUNT(*) FROM groupbuy_ledger) || '/' || (SELECT COUNT(*) FROM groupbuy_webhook_events) || '/' "
                      "|| (SELECT COUNT(*) FROM audit_log) || '/' || (SELECT COUNT(*) FROM notifications) || '/' || "
                      "(SELECT COUNT(*) FROM outbox) || '|' || "
                      "(SELECT json_group_array(x) FROM (SELECT id || ':' || status || ':' || "
                      "COALESCE(supplier_status, '-') || ':' || COALESCE(status_reason, '-') || ':' || updated_at AS x "
                      "FROM groupbuy_groups ORDER BY id) t) || '|' || "
                      "(SELECT json_group_array(x) FROM (SELECT id || ':' || status || ':' || payment_status || ':' || "
                      "COALESCE(refund_status, '-') || ':' || updated_at AS x FROM groupbuy_contributions ORDER BY id) t)"
                      " || '|' || (SELECT json_group_array(x) FROM (SELECT id || ':' || status || ':' || attempts AS x "
                      "FROM groupbuy_refunds ORDER BY id) t) || '|' || (SELECT json_group_array(x) FROM "
                      "(SELECT id || ':' || status AS x FROM groupbuy_supplier_orders ORDER BY id) t)");
    cr_assert(s);
    return s;
}

GbTest(groupbuy_complete, job_completes_fails_and_skips)
{
    /* ready: MOQ 5 met by trader1 (3) + trader2 (2); trader3 never paid */
    int64_t ready = gb_group(1, 5, -10);
    gb_paid(ready, "gb_trader1", 3);
    gb_paid(ready, "gb_trader2", 2);
    int64_t unpaid = gb_contribution(ready, "gb_trader3", 1);
    /* failing: MOQ 5, only 2 paid (supplier 2's palm oil, 3500 each) and one unpaid */
    int64_t failing = gb_group(3, 5, -10);
    int64_t f1 = gb_paid(failing, "gb_trader1", 2);
    int64_t f_unpaid = gb_contribution(failing, "gb_trader2", 1);
    /* too early, and one whose payment is still in flight */
    int64_t early = gb_group(1, 1, 60);
    gb_paid(early, "gb_trader1", 1);
    int64_t inflight = gb_group(1, 1, -10);
    gb_paid(inflight, "gb_trader1", 1);
    int64_t pend = gb_contribution(inflight, "gb_trader2", 1);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_contributions SET payment_status = 'pending' WHERE id = $1",
                         DB_I(pend)), 1);
    int calls = pay_sandbox_refund_calls();

    char *result = run_job();
    cr_assert(matches(result, pathf("^group %lld: completed, order ORD-[0-9]+-[0-9]+$", ready)), "%s", result);
    cr_assert(matches(result, pathf("^group %lld: failed \\(MOQ not met: 2 of 5\\), 1 refund\\(s\\): 1 refunded, "
                                   "0 failed$", failing)), "%s", result);
    cr_assert(matches(result, pathf("^group %lld: skipped: deadline not reached$", early)), "%s", result);
    cr_assert(matches(result, pathf("^group %lld: skipped: unpaid contributions: 1 payment\\(s\\) pending$", inflight)),
              "%s", result);
    cr_assert(matches(result, "completed 1, failed 1, skipped 2$"), "%s", result);
    free(result);

    /* the completed group and its order */
    json_t *o = db_json_one(test_db(), "SELECT * FROM groupbuy_supplier_orders WHERE group_id = $1", DB_I(ready));
    cr_assert(o);
    char want[64];
    snprintf(want, sizeof want, "ORD-%lld-", (long long)ready);
    cr_assert(!strncmp(jstr(o, "order_number"), want, strlen(want)), "%s", jstr(o, "order_number"));
    long long stamp = atoll(jstr(o, "order_number") + strlen(want));
    cr_assert(stamp > time(NULL) - 120 && stamp <= time(NULL), "unix seconds: %lld", stamp);
    cr_assert_eq(jint(o, "quantity"), 5);
    cr_assert_eq(jint(o, "total_cents"), 5 * 2500);
    cr_assert_str_eq(jstr(o, "currency"), "USD");
    cr_assert_str_eq(jstr(o, "status"), "pending");
    cr_assert_eq(jint(o, "supplier_id"), 1);
    json_decref(o);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_groups WHERE id = $1 AND status = 'completed' AND "
                           "supplier_status = 'pending_supplier' AND completed_at IS NOT NULL AND closed_at IS NOT NULL",
                           ready), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE id = $1 AND status = 'cancelled'", unpaid), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE group_id = $1 AND status = 'active'", ready),
                 2);
    cr_assert_eq(notified("gb_sup1", "groupbuy.order.created"), 1);
    cr_assert_eq(notified("gb_staff1", "groupbuy.order.created"), 1);
    cr_assert_eq(notified("gb_sup2", "groupbuy.order.created"), 0);
    cr_assert_eq(notified("gb_trader1", "groupbuy.group.completed"), 1);
    cr_assert_eq(notified("gb_trader2", "groupbuy.group.completed"), 1);
    cr_assert_eq(notified("gb_trader3", "groupbuy.group.completed"), 0, "an unpaid contribution is not counted");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.group.completed' AND target_id = $1 "
                           "AND CAST(json_extract(summary, '$.early') AS TEXT) IN ('0', 'false') AND json_extract(summary, '$.order_number') = "
                           "(SELECT order_number FROM groupbuy_supplier_orders WHERE group_id = $1)", ready), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM outbox WHERE topic = 'groupbuy.group.' || $1 AND type = "
                           "'group.completed'", ready), 1);

    /* the failed group: reason, unpaid cancelled, the paid one refunded */
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_groups WHERE id = $1 AND status = 'failed' AND status_reason = "
                           "'MOQ not met: 2 of 5' AND closed_at IS NOT NULL", failing), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE id = $1 AND status = 'cancelled'", f_unpaid),
                 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE id = $1 AND refund_status = 'refunded' "
                           "AND refunded_at IS NOT NULL", f1), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_refunds WHERE contribution_id = $1 AND status = 'refunded' "
                           "AND amount_cents = 7000 AND reference = 'GB-R' || $1", f1), 1);
    cr_assert_eq(test_scalar("SELECT COALESCE(SUM(amount_cents), 0) FROM groupbuy_ledger WHERE group_id = $1", failing), 0);
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 1);
    cr_assert_eq(notified("gb_trader1", "groupbuy.group.failed"), 1);
    cr_assert_eq(notified("gb_trader2", "groupbuy.group.failed"), 1);
    cr_assert_eq(notified("gb_trader1", "groupbuy.refund.refunded"), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.group.failed' AND target_id = $1",
                           failing), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM outbox WHERE type = 'group.failed' AND topic = 'groupbuy.group.' || $1",
                           failing), 1);

    /* skipped groups are untouched */
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_groups WHERE id IN ($1, $1 + 1) AND status = 'open'", early), 2);

    /* a second run changes nothing at all */
    char *before = snapshot();
    result = run_job();
    cr_assert(matches(result, "completed 0, failed 0, skipped 2$"), "%s", result);
    free(result);
    char *after = snapshot();
    cr_assert_str_eq(after, before);
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 1);
    free(before);
    free(after);
}

GbTest(groupbuy_complete, job_lists_at_most_50_skipped_groups)
{
    for (int i = 0; i < 53; i++) gb_group(1, 1, 60);
    char *result = run_job();
    int lines = 0;
    for (const char *p = result; (p = strstr(p, ": skipped: deadline not reached")); p++) lines++;
    cr_assert_eq(lines, 50, "%s", result);
    cr_assert(matches(result, "^\\.\\.\\. and 3 more skipped$"), "%s", result);
    cr_assert(matches(result, "completed 0, failed 0, skipped 53$"), "%s", result);
    free(result);
}

GbTest(groupbuy_complete, job_leaves_a_group_short_of_moq_with_pending_payments)
{
    int64_t g = gb_group(1, 10, -5);
    gb_paid(g, "gb_trader1", 2);
    int64_t c = gb_contribution(g, "gb_trader2", 1);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_contributions SET payment_status = 'pending' WHERE id = $1", DB_I(c)),
                 1);
    char *result = run_job();
    cr_assert(matches(result, pathf("^group %lld: skipped: unpaid contributions: 1 payment\\(s\\) pending$", g)), "%s",
              result);
    free(result);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_groups WHERE id = $1 AND status = 'open'", g), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_refunds"), 0);
}

/* ------------------------------------------------------------ concurrency */

static void job_by_hand(int i, void *arg)
{
    char *result = NULL;
    jobs_run(db_thread(), "groupbuy.auto_complete", &result);
    free(result);
}

static void job_direct(int i, void *arg)
{
    char *result = NULL;
    int *rc = arg;
    rc[i] = groupbuy_auto_complete_job(db_thread(), &result);
    free(result);
}

static void expect_completed_once(int64_t g)
{
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_supplier_orders WHERE group_id = $1", g), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.group.completed' AND target_id = $1",
                           g), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM outbox WHERE type = 'group.completed' AND topic = 'groupbuy.group.' "
                           "|| $1", g), 1);
    cr_assert_eq(notified("gb_trader1", "groupbuy.group.completed"), 1);
    cr_assert_eq(notified("gb_sup1", "groupbuy.order.created"), 1);
}

GbTest(groupbuy_complete, concurrent_job_runs_complete_once)
{
    int64_t g = gb_group(1, 2, -5);
    gb_paid(g, "gb_trader1", 2);
    run_concurrently(2, job_by_hand, NULL);
    expect_completed_once(g);
}

GbTest(groupbuy_complete, concurrent_runs_past_the_job_lease_complete_once)
{
    int64_t g = gb_group(1, 2, -5);
    int64_t f = gb_group(3, 5, -5);
    int rc[2] = {-1, -1};
    gb_paid(g, "gb_trader1", 2);
    gb_paid(f, "gb_trader2", 1);
    int calls = pay_sandbox_refund_calls();
    run_concurrently(2, job_direct, rc);
    cr_assert_eq(rc[0], 0);
    cr_assert_eq(rc[1], 0);
    expect_completed_once(g);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.group.failed' AND target_id = $1", f),
                 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_refunds WHERE group_id = $1 AND status = 'refunded'", f), 1);
    cr_assert_eq(pay_sandbox_refund_calls() - calls, 1, "refunded once");
}

/* ----------------------------------------------------------- admin route */

GbTest(groupbuy_complete, admin_completes_early)
{
    int64_t g = gb_group(1, 4, 120);
    gb_paid(g, "gb_trader1", 3);
    gb_paid(g, "gb_trader2", 2);
    int64_t unpaid = gb_contribution(g, "gb_trader3", 1);
    struct resp *r = api_post(pathf(GB "/admin/groups/%lld/complete", g), "gb_admin", NULL, "%s", "");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "id"), g);
    cr_assert_str_eq(jstr(r->json, "status"), "completed");
    cr_assert_str_eq(jstr(r->json, "supplier_status"), "pending_supplier");
    resp_free(r);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_supplier_orders WHERE group_id = $1 AND quantity = 5 AND "
                           "total_cents = 12500 AND status = 'pending'", g), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE id = $1 AND status = 'cancelled'", unpaid), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.group.completed' AND target_id = $1 "
                           "AND CAST(json_extract(summary, '$.early') AS TEXT) IN ('1', 'true') AND user_id = (SELECT id FROM users WHERE "
                           "username = 'gb_admin') AND request_id IS NOT NULL", g), 1);
    /* completing again: no longer open */
    resp_check(api_post(pathf(GB "/admin/groups/%lld/complete", g), "gb_admin", NULL, "%s", ""), 409, "invalid_state");
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_supplier_orders WHERE group_id = $1", g), 1);
}

GbTest(groupbuy_complete, admin_complete_refusals)
{
    int64_t g = gb_group(1, 10, 120);
    gb_paid(g, "gb_trader1", 3);
    gb_contribution(g, "gb_trader2", 2);
    struct resp *r = api_post(pathf(GB "/admin/groups/%lld/complete", g), "gb_admin", NULL, "%s", "");
    cr_assert_eq(r->status, 409, "%s", r->body);
    cr_assert_str_eq(resp_error_code(r), "moq_not_met");
    json_t *details = json_object_get(json_object_get(r->json, "error"), "details");
    cr_assert_eq(jint(details, "committed"), 3, "unpaid contributions do not count");
    cr_assert_eq(jint(details, "moq"), 10);
    resp_free(r);

    int64_t p = gb_group(1, 1, 120);
    gb_paid(p, "gb_trader1", 2);
    int64_t c = gb_contribution(p, "gb_trader2", 1);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_contributions SET payment_status = 'pending' WHERE id = $1", DB_I(c)),
                 1);
    resp_check(api_post(pathf(GB "/admin/groups/%lld/complete", p), "gb_admin", NULL, "%s", ""), 409, "payments_pending");

    int64_t closed = gb_group(1, 1, 120);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_groups SET status = 'failed' WHERE id = $1", DB_I(closed)), 1);
    resp_check(api_post(pathf(GB "/admin/groups/%lld/complete", closed), "gb_admin", NULL, "%s", ""), 409, "invalid_state");
    resp_check(api_post(GB "/admin/groups/9999/complete", "gb_admin", NULL, "%s", ""), 404, "not_found");

    int64_t ok = gb_group(1, 1, 120);
    gb_paid(ok, "gb_trader1", 1);
    const char *url = pathf(GB "/admin/groups/%lld/complete", ok);
    resp_check(api_post(url, "gb_admin", NULL, "{\"early\":true}"), 400, "validation_failed");
    resp_check(api_post(url, "gb_sup1", NULL, "%s", ""), 403, NULL);
    resp_check(api_post(url, "gb_trader1", NULL, "%s", ""), 403, NULL);
    resp_check(api_post(url, "gb_staff1", NULL, "%s", ""), 403, NULL);
    resp_check(api_post(url, NULL, NULL, "%s", ""), 401, NULL);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_supplier_orders"), 0, "nothing refused completed anything");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.group.completed'"), 0);
    resp_check(api_post(url, "gb_admin", NULL, "{}"), 200, NULL);
}

/* The seeder closes groups inside its own transaction: a skip must not spoil it. */
GbTest(groupbuy_complete, skips_leave_the_callers_transaction_usable)
{
    char why[128];
    int64_t g = gb_group(1, 2, 60), met = gb_group(1, 1, -5);
    gb_paid(met, "gb_trader1", 1);
    cr_assert_eq(db_begin(test_db()), 0);
    cr_assert_eq(groupbuy_group_complete(test_db(), g, 0, false, why, sizeof why), 0);
    cr_assert_str_eq(why, "deadline not reached");
    cr_assert_eq(groupbuy_group_complete(test_db(), g, 0, true, why, sizeof why), 0);
    cr_assert_str_eq(why, "MOQ not met: 0 of 2");
    cr_assert_eq(groupbuy_group_fail(test_db(), met, 0, why, sizeof why), 0);
    cr_assert_str_eq(why, "MOQ met: 1 of 1");
    cr_assert_eq(groupbuy_group_complete(test_db(), 9999, 0, true, why, sizeof why), 0);
    cr_assert_eq(groupbuy_order_accept(test_db(), 9999, 0, NULL), -3);
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_groups SET pickup_location = 'Gate 2' WHERE id = $1", DB_I(g)), 1);
    cr_assert_eq(groupbuy_group_complete(test_db(), met, 0, false, why, sizeof why), 1);
    cr_assert_eq(db_commit(test_db()), 0);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_groups WHERE id = $1 AND pickup_location = 'Gate 2'", g), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_supplier_orders WHERE group_id = $1", met), 1);
}

/* ------------------------------------------------ pending payments at the close */

static void pay_pending(int64_t c, const char *trader, const char *body)
{
    struct resp *r = api_post(pathf(GB "/contributions/%lld/pay", c), trader, NULL, "%s", body);
    cr_assert_eq(r->status, 202, "%s", r->body);
    resp_free(r);
}

/* A sandbox payment that never settles cannot hold the group open: an hour
 * after the deadline its contribution is cancelled and the group closes on
 * what was paid; when the payment does arrive later it is refunded. */
GbTest(groupbuy_complete, a_payment_pending_past_the_grace_is_cancelled_then_refunded_if_it_lands)
{
    int64_t g = gb_group(1, 5, 60);
    gb_paid(g, "gb_trader1", 5);
    int64_t c = gb_contribution(g, "gb_trader2", 1);
    pay_pending(c, "gb_trader2", "{\"payment_token\":\"tok_pending\"}");
    gb_set_deadline(g, -30);
    char *result = run_job();
    cr_assert(matches(result, pathf("^group %lld: skipped: unpaid contributions: 1 payment\\(s\\) pending$", g)), "%s",
              result);
    free(result);
    gb_set_deadline(g, -61);
    result = run_job();
    cr_assert(matches(result, pathf("^group %lld: completed, order ORD-[0-9]+-[0-9]+$", g)), "%s", result);
    free(result);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_contributions WHERE id = $1 AND status = 'cancelled' AND "
                           "payment_status = 'pending'", c), 1);
    cr_assert_eq(test_scalar("SELECT quantity FROM groupbuy_supplier_orders WHERE group_id = $1", g), 5);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.contribution.cancelled' AND "
                           "target_id = $1", c), 1);
    /* the provider finally reports the charge: recorded, and refunded at once */
    char body[512];
    snprintf(body, sizeof body, "{\"id\":\"evt_late_%lld\",\"type\":\"charge.succeeded\",\"data\":{\"reference\":"
             "\"GB-C%lld-1\",\"provider_ref\":\"sbx_ch_late%lld\",\"amount_cents\":2500,\"currency\":\"USD\"}}",
             (long long)c, (long long)c, (long long)c);
    struct resp *r = gb_webhook(body, false);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "applied");
    resp_free(r);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_refunds WHERE contribution_id = $1 AND status = 'pending'", c), 1);
    char *out = NULL;
    cr_assert_eq(jobs_run(test_db(), "groupbuy.refunds", &out), 0);
    cr_assert_str_eq(out, "refunded 1, failed 0, skipped 0");
    free(out);
    cr_assert_eq(test_scalar("SELECT quantity FROM groupbuy_supplier_orders WHERE group_id = $1", g), 5);
}

/* With a provider that can be asked, the job asks: a pending Flutterwave
 * charge that succeeded is recorded and counts toward the MOQ. */
GbTest(groupbuy_complete, a_pending_payment_is_settled_by_asking_the_provider)
{
    fakeflw_start();
    int64_t g = gb_group(1, 5, 60);
    gb_paid(g, "gb_trader1", 4);
    int64_t c = gb_contribution(g, "gb_trader2", 1);
    fakeflw_next_charge("pending");
    pay_pending(c, "gb_trader2", "{\"provider\":\"flutterwave\",\"payment_token\":\"flw-tok\"}");
    gb_set_deadline(g, -5);
    char ref[64];
    snprintf(ref, sizeof ref, "GB-C%lld-1", (long long)c);
    fakeflw_set_status(ref, "successful");
    char *result = run_job();
    cr_assert(matches(result, pathf("^group %lld: completed, order ORD-[0-9]+-[0-9]+$", g)), "%s", result);
    free(result);
    cr_assert_eq(fakeflw_count("verify"), 1);
    cr_assert_eq(test_scalar("SELECT COUNT(*) FROM groupbuy_payments WHERE contribution_id = $1 AND source = 'job'", c), 1);
    cr_assert_eq(test_scalar("SELECT quantity FROM groupbuy_supplier_orders WHERE group_id = $1", g), 5);
}
