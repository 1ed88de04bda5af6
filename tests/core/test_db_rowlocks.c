/* Row-lock mode (db.c "Row locks"): ROUTE_ROW_LOCKS transactions run beside
 * each other on PostgreSQL while every other write transaction runs alone;
 * db_lock(name) serializes per name; audit and outbox rows are appended at
 * the commit under the tail lock (db_append) and dropped with a rollback.
 * On SQLite (one writer) the mode changes nothing: appends run at once. */
#include "support/harness.h"
#include "../../src/core/internal.h"
#include <string.h>

TestSuite(db_rowlocks, .init = srv_start, .fini = srv_stop);

/* A second connection to the test database whose waits for a lock fail
 * after 300 ms (55P03) instead of hanging the test. */
static struct db *impatient(bool row_locks)
{
    struct db *db = NULL;
    cr_assert_eq(db_open(getenv("ATRIUM_DB"), &db), 0);
    if (test_on_pg()) {
        char *v = db_text(db, "SELECT set_config('lock_timeout', '300ms', false)");
        free(v);
    }
    db_row_locks(db, row_locks);
    return db;
}

static int appended;

static int count_append(struct db *db, void *arg)
{
    (void)db;
    appended += *(int *)arg;
    return 0;
}

static int dropped;

static void count_drop(void *arg)
{
    (void)arg;
    dropped++;
}

Test(db_rowlocks, row_lock_transactions_run_beside_each_other_but_not_beside_the_others)
{
    if (!test_on_pg()) cr_skip_test("PostgreSQL only: SQLite has one writer, the mode changes nothing");
    struct db *a = impatient(true), *b = impatient(true), *c = impatient(false);
    cr_assert_eq(db_begin(a), 0);
    cr_assert_eq(db_begin(b), 0, "a second row-lock transaction does not wait for the first");
    cr_assert_eq(db_begin(c), -1, "a one-at-a-time transaction waits for them (lock timeout here)");
    cr_assert_eq(db_lock(a, "groupbuy.group:1"), 0);
    cr_assert_eq(db_lock(b, "groupbuy.group:2"), 0, "another name does not wait");
    cr_assert_eq(db_lock(b, "groupbuy.group:1"), -1, "the same name waits for its holder");
    db_rollback(b);
    cr_assert_eq(db_begin(b), 0);
    /* a name a client chooses (an Idempotency-Key) lives in a key class of its
     * own: it never meets an app's lock, nor the tail, whatever it hashes to */
    cr_assert_eq(db_lock_idempotency(b, "groupbuy.group:1"), 0, "other kind, same name: no wait");
    cr_assert_eq(db_lock_outbox_claim(b), 0);
    db_rollback(b);
    db_commit(a);
    cr_assert_eq(db_begin(c), 0, "alone again once they ended");
    cr_assert_eq(db_lock(c, "groupbuy.group:1"), 0, "one at a time: db_lock has nothing to do");
    db_rollback(c);
    db_close(a);
    db_close(b);
    db_close(c);
}

Test(db_rowlocks, appends_run_at_the_commit_and_go_with_a_rollback)
{
    struct db *db = impatient(true);
    int one = 1;
    appended = dropped = 0;
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(db_append(db, count_append, &one, count_drop), 0);
    /* one writer at a time (SQLite): now; row locks: at the commit */
    cr_assert_eq(appended, test_on_pg() ? 0 : 1);
    cr_assert_eq(db_commit(db), 0);
    cr_assert_eq(appended, 1);
    cr_assert_eq(dropped, 1, "arg freed once it ran");

    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(db_append(db, count_append, &one, count_drop), 0);
    db_rollback(db);
    cr_assert_eq(appended, test_on_pg() ? 1 : 2, "a rolled-back append never runs (on SQLite its row is undone)");
    cr_assert_eq(dropped, 2);

    cr_assert_eq(db_append(db, count_append, &one, count_drop), -1, "outside a transaction: refused");
    cr_assert_eq(dropped, 3, "and its arg still freed");
    db_close(db);
}

/* A held request (idempotency): a later scope that rolls back takes its own
 * appends with it and leaves the earlier ones. */
Test(db_rowlocks, a_rolled_back_scope_of_a_held_request_drops_only_its_appends)
{
    struct db *db = impatient(true);
    int one = 1, ten = 10;
    appended = dropped = 0;
    db_hold(db);
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(db_append(db, count_append, &one, count_drop), 0);
    cr_assert_eq(db_commit(db), 0);             /* held: still open */
    cr_assert_eq(db_begin(db), 0);              /* a savepoint in it */
    cr_assert_eq(db_append(db, count_append, &ten, count_drop), 0);
    db_rollback(db);
    cr_assert_eq(db_hold_end(db, true), 0);
    cr_assert_eq(appended, test_on_pg() ? 1 : 11, "PostgreSQL: the first scope's append only");
    cr_assert_eq(dropped, 2);
    db_close(db);
}

/* Audit rows and outbox events of row-lock transactions commit in id order
 * and the chain stays one chain, however the transactions interleave. */
Test(db_rowlocks, interleaved_row_lock_transactions_keep_one_audit_chain)
{
    struct db *a = impatient(true), *b = impatient(true);
    int64_t audit_before = test_count("SELECT COUNT(*) FROM audit_log");
    int64_t outbox_before = test_count("SELECT COUNT(*) FROM outbox");
    if (test_on_pg()) {
        cr_assert_eq(db_begin(a), 0);
        cr_assert_eq(db_begin(b), 0);
        cr_assert_eq(audit_write_as(a, 0, "core", "core.test.a", "test", 1, NULL), 0);
        cr_assert_eq(audit_write_as(b, 0, "core", "core.test.b", "test", 2, NULL), 0);
        cr_assert_eq(events_emit(b, "test.topic", "B", NULL), 0);
        cr_assert_eq(events_emit(a, "test.topic", "A", NULL), 0);
        cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log"), audit_before, "nothing appended before a commit");
        cr_assert_eq(db_commit(b), 0);
        cr_assert_eq(db_commit(a), 0);
    } else {                                    /* one writer: one after the other */
        for (int i = 0; i < 2; i++) {
            struct db *d = i ? a : b;
            cr_assert_eq(db_begin(d), 0);
            cr_assert_eq(audit_write_as(d, 0, "core", i ? "core.test.a" : "core.test.b", "test", 2 - i, NULL), 0);
            cr_assert_eq(events_emit(d, "test.topic", i ? "A" : "B", NULL), 0);
            cr_assert_eq(db_commit(d), 0);
        }
    }
    cr_assert_eq(test_count("SELECT COUNT(*) FROM audit_log"), audit_before + 2);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM outbox"), outbox_before + 2);
    /* b committed first: its rows have the lower ids */
    char *first = db_text(test_db(), "SELECT type FROM outbox WHERE topic = 'test.topic' ORDER BY id LIMIT 1");
    cr_assert_str_eq(first, "B");
    free(first);
    first = db_text(test_db(), "SELECT action FROM audit_log WHERE action LIKE 'core.test.%' ORDER BY id LIMIT 1");
    cr_assert_str_eq(first, "core.test.b");
    free(first);
    int64_t rows = 0;
    cr_assert_eq(audit_verify(test_db(), &rows), 0, "the chain holds");
    cr_assert_geq(rows, audit_before + 2);
    db_close(a);
    db_close(b);
}
