/* fixture.h -- a small, fixed groupbuy world for tests (ids are stable):
 *
 *   suppliers 1 "Acme Grains", 2 "Baobab Oils"
 *   products  1 Rice 50kg   (supplier 1) unit 3000, bulk 2500 USD, moq 10, per trader 1..5
 *             2 Beans 25kg  (supplier 1) unit 2000, bulk 1500 USD, moq 20, per trader 2..(no max)
 *             3 Palm oil 25L (supplier 2) unit 4000, bulk 3500 USD, moq 5, per trader 1..3
 *   users     gb_admin (admin), gb_sup1 / gb_sup2 (supplier of 1 / 2),
 *             gb_staff1 (supplier_staff of 1), gb_trader1..gb_trader3 (trader),
 *             gb_nobody (no groupbuy role), gb_staff2 (supplier_staff of 2)
 *
 * The sandbox provider's webhook secret is GB_WEBHOOK_SECRET. Tests are
 * written with GbTest(), which runs gb_ledger_ok() at the end of every test
 * body: the ledger must reconcile (and kept progress equal a recount) after
 * each test. (Criterion reports an assertion in .fini only as a warning, so
 * the check lives inside the test.) */
#ifndef GROUPBUY_FIXTURE_H
#define GROUPBUY_FIXTURE_H
#include "support/harness.h"

#define GB "/api/v1/groupbuy"
#define GB_WEBHOOK_SECRET "gb-test-webhook-secret"

void gb_fixture(void);               /* after srv_start() */
void gb_start(void);                 /* env + srv_start() + gb_fixture(): a TestSuite .init */
void gb_stop(void);                  /* srv_stop(): a TestSuite .fini */
/* Test(suite, name) whose body is followed by gb_ledger_ok(). */
#define GbTest(suite, name)                                                                                   \
    static void gb_body_##suite##_##name(void);                                                               \
    Test(suite, name)                                                                                         \
    {                                                                                                         \
        gb_body_##suite##_##name();                                                                           \
        gb_ledger_ok();                                                                                       \
    }                                                                                                         \
    static void gb_body_##suite##_##name(void)
void gb_ledger_ok(void);             /* ledger balanced, kept group progress = a recount */

/* Straight into the database (bypassing the API, e.g. deadlines in the past). */
int64_t gb_group(int64_t product_id, int moq, int deadline_minutes);
int64_t gb_contribution(int64_t group_id, const char *trader, int quantity);   /* unpaid */
int64_t gb_paid(int64_t group_id, const char *trader, int quantity);          /* paid through groupbuy_payment_apply */
/* Like gb_paid, with the sandbox charge id given: "sbx_chrf_..." refunds always
 * decline, "sbx_chfl_..." fail once per process then succeed. */
int64_t gb_paid_ref(int64_t group_id, const char *trader, int quantity, const char *provider_ref);
void gb_set_deadline(int64_t group_id, int minutes_from_now);

/* A sandbox webhook, signed with GB_WEBHOOK_SECRET unless bad_signature. */
struct resp *gb_webhook(const char *body, bool bad_signature);
/* The client paying (POST pay_path as `token`, payment_token tok_success) and
 * a signed sandbox webhook at once, the webhook delay_us later: the pay
 * status and the webhook's outcome ("http error" unless 200). */
struct gb_race {
    const char *pay_path, *token, *webhook;
    int delay_us;
    int pay_status;
    char outcome[32];
};
void gb_race_pay_webhook(struct gb_race *rc);
#endif
