/* db_pg.c -- the PostgreSQL backend (libpq) behind db.c; see db_pg.h.
 *
 * Statements are prepared once per connection (named s1, s2, ...) and cached
 * by their SQL text, after db_sql.c has put them in PostgreSQL's words.
 * Parameters go as text, typed by the caller's DB_* kind: DB_I as bigint,
 * DB_D as double precision, DB_B as bytea (binary), DB_S and DB_NULL left for
 * PostgreSQL to infer from where they stand; a statement whose text parameter
 * has no inferable type (SELECT $1) is prepared again with it as text.
 * Results come back as text and are converted by column type, so the JSON a
 * handler builds from a row (db_json_*) is the same on both databases:
 * integers and numeric without a fraction as integers, booleans as 0/1
 * (true/false for "__bool" columns), json text parsed for "__json" columns. */
#include "db_pg.h"
#include "internal.h"
#include <ctype.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define PG_CACHE 512

/* Type OIDs from PostgreSQL's pg_type.dat (stable across versions). */
enum { OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_TEXT = 25,
       OID_OID = 26, OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_NUMERIC = 1700 };

struct pg_stmt {
    char *sql;                  /* as the caller wrote it (the cache key) */
    char name[16];              /* prepared statement name, "" until prepared */
    bool write;
};

struct pg {
    PGconn *c;
    int64_t changes;
    char sqlstate[6];
    char err[512];
    unsigned next_name;
    struct pg_stmt cache[PG_CACHE];
    struct pg_stmt spare;       /* cache full: run unprepared */
};

struct pg_res {
    PGresult *r;
    int row, rows;
    bool failed;
    const char *sql;
    unsigned char *blob;        /* last unescaped bytea (PQfreemem) */
};

bool pg_url(const char *db)
{
    return db && (!strncmp(db, "postgres://", 11) || !strncmp(db, "postgresql://", 13));
}

static void set_error(struct pg *pg, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    snprintf(pg->sqlstate, sizeof pg->sqlstate, "%s", state ? state : "08006");
    const char *msg = r ? PQresultErrorMessage(r) : NULL;
    snprintf(pg->err, sizeof pg->err, "%s", msg && *msg ? msg : PQerrorMessage(pg->c));
    size_t n = strlen(pg->err);
    while (n && (pg->err[n - 1] == '\n' || pg->err[n - 1] == ' ')) pg->err[--n] = 0;
}

int pg_open(const char *url, struct pg **out)
{
    struct pg *pg = xcalloc(1, sizeof *pg);
    pg->c = PQconnectdb(url);
    if (PQstatus(pg->c) != CONNECTION_OK) {
        log_error("cannot connect to PostgreSQL: %s", PQerrorMessage(pg->c));
        goto fail;
    }
    /* Times are UTC text everywhere (like SQLite's strftime 'now'). Plans
     * stay PostgreSQL's choice (plan_cache_mode auto): a statement is
     * planned for its values five times, then its generic plan is kept only
     * when it is estimated no worse, so atrium's optional filters
     * (`CAST($n AS TEXT) IS NULL OR col = $n`) keep their custom plans while
     * the plain lookups stop paying for planning on every execution
     * (force_custom_plan cost the store-orders page a third of its
     * throughput; bench/README.md). */
    PGresult *r = PQexec(pg->c, "SET TIME ZONE 'UTC'; SET client_min_messages = warning;"
                                "SET application_name = 'atrium'");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) log_error("cannot configure the PostgreSQL session: %s", PQresultErrorMessage(r));
    PQclear(r);
    if (!ok) goto fail;
    *out = pg;
    return 0;
fail:
    PQfinish(pg->c);
    free(pg);
    return -1;
}

void pg_close(struct pg *pg)
{
    if (!pg) return;
    for (int i = 0; i < PG_CACHE; i++) free(pg->cache[i].sql);
    free(pg->spare.sql);
    PQfinish(pg->c);
    free(pg);
}

int pg_exec_script(struct pg *pg, const char *sql, bool ddl)
{
    char *text = ddl ? db_pg_ddl(sql) : db_pg_sql(sql);
    PGresult *r = PQexec(pg->c, text);
    free(text);
    ExecStatusType st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY ? 0 : -1;
    if (rc < 0) set_error(pg, r);
    PQclear(r);
    return rc;
}

bool pg_in_tx(struct pg *pg)
{
    PGTransactionStatusType t = PQtransactionStatus(pg->c);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

bool pg_tx_failed(struct pg *pg) { return PQtransactionStatus(pg->c) == PQTRANS_INERROR; }

bool pg_broken(struct pg *pg) { return PQstatus(pg->c) != CONNECTION_OK; }

/* ------------------------------------------------------------- statements */

static uint32_t hash_sql(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

/* Does a statement starting with WITH write (a data-modifying CTE)? */
static bool with_writes(const char *sql)
{
    static const char *const verbs[] = {"INSERT", "UPDATE", "DELETE"};
    for (const char *p = sql; *p; p++) {
        if (*p == '\'') {
            while (*++p && *p != '\'')
                ;
            if (!*p) break;
            continue;
        }
        for (int v = 0; v < 3; v++)
            if (!strncasecmp(p, verbs[v], 6) && (p == sql || !isalnum((unsigned char)p[-1])) &&
                !isalnum((unsigned char)p[6]) && p[6] != '_')
                return true;
    }
    return false;
}

static bool is_write(const char *sql)
{
    while (isspace((unsigned char)*sql) || *sql == '(') sql++;
    if (!strncasecmp(sql, "SELECT", 6) || !strncasecmp(sql, "VALUES", 6) || !strncasecmp(sql, "SHOW", 4) ||
        !strncasecmp(sql, "EXPLAIN", 7))
        return strcasestr(sql, " FOR UPDATE") != NULL;
    if (!strncasecmp(sql, "WITH", 4)) return with_writes(sql);
    return true;
}

struct pg_stmt *pg_stmt(struct pg *pg, const char *sql)
{
    uint32_t h = hash_sql(sql);
    for (uint32_t i = 0; i < PG_CACHE; i++) {
        struct pg_stmt *s = &pg->cache[(h + i) % PG_CACHE];
        if (s->sql && strcmp(s->sql, sql)) continue;
        if (!s->sql) {
            s->sql = xstrdup(sql);
            s->name[0] = 0;
            s->write = is_write(sql);
        }
        return s;
    }
    free(pg->spare.sql);
    pg->spare.sql = xstrdup(sql);
    pg->spare.name[0] = 0;
    pg->spare.write = is_write(sql);
    return &pg->spare;
}

bool pg_stmt_write(const struct pg_stmt *st) { return st->write; }

static int count_args(const struct db_arg *args)
{
    int n = 0;
    while (args && args[n].type) n++;
    return n;
}

static Oid arg_type(const struct db_arg *a, bool text_strings)
{
    switch (a->type) {
    case 'i': return OID_INT8;
    case 'd': return OID_FLOAT8;
    case 'b': return OID_BYTEA;
    case 's': return text_strings ? OID_TEXT : 0;
    default:  return 0;
    }
}

/* PQprepare, with untyped text parameters made text when PostgreSQL could not
 * infer their type (42P18). 0, or -1 with pg's error set. */
static int prepare(struct pg *pg, struct pg_stmt *st, const char *name, int n, const struct db_arg *args)
{
    char *text = db_pg_sql(st->sql);
    Oid types[n ? n : 1];
    int rc = -1;
    /* a failed Parse aborts an open transaction: try it under a savepoint */
    bool in_tx = PQtransactionStatus(pg->c) == PQTRANS_INTRANS;
    for (int pass = 0; pass < 2 && rc < 0; pass++) {
        for (int i = 0; i < n; i++) types[i] = arg_type(&args[i], pass == 1);
        if (in_tx) PQclear(PQexec(pg->c, "SAVEPOINT atrium_prepare"));
        PGresult *r = PQprepare(pg->c, name, text, n, types);
        if (PQresultStatus(r) == PGRES_COMMAND_OK) rc = 0;
        else set_error(pg, r);
        PQclear(r);
        if (in_tx) PQclear(PQexec(pg->c, rc < 0 ? "ROLLBACK TO SAVEPOINT atrium_prepare; RELEASE SAVEPOINT atrium_prepare"
                                                : "RELEASE SAVEPOINT atrium_prepare"));
        if (rc < 0 && strcmp(pg->sqlstate, "42P18")) break;
    }
    free(text);
    return rc;
}

/* r NULL: the error is already recorded (prepare). */
static struct pg_res *failed_res(struct pg *pg, struct pg_stmt *st, PGresult *r)
{
    struct pg_res *res = xcalloc(1, sizeof *res);
    if (r) set_error(pg, r);
    PQclear(r);
    res->failed = true;
    res->sql = st->sql;
    return res;
}

struct pg_res *pg_run(struct pg *pg, struct pg_stmt *st, const struct db_arg *args)
{
    int n = count_args(args);
    const char *values[n ? n : 1];
    int lengths[n ? n : 1], formats[n ? n : 1];
    char nums[n ? n : 1][32];
    for (int i = 0; i < n; i++) {
        const struct db_arg *a = &args[i];
        lengths[i] = 0;
        formats[i] = 0;
        values[i] = NULL;
        switch (a->type) {
        case 'i': snprintf(nums[i], sizeof nums[i], "%lld", (long long)a->i); values[i] = nums[i]; break;
        case 'd': snprintf(nums[i], sizeof nums[i], "%.17g", a->d); values[i] = nums[i]; break;
        case 's': values[i] = a->s; break;
        case 'b': values[i] = a->s ? a->s : ""; lengths[i] = (int)a->n; formats[i] = 1; break;
        default: break;
        }
    }
    pg->changes = 0;
    bool cached = st != &pg->spare;
    if (!st->name[0] || !cached) {
        char name[16] = "";
        if (cached) snprintf(name, sizeof name, "s%u", ++pg->next_name);
        if (prepare(pg, st, name, n, args) < 0) return failed_res(pg, st, NULL);
        if (cached) memcpy(st->name, name, sizeof name);
    }
    PGresult *r = PQexecPrepared(pg->c, cached ? st->name : "", n, values, lengths, formats, 0);
    ExecStatusType status = PQresultStatus(r);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return failed_res(pg, st, r);
    pg->sqlstate[0] = 0;
    const char *changed = PQcmdTuples(r);
    pg->changes = changed && *changed ? strtoll(changed, NULL, 10) : 0;
    struct pg_res *res = xcalloc(1, sizeof *res);
    res->r = r;
    res->row = -1;
    res->rows = PQntuples(r);
    res->sql = st->sql;
    return res;
}

int pg_step(struct pg_res *res)
{
    if (res->failed) return PG_ERROR;
    if (res->row + 1 >= res->rows) {
        res->row = res->rows;
        return PG_DONE;
    }
    res->row++;
    return PG_ROW;
}

void pg_res_free(struct pg_res *res)
{
    if (!res) return;
    if (res->blob) PQfreemem(res->blob);
    PQclear(res->r);
    free(res);
}

int64_t pg_changes(struct pg *pg) { return pg->changes; }
const char *pg_sql_of(struct pg_res *res) { return res->sql; }

/* ---------------------------------------------------------------- columns */

static bool readable(struct pg_res *res, int col)
{
    return res->r && res->row >= 0 && res->row < res->rows && col >= 0 && col < PQnfields(res->r);
}

bool pg_col_null(struct pg_res *res, int col)
{
    return !readable(res, col) || PQgetisnull(res->r, res->row, col);
}

const char *pg_col_text(struct pg_res *res, int col)
{
    if (pg_col_null(res, col)) return NULL;
    const char *v = PQgetvalue(res->r, res->row, col);
    if (PQftype(res->r, col) == OID_BOOL) return *v == 't' ? "1" : "0";
    return v;
}

int64_t pg_col_int(struct pg_res *res, int col)
{
    const char *v = pg_col_text(res, col);
    if (!v) return 0;
    Oid t = PQftype(res->r, col);
    if (t == OID_FLOAT4 || t == OID_FLOAT8 || (t == OID_NUMERIC && strpbrk(v, ".eE"))) return (int64_t)strtod(v, NULL);
    return strtoll(v, NULL, 10);
}

double pg_col_real(struct pg_res *res, int col)
{
    const char *v = pg_col_text(res, col);
    return v ? strtod(v, NULL) : 0.0;
}

const void *pg_col_blob(struct pg_res *res, int col, size_t *len)
{
    *len = 0;
    if (pg_col_null(res, col)) return NULL;
    const char *v = PQgetvalue(res->r, res->row, col);
    if (PQftype(res->r, col) != OID_BYTEA) {
        *len = (size_t)PQgetlength(res->r, res->row, col);
        return v;
    }
    if (res->blob) PQfreemem(res->blob);
    res->blob = PQunescapeBytea((const unsigned char *)v, len);
    return res->blob;
}

static json_t *col_json(struct pg_res *res, int col, int suffix)
{
    if (pg_col_null(res, col)) return json_null();
    const char *v = PQgetvalue(res->r, res->row, col);
    switch (PQftype(res->r, col)) {
    case OID_BOOL:
        return suffix == 2 ? json_boolean(*v == 't') : json_integer(*v == 't');
    case OID_INT2: case OID_INT4: case OID_INT8: case OID_OID:
        return suffix == 2 ? json_boolean(strtoll(v, NULL, 10)) : json_integer(strtoll(v, NULL, 10));
    case OID_NUMERIC:
        if (!strpbrk(v, ".eEN"))
            return suffix == 2 ? json_boolean(strtoll(v, NULL, 10)) : json_integer(strtoll(v, NULL, 10));
        return json_real(strtod(v, NULL));
    case OID_FLOAT4: case OID_FLOAT8:
        return json_real(strtod(v, NULL));
    default:
        if (suffix == 1) {
            json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
            return j ? j : json_null();
        }
        return json_stringn(v, (size_t)PQgetlength(res->r, res->row, col));
    }
}

json_t *pg_row_json(struct pg_res *res)
{
    json_t *o = json_object();
    int cols = res->r ? PQnfields(res->r) : 0;
    for (int c = 0; c < cols; c++) {
        const char *name = PQfname(res->r, c);
        size_t n = strlen(name);
        int suffix = db_col_suffix(name, n);
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(suffix ? n - 6 : n), name);
        json_object_set_new(o, key, col_json(res, c, suffix));
    }
    return o;
}

/* ----------------------------------------------------------------- errors */

const char *pg_errmsg(struct pg *pg) { return pg->err[0] ? pg->err : PQerrorMessage(pg->c); }
bool pg_constraint_failed(struct pg *pg) { return !strncmp(pg->sqlstate, "23", 2); }
bool pg_retryable(struct pg *pg) { return !strcmp(pg->sqlstate, "40001") || !strcmp(pg->sqlstate, "40P01"); }
void *pg_handle(struct pg *pg) { return pg->c; }

/* --------------------------------------------------------------- listening */

/* One thread per process with a connection of its own: LISTEN channel, call
 * fn after notifications (several coalesce into one call) and at least once
 * a second, reconnecting when the server goes away. */
static struct {
    pthread_t thread;
    bool started;
    int stop;                   /* atomic */
    char *url, *channel;
    void (*fn)(void);
} listener;

static PGconn *listen_connect(void)
{
    PGconn *c = PQconnectdb(listener.url);
    char *sql = xasprintf("LISTEN %s", listener.channel);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    free(sql);
    if (ok) return c;
    log_warn("database: cannot LISTEN %s: %s", listener.channel, PQerrorMessage(c));
    PQfinish(c);
    return NULL;
}

static void *listen_main(void *arg)
{
    PGconn *c = NULL;
    time_t last = 0;
    while (!__atomic_load_n(&listener.stop, __ATOMIC_ACQUIRE)) {
        if (!c || PQstatus(c) != CONNECTION_OK) {
            PQfinish(c);
            if (!(c = listen_connect())) {
                sleep(1);
                continue;
            }
        }
        struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};
        poll(&p, 1, 250);
        bool got = false;
        if (PQconsumeInput(c)) {
            for (PGnotify *n; (n = PQnotifies(c)); PQfreemem(n)) got = true;
        }
        time_t now = time(NULL);
        if (got || now != last) {
            last = now;
            listener.fn();
        }
    }
    PQfinish(c);
    return NULL;
}

int pg_listen_start(const char *url, const char *channel, void (*fn)(void))
{
    if (listener.started) return 0;
    listener.url = xstrdup(url);
    listener.channel = xstrdup(channel);
    listener.fn = fn;
    __atomic_store_n(&listener.stop, 0, __ATOMIC_RELEASE);
    if (pthread_create(&listener.thread, NULL, listen_main, NULL)) {
        log_error("database: cannot start the LISTEN thread");
        return -1;
    }
    listener.started = true;
    return 0;
}

void pg_listen_stop(void)
{
    if (!listener.started) return;
    __atomic_store_n(&listener.stop, 1, __ATOMIC_RELEASE);
    pthread_join(listener.thread, NULL);
    listener.started = false;
    free(listener.url);
    free(listener.channel);
    listener.url = listener.channel = NULL;
}
