/* db_pg.h -- the PostgreSQL backend of db.c (libpq). Private to db.c and
 * db_pg.c: everything else calls the db_* interface in atrium.h, which is the
 * same on both databases.
 *
 * A result is fetched whole when the statement runs (pg_run) and stepped
 * through in memory, so a connection can run another statement while a
 * result is open, as SQLite's cached statements allow. */
#ifndef ATRIUM_DB_PG_H
#define ATRIUM_DB_PG_H
#include "atrium.h"
#include <jansson.h>
#include <string.h>

struct pg;                      /* a connection and its prepared-statement cache */
struct pg_res;                  /* one statement's result, stepped row by row */

/* Backend codes, shared with SQLite's so db_rows.last_rc means one thing. */
#define PG_ROW  100             /* SQLITE_ROW */
#define PG_DONE 101             /* SQLITE_DONE */
#define PG_ERROR 1              /* SQLITE_ERROR */

bool pg_url(const char *db);    /* postgres:// or postgresql:// */
int pg_open(const char *url, struct pg **out);
void pg_close(struct pg *pg);
/* Statements without parameters, several at once (BEGIN, migrations). */
int pg_exec_script(struct pg *pg, const char *sql, bool ddl);
bool pg_in_tx(struct pg *pg);
bool pg_tx_failed(struct pg *pg);   /* a statement failed: the transaction can only roll back */
/* The advisory lock every write transaction takes (db.c): one writer at a
 * time on the database, whichever instance it runs in. */
#define DB_PG_WRITE_LOCK "846110001"
/* Held by `atrium migrate` / serve's start while it migrates (migrate.c). */
#define DB_PG_MIGRATE_LOCK "846110002"
/* Named locks (db.c lock_key, lock_name): the two-key form, a class each, so
 * a hashed name of one kind never meets another kind's lock. */
#define DB_PG_APP_LOCKS "846110"            /* db_lock(name), hashed */
#define DB_PG_IDEMPOTENCY_LOCKS "846112"    /* "user:key", hashed */
#define DB_PG_CORE_LOCKS "846111"           /* fixed keys: */
#define DB_PG_TAIL_LOCK 1                   /*   audit and outbox appends (db_append) */
#define DB_PG_CLAIM_LOCK 2                  /*   outbox claims (events.c) */
bool pg_broken(struct pg *pg);  /* the connection is gone */

/* The cached statement for sql (prepared on its first run). A statement is a
 * write unless it is a SELECT/VALUES (or a WITH that only selects): db.c opens
 * a transaction around a lone write before running it. */
struct pg_stmt;
struct pg_stmt *pg_stmt(struct pg *pg, const char *sql);
bool pg_stmt_write(const struct pg_stmt *st);
/* Runs it with args and fetches the whole result; never NULL (a failure is a
 * result whose first pg_step answers PG_ERROR). */
struct pg_res *pg_run(struct pg *pg, struct pg_stmt *st, const struct db_arg *args);
int pg_step(struct pg_res *res);        /* PG_ROW, PG_DONE or PG_ERROR */
void pg_res_free(struct pg_res *res);
int64_t pg_changes(struct pg *pg);      /* rows changed by the last pg_run */

int64_t pg_col_int(struct pg_res *res, int col);
double pg_col_real(struct pg_res *res, int col);
const char *pg_col_text(struct pg_res *res, int col);
const void *pg_col_blob(struct pg_res *res, int col, size_t *len);
bool pg_col_null(struct pg_res *res, int col);
json_t *pg_row_json(struct pg_res *res);

const char *pg_errmsg(struct pg *pg);
bool pg_constraint_failed(struct pg *pg);   /* SQLSTATE class 23 */
bool pg_retryable(struct pg *pg);           /* 40001 serialization, 40P01 deadlock */
const char *pg_sql_of(struct pg_res *res);
void *pg_handle(struct pg *pg);             /* PGconn * */

/* A thread of its own LISTENs on channel and calls fn after notifications
 * and once a second (db_listen_start). fn may use db_thread(). */
int pg_listen_start(const char *url, const char *channel, void (*fn)(void));
void pg_listen_stop(void);

/* Column-name suffixes of db_json_* (atrium.h): 0 none, 1 "__json", 2 "__bool". */
static inline int db_col_suffix(const char *name, size_t n)
{
    if (n <= 6 || name[n - 6] != '_' || name[n - 5] != '_') return 0;
    return !strcmp(name + n - 4, "json") ? 1 : !strcmp(name + n - 4, "bool") ? 2 : 0;
}

char *db_pg_sql(const char *sql);           /* db_sql.c */
char *db_pg_ddl(const char *sql);
#endif
