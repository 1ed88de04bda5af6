/* seed.c -- `atrium seed codepop [--clear] [--seed N] [--stores-per-region K]
 * [--orders N]`: a repeatable demo world.
 *
 * Reference data (regions A-E, one hub each around a US city, K stores per
 * region, a machine per store, drinks and recipes) is inserted with explicit
 * ids from a generator seeded only by --seed, so every node seeded with the
 * same --seed and K gets the same ids and rows (the P2P design relies on it).
 * Inventory and orders come from their own streams of the same seed.
 *
 * Orders: 60 local days ending the day before "today" (the UTC date six hours
 * ago, so even the latest West-coast evening is in the past), weekends and
 * Fridays busier, a slight upward trend, lunch and late-afternoon peaks in
 * each store's local time (US daylight saving rule), 1-3 lines of 1-2 drinks.
 * About 95.5% are picked up and paid (one revenue row each), 2.5% cancelled
 * before paying, 2% paid then cancelled (a revenue row plus a refund row).
 *
 * Everything runs in one transaction with cached prepared statements; seeding
 * again without --clear is a no-op. --clear deletes codepop's rows (not the
 * node registry) and role assignments first. */
#include "codepop.h"
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define DAYS 60
#define ACCOUNT_USERS 20

/* ---------------------------------------------------------------- random */

static double rng_real(struct seed_rng *g, double lo, double hi)
{
    return lo + (hi - lo) * (double)(seed_rng_next(g) >> 11) / 9007199254740992.0;
}

/* Index into cumulative weights cum[0..n-1] (cum[n-1] is the total). */
static int rng_pick(struct seed_rng *g, const int64_t *cum, int n)
{
    int64_t x = (int64_t)(seed_rng_next(g) % (uint64_t)cum[n - 1]);
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cum[mid] > x) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

static void cumulate(int64_t *cum, const int *w, int n)
{
    for (int i = 0; i < n; i++) cum[i] = (i ? cum[i - 1] : 0) + w[i];
}

/* ------------------------------------------------------------ fixed data */

static const struct city {
    const char *code, *region, *city, *state, *tz;
    int utc_std;                            /* standard offset, hours */
    double lat, lon, hub_lat, hub_lon;
    const char *hoods[8];
} cities[5] = {
    {"A", "Northeast", "New York", "NY", "America/New_York", -5, 40.7306, -73.9866, 40.7896, -74.0565,
     {"Midtown", "SoHo", "Harlem", "Williamsburg", "Astoria", "Chelsea", "Park Slope", "Tribeca"}},
    {"B", "Southeast", "Atlanta", "GA", "America/New_York", -5, 33.7490, -84.3880, 33.6367, -84.4281,
     {"Midtown", "Buckhead", "Decatur", "Old Fourth Ward", "Virginia-Highland", "West End", "Sandy Springs", "Marietta"}},
    {"C", "Central", "Chicago", "IL", "America/Chicago", -6, 41.8781, -87.6298, 41.8369, -87.6847,
     {"Loop", "Wicker Park", "Lincoln Park", "Hyde Park", "Logan Square", "Lakeview", "Pilsen", "Evanston"}},
    {"D", "Mountain", "Denver", "CO", "America/Denver", -7, 39.7392, -104.9903, 39.7817, -104.8781,
     {"LoDo", "Capitol Hill", "Highlands", "Cherry Creek", "Five Points", "Wash Park", "Aurora", "Lakewood"}},
    {"E", "West", "Los Angeles", "CA", "America/Los_Angeles", -8, 34.0522, -118.2437, 33.9850, -118.2200,
     {"Downtown", "Silver Lake", "Santa Monica", "Pasadena", "Koreatown", "Echo Park", "Burbank", "Culver City"}},
};

static const char *const streets[] = {"Main St", "Oak Ave", "Elm St", "Maple Ave", "Park Blvd", "Washington St",
                                      "Lake St", "Broadway", "Market St", "Pine St", "Cedar Rd", "Sunset Blvd"};

static const struct item {
    const char *type, *name;
    int qty_min, qty_max, thr_min, thr_max;
} items[] = {
    {"Syrups", "Cherry Syrup", 400, 2500, 60, 120},      {"Syrups", "Vanilla Syrup", 400, 2500, 60, 120},
    {"Syrups", "Cola Syrup", 400, 2500, 60, 120},        {"Syrups", "Lime Syrup", 300, 2000, 50, 100},
    {"Syrups", "Coconut Syrup", 300, 2000, 50, 100},     {"Syrups", "Strawberry Syrup", 300, 2000, 50, 100},
    {"Syrups", "Raspberry Syrup", 300, 2000, 50, 100},   {"Syrups", "Peach Syrup", 300, 2000, 50, 100},
    {"Syrups", "Mango Syrup", 300, 2000, 50, 100},       {"Syrups", "Blue Raspberry Syrup", 300, 2000, 50, 100},
    {"Sodas", "Club Soda", 800, 3000, 100, 200},         {"Sodas", "Lemon-Lime Soda", 500, 2500, 80, 150},
    {"Sodas", "Root Beer", 300, 1500, 50, 100},          {"Sodas", "Diet Soda", 300, 1500, 50, 100},
    {"Add-ins", "Whipped Cream", 300, 1500, 40, 80},     {"Add-ins", "Coconut Cream", 300, 1500, 40, 80},
    {"Add-ins", "Sweet Cream", 300, 1500, 40, 80},       {"Add-ins", "Fresh Lime", 300, 1500, 40, 80},
    {"Cups", "Cups", 1500, 4000, 200, 300},
};
#define NITEMS (int)(sizeof items / sizeof items[0])

/* Recipes are JSON objects {item_name: amount}, inserted through json_each. */
static const struct drink {
    const char *name;
    int price_cents;
    const char *complexity;
    int popularity;
    const char *recipe;
} drinks[] = {
    {"Cherry Cola", 349, "simple", 14, "{\"Cola Syrup\":1,\"Cherry Syrup\":1,\"Club Soda\":1,\"Cups\":1}"},
    {"Vanilla Cola", 349, "simple", 10, "{\"Cola Syrup\":1,\"Vanilla Syrup\":1,\"Club Soda\":1,\"Cups\":1}"},
    {"Classic Cola", 249, "simple", 8, "{\"Cola Syrup\":2,\"Club Soda\":1,\"Cups\":1}"},
    {"Lime Rickey", 299, "simple", 5, "{\"Lime Syrup\":2,\"Club Soda\":1,\"Fresh Lime\":1,\"Cups\":1}"},
    {"Dirty Coconut Cola", 449, "medium", 12,
     "{\"Cola Syrup\":1,\"Coconut Syrup\":1,\"Coconut Cream\":1,\"Fresh Lime\":1,\"Club Soda\":1,\"Cups\":1}"},
    {"Cherry Limeade", 399, "medium", 9,
     "{\"Cherry Syrup\":1,\"Lime Syrup\":2,\"Lemon-Lime Soda\":1,\"Fresh Lime\":1,\"Cups\":1}"},
    {"Vanilla Cream Soda", 399, "medium", 6, "{\"Vanilla Syrup\":2,\"Sweet Cream\":1,\"Club Soda\":1,\"Cups\":1}"},
    {"Strawberry Fizz", 329, "simple", 6, "{\"Strawberry Syrup\":2,\"Lemon-Lime Soda\":1,\"Cups\":1}"},
    {"Raspberry Rush", 329, "simple", 4, "{\"Raspberry Syrup\":2,\"Club Soda\":1,\"Cups\":1}"},
    {"Peach Paradise", 429, "medium", 5,
     "{\"Peach Syrup\":2,\"Coconut Cream\":1,\"Lemon-Lime Soda\":1,\"Cups\":1}"},
    {"Mango Tango", 429, "medium", 5, "{\"Mango Syrup\":2,\"Lime Syrup\":1,\"Club Soda\":1,\"Cups\":1}"},
    {"Blue Lagoon", 449, "medium", 4,
     "{\"Blue Raspberry Syrup\":2,\"Coconut Syrup\":1,\"Lemon-Lime Soda\":1,\"Cups\":1}"},
    {"Root Beer Float", 549, "complex", 6,
     "{\"Root Beer\":1,\"Vanilla Syrup\":1,\"Whipped Cream\":1,\"Sweet Cream\":1,\"Cups\":1}"},
    {"Triple Cherry Bomb", 599, "complex", 4,
     "{\"Cherry Syrup\":3,\"Cola Syrup\":1,\"Whipped Cream\":1,\"Club Soda\":1,\"Cups\":1}"},
    {"Diet Cherry Vanilla", 349, "simple", 7, "{\"Diet Soda\":1,\"Cherry Syrup\":1,\"Vanilla Syrup\":1,\"Cups\":1}"},
    {"Diet Coconut Lime", 399, "medium", 5,
     "{\"Diet Soda\":1,\"Coconut Syrup\":1,\"Lime Syrup\":1,\"Fresh Lime\":1,\"Cups\":1}"},
    {"Strawberry Shortcake Soda", 599, "complex", 3,
     "{\"Strawberry Syrup\":2,\"Vanilla Syrup\":1,\"Whipped Cream\":1,\"Sweet Cream\":1,\"Club Soda\":1,\"Cups\":1}"},
    {"Tropical Sunrise", 579, "complex", 3,
     "{\"Mango Syrup\":1,\"Peach Syrup\":1,\"Strawberry Syrup\":1,\"Coconut Cream\":1,\"Lemon-Lime Soda\":1,\"Cups\":1}"},
    {"Raspberry Lime Twist", 419, "medium", 4,
     "{\"Raspberry Syrup\":1,\"Lime Syrup\":1,\"Fresh Lime\":1,\"Club Soda\":1,\"Cups\":1}"},
    {"Cola Cream Dream", 549, "complex", 4,
     "{\"Cola Syrup\":2,\"Vanilla Syrup\":1,\"Sweet Cream\":1,\"Whipped Cream\":1,\"Club Soda\":1,\"Cups\":1}"},
    {"Blue Razz Lime", 449, "medium", 4, "{\"Blue Raspberry Syrup\":2,\"Lime Syrup\":1,\"Club Soda\":1,\"Cups\":1}"},
    {"Peach Cobbler Cream", 599, "complex", 2,
     "{\"Peach Syrup\":2,\"Vanilla Syrup\":1,\"Sweet Cream\":1,\"Whipped Cream\":1,\"Club Soda\":1,\"Cups\":1}"},
    {"Lemon-Lime Splash", 249, "simple", 3, "{\"Lemon-Lime Soda\":1,\"Fresh Lime\":1,\"Cups\":1}"},
    {"Coconut Cherry Cola", 449, "medium", 6,
     "{\"Cola Syrup\":1,\"Cherry Syrup\":1,\"Coconut Cream\":1,\"Club Soda\":1,\"Cups\":1}"},
};
#define NDRINKS (int)(sizeof drinks / sizeof drinks[0])

/* Local opening hours 06..21: breakfast bump, lunch and late-afternoon peaks. */
static const int hour_weights[16] = {2, 4, 5, 4, 5, 9, 12, 10, 6, 8, 10, 9, 6, 5, 4, 2};
/* tm_wday 0 = Sunday: weekends and Fridays busier (percent). */
static const int wday_weights[7] = {125, 90, 90, 95, 100, 115, 135};

/* Deleted by --clear, children first. The node registry stays. */
static const char *const clear_tables[] = {
    "codepop_analytics_cache", "codepop_preferences", "codepop_revenue", "codepop_order_lines", "codepop_orders", "codepop_store_order_counts",
    "codepop_deliveries", "codepop_supply_request_items", "codepop_supply_requests", "codepop_maintenance_logs",
    "codepop_repair_schedules", "codepop_store_inventory", "codepop_hub_inventory", "codepop_p2p_inbox",
    "codepop_p2p_events", "codepop_p2p_seen", "codepop_machines", "codepop_recipe_items", "codepop_drinks",
    "codepop_stores", "codepop_hubs", "codepop_regions", NULL};

/* ------------------------------------------------------------------ plan */

struct plan {
    unsigned seed;
    int per_region, orders, nstores;
    time_t first_day;               /* 00:00 "UTC" of the first local day */
    int64_t users[ACCOUNT_USERS];
    int64_t n_users, n_lines, n_revenue;
};

static int int_flag(const struct seed_opts *o, const char *name, int dflt, int min, int max, int *out)
{
    size_t n = strlen(name);
    *out = dflt;
    for (int i = 1; i < o->argc; i++) {
        const char *v = NULL;
        if (!strcmp(o->argv[i], name) && i + 1 < o->argc) v = o->argv[i + 1];
        else if (!strncmp(o->argv[i], name, n) && o->argv[i][n] == '=') v = o->argv[i] + n + 1;
        if (!v) continue;
        char *end;
        long x = strtol(v, &end, 10);
        if (!*v || *end || x < min || x > max) {
            fprintf(stderr, "atrium: %s must be an integer from %d to %d\n", name, min, max);
            return -1;
        }
        *out = (int)x;
    }
    return 0;
}

static void rfc3339(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* US rule: from the second Sunday of March to the first Sunday of November
 * (day granularity is enough: stores are closed at 2 am). */
static time_t nth_sunday(int year, int mon, int nth)
{
    struct tm tm = {.tm_year = year - 1900, .tm_mon = mon, .tm_mday = 1};
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    return t + (time_t)(((7 - tm.tm_wday) % 7) + 7 * (nth - 1)) * 86400;
}

static int us_dst(time_t day)
{
    struct tm tm;
    gmtime_r(&day, &tm);
    int year = tm.tm_year + 1900;
    return day >= nth_sunday(year, 2, 2) && day < nth_sunday(year, 10, 1);
}

/* ------------------------------------------------------------- reference */

static int seed_reference(struct db *db, const struct plan *p)
{
    struct seed_rng g;
    char name[128], address[160], serial[16], date[32], code[16];
    seed_rng_init(&g, p->seed, 1);
    for (int c = 0; c < 5; c++) {
        const struct city *ct = &cities[c];
        snprintf(name, sizeof name, "%s Distribution Center", ct->city);
        snprintf(code, sizeof code, "HUB-%s", ct->code);
        if (db_exec(db, "INSERT INTO codepop_regions (id, code, name) VALUES ($1, $2, $3)", DB_I(c + 1),
                    DB_S(ct->code), DB_S(ct->region)) < 0 ||
            db_exec(db, "INSERT INTO codepop_hubs (id, region_id, code, name, lat, lon) VALUES ($1, $1, $2, $3, $4, $5)",
                    DB_I(c + 1), DB_S(code), DB_S(name), DB_D(ct->hub_lat), DB_D(ct->hub_lon)) < 0)
            return -1;
    }
    for (int i = 0; i < p->nstores; i++) {
        const struct city *ct = &cities[i / p->per_region];
        int k = i % p->per_region;
        if (k < 8) snprintf(name, sizeof name, "%s %s", ct->city, ct->hoods[k]);
        else snprintf(name, sizeof name, "%s #%d", ct->city, k + 1);
        snprintf(address, sizeof address, "%d %s, %s, %s", (int)seed_rng_range(&g, 100, 9899),
                 streets[seed_rng_range(&g, 0, (int64_t)(sizeof streets / sizeof *streets) - 1)], ct->city, ct->state);
        double lat = round((ct->lat + rng_real(&g, -0.12, 0.12)) * 1e4) / 1e4;
        double lon = round((ct->lon + rng_real(&g, -0.15, 0.15)) * 1e4) / 1e4;
        snprintf(serial, sizeof serial, "CP-%05d", i + 1);
        rfc3339(p->first_day + (time_t)seed_rng_range(&g, 0, DAYS - 1) * 86400, date);
        date[10] = 0;
        if (db_exec(db, "INSERT INTO codepop_stores (id, name, region_id, supply_hub_id, lat, lon, address, timezone, "
                        "opens_at, closes_at) VALUES ($1, $2, $3, $3, $4, $5, $6, $7, '06:00', '22:00')",
                    DB_I(i + 1), DB_S(name), DB_I(i / p->per_region + 1), DB_D(lat), DB_D(lon), DB_S(address),
                    DB_S(ct->tz)) < 0 ||
            db_exec(db, "INSERT INTO codepop_machines (id, store_id, serial, last_maintenance_date) VALUES ($1, $1, $2, $3)",
                    DB_I(i + 1), DB_S(serial), DB_S(date)) < 0)
            return -1;
    }
    for (int d = 0; d < NDRINKS; d++)
        if (db_exec(db, "INSERT INTO codepop_drinks (id, name, price_cents, complexity) VALUES ($1, $2, $3, $4)",
                    DB_I(d + 1), DB_S(drinks[d].name), DB_I(drinks[d].price_cents), DB_S(drinks[d].complexity)) < 0 ||
            db_exec(db, "INSERT INTO codepop_recipe_items (drink_id, item_name, amount) "
                        "SELECT $1, key, CAST(value AS INTEGER) FROM json_each($2)", DB_I(d + 1), DB_S(drinks[d].recipe)) < 0)
            return -1;
    return 0;
}

static int seed_inventory(struct db *db, const struct plan *p)
{
    struct seed_rng g;
    seed_rng_init(&g, p->seed, 2);
    for (int s = 1; s <= p->nstores; s++)
        for (int i = 0; i < NITEMS; i++)
            if (db_exec(db, "INSERT INTO codepop_store_inventory (store_id, item_type, item_name, quantity, "
                            "threshold_level) VALUES ($1, $2, $3, $4, $5)",
                        DB_I(s), DB_S(items[i].type), DB_S(items[i].name),
                        DB_I(seed_rng_range(&g, items[i].qty_min, items[i].qty_max)),
                        DB_I(seed_rng_range(&g, items[i].thr_min, items[i].thr_max))) < 0)
                return -1;
    for (int h = 1; h <= 5; h++)
        for (int i = 0; i < NITEMS; i++)
            if (db_exec(db, "INSERT INTO codepop_hub_inventory (hub_id, item_type, item_name, quantity) "
                            "VALUES ($1, $2, $3, $4)",
                        DB_I(h), DB_S(items[i].type), DB_S(items[i].name), DB_I(seed_rng_range(&g, 1000, 50000))) < 0)
                return -1;
    return 0;
}

/* ----------------------------------------------------------------- users */

/* seed_user() with a printf-style username, counted in p->n_users. */
__attribute__((format(printf, 8, 9)))
static int64_t user(struct db *db, const struct seed_opts *o, struct plan *p, const char *display, const char *role,
                    const char *scope_type, int64_t scope_id, const char *fmt, ...)
{
    char name[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    p->n_users++;
    return seed_user(db, name, display, o->password_hash, "codepop", role, scope_type, scope_id);
}

static int seed_users(struct db *db, const struct seed_opts *o, struct plan *p)
{
    char display[128];
    if (user(db, o, p, "Codepop Admin", "admin", NULL, 0, "codepop.admin") < 0) return -1;
    for (int s = 1; s <= p->nstores; s++) {
        snprintf(display, sizeof display, "Manager, store %d", s);
        if (user(db, o, p, display, "manager", "store", s, "codepop.manager.%d", s) < 0) return -1;
    }
    for (int c = 0; c < 5; c++) {
        snprintf(display, sizeof display, "Logistics, %s", cities[c].region);
        if (user(db, o, p, display, "logistics_manager", "region", c + 1, "codepop.logistics.%s", cities[c].code) < 0)
            return -1;
        snprintf(display, sizeof display, "Repair, %s", cities[c].region);
        if (user(db, o, p, display, "repair_staff", "region", c + 1, "codepop.repair.%s", cities[c].code) < 0)
            return -1;
    }
    for (int u = 0; u < ACCOUNT_USERS; u++) {
        snprintf(display, sizeof display, "Customer %d", u + 1);
        if ((p->users[u] = user(db, o, p, display, "account_user", NULL, 0, "codepop.user.%d", u + 1)) < 0) return -1;
    }
    return 0;
}

static void list_accounts(int nstores)
{
    char what[96];
    seed_account("codepop.admin", "codepop admin: every store, hub and node");
    seed_account("codepop.manager.1", "manager of store 1");
    snprintf(what, sizeof what, "manager of each store (1..%d)", nstores);
    seed_account("codepop.manager.<store_id>", what);
    seed_account("codepop.logistics.C", "logistics manager of region C (Central)");
    seed_account("codepop.logistics.<A..E>", "logistics manager of each region");
    seed_account("codepop.repair.C", "repair staff of region C (Central)");
    seed_account("codepop.repair.<A..E>", "repair staff of each region");
    seed_account("codepop.user.1", "account user: browse, order, preferences");
    seed_account("codepop.user.<1..20>", "account users");
}

/* ---------------------------------------------------------------- orders */

struct ord {
    time_t at;
    int store;                      /* 0-based */
};

static int ord_cmp(const void *a, const void *b)
{
    const struct ord *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at ? 1 : x->store - y->store;
}

/* One order with its lines and revenue rows. */
static int insert_order(struct db *db, struct plan *p, struct seed_rng *g, const struct ord *o, const int64_t *drink_cum)
{
    static const int64_t lines_cum[3] = {60, 90, 100};
    int nl = rng_pick(g, lines_cum, 3) + 1, drink[3], qty[3], prep = 0, count = 0;
    int64_t total = 0, id;
    for (int l = 0; l < nl; l++) {
        do drink[l] = rng_pick(g, drink_cum, NDRINKS);
        while ((l > 0 && drink[l] == drink[0]) || (l > 1 && drink[l] == drink[1]));
        qty[l] = seed_rng_range(g, 1, 100) <= 85 ? 1 : 2;
        total += (int64_t)qty[l] * drinks[drink[l]].price_cents;
        count += qty[l];
        int m = codepop_complexity_minutes(drinks[drink[l]].complexity);
        if (m > prep) prep = m;
    }
    int fate = (int)seed_rng_range(g, 1, 1000);          /* <=25 cancelled unpaid, <=45 refunded */
    const char *status = fate <= 45 ? "cancelled" : "picked_up";
    const char *payment = fate <= 25 ? "unpaid" : fate <= 45 ? "refunded" : "paid";
    char created[32], pickup[32], updated[32], refunded[32];
    time_t pick = o->at + seed_rng_range(g, 5, 25) * 60;
    rfc3339(o->at, created);
    rfc3339(pick, pickup);
    rfc3339(fate <= 45 ? o->at + 120 : pick + seed_rng_range(g, 0, 5) * 60, updated);
    rfc3339(o->at + 180, refunded);
    int64_t store = o->store + 1;
    if (db_int(db, &id, "INSERT INTO codepop_orders (store_id, user_id, total_cents, status, payment_status, "
                        "pickup_time, preparation_minutes, created_at, updated_at) "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
               DB_I(store), DB_I(p->users[seed_rng_range(g, 0, ACCOUNT_USERS - 1)]), DB_I(total), DB_S(status),
               DB_S(payment), DB_S(pickup), DB_I(codepop_prep_minutes(prep, count)), DB_S(created),
               DB_S(updated)) != 1)
        return -1;
    for (int l = 0; l < nl; l++, p->n_lines++)
        if (db_exec(db, "INSERT INTO codepop_order_lines (order_id, drink_id, quantity, unit_price_cents, "
                        "line_total_cents) VALUES ($1, $2, $3, $4, $5)",
                    DB_I(id), DB_I(drink[l] + 1), DB_I(qty[l]), DB_I(drinks[drink[l]].price_cents),
                    DB_I((int64_t)qty[l] * drinks[drink[l]].price_cents)) < 0)
            return -1;
    for (int refund = 0; refund <= 1; refund++) {
        if (fate <= 25 || (refund && fate > 45)) continue;
        if (db_exec(db, "INSERT INTO codepop_revenue (store_id, order_id, amount_cents, is_refund, created_at) "
                        "VALUES ($1, $2, $3, $4, $5)",
                    DB_I(store), DB_I(id), DB_I(total), DB_I(refund), DB_S(refund ? refunded : created)) < 0)
            return -1;
        p->n_revenue++;
    }
    return 0;
}

static void progress(const struct seed_opts *o, int done, int total, int *shown)
{
    int pct = total ? done * 100 / total : 100;
    if (!o->progress || pct / 10 == *shown / 10) return;
    *shown = pct;
    printf("\r  codepop orders %3d%%%s", pct, pct == 100 ? "\n" : "");
    fflush(stdout);
}

static int seed_orders(struct db *db, const struct seed_opts *o, struct plan *p)
{
    struct seed_rng g;
    int64_t day_cum[DAYS], hour_cum[16], drink_cum[NDRINKS], *store_cum = xcalloc((size_t)p->nstores, sizeof *store_cum);
    int w[DAYS > NDRINKS ? DAYS : NDRINKS], done = 0, shown = -1, rc = 0;
    struct ord *day = xcalloc((size_t)p->orders + 1, sizeof *day);
    seed_rng_init(&g, p->seed, 3);
    for (int s = 0; s < p->nstores; s++) store_cum[s] = (s ? store_cum[s - 1] : 0) + seed_rng_range(&g, 60, 160);
    for (int d = 0; d < NDRINKS; d++) w[d] = drinks[d].popularity;
    cumulate(drink_cum, w, NDRINKS);
    cumulate(hour_cum, hour_weights, 16);
    for (int d = 0; d < DAYS; d++) {
        struct tm tm;
        time_t t = p->first_day + (time_t)d * 86400;
        gmtime_r(&t, &tm);
        w[d] = (int)(wday_weights[tm.tm_wday] * (90 + 20 * d / (DAYS - 1)) * rng_real(&g, 0.92, 1.08));
    }
    cumulate(day_cum, w, DAYS);
    for (int d = 0; d < DAYS && rc == 0; d++) {
        time_t date = p->first_day + (time_t)d * 86400;
        int n = (int)((int64_t)p->orders * day_cum[d] / day_cum[DAYS - 1] -
                      (d ? (int64_t)p->orders * day_cum[d - 1] / day_cum[DAYS - 1] : 0));
        int dst = us_dst(date);
        for (int i = 0; i < n; i++) {
            int store = rng_pick(&g, store_cum, p->nstores), hour = 6 + rng_pick(&g, hour_cum, 16);
            int minute = (int)seed_rng_range(&g, 0, hour == 21 ? 29 : 59);
            int offset = cities[store / p->per_region].utc_std + dst;
            day[i].store = store;
            day[i].at = date + (time_t)(hour - offset) * 3600 + minute * 60 + seed_rng_range(&g, 0, 59);
        }
        qsort(day, (size_t)n, sizeof *day, ord_cmp);
        for (int i = 0; i < n && rc == 0; i++, done++) {
            rc = insert_order(db, p, &g, &day[i], drink_cum);
            if (done % 1000 == 0) progress(o, done, p->orders, &shown);
        }
    }
    progress(o, p->orders, p->orders, &shown);
    free(day);
    free(store_cum);
    return rc;
}

/* ------------------------------------------------------------------ seed */

static int seed_all(struct db *db, const struct seed_opts *o, struct plan *p)
{
    if ((o->clear && seed_clear(db, "codepop", clear_tables) < 0) || seed_reference(db, p) < 0 || seed_inventory(db, p) < 0 ||
        seed_users(db, o, p) < 0 || seed_orders(db, o, p) < 0)
        return -1;
    return audit_write_as(db, 0, "codepop", "codepop.demo_data.seeded", "app", 0,
                          json_pack("{s:I, s:b, s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:I, s:I}", "seed", (json_int_t)p->seed,
                                    "cleared", o->clear, "regions", 5, "hubs", 5, "stores", p->nstores, "drinks",
                                    NDRINKS, "items", NITEMS, "orders", p->orders, "order_lines",
                                    (json_int_t)p->n_lines, "revenue_rows", (json_int_t)p->n_revenue, "users",
                                    (json_int_t)p->n_users));
}

int codepop_seed(struct db *db, const struct seed_opts *opts)
{
    struct plan p = {.seed = opts->seed};
    int64_t regions = 0;
    if (!opts->password_hash) {
        fprintf(stderr, "atrium: codepop_seed needs the demo password hash\n");
        return -1;
    }
    if (int_flag(opts, "--stores-per-region", 5, 1, 200, &p.per_region) < 0 ||
        int_flag(opts, "--orders", 20000, 0, 5000000, &p.orders) < 0)
        return -1;
    p.nstores = 5 * p.per_region;
    time_t anchor = time(NULL) - 6 * 3600;
    p.first_day = anchor - anchor % 86400 - (time_t)DAYS * 86400;
    if (!opts->clear) {
        if (db_int(db, &regions, "SELECT COUNT(*) FROM codepop_regions") != 1) return -1;
        if (regions > 0) {
            printf("codepop: demo data already present (%lld regions); nothing seeded (use --clear to reseed)\n",
                   (long long)regions);
            if (db_int(db, &regions, "SELECT COUNT(*) FROM codepop_stores") == 1) list_accounts((int)regions);
            return 0;
        }
    }
    if (db_begin(db) < 0) return -1;
    if (seed_all(db, opts, &p) < 0 || db_sync_ids(db, false) < 0 || db_commit(db) < 0) {
        db_rollback(db);
        return -1;
    }
    if (opts->progress)
        printf("  codepop: 5 regions, %d stores, %d drinks, %d orders (%lld revenue rows)\n", p.nstores, NDRINKS,
               p.orders, (long long)p.n_revenue);
    list_accounts(p.nstores);
    return 0;
}
