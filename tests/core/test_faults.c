/* The database boundary under failure: injected faults (db_fault_arm) are
 * scoped to request handlers; a handler's transactions are held until its
 * answer (a 5xx or a database error it ignored undoes them); what is held is
 * committed before an outbound call; the commit hook; a fault walk over a
 * two-transaction idempotent route. */
#include "support/harness.h"
#include "support/faults.h"
#include "support/testapp.h"
#include <stdlib.h>
#include <string.h>

static int64_t outside_count(void)
{
    struct db *other;
    int64_t n = -1;
    cr_assert_eq(db_open(cfg.db, &other), 0);
    db_int(other, &n, "SELECT COUNT(*) FROM test_fault_rows");
    db_close(other);
    return n;
}

/* ids given here: INTEGER PRIMARY KEY numbers rows itself only on SQLite */
static int insert_row(struct db *db, const char *what)
{
    int64_t id;
    if (db_begin(db) < 0) return -1;
    if (db_int(db, &id, "INSERT INTO test_fault_rows (id, what) SELECT COALESCE(MAX(id), 0) + 1, $1 "
                        "FROM test_fault_rows RETURNING id", DB_S(what)) != 1 ||
        audit_write(db, NULL, "testapp", "fault.row", "row", id, NULL) < 0) {
        db_rollback(db);
        return -1;
    }
    return db_commit(db);
}

/* Two transactions, like a claim and its record. */
static void two_steps(struct req *r)
{
    if (insert_row(r->db, "claim") < 0 || insert_row(r->db, "record") < 0) {
        reply_db_error(r);
        return;
    }
    reply_json(r, 201, json_pack("{s:b}", "ok", 1));
}

/* Commits, then answers 500 as if reading the answer back failed. */
static void fails_after_commit(struct req *r)
{
    if (insert_row(r->db, "doomed") < 0) {
        reply_db_error(r);
        return;
    }
    reply_error(r, 500, "internal", "internal error");
}

/* Ignores a failed read and answers 200 after writing. */
static void ignores_errors(struct req *r)
{
    int64_t n = 0;
    if (insert_row(r->db, "ignored") < 0) {
        reply_db_error(r);
        return;
    }
    db_int(r->db, &n, "SELECT COUNT(*) FROM no_such_table");
    reply_json(r, 200, json_pack("{s:I}", "n", (json_int_t)n));
}

/* Commits, calls out (nothing listens on port 1), then looks from another
 * connection: the row is there only if it was committed before the call. */
static void calls_out(struct req *r)
{
    long status;
    char *answer = NULL, err[128];
    if (insert_row(r->db, "before call") < 0) {
        reply_db_error(r);
        return;
    }
    httpc_request("GET", "http://127.0.0.1:1/", NULL, NULL, 2, &status, &answer, err, sizeof err);
    free(answer);
    reply_json(r, 200, json_pack("{s:I}", "visible", (json_int_t)outside_count()));
}

static const struct route routes[] = {
    {"POST", "/api/v1/testapp/two", two_steps, PERM_USER, ROUTE_IDEMPOTENT},
    {"POST", "/api/v1/testapp/fails", fails_after_commit, PERM_USER, 0},
    {"POST", "/api/v1/testapp/ignores", ignores_errors, PERM_USER, 0},
    {"POST", "/api/v1/testapp/calls", calls_out, PERM_USER, ROUTE_IDEMPOTENT},
    {0},
};

static void start(void)
{
    srv_start_with(routes, &testapp);
    test_user("alice", NULL, NULL, NULL, 0);
    cr_assert_geq(db_exec(test_db(), "CREATE TABLE test_fault_rows (id INTEGER PRIMARY KEY, what TEXT)"), 0);
}
TestSuite(faults, .init = start, .fini = srv_stop);

static struct resp *call(const char *path, const char *key)
{
    return api_h("POST", path, fault_token("alice"), "{}", key ? fault_key_header(key) : NULL);
}

static int64_t rows(void) { return test_count("SELECT COUNT(*) FROM test_fault_rows"); }

Test(faults, injection_is_scoped_to_handlers)
{
    int64_t n = 0;
    db_fault_arm(DB_OP_ALL, 1, false);
    cr_assert_eq(db_int(test_db(), &n, "SELECT 1"), 1, "the test thread is not a handler");
    cr_assert_not(db_fault_fired());
    db_fault_disarm();
}

Test(faults, a_5xx_undoes_what_the_handler_committed)
{
    struct resp *r = call("/api/v1/testapp/fails", NULL);
    cr_assert_eq(r->status, 500);
    cr_assert_eq(rows(), 0);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log WHERE action = 'fault.row'"), 0);
    resp_free(r);
}

Test(faults, an_ignored_database_error_is_a_500_and_undone)
{
    struct resp *r = call("/api/v1/testapp/ignores", NULL);
    cr_assert_eq(r->status, 500, "%d %s", r->status, r->body);
    cr_assert_str_eq(resp_error_code(r), "internal");
    cr_assert_eq(rows(), 0);
    resp_free(r);
}

Test(faults, held_writes_are_committed_before_an_outbound_call)
{
    struct resp *r = call("/api/v1/testapp/calls", "k-call");
    cr_assert_eq(r->status, 200, "%d %s", r->status, r->body);
    cr_assert_eq(json_integer_value(json_object_get(r->json, "visible")), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM idempotency_keys"), 1);
    resp_free(r);
}

static struct resp *two(const char *key) { return call("/api/v1/testapp/two", key); }

/* Every step of a keyed two-transaction request: neither transaction nor
 * the key survives a fault; the retry with the same key runs and is kept. */
Test(faults, walk_a_two_transaction_idempotent_route)
{
    int n = fault_walk(&(struct fault_walk){"two", NULL, two, 201, "test\\_%"});
    cr_assert_gt(n, 10);
    /* each fault was retried once with success; each of the two walks (error,
     * busy) ended with one run the fault never reached */
    cr_assert_eq(test_count("SELECT COUNT(*) FROM idempotency_keys"), n + 2);
    cr_assert_eq(rows(), 2 * (n + 2));
}

static int hooked;
static void count_commit(void) { hooked++; }

Test(faults, commit_hook_runs_after_each_commit)
{
    db_on_commit(count_commit);
    cr_assert_eq(insert_row(test_db(), "hooked"), 0);
    cr_assert_eq(hooked, 1);
    cr_assert_eq(db_begin(test_db()), 0);
    cr_assert_eq(db_exec(test_db(), "INSERT INTO test_fault_rows (id, what) VALUES (1000, 'x')"), 1);
    db_rollback(test_db());
    cr_assert_eq(hooked, 1, "a rollback is not a commit");
    db_on_commit(events_kick);
}
