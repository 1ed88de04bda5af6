/* campus payments over HTTP: sequential allocation to the oldest unpaid
 * installment, credit carried forward, permits unlocked in the payment's
 * transaction and locked again by a void, receipts, the proctor's check,
 * the Idempotency-Key, invalid bodies, who sees what, and a crowd of
 * concurrent payments for one student allocating exactly their sum. */
#include "support/fixture.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(campus_payments, .init = cs_start, .fini = srv_stop);

/* stu1 enrolled in CS101-A: 1,200,000 in 5 installments of 240,000. */
static void assessed(void)
{
    char *tok = test_token("cs_stu1");
    struct resp *r = api("POST", CP "/enrollments", tok, "{\"section_id\":1}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    free(tok);
}

static struct resp *pay_as(const char *as, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static struct resp *pay_as(const char *as, const char *key, const char *fmt, ...)
{
    char body[512], hdr[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", key ? key : "");
    const char *h[] = {hdr, NULL};
    char *tok = test_token(as);
    struct resp *r = api_h("POST", CP "/payments", tok, body, key ? h : NULL);
    free(tok);
    return r;
}

static int64_t paid(int64_t cents)
{
    struct resp *r = pay_as("cs_cashier", NULL, "{\"student_id\":1,\"amount_cents\":%lld,\"method\":\"cash\"}",
                            (long long)cents);
    cr_assert_eq(r->status, 201, "%s", r->body);
    int64_t id = jint(r->json, "id");
    resp_free(r);
    return id;
}

static int64_t installment_paid(int month)
{
    return test_scalar("SELECT paid_cents FROM campus_installments WHERE month = $1", month);
}

static int64_t unlocked(void)
{
    return test_count("SELECT COUNT(*) FROM campus_permits WHERE student_id = 1 AND unlocked_at IS NOT NULL");
}

Test(campus_payments, oldest_installment_first_with_credit_and_permits)
{
    assessed();
    struct resp *r = pay_as("cs_cashier", NULL,
                            "{\"student_id\":1,\"amount_cents\":300000,\"method\":\"cash\",\"reference\":\"counter 2\"}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "receipt_number"), "OR-00000001");
    json_t *al = json_object_get(r->json, "allocations");
    cr_assert_eq(json_array_size(al), 2, "%s", r->body);
    cr_assert_eq(jint(json_array_get(al, 0), "month"), 1);
    cr_assert_eq(jint(json_array_get(al, 0), "amount_cents"), 240000);
    cr_assert_eq(jint(json_array_get(al, 1), "month"), 2);
    cr_assert_eq(jint(json_array_get(al, 1), "amount_cents"), 60000);
    cr_assert_eq(jint(r->json, "credit_cents"), 0);
    json_t *perm = json_object_get(r->json, "permits_unlocked");
    cr_assert_eq(json_array_size(perm), 1, "month 1's permit, in the payment's transaction");
    cr_assert_eq(json_integer_value(json_array_get(perm, 0)), 1);
    cr_assert_eq(jint(r->json, "cashier_id"), test_user_id("cs_cashier"));
    resp_free(r);
    cr_assert_eq(unlocked(), 1);

    paid(180000);                               /* finishes month 2 exactly */
    cr_assert_eq(installment_paid(2), 240000);
    cr_assert_eq(unlocked(), 2);
    /* overpayment: months 3..5 are 720,000; 800,000 leaves 80,000 of credit */
    r = pay_as("cs_cashier", NULL, "{\"student_id\":1,\"amount_cents\":800000,\"method\":\"bank_transfer\"}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    cr_assert_eq(jint(r->json, "credit_cents"), 80000);
    cr_assert_eq(json_array_size(json_object_get(r->json, "permits_unlocked")), 3);
    resp_free(r);
    cr_assert_eq(unlocked(), 5);
    /* the credit is used when the bill grows: a second subject adds 300,000 */
    char *tok = test_token("cs_stu1");
    r = api("POST", CP "/enrollments", tok, "{\"section_id\":4}");
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
    cr_assert_eq(test_count("SELECT COALESCE(SUM(amount_cents), 0) FROM campus_allocations"), 1280000,
                 "every cent paid is allocated once the bill is larger than the payments");
    r = api("GET", CP "/students/1/assessment", tok, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_eq(jint(r->json, "total_cents"), 1500000);
    cr_assert_eq(jint(r->json, "paid_cents"), 1280000);
    cr_assert_eq(json_array_size(json_object_get(r->json, "installments")), 5);
    resp_free(r);
    free(tok);
    cr_assert_eq(unlocked(), 4, "months 1-4 of 300,000 are paid; month 5 no longer is");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'campus.payment.posted'"), 3);
}

Test(campus_payments, a_void_reverses_and_locks_permits_again)
{
    assessed();
    int64_t first = paid(240000);
    paid(240000);
    cr_assert_eq(unlocked(), 2);
    char path[64];
    snprintf(path, sizeof path, CP "/payments/%lld/void", (long long)first);
    char *tok = test_token("cs_cashier");
    struct resp *r = api("POST", path, tok, "{\"reason\":\"bounced\"}");
    cr_assert_eq(r->status, 403, "a cashier does not void");
    resp_free(r);
    free(tok);
    tok = test_token("cs_super");
    r = api("POST", path, tok, "{}");
    cr_assert_eq(r->status, 400, "a reason is required");
    resp_free(r);
    r = api("POST", path, tok, "{\"reason\":\"check bounced\"}");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(jstr(r->json, "status"), "void");
    cr_assert_str_eq(jstr(r->json, "void_reason"), "check bounced");
    cr_assert_eq(json_array_size(json_object_get(r->json, "allocations")), 0);
    cr_assert_eq(json_array_size(json_object_get(r->json, "permits_locked")), 1, "%s", r->body);
    resp_free(r);
    /* the second payment now pays month 1: month 2's permit locks again */
    cr_assert_eq(installment_paid(1), 240000);
    cr_assert_eq(installment_paid(2), 0);
    cr_assert_eq(unlocked(), 1);
    r = api("POST", path, tok, "{\"reason\":\"again\"}");
    cr_assert_eq(r->status, 409);
    cr_assert_str_eq(resp_error_code(r), "already_void");
    resp_free(r);
    free(tok);
    cr_assert_eq(test_countf("SELECT COUNT(*) FROM audit_log WHERE action = 'campus.payment.voided' AND target_id = %lld",
                             (long long)first), 1);
}

Test(campus_payments, receipts_permit_check_and_who_sees_what)
{
    assessed();
    int64_t id = paid(240000);
    char path[64];
    snprintf(path, sizeof path, CP "/payments/%lld", (long long)id);
    char *stu1 = test_token("cs_stu1"), *stu2 = test_token("cs_stu2"), *fac = test_token("cs_fac1");
    struct resp *r = api("GET", path, stu1, NULL);
    cr_assert_eq(r->status, 200, "the receipt, to its student");
    cr_assert_str_eq(jstr(r->json, "student_name"), "1, Student");
    resp_free(r);
    r = api("GET", path, stu2, NULL);
    cr_assert_eq(r->status, 404, "another student's receipt does not exist for them");
    resp_free(r);
    r = api("GET", CP "/students/1/permits", stu2, NULL);
    cr_assert_eq(r->status, 404);
    resp_free(r);
    r = api("GET", CP "/payments?student_id=1", stu2, NULL);
    cr_assert_eq(r->status, 404);
    resp_free(r);
    r = api("GET", CP "/students/1/permits", stu1, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *it = json_object_get(r->json, "items");
    cr_assert_eq(json_array_size(it), 5);
    cr_assert(json_is_true(json_object_get(json_array_get(it, 0), "unlocked")));
    cr_assert(json_is_false(json_object_get(json_array_get(it, 1), "unlocked")));
    char check[128];
    snprintf(check, sizeof check, CP "/permits/check?code=%s", jstr(json_array_get(it, 0), "code"));
    char check2[128];
    snprintf(check2, sizeof check2, CP "/permits/check?code=%s", jstr(json_array_get(it, 1), "code"));
    resp_free(r);
    r = api("GET", check, fac, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert(json_is_true(json_object_get(r->json, "valid")));
    cr_assert_eq(jint(r->json, "month"), 1);
    resp_free(r);
    r = api("GET", check2, fac, NULL);
    cr_assert(json_is_false(json_object_get(r->json, "valid")), "month 2 is not paid");
    resp_free(r);
    r = api("GET", CP "/permits/check?code=nope", fac, NULL);
    cr_assert_eq(r->status, 404);
    resp_free(r);
    r = api("GET", check, stu1, NULL);
    cr_assert_eq(r->status, 403, "students do not check permits");
    resp_free(r);
    free(stu1);
    free(stu2);
    free(fac);
}

Test(campus_payments, invalid_bodies_and_states_change_nothing)
{
    struct resp *r = pay_as("cs_cashier", NULL, "{\"student_id\":1,\"amount_cents\":1000,\"method\":\"cash\"}");
    cr_assert_eq(r->status, 409, "nothing assessed yet: %s", r->body);
    cr_assert_str_eq(resp_error_code(r), "not_assessed");
    resp_free(r);
    assessed();
    static const char *const bad[] = {
        "{\"student_id\":1,\"amount_cents\":0,\"method\":\"cash\"}",
        "{\"student_id\":1,\"amount_cents\":-5,\"method\":\"cash\"}",
        "{\"student_id\":1,\"amount_cents\":100000000001,\"method\":\"cash\"}",
        "{\"student_id\":1,\"amount_cents\":10.5,\"method\":\"cash\"}",
        "{\"student_id\":1,\"amount_cents\":1000,\"method\":\"barter\"}",
        "{\"student_id\":1,\"amount_cents\":1000}",
        "{\"student_id\":1,\"amount_cents\":1000,\"method\":\"cash\",\"tip\":5}",
        NULL};
    for (int i = 0; bad[i]; i++) {
        r = pay_as("cs_cashier", NULL, "%s", bad[i]);
        cr_assert_eq(r->status, 400, "%s -> %d %s", bad[i], r->status, r->body);
        cr_assert_str_eq(resp_error_code(r), "validation_failed");
        resp_free(r);
    }
    r = pay_as("cs_cashier", NULL, "{\"student_id\":999,\"amount_cents\":1000,\"method\":\"cash\"}");
    cr_assert_eq(r->status, 404);
    resp_free(r);
    r = pay_as("cs_stu1", NULL, "{\"student_id\":1,\"amount_cents\":1000,\"method\":\"cash\"}");
    cr_assert_eq(r->status, 403, "students do not post payments");
    resp_free(r);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_payments"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_allocations"), 0);
}

Test(campus_payments, the_same_key_records_one_payment)
{
    assessed();
    struct resp *a = pay_as("cs_cashier", "pay-1", "{\"student_id\":1,\"amount_cents\":1000,\"method\":\"cash\"}");
    struct resp *b = pay_as("cs_cashier", "pay-1", "{\"student_id\":1,\"amount_cents\":1000,\"method\":\"cash\"}");
    cr_assert_eq(a->status, 201);
    cr_assert_eq(b->status, 201);
    cr_assert_eq(jint(a->json, "id"), jint(b->json, "id"), "the replay answers the first payment");
    cr_assert_str_eq(resp_header(b, "Idempotent-Replayed"), "true");
    resp_free(a);
    resp_free(b);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_payments"), 1);
}

/* ------------------------------------------------------------- the race */

static char *race_tok;

static void payer(int i, void *arg)
{
    (void)arg;
    char hdr[64];
    snprintf(hdr, sizeof hdr, "Idempotency-Key: crowd-%d", i % 500);     /* every key sent twice */
    const char *h[] = {hdr, NULL};
    struct resp *r = api_h("POST", CP "/payments", race_tok,
                           "{\"student_id\":1,\"amount_cents\":2500,\"method\":\"cash\"}", h);
    cr_assert_eq(r->status, 201, "%s", r->body);
    resp_free(r);
}

/* The crowd: 1,000 requests at once for one student, over 500 keys
 * each sent twice: 500 payments of 25.00 = 1,250,000 cents against the
 * 1,200,000 owed, every installment paid, 50,000 left as credit. */
Test(campus_payments, a_thousand_concurrent_payments_allocate_exactly_their_sum, .timeout = 300)
{
    assessed();
    race_tok = test_token("cs_cashier");
    run_concurrently(1000, payer, NULL);
    free(race_tok);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_payments"), 500, "one payment per key");
    cr_assert_eq(test_count("SELECT SUM(amount_cents) FROM campus_payments"), 1250000);
    cr_assert_eq(test_count("SELECT COALESCE(SUM(amount_cents), 0) FROM campus_allocations"), 1200000,
                 "every cent owed allocated, none twice");
    for (int m = 1; m <= 5; m++) cr_assert_eq(installment_paid(m), 240000, "month %d", m);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_installments i WHERE paid_cents <> (SELECT "
                            "COALESCE(SUM(a.amount_cents), 0) FROM campus_allocations a WHERE a.installment_id = i.id)"),
                 0, "paid_cents equals the allocations");
    cr_assert_eq(unlocked(), 5, "every permit");
    cr_assert_eq(test_audit_count("campus", "campus.payment.posted"), 500);
}

static void same_key_payer(int i, void *arg)
{
    const char *h[] = {"Idempotency-Key: one-key", NULL};
    struct resp *r = api_h("POST", CP "/payments", race_tok,
                           "{\"student_id\":1,\"amount_cents\":1000,\"method\":\"cash\"}", h);
    cr_assert_eq(r->status, 201, "%s", r->body);
    ((int64_t *)arg)[i] = jint(r->json, "id");
    resp_free(r);
}

Test(campus_payments, the_same_key_sent_concurrently_records_one_payment)
{
    assessed();
    int64_t ids[30];
    race_tok = test_token("cs_cashier");
    run_concurrently(30, same_key_payer, ids);
    free(race_tok);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM campus_payments"), 1);
    for (int i = 1; i < 30; i++) cr_assert_eq(ids[i], ids[0], "every answer names the one payment");
    cr_assert_eq(test_count("SELECT SUM(amount_cents) FROM campus_allocations"), 1000);
}
