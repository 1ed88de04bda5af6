/* seed.c -- `atrium seed groupbuy [--clear] [--seed N]`: a repeatable demo
 * world of wholesale staples for small traders.
 *
 * Three suppliers (ids 1..3) with eight products (ids 1..8: rice, beans,
 * maize flour, cooking oil, sugar, wheat flour, detergent, soap; unit and bulk
 * prices, MOQs and per-trader limits), the accounts groupbuy.admin.1,
 * groupbuy.supplier.1..3, groupbuy.staff.1 (counter staff of supplier 1) and
 * groupbuy.trader.1..8, and one group buy in every state of the lifecycle.
 *
 * Groups and contributions are rows (groups with past deadlines cannot be
 * made through the API); everything after that goes through the app's own
 * functions so the ledger reconciles: payments through
 * groupbuy_payment_apply (source "seed", provider "sandbox", provider_ref
 * "sbx_ch_seed<id>"; "sbx_chrf_seed<id>" makes the sandbox decline that
 * charge's refund), completion, the supplier's answer, ready for collection,
 * collection, failing. That all runs in one transaction; the refunds of the
 * rejected and failed groups then run through the sandbox after the commit
 * (providers are never called inside a transaction).
 *
 * Which traders join, their quantities and which of them pay come from a
 * generator seeded by --seed only; times are relative to now. Seeding again
 * without --clear is a no-op; --clear deletes the app's rows (children
 * first) and its role assignments, then seeds again. */
#include "groupbuy.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NTRADERS 8
#define NSUPPLIERS 3
#define HOUR 3600
#define DAY (24 * HOUR)

/* ---------------------------------------------------------------- random */

/* ------------------------------------------------------------ fixed data */

static const struct supplier {
    const char *name, *email, *city;
} suppliers[NSUPPLIERS] = {
    {"Sahel Grains & Pulses", "orders@sahelgrains.example", "Kano"},
    {"Delta Oils & Sugar", "sales@deltaoils.example", "Lagos"},
    {"Harmattan Household Supplies", "trade@harmattan.example", "Onitsha"},
};

static const struct product {
    int supplier;
    const char *name, *description, *unit;
    int unit_price, bulk_price, moq, min_pt, max_pt;
} products[] = {
    {1, "Parboiled long-grain rice 50 kg", "Stone-free, double polished, sealed woven bag.", "bag", 4200, 3650, 40, 1, 10},
    {1, "Brown beans 25 kg", "Oloyin honey beans, sorted and weevil-free.", "bag", 2600, 2200, 30, 1, 8},
    {1, "Maize flour 10 kg", "Fine white maize meal, fortified.", "bag", 1100, 900, 50, 2, 20},
    {2, "Vegetable cooking oil 25 L", "Refined soybean oil, sealed jerrycan.", "jerrycan", 3900, 3400, 20, 1, 6},
    {2, "Granulated sugar 50 kg", "Refined white sugar, food grade.", "bag", 4500, 3900, 25, 1, 5},
    {2, "Wheat flour 50 kg", "Baker's flour, 11% protein.", "bag", 3800, 3300, 30, 1, 8},
    {3, "Laundry detergent 5 kg", "Powder detergent, carton of 4 x 1.25 kg.", "carton", 1800, 1450, 30, 1, 10},
    {3, "Bar soap, carton of 48", "Multipurpose laundry bar soap, 200 g bars.", "carton", 2400, 2000, 20, 1, 6},
};
#define NPRODUCTS (int)(sizeof products / sizeof products[0])

static const char *const pickups[] = {
    "Sabon Gari Market, Gate 3, Kano", "Balogun Market Warehouse 7, Lagos Island",
    "Onitsha Main Market, Line 12, Onitsha", "Oshodi Traders' Depot, Bay 4, Lagos",
    "Kurmi Market Stores, Block C, Kano", "Ariaria Market, Phase 2, Aba",
};

static const char *const trader_names[NTRADERS] = {
    "Amina Bello", "Chinedu Okafor", "Fatima Yusuf", "Emeka Eze",
    "Ngozi Adeyemi", "Ibrahim Musa", "Blessing Okoro", "Tunde Bakare",
};

/* How far each group goes, and the contributions it gets. */
enum stage { OPEN, FAILED, COMPLETED, ACCEPTED, REJECTED, READY, COLLECTING };

static const struct plan {
    const char *label;
    int product;                /* 1-based */
    int deadline_h;             /* hours from now */
    int fill_pct;               /* paid quantity as % of MOQ */
    int unpaid;                 /* contributions left unpaid */
    enum stage stage;
    bool refund_declines;       /* the first paid charge's refund is declined */
} plans[] = {
    {"open, 60% of MOQ paid", 1, 5 * 24, 60, 2, OPEN, false},
    {"open, nearly at MOQ", 4, 2 * 24, 85, 1, OPEN, false},
    {"open, just started", 6, 9 * 24, 20, 1, OPEN, false},
    {"deadline passed, MOQ met, all paid: auto-completes", 2, -2, 110, 0, OPEN, false},
    {"deadline passed, MOQ not met: fails on the next job run", 7, -3, 40, 1, OPEN, false},
    {"failed, refunded (one refund declined, retried)", 8, -30, 50, 1, FAILED, true},
    {"completed early, pending supplier", 5, 24, 105, 1, COMPLETED, false},
    {"accepted by the supplier", 3, -48, 100, 0, ACCEPTED, false},
    {"rejected by the supplier, refunded", 6, -72, 110, 1, REJECTED, false},
    {"ready for collection", 1, -96, 100, 0, READY, false},
    {"ready, partially collected", 2, -120, 115, 0, COLLECTING, false},
};
#define NPLANS (int)(sizeof plans / sizeof plans[0])

#define ACCEPT_NOTES "Stock reserved at our depot; goods at the pickup point within 3 days."
#define REJECT_REASON "Mill shut down for maintenance: we cannot supply wheat flour this month."

/* Deleted by --clear, children first. */
static const char *const clear_tables[] = {
    "groupbuy_ledger", "groupbuy_extra_charges", "groupbuy_refunds", "groupbuy_payments", "groupbuy_webhook_events",
    "groupbuy_supplier_orders", "groupbuy_contributions", "groupbuy_groups", "groupbuy_products",
    "groupbuy_suppliers", NULL};

/* ----------------------------------------------------------------- world */

struct world {
    struct seed_rng g;
    const struct seed_opts *o;
    time_t now;
    int64_t admin, staff, supplier_users[NSUPPLIERS + 1], traders[NTRADERS], groups[NPLANS];
    int contributions, paid;
};

static void rfc3339(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

__attribute__((format(printf, 7, 8)))
static int64_t user(struct db *db, struct world *w, const char *display, const char *role, const char *scope_type,
                    int64_t scope_id, const char *fmt, ...)
{
    char name[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return seed_user(db, name, display, w->o->password_hash, "groupbuy", role, scope_type, scope_id);
}

static int seed_catalog(struct db *db)
{
    for (int s = 0; s < NSUPPLIERS; s++)
        if (db_exec(db, "INSERT INTO groupbuy_suppliers (id, name, contact_email) VALUES ($1, $2, $3)", DB_I(s + 1),
                    DB_S(suppliers[s].name), DB_S(suppliers[s].email)) != 1)
            return -1;
    for (int i = 0; i < NPRODUCTS; i++) {
        const struct product *p = &products[i];
        if (db_exec(db, "INSERT INTO groupbuy_products (id, supplier_id, name, description, unit, unit_price_cents, "
                        "bulk_price_cents, currency, moq, min_per_trader, max_per_trader) VALUES ($1, $2, $3, $4, $5, "
                        "$6, $7, 'USD', $8, $9, $10)",
                    DB_I(i + 1), DB_I(p->supplier), DB_S(p->name), DB_S(p->description), DB_S(p->unit),
                    DB_I(p->unit_price), DB_I(p->bulk_price), DB_I(p->moq), DB_I(p->min_pt), DB_I(p->max_pt)) != 1)
            return -1;
    }
    return 0;
}

static int seed_users(struct db *db, struct world *w)
{
    char display[96];
    if ((w->admin = user(db, w, "Group-buy Admin", "admin", NULL, 0, "groupbuy.admin.1")) < 0) return -1;
    for (int s = 1; s <= NSUPPLIERS; s++) {
        snprintf(display, sizeof display, "%s (supplier)", suppliers[s - 1].name);
        if ((w->supplier_users[s] = user(db, w, display, "supplier", "supplier", s, "groupbuy.supplier.%d", s)) < 0)
            return -1;
    }
    if ((w->staff = user(db, w, "Musa Danjuma (counter staff)", "supplier_staff", "supplier", 1, "groupbuy.staff.1")) < 0)
        return -1;
    for (int t = 0; t < NTRADERS; t++)
        if ((w->traders[t] = user(db, w, trader_names[t], "trader", NULL, 0, "groupbuy.trader.%d", t + 1)) < 0)
            return -1;
    return 0;
}

static void list_accounts(void)
{
    seed_account("groupbuy.admin.1", "groupbuy admin: complete, pickups, refunds, ledger");
    seed_account("groupbuy.supplier.1", "supplier 1 (Sahel Grains & Pulses): products, orders, balance");
    seed_account("groupbuy.supplier.2", "supplier 2 (Delta Oils & Sugar)");
    seed_account("groupbuy.supplier.3", "supplier 3 (Harmattan Household Supplies)");
    seed_account("groupbuy.staff.1", "counter staff of supplier 1: scans pickup QR codes");
    seed_account("groupbuy.trader.1", "trader: joins, pays, fetches QR codes");
    seed_account("groupbuy.trader.<1..8>", "traders");
}

/* ---------------------------------------------------------------- groups */

struct group {
    int64_t id;
    time_t made, deadline;
    const struct plan *pl;
    const struct product *p;
};

static int insert_group(struct db *db, struct world *w, struct group *gr)
{
    char deadline[32], created[32];
    const struct plan *pl = gr->pl;
    gr->deadline = (w->now / HOUR + pl->deadline_h) * HOUR;
    gr->made = pl->deadline_h > 0 ? w->now - seed_rng_range(&w->g, 1, 4) * DAY - seed_rng_range(&w->g, 0, DAY - 1)
                                  : gr->deadline - seed_rng_range(&w->g, 8, 14) * DAY;
    int64_t creator = seed_rng_range(&w->g, 0, 1) ? w->admin : w->supplier_users[gr->p->supplier];
    const char *pickup = pickups[seed_rng_range(&w->g, 0, (int64_t)(sizeof pickups / sizeof *pickups) - 1)];
    rfc3339(gr->deadline, deadline);
    rfc3339(gr->made, created);
    return db_int(db, &gr->id, "INSERT INTO groupbuy_groups (product_id, supplier_id, creator_id, moq, "
                               "target_quantity, max_per_trader, unit_price_cents, currency, deadline, pickup_location, "
                               "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'USD', $8, $9, $10, $10) "
                               "RETURNING id",
                  DB_I(pl->product), DB_I(gr->p->supplier), DB_I(creator), DB_I(gr->p->moq), DB_I(gr->p->moq * 3 / 2),
                  DB_I(gr->p->max_pt), DB_I(gr->p->bulk_price), DB_S(deadline), DB_S(pickup), DB_S(created)) == 1
               ? 0 : -1;
}

/* A contribution made some time between the group's creation and now (or
 * its deadline when that has passed); its id, or -1. */
static int64_t insert_contribution(struct db *db, struct world *w, const struct group *gr, int64_t trader,
                                   int64_t quantity, bool paying)
{
    char at[32];
    int64_t id;
    time_t end = gr->deadline < w->now ? gr->deadline : w->now;
    rfc3339(gr->made + (time_t)seed_rng_range(&w->g, 60, end - gr->made > 120 ? end - gr->made - 60 : 60), at);
    if (db_int(db, &id, "INSERT INTO groupbuy_contributions (group_id, trader_id, quantity, amount_cents, currency, "
                        "payment_attempts, created_at, updated_at) VALUES ($1, $2, $3, $4, 'USD', $5, $6, $6) "
                        "RETURNING id",
               DB_I(gr->id), DB_I(trader), DB_I(quantity), DB_I(quantity * gr->p->bulk_price), DB_I(paying),
               DB_S(at)) != 1)
        return -1;
    w->contributions++;
    return id;
}

static int pay(struct db *db, struct world *w, int64_t id, int64_t amount, int64_t trader, bool refund_declines)
{
    char ref[48], provider_ref[64];
    snprintf(ref, sizeof ref, "GB-C%lld-1", (long long)id);
    snprintf(provider_ref, sizeof provider_ref, "%s%lld", refund_declines ? "sbx_chrf_seed" : "sbx_ch_seed",
             (long long)id);
    struct groupbuy_payment p = {"sandbox", provider_ref, ref, amount, "USD", "seed"};
    if (groupbuy_payment_apply(db, id, &p, trader) != 1) return -1;
    w->paid++;
    return 0;
}

/* Traders in a random order: the first ones pay until the paid quantity
 * reaches fill_pct of the MOQ, the next `unpaid` ones join without paying. */
static int contribute(struct db *db, struct world *w, const struct group *gr)
{
    const struct product *p = gr->p;
    int order[NTRADERS], slots = NTRADERS - gr->pl->unpaid, t = 0;
    int64_t target = ((int64_t)p->moq * gr->pl->fill_pct + 99) / 100, sum = 0;
    for (int i = 0; i < NTRADERS; i++) order[i] = i;
    for (int i = NTRADERS - 1; i > 0; i--) {
        int j = (int)seed_rng_range(&w->g, 0, i), x = order[i];
        order[i] = order[j];
        order[j] = x;
    }
    for (; t < slots && sum < target; t++) {
        int64_t need = target - sum, lo = (need + (slots - t) - 1) / (slots - t), hi = need;
        lo = lo < p->min_pt ? p->min_pt : lo > p->max_pt ? p->max_pt : lo;
        hi = hi > p->max_pt ? p->max_pt : hi < lo ? lo : hi;
        int64_t q = seed_rng_range(&w->g, lo, hi), trader = w->traders[order[t]];
        int64_t id = insert_contribution(db, w, gr, trader, q, true);
        if (id < 0 || pay(db, w, id, q * p->bulk_price, trader, gr->pl->refund_declines && t == 0) < 0) return -1;
        sum += q;
    }
    if (sum < target) {
        fprintf(stderr, "atrium: seeding group %lld: %lld of %lld paid\n", (long long)gr->id, (long long)sum,
                (long long)target);
        return -1;
    }
    for (int u = 0; u < gr->pl->unpaid && t < NTRADERS; u++, t++)
        if (insert_contribution(db, w, gr, w->traders[order[t]], seed_rng_range(&w->g, p->min_pt, p->max_pt), false) < 0)
            return -1;
    return 0;
}

static int expect_done(int rc, const struct group *gr, const char *what, const char *why)
{
    if (rc == 1) return 0;
    fprintf(stderr, "atrium: seeding group %lld (%s): %s gave %d%s%s\n", (long long)gr->id, gr->pl->label, what, rc,
            why && *why ? ": " : "", why ? why : "");
    return -1;
}

/* Collects the first half of the group's codes, at the counter of supplier 1. */
static int collect_half(struct db *db, struct world *w, const struct group *gr)
{
    json_t *ids = db_json_all(db, "SELECT id FROM groupbuy_contributions WHERE group_id = $1 AND qr_token_hash IS NOT "
                                  "NULL ORDER BY id", DB_I(gr->id));
    size_t n = json_array_size(ids);
    int rc = ids ? 0 : -1;
    for (size_t i = 0; i < n / 2 && rc == 0; i++)
        rc = expect_done(groupbuy_qr_collect(db, json_integer_value(json_object_get(json_array_get(ids, i), "id")),
                                             w->staff), gr, "collect", NULL);
    json_decref(ids);
    return rc;
}

/* Moves the group through the lifecycle as far as its plan says. */
static int advance(struct db *db, struct world *w, const struct group *gr)
{
    char why[160] = "";
    int issued;
    int64_t order = 0, answerer = w->supplier_users[gr->p->supplier];
    bool early = gr->deadline > w->now;
    enum stage st = gr->pl->stage;
    if (st == OPEN) return 0;
    if (st == FAILED) return expect_done(groupbuy_group_fail(db, gr->id, 0, why, sizeof why), gr, "fail", why);
    if (expect_done(groupbuy_group_complete(db, gr->id, early ? w->admin : 0, early, why, sizeof why), gr,
                    "complete", why) < 0)
        return -1;
    if (st == COMPLETED) return 0;
    if (db_int(db, &order, "SELECT id FROM groupbuy_supplier_orders WHERE group_id = $1", DB_I(gr->id)) != 1) return -1;
    if (st == REJECTED) return expect_done(groupbuy_order_reject(db, order, answerer, REJECT_REASON), gr, "reject", NULL);
    if (expect_done(groupbuy_order_accept(db, order, answerer, ACCEPT_NOTES), gr, "accept", NULL) < 0) return -1;
    if (st == ACCEPTED) return 0;
    if (expect_done(groupbuy_mark_ready(db, gr->id, w->admin, &issued), gr, "mark ready", NULL) < 0) return -1;
    return st == READY ? 0 : collect_half(db, w, gr);
}

static int seed_groups(struct db *db, struct world *w)
{
    for (int i = 0; i < NPLANS; i++) {
        struct group gr = {.pl = &plans[i], .p = &products[plans[i].product - 1]};
        if (insert_group(db, w, &gr) < 0 || contribute(db, w, &gr) < 0 || advance(db, w, &gr) < 0) return -1;
        w->groups[i] = gr.id;
    }
    return 0;
}

/* ------------------------------------------------------------------ seed */

static int seed_all(struct db *db, struct world *w)
{
    if ((w->o->clear && seed_clear(db, "groupbuy", clear_tables) < 0) || seed_catalog(db) < 0 || seed_users(db, w) < 0 || seed_groups(db, w) < 0)
        return -1;
    return 0;
}

static int finish(struct db *db, const struct world *w, const struct groupbuy_refund_run *run)
{
    if (db_begin(db) < 0) return -1;
    if (audit_write_as(db, 0, "groupbuy", "groupbuy.demo_data.seeded", "app", 0,
                       json_pack("{s:I, s:b, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "seed", (json_int_t)w->o->seed,
                                 "cleared", w->o->clear, "suppliers", NSUPPLIERS, "products", NPRODUCTS, "groups",
                                 NPLANS, "contributions", w->contributions, "paid", w->paid, "refunded",
                                 run->refunded, "refunds_failed", run->failed)) < 0 ||
        db_commit(db) < 0) {
        db_rollback(db);
        return -1;
    }
    if (!w->o->progress) return 0;
    for (int i = 0; i < NPLANS; i++)
        printf("  group %-3lld %-26.26s %s\n", (long long)w->groups[i], products[plans[i].product - 1].name,
               plans[i].label);
    printf("  groupbuy: %d suppliers, %d products, %d groups, %d contributions (%d paid), %d refunded, "
           "%d refund(s) failed\n", NSUPPLIERS, NPRODUCTS, NPLANS, w->contributions, w->paid, run->refunded,
           run->failed);
    return 0;
}

int groupbuy_seed(struct db *db, const struct seed_opts *opts)
{
    struct world w = {.o = opts, .now = time(NULL)};
    struct groupbuy_refund_run run = {0};
    int64_t present = 0;
    if (!opts->password_hash) {
        fprintf(stderr, "atrium: groupbuy_seed needs the demo password hash\n");
        return -1;
    }
    seed_rng_init(&w.g, opts->seed, 1);
    if (!opts->clear) {
        if (db_int(db, &present, "SELECT COUNT(*) FROM groupbuy_suppliers") != 1) return -1;
        if (present > 0) {
            printf("groupbuy: demo data already present (%lld suppliers); nothing seeded (use --clear to reseed)\n",
                   (long long)present);
            list_accounts();
            return 0;
        }
    }
    if (db_begin(db) < 0) return -1;
    if (seed_all(db, &w) < 0 || db_sync_ids(db, false) < 0 || db_commit(db) < 0) {
        db_rollback(db);
        return -1;
    }
    if (groupbuy_refunds_process(db, 0, GB_REFUNDS_PENDING, &run) < 0) {
        fprintf(stderr, "atrium: groupbuy refunds could not all run; the refunds job retries them\n");
        return -1;
    }
    if (finish(db, &w, &run) < 0) return -1;
    list_accounts();
    return 0;
}
