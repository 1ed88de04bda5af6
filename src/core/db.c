/* db.c -- the db_* interface (atrium.h): SQLite here, PostgreSQL in db_pg.c.
 *
 * ATRIUM_DB names a file (SQLite) or a postgres:// URL (PostgreSQL). What is
 * the same on both lives here once: transactions and their nesting, holding,
 * fault injection, the commit hook, the implicit transaction around a lone
 * write, rows as JSON. The statements themselves are one text for both
 * databases (db_sql.c puts SQLite's few function names in PostgreSQL's).
 *
 * Write transactions on PostgreSQL: BEGIN takes one transaction-scoped
 * advisory lock (DB_PG_WRITE_LOCK) shared by every instance on the database,
 * so write transactions run one at a time across all instances, exactly as
 * SQLite's BEGIN IMMEDIATE runs them on one file. Every check-and-write that
 * is race-free on SQLite (check stock, then decrement; read the audit chain's
 * last hash, then append) is therefore race-free on PostgreSQL with the same
 * code, and the audit chain stays one linear chain. Reads take no lock and
 * see committed data (READ COMMITTED). Should PostgreSQL still answer a
 * serialization failure or deadlock (40001/40P01), the request is run again
 * by http.c (db_retryable), never answered 500.
 *
 * Row locks (PostgreSQL): one writer at a time caps a busy database at what
 * one transaction's round trips allow (bench/README.md). A route flagged
 * ROUTE_ROW_LOCKS (and the outbox dispatcher's claims) takes the same
 * advisory lock shared instead (db_row_locks), so such transactions run
 * beside each other while every other write transaction still runs alone.
 * Their handlers keep their check-and-writes race-free by themselves: guarded
 * UPDATEs (`SET quantity = quantity - n WHERE quantity >= n`, which
 * PostgreSQL re-checks on the row it waited for) and db_lock(name) around a
 * check-then-insert, taken before the check. What must stay in commit order
 * (the audit chain, outbox ids that SSE resumes from) is appended at the
 * commit (db_append) under one more lock, the tail: the serial part of such a
 * transaction is its appends and its COMMIT. Lock order, so they cannot
 * deadlock: Idempotency-Key, then the handler's, then the tail.
 *
 * One connection per thread (db_thread()), closed by a thread-key destructor
 * when the thread ends. Statements are prepared once per connection and cached
 * by SQL text; `$N` placeholders are rewritten to SQLite's `?N` at prepare time.
 *
 * Write transactions: SQLite allows one writer per database. Threads of this
 * process queue on an in-process mutex before BEGIN IMMEDIATE, so they hand the
 * write lock over in FIFO-ish order instead of sleeping in SQLite's busy
 * handler; busy_timeout still covers other processes (CLI, backup). A write
 * statement run outside db_begin() gets a transaction of its own, so it takes
 * the same path.
 *
 * Durability (group commit, ATRIUM_DB_SYNC=group, the default): SQLite runs
 * with synchronous=NORMAL, so COMMIT only write()s its WAL frames; db_commit()
 * then waits until the WAL has been fsync()ed past its own commit before it
 * returns. One fsync covers every transaction committed before it started, so
 * concurrent writers share them: an acknowledged write is on disk exactly as
 * with synchronous=FULL, at a fraction of the fsyncs. ATRIUM_DB_SYNC=full uses
 * SQLite's own fsync per commit instead.
 *
 * Holding (db_hold, for idempotency.c): while a request holds its
 * connection, an outermost commit keeps the transaction open and the write
 * lock taken; later transactions of the request run as savepoints inside it,
 * so each still commits or rolls back on its own, and db_hold_end() commits
 * (or rolls back) the lot at once. db_hold_flush() commits what is held
 * before a slow outside call (httpc.c), so no call waits with the lock.
 *
 * db.c knows nothing above it: whoever must hear about commits registers a
 * hook (db_on_commit; the events dispatcher does). Fault injection for tests
 * (db_fault_arm) is one predictable branch per operation when disarmed. */
#include "atrium.h"
#include "db_pg.h"
#include "internal.h"
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STMT_CACHE 256          /* open-addressing slots per connection */

struct append {                 /* db_append() */
    int (*fn)(struct db *db, void *arg);
    void *arg;
    void (*drop)(void *arg);
};

struct stmt_slot {
    char *sql;
    sqlite3_stmt *st;
};

struct db {
    sqlite3 *h;                 /* SQLite, or NULL when pg is set */
    struct pg *pg;              /* PostgreSQL */
    int depth;                  /* nesting of db_begin() */
    bool rollback_only;         /* an inner scope rolled back */
    bool holds_write_lock;
    unsigned long errors;       /* failures that were not constraint violations */
    bool hold;                  /* db_hold(): outermost commits are held */
    bool held;                  /* a held transaction is open (write lock taken) */
    bool busy;                  /* counted in busy_conns: a transaction is open */
    bool flushed;               /* db_hold_flush committed part of this request */
    bool retry;                 /* PostgreSQL refused a statement as a conflict (40001/40P01) */
    bool row_locks;             /* db_row_locks(): write transactions take the write lock shared */
    bool tx_row_locks;          /* this transaction began in row-lock mode (the flag may change; this may not) */
    struct append *appends;     /* row-lock mode: db_append()s waiting for the commit */
    size_t nappends, appends_cap;
    size_t appends_mark;        /* nappends when the held savepoint began */
    int step_rc;                /* result of the last statement step */
    char step_err[256];         /* its message when it failed (kept across rollback) */
    struct stmt_slot cache[STMT_CACHE];
    struct db *next_open;       /* registry of thread connections */
};

static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_cond = PTHREAD_COND_INITIALIZER;
static uint64_t commit_seq;     /* commits written to the WAL (bumped under write_lock) */
static uint64_t durable_seq;    /* commits known to be on disk (sync_lock) */
static bool syncing;            /* a thread is in fsync() for everyone (sync_lock) */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct db *registry;
static pthread_key_t thread_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static __thread struct db *thread_db;
static void (*commit_hook)(void);
static int open_conns, busy_conns;  /* atomic: /metrics' pool gauges (db_pool_stats) */
static void rollback_all(struct db *db);

/* Fault injection (tests): the nth counted operation of a scoped thread fails. */
static struct {
    int armed;                  /* read unlocked on every operation */
    pthread_mutex_t lock;
    unsigned ops;               /* DB_OP_* that count */
    long left;
    int code;                   /* SQLITE_IOERR or SQLITE_BUSY */
    bool fired;
} fault = {.lock = PTHREAD_MUTEX_INITIALIZER};
static __thread bool fault_scope;

/* 0, or the error code to fake for this operation. */
static int fault_hit(unsigned op)
{
    if (__builtin_expect(!__atomic_load_n(&fault.armed, __ATOMIC_RELAXED), 1) || !fault_scope) return 0;
    int code = 0;
    pthread_mutex_lock(&fault.lock);
    if (fault.armed && (fault.ops & op) && --fault.left == 0) {
        code = fault.code;
        fault.fired = true;
        __atomic_store_n(&fault.armed, 0, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&fault.lock);
    if (code) log_warn("database: injected fault (%s)", code == SQLITE_BUSY ? "busy" : "error");
    return code;
}

void db_fault_arm(unsigned ops, long nth, bool busy)
{
    pthread_mutex_lock(&fault.lock);
    fault.ops = ops;
    fault.left = nth;
    fault.code = busy ? SQLITE_BUSY : SQLITE_IOERR;
    fault.fired = false;
    __atomic_store_n(&fault.armed, nth > 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&fault.lock);
}

bool db_fault_fired(void)
{
    pthread_mutex_lock(&fault.lock);
    bool fired = fault.fired;
    pthread_mutex_unlock(&fault.lock);
    return fired;
}

void db_fault_disarm(void) { db_fault_arm(0, 0, false); }
void db_fault_scope(bool on) { fault_scope = on; }
/* Set by events_start() while request threads already commit: atomic. */
void db_on_commit(void (*fn)(void)) { __atomic_store_n(&commit_hook, fn, __ATOMIC_RELEASE); }

/* ---------------------------------------------------------------- helpers */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void mkdir_parents(const char *path)
{
    char *copy = xstrdup(path);
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        mkdir(copy, 0750);
        *p = '/';
    }
    free(copy);
}

/* `$12` -> `?12` outside string literals; everything else copied. */
static char *rewrite_placeholders(const char *sql)
{
    char *out = xstrdup(sql);
    bool in_str = false;
    for (char *p = out; *p; p++) {
        if (*p == '\'') in_str = !in_str;
        else if (!in_str && *p == '$' && p[1] >= '0' && p[1] <= '9') *p = '?';
    }
    return out;
}

static uint32_t hash_sql(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static const char *raw_errmsg(struct db *db)
{
    return db->pg ? pg_errmsg(db->pg) : sqlite3_errmsg(db->h);
}

static void log_db_error(struct db *db, const char *sql)
{
    db->errors++;
    log_json(LOG_ERROR, json_pack("{s:s}", "sql", sql), "database error: %s", raw_errmsg(db));
}

/* A statement without parameters (BEGIN, SAVEPOINT, COMMIT...). 0 or -1. */
static int raw_exec(struct db *db, const char *sql)
{
    if (db->pg) return pg_exec_script(db->pg, sql, false);
    return sqlite3_exec(db->h, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static bool raw_in_tx(struct db *db)
{
    return db->pg ? pg_in_tx(db->pg) : !sqlite3_get_autocommit(db->h);
}

/* A prepared statement for sql: the cached one, or a private one (owned=true)
 * when the cached one is in use by an open db_query() on this connection. */
static sqlite3_stmt *prepare(struct db *db, const char *sql, bool *owned)
{
    uint32_t h = hash_sql(sql);
    *owned = false;
    if (fault_hit(DB_OP_PREPARE)) {
        db->errors++;
        return NULL;
    }
    for (uint32_t i = 0; i < STMT_CACHE; i++) {
        struct stmt_slot *s = &db->cache[(h + i) % STMT_CACHE];
        if (s->sql && strcmp(s->sql, sql)) continue;
        if (s->sql && !sqlite3_stmt_busy(s->st)) return s->st;
        char *text = rewrite_placeholders(sql);
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v3(db->h, text, -1, s->sql ? 0 : SQLITE_PREPARE_PERSISTENT, &st, NULL);
        free(text);
        if (rc != SQLITE_OK) {
            log_db_error(db, sql);
            return NULL;
        }
        if (s->sql) {           /* busy: hand out a private copy */
            *owned = true;
            return st;
        }
        s->sql = xstrdup(sql);
        s->st = st;
        return st;
    }
    /* cache full: private statement */
    char *text = rewrite_placeholders(sql);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->h, text, -1, &st, NULL) != SQLITE_OK) log_db_error(db, sql);
    free(text);
    *owned = st != NULL;
    return st;
}

static int bind_args(struct db *db, sqlite3_stmt *st, const struct db_arg *args)
{
    int rc = SQLITE_OK;
    for (int i = 0; args && args[i].type && rc == SQLITE_OK; i++) {
        const struct db_arg *a = &args[i];
        switch (a->type) {
        case 'i': rc = sqlite3_bind_int64(st, i + 1, a->i); break;
        case 'd': rc = sqlite3_bind_double(st, i + 1, a->d); break;
        case 's': rc = a->s ? sqlite3_bind_text(st, i + 1, a->s, -1, SQLITE_TRANSIENT)
                            : sqlite3_bind_null(st, i + 1); break;
        case 'b': rc = sqlite3_bind_blob(st, i + 1, a->s, (int)a->n, SQLITE_TRANSIENT); break;
        default:  rc = sqlite3_bind_null(st, i + 1); break;
        }
    }
    if (rc != SQLITE_OK) log_db_error(db, sqlite3_sql(st));
    return rc == SQLITE_OK ? 0 : -1;
}

static void release(sqlite3_stmt *st, bool owned)
{
    if (owned) {
        sqlite3_finalize(st);
        return;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* ------------------------------------------------------------ connections */

int db_open(const char *path, struct db **out)
{
    struct db *db = xcalloc(1, sizeof *db);
    if (pg_url(path)) {
        if (pg_open(path, &db->pg) < 0) {
            free(db);
            return -1;
        }
        *out = db;
        return 0;
    }
    if (strcmp(path, ":memory:")) mkdir_parents(path);
    int rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        log_error("cannot open database %s: %s", path, db->h ? sqlite3_errmsg(db->h) : "out of memory");
        sqlite3_close(db->h);
        free(db);
        return -1;
    }
    sqlite3_busy_timeout(db->h, 10000);   /* first: everything after may need to wait */
    sqlite3_extended_result_codes(db->h, 1);
    char *err = NULL;
    rc = sqlite3_exec(db->h, cfg.db_group_commit
                                 ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                                   "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16000; PRAGMA mmap_size=1073741824;"
                                 : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                                   "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16000; PRAGMA mmap_size=1073741824;", NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        log_error("cannot configure database %s: %s", path, err ? err : "?");
        sqlite3_free(err);
        sqlite3_close(db->h);
        free(db);
        return -1;
    }
    *out = db;
    return 0;
}

void db_close(struct db *db)
{
    if (!db) return;
    if (db->depth || db->held) rollback_all(db);
    free(db->appends);
    if (db->pg) {
        pg_close(db->pg);
        free(db);
        return;
    }
    for (int i = 0; i < STMT_CACHE; i++) {
        if (!db->cache[i].sql) continue;
        sqlite3_finalize(db->cache[i].st);
        free(db->cache[i].sql);
    }
    sqlite3_close(db->h);
    free(db);
}

static void unregister(struct db *db)
{
    __atomic_sub_fetch(&open_conns, 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&registry_lock);
    for (struct db **p = &registry; *p; p = &(*p)->next_open) {
        if (*p == db) {
            *p = db->next_open;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
}

static void thread_destructor(void *p)
{
    unregister(p);
    db_close(p);
}

static void make_key(void)
{
    pthread_key_create(&thread_key, thread_destructor);
}

struct db *db_thread(void)
{
    /* a PostgreSQL connection that broke (server restart) is opened again */
    if (thread_db && thread_db->pg && pg_broken(thread_db->pg) && !thread_db->depth && !thread_db->held)
        db_thread_close();
    if (thread_db) return thread_db;
    pthread_once(&key_once, make_key);
    struct db *db;
    if (db_open(cfg.db, &db) < 0) return NULL;
    pthread_setspecific(thread_key, db);
    __atomic_add_fetch(&open_conns, 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&registry_lock);
    db->next_open = registry;
    registry = db;
    pthread_mutex_unlock(&registry_lock);
    thread_db = db;
    return db;
}

void db_thread_close(void)
{
    if (!thread_db) return;
    pthread_setspecific(thread_key, NULL);
    unregister(thread_db);
    db_close(thread_db);
    thread_db = NULL;
}

/* Shutdown only, after every other thread has stopped. */
void db_close_all(void)
{
    db_thread_close();
    pthread_mutex_lock(&registry_lock);
    struct db *list = registry;
    registry = NULL;
    pthread_mutex_unlock(&registry_lock);
    for (struct db *next; list; list = next) {
        next = list->next_open;
        db_close(list);
    }
}

/* ----------------------------------------------------------- transactions */

/* An injected COMMIT fault: logged and counted like a real failure. */
static int commit_fault(struct db *db)
{
    int code = fault_hit(DB_OP_COMMIT);
    if (code) log_error("database: COMMIT failed: injected fault"), db->errors++;
    return code;
}

/* A failed BEGIN/SAVEPOINT: the scope never opened. */
static int begin_failed(struct db *db, const char *what, int code)
{
    if (code) log_error("database: %s failed: injected fault", what), db->errors++;
    else log_db_error(db, what);
    if (db->pg && !db->held && raw_in_tx(db)) raw_exec(db, "ROLLBACK");
    if (db->busy && !db->held) __atomic_sub_fetch(&busy_conns, 1, __ATOMIC_RELAXED), db->busy = false;
    db->depth = 0;
    return -1;
}

int db_begin(struct db *db)
{
    if (db->depth++) return 0;
    if (!db->busy) __atomic_add_fetch(&busy_conns, 1, __ATOMIC_RELAXED);
    db->busy = true;
    db->rollback_only = false;
    int code = fault_hit(DB_OP_BEGIN);
    if (db->held) {             /* a later transaction of a held request: a savepoint in it */
        if (code || !raw_in_tx(db) || raw_exec(db, "SAVEPOINT held") < 0)
            return begin_failed(db, "SAVEPOINT", code);
        db->appends_mark = db->nappends;
        return 0;
    }
    if (db->pg) {               /* one writer at a time across instances, or row locks: see the top */
        db->tx_row_locks = db->row_locks;
        if (code || raw_exec(db, db->row_locks ? "BEGIN; SET LOCAL synchronous_commit = off; "
                                                 "SELECT pg_advisory_xact_lock_shared(" DB_PG_WRITE_LOCK ")"
                                               : "BEGIN; SET LOCAL synchronous_commit = off; "
                                                 "SELECT pg_advisory_xact_lock(" DB_PG_WRITE_LOCK ")") < 0)
            return begin_failed(db, "BEGIN", code);
        return 0;
    }
    pthread_mutex_lock(&write_lock);
    db->holds_write_lock = true;
    if (code || sqlite3_exec(db->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        db->holds_write_lock = false;
        pthread_mutex_unlock(&write_lock);
        return begin_failed(db, "BEGIN IMMEDIATE", code);
    }
    return 0;
}

/* Forget the appends from index `from` on (rolled back, or done). */
static void appends_drop(struct db *db, size_t from)
{
    while (db->nappends > from) {
        struct append *a = &db->appends[--db->nappends];
        if (a->drop) a->drop(a->arg);
    }
}

static int lock_key(struct db *db, const char *class, int key);

/* At the outermost COMMIT in row-lock mode: the tail lock, then the appends.
 * depth is 1 meanwhile so they run as statements of this transaction. */
static int appends_run(struct db *db)
{
    int rc = 0;
    if (!db->nappends) return 0;
    db->depth = 1;
    if (lock_key(db, DB_PG_CORE_LOCKS, DB_PG_TAIL_LOCK) < 0) rc = -1;
    for (size_t i = 0; i < db->nappends && rc == 0; i++) rc = db->appends[i].fn(db, db->appends[i].arg);
    db->depth = 0;
    appends_drop(db, 0);
    return rc;
}

int db_append(struct db *db, int (*fn)(struct db *db, void *arg), void *arg, void (*drop)(void *arg))
{
    if (!db->depth) {
        if (drop) drop(arg);
        return -1;
    }
    if (!db->tx_row_locks) {
        int rc = fn(db, arg);
        if (drop) drop(arg);
        return rc;
    }
    if (db->nappends == db->appends_cap) {
        db->appends_cap = db->appends_cap ? 2 * db->appends_cap : 8;
        db->appends = xrealloc(db->appends, db->appends_cap * sizeof *db->appends);
    }
    db->appends[db->nappends++] = (struct append){fn, arg, drop};
    return 0;
}

static void end_tx(struct db *db)
{
    appends_drop(db, 0);
    if (db->busy) __atomic_sub_fetch(&busy_conns, 1, __ATOMIC_RELAXED);
    db->busy = false;
    db->depth = 0;
    db->rollback_only = false;
    db->held = false;
    db->tx_row_locks = false;
    db->appends_mark = 0;
    if (db->holds_write_lock) {
        db->holds_write_lock = false;
        pthread_mutex_unlock(&write_lock);
    }
}

/* The outermost transaction is over without a commit. */
static void rollback_all(struct db *db)
{
    if (raw_in_tx(db)) raw_exec(db, "ROLLBACK");
    end_tx(db);
}

/* The end of a savepoint scope inside a held transaction. */
static int savepoint_end(struct db *db, bool commit)
{
    bool ok = commit && !db->rollback_only;
    db->rollback_only = false;
    if (!ok) raw_exec(db, "ROLLBACK TO held"), appends_drop(db, db->appends_mark);
    if (raw_exec(db, "RELEASE held") < 0) {
        log_db_error(db, "RELEASE");
        ok = false;
    }
    return ok ? 0 : -1;
}

/* fsync this connection's WAL file (the same inode every connection appends to). */
static int wal_fsync(struct db *db)
{
    sqlite3_file *wal = NULL;
    if (sqlite3_file_control(db->h, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK || !wal ||
        !wal->pMethods)
        return sqlite3_exec(db->h, "PRAGMA main.wal_checkpoint(PASSIVE)", NULL, NULL, NULL);
    return wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
}

/* Group commit: wait until commit number `seq` is on disk, doing the fsync
 * ourselves when nobody else is. Returns 0, or -1 when the fsync failed. */
static int make_durable(struct db *db, uint64_t seq)
{
    int rc = 0;
    pthread_mutex_lock(&sync_lock);
    while (durable_seq < seq && rc == 0) {
        if (syncing) {
            pthread_cond_wait(&sync_cond, &sync_lock);
            continue;
        }
        syncing = true;
        uint64_t target = __atomic_load_n(&commit_seq, __ATOMIC_ACQUIRE);
        pthread_mutex_unlock(&sync_lock);
        int src = wal_fsync(db);
        pthread_mutex_lock(&sync_lock);
        syncing = false;
        if (src == SQLITE_OK && target > durable_seq) durable_seq = target;
        if (src != SQLITE_OK) rc = -1;
        pthread_cond_broadcast(&sync_cond);
    }
    pthread_mutex_unlock(&sync_lock);
    if (rc < 0) log_error("database: fsync of the WAL failed; the last commit may not be durable");
    return rc;
}

/* Group commit on PostgreSQL: the write transaction commits with
 * synchronous_commit off, so the write lock is handed on without waiting for
 * the WAL flush; the flush is waited for here, after the lock: a transaction
 * of its own that takes an id commits synchronously, and PostgreSQL flushes
 * the WAL up to its commit record, which lies after ours. Concurrent waiters
 * share the flushes, as SQLite's group commit shares fsyncs (make_durable). */
static int pg_durable(struct db *db)
{
    if (raw_exec(db, "SELECT pg_current_xact_id()") == 0) return 0;
    log_error("database: waiting for the WAL flush failed; the last commit may not be durable");
    return -1;
}

/* COMMIT the outermost transaction, make it durable, tell the hook. */
static int commit_now(struct db *db)
{
    int rc = commit_fault(db);
    /* PostgreSQL answers COMMIT of a failed transaction with a ROLLBACK, not an error */
    if (!rc && db->pg && pg_tx_failed(db->pg)) rc = SQLITE_ERROR, log_db_error(db, "COMMIT of a failed transaction");
    if (!rc && appends_run(db) < 0) rc = SQLITE_ERROR, log_db_error(db, "the appends before COMMIT");
    if (!rc && raw_exec(db, "COMMIT") < 0) rc = SQLITE_ERROR, log_db_error(db, "COMMIT");
    uint64_t seq = 0;
    if (rc != SQLITE_OK) {
        if (raw_in_tx(db)) raw_exec(db, "ROLLBACK");
    } else if (!db->pg) {
        seq = __atomic_add_fetch(&commit_seq, 1, __ATOMIC_ACQ_REL);   /* still under write_lock: WAL order */
    }
    end_tx(db);
    if (rc != SQLITE_OK) return -1;
    if (!db->pg && cfg.db_group_commit && make_durable(db, seq) < 0) return -1;
    if (db->pg && pg_durable(db) < 0) return -1;
    void (*hook)(void) = __atomic_load_n(&commit_hook, __ATOMIC_ACQUIRE);
    if (hook) hook();
    return 0;
}

int db_commit(struct db *db)
{
    if (db->depth <= 0) return -1;
    if (--db->depth) return 0;
    if (db->held) {
        if (commit_fault(db)) db->rollback_only = true;
        return savepoint_end(db, true);
    }
    if (db->rollback_only) {
        rollback_all(db);
        return -1;
    }
    if (db->hold) {             /* kept open for db_hold_end() */
        if (commit_fault(db)) {
            rollback_all(db);
            return -1;
        }
        db->held = true;
        return 0;
    }
    return commit_now(db);
}

void db_rollback(struct db *db)
{
    if (db->depth <= 0) return;
    if (--db->depth) {
        db->rollback_only = true;
        return;
    }
    if (db->held) savepoint_end(db, false);
    else rollback_all(db);
}

void db_hold(struct db *db)
{
    db->hold = true;
    db->flushed = false;
}

int db_hold_flush(struct db *db)
{
    if (!db || !db->held || db->depth) return 0;
    db->flushed = true;
    return commit_now(db);
}

int db_hold_end(struct db *db, bool commit)
{
    db->hold = false;
    if (!db->held) return 0;
    if (commit) return commit_now(db);
    rollback_all(db);
    return 0;
}

int db_thread_flush(void)
{
    return db_hold_flush(thread_db);
}

bool db_in_tx(struct db *db)
{
    return db->depth > 0;
}

/* ------------------------------------------------------------- statements */

/* PostgreSQL: the statement runs now, its whole result fetched; db_step walks it. */
static int pg_query(struct db *db, struct db_rows *rows, const char *sql, const struct db_arg *args)
{
    if (fault_hit(DB_OP_PREPARE)) {
        db->errors++;
        return -1;
    }
    struct pg_stmt *st = pg_stmt(db->pg, sql);
    rows->db = db;
    rows->owned = true;
    rows->last_rc = SQLITE_OK;
    if (!db->depth && pg_stmt_write(st)) {
        if (db_begin(db) < 0) return -1;
        rows->implicit_tx = true;
    }
    uint64_t t0 = now_us();
    rows->stmt = pg_run(db->pg, st, args);
    metrics_db_time(now_us() - t0);
    return 0;
}

int db_query_(struct db *db, struct db_rows *rows, const char *sql, const struct db_arg *args)
{
    bool owned;
    memset(rows, 0, sizeof *rows);
    if (db->pg) return pg_query(db, rows, sql, args);
    sqlite3_stmt *st = prepare(db, sql, &owned);
    if (!st) return -1;
    if (bind_args(db, st, args) < 0) {
        release(st, owned);
        return -1;
    }
    rows->db = db;
    rows->stmt = st;
    rows->owned = owned;
    rows->last_rc = SQLITE_OK;
    /* a lone write gets its own transaction: serialized and made durable like any other */
    if (!db->depth && !sqlite3_stmt_readonly(st)) {
        if (db_begin(db) < 0) {
            release(st, owned);
            rows->stmt = NULL;
            return -1;
        }
        rows->implicit_tx = true;
    }
    return 0;
}

bool db_step(struct db_rows *rows)
{
    if (!rows->stmt) return false;
    struct db *db = rows->db;
    uint64_t t0 = now_us();
    int rc = fault_hit(DB_OP_STEP);
    bool injected = rc != 0;
    if (!injected && db->pg) {
        rc = pg_step(rows->stmt);
        if (rc == PG_ERROR) rc = pg_constraint_failed(db->pg) ? SQLITE_CONSTRAINT
                               : pg_retryable(db->pg)         ? SQLITE_BUSY
                                                              : SQLITE_ERROR;
    } else if (!injected) {
        rc = sqlite3_step(rows->stmt);
        metrics_db_time(now_us() - t0);
    }
    rows->last_rc = rc;
    db->step_rc = rc;
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE)
        snprintf(db->step_err, sizeof db->step_err, "%s", injected ? "injected fault" : raw_errmsg(db));
    if (rc == SQLITE_BUSY && db->pg && !injected) db->retry = true;
    /* constraint violations are expected answers (409s), not server errors */
    if ((rc & 0xff) == SQLITE_CONSTRAINT) log_debug("constraint: %s", raw_errmsg(db));
    else if (rc != SQLITE_DONE) log_db_error(db, db->pg ? pg_sql_of(rows->stmt) : sqlite3_sql(rows->stmt));
    return false;
}

void db_rows_close(struct db_rows *rows)
{
    if (rows->stmt && rows->db->pg) pg_res_free(rows->stmt);
    else if (rows->stmt) release(rows->stmt, rows->owned);
    rows->stmt = NULL;
    if (rows->implicit_tx) {
        rows->implicit_tx = false;
        if (rows->last_rc == SQLITE_DONE || rows->last_rc == SQLITE_ROW) db_commit(rows->db);
        else db_rollback(rows->db);
    }
}

bool db_rows_failed(const struct db_rows *rows)
{
    return rows->stmt && rows->last_rc != SQLITE_DONE && rows->last_rc != SQLITE_ROW;
}

int64_t db_col_int(struct db_rows *rows, int col)
{
    return rows->db->pg ? pg_col_int(rows->stmt, col) : sqlite3_column_int64(rows->stmt, col);
}

double db_col_real(struct db_rows *rows, int col)
{
    return rows->db->pg ? pg_col_real(rows->stmt, col) : sqlite3_column_double(rows->stmt, col);
}

bool db_col_null(struct db_rows *rows, int col)
{
    return rows->db->pg ? pg_col_null(rows->stmt, col) : sqlite3_column_type(rows->stmt, col) == SQLITE_NULL;
}

const char *db_col_text(struct db_rows *rows, int col)
{
    return rows->db->pg ? pg_col_text(rows->stmt, col) : (const char *)sqlite3_column_text(rows->stmt, col);
}

const void *db_col_blob(struct db_rows *rows, int col, size_t *len)
{
    if (rows->db->pg) return pg_col_blob(rows->stmt, col, len);
    const void *p = sqlite3_column_blob(rows->stmt, col);
    *len = (size_t)sqlite3_column_bytes(rows->stmt, col);
    return p;
}

/* Runs a statement to completion. Returns rows changed, or -1. */
int db_exec_(struct db *db, const char *sql, const struct db_arg *args)
{
    struct db_rows rows;
    if (db_query_(db, &rows, sql, args) < 0) return -1;
    while (db_step(&rows))
        ;
    int rc = rows.last_rc;
    db_rows_close(&rows);
    if (rc != SQLITE_DONE) return -1;
    return db->pg ? (int)pg_changes(db->pg) : sqlite3_changes(db->h);
}

int db_int_(struct db *db, int64_t *out, const char *sql, const struct db_arg *args)
{
    struct db_rows rows;
    if (db_query_(db, &rows, sql, args) < 0) return -1;
    int found = db_step(&rows);
    if (found) *out = db_col_int(&rows, 0);
    else if (rows.last_rc != SQLITE_DONE) found = -1;
    db_rows_close(&rows);
    return found;
}

char *db_text_(struct db *db, const char *sql, const struct db_arg *args)
{
    struct db_rows rows;
    if (db_query_(db, &rows, sql, args) < 0) return NULL;
    char *out = NULL;
    if (db_step(&rows) && !db_col_null(&rows, 0)) out = xstrdup(db_col_text(&rows, 0));
    db_rows_close(&rows);
    return out;
}

static json_t *column_json(sqlite3_stmt *st, int col, const char *name)
{
    size_t n = strlen(name);
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL:
        return json_null();
    case SQLITE_INTEGER:
        if (n > 6 && !strcmp(name + n - 6, "__bool")) return json_boolean(sqlite3_column_int64(st, col));
        return json_integer(sqlite3_column_int64(st, col));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, col));
    default: {
        const char *text = (const char *)sqlite3_column_text(st, col);
        if (n > 6 && !strcmp(name + n - 6, "__json")) {
            json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
            return j ? j : json_null();
        }
        return json_stringn(text, (size_t)sqlite3_column_bytes(st, col));
    }
    }
}

static json_t *row_json(struct db_rows *rows)
{
    if (rows->db->pg) return pg_row_json(rows->stmt);
    sqlite3_stmt *st = rows->stmt;
    json_t *o = json_object();
    int cols = sqlite3_column_count(st);
    for (int c = 0; c < cols; c++) {
        const char *name = sqlite3_column_name(st, c);
        size_t n = strlen(name);
        json_t *v = column_json(st, c, name);
        if (db_col_suffix(name, n)) {
            char key[128];
            snprintf(key, sizeof key, "%.*s", (int)(n - 6), name);
            json_object_set_new(o, key, v);
        } else {
            json_object_set_new(o, name, v);
        }
    }
    return o;
}

json_t *db_json_one_(struct db *db, const char *sql, const struct db_arg *args)
{
    struct db_rows rows;
    if (db_query_(db, &rows, sql, args) < 0) return NULL;
    json_t *o = db_step(&rows) ? row_json(&rows) : NULL;
    db_rows_close(&rows);
    return o;
}

json_t *db_json_all_(struct db *db, const char *sql, const struct db_arg *args)
{
    struct db_rows rows;
    if (db_query_(db, &rows, sql, args) < 0) return NULL;
    json_t *a = json_array();
    while (db_step(&rows)) json_array_append_new(a, row_json(&rows));
    int rc = rows.last_rc;
    db_rows_close(&rows);
    if (rc != SQLITE_DONE) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* Several statements separated by semicolons, no arguments (migrations). */
int db_exec_script(struct db *db, const char *sql)
{
    if (db->pg) {
        if (pg_exec_script(db->pg, sql, true) == 0) return 0;
        log_error("script failed: %s", pg_errmsg(db->pg));
        return -1;
    }
    char *err = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &err) == SQLITE_OK) return 0;
    log_error("script failed: %s", err ? err : "?");
    sqlite3_free(err);
    return -1;
}

int64_t db_last_id(struct db *db)
{
    int64_t id = 0;
    if (db->pg) return db_int(db, &id, "SELECT lastval()") == 1 ? id : 0;
    return sqlite3_last_insert_rowid(db->h);
}

const char *db_errmsg(struct db *db)
{
    return db->step_rc != SQLITE_DONE && db->step_rc != SQLITE_ROW && db->step_err[0] ? db->step_err
                                                                                      : raw_errmsg(db);
}

void *db_handle(struct db *db) { return db->pg ? pg_handle(db->pg) : db->h; }
bool db_is_pg(struct db *db) { return db->pg != NULL; }
bool db_url_is_pg(const char *db) { return pg_url(db); }

int db_sync_ids(struct db *db, bool restart_empty)
{
    int64_t n = 0;
    if (!db->pg) return 0;
    if (db_begin(db) < 0) return -1;    /* the write lock: no insert in flight elsewhere */
    if (db_int(db, &n, "SELECT atrium_sync_identities($1 = 1)", DB_I(restart_empty)) != 1) {
        db_rollback(db);
        return -1;
    }
    return db_commit(db);
}

void db_row_locks(struct db *db, bool on)
{
    if (db) db->row_locks = on;
}

/* Named locks live in key classes of their own (DB_PG_*_LOCKS), so that no
 * name a client chooses (an Idempotency-Key) can hash onto the tail, the
 * outbox claim or an app's lock. Only a transaction begun in row-lock mode
 * needs them: every other one runs alone. */
static int lock_key(struct db *db, const char *class, int key)
{
    if (!db->tx_row_locks) return 0;
    if (!db->depth) {
        log_error("a named lock outside a transaction");
        return -1;
    }
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT 1 FROM (SELECT pg_advisory_xact_lock(%s, %d)) l", class, key);
    return db_exec(db, sql) < 0 ? -1 : 0;     /* a deadlock here is a conflict to retry (db_retryable) */
}

static int lock_name(struct db *db, const char *class, const char *name)
{
    if (!db->tx_row_locks) return 0;
    if (!db->depth) {
        log_error("db_lock(%s) outside a transaction", name);
        return -1;
    }
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT 1 FROM (SELECT pg_advisory_xact_lock(%s, hashtext($1))) l", class);
    return db_exec(db, sql, DB_S(name)) < 0 ? -1 : 0;
}

int db_lock(struct db *db, const char *name)
{
    return lock_name(db, DB_PG_APP_LOCKS, name);
}

int db_lock_idempotency(struct db *db, const char *name)
{
    return lock_name(db, DB_PG_IDEMPOTENCY_LOCKS, name);
}

int db_lock_outbox_claim(struct db *db)
{
    return lock_key(db, DB_PG_CORE_LOCKS, DB_PG_CLAIM_LOCK);
}

int db_notify(struct db *db, const char *channel)
{
    if (!db->pg) return 0;
    return db_exec(db, "SELECT pg_notify($1, '')", DB_S(channel)) < 0 ? -1 : 0;
}

int db_listen_start(const char *channel, void (*fn)(void))
{
    return pg_url(cfg.db) ? pg_listen_start(cfg.db, channel, fn) : 0;
}

void db_listen_stop(void)
{
    pg_listen_stop();
}

int db_migration_lock(struct db *db, bool take)
{
    if (!db->pg) return 0;
    int64_t one;
    const char *sql = take ? "SELECT 1 FROM (SELECT pg_advisory_lock(" DB_PG_MIGRATE_LOCK ")) l"
                           : "SELECT 1 FROM (SELECT pg_advisory_unlock(" DB_PG_MIGRATE_LOCK ")) l";
    return db_int(db, &one, sql) == 1 ? 0 : -1;
}

void db_pool_stats(int *open, int *busy, bool *postgres)
{
    *open = __atomic_load_n(&open_conns, __ATOMIC_RELAXED);
    *busy = __atomic_load_n(&busy_conns, __ATOMIC_RELAXED);
    *postgres = pg_url(cfg.db);
}

bool db_retryable(struct db *db)
{
    /* after a flush part of the request is committed: running it again
     * would do that part twice */
    bool r = db->retry && !db->flushed;
    db->retry = false;
    return r;
}

unsigned long db_errors(struct db *db) { return db->errors; }

bool db_constraint_failed(struct db *db)
{
    return (db->step_rc & 0xff) == SQLITE_CONSTRAINT;
}
