/* The groupbuy seeder, called in-process on a fresh database: its catalog and
 * accounts, a group in every state of the lifecycle (each checked by SQL), a
 * balanced ledger, repeatability with --seed, seeding again without --clear
 * (a no-op), --clear, and the auto-complete job run afterwards. */
#include "support/harness.h"
#include "apps/groupbuy/groupbuy.h"
#include <string.h>

TestSuite(groupbuy_seed, .init = srv_start, .fini = srv_stop);

static char hash[128];

static int seed(unsigned n, bool clear)
{
    if (!hash[0]) cr_assert_eq(auth_hash_password("atrium-demo-pass", hash), 0);
    char *argv[] = {"atrium", "seed", "groupbuy", NULL};
    struct seed_opts o = {.seed = n, .password = "atrium-demo-pass", .password_hash = hash, .clear = clear,
                          .argc = 3, .argv = argv};
    return groupbuy_seed(test_db(), &o);
}

static void ledger_balanced(void)
{
    json_t *rep = groupbuy_ledger_report(test_db());
    cr_assert(rep);
    char *text = json_dumps(rep, JSON_COMPACT);
    cr_assert(json_is_true(json_object_get(rep, "balanced")), "ledger: %s", text);
    free(text);
    json_decref(rep);
}

/* Every groupbuy row that does not depend on the clock or on random nonces. */
static char *snapshot(void)
{
    /* ordered: a table's physical order is not its id order on PostgreSQL */
#define ROWS(cols, table) "(SELECT json_group_array(json_array(" cols ")) FROM (SELECT * FROM " table " ORDER BY id) t)"
    return test_text("SELECT json_array("
                ROWS("id, name", "groupbuy_suppliers") ","
                ROWS("id, supplier_id, name, unit_price_cents, bulk_price_cents, moq, min_per_trader, max_per_trader",
                     "groupbuy_products") ","
                ROWS("id, product_id, creator_id, moq, pickup_location, status, supplier_status", "groupbuy_groups") ","
                ROWS("id, group_id, trader_id, quantity, amount_cents, status, payment_status, is_collected, refund_status",
                     "groupbuy_contributions") ","
                ROWS("contribution_id, provider, provider_ref, amount_cents", "groupbuy_payments") ","
                ROWS("contribution_id, status, amount_cents", "groupbuy_refunds") ","
                ROWS("account, entry_type, amount_cents", "groupbuy_ledger") ")");
#undef ROWS
}

#define NOW GB_NOW_SQL
#define COMMITTED GB_COMMITTED_SQL("g.id")
#define UNPAID_ACTIVE \
    "(SELECT COUNT(*) FROM groupbuy_contributions c WHERE c.group_id = g.id AND c.status = 'active' " \
    "AND c.payment_status <> 'paid')"
#define COUNTED_N \
    "(SELECT COUNT(*) FROM groupbuy_contributions c WHERE c.group_id = g.id AND c.status = 'active' " \
    "AND c.payment_status = 'paid' AND c.refund_status IS NULL)"
#define COLLECTED_N "(SELECT COUNT(*) FROM groupbuy_contributions c WHERE c.group_id = g.id AND c.is_collected = 1)"
#define TOKENS_N \
    "(SELECT COUNT(*) FROM groupbuy_contributions c WHERE c.group_id = g.id AND c.qr_token_hash IS NOT NULL)"

/* The groups of the seed by state, as SQL over groupbuy_groups g. */
static const char *open_progress =
    "SELECT COUNT(*) FROM groupbuy_groups g WHERE g.status = 'open' AND g.deadline > " NOW " AND " COMMITTED
    " > 0 AND " COMMITTED " < g.moq AND " UNPAID_ACTIVE " > 0";
#define READY_TO_COMPLETE \
    "FROM groupbuy_groups g WHERE g.status = 'open' AND g.deadline < " NOW " AND " COMMITTED " >= g.moq AND " \
    UNPAID_ACTIVE " = 0"
#define FAILING \
    "FROM groupbuy_groups g WHERE g.status = 'open' AND g.deadline < " NOW " AND " COMMITTED " > 0 AND " COMMITTED \
    " < g.moq"
static const char *ready_to_complete = "SELECT COUNT(*) " READY_TO_COMPLETE;
static const char *failing = "SELECT COUNT(*) " FAILING;
static const char *pending_supplier =
    "SELECT COUNT(*) FROM groupbuy_groups g JOIN groupbuy_supplier_orders o ON o.group_id = g.id WHERE "
    "g.status = 'completed' AND g.supplier_status = 'pending_supplier' AND o.status = 'pending' AND "
    "o.quantity = " COMMITTED " AND o.quantity >= g.moq";
static const char *accepted =
    "SELECT COUNT(*) FROM groupbuy_groups g JOIN groupbuy_supplier_orders o ON o.group_id = g.id WHERE "
    "g.status = 'completed' AND g.supplier_status = 'supplier_accepted' AND o.status = 'accepted' AND "
    "(SELECT SUM(amount_cents) FROM groupbuy_ledger l WHERE l.order_id = o.id AND l.entry_type = 'order_credit') = "
    "o.total_cents AND " TOKENS_N " = 0";
static const char *rejected_refunded =
    "SELECT COUNT(*) FROM groupbuy_groups g JOIN groupbuy_supplier_orders o ON o.group_id = g.id WHERE "
    "g.status = 'cancelled' AND g.supplier_status = 'supplier_rejected' AND o.status = 'rejected' AND "
    "o.rejection_reason <> '' AND (SELECT COUNT(*) FROM groupbuy_contributions c WHERE c.group_id = g.id AND "
    "c.payment_status = 'paid') > 0 AND (SELECT COUNT(*) FROM groupbuy_contributions c WHERE c.group_id = g.id "
    "AND c.payment_status = 'paid' AND (c.refund_status IS DISTINCT FROM 'refunded' OR NOT EXISTS (SELECT 1 FROM "
    "groupbuy_refunds r WHERE r.contribution_id = c.id AND r.status = 'refunded'))) = 0";
static const char *ready =
    "SELECT COUNT(*) FROM groupbuy_groups g JOIN groupbuy_supplier_orders o ON o.group_id = g.id WHERE "
    "g.supplier_status = 'ready_for_collection' AND g.ready_for_collection_at IS NOT NULL AND "
    "o.admin_verification_status = 'verified' AND o.qr_codes_generated = 1 AND " TOKENS_N " = " COUNTED_N " AND "
    COUNTED_N " > 0 AND " COLLECTED_N " = 0";
static const char *partially_collected =
    "SELECT COUNT(*) FROM groupbuy_groups g WHERE g.supplier_status = 'ready_for_collection' AND " COLLECTED_N
    " > 0 AND " COLLECTED_N " < " TOKENS_N;
static const char *failed_with_declined_refund =
    "SELECT COUNT(*) FROM groupbuy_groups g WHERE g.status = 'failed' AND g.status_reason LIKE 'MOQ not met%' AND "
    "(SELECT COUNT(*) FROM groupbuy_refunds r WHERE r.group_id = g.id AND r.status = 'failed' AND r.charge_ref "
    "LIKE 'sbx_chrf_seed%' AND r.last_error LIKE 'provider declined%') = 1 AND (SELECT COUNT(*) FROM "
    "groupbuy_refunds r WHERE r.group_id = g.id AND r.status = 'refunded') > 0";

Test(groupbuy_seed, a_group_in_every_state)
{
    cr_assert_eq(seed(42, false), 0);
    cr_assert_geq(test_count(open_progress), 1, "open with progress");
    cr_assert_eq(test_count(ready_to_complete), 1, "ready to auto-complete");
    cr_assert_eq(test_count(failing), 1, "failing");
    cr_assert_eq(test_count(pending_supplier), 1, "pending supplier");
    cr_assert_eq(test_count(accepted), 1, "accepted");
    cr_assert_eq(test_count(rejected_refunded), 1, "rejected and refunded");
    cr_assert_eq(test_count(ready), 1, "ready for collection");
    cr_assert_eq(test_count(partially_collected), 1, "partially collected");
    cr_assert_eq(test_count(failed_with_declined_refund), 1, "failed with a declined refund");
    /* open groups have deadlines days ahead; an open group's progress is visible */
    cr_assert_geq(test_count("SELECT COUNT(*) FROM groupbuy_groups WHERE status = 'open' AND deadline > "
                             "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+1 day')"), 2);
    /* every collected contribution was collected by the staff of its supplier */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_contributions c JOIN groupbuy_groups g ON g.id = c.group_id "
                            "WHERE c.is_collected = 1 AND (c.collected_at IS NULL OR c.collected_by <> (SELECT id FROM "
                            "users WHERE username = 'groupbuy.staff.1') OR g.supplier_id <> 1)"), 0);
    /* payments: sandbox, source seed, provider_ref named after the contribution */
    cr_assert_gt(test_count("SELECT COUNT(*) FROM groupbuy_payments"), 20);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_payments p WHERE p.provider <> 'sandbox' OR "
                            "p.source <> 'seed' OR p.provider_ref NOT IN ('sbx_ch_seed' || p.contribution_id, "
                            "'sbx_chrf_seed' || p.contribution_id) OR p.reference <> 'GB-C' || p.contribution_id || '-1'"),
                 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_contributions WHERE payment_status = 'paid'"),
                 test_count("SELECT COUNT(*) FROM groupbuy_payments"));
    /* contributions are priced at the group's bulk price, within the per-trader limits */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_contributions c JOIN groupbuy_groups g ON g.id = c.group_id "
                            "JOIN groupbuy_products p ON p.id = g.product_id WHERE c.amount_cents <> c.quantity * "
                            "p.bulk_price_cents OR c.quantity < p.min_per_trader OR c.quantity > p.max_per_trader"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM (SELECT group_id, trader_id FROM groupbuy_contributions "
                            "GROUP BY 1, 2 HAVING COUNT(*) > 1) t"), 0);
    /* an audit row per step, and the seed's own */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE app = 'groupbuy' AND action = 'groupbuy.demo_data.seeded' AND "
                            "CAST(json_extract(summary, '$.groups') AS INTEGER) = 11"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.contribution.paid'"),
                 test_count("SELECT COUNT(*) FROM groupbuy_payments"));
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'groupbuy.qr.verified'"),
                 test_count("SELECT COUNT(*) FROM groupbuy_contributions WHERE is_collected = 1"));
    int64_t checked;
    cr_assert_eq(audit_verify(test_db(), &checked), 0);
    ledger_balanced();
}

Test(groupbuy_seed, catalog_and_accounts)
{
    cr_assert_eq(seed(42, false), 0);
    cr_assert_geq(test_count("SELECT COUNT(*) FROM groupbuy_suppliers"), 2);
    cr_assert_geq(test_count("SELECT COUNT(*) FROM groupbuy_products"), 6);
    static const char *const staples[] = {"rice", "beans", "cooking oil", "sugar", "flour", "detergent"};
    for (size_t i = 0; i < sizeof staples / sizeof *staples; i++) {
        int64_t n = -1;
        db_int(test_db(), &n, "SELECT COUNT(*) FROM groupbuy_products WHERE lower(name) LIKE '%' || $1 || '%'",
               DB_S(staples[i]));
        cr_expect_geq(n, 1, "a %s product", staples[i]);
    }
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_products WHERE bulk_price_cents >= unit_price_cents OR "
                            "moq < 2 OR max_per_trader IS NULL"), 0);
    test_expect_role("groupbuy", "groupbuy.admin.1", "admin", "", 0);
    test_expect_role("groupbuy", "groupbuy.supplier.1", "supplier", "supplier", 1);
    test_expect_role("groupbuy", "groupbuy.supplier.2", "supplier", "supplier", 2);
    test_expect_role("groupbuy", "groupbuy.staff.1", "supplier_staff", "supplier", 1);
    test_expect_role("groupbuy", "groupbuy.trader.1", "trader", "", 0);
    test_expect_role("groupbuy", "groupbuy.trader.8", "trader", "", 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM user_roles WHERE app = 'groupbuy' AND role = 'trader'"), 8);
    char *h = test_text("SELECT password_hash FROM users WHERE username = 'groupbuy.staff.1'");
    cr_assert(auth_verify_password(h, "atrium-demo-pass"));
    free(h);
    /* suppliers' users were told about their orders, traders about their pickups */
    cr_assert_gt(test_count("SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE "
                            "u.username LIKE 'groupbuy.trader.%' AND n.kind = 'groupbuy.ready_for_collection'"), 0);
    cr_assert_gt(test_count("SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE "
                            "u.username LIKE 'groupbuy.supplier.%' AND n.kind = 'groupbuy.order.created'"), 0);
}

Test(groupbuy_seed, through_seed_run)
{
    struct seed_opts o = {.seed = 3, .password = "atrium-demo-pass"};
    cr_assert_eq(seed_run(test_db(), "groupbuy", &o), 0);
    cr_assert_eq(test_count(partially_collected), 1);
    ledger_balanced();
}

Test(groupbuy_seed, same_seed_same_world)
{
    cr_assert_eq(seed(7, false), 0);
    char *a = snapshot();
    cr_assert_eq(seed(7, true), 0);
    char *b = snapshot();
    cr_assert_str_eq(a, b);
    cr_assert_eq(seed(8, true), 0);
    char *c = snapshot();
    cr_assert_str_neq(a, c, "another --seed, other traders and quantities");
    cr_assert_eq(test_count(ready_to_complete), 1);
    cr_assert_eq(test_count(partially_collected), 1);
    ledger_balanced();
    free(a), free(b), free(c);
}

Test(groupbuy_seed, again_without_clear_is_a_noop)
{
    cr_assert_eq(seed(42, false), 0);
    char *a = snapshot();
    int64_t audits = test_count("SELECT COUNT(*) FROM audit_log");
    cr_assert_eq(seed(99, false), 0);
    char *b = snapshot();
    cr_assert_str_eq(a, b);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log"), audits);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE app = 'groupbuy' AND action = 'groupbuy.demo_data.seeded'"), 1);
    free(a), free(b);
}

Test(groupbuy_seed, clear_reseeds)
{
    cr_assert_eq(seed(42, false), 0);
    char *a = snapshot();
    int64_t groups = test_count("SELECT COUNT(*) FROM groupbuy_groups");
    struct db *db = test_db();
    /* rows made after seeding go too */
    cr_assert_eq(db_exec(db, "INSERT INTO groupbuy_webhook_events (provider, event_id, type, outcome) VALUES "
                             "('sandbox', 'evt_1', 'charge.succeeded', 'applied')"), 1);
    cr_assert_eq(db_exec(db, "INSERT INTO groupbuy_suppliers (name) VALUES ('Extra Supplier')"), 1);
    cr_assert_eq(seed(42, true), 0);
    char *b = snapshot();
    cr_assert_str_eq(a, b);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_groups"), groups);
    cr_assert_eq(test_count("SELECT MIN(id) FROM groupbuy_groups"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_webhook_events"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM groupbuy_suppliers WHERE name = 'Extra Supplier'"), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM user_roles WHERE app = 'groupbuy' AND role = 'trader'"), 8);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM users WHERE username LIKE 'groupbuy.%'"), 13);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE app = 'groupbuy' AND action = 'groupbuy.demo_data.seeded' AND "
                            "CAST(json_extract(summary, '$.cleared') AS TEXT) IN ('1', 'true')"), 1);
    ledger_balanced();
    free(a), free(b);
}

Test(groupbuy_seed, auto_complete_job_afterwards)
{
    cr_assert_eq(seed(42, false), 0);
    int64_t ready_id = 0, failing_id = 0;
    cr_assert_eq(db_int(test_db(), &ready_id, "SELECT g.id " READY_TO_COMPLETE), 1);
    cr_assert_eq(db_int(test_db(), &failing_id, "SELECT g.id " FAILING), 1);

    char *result = NULL;
    cr_assert_eq(jobs_run(test_db(), "groupbuy.auto_complete", &result), 0);
    cr_assert(result);
    cr_assert(strstr(result, "completed 1, failed 1"), "%s", result);
    free(result);
    cr_assert_eq(test_count(ready_to_complete), 0);
    cr_assert_eq(test_count(failing), 0);
    int64_t n = -1;
    db_int(test_db(), &n, "SELECT COUNT(*) FROM groupbuy_groups g JOIN groupbuy_supplier_orders o ON o.group_id = g.id "
                          "WHERE g.id = $1 AND g.status = 'completed' AND g.supplier_status = 'pending_supplier' AND "
                          "o.status = 'pending'", DB_I(ready_id));
    cr_assert_eq(n, 1, "the ready group completed into a pending order");
    db_int(test_db(), &n, "SELECT COUNT(*) FROM groupbuy_groups g WHERE g.id = $1 AND g.status = 'failed' AND "
                          "(SELECT COUNT(*) FROM groupbuy_contributions c WHERE c.group_id = g.id AND "
                          "c.payment_status = 'paid' AND c.refund_status IS DISTINCT FROM 'refunded') = 0 AND "
                          "(SELECT COUNT(*) FROM groupbuy_contributions c WHERE c.group_id = g.id AND "
                          "c.status = 'active' AND c.payment_status <> 'paid') = 0", DB_I(failing_id));
    cr_assert_eq(n, 1, "the failing group failed, its payers refunded, its unpaid contributions cancelled");
    ledger_balanced();

    /* twice changes nothing */
    char *a = snapshot();
    cr_assert_eq(jobs_run(test_db(), "groupbuy.auto_complete", &result), 0);
    cr_assert(strstr(result, "completed 0, failed 0"), "%s", result);
    free(result);
    char *b = snapshot();
    cr_assert_str_eq(a, b);
    ledger_balanced();
    free(a), free(b);
}
