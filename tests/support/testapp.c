/* testapp.c -- see testapp.h. */
#include "testapp.h"
#include <pthread.h>
#include <string.h>

static const char *const staff_perms[] = {"testapp.stock.read", NULL};
/* A scoped role listing its app's audit permission: it must not read the
 * whole app's log (tests/core/test_rbac.c). */
static const char *const manager_perms[] = {"testapp.stock.write", "testapp.audit.read", NULL};
/* The app's admin: global; holds testapp.audit.read without listing it. */
static const char *const admin_perms[] = {"testapp.stock.read", "testapp.stock.write", NULL};
static const struct role roles[] = {
    {"admin", NULL, NULL, admin_perms},
    {"manager", "staff", "store", manager_perms},
    {"staff", NULL, "store", staff_perms},
    {0},
};

/* Role grants may point at stores 1..TESTAPP_STORES only. */
static bool scope_exists(struct db *db, const char *scope_type, int64_t id)
{
    (void)db;
    return !strcmp(scope_type, "store") && id >= 1 && id <= TESTAPP_STORES;
}

const struct app testapp = {.name = "testapp", .roles = roles, .scope_exists = scope_exists};

static void stock_read(struct req *r)
{
    int64_t store = r->param_int[0];
    if (rbac_require(r, "testapp.stock.read", "store", store) < 0) return;
    reply_json(r, 200, json_pack("{s:I}", "store_id", (json_int_t)store));
}

static void echo(struct req *r)
{
    const char *name;
    int qty;
    if (req_unpack(r, "{s:s, s:i}", "name", &name, "quantity", &qty) < 0) return;
    if (qty <= 0) {
        reply_invalid(r, "quantity", "must be > 0");
        return;
    }
    reply_json(r, 200, json_pack("{s:s, s:i}", "name", name, "quantity", qty));
}

/* Reals as an app reads them from its tables (coordinates); public and rate
 * limited like any app route. */
static void point(struct req *r)
{
    json_t *row = db_json_one(r->db, "SELECT $1 AS lat, $2 AS lon", DB_D(40.704), DB_D(-74.0059));
    if (!row) reply_db_error(r);
    else reply_json(r, 200, row);
}

/* One effect per call: bump a counter and audit it in one transaction. */
static void counter(struct req *r)
{
    int64_t value = 0;
    if (db_begin(r->db) < 0) goto fail;
    if (db_exec(r->db, "CREATE TABLE IF NOT EXISTS test_counter (id INTEGER PRIMARY KEY, value INTEGER)") < 0 ||
        db_exec(r->db, "INSERT INTO test_counter (id, value) VALUES (1, 0) ON CONFLICT DO NOTHING") < 0 ||
        db_exec(r->db, "UPDATE test_counter SET value = value + 1 WHERE id = 1") < 0 ||
        db_int(r->db, &value, "SELECT value FROM test_counter WHERE id = 1") != 1 ||
        audit_write(r->db, r, "testapp", "counter.bump", "counter", 1, json_pack("{s:I}", "value", (json_int_t)value)) < 0 ||
        db_commit(r->db) < 0) {
        db_rollback(r->db);
        goto fail;
    }
    reply_json(r, 201, json_pack("{s:I}", "value", (json_int_t)value));
    return;
fail:
    reply_db_error(r);
}

/* Audits, then fails: the audit row must roll back with the change. */
static void fail_after_audit(struct req *r)
{
    if (db_begin(r->db) == 0) {
        audit_write(r->db, r, "testapp", "doomed", "thing", 7, NULL);
        db_rollback(r->db);
    }
    reply_error(r, 409, "conflict", "rolled back on purpose");
}

static pthread_mutex_t slow_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slow_cond = PTHREAD_COND_INITIALIZER;
static bool slow_released;
static int slow_started;

static void slow(struct req *r)
{
    pthread_mutex_lock(&slow_lock);
    slow_started++;
    pthread_cond_broadcast(&slow_cond);
    while (!slow_released) pthread_cond_wait(&slow_cond, &slow_lock);
    pthread_mutex_unlock(&slow_lock);
    reply_json(r, 200, json_pack("{s:b}", "slow", 1));
}

void testapp_release_slow(void)
{
    pthread_mutex_lock(&slow_lock);
    slow_released = true;
    pthread_cond_broadcast(&slow_cond);
    pthread_mutex_unlock(&slow_lock);
}

int testapp_slow_started(void)
{
    pthread_mutex_lock(&slow_lock);
    int n = slow_started;
    pthread_mutex_unlock(&slow_lock);
    return n;
}

const struct route testapp_routes[] = {
    {"GET", "/api/v1/testapp/stores/{id:int}/stock", stock_read, "testapp.stock.read", 0},
    {"GET", "/api/v1/testapp/point", point, PERM_PUBLIC, 0},
    {"POST", "/api/v1/testapp/echo", echo, PERM_USER, 0},
    {"POST", "/api/v1/testapp/counter", counter, PERM_USER, ROUTE_IDEMPOTENT},
    {"POST", "/api/v1/testapp/doomed", fail_after_audit, PERM_USER, 0},
    {"GET", "/api/v1/testapp/slow", slow, PERM_PUBLIC, ROUTE_SLOW},
    {0},
};
