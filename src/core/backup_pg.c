/* backup_pg.c -- backup and restore of a PostgreSQL database (see backup.h);
 * backup.c hands over when ATRIUM_DB is a postgres:// URL.
 *
 * Consistency under concurrent writers: pg_dump reads the whole database in
 * one transaction at REPEATABLE READ, i.e. from one snapshot taken when it
 * starts. The dump therefore holds every row committed before backup_create()
 * was called, and nothing of a transaction that commits while it runs; the
 * writers are never blocked (only DDL waits for pg_dump's share locks).
 *
 * backup: pg_dump --format=custom (compressed) into a temporary file in DIR,
 * fsynced, checked to be a custom-format archive, then renamed onto a name
 * claimed with O_EXCL: DIR/atrium-YYYYMMDDTHHMMSSZ.pgdump, so a backup file
 * only ever appears complete. FILE.sha256 and retention are the SQLite
 * backups' (backup_int.h).
 *
 * restore: the checksum first (the same errors as SQLite's), then the file
 * must be a pg_dump archive (a SQLite backup is refused), its
 * schema_migrations must name no version this binary does not know, then
 * pg_restore --clean --if-exists --single-transaction --exit-on-error: the
 * target gets the dump's contents or, on any error, stays as it was.
 *
 * The tools run with fork/execve, never through a shell, from PATH or else
 * /usr/lib/postgresql/15/bin. The URL's password is never on a command line
 * or in a message: the tools get the connection as keyword=value pairs
 * without it, and the password as PGPASSWORD in their environment only.
 *
 * Progress counts tables whose data was copied (pg_dump/pg_restore --verbose
 * name each one): out of the catalog's tables for a backup, out of the
 * archive's TABLE DATA entries for a restore. */
#include "atrium.h"
#include "backup_int.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#define PGBIN_FALLBACK "/usr/lib/postgresql/15/bin"

extern char **environ;

/* The connection without its password, and the password apart. */
struct pgconn {
    char *conninfo;             /* keyword='value' ... for the tools */
    char *password;             /* NULL when the URL has none */
    char *name;                 /* the URL with its password masked, for messages */
};

static void conn_free(struct pgconn *c)
{
    free(c->conninfo);
    free(c->name);
    if (c->password) sodium_memzero(c->password, strlen(c->password));
    free(c->password);
}

static int conn_parse(const char *url, struct pgconn *c, char *err, size_t errlen)
{
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &msg);
    if (!opts) {
        size_t n = msg ? strcspn(msg, "\n") : 0;
        backup_fail(err, errlen, "invalid database URL: %.*s", (int)n, msg ? msg : "out of memory");
        PQfreemem(msg);
        return -1;
    }
    char *s = xstrdup("");
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val) continue;
        if (!strcmp(o->keyword, "password")) {
            c->password = xstrdup(o->val);
            continue;
        }
        char *v = xmalloc(2 * strlen(o->val) + 1), *p = v;   /* quote ' and \ */
        for (const char *q = o->val; *q; q++) {
            if (*q == '\'' || *q == '\\') *p++ = '\\';
            *p++ = *q;
        }
        *p = '\0';
        char *next = xasprintf("%s%s%s='%s'", s, *s ? " " : "", o->keyword, v);
        free(s);
        free(v);
        s = next;
    }
    PQconninfoFree(opts);
    c->conninfo = s;
    c->name = backup_db_name(url);
    return 0;
}

char *backup_db_name(const char *db)
{
    const char *auth = strstr(db, "://"), *end, *at = NULL, *colon = NULL;
    if (!auth || !db_url_is_pg(db)) return xstrdup(db);
    auth += 3;
    end = auth + strcspn(auth, "/?");
    for (const char *p = auth; p < end; p++)
        if (*p == '@') at = p;
    for (const char *p = auth; at && p < at && !colon; p++)
        if (*p == ':') colon = p;
    char *s = colon ? xasprintf("%.*s:****%s", (int)(colon - db), db, at) : xstrdup(db);
    char *pw = strstr(s, "password=");      /* ?password=... in the query string */
    if (pw && pw > s && (pw[-1] == '?' || pw[-1] == '&')) {
        char *rest = xstrdup(pw + 9 + strcspn(pw + 9, "&")), *t = xasprintf("%.*s****%s", (int)(pw + 9 - s), s, rest);
        free(rest);
        free(s);
        s = t;
    }
    return s;
}

static char *find_tool(const char *name)
{
    const char *path = getenv("PATH");
    char *copy = xstrdup(path ? path : ""), *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        char *p = xasprintf("%s/%s", dir, name);
        if (access(p, X_OK) == 0) {
            free(copy);
            return p;
        }
        free(p);
    }
    free(copy);
    return xasprintf("%s/%s", PGBIN_FALLBACK, name);
}

/* environ with PGPASSWORD set to the URL's password (when it has one). */
static char **child_env(const struct pgconn *c)
{
    size_t n = 0, k = 0;
    while (environ[n]) n++;
    char **env = xmalloc((n + 2) * sizeof *env);
    for (size_t i = 0; i < n; i++)
        if (!c->password || strncmp(environ[i], "PGPASSWORD=", 11)) env[k++] = environ[i];
    if (c->password) env[k++] = xasprintf("PGPASSWORD=%s", c->password);
    env[k] = NULL;
    return env;
}

static void child_env_free(char **env, const struct pgconn *c)
{
    size_t k = 0;
    while (env[k]) k++;
    if (c->password && k) {
        sodium_memzero(env[k - 1], strlen(env[k - 1]));
        free(env[k - 1]);
    }
    free(env);
}

typedef void (*line_fn)(void *ctx, const char *line);

/* Run argv[0] with stdout and stderr into on_line (one call per line); fails
 * with the tool's first "error:" line when it exits non-zero. */
static int run_tool(char *const argv[], const struct pgconn *c, line_fn on_line, void *ctx,
                    char *err, size_t errlen)
{
    const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    char **env = child_env(c), *line = NULL, first[400] = "";
    size_t cap = 0;
    ssize_t n;
    int fds[2] = {-1, -1}, status = 0, rc = -1;
    FILE *f = NULL;
    pid_t pid;
    if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0) FAIL("%s: %s", base, strerror(errno));
    if (pid == 0) {             /* only async-signal-safe calls until execve */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);   /* serve blocks SIGTERM in every thread */
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) dup2(null, STDIN_FILENO);
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close_range(3, ~0U, 0);     /* not the server's sockets and database files */
        execve(argv[0], argv, env);
        _exit(127);
    }
    close(fds[1]);
    fds[1] = -1;
    if (!(f = fdopen(fds[0], "r"))) FAIL("%s: %s", base, strerror(errno));
    fds[0] = -1;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        const char *e = strstr(line, ": error: ");
        if (e && !first[0] && !strncmp(line, base, strlen(base))) snprintf(first, sizeof first, "%s", e + 9);
        if (on_line) on_line(ctx, line);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && !first[0])
        FAIL("cannot run %s (install postgresql-client-15)", argv[0]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        FAIL("%s failed: %s", base, first[0] ? first : "no error message");
    rc = 0;
out:
    if (f) fclose(f);
    if (fds[0] >= 0) close(fds[0]);
    if (fds[1] >= 0) close(fds[1]);
    free(line);
    child_env_free(env, c);
    return rc;
}

/* Progress from --verbose: one step per line holding `marker`. */
struct tables {
    const char *marker;
    int done, total;
    backup_progress_fn progress;
};

static void count_line(void *ctx, const char *line)
{
    struct tables *t = ctx;
    if (!strstr(line, t->marker)) return;
    if (++t->done > t->total) t->total = t->done;   /* a table created since it was counted */
    if (t->progress) t->progress(t->done, t->total);
}

/* Tables whose data pg_dump will copy; also tells a bad URL apart early. */
static int count_tables(const char *url, const struct pgconn *c, int *total, char *err, size_t errlen)
{
    PGconn *pg = PQconnectdb(url);
    PGresult *res = NULL;
    int rc = -1;
    if (PQstatus(pg) != CONNECTION_OK)
        FAIL("cannot connect to %s: %.*s", c->name, (int)strcspn(PQerrorMessage(pg), "\n"), PQerrorMessage(pg));
    res = PQexec(pg, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                     "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                     "AND n.nspname NOT LIKE 'pg\\_toast%'");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) FAIL("%s", PQresultErrorMessage(res));
    *total = atoi(PQgetvalue(res, 0, 0));
    rc = 0;
out:
    PQclear(res);
    PQfinish(pg);
    return rc;
}

static int fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC), rc = fd < 0 ? -1 : fsync(fd);
    if (fd >= 0) close(fd);
    return rc;
}

int backup_pg_create(const char *url, const char *dir, int keep_days, backup_progress_fn progress,
                     char *out, size_t outlen, char *err, size_t errlen)
{
    struct pgconn c = {0};
    struct tables t = {.marker = "dumping contents of table ", .progress = progress};
    char *tmp = xasprintf("%s/.atrium-backup-XXXXXX", dir), *dst = NULL, *tool = find_tool("pg_dump");
    char *file_arg = NULL, *db_arg = NULL, stamp[20];
    int rc = -1, fd = -1;
    bool tmp_made = false, dst_made = false;

    if (sodium_init() < 0 || backup_mkdir_p(dir) < 0 || (fd = mkstemp(tmp)) < 0) FAIL("backup directory %s: %s", dir, strerror(errno));
    tmp_made = true;
    close(fd);
    fd = -1;
    file_arg = xasprintf("--file=%s", tmp);
    if (conn_parse(url, &c, err, errlen) < 0 || count_tables(url, &c, &t.total, err, errlen) < 0) goto out;
    db_arg = xasprintf("--dbname=%s", c.conninfo);
    char *argv[] = {tool, "--format=custom", "--no-owner", "--no-privileges", "--verbose", db_arg, file_arg, NULL};
    if (run_tool(argv, &c, count_line, &t, err, errlen) < 0) goto out;
    if (progress) progress(t.total, t.total);
    if (fsync_path(tmp, O_RDONLY) < 0) FAIL("%s: %s", tmp, strerror(errno));
    if (backup_kind(tmp) != BACKUP_PGDUMP) FAIL("pg_dump wrote no custom-format archive");

    /* Claim a fresh name atomically (O_EXCL), then rename the finished dump onto it. */
    backup_stamp(stamp);
    for (int i = 0; fd < 0; i++) {
        free(dst);
        dst = i ? xasprintf("%s/atrium-%s-%d.pgdump", dir, stamp, i) : xasprintf("%s/atrium-%s.pgdump", dir, stamp);
        fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && (errno != EEXIST || i > 1000)) FAIL("%s: %s", dst, strerror(errno));
    }
    close(fd);
    dst_made = true;
    if (out && strlen(dst) >= outlen) FAIL("output path too long");
    if (rename(tmp, dst) < 0) FAIL("cannot rename %s: %s", tmp, strerror(errno));
    tmp_made = false;
    if (backup_write_sum(dst, err, errlen) < 0) goto out;
    fsync_path(dir, O_RDONLY | O_DIRECTORY);   /* make the rename durable */
    if (out) snprintf(out, outlen, "%s", dst);
    rc = 0;
    backup_prune(dir, keep_days);
out:
    if (tmp_made) unlink(tmp);
    if (rc < 0 && dst_made) unlink(dst);
    conn_free(&c);
    free(tmp);
    free(dst);
    free(tool);
    free(file_arg);
    free(db_arg);
    return rc;
}

/* schema_migrations' rows from the archive's COPY text (pg_restore --data-only). */
struct schema_check {
    bool seen, in_copy;
    int app_col, version_col;
    char newer[200];
};

static void schema_line(void *ctx, const char *line)
{
    struct schema_check *s = ctx;
    if (!s->in_copy) {
        const char *cols = strchr(line, '(');
        if (strncmp(line, "COPY ", 5) || !strstr(line, "schema_migrations (") || !cols) return;
        s->seen = s->in_copy = true;
        s->app_col = s->version_col = -1;
        int i = 0;
        for (const char *p = cols + 1; *p && *p != ')'; i++) {
            size_t n = strcspn(p, ",)");
            if (n == 3 && !strncmp(p, "app", 3)) s->app_col = i;
            if (n == 7 && !strncmp(p, "version", 7)) s->version_col = i;
            p += n;
            p += strspn(p, ", ");
        }
        return;
    }
    if (!strcmp(line, "\\.")) {
        s->in_copy = false;
        return;
    }
    char app[64] = "", version[32] = "";
    int i = 0;
    for (const char *p = line;; i++) {
        size_t n = strcspn(p, "\t");
        if (i == s->app_col) snprintf(app, sizeof app, "%.*s", (int)n, p);
        if (i == s->version_col) snprintf(version, sizeof version, "%.*s", (int)n, p);
        if (!p[n]) break;
        p += n + 1;
    }
    if (!s->newer[0] && !migrate_known(app, atoi(version)))
        snprintf(s->newer, sizeof s->newer, "backup is from a newer schema (app %s version %s)", app, version);
}

int backup_pg_restore(const char *file, const char *url, backup_progress_fn progress, char *err, size_t errlen)
{
    struct pgconn c = {0};
    struct tables list = {.marker = " TABLE DATA "}, t = {.marker = "processing data for table ", .progress = progress};
    struct schema_check schema = {0};
    char *tool = find_tool("pg_restore"), *db_arg = NULL, *path = xstrdup(file);
    int rc = -1;

    if (backup_verify_sum(file, err, errlen) < 0) goto out;
    switch (backup_kind(file)) {
    case BACKUP_PGDUMP: break;
    case BACKUP_SQLITE_GZ: FAIL("%s is a SQLite backup; it cannot be restored into PostgreSQL", file);
    default: FAIL("%s is not a PostgreSQL backup (pg_dump custom format)", file);
    }
    if (conn_parse(url, &c, err, errlen) < 0) goto out;
    char *list_argv[] = {tool, "--list", path, NULL};
    char *schema_argv[] = {tool, "--data-only", "--table=schema_migrations", "--file=-", path, NULL};
    if (run_tool(list_argv, &c, count_line, &list, err, errlen) < 0 ||
        run_tool(schema_argv, &c, schema_line, &schema, err, errlen) < 0)
        goto out;
    if (!schema.seen) FAIL("not an atrium database: the backup has no schema_migrations");
    if (schema.newer[0]) FAIL("%s", schema.newer);

    t.total = list.done;
    db_arg = xasprintf("--dbname=%s", c.conninfo);
    char *argv[] = {tool, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                    "--exit-on-error", "--verbose", db_arg, path, NULL};
    if (run_tool(argv, &c, count_line, &t, err, errlen) < 0) goto out;
    if (progress) progress(t.total, t.total);
    rc = 0;
out:
    conn_free(&c);
    free(tool);
    free(db_arg);
    free(path);
    return rc;
}
