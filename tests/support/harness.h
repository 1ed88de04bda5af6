/* harness.h -- in-process API tests: start the real server on an ephemeral
 * port against a fresh database in a temp dir, speak HTTP to it with libcurl,
 * make users with roles (authorization matrices: authz.h).
 *
 * Criterion runs every test in its own process, so each test gets its own
 * server and database: call srv_start() first (or use the HARNESS_SUITE
 * fixture) and srv_stop() at the end. */
#ifndef ATRIUM_HARNESS_H
#define ATRIUM_HARNESS_H
#include <criterion/criterion.h>
#include "atrium.h"
#include "internal.h"
#include "authz.h"

struct resp {
    int status;
    json_t *json;               /* parsed body, or NULL when not JSON */
    char *body;
    size_t len;
    char *headers;              /* raw response header block */
};

/* Environment defaults for tests (only where the test did not set them):
 * generous rate limits, cheap argon2id, jobs off, a temp database. */
void srv_start(void);
/* Same, with extra test-only routes (and a test app for their roles/topics). */
void srv_start_with(const struct route *extra, const struct app *test_app);
void srv_stop(void);
int srv_port(void);
const char *srv_dir(void);       /* the temp dir holding the database */

/* One request. body may be NULL; headers is a NULL-terminated list of
 * "Name: value" strings or NULL. Content-Type defaults to application/json. */
struct resp *api(const char *method, const char *path, const char *token, const char *body);
struct resp *api_h(const char *method, const char *path, const char *token, const char *body,
                   const char *const *headers);
const char *resp_header(struct resp *r, const char *name);   /* pointer into a static copy */
const char *resp_error_code(struct resp *r);                 /* error.code or "" */
void resp_free(struct resp *r);

struct db *test_db(void);        /* the test thread's connection */
/* One statement on the test PostgreSQL server's maintenance database
 * ($ATRIUM_TEST_PG/postgres), e.g. CREATE DATABASE; false (and a message) on error. */
bool test_pg_admin(const char *sql);
#define TEST_PASSWORD "Correct-Horse-42"
/* Create a user (password TEST_PASSWORD) and, when app != NULL, give it a role. */
int64_t test_user(const char *username, const char *app, const char *role, const char *scope_type, int64_t scope_id);
int64_t test_user_id(const char *username);
/* An access token for the user, issued directly (no argon2 round trip). */
char *test_token(const char *username);
int64_t test_count(const char *sql);   /* SELECT COUNT(*)... on the test db */
/* The same from a printf-style format (the values are the test's own). */
int64_t test_countf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One integer from SQL with an integer argument $1 (-1 when no row). */
int64_t test_scalar(const char *sql, int64_t arg);
/* One text from SQL (must not be NULL); free() it. */
char *test_text(const char *sql);
/* The one text value of sql with $1 = arg, "(none)" when there is no row or
 * it is NULL; eight results stay valid at once. */
const char *test_text_of(const char *sql, int64_t arg);
/* The user holds exactly that role of app (scope_type "" and 0: global). */
void test_expect_role(const char *app, const char *username, const char *role, const char *scope_type, int64_t scope_id);
/* Audit rows of `action` written by `app` (NULL: any app). */
int64_t test_audit_count(const char *app, const char *action);
/* One audit row written as the CLI would, in its own transaction. */
void test_audit_row(const char *app, const char *action, const char *target_type, int64_t target_id);


/* A fixture's SQL script (rows with fixed ids), then ids generated later
 * follow them on PostgreSQL too (db_sync_ids). */
void test_fixture_sql(const char *what, const char *sql);

/* The suite runs on PostgreSQL (make test-pg: ATRIUM_TEST_PG is set). */
bool test_on_pg(void);
/* First line of a test that only means something on SQLite (its file format,
 * its query planner): skipped on PostgreSQL, saying why. */
#define SQLITE_ONLY(why) do { if (test_on_pg()) cr_skip_test("SQLite-only: %s", why); } while (0)

/* Run fn on n threads at once (released together); returns after all end. */
void run_concurrently(int n, void (*fn)(int i, void *arg), void *arg);

/* The helpers every test shares: JSON getters, requests as a user, times. */
#include "json.h"
#include "call.h"
#include "clock.h"
#endif
