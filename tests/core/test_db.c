/* The database layer: $N placeholders, typed arguments, JSON rows, nested
 * transactions, statement reuse while a cursor is open. */
#include "support/harness.h"
#include <string.h>

TestSuite(db, .init = srv_start, .fini = srv_stop);

Test(db, placeholders_and_types)
{
    struct db *db = test_db();
    cr_assert_eq(db_exec_script(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, price_cents INTEGER, "
                                    "ratio DOUBLE PRECISION, tags TEXT, ok INTEGER)"), 0);
    int64_t id = 0;
    cr_assert_eq(db_int(db, &id, "INSERT INTO t (id, name, price_cents, ratio, tags, ok) VALUES ($1, $2, $3, $4, $5, $6) "
                                 "RETURNING id",
                        DB_I(7), DB_S("tea; DROP TABLE t; --"), DB_I(450), DB_D(0.5), DB_S("[\"a\",\"b\"]"), DB_I(1)), 1);
    cr_assert_eq(id, 7);
    json_t *row = db_json_one(db, "SELECT name, price_cents, ratio, tags AS tags__json, ok AS ok__bool FROM t WHERE id = $1",
                              DB_I(id));
    cr_assert_str_eq(json_string_value(json_object_get(row, "name")), "tea; DROP TABLE t; --");
    cr_assert_eq(json_integer_value(json_object_get(row, "price_cents")), 450);
    cr_assert_float_eq(json_real_value(json_object_get(row, "ratio")), 0.5, 1e-9);
    cr_assert_eq(json_array_size(json_object_get(row, "tags")), 2);
    cr_assert(json_is_true(json_object_get(row, "ok")));
    json_decref(row);
    /* parameters reused out of order, and "$1" inside a literal left alone */
    char *s = db_text(db, "SELECT $2 || '-$1-' || $1", DB_S("a"), DB_S("b"));
    cr_assert_str_eq(s, "b-$1-a");
    free(s);
    cr_assert_eq(db_exec(db, "INSERT INTO t (id, name) VALUES (8, $1)", DB_NULL), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM t WHERE name IS NULL"), 1);
}

Test(db, nested_transactions_roll_back_together)
{
    struct db *db = test_db();
    cr_assert_eq(db_exec_script(db, "CREATE TABLE n (v INTEGER)"), 0);
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(db_exec(db, "INSERT INTO n VALUES (1)"), 1);
    cr_assert_eq(db_begin(db), 0);
    cr_assert_eq(db_exec(db, "INSERT INTO n VALUES (2)"), 1);
    db_rollback(db);                         /* inner failure */
    cr_assert(db_in_tx(db));
    cr_assert_eq(db_commit(db), -1, "outer commit fails after an inner rollback");
    cr_assert_not(db_in_tx(db));
    cr_assert_eq(test_count("SELECT COUNT(*) FROM n"), 0);
}

Test(db, same_statement_while_cursor_open)
{
    struct db *db = test_db();
    cr_assert_eq(db_exec_script(db, "CREATE TABLE c (v INTEGER); INSERT INTO c VALUES (1), (2), (3)"), 0);
    struct db_rows outer;
    int64_t sum = 0;
    cr_assert_eq(db_query(db, &outer, "SELECT v FROM c WHERE v >= $1 ORDER BY v", DB_I(1)), 0);
    while (db_step(&outer)) {
        int64_t inner = 0;
        cr_assert_eq(db_int(db, &inner, "SELECT v FROM c WHERE v >= $1 ORDER BY v", DB_I(db_col_int(&outer, 0))), 1);
        sum += inner;
    }
    db_rows_close(&outer);
    cr_assert_eq(sum, 6);
}

Test(db, constraint_violation_is_reported)
{
    struct db *db = test_db();
    cr_assert_eq(db_exec_script(db, "CREATE TABLE u (k TEXT UNIQUE)"), 0);
    cr_assert_eq(db_exec(db, "INSERT INTO u VALUES ('x')"), 1);
    cr_assert_eq(db_exec(db, "INSERT INTO u VALUES ('x')"), -1);
    cr_assert(db_constraint_failed(db));
}

Test(db, migrations_recorded_and_current)
{
    struct db *db = test_db();
    cr_assert(migrate_current(db));
    cr_assert_eq(test_count("SELECT COUNT(*) FROM schema_migrations WHERE app = 'core' AND version = 1"), 1);
    cr_assert(migrate_known("core", 1));
    cr_assert_not(migrate_known("core", 999));
    cr_assert_eq(migrate_all(db), 0, "nothing left to apply");
}
