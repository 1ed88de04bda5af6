/* test_jobs.c -- job registry, schedule rows, claiming, the scheduler thread,
 * and GET /api/v1/admin/jobs. */
#include "support/harness.h"
#include <string.h>
#include <unistd.h>

#define NEVER 253402300799LL

static int ok_calls, slow_calls, tick_calls, long_started, long_finished;

static int ok_job(struct db *db, char **result)
{
    int n = __atomic_add_fetch(&ok_calls, 1, __ATOMIC_SEQ_CST);
    *result = xasprintf("did %d", n);
    return 0;
}

static int fail_job(struct db *db, char **result)
{
    *result = xstrdup("boom");
    return -1;
}

static int slow_job(struct db *db, char **result)
{
    __atomic_add_fetch(&slow_calls, 1, __ATOMIC_SEQ_CST);
    usleep(700000);
    *result = xstrdup("slow done");
    return 0;
}

/* Writes in its own transaction, as jobs do. */
static int tick_job(struct db *db, char **result)
{
    if (db_begin(db) < 0) return -1;
    if (db_exec(db, "CREATE TABLE IF NOT EXISTS tick_marks (mark TEXT)") < 0 ||
        db_exec(db, "INSERT INTO tick_marks (mark) VALUES ('tick')") < 0) {
        db_rollback(db);
        return -1;
    }
    if (db_commit(db) < 0) return -1;
    __atomic_add_fetch(&tick_calls, 1, __ATOMIC_SEQ_CST);
    *result = xstrdup("ticked");
    return 0;
}

static int long_job(struct db *db, char **result)
{
    __atomic_store_n(&long_started, 1, __ATOMIC_SEQ_CST);
    sleep(2);
    __atomic_store_n(&long_finished, 1, __ATOMIC_SEQ_CST);
    *result = xstrdup("long done");
    return 0;
}

static int leaky_job(struct db *db, char **result)
{
    db_begin(db);               /* forgets to commit */
    return 0;
}

static const struct job test_jobs[] = {
    {"test.ok", 0, ok_job},
    {"test.fail", 0, fail_job},
    {"test.slow", 0, slow_job},
    {"test.leaky", 0, leaky_job},
    {"test.long_interval", 86400, ok_job},
    {0},
};

static const struct job sched_jobs[] = {
    {"test.tick", 60, tick_job},
    {0},
};

static const struct job long_jobs[] = {
    {"test.long", 30, long_job},
    {0},
};

#define WAIT_FOR(cond, secs)                                              \
    do {                                                                  \
        for (int w_ = 0; w_ < (secs) * 50 && !(cond); w_++) usleep(20000); \
    } while (0)

static json_t *job_row(const char *name)
{
    json_t *row = db_json_one(test_db(), "SELECT * FROM jobs WHERE name = $1", DB_S(name));
    cr_assert(row, "no jobs row for %s", name);
    return row;
}

#define FIELD_INT(o, k) json_integer_value(json_object_get(o, k))
#define FIELD_STR(o, k) json_string_value(json_object_get(o, k))

Test(jobs, sync_creates_schedule_rows) {
    jobs_register(test_jobs);
    srv_start();
    int64_t now = (int64_t)time(NULL);
    size_t n;
    const struct job *list = jobs_list(&n);
    cr_assert_geq(n, 7, "core jobs + test jobs");
    cr_assert_eq(list[n].name, NULL, "terminated");
    json_t *row = job_row("test.ok");
    cr_assert_eq(FIELD_INT(row, "interval_s"), 0);
    cr_assert_eq(FIELD_INT(row, "next_run_at"), NEVER, "one-off jobs are never due");
    cr_assert_eq(FIELD_INT(row, "runs"), 0);
    json_decref(row);
    row = job_row("core.cleanup");
    cr_assert_leq(FIELD_INT(row, "next_run_at"), now, "hourly jobs are due at once");
    json_decref(row);
    row = job_row("test.long_interval");
    cr_assert_geq(FIELD_INT(row, "next_run_at"), now + 86400 - 5, "daily jobs wait one interval");
    json_decref(row);
    /* a changed interval is stored and brings the next run closer */
    static const struct job changed[] = {{"test.long_interval", 600, ok_job}, {"test.ok", 120, ok_job}, {0}};
    jobs_register(changed);
    cr_assert_eq(jobs_sync(test_db()), 0);
    cr_assert_eq(jobs_sync(test_db()), 0, "idempotent");
    row = job_row("test.long_interval");
    cr_assert_eq(FIELD_INT(row, "interval_s"), 600);
    cr_assert_leq(FIELD_INT(row, "next_run_at"), (int64_t)time(NULL) + 600);
    json_decref(row);
    row = job_row("test.ok");
    cr_assert_eq(FIELD_INT(row, "interval_s"), 120);
    cr_assert_leq(FIELD_INT(row, "next_run_at"), (int64_t)time(NULL) + 120);
    json_decref(row);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM jobs WHERE name = 'test.ok'"), 1);
    srv_stop();
}

Test(jobs, run_by_hand_records_ok) {
    jobs_register(test_jobs);
    srv_start();
    struct db *db = test_db();
    char *result = NULL;
    cr_assert_eq(jobs_run(db, "test.ok", &result), 0);
    cr_assert_str_eq(result, "did 1");
    free(result);
    json_t *row = job_row("test.ok");
    cr_assert_eq(FIELD_INT(row, "runs"), 1);
    cr_assert_eq(FIELD_INT(row, "failures"), 0);
    cr_assert_str_eq(FIELD_STR(row, "last_status"), "ok");
    cr_assert_str_eq(FIELD_STR(row, "last_result"), "did 1");
    cr_assert(FIELD_STR(row, "last_run_at") && strlen(FIELD_STR(row, "last_run_at")) == 20);
    cr_assert(json_is_null(json_object_get(row, "locked_by")), "lease released");
    cr_assert_eq(FIELD_INT(row, "locked_until"), 0);
    cr_assert_eq(FIELD_INT(row, "next_run_at"), NEVER);
    json_decref(row);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM job_runs WHERE job = 'test.ok' AND status = 'ok' "
                            "AND result = 'did 1' AND finished_at IS NOT NULL AND started_at IS NOT NULL"), 1);
    cr_assert_eq(jobs_run(db, "test.ok", &result), 0);
    cr_assert_str_eq(result, "did 2");
    free(result);
    cr_assert_eq(test_count("SELECT runs FROM jobs WHERE name = 'test.ok'"), 2);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM job_runs WHERE job = 'test.ok'"), 2);
    size_t len;
    char *text = metrics_render(&len);
    cr_assert(strstr(text, "atrium_job_runs_total{job=\"test.ok\"} 2"), "%s", text);
    free(text);
    srv_stop();
}

Test(jobs, failing_job_records_failure) {
    jobs_register(test_jobs);
    srv_start();
    char *result = NULL;
    cr_assert_eq(jobs_run(test_db(), "test.fail", &result), -1);
    cr_assert_str_eq(result, "boom");
    free(result);
    json_t *row = job_row("test.fail");
    cr_assert_eq(FIELD_INT(row, "runs"), 1);
    cr_assert_eq(FIELD_INT(row, "failures"), 1);
    cr_assert_str_eq(FIELD_STR(row, "last_status"), "failed");
    cr_assert_str_eq(FIELD_STR(row, "last_result"), "boom");
    cr_assert_eq(FIELD_INT(row, "locked_until"), 0);
    json_decref(row);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM job_runs WHERE job = 'test.fail' AND status = 'failed' "
                            "AND result = 'boom'"), 1);
    /* a job that returns with its transaction open is rolled back and failed */
    cr_assert_eq(jobs_run(test_db(), "test.leaky", &result), -1);
    free(result);
    cr_assert(!db_in_tx(test_db()));
    cr_assert_eq(test_count("SELECT failures FROM jobs WHERE name = 'test.leaky'"), 1);
    size_t len;
    char *text = metrics_render(&len);
    cr_assert(strstr(text, "atrium_job_failures_total{job=\"test.fail\"} 1"), "%s", text);
    free(text);
    srv_stop();
}

Test(jobs, unknown_job_and_transaction_are_refused) {
    srv_start();
    char *result = (char *)"x";
    cr_assert_eq(jobs_run(test_db(), "no.such.job", &result), -1);
    cr_assert_null(result);
    cr_assert_eq(db_begin(test_db()), 0);
    cr_assert_eq(jobs_run(test_db(), "core.cleanup", &result), -1);
    cr_assert(result);
    free(result);
    db_rollback(test_db());
    cr_assert_eq(test_count("SELECT runs FROM jobs WHERE name = 'core.cleanup'"), 0);
    srv_stop();
}

static int conc_rc[2];
static char *conc_result[2];

static void run_slow(int i, void *arg)
{
    conc_rc[i] = jobs_run(db_thread(), "test.slow", &conc_result[i]);
}

Test(jobs, claimed_job_is_not_run_twice) {
    jobs_register(test_jobs);
    srv_start();
    run_concurrently(2, run_slow, NULL);
    cr_assert_eq(__atomic_load_n(&slow_calls, __ATOMIC_SEQ_CST), 1, "exactly one ran");
    int winner = conc_rc[0] == 0 ? 0 : 1;
    cr_assert_eq(conc_rc[winner], 0);
    cr_assert_eq(conc_rc[!winner], -1);
    cr_assert_str_eq(conc_result[winner], "slow done");
    cr_assert_str_eq(conc_result[!winner], "job is running elsewhere");
    free(conc_result[0]);
    free(conc_result[1]);
    cr_assert_eq(test_count("SELECT runs FROM jobs WHERE name = 'test.slow'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM job_runs WHERE job = 'test.slow'"), 1);
    /* a lease held by another instance blocks a manual run too */
    cr_assert_eq(db_exec(test_db(), "UPDATE jobs SET locked_by = 'other', locked_until = $1 WHERE name = 'test.ok'",
                         DB_I((int64_t)time(NULL) + 600)), 1);
    char *result = NULL;
    cr_assert_eq(jobs_run(test_db(), "test.ok", &result), -1);
    cr_assert_str_eq(result, "job is running elsewhere");
    free(result);
    cr_assert_eq(__atomic_load_n(&ok_calls, __ATOMIC_SEQ_CST), 0);
    /* an expired lease (crashed run) no longer blocks */
    cr_assert_eq(db_exec(test_db(), "UPDATE jobs SET locked_until = $1 WHERE name = 'test.ok'",
                         DB_I((int64_t)time(NULL) - 1)), 1);
    cr_assert_eq(jobs_run(test_db(), "test.ok", &result), 0);
    free(result);
    srv_stop();
}

Test(jobs, scheduler_runs_due_jobs) {
    setenv("ATRIUM_JOBS", "1", 1);
    jobs_register(sched_jobs);
    srv_start();
    WAIT_FOR(test_count("SELECT runs FROM jobs WHERE name = 'test.tick'") >= 1, 15);
    cr_assert_eq(test_count("SELECT runs FROM jobs WHERE name = 'test.tick'"), 1);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM tick_marks"), 1);
    cr_assert_gt(test_count("SELECT next_run_at FROM jobs WHERE name = 'test.tick'"), (int64_t)time(NULL) + 50,
                 "rescheduled one interval later");
    WAIT_FOR(test_count("SELECT runs FROM jobs WHERE name = 'core.cleanup'") >= 1, 15);
    cr_assert_eq(test_count("SELECT COUNT(*) FROM jobs WHERE name = 'core.cleanup' AND last_status = 'ok'"), 1);
    /* rows of jobs this instance does not know are left alone */
    cr_assert_eq(db_exec(test_db(), "INSERT INTO jobs (name, interval_s, next_run_at) VALUES ('elsewhere.job', 60, 0)"), 1);
    sleep(2);
    cr_assert_eq(test_count("SELECT runs + CASE WHEN locked_by IS NULL THEN 0 ELSE 1 END FROM jobs "
                            "WHERE name = 'elsewhere.job'"), 0);
    jobs_stop();                        /* joins */
    cr_assert_eq(__atomic_load_n(&tick_calls, __ATOMIC_SEQ_CST), 1, "not run again before its interval");
    jobs_stop();                        /* twice is harmless */
    srv_stop();
}

Test(jobs, stop_waits_for_the_running_job) {
    setenv("ATRIUM_JOBS", "1", 1);
    jobs_register(long_jobs);
    srv_start();
    WAIT_FOR(__atomic_load_n(&long_started, __ATOMIC_SEQ_CST), 15);
    cr_assert(__atomic_load_n(&long_started, __ATOMIC_SEQ_CST));
    jobs_stop();
    cr_assert(__atomic_load_n(&long_finished, __ATOMIC_SEQ_CST), "the running job finished first");
    cr_assert_eq(test_count("SELECT COUNT(*) FROM jobs WHERE name = 'test.long' AND last_status = 'ok' "
                            "AND locked_by IS NULL"), 1);
    srv_stop();
}

Test(jobs, admin_list) {
    jobs_register(test_jobs);
    srv_start();
    test_user("adm", "core", "admin", NULL, 0);
    test_user("plain", NULL, NULL, NULL, 0);
    char *result = NULL;
    jobs_run(test_db(), "test.fail", &result);
    free(result);
    static const struct authz_case cases[] = {
        {"GET", "/api/v1/admin/jobs", NULL, 401},
        {"GET", "/api/v1/admin/jobs", "plain", 403},
        {"GET", "/api/v1/admin/jobs", "adm", 200},
        {0},
    };
    authz_run(cases);
    char *tok = test_token("adm");
    struct resp *r = api("GET", "/api/v1/admin/jobs", tok, NULL);
    cr_assert_eq(r->status, 200, "%s", r->body);
    json_t *items = json_object_get(r->json, "items");
    cr_assert_eq(json_integer_value(json_object_get(r->json, "total")), (json_int_t)json_array_size(items));
    size_t i;
    json_t *it;
    int seen = 0;
    json_array_foreach(items, i, it) {
        const char *name = FIELD_STR(it, "name");
        if (!strcmp(name, "test.fail")) {
            seen++;
            cr_assert_eq(FIELD_INT(it, "interval_s"), 0);
            cr_assert(json_is_null(json_object_get(it, "next_run_at")), "one-off: no next run");
            cr_assert_str_eq(FIELD_STR(it, "last_status"), "failed");
            cr_assert_str_eq(FIELD_STR(it, "last_result"), "boom");
            cr_assert_eq(FIELD_INT(it, "runs"), 1);
            cr_assert_eq(FIELD_INT(it, "failures"), 1);
            cr_assert(json_is_string(json_object_get(it, "last_run_at")));
            cr_assert(json_is_false(json_object_get(it, "running")));
        } else if (!strcmp(name, "core.cleanup")) {
            seen++;
            const char *next = FIELD_STR(it, "next_run_at");
            cr_assert(next && strlen(next) == 20 && next[10] == 'T' && next[19] == 'Z', "RFC 3339: %s", next);
            cr_assert(json_is_null(json_object_get(it, "last_run_at")));
        }
    }
    cr_assert_eq(seen, 2, "%s", r->body);
    resp_free(r);
    free(tok);
    srv_stop();
}
