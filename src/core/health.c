/* health.c -- liveness, readiness, the detailed health view for admins, the
 * Prometheus endpoint, and the core's housekeeping jobs. */
#include "atrium.h"
#include "internal.h"
#include <dirent.h>
#include <fnmatch.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sodium.h>

#define DISK_MIN_FREE (16u << 20)      /* below this the node is not ready */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Free bytes and ratio on the filesystem atrium writes to: the SQLite
 * database's, or with PostgreSQL (its disk is the database server's) the
 * backup directory's. */
static int disk_free(uint64_t *bytes, double *ratio)
{
    bool url = db_url_is_pg(cfg.db);
    char *copy = xstrdup(url ? cfg.backup_dir : cfg.db);
    struct statvfs vfs;
    int rc = statvfs(url ? copy : dirname(copy), &vfs);
    if (rc < 0 && url) rc = statvfs(".", &vfs);   /* no backup made yet */
    free(copy);
    if (rc < 0 || !vfs.f_blocks) return -1;
    *bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    *ratio = (double)vfs.f_bavail / (double)vfs.f_blocks;
    return 0;
}

struct checks {
    bool db_ok, migrations_ok, disk_ok;
    uint64_t db_us, migrations_us;
    uint64_t disk_bytes;
    double disk_ratio;
};

static void run_checks(struct db *db, struct checks *c)
{
    int64_t one = 0;
    uint64_t t0 = now_us();
    c->db_ok = db && db_int(db, &one, "SELECT 1") == 1;
    c->db_us = now_us() - t0;
    t0 = now_us();
    c->migrations_ok = c->db_ok && migrate_current(db);
    c->migrations_us = now_us() - t0;
    c->disk_ok = disk_free(&c->disk_bytes, &c->disk_ratio) == 0 && c->disk_bytes >= DISK_MIN_FREE;
    metrics_gauge("ready", c->db_ok && c->migrations_ok && c->disk_ok);
    metrics_gauge_f("disk_free_ratio", c->disk_ratio);
}

void health_live(struct req *r)
{
    reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void health_ready(struct req *r)
{
    struct checks c = {0};
    run_checks(db_thread(), &c);
    bool ok = c.db_ok && c.migrations_ok && c.disk_ok;
    reply_json(r, ok ? 200 : 503, json_pack("{s:s, s:b, s:b, s:b}", "status", ok ? "ready" : "not_ready",
                                            "database", c.db_ok, "migrations", c.migrations_ok, "disk", c.disk_ok));
}

void health_detailed(struct req *r)
{
    struct checks c = {0};
    int64_t jobs_due = 0, job_failures = 0;
    run_checks(r->db, &c);
    db_int(r->db, &jobs_due, "SELECT COUNT(*) FROM jobs WHERE next_run_at <= $1", DB_I((int64_t)time(NULL)));
    db_int(r->db, &job_failures, "SELECT COUNT(*) FROM jobs WHERE last_status = 'failed'");
    json_t *checks = json_pack("{s:{s:b, s:f}, s:{s:b, s:f}, s:{s:b, s:I, s:f}}",
                               "database", "ok", c.db_ok, "ms", c.db_us / 1000.0,
                               "migrations", "ok", c.migrations_ok, "ms", c.migrations_us / 1000.0,
                               "disk", "ok", c.disk_ok, "free_bytes", (json_int_t)c.disk_bytes, "free_ratio", c.disk_ratio);
    json_t *apps = json_object();
    for (const struct app *const *a = atrium_apps; *a; a++)
        if ((*a)->health && config_app_enabled((*a)->name)) json_object_set_new(apps, (*a)->name, (*a)->health(r->db));
    reply_json(r, 200, json_pack("{s:s, s:s, s:o, s:{s:I, s:I}, s:{s:I}, s:o}",
                                 "status", c.db_ok && c.migrations_ok && c.disk_ok ? "ready" : "not_ready",
                                 "version", ATRIUM_VERSION, "checks", checks,
                                 "jobs", "due", (json_int_t)jobs_due, "failing", (json_int_t)job_failures,
                                 "outbox", "backlog", (json_int_t)events_backlog(r->db),
                                 "apps", apps));
}

/* Newest backup's mtime (SQLite's .db.gz or PostgreSQL's .pgdump), for the
 * "backup older than 26 h" alert. */
static int64_t last_backup_time(void)
{
    DIR *d = opendir(cfg.backup_dir);
    int64_t newest = 0;
    if (!d) return 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (fnmatch("atrium-*.db.gz", e->d_name, FNM_PERIOD) && fnmatch("atrium-*.pgdump", e->d_name, FNM_PERIOD))
            continue;
        char *path = xasprintf("%s/%s", cfg.backup_dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && st.st_mtime > newest) newest = st.st_mtime;
        free(path);
    }
    closedir(d);
    return newest;
}

void metrics_endpoint(struct req *r)
{
    if (cfg.metrics_token) {
        const char *authz = req_header(r, "Authorization");
        size_t n = strlen(cfg.metrics_token);
        if (!authz || strncmp(authz, "Bearer ", 7) || strlen(authz + 7) != n ||
            sodium_memcmp(authz + 7, cfg.metrics_token, n)) {
            reply_error(r, 401, "unauthorized", "metrics token required");
            return;
        }
    }
    struct checks c = {0};
    run_checks(db_thread(), &c);
    if (c.db_ok) metrics_gauge("outbox_backlog", events_backlog(db_thread()));
    metrics_gauge("last_backup_timestamp_seconds", last_backup_time());
    int open, busy;
    bool postgres;
    db_pool_stats(&open, &busy, &postgres);
    metrics_gauge("db_connections", open);          /* one per worker thread that used the database */
    metrics_gauge("db_connections_in_transaction", busy);
    metrics_gauge("db_postgres", postgres);
    size_t len;
    char *text = metrics_render(&len);
    reply_raw(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

/* ------------------------------------------------------------------ jobs */

int core_cleanup_job(struct db *db, char **result)
{
    int64_t now = (int64_t)time(NULL);
    int tokens = db_exec(db, "DELETE FROM auth_tokens WHERE expires_at <= $1", DB_I(now));
    int keys = idem_expire(db);
    int buckets = ratelimit_db_expire(db);
    /* frequent jobs (P2P delivery every 2 s) would grow job_runs without end */
    int runs = db_exec(db, "DELETE FROM job_runs WHERE started_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days')");
    if (tokens < 0 || keys < 0 || runs < 0 || buckets < 0) return -1;
    *result = xasprintf("deleted %d expired tokens, %d idempotency keys, %d job runs older than 7 days", tokens, keys, runs);
    return 0;
}

int core_backup_job(struct db *db, char **result)
{
    char path[1024], err[512];
    if (backup_create(cfg.db, cfg.backup_dir, cfg.backup_keep_days, NULL, path, sizeof path, err, sizeof err) < 0) {
        *result = xasprintf("backup failed: %s", err);
        return -1;
    }
    *result = xasprintf("wrote %s", path);
    return 0;
}
