/* fixture.c -- see fixture.h. */
#include "fixture.h"
#include "apps/groupbuy/groupbuy.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *sql =
    "INSERT INTO groupbuy_suppliers (id, name, contact_email) VALUES (1, 'Acme Grains', 'sales@acme.test'),"
    " (2, 'Baobab Oils', 'orders@baobab.test');"
    "INSERT INTO groupbuy_products (id, supplier_id, name, unit, unit_price_cents, bulk_price_cents, currency, moq,"
    " min_per_trader, max_per_trader) VALUES"
    " (1, 1, 'Rice 50kg', 'bag', 3000, 2500, 'USD', 10, 1, 5),"
    " (2, 1, 'Beans 25kg', 'bag', 2000, 1500, 'USD', 20, 2, NULL),"
    " (3, 2, 'Palm oil 25L', 'jerrycan', 4000, 3500, 'USD', 5, 1, 3);";

void gb_fixture(void)
{
    test_fixture_sql("groupbuy", sql);
    test_user("gb_admin", "groupbuy", "admin", NULL, 0);
    test_user("gb_sup1", "groupbuy", "supplier", "supplier", 1);
    test_user("gb_sup2", "groupbuy", "supplier", "supplier", 2);
    test_user("gb_staff1", "groupbuy", "supplier_staff", "supplier", 1);
    test_user("gb_trader1", "groupbuy", "trader", NULL, 0);
    test_user("gb_trader2", "groupbuy", "trader", NULL, 0);
    test_user("gb_trader3", "groupbuy", "trader", NULL, 0);
    test_user("gb_nobody", NULL, NULL, NULL, 0);
    test_user("gb_staff2", "groupbuy", "supplier_staff", "supplier", 2);
}

void gb_start(void)
{
    setenv("ATRIUM_SANDBOX_WEBHOOK_SECRET", GB_WEBHOOK_SECRET, 1);
    srv_start();
    gb_fixture();
}

void gb_ledger_ok(void)
{
    json_t *rep = groupbuy_ledger_report(test_db());
    cr_assert(rep, "ledger report");
    char *text = json_dumps(rep, JSON_COMPACT);
    cr_assert(json_is_true(json_object_get(rep, "balanced")), "ledger does not reconcile: %s", text);
    free(text);
    json_decref(rep);
    /* the trigger-kept progress of every group equals a recount */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_groups g WHERE g.quantity_committed <> " GB_COMMITTED_SQL("g.id")
                            " OR g.contributors <> (SELECT COUNT(DISTINCT c.trader_id) FROM " GB_COUNTED " c "
                            "WHERE c.group_id = g.id)"), 0, "kept group progress differs from a recount");
}

void gb_stop(void)
{
    srv_stop();
}

int64_t gb_group(int64_t product_id, int moq, int deadline_minutes)
{
    int64_t id = 0;
    cr_assert_eq(db_int(test_db(), &id, "INSERT INTO groupbuy_groups (product_id, supplier_id, creator_id, moq, "
                                        "target_quantity, max_per_trader, unit_price_cents, currency, deadline, "
                                        "pickup_location) SELECT p.id, p.supplier_id, $2, $3, $3, p.max_per_trader, "
                                        "p.bulk_price_cents, p.currency, $4, 'Warehouse 4, Kano Road' "
                                        "FROM groupbuy_products p WHERE p.id = $1 RETURNING id",
                        DB_I(product_id), DB_I(test_user_id("gb_admin")), DB_I(moq), DB_S(time_in(deadline_minutes))),
                 1, "gb_group");
    return id;
}

void gb_set_deadline(int64_t group_id, int minutes_from_now)
{
    cr_assert_eq(db_exec(test_db(), "UPDATE groupbuy_groups SET deadline = $2 WHERE id = $1", DB_I(group_id),
                         DB_S(time_in(minutes_from_now))), 1);
}

int64_t gb_contribution(int64_t group_id, const char *trader, int quantity)
{
    int64_t id = 0;
    cr_assert_eq(db_int(test_db(), &id, "INSERT INTO groupbuy_contributions (group_id, trader_id, quantity, "
                                        "amount_cents, currency) SELECT g.id, $2, $3, $3 * g.unit_price_cents, "
                                        "g.currency FROM groupbuy_groups g WHERE g.id = $1 RETURNING id",
                        DB_I(group_id), DB_I(test_user_id(trader)), DB_I(quantity)), 1, "gb_contribution");
    return id;
}

/* provider_ref NULL: "sbx_ch_fixture<contribution id>". */
static int64_t paid(int64_t group_id, const char *trader, int quantity, const char *provider_ref)
{
    int64_t id = gb_contribution(group_id, trader, quantity), amount = 0;
    char ref[64], fixture_ref[64], currency[8] = "USD";
    db_int(test_db(), &amount, "SELECT amount_cents FROM groupbuy_contributions WHERE id = $1", DB_I(id));
    snprintf(ref, sizeof ref, "GB-C%lld-1", (long long)id);
    snprintf(fixture_ref, sizeof fixture_ref, "sbx_ch_fixture%lld", (long long)id);
    struct groupbuy_payment p = {"sandbox", provider_ref ? provider_ref : fixture_ref, ref, amount, currency, "seed"};
    cr_assert_eq(groupbuy_payment_apply(test_db(), id, &p, test_user_id(trader)), 1, "paying contribution %lld",
                 (long long)id);
    return id;
}

int64_t gb_paid(int64_t group_id, const char *trader, int quantity)
{
    return paid(group_id, trader, quantity, NULL);
}

int64_t gb_paid_ref(int64_t group_id, const char *trader, int quantity, const char *provider_ref)
{
    return paid(group_id, trader, quantity, provider_ref);
}

struct resp *gb_webhook(const char *body, bool bad_signature)
{
    char sig[65], header[100];
    pay_sandbox_sign(body, strlen(body), sig);
    if (bad_signature) sig[0] = sig[0] == '0' ? '1' : '0';
    snprintf(header, sizeof header, "X-Sandbox-Signature: %s", sig);
    const char *headers[] = {header, NULL};
    return api_h("POST", GB "/payments/webhook/sandbox", NULL, body, headers);
}

static void racer(int i, void *arg)
{
    struct gb_race *rc = arg;
    if (i == 0) {
        struct resp *r = api("POST", rc->pay_path, rc->token, "{\"payment_token\":\"tok_success\"}");
        rc->pay_status = r->status;
        resp_free(r);
    } else {
        usleep((useconds_t)rc->delay_us);
        struct resp *r = gb_webhook(rc->webhook, false);
        snprintf(rc->outcome, sizeof rc->outcome, "%s", r->status == 200 ? jstr(r->json, "status") : "http error");
        resp_free(r);
    }
}

void gb_race_pay_webhook(struct gb_race *rc)
{
    run_concurrently(2, racer, rc);
}

