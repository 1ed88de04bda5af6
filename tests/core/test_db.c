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

/* A version applied under another name (a renumbered or replaced file)
 * stops the migration loudly instead of skipping the new file; a file only
 * split per dialect (.sql -> .sqlite.sql) keeps its identity. */
Test(db, a_version_applied_under_another_name_is_refused)
{
    struct db *db = test_db();
    char *name = test_text("SELECT name FROM schema_migrations WHERE app = 'core' AND version = 1");
    char *split = xasprintf("%.*s.sqlite.sql", (int)(strlen(name) - 4), name);
    cr_assert_eq(db_exec(db, "UPDATE schema_migrations SET name = $1 WHERE app = 'core' AND version = 1", DB_S(split)), 1);
    cr_assert_eq(migrate_all(db), 0, "the same migration split per dialect");
    cr_assert_eq(db_exec(db, "UPDATE schema_migrations SET name = '001_something_else.sql' WHERE app = 'core' AND "
                             "version = 1"), 1);
    cr_assert_lt(migrate_all(db), 0, "another migration under version 1");
    free(split);
    free(name);
}

/* The same row JSON on both databases: aggregates, booleans, nested JSON
 * built in SQL, empty aggregations, NULLs, times from the compatibility
 * functions (on PostgreSQL: db_sql.c's renames and 000_postgres_compat). */
Test(db, rows_are_the_same_json_on_both_databases)
{
    struct db *db = test_db();
    cr_assert_eq(db_exec_script(db, "CREATE TABLE n (id INTEGER PRIMARY KEY, g TEXT NOT NULL, v INTEGER NOT NULL, "
                                    "created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))"), 0);
    for (int i = 1; i <= 4; i++)
        cr_assert_eq(db_exec(db, "INSERT INTO n (g, v) VALUES ($1, $2)", DB_S(i % 2 ? "odd" : "even"), DB_I(i)), 1);
    json_t *row = db_json_one(db,
        "SELECT COUNT(*) AS c, SUM(v) AS s, AVG(v) AS a, MAX(v) AS mx, max(1, 2) AS greatest, "
        "(SELECT json_group_array(json_object('g', g, 'v', v)) FROM (SELECT g, v FROM n ORDER BY id LIMIT 2) x) "
        "  AS firsts__json, "
        "(SELECT json_group_array(v) FROM n WHERE v > 100) AS none__json, "
        "json_object('nested', json('{\"k\":[1,2]}')) AS obj__json, "
        "CASE WHEN SUM(v) = 10 THEN 1 ELSE 0 END AS ten__bool, NULL AS missing, "
        "COUNT(*) FILTER (WHERE g = 'odd') AS odd, "
        "(SELECT COUNT(*) FROM n WHERE created_at LIKE '____-__-__T__:__:__Z') AS stamped, "
        "strftime('%Y-%m-%d', '2026-03-01T10:00:00Z', '-1 day') AS yesterday, "
        "date('2026-12-31', '+1 day') AS next_year, "
        "CAST(strftime('%s', '1970-01-02T00:00:00Z') AS INTEGER) AS epoch, "
        "(SELECT COUNT(*) FROM json_each('[3,4,5]') WHERE CAST(value AS INTEGER) > 3) AS each_n "
        "FROM n");
    cr_assert_not_null(row);
    json_t *want = json_loads("{\"c\":4,\"s\":10,\"a\":2.5,\"mx\":4,\"greatest\":2,"
                              "\"firsts\":[{\"g\":\"odd\",\"v\":1},{\"g\":\"even\",\"v\":2}],\"none\":[],"
                              "\"obj\":{\"nested\":{\"k\":[1,2]}},\"ten\":true,\"missing\":null,\"odd\":2,"
                              "\"stamped\":4,\"yesterday\":\"2026-02-28\",\"next_year\":\"2027-01-01\","
                              "\"epoch\":86400,\"each_n\":2}", 0, NULL);
    char *got = json_dumps(row, JSON_SORT_KEYS), *exp = json_dumps(want, JSON_SORT_KEYS);
    cr_expect(json_equal(row, want), "\n got: %s\nwant: %s", got, exp);
    free(got);
    free(exp);
    json_decref(row);
    json_decref(want);
}

/* /metrics shows the connection pool and which database it is. */
Test(db, pool_in_metrics)
{
    struct resp *r = api("GET", "/metrics", NULL, NULL);
    cr_assert_eq(r->status, 200);
    const char *pg = getenv("ATRIUM_TEST_PG");
    cr_expect_not_null(strstr(r->body, pg && *pg ? "\natrium_db_postgres 1\n" : "\natrium_db_postgres 0\n"), "%s",
                       r->body);
    const char *conns = strstr(r->body, "\natrium_db_connections ");
    cr_assert_not_null(conns, "%s", r->body);
    cr_expect_geq(atoi(conns + strlen("\natrium_db_connections ")), 1, "the worker that answered has one");
    cr_expect_not_null(strstr(r->body, "\natrium_db_connections_in_transaction "));
    resp_free(r);
}
