/* jobs.c -- periodic and one-off background work.
 *
 * Apps register their jobs (struct job) at init; jobs_sync() makes sure every
 * registered job has a row in `jobs`, which holds the whole schedule: next run,
 * last result, counters, and the lease of whoever is running it. Nothing about
 * the schedule lives only in memory, so a restart loses nothing.
 *
 * Claiming: a run starts with
 *     UPDATE jobs SET locked_by = $me, locked_until = now + lease
 *     WHERE name = $1 AND locked_until < now [AND next_run_at <= now]
 * inside a write transaction; exactly one caller (thread or instance sharing
 * the database) gets the row changed and runs the job, everybody else backs
 * off. The scheduler's claim also requires the job still due, so an instance
 * that saw it due before another instance ran it does not run that period
 * again; `atrium jobs run NAME` runs it whenever it is not leased. A crashed
 * run keeps its lease until it expires (ATRIUM_JOB_LEASE, default an hour),
 * then the job is due again and any instance takes it over.
 *
 * First schedule (jobs_sync on a missing row): jobs every hour or more often
 * are due at once; longer ones (daily backup, ...) first run one interval after
 * the row is created, so a fresh install or a test restart does not start with
 * heavy work. One-off jobs (interval 0) are never due (next_run_at = NEVER) and
 * only run by hand. A changed interval is stored and may bring the next run
 * closer (never pushes it later).
 *
 * The scheduler is one thread: every second (or at once when jobs_stop()
 * signals) it runs the due jobs one after another. jobs_stop() lets a running
 * job finish -- the safe point -- and no job starts after stop was requested. */
#include "atrium.h"
#include "internal.h"
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_JOBS        128
#define EAGER_INTERVAL  3600            /* first run at once for intervals <= this */
#define NEVER           253402300799LL  /* 9999-12-31T23:59:59Z: one-off jobs */
#define MAX_DUE         64              /* jobs looked at per scheduler tick */

static struct job registry[MAX_JOBS + 1];  /* +1: {0} terminator for jobs_list() */
static size_t njobs;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_mutex_t sched_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sched_cond;                /* CLOCK_MONOTONIC, see cond_init() */
static pthread_once_t cond_once = PTHREAD_ONCE_INIT;
static pthread_t sched_thread;
static bool sched_running, stop_requested;

static char instance[128];
static pthread_once_t instance_once = PTHREAD_ONCE_INIT;
static uint64_t claim_seq;

/* ------------------------------------------------------------- registry */

void jobs_register(const struct job *jobs)
{
    pthread_mutex_lock(&registry_lock);
    for (const struct job *j = jobs; j && j->name; j++) {
        size_t i;
        for (i = 0; i < njobs && strcmp(registry[i].name, j->name); i++)
            ;
        if (i < njobs) {
            registry[i] = *j;           /* same name registered again: latest wins */
        } else if (njobs < MAX_JOBS) {
            registry[njobs++] = *j;
        } else {
            log_error("jobs: registry full, job %s ignored", j->name);
        }
    }
    pthread_mutex_unlock(&registry_lock);
}

const struct job *jobs_list(size_t *n)
{
    pthread_mutex_lock(&registry_lock);
    *n = njobs;
    pthread_mutex_unlock(&registry_lock);
    return registry;
}

static bool find_job(const char *name, struct job *out)
{
    bool found = false;
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < njobs && !found; i++) {
        if (strcmp(registry[i].name, name)) continue;
        *out = registry[i];
        found = true;
    }
    pthread_mutex_unlock(&registry_lock);
    return found;
}

/* ------------------------------------------------------------- schedule */

static int64_t first_run(const struct job *j, int64_t now)
{
    if (j->interval_s <= 0) return NEVER;
    return j->interval_s <= EAGER_INTERVAL ? now : now + j->interval_s;
}

/* Insert the row when missing, store a changed interval. Inside a transaction. */
static int sync_one(struct db *db, const struct job *j, int64_t now)
{
    int interval = j->interval_s > 0 ? j->interval_s : 0;
    if (db_exec(db, "INSERT INTO jobs (name, interval_s, next_run_at) VALUES ($1, $2, $3) "
                    "ON CONFLICT (name) DO NOTHING",
                DB_S(j->name), DB_I(interval), DB_I(first_run(j, now))) < 0)
        return -1;
    return db_exec(db, "UPDATE jobs SET interval_s = $2, next_run_at = CASE WHEN $2 = 0 THEN $4 "
                       "ELSE MIN(next_run_at, $3 + $2) END WHERE name = $1 AND interval_s <> $2",
                   DB_S(j->name), DB_I(interval), DB_I(now), DB_I(NEVER)) < 0 ? -1 : 0;
}

int jobs_sync(struct db *db)
{
    size_t n;
    const struct job *jobs = jobs_list(&n);
    int64_t now = (int64_t)time(NULL);
    if (db_begin(db) < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        if (sync_one(db, &jobs[i], now) < 0) {
            db_rollback(db);
            return -1;
        }
    }
    return db_commit(db);
}

/* ------------------------------------------------------------------ runs */

static void instance_init(void)
{
    char host[64] = "localhost", rnd[9];
    if (sodium_init() < 0) abort();
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    crypto_random_token(rnd, 4);
    snprintf(instance, sizeof instance, "%s:%d:%s", host, (int)getpid(), rnd);
}

static void now_rfc3339(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Claim the job and open its job_runs row. 1 claimed, 0 held by someone else,
 * -1 database error. */
static int claim(struct db *db, const struct job *j, const char *me, bool scheduled, int64_t *run_id)
{
    int64_t now = (int64_t)time(NULL);
    char started[32];
    now_rfc3339(started);
    if (db_begin(db) < 0) return -1;
    if (sync_one(db, j, now) < 0) goto fail;
    int changed = db_exec(db, "UPDATE jobs SET locked_by = $2, locked_until = $3 WHERE name = $1 AND locked_until < $4 "
                              "AND ($5 = 0 OR next_run_at <= $4)",
                          DB_S(j->name), DB_S(me), DB_I(now + cfg.job_lease_s), DB_I(now), DB_I(scheduled));
    if (changed < 0) goto fail;
    if (changed == 0) {
        db_rollback(db);
        return 0;
    }
    if (db_int(db, run_id, "INSERT INTO job_runs (job, started_at, status) VALUES ($1, $2, 'running') RETURNING id",
               DB_S(j->name), DB_S(started)) != 1)
        goto fail;
    return db_commit(db) < 0 ? -1 : 1;
fail:
    db_rollback(db);
    return -1;
}

/* Record the outcome and release the lease (only ours). */
static int finish(struct db *db, const struct job *j, const char *me, int64_t run_id, bool ok, const char *result)
{
    int64_t now = (int64_t)time(NULL);
    int64_t next = j->interval_s > 0 ? now + j->interval_s : NEVER;
    const char *status = ok ? "ok" : "failed";
    char at[32];
    now_rfc3339(at);
    if (db_begin(db) < 0) return -1;
    if (db_exec(db, "UPDATE job_runs SET status = $2, finished_at = $3, result = $4 WHERE id = $1",
                DB_I(run_id), DB_S(status), DB_S(at), DB_S(result)) < 0 ||
        db_exec(db, "UPDATE jobs SET last_run_at = $3, last_status = $4, last_result = $5, runs = runs + 1, "
                    "failures = failures + $6, next_run_at = $7, locked_by = NULL, locked_until = 0 "
                    "WHERE name = $1 AND locked_by = $2",
                DB_S(j->name), DB_S(me), DB_S(at), DB_S(status), DB_S(result), DB_I(!ok), DB_I(next)) < 0) {
        db_rollback(db);
        return -1;
    }
    return db_commit(db);
}

/* Fault injection for crash tests (tests/pg/scaleout_test.sh): with
 * ATRIUM_JOB_DELAY=<job>:<ms> that job sleeps after its claim, so an instance
 * can be killed while it holds the lease. */
static void injected_delay(const char *name)
{
    const char *d = getenv("ATRIUM_JOB_DELAY");
    size_t n = d ? strcspn(d, ":") : 0;
    if (!d || d[n] != ':' || strlen(name) != n || strncmp(d, name, n)) return;
    log_warn("job %s: injected delay of %s ms (ATRIUM_JOB_DELAY)", name, d + n + 1);
    usleep((useconds_t)atoi(d + n + 1) * 1000);
}

/* Claim, run, record. *result gets the job's summary or the reason it did
 * not run (malloc'd). Returns 0 ok, -1 failed or not run. */
static int run_job(struct db *db, const struct job *j, bool scheduled, char **result)
{
    char me[192];
    int64_t run_id = 0;
    pthread_once(&instance_once, instance_init);
    snprintf(me, sizeof me, "%s#%llu", instance,
             (unsigned long long)__atomic_add_fetch(&claim_seq, 1, __ATOMIC_RELAXED));
    int c = claim(db, j, me, scheduled, &run_id);
    if (c <= 0) {
        *result = xstrdup(c == 0 ? "job is running elsewhere" : "cannot claim job (database error)");
        return -1;
    }
    char *out = NULL;
    injected_delay(j->name);
    int rc = j->run(db, &out);
    if (db_in_tx(db)) {
        log_error("job %s returned inside a transaction; rolled back", j->name);
        while (db_in_tx(db)) db_rollback(db);
        rc = -1;
    }
    if (!out) out = xstrdup(rc == 0 ? "done" : "failed");
    metrics_count("job_runs", j->name, 1);
    if (rc < 0) metrics_count("job_failures", j->name, 1);
    if (finish(db, j, me, run_id, rc == 0, out) < 0) log_error("job %s: cannot record its outcome", j->name);
    /* a job every few seconds would flood the log at info: frequent ones log at debug */
    int level = rc != 0 ? LOG_WARN : j->interval_s > 0 && j->interval_s < 60 ? LOG_DEBUG : LOG_INFO;
    log_json(level, json_pack("{s:s, s:s}", "job", j->name, "result", out),
             "job %s %s", j->name, rc == 0 ? "ok" : "failed");
    *result = out;
    return rc == 0 ? 0 : -1;
}

int jobs_run(struct db *db, const char *name, char **result)
{
    struct job j;
    *result = NULL;
    if (!name || !find_job(name, &j)) return -1;
    if (db_in_tx(db)) {
        log_error("jobs_run(%s) inside a transaction", name);
        *result = xstrdup("cannot run a job inside a transaction");
        return -1;
    }
    return run_job(db, &j, false, result);
}

/* ------------------------------------------------------------- scheduler */

static bool stopping(void)
{
    pthread_mutex_lock(&sched_lock);
    bool s = stop_requested;
    pthread_mutex_unlock(&sched_lock);
    return s;
}

/* Names of due jobs (malloc'd, NULL-terminated) or NULL. */
static char **due_jobs(struct db *db)
{
    int64_t now = (int64_t)time(NULL);
    struct db_rows rows;
    char **names = NULL;
    size_t n = 0;
    if (db_query(db, &rows, "SELECT name FROM jobs WHERE next_run_at <= $1 AND locked_until < $1 "
                            "ORDER BY next_run_at, name LIMIT $2", DB_I(now), DB_I(MAX_DUE)) < 0)
        return NULL;
    while (db_step(&rows)) {
        names = xrealloc(names, (n + 2) * sizeof *names);
        names[n++] = xstrdup(db_col_text(&rows, 0));
        names[n] = NULL;
    }
    db_rows_close(&rows);
    return names;
}

static void tick(struct db *db)
{
    char **names = due_jobs(db);
    for (size_t i = 0; names && names[i]; i++) {
        struct job j;
        char *result = NULL;
        /* rows of jobs this instance does not have (other apps) are left alone */
        if (!stopping() && find_job(names[i], &j)) run_job(db, &j, true, &result);
        free(result);
        free(names[i]);
    }
    free(names);
}

static void *scheduler_main(void *arg)
{
    struct db *db = db_thread();
    pthread_mutex_lock(&sched_lock);
    while (!stop_requested) {
        pthread_mutex_unlock(&sched_lock);
        db = db_thread();           /* every tick: reopens a connection PostgreSQL dropped */
        if (db) tick(db);
        pthread_mutex_lock(&sched_lock);
        if (stop_requested) break;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&sched_cond, &sched_lock, &until);
    }
    pthread_mutex_unlock(&sched_lock);
    db_thread_close();
    return NULL;
}

static void cond_init(void)
{
    cond_init_monotonic(&sched_cond);
}

int jobs_start(void)
{
    pthread_once(&cond_once, cond_init);
    int rc = 0;
    pthread_mutex_lock(&sched_lock);
    if (!sched_running) {
        stop_requested = false;
        rc = pthread_create(&sched_thread, NULL, scheduler_main, NULL);
        if (rc == 0) sched_running = true;
        else log_error("jobs: cannot start the scheduler thread");
    }
    pthread_mutex_unlock(&sched_lock);
    return rc == 0 ? 0 : -1;
}

void jobs_stop(void)
{
    pthread_mutex_lock(&sched_lock);
    if (!sched_running) {
        pthread_mutex_unlock(&sched_lock);
        return;
    }
    stop_requested = true;
    pthread_cond_broadcast(&sched_cond);
    pthread_mutex_unlock(&sched_lock);
    pthread_join(sched_thread, NULL);
    pthread_mutex_lock(&sched_lock);
    sched_running = false;
    pthread_mutex_unlock(&sched_lock);
}

/* --------------------------------------------------- GET /admin/jobs */

void admin_jobs_list(struct req *r)
{
    struct page pg;
    int64_t total = 0;
    json_t *items = NULL;
    if (req_page(r, &pg) < 0) return;
    if (db_int(r->db, &total, "SELECT COUNT(*) FROM jobs") < 0 ||
        !(items = db_json_all(r->db, "SELECT name, interval_s, CASE WHEN next_run_at >= $1 THEN NULL ELSE "
                                     "strftime('%Y-%m-%dT%H:%M:%SZ', next_run_at, 'unixepoch') END AS next_run_at, "
                                     "last_run_at, last_status, last_result, runs, failures, "
                                     "locked_until > $2 AS running__bool FROM jobs ORDER BY name LIMIT $3 OFFSET $4",
                              DB_I(NEVER), DB_I((int64_t)time(NULL)), DB_I(pg.size), DB_I(pg.offset))))
        reply_db_error(r);
    else
        reply_list(r, items, &pg, total);
}
